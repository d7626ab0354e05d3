package views

import (
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"
)

func TestOverlay(t *testing.T) {
	const rev, reset = "\x1b[7m", "\x1b[0m"
	for _, tc := range []struct {
		name, screen, box string
		w, h              int
		want              string
	}{
		{"centred", "abcdef\nghijkl\nmnopqr", "XY", 6, 3, "abcdef\nghXYkl\nmnopqr"},
		{"short lines padded", "ab\n\n", "XY", 6, 3, "ab\n  XY\n"},
		// The box cuts 世 at its left edge and 界 at its right: spaces take
		// their other halves, so the line keeps its width.
		{"wide characters cut", "a世界bc", "XY", 7, 1, "a XY bc"},
		{"box too big", "abc", "WXYZ\nWXYZ", 3, 1, "WXY"},
	} {
		got := Overlay(tc.screen, tc.box, tc.w, tc.h)
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	// A style spanning the box resumes after it; what the box covers does
	// not leak into it.
	got := Overlay(rev+"abcdef"+reset, "XY", 6, 1)
	if want := rev + "ab" + reset + "XY" + rev + "ef" + reset; got != want {
		t.Errorf("styled: got %q, want %q", got, want)
	}
	if w := ansi.StringWidth(got); w != 6 {
		t.Errorf("styled: %d cells wide, want 6", w)
	}
}

func TestHints(t *testing.T) {
	bound := key.NewBinding(key.WithKeys("E", "e"))
	space := key.NewBinding(key.WithKeys(" "))
	hostile := key.NewBinding(key.WithKeys("\x1b[2J"))
	unbound := key.NewBinding(key.WithDisabled())
	if got := Hints(", ", Hint(bound, "edit"), Hint(unbound, "continue"), Hint(space, "pause")); got != "E edit, space pause" {
		t.Errorf("hints = %q", got)
	}
	if got := KeyName(hostile); strings.ContainsRune(got, '\x1b') {
		t.Errorf("key name %q reaches the terminal raw", got)
	}
	if got := Hints(", ", Hint(unbound, "edit")); got != "" {
		t.Errorf("unbound hints = %q, want none", got)
	}
}
