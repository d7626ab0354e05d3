package e2e

import (
	"bufio"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"nitro/core/kvm/domain"
	"nitro/internal/lab"
)

// TestKillNineDetaches kills `nitro trace` with SIGKILL at several moments
// while it traces; each time the guest must run again, with no breakpoint
// left (a breakpoint with no debugger attached would stop the guest at its
// next system call), within two seconds.
func TestKillNineDetaches(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	conn, err := domain.Open(lab.URI)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dom, err := conn.Lookup(g.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer dom.Close()

	for _, after := range []int{1, 40, 300} { // events seen before the kill
		cmd := exec.Command(nitroBin, "-c", lab.URI, "trace", "--format", "json", g.Name)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		for n := 0; n < after && lines.Scan(); n++ {
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
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
				t.Fatalf("killed after %d events: guest still %s 2 s later", after, info.State)
			}
			time.Sleep(50 * time.Millisecond)
		}
		requireRunning(t, g)
		t.Logf("killed after %d events: running again %v later", after, time.Since(killed).Round(time.Millisecond))
	}
}
