package e2e

import (
	"bytes"
	"context"
	"regexp"
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

// runHooked traces g stopping at one system call only, with hook on its
// entry, until the console shows want; then it detaches.
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
	start, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sess.Run(runCtx) }()
	if _, _, err := g.WaitSerial(want, start, time.Minute); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
}
