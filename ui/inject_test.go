package ui_test

import (
	"strings"
	"testing"
	"time"

	"nitro/api"
	"nitro/ui/uitest"
)

// armed is what the fake session has armed, as --inject would spell it.
func (f *fixture) armed() []string {
	f.s.Lock()
	defer f.s.Unlock()
	var specs []string
	for _, in := range f.s.Injections {
		specs = append(specs, in.String())
	}
	return specs
}

// TestInjectPrompt: I on a call opens the prompt filled in for its name
// and process; what the user makes of it is armed, listed in the status
// bar, and the injected exit shows strace's mark. I again disarms it.
func TestInjectPrompt(t *testing.T) {
	f := start(t, "lab", 132, 24, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ", "total 12")
	f.keys("k", "k", "k", "k", "k") // from close(3) up to cat's openat("/etc/passwd")
	f.keys("I")
	f.waitFor("inject (strace syntax): openat:error=ENOENT:pid=77:count=1")
	f.keys("ctrl+u", "openat:error=EACCES:when=2:pid=77", "enter")
	f.waitFor("injection armed: openat:error=EACCES:when=2:pid=77", "| inject openat:error=EACCES:when=2:pid=77")
	if got := f.armed(); len(got) != 1 || got[0] != "openat:error=EACCES:when=2:pid=77" {
		t.Fatalf("armed %q", got)
	}

	// The session's exit of the call it injected.
	c := uitest.Script()[0]
	c.Ret, c.Errno, c.RetText = -13, "EACCES", "-1 EACCES (Permission denied) (INJECTED)"
	exit := c.Exit(14, uitest.Epoch.Add(time.Second))
	exit.Injected = true
	f.s.Send([]api.Syscall{c.Enter(13, uitest.Epoch.Add(time.Second)), exit})
	f.waitFor("= -1 EACCES (Permission denied) (INJECTED)")
	golden(t, f.screen())
}

func TestInjectToggleAndRefusals(t *testing.T) {
	f := start(t, "lab", 120, 24, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ", "total 12")
	f.keys("k", "k", "k", "k", "k")
	// A spec that does not parse is refused, saying why; nothing is armed.
	f.keys("i", "ctrl+u", "openat:error=EIO:when=0", "enter")
	f.waitFor(`bad injection "openat:error=EIO:when=0"`)
	f.keys("i")
	f.waitFor("inject (strace syntax): openat:error=ENOENT:count=1")
	f.keys("enter")
	f.waitFor("injection armed: openat:error=ENOENT:count=1")
	if got := f.armed(); len(got) != 1 || got[0] != "openat:error=ENOENT:count=1" {
		t.Fatalf("armed %q", got)
	}
	// i on a name with an injection armed disarms it.
	f.keys("i")
	f.waitFor("injection cleared: openat:error=ENOENT:count=1")
	if got := f.armed(); len(got) != 0 {
		t.Errorf("still armed: %q", got)
	}
	if screen := f.screen(); strings.Contains(screen, "| inject") {
		t.Errorf("the status bar still lists an injection:\n%s", screen)
	}
}
