package common

import (
	"errors"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

var base = map[string][]string{"up": {"k", "up"}, "pause": {"p"}, "quit": {"q"}}

func TestMergeKeys(t *testing.T) {
	merged, err := MergeKeys(base, strings.NewReader(`{"pause": ["space"], "quit": []}`))
	if err != nil {
		t.Fatal(err)
	}
	km, err := NewKeyMap(merged)
	if err != nil {
		t.Fatal(err)
	}
	if !key.Matches(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}, km.Pause) {
		t.Error("space does not pause after rebinding")
	}
	if key.Matches(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'p'}}, km.Pause) {
		t.Error("p still pauses: a listed action must get exactly the listed keys")
	}
	if km.Quit.Enabled() {
		t.Error("an empty list did not unbind quit")
	}
	if !key.Matches(tea.KeyMsg{Type: tea.KeyUp}, km.Up) || km.Up.Help().Key != "k/↑" {
		t.Errorf("unlisted action changed: %+v", km.Up.Help())
	}
}

func TestMergeKeysRejects(t *testing.T) {
	if _, err := MergeKeys(base, strings.NewReader(`{"jump": ["J"]}`)); !errors.Is(err, ErrUnknownAction) {
		t.Errorf("unknown action: error %v, want ErrUnknownAction", err)
	}
	if _, err := MergeKeys(base, strings.NewReader(`{"up": "k"`)); err == nil {
		t.Error("malformed JSON accepted")
	}
	if _, err := MergeKeys(base, strings.NewReader(`{"up": ["k"]} {"pause": ["\u001b"]}`)); !errors.Is(err, ErrTrailing) {
		t.Errorf("a second object: error %v, want ErrTrailing", err)
	}
	for _, bad := range []string{`{"pause": ["\u001b]52;c;eA==\u0007"]}`, `{"pause": [""]}`, `{"pause": ["p\n"]}`, `{"pause": ["\u202ep"]}`} {
		if _, err := MergeKeys(base, strings.NewReader(bad)); !errors.Is(err, ErrBadKey) {
			t.Errorf("%s: error %v, want ErrBadKey", bad, err)
		}
	}
	if _, err := NewKeyMap(map[string][]string{"fly": {"f"}}); !errors.Is(err, ErrUnknownAction) {
		t.Errorf("NewKeyMap unknown action: %v", err)
	}
}
