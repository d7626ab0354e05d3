package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"nitro/api"
)

// psHypervisor is a Hypervisor whose one guest has the given processes.
type psHypervisor struct {
	api.Hypervisor
	procs []api.Process
}

func (h psHypervisor) Inspect(context.Context, string) (api.Guest, error) { return psGuest(h), nil }

type psGuest psHypervisor

func (psGuest) Name() string                                       { return "g" }
func (psGuest) Kernel() string                                     { return "" }
func (g psGuest) Processes(context.Context) ([]api.Process, error) { return g.procs, nil }
func (psGuest) WriteSymbols(io.Writer) error                       { return nil }
func (psGuest) WriteProfile(io.Writer) error                       { return nil }
func (psGuest) Close() error                                       { return nil }

// TestPSHostileNames: process names are the guest's bytes. Every form of
// ps prints them as printable ASCII: no ESC, DEL, C1 control (U+009B is a
// CSI to some terminals) nor bidi override, in JSON too; JSON's comm is
// escaped as trace's JSON escapes it.
func TestPSHostileNames(t *testing.T) {
	comms := []string{"\x1b]52;c;eA==\x07", "a\x7fb", "\u009b31mred", "\u202eevil\u2066", "\xff\xfe"}
	var procs []api.Process
	for i, c := range comms {
		procs = append(procs, api.Process{PID: 10 + i, TID: 10 + i, PPID: 1, Comm: c})
	}
	procs = append(procs, api.Process{PID: 10, TID: 99, PPID: 1, Comm: "\u2067thread"})
	h := psHypervisor{procs: procs}
	for _, args := range [][]string{{"g"}, {"--tree", "g"}, {"--json", "g"}} {
		var out bytes.Buffer
		if err := PS(context.Background(), h, args, &out); err != nil {
			t.Fatal(err)
		}
		for _, c := range out.Bytes() {
			if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\t' {
				t.Fatalf("ps %q wrote byte %#x in %q", args, c, out.String())
			}
		}
		if args[0] != "--json" {
			continue
		}
		var got []psEntry
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(comms) || got[2].Comm != `\xc2\x9b31mred` || got[0].Threads[0].Comm != `\xe2\x81\xa7thread` {
			t.Errorf("ps --json: %+v", got)
		}
	}
}
