package e2e

import (
	"bufio"
	"io"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"nitro/core/kvm/domain"
	"nitro/internal/lab"
)

// TestSignalsDetach stops `nitro trace` with SIGKILL at several moments
// while it traces, and with SIGTERM and SIGINT; each time the guest must run
// again, with no breakpoint left (a breakpoint with no debugger attached
// would stop the guest at its next system call), within two seconds.
func TestSignalsDetach(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)

	for _, c := range []struct {
		sig   syscall.Signal
		after int // events seen before the signal
	}{{syscall.SIGKILL, 1}, {syscall.SIGKILL, 40}, {syscall.SIGKILL, 300}, {syscall.SIGTERM, 40}, {syscall.SIGINT, 40}} {
		cmd := exec.Command(nitroBin, "-c", lab.URI, "trace", "--format", "json", g.Name)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		for n := 0; n < c.after && lines.Scan(); n++ {
		}
		if err := cmd.Process.Signal(c.sig); err != nil {
			t.Fatal(err)
		}
		go io.Copy(io.Discard, out) // a clean stop writes its last lines
		err = cmd.Wait()
		if c.sig != syscall.SIGKILL && err != nil {
			t.Errorf("%v: nitro trace did not stop cleanly: %v", c.sig, err)
		}
		killed := time.Now()
		for {
			info, err := dom.Info()
			if err != nil {
				t.Fatal(err)
			}
			if info.State == domain.Running {
				break
			}
			if time.Since(killed) > 2*time.Second {
				t.Fatalf("%v after %d events: guest still %s 2 s later", c.sig, c.after, info.State)
			}
			time.Sleep(50 * time.Millisecond)
		}
		requireRunning(t, g)
		t.Logf("%v after %d events: running again %v later", c.sig, c.after, time.Since(killed).Round(time.Millisecond))
	}
}
