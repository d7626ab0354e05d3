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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sess, err := core.Attach(ctx, lab.URI, g.Name, core.Options{Syscalls: []string{"openat"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	from, to := []byte("/etc/nitro/probe-input\x00"), []byte("/etc/nitro/probe-other\x00")
	rewritten := make(chan struct{}, 1)
	sess.Hook("openat", kvm.Enter, func(call *backend.Call) error {
		if call.Process.Comm != "nitro-probe" {
			return nil
		}
		path, err := call.Arguments.ReadBytes(1, len(from))
		if err != nil || !bytes.Equal(path, from) {
			return err
		}
		if err := call.Arguments.WriteBytes(1, to); err != nil {
			return err
		}
		select {
		case rewritten <- struct{}{}:
		default:
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

	if _, _, err := g.WaitSerial(regexp.MustCompile(`^nitro-probe: pid \d+ ppid 1 read 18 bytes: nitro probe OTHER$`), start, time.Minute); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rewritten:
	default:
		t.Fatal("the probe read the other file, but the hook never rewrote a path")
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	// Detached: the next run reads its own file again.
	size, _ := g.SerialSize()
	if _, _, err := g.WaitSerial(regexp.MustCompile(`^nitro-probe: pid \d+ ppid 1 read 18 bytes: nitro probe input$`), size, time.Minute); err != nil {
		t.Fatal(err)
	}
}
