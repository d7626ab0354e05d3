package common

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
)

// ErrUnknownAction is a key-config entry naming no action.
var ErrUnknownAction = errors.New("unknown key action")

// KeyMap is every binding of the UI, grouped for help as gh-dash does.
type KeyMap struct {
	// Moving around.
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	NextPane, PrevPane                      key.Binding
	Select                                  key.Binding // attach to a domain, pick a process
	// Domains.
	Start, Shutdown key.Binding
	// The attached domain.
	Break, BreakPID, BreakExit, Edit, Continue, Pause, Follow key.Binding
	Filter, Clear                                             key.Binding
	Manual                                                    key.Binding // the selected call's man page
	Inject, InjectPID                                         key.Binding
	Record                                                    key.Binding // a live session to a file
	Triage                                                    key.Binding // the top pane: syscalls, findings, files, network, exec
	Reattach                                                  key.Binding // a new session after the connection to a remote host dropped
	// A replay's playback.
	StepForward, StepBack, Faster, Slower, Seek, NextMatch key.Binding
	// Always.
	Help, Quit, ForceQuit key.Binding
}

// action is one rebindable binding: its config name, help text, field.
type action struct {
	name, desc string
	field      func(*KeyMap) *key.Binding
}

var actions = []action{
	{"up", "up", func(k *KeyMap) *key.Binding { return &k.Up }},
	{"down", "down", func(k *KeyMap) *key.Binding { return &k.Down }},
	{"page_up", "page up", func(k *KeyMap) *key.Binding { return &k.PageUp }},
	{"page_down", "page down", func(k *KeyMap) *key.Binding { return &k.PageDown }},
	{"top", "top", func(k *KeyMap) *key.Binding { return &k.Top }},
	{"bottom", "bottom", func(k *KeyMap) *key.Binding { return &k.Bottom }},
	{"next_pane", "next pane", func(k *KeyMap) *key.Binding { return &k.NextPane }},
	{"prev_pane", "previous pane", func(k *KeyMap) *key.Binding { return &k.PrevPane }},
	{"select", "attach/select", func(k *KeyMap) *key.Binding { return &k.Select }},
	{"start", "start domain", func(k *KeyMap) *key.Binding { return &k.Start }},
	{"shutdown", "shut down domain", func(k *KeyMap) *key.Binding { return &k.Shutdown }},
	{"break", "break on syscall", func(k *KeyMap) *key.Binding { return &k.Break }},
	{"break_pid", "break in process", func(k *KeyMap) *key.Binding { return &k.BreakPID }},
	{"break_exit", "break at exit", func(k *KeyMap) *key.Binding { return &k.BreakExit }},
	{"edit", "edit held value", func(k *KeyMap) *key.Binding { return &k.Edit }},
	{"continue", "continue held", func(k *KeyMap) *key.Binding { return &k.Continue }},
	{"inject", "inject a fault", func(k *KeyMap) *key.Binding { return &k.Inject }},
	{"inject_pid", "inject in process", func(k *KeyMap) *key.Binding { return &k.InjectPID }},
	{"pause", "pause/resume VM", func(k *KeyMap) *key.Binding { return &k.Pause }},
	{"record", "record to a file", func(k *KeyMap) *key.Binding { return &k.Record }},
	{"triage", "findings/files/net/exec", func(k *KeyMap) *key.Binding { return &k.Triage }},
	{"reattach", "re-attach", func(k *KeyMap) *key.Binding { return &k.Reattach }},
	{"step", "step a call", func(k *KeyMap) *key.Binding { return &k.StepForward }},
	{"step_back", "step a call back", func(k *KeyMap) *key.Binding { return &k.StepBack }},
	{"faster", "faster", func(k *KeyMap) *key.Binding { return &k.Faster }},
	{"slower", "slower", func(k *KeyMap) *key.Binding { return &k.Slower }},
	{"seek", "jump to seq/time", func(k *KeyMap) *key.Binding { return &k.Seek }},
	{"next_match", "next match of filter", func(k *KeyMap) *key.Binding { return &k.NextMatch }},
	{"follow", "follow", func(k *KeyMap) *key.Binding { return &k.Follow }},
	{"filter", "filter", func(k *KeyMap) *key.Binding { return &k.Filter }},
	{"clear", "clear/cancel", func(k *KeyMap) *key.Binding { return &k.Clear }},
	{"manual", "manual of call", func(k *KeyMap) *key.Binding { return &k.Manual }},
	{"help", "help", func(k *KeyMap) *key.Binding { return &k.Help }},
	{"quit", "quit/detach", func(k *KeyMap) *key.Binding { return &k.Quit }},
	{"force_quit", "quit", func(k *KeyMap) *key.Binding { return &k.ForceQuit }},
}

