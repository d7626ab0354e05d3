package ui_test

import (
	"strings"
	"testing"
	"time"

	"nitro/api"
	"nitro/ui/uitest"
)

// edits waits until the fake session has been asked n edits and returns them.
func (f *fixture) edits(n int) []api.Edit {
	f.t.Helper()
	f.until("edits", func() bool {
		f.s.Lock()
		defer f.s.Unlock()
		return len(f.s.Edits) >= n
	})
	f.s.Lock()
	defer f.s.Unlock()
	return append([]api.Edit(nil), f.s.Edits...)
}

// holdEntry holds call i of the script at its entry with a few registers.
func (f *fixture) holdEntry(i int) {
	f.s.Hold(api.Held{Call: uitest.Script()[i].Enter(100, uitest.Epoch.Add(time.Second)),
		Regs: []api.Register{{Name: "rax", Value: 257}, {Name: "rsp", Value: 0x7ffe0000}, {Name: "rflags", Value: 0x246}}})
	f.waitFor("HELD")
}

// A path typed over a held openat's is a C string: the prompt says what it
// takes, the edit asks for a string with its NUL, and a path longer than
// the old one shows at its new place.
func TestEditPathString(t *testing.T) {
	f := start(t, "lab", 120, 24, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ", "total 12")
	f.holdEntry(0) // openat(AT_FDCWD, "/etc/passwd", O_RDONLY)
	f.keys("j", "e")
	f.waitFor(`edit arg1 ("text", hex x"68 69" or a number): 0x7ffd1000`)
	f.keys("ctrl+u", `"/etc/nitro/probe-input"`, "enter")
	e := f.edits(1)[0]
	if e.Arg != 1 || !e.String || string(e.Data) != "/etc/nitro/probe-input" || e.Len {
		t.Fatalf("edit %+v, want arg1's C string", e)
	}
	f.waitFor("edited", `0x7ffdff60  "/etc/nitro/probe-input"`) // moved below the stack
	golden(t, f.screen())
}

// Hex bytes over write's buffer, of another length than its count: the
// prompt shows both and asks; y sets the count too.
func TestEditHexBufferSetsLength(t *testing.T) {
	f := start(t, "lab", 120, 24, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ", "total 12")
	f.holdEntry(4) // write(1, "\x1b[2J", 4)
	f.keys("j", "e", "ctrl+u", `x"68 65 6c 6c 6f 0a"`, "enter")
	f.waitFor(`write arg1 "hello\n" (6 bytes) and arg2 (its length) 4 -> 6? [y/n]`)
	f.keys("y", "enter")
	e := f.edits(1)[0]
	if e.Arg != 1 || e.String || !e.Len || string(e.Data) != "hello\n" {
		t.Fatalf("edit %+v, want arg1's bytes with its length", e)
	}
	f.waitFor("edited", `"hello\n"`, "arg2                0x6  6")
}

// n keeps the count: bytes longer than it are refused, saying why, and
// the held call stays as it was.
func TestEditBufferKeepsLengthRefused(t *testing.T) {
	f := start(t, "lab", 120, 24, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ", "total 12")
	f.holdEntry(4)
	f.keys("j", "e", "ctrl+u", `"hello\n"`, "enter")
	f.waitFor("(its length) 4 -> 6? [y/n]")
	f.keys("n", "enter")
	f.waitFor("edit refused: write's argument 1: 6 bytes, 4 counted: longer than the count the call has: set the count too")
	if e := f.edits(1)[0]; e.Len {
		t.Errorf("edit %+v sets the length after n", e)
	}
	if screen := f.screen(); !strings.Contains(screen, `0x7ffd4000  "\x1b[2J"`) {
		t.Errorf("a refused edit changed the held call:\n%s", screen)
	}
}

// E arms a break at the exit; the held exit's return value is a field,
// edited as a number and shown as strace shows an error.
func TestBreakAtExitEditsReturn(t *testing.T) {
	f := start(t, "lab", 120, 24, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ", "total 12")
	f.keys("k", "k", "k", "k", "k", "E") // on openat("/etc/passwd")
	f.waitFor("break armed: openat at exit", "break openat@exit")
	f.s.Lock()
	breaks := append([]api.Breakpoint(nil), f.s.Breaks...)
	f.s.Unlock()
	if len(breaks) != 1 || breaks[0] != (api.Breakpoint{Name: "openat", Exit: true}) {
		t.Fatalf("breaks %+v, want openat at exit", breaks)
	}
	f.s.Hold(api.Held{Call: uitest.Script()[0].Exit(100, uitest.Epoch.Add(time.Second)), Regs: []api.Register{{Name: "rax", Value: 3}}})
	f.waitFor("held at exit")
	f.keys("j", "j", "j", "e") // past the three arguments
	f.waitFor("edit ret (a number, -2 for -ENOENT): 3")
	f.keys("ctrl+u", "-2", "enter")
	if e := f.edits(1)[0]; !e.Ret || e.Value != ^uint64(1) {
		t.Fatalf("edit %+v, want the return value -2", e)
	}
	f.waitFor("ret  -1 ENOENT (No such file or directory)  (raw -2)")
}

// Edits that cannot be made say why in the message line: bytes for a
// number, and a change of rflags the listener cannot write.
func TestEditRefusedSaysWhy(t *testing.T) {
	f := start(t, "lab", 120, 24, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ", "total 12")
	f.holdEntry(0)
	f.keys("j", "j", "e") // arg2: the flags
	f.waitFor("edit arg2 (a number): 0x0")
	f.keys("ctrl+u", `"O_RDWR"`, "enter")
	f.waitFor("arg2 takes a number (42, -1, 0x1f), not bytes")
	f.keys("j", "j", "j", "e", "ctrl+u", "0x247", "enter") // rflags: CF set
	f.waitFor("edit refused: not supported by this host or VM: changing rflags' arithmetic flags")
	if e := f.edits(1); len(e) != 1 || e[0].Reg != "rflags" {
		t.Errorf("edits %+v, want the rflags one only: bytes for a number never reach the session", e)
	}
}
