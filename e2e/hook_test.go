package e2e

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"nitro/core"
	"nitro/core/backend"
	"nitro/core/kvm"
	"nitro/internal/lab"
)

// TestHookRewritesOpen changes the path of nitro-probe's first openat, at
// entry, to another file of the same length; the probe then says on the
// console that it read the other file.
func TestHookRewritesOpen(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	rewritten := make(chan struct{}, 1)
	runHooked(t, g, "openat", func(call *backend.Call) error {
		if call.Process.Comm != "nitro-probe" {
			return nil
		}
		err := rewritePath(call, 1)
		if err == nil {
			select {
			case rewritten <- struct{}{}:
			default:
			}
		}
		return err
	}, regexp.MustCompile(`^nitro-probe: pid \d+ ppid 1 read 18 bytes: nitro probe OTHER$`))
	select {
	case <-rewritten:
	default:
		t.Fatal("the probe read the other file, but the hook never rewrote a path")
	}
	// Detached: the next run reads its own file again.
	size, _ := g.SerialSize()
	if _, _, err := g.WaitSerial(regexp.MustCompile(`^nitro-probe: pid \d+ ppid 1 read 18 bytes: nitro probe input$`), size, time.Minute); err != nil {
		t.Fatal(err)
	}
}

// The probes' input file, and another of the same length to swap it for.
var probeInput, probeOther = []byte("/etc/nitro/probe-input\x00"), []byte("/etc/nitro/probe-other\x00")

// rewritePath changes the path at argument i from the probes' input file
// to the other one, and leaves other paths alone.
func rewritePath(call *backend.Call, i int) error {
	path, err := call.Arguments.ReadBytes(i, len(probeInput))
	if err != nil || !bytes.Equal(path, probeInput) {
		return err
	}
	return call.Arguments.WriteBytes(i, probeOther)
}

// probeFirstLine is a probe's first console line: its name and pid.
var probeFirstLine = regexp.MustCompile(`^(nitro-probe(?:32)?): pid (\d+) `)

// runHooked traces g stopping at one system call only, with hook on its
// entry, until the console shows want, a probe's first line; then it
// detaches. The exits of that call nitro saw in the run that printed want
// must have returned what the probe says it got back.
func runHooked(t *testing.T, g lab.Guest, syscall string, hook core.Hook, want *regexp.Regexp) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sess, err := core.Attach(ctx, lab.URI, g.Name, core.Options{Syscalls: []string{syscall}})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	sess.Hook(syscall, kvm.Enter, hook)
	// Written by Run's goroutine, read once Run has returned.
	rets := map[int][]int64{}
	sess.Hook(syscall, kvm.Exit, func(call *backend.Call) error {
		if strings.HasPrefix(call.Process.Comm, "nitro-probe") {
			rets[call.Process.PID] = append(rets[call.Process.PID], call.Ret)
		}
		return nil
	})
	start, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sess.Run(runCtx) }()
	m, next, err := g.WaitSerial(want, start, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}

	probe := probeFirstLine.FindStringSubmatch(m[0])
	if probe == nil {
		t.Fatalf("%q is no probe's line", m[0])
	}
	pid, _ := strconv.Atoi(probe[2])
	// Both lines come from one write, but reach the log one after the other.
	if _, _, err := g.WaitSerial(regexp.MustCompile(`^`+probe[1]+`: pid `+probe[2]+` results`), next, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	out, err := probeOutputOf(log, probe[1], pid)
	if err != nil {
		t.Fatal(err)
	}
	var got []probeResult
	for _, r := range out.results {
		if r.name == syscall {
			got = append(got, r)
		}
	}
	if len(got) != len(rets[pid]) {
		t.Fatalf("%s pid %d: nitro saw %s return %v, the probe got %v", probe[1], pid, syscall, rets[pid], got)
	}
	for i, r := range got {
		if rets[pid][i] != r.ret {
			t.Errorf("%s pid %d: nitro saw %s return %d, the probe got %s=%d", probe[1], pid, syscall, rets[pid][i], r.site, r.ret)
		}
	}
}
