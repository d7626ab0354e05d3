package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
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

// TestPSWindowsRows: a Windows back end lists a process apart from its
// threads (NotThread), so THREADS counts its threads alone, where a Linux
// leader's row is a thread too; the image path shows in the tree after
// the name and in JSON, escaped, and is left out where a back end gives
// none.
func TestPSWindowsRows(t *testing.T) {
	const image = `\Device\HarddiskVolume2\Windows\System32\cmd.exe`
	procs := []api.Process{
		{PID: 100, TID: 100, PPID: 1, Comm: "bash"},
		{PID: 100, TID: 101, PPID: 1, Comm: "bash"},
		{PID: 1320, TID: 1320, PPID: 100, Comm: "cmd.exe", Image: image, NotThread: true},
		{PID: 1320, TID: 1324, PPID: 100, Comm: "cmd.exe"},
		{PID: 1320, TID: 1328, PPID: 100, Comm: "cmd.exe"},
		{PID: 1400, TID: 1400, PPID: 1320, Comm: "evil.exe", Image: "C:\\e\u202evil\x1b[2J", NotThread: true},
		{PID: 1400, TID: 1404, PPID: 1320, Comm: "evil.exe"},
	}
	h := psHypervisor{procs: procs}
	run := func(args ...string) string {
		var out bytes.Buffer
		if err := PS(context.Background(), h, append(args, "g"), &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	wantTable := `PID   PPID  UID  THREADS  COMM
100   1     0    2        bash
1320  100   0    2        cmd.exe
1400  1320  0    1        evil.exe
`
	if got := run(); got != wantTable {
		t.Errorf("ps:\n%s\nwant:\n%s", got, wantTable)
	}
	// escape.String doubles a backslash, as strace shows a path.
	const shown = `\\Device\\HarddiskVolume2\\Windows\\System32\\cmd.exe`
	const evil = `C:\\e\xe2\x80\xaevil\x1b[2J`
	wantTree := `100 bash
  {101 bash}
  1320 cmd.exe ` + shown + `
    {1324 cmd.exe}
    {1328 cmd.exe}
    1400 evil.exe ` + evil + `
      {1404 evil.exe}
`
	if got := run("--tree"); got != wantTree {
		t.Errorf("ps --tree:\n%s\nwant:\n%s", got, wantTree)
	}
	raw := run("--json")
	var got []psEntry
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Image != "" || got[1].Image != shown || got[2].Image != evil || len(got[1].Threads) != 2 {
		t.Errorf("ps --json: %+v", got)
	}
	if strings.Count(raw, `"image"`) != 2 {
		t.Errorf("ps --json gives an image where the back end has none: %s", raw)
	}
}

// TestPSHidden: --hidden lists only the tasks some views lack, threads
// too, with the views, in a table or JSON, and says so with ErrHidden
// (exit status 2); none is an empty list and no error. The plain table
// marks a hidden process.
func TestPSHidden(t *testing.T) {
	hiding := &api.Hiding{In: []string{api.ViewPidTable, api.ViewSyscalls}, Missing: []string{api.ViewTaskList}}
	procs := []api.Process{
		{PID: 1, TID: 1, Comm: "init"},
		{PID: 115, TID: 115, PPID: 80, Comm: "nitro-hidden", Hidden: hiding},
		{PID: 115, TID: 116, PPID: 80, Comm: "\x1b[2Jworker", Hidden: hiding},
	}
	run := func(procs []api.Process, args ...string) (string, error) {
		var out bytes.Buffer
		err := PS(context.Background(), psHypervisor{procs: procs}, append(args, "g"), &out)
		return out.String(), err
	}
	out, err := run(procs, "--hidden")
	want := `PID  TID  PPID  UID  COMM           IN                   MISSING FROM
115  115  80    0    nitro-hidden   pid table, syscalls  task list
115  116  80    0    \x1b[2Jworker  pid table, syscalls  task list
`
	if !errors.Is(err, ErrHidden) || out != want {
		t.Errorf("ps --hidden: %v\n%s\nwant:\n%s", err, out, want)
	}
	out, err = run(procs, "--hidden", "--json")
	var rows []hiddenTask
	if jerr := json.Unmarshal([]byte(out), &rows); jerr != nil || !errors.Is(err, ErrHidden) || len(rows) != 2 ||
		rows[1].TID != 116 || rows[1].Missing[0] != api.ViewTaskList || rows[1].In[1] != api.ViewSyscalls {
		t.Errorf("ps --hidden --json: %v, %v: %s", err, jerr, out)
	}
	if out, err := run(procs[:1], "--hidden", "--json"); err != nil || out != "[]\n" {
		t.Errorf("ps --hidden --json, none hidden: %v, %q", err, out)
	}
	if out, err := run(procs); err != nil || !strings.Contains(out, "nitro-hidden  HIDDEN: in the pid table and syscalls, not in the task list\n") {
		t.Errorf("ps: %v\n%s", err, out)
	}
}
