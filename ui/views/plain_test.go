package views

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/ui/uitest"
)

// Host text (libvirt's domain names, states and errors, the session's
// register names) reaches the screen through Plain: no control character
// gets to the terminal.
func TestHostTextIsPlain(t *testing.T) {
	const evil, shown = "ev\x1b]0;pwn\ail", "ev?]0;pwn?il"
	c := testCommon(t)
	d := NewDomains(c, uitest.NewHypervisor(), time.Hour)
	d.SetSize(80, 10)
	d.Update(domainsMsg{list: []api.Domain{{Name: evil, State: evil}}})
	screens := []string{d.View()}
	d.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("x")}) // the confirmation names the domain
	screens = append(screens, d.View())
	d.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("n")})
	d.Update(controlMsg{name: evil, act: api.Start})
	screens = append(screens, d.View())
	d.Update(controlMsg{name: evil, act: api.Start, err: errors.New(evil)})
	screens = append(screens, d.View())
	for _, isErr := range []bool{false, true} {
		d.SetStatus(evil, isErr)
		screens = append(screens, d.View())
	}

	in := NewInspector(c)
	in.SetSize(80, 10)
	in.SetHeld(&api.Held{Call: uitest.Script()[5].Enter(1, uitest.Epoch), Regs: []api.Register{{Name: evil}}})
	in.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("j")}) // past close's one argument
	target, _ := in.Target()
	screens = append(screens, in.View(), target.Label)

	for i, s := range screens {
		if strings.ContainsAny(s, "\x1b\a") || !strings.Contains(s, shown) {
			t.Errorf("screen %d: host text not made plain:\n%q", i, s)
		}
	}
}
