package views

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"nitro/ui/common"
)

// ActivityKind is what the activity pane lists.
type ActivityKind uint8

const (
	Findings ActivityKind = iota
	Files
	Network
	Exec
	activityKinds
)

var activityTitles = [activityKinds]string{"Findings", "Files", "Network", "Exec lineage"}

// Next is the kind after k; after the last, ok is false (back to the
// syscall pane).
func (k ActivityKind) Next() (ActivityKind, bool) { return k + 1, k+1 < activityKinds }

// ActivityRow is one line of the activity pane: its text, escaped
// already, and the seq of the call it stands for (0: none).
type ActivityRow struct {
	Text   string
	Seq    uint64
	Severe bool // shown as a failure is: a finding at or above warning
}

// JumpMsg asks for the call of this seq to be selected in the syscall pane.
type JumpMsg struct{ Seq uint64 }

// Activity is the pane that takes the syscall pane's place to list what
// the triage engine made of the calls: its findings with their evidence
// calls, the files, the sockets, the exec lineage. Select on a row that
// stands for a call jumps to that call.
type Activity struct {
	c       *common.Common
	width   int
	height  int
	focused bool
	kind    ActivityKind
	rows    []ActivityRow
	note    string // after the title: counts, what was not kept
	list
}

// NewActivity is an empty findings pane.
func NewActivity(c *common.Common) *Activity { return &Activity{c: c} }

// Kind is what the pane lists.
func (v *Activity) Kind() ActivityKind { return v.kind }

// Set replaces the rows, listing kind; the cursor stays where it was
// while the kind does not change.
func (v *Activity) Set(kind ActivityKind, rows []ActivityRow, note string) {
	if kind != v.kind {
		v.cursor, v.top = 0, 0
	}
	v.kind, v.rows, v.note = kind, rows, note
	v.scroll()
}

// SetSize implements common.Component.
func (v *Activity) SetSize(width, height int) {
	v.width, v.height = width, height
	v.scroll()
}

// SetFocused marks the pane as the one keys go to.
func (v *Activity) SetFocused(f bool) { v.focused = f }

// Init implements tea.Model.
func (v *Activity) Init() tea.Cmd { return nil }

func (v *Activity) shown() int { return max(v.height-1, 1) }

// Update implements tea.Model: moving, and Select to jump.
func (v *Activity) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok || len(v.rows) == 0 {
		return v, nil
	}
	keys := v.c.Keys
	switch {
	case v.move(keys, k, len(v.rows), v.shown()):
		return v, nil
	case key.Matches(k, keys.Select):
		if seq := v.rows[v.cursor].Seq; seq != 0 {
			return v, func() tea.Msg { return JumpMsg{Seq: seq} }
		}
	}
	v.scroll()
	return v, nil
}

// scroll keeps the cursor on a row and on screen.
func (v *Activity) scroll() { v.list.scroll(len(v.rows), v.shown()) }

// View implements tea.Model.
func (v *Activity) View() string {
	st := v.c.Styles
	head := activityTitles[v.kind]
	if v.note != "" {
		head += " " + v.note
	}
	if k := KeyName(v.c.Keys.Triage); k != "" {
		head += fmt.Sprintf("  (%s: next view)", k)
	}
	lines := []string{title(st, v.focused, head, v.width)}
	for i := v.top; i < min(v.top+v.shown(), len(v.rows)); i++ {
		r := v.rows[i]
		line := fit(r.Text, v.width)
		switch {
		case i == v.cursor && v.focused:
			line = st.Selected.Render(line)
		case r.Severe:
			line = st.Failed.Render(line)
		default:
			line = st.Text.Render(line)
		}
		lines = append(lines, line)
	}
	return pad(lines, v.height)
}

// ShortHelp implements help.KeyMap.
func (v *Activity) ShortHelp() []key.Binding {
	k := v.c.Keys
	return []key.Binding{k.Select, k.Triage}
}

// FullHelp implements help.KeyMap.
func (v *Activity) FullHelp() [][]key.Binding {
	k := v.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Select, k.Triage}}
}