// Actions lists the names a key config may use.
func Actions() []string {
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = a.name
	}
	return names
}

// NewKeyMap builds the key map from keys by action name (Bubble Tea key
// names such as "k", "up", "ctrl+c", "shift+tab"). An action with no keys is
// unbound; a name that is no action is an error.
func NewKeyMap(keys map[string][]string) (KeyMap, error) {
	var km KeyMap
	names := make([]string, 0, len(keys))
	for n := range keys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !slices.Contains(Actions(), n) {
			return KeyMap{}, fmt.Errorf("%w %q (have %s)", ErrUnknownAction, n, strings.Join(Actions(), ", "))
		}
	}
	for _, a := range actions {
		ks := keys[a.name]
		b := a.field(&km)
		if len(ks) == 0 {
			*b = key.NewBinding(key.WithDisabled())
			continue
		}
		*b = key.NewBinding(key.WithKeys(teaNames(ks)...), key.WithHelp(label(ks), a.desc))
	}
	return km, nil
}

// MergeKeys reads a key config, a JSON object from action name to a list of
// keys, e.g. {"up": ["k", "up"], "pause": ["space"]}, over base: each action
// it names gets exactly the keys it lists (an empty list unbinds it); the
// others keep base's.
func MergeKeys(base map[string][]string, config io.Reader) (map[string][]string, error) {
	var over map[string][]string
	dec := json.NewDecoder(config)
	if err := dec.Decode(&over); err != nil {
		return nil, fmt.Errorf("reading key config: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading key config: %w: text after the object", ErrTrailing)
	}
	merged := make(map[string][]string, len(base)+len(over))
	for n, ks := range base {
		merged[n] = ks
	}
	for n, ks := range over {
		if !slices.Contains(Actions(), n) {
			return nil, fmt.Errorf("key config: %w %q", ErrUnknownAction, n)
		}
		for _, k := range ks {
			// Key names are shown in help and hints: no terminal controls,
			// no bidi overrides or other invisible formatting.
			if k == "" || strings.ContainsFunc(k, func(r rune) bool { return !unicode.IsPrint(r) }) {
				return nil, fmt.Errorf("key config: %s: %w %q", n, ErrBadKey, k)
			}
		}
		merged[n] = ks
	}
	return merged, nil
}

// ErrBadKey is a key name that no key press can have.
var ErrBadKey = errors.New("not a key name")

// ErrTrailing is a key config with more after its object.
var ErrTrailing = errors.New("not one JSON object")

// teaNames spells keys as Bubble Tea's KeyMsg.String does: "space" is " ".
func teaNames(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		if k == "space" {
			k = " "
		}
		out[i] = k
	}
	return out
}

var glyphs = map[string]string{"up": "↑", "down": "↓", "left": "←", "right": "→", "pgup": "pgup", "pgdown": "pgdn"}

// label is the help's short spelling of a binding's keys, e.g. "k/↑".
func label(keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		if g, ok := glyphs[k]; ok {
			k = g
		}
		out[i] = k
	}
	return strings.Join(out, "/")
}
