package views

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/internal/escape"
	"nitro/internal/manual"
	"nitro/ui/calls"
	"nitro/ui/common"
)

// ErrBadValue is an edit the inspector cannot read.
var ErrBadValue = errors.New(`want a number (42, -1, 0x1f), a quoted string ("text\n") or hex bytes (x"68 69")`)

// Inspector shows one call in full: the selected one, or the held one while
// a break holds it, when the cursor picks the argument or register to edit.
type Inspector struct {
	c       *common.Common
	width   int
	height  int
	focused bool
	row     calls.Row // a copy: the ring reuses its slots
	has     bool
	held    *api.Held
	field   int // held: index into the editable fields (arguments, the return value at an exit, registers)
	top     int // first line shown
}

// NewInspector shows nothing until Show or SetHeld.
func NewInspector(c *common.Common) *Inspector { return &Inspector{c: c} }

// SetSize implements common.Component.
func (v *Inspector) SetSize(width, height int) { v.width, v.height = width, height }

// SetFocused marks the pane as the one keys go to.
func (v *Inspector) SetFocused(f bool) { v.focused = f }

// Show inspects a row of the syscall pane; ignored while a call is held.
func (v *Inspector) Show(r *calls.Row) {
	if r == nil {
		v.has = false
		return
	}
	if !v.has || r.Call.Seq != v.row.Call.Seq {
		v.top = 0
	}
	v.row, v.has = *r, true
}

// SetHeld shows a held call (nil: none is held any more).
func (v *Inspector) SetHeld(h *api.Held) {
	if h == nil || v.held == nil || h.Call.Seq != v.held.Call.Seq {
		v.field, v.top = 0, 0
	}
	v.held = h
}

// Shown is the call the inspector shows: the held one, else the selected
// one.
func (v *Inspector) Shown() (calls.Row, bool) {
	switch {
	case v.held != nil:
		return calls.Row{Call: v.held.Call, Done: v.held.Call.IsExit()}, true
	case v.has:
		return v.row, true
	}
	return calls.Row{}, false
}

// Held is the held call, if any.
func (v *Inspector) Held() *api.Held { return v.held }

// hasRet says whether the return value is a field, after the arguments:
// at an exit.
func (v *Inspector) hasRet() bool { return v.held != nil && v.held.Call.IsExit() }

// firstReg is the field of the first register.
func (v *Inspector) firstReg() int {
	n := len(v.held.Call.Args)
	if v.hasRet() {
		n++
	}
	return n
}

func (v *Inspector) fields() int {
	if v.held == nil {
		return 0
	}
	return v.firstReg() + len(v.held.Regs)
}

// Target is the field under the cursor as an edit (its Value the current
// one), with its label and current value in the edit prompt's syntax.
func (v *Inspector) Target() (EditTarget, bool) {
	if v.fields() == 0 {
		return EditTarget{}, false
	}
	h := v.held
	value := EditTarget{Use: api.ArgUse{Kind: api.ArgValue, Len: -1}}
	switch {
	case v.field < len(h.Call.Args):
		a := h.Call.Args[v.field]
		t := EditTarget{Edit: api.Edit{Arg: v.field, Value: a.Raw}, Label: fmt.Sprintf("arg%d", v.field), Current: fmt.Sprintf("%#x", a.Raw)}
		// A producer that does not say what an argument is: any may be a pointer.
		t.Use = api.ArgUse{Kind: api.ArgMemory, Len: -1}
		if v.field < len(h.Uses) {
			t.Use = h.Uses[v.field]
		}
		return t, true
	case v.field < v.firstReg():
		value.Edit, value.Label, value.Current = api.Edit{Ret: true, Value: uint64(h.Call.Ret)}, "ret", strconv.FormatInt(h.Call.Ret, 10)
		return value, true
	}
	r := h.Regs[v.field-v.firstReg()]
	value.Edit, value.Label, value.Current = api.Edit{Reg: r.Name, Value: r.Value}, Plain(r.Name), fmt.Sprintf("%#x", r.Value)
	return value, true
}

// ParseEdit reads the edit prompt's text into t's edit: a number sets the
// value; bytes (a Go-quoted string or x"hex"), for a pointer argument, are
// written to guest memory where it points: a path or name as a C string.
func ParseEdit(t EditTarget, input string) (api.Edit, error) {
	input = strings.TrimSpace(input)
	e := t.Edit
	if b, ok, err := bytesInput(input); ok {
		switch {
		case err != nil:
			return api.Edit{}, err
		case !t.Use.Pointer():
			return api.Edit{}, fmt.Errorf("%s %w", t.Label, ErrNotPointer)
		}
		e.Data, e.String = b, t.Use.Kind == api.ArgString
		return e, nil
	}
	if u, err := strconv.ParseUint(input, 0, 64); err == nil {
		e.Value = u
		return e, nil
	}
	if i, err := strconv.ParseInt(input, 0, 64); err == nil {
		e.Value = uint64(i)
		return e, nil
	}
	return api.Edit{}, fmt.Errorf("%q: %w", input, ErrBadValue)
}

// Init implements tea.Model.
func (v *Inspector) Init() tea.Cmd { return nil }

