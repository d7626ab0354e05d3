package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/ui/uitest"
	"nitro/ui/views"
)

// Errors from the host side (libvirt, the session) are shown through Plain:
// no control character gets to the terminal.
func TestHostErrorsArePlain(t *testing.T) {
	const evil, shown = "libvirt: \x1b]0;pwn\a", "libvirt: ?]0;pwn?"
	check := func(what string, m *Model) {
		t.Helper()
		if v := m.View(); strings.ContainsAny(v, "\x1b\a") || !strings.Contains(v, shown) {
			t.Errorf("%s: host text not made plain:\n%q", what, v)
		}
	}
	m := New(context.Background(), Options{Hypervisor: uitest.NewHypervisor(), Keys: *uitest.Keys()})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(views.AttachMsg{Name: "lab", Err: errors.New(evil)})
	check("attach", m)

	s := uitest.NewSession()
	m.Update(views.AttachMsg{Name: "lab", Session: s})
	defer m.Close()
	m.Update(runEndMsg{sess: s, err: errors.New(evil)})
	check("session end", m)
	m.Update(doneMsg{sess: s, err: errors.New(evil)})
	check("session command", m)
	m.Update(detachedMsg{sess: uitest.NewSession(), err: errors.New(evil)})
	check("detach", m)
}
