package views

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/ui/calls"
	"nitro/ui/uitest"
)

// failedOpenat is the script's openat of "/nonexistent", at its exit:
// -1 ENOENT.
func failedOpenat() calls.Row {
	return calls.Row{Call: uitest.Script()[2].Exit(6, uitest.Epoch), Done: true}
}

// The inspector says what the call does, what its flags mean and, for a
// failure, what the errno means: in general and for this call.
func TestInspectorExplainsFailedOpenat(t *testing.T) {
	in := NewInspector(testCommon(t))
	in.SetSize(120, 20)
	r := failedOpenat()
	in.Show(&r)
	screen := in.View()
	for _, want := range []string{
		"openat  nr 257",
		"     open and possibly create a file",
		"     AT_FDCWD: relative paths start at the current working directory",
		"     O_RDONLY: open for reading only",
		"     ENOENT: No such file or directory",
		"     open(2): O_CREAT is not set and the named file does not exist.",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("no %q in the inspector:\n%s", want, screen)
		}
	}

	ok := calls.Row{Call: uitest.Script()[0].Exit(2, uitest.Epoch), Done: true} // the same call, succeeding
	in.Show(&ok)
	if screen := in.View(); strings.Contains(screen, "ENOENT") || !strings.Contains(screen, "open and possibly create a file") {
		t.Errorf("a call that succeeded:\n%s", screen)
	}
}

// The manual view wraps the page to its box, scrolls with the movement
// keys, and closes with the clear key.
func TestManualScrollsAndCloses(t *testing.T) {
	for _, closer := range []string{"esc", "q", "m"} {
		m := NewManual(testCommon(t))
		m.SetSize(80, 16)
		m.Open(failedOpenat())
		top := m.View()
		for _, want := range []string{"Manual: openat", `openat(AT_FDCWD, "/nonexistent", O_RDONLY) = -1 ENOENT`, "ENOENT: No such file or directory", "  0%"} {
			if !strings.Contains(top, want) {
				t.Fatalf("no %q at the top of the manual:\n%s", want, top)
			}
		}
		press(m, "j")
		if down := m.View(); strings.Contains(down, "openat(AT_FDCWD") || down == top {
			t.Fatalf("down did not scroll:\n%s", down)
		}
		press(m, "G")
		if bottom := m.View(); !strings.Contains(bottom, "man 2 open has the whole page") || !strings.Contains(bottom, "100%") {
			t.Fatalf("bottom key did not reach the end:\n%s", bottom)
		}
		press(m, "g")
		if m.View() != top {
			t.Fatalf("top key did not go back to the top:\n%s", m.View())
		}
		if closer == "esc" {
			m.Update(tea.KeyMsg{Type: tea.KeyEsc})
		} else {
			press(m, closer)
		}
		if m.Opened() {
			t.Errorf("%s did not close the manual", closer)
		}
	}
}

// Every line fits the box, the synopsis and the page's sections included.
func TestManualWrapsToItsBox(t *testing.T) {
	m := NewManual(testCommon(t))
	m.SetSize(50, 200)
	m.Open(failedOpenat())
	screen := m.View()
	for _, want := range []string{"SYNOPSIS", "int openat(int dirfd, const char", "DESCRIPTION", "RETURN VALUE", "ERRORS"} {
		if !strings.Contains(screen, want) {
			t.Errorf("no %q in the manual:\n%s", want, screen)
		}
	}
	for _, l := range strings.Split(screen, "\n") {
		if w := len([]rune(l)); w > 50-2*manualMargin {
			t.Errorf("a line of %d cells in a box of %d: %q", w, 50-2*manualMargin, l)
		}
	}
}

// A call no page documents still shows itself and its errno; guest text in
// it reaches the screen escaped.
func TestManualWithoutPage(t *testing.T) {
	m := NewManual(testCommon(t))
	m.SetSize(100, 20)
	m.Open(calls.Row{Done: true, Call: api.Syscall{Direction: api.Exit, Name: "syscall_999", Nr: 999,
		Args: []api.Arg{{Raw: 1, Text: `"\x1b[2J"`}}, Ret: -38, Errno: "ENOSYS\x1b]0;pwn\a", RetText: "-1 ENOSYS (Function not implemented)"}})
	screen := m.View()
	if !strings.Contains(screen, "have no page for syscall_999") || !strings.Contains(screen, `syscall_999("\x1b[2J")`) {
		t.Errorf("manual of an unknown call:\n%s", screen)
	}
	if strings.ContainsAny(screen, "\x1b\a") {
		t.Errorf("terminal controls reached the screen: %q", screen)
	}
}
