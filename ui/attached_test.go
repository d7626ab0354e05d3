package ui

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"nitro/api"
	"nitro/themes"
	"nitro/ui/uitest"
	"nitro/ui/views"
)

func TestRateFromSnapshots(t *testing.T) {
	m := New(context.Background(), Options{Hypervisor: uitest.NewHypervisor(), Keys: *uitest.Keys()})
	s := uitest.NewSession()
	m.Update(views.AttachMsg{Name: "lab", Session: s})
	defer m.Close()
	t0 := uitest.Epoch
	m.Update(snapMsg{sess: s, stats: api.Stats{Events: 50}})          // at attach: no rate yet
	m.Update(snapMsg{sess: s, at: t0, stats: api.Stats{Events: 100}}) // first tick
	m.Update(snapMsg{sess: s, at: t0.Add(2 * time.Second), stats: api.Stats{Events: 300}})
	if got := m.att.rate; math.Abs(got-100) > 1e-9 {
		t.Errorf("rate = %v, want 100 events/s", got)
	}
	m.Update(snapMsg{sess: uitest.NewSession(), at: t0.Add(3 * time.Second), stats: api.Stats{Events: 1e6}})
	if m.att.stats.Events != 300 {
		t.Error("a snapshot of another session was taken")
	}
}

// Every screen must render at any size without panicking or overflowing.
func TestTinyAndOddSizes(t *testing.T) {
	pal, _ := themes.Lookup("dark")
	for _, size := range [][2]int{{1, 1}, {10, 4}, {20, 8}, {80, 24}, {33, 50}, {300, 10}} {
		m := New(context.Background(), Options{Hypervisor: uitest.NewHypervisor(), Palette: pal, Keys: *uitest.Keys()})
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		_ = m.View()
		s := uitest.NewSession()
		m.Update(views.AttachMsg{Name: "lab", Session: s})
		s.Send(uitest.Stream(1, 100))
		m.Update(m.att.waitBatch()())
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("k")})
		for _, help := range []bool{false, true} {
			m.showHelp = help
			lines := strings.Split(m.View(), "\n")
			if size[1] < 8 || size[0] < 20 {
				continue // too small to lay out: rendering without a panic is enough
			}
			if len(lines) > size[1] {
				t.Errorf("%dx%d help=%v: %d lines", size[0], size[1], help, len(lines))
			}
			for _, l := range lines {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Errorf("%dx%d help=%v: line %d wide: %q", size[0], size[1], help, w, l)
				}
			}
		}
		_ = m.Close()
	}
}

func TestRunRefusesKeyMapWithoutQuit(t *testing.T) {
	if err := Run(context.Background(), Options{Hypervisor: uitest.NewHypervisor()}); !errors.Is(err, ErrNoQuitKey) {
		t.Errorf("Run with an empty key map: %v, want ErrNoQuitKey", err)
	}
}
