package core

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	RunGuardIfAsked()
	os.Exit(m.Run())
}

// TestGuardOutlivesKillall: the guard answers that it runs, is not called
// nitro (so `killall nitro` spares it), and one killed while the domain is
// attached is replaced by another; released, it goes.
func TestGuardOutlivesKillall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the guard keeps its log in " + runDir + ", root's")
	}
	g, err := startGuard("test:///default", "no-such-domain")
	if err != nil {
		t.Fatal(err)
	}
	first := g.pid()
	if comm := commOf(t, first); comm != guardComm {
		t.Errorf("the guard is called %q, want %q", comm, guardComm)
	}
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var second int
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if second = g.pid(); second != first {
			break
		}
		if time.Now().After(end) {
			t.Fatal("a killed guard was not replaced")
		}
	}
	if comm := commOf(t, second); comm != guardComm {
		t.Errorf("the new guard is called %q", comm)
	}
	g.release()
	for end := time.Now().Add(10 * time.Second); syscall.Kill(second, 0) == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("a released guard did not exit")
		}
	}
	if g.pid() != second {
		t.Error("a released guard was replaced")
	}
}

func (g *guard) pid() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cmd.Process.Pid
}

func commOf(t *testing.T, pid int) string {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}