// Update implements tea.Model: up and down pick a field while a call is
// held, and scroll otherwise.
func (v *Inspector) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return v, nil
	}
	delta := 0
	switch {
	case key.Matches(k, v.c.Keys.Up):
		delta = -1
	case key.Matches(k, v.c.Keys.Down):
		delta = 1
	}
	if n := v.fields(); n > 0 {
		v.field = max(0, min(v.field+delta, n-1))
	} else {
		v.top = max(0, v.top+delta)
	}
	return v, nil
}

// View implements tea.Model.
func (v *Inspector) View() string {
	st := v.c.Styles
	text := "Inspector"
	if v.held != nil {
		text += "  HELD"
	}
	lines := []string{title(st, v.focused, text, v.width)}
	body, cursor := v.body()
	shown := max(v.height-1, 1)
	top := min(v.top, max(len(body)-shown, 0))
	if cursor >= top+shown { // keep the picked field on screen
		top = cursor - shown + 1
	}
	for i := top; i < min(top+shown, len(body)); i++ {
		line := fit(body[i], v.width)
		switch {
		case i == cursor:
			line = st.Selected.Render(line)
		case v.held != nil && i == 0:
			line = st.Warn.Render(line)
		default:
			line = st.Text.Render(line)
		}
		lines = append(lines, line)
	}
	return pad(lines, v.height)
}

// body is the inspector's text, and the line of the picked field (-1: none).
func (v *Inspector) body() ([]string, int) {
	r, ok := v.Shown()
	if !ok {
		return []string{"no call selected"}, -1
	}
	c := &r.Call
	var out []string
	if v.held != nil {
		line := fmt.Sprintf("held at %s", c.Direction)
		if keys := Hints(", ", Hint(v.c.Keys.Edit, "edit"), Hint(v.c.Keys.Continue, "continue")); keys != "" {
			line += ": " + keys
		}
		out = append(out, line)
	}
	p := c.Process
	out = append(out, fmt.Sprintf("%s  nr %d  seq %d  vCPU %d  %s", callName(c), c.Nr, c.Seq, c.VCPU, c.Time.Format(timeLayout)))
	if s := manual.Summary(c.Name); s != "" {
		out = append(out, explainIndent+Plain(s))
	}
	out = append(out, fmt.Sprintf("pid %d  tid %d  ppid %d  uid %d  comm \"%s\"", p.PID, p.TID, p.PPID, p.UID, escape.String(p.Comm)))
	cursor := -1
	var flags []string // the args' flags explained, last: the call's own lines stay on a short pane
	for i, a := range c.Args {
		if v.held != nil && i == v.field {
			cursor = len(out)
		}
		out = append(out, fmt.Sprintf("arg%d %#18x  %s", i, a.Raw, api.Safe(a.Text)))
		flags = append(flags, flagLines(a.Text)...)
	}
	switch {
	case !r.Done && v.held == nil:
		out = append(out, "ret  (unfinished)")
	case r.Done:
		ret := "ret  " + api.Safe(c.RetText)
		if c.Errno != "" {
			ret += fmt.Sprintf("  (raw %d)", c.Ret)
		}
		if !r.ExitTime.IsZero() && !r.Orphan {
			ret += fmt.Sprintf("  in %s", r.ExitTime.Sub(c.Time))
		}
		if v.hasRet() && v.field == len(c.Args) {
			cursor = len(out)
		}
		out = append(out, ret)
		out = append(out, errnoLines(c)...)
	}
	if v.held != nil {
		for i, reg := range v.held.Regs {
			if v.firstReg()+i == v.field {
				cursor = len(out)
			}
			out = append(out, fmt.Sprintf("%-4s %#18x", Plain(reg.Name), reg.Value))
		}
	}
	return append(out, flags...), cursor
}

// explainIndent sets what explains a line (a call's description, a flag's
// meaning, an errno's) under it.
const explainIndent = "     "

// flagLines are the meanings of the flags an argument's text names, one a
// line.
func flagLines(text string) []string {
	var out []string
	for _, f := range manual.Flags(text) {
		out = append(out, explainIndent+f.Name+": "+f.Meaning)
	}
	return out
}

// errnoLines explain a failed call's errno: its description, then what the
// call's man page says it means for the call.
func errnoLines(c *api.Syscall) []string {
	if c.Errno == "" {
		return nil
	}
	var out []string
	if t, ok := manual.Errno(c.Errno); ok {
		out = append(out, explainIndent+Plain(c.Errno+": "+t))
	}
	if p, ok := manual.Lookup(c.Name); ok {
		for _, e := range p.ErrorsFor(c.Errno) {
			out = append(out, explainIndent+Plain(p.Name+"(2): "+e))
		}
	}
	return out
}

// ShortHelp implements help.KeyMap.
func (v *Inspector) ShortHelp() []key.Binding {
	k := v.c.Keys
	if v.held != nil {
		return []key.Binding{k.Up, k.Down, k.Edit, k.Continue}
	}
	return []key.Binding{k.Manual, k.Break, k.Pause}
}

// FullHelp implements help.KeyMap.
func (v *Inspector) FullHelp() [][]key.Binding {
	k := v.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.Manual}, {k.Break, k.BreakPID, k.BreakExit, k.Edit, k.Continue, k.Pause}}
}
