package views

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/ui/calls"
	"nitro/ui/common"
)

// Syscalls is the scrolling syscall pane. It follows new calls until the
// user moves up; moving to the bottom or the follow key resumes following.
// The selection is kept as an absolute row index so it stays on its call
// while new calls arrive.
type Syscalls struct {
	c       *common.Common
	store   *calls.Store
	width   int
	height  int
	focused bool
	follow  bool
	sel     uint64 // absolute index of the selected row
	top     uint64 // absolute index of the first row shown
}

// NewSyscalls shows store's rows.
func NewSyscalls(c *common.Common, store *calls.Store) *Syscalls {
	return &Syscalls{c: c, store: store, follow: true}
}

// SetSize implements common.Component.
func (v *Syscalls) SetSize(width, height int) {
	v.width, v.height = width, height
	v.clamp()
}

// Add takes a batch of calls into the store.
func (v *Syscalls) Add(batch []api.Syscall) {
	v.store.Add(batch)
	v.clamp()
}

// SetFocused marks the pane as the one keys go to.
func (v *Syscalls) SetFocused(f bool) { v.focused = f }

// Following says whether the pane tracks the newest call.
func (v *Syscalls) Following() bool { return v.follow }

// SetFollow turns following on (jumping to the newest call) or off
// (pinning the view where it is).
func (v *Syscalls) SetFollow(f bool) {
	n := v.store.Len()
	if f == v.follow || f || n == 0 {
		v.follow = f
		return
	}
	v.top = v.store.Abs(max(n-v.rowsShown(), 0))
	v.sel = v.store.Abs(n - 1)
	v.follow = false
}

// rowsShown is how many rows fit under the title and header.
func (v *Syscalls) rowsShown() int { return max(v.height-2, 1) }

// Selected is the selected row, if any.
func (v *Syscalls) Selected() (*calls.Row, bool) {
	n := v.store.Len()
	if n == 0 {
		return nil, false
	}
	return v.store.At(v.selPos(n)), true
}

func (v *Syscalls) selPos(n int) int {
	if v.follow {
		return n - 1
	}
	return min(v.store.Pos(v.sel), n-1)
}

// SelectSeq selects the row of the call whose entry (or, for a row with
// no entry, exit) has this seq; false when no row kept and shown has it.
// The selection stays on that call even when it is the newest row: the
// user asked for this call, not for whatever comes next.
func (v *Syscalls) SelectSeq(seq uint64) bool {
	n := v.store.Len()
	// Rows are in stream order: their seqs ascend.
	pos := sort.Search(n, func(i int) bool { return v.store.At(i).Call.Seq >= seq })
	if pos == n || v.store.At(pos).Call.Seq != seq {
		return false
	}
	v.moveTo(pos, n)
	v.follow = false
	return true
}

// Refilter applies a new filter, keeping the selection on the same call or
// the next one kept.
func (v *Syscalls) Refilter(f calls.Filter) {
	v.store.SetFilter(f)
	if !v.follow {
		v.clamp()
	}
}

// Init implements tea.Model.
func (v *Syscalls) Init() tea.Cmd { return nil }

// Update implements tea.Model: moving keys.
func (v *Syscalls) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	n := v.store.Len()
	if !ok || n == 0 {
		return v, nil
	}
	keys := v.c.Keys
	pos, page := v.selPos(n), v.rowsShown()
	switch {
	case key.Matches(k, keys.Up):
		v.moveTo(pos-1, n)
	case key.Matches(k, keys.Down):
		v.moveTo(pos+1, n)
	case key.Matches(k, keys.PageUp):
		v.moveTo(pos-page, n)
	case key.Matches(k, keys.PageDown):
		v.moveTo(pos+page, n)
	case key.Matches(k, keys.Top):
		v.moveTo(0, n)
	case key.Matches(k, keys.Bottom):
		v.moveTo(n-1, n)
	}
	return v, nil
}

// moveTo selects position pos; reaching the last row means following.
func (v *Syscalls) moveTo(pos, n int) {
	if v.follow {
		// Leaving follow mode: pin the view where it was drawn.
		v.top = v.store.Abs(max(n-v.rowsShown(), 0))
	}
	pos = max(0, min(pos, n-1))
	v.follow = pos == n-1
	v.sel = v.store.Abs(pos)
	v.clamp()
}

// clamp keeps the selection inside the kept rows and on screen.
func (v *Syscalls) clamp() {
	n := v.store.Len()
	if n == 0 || v.follow {
		return
	}
	pos := min(v.store.Pos(v.sel), n-1)
	v.sel = v.store.Abs(pos)
	top := min(v.store.Pos(v.top), n-1)
	switch {
	case pos < top:
		top = pos
	case pos >= top+v.rowsShown():
		top = pos - v.rowsShown() + 1
	}
	v.top = v.store.Abs(top)
}

// View implements tea.Model; it renders only the rows on screen.
func (v *Syscalls) View() string {
	st := v.c.Styles
	lines := make([]string, 0, v.height)
	lines = append(lines, title(st, v.focused, v.titleText(), v.width))
	lines = append(lines, st.Header.Render(rowHeader(v.width)))
	n := v.store.Len()
	shown := v.rowsShown()
	if n > 0 {
		sel := v.selPos(n)
		top := max(n-shown, 0)
		if !v.follow {
			top = v.store.Pos(v.top)
		}
		for pos := top; pos < min(top+shown, n); pos++ {
			r := v.store.At(pos)
			line := rowText(r, v.width)
			switch {
			case pos == sel:
				line = st.Selected.Render(line)
			case r.Failed():
				line = st.Failed.Render(line)
			case !r.Done:
				line = st.Unfinished.Render(line)
			default:
				line = st.Text.Render(line)
			}
			lines = append(lines, line)
		}
	}
	return pad(lines, v.height)
}

func (v *Syscalls) titleText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Syscalls %d", v.store.Len())
	if v.store.Len() != v.store.Kept() {
		fmt.Fprintf(&b, "/%d", v.store.Kept())
	}
	if v.follow {
		b.WriteString("  following")
	} else {
		b.WriteString("  scrolled")
		if k := KeyName(v.c.Keys.Follow); k != "" {
			fmt.Fprintf(&b, " (%s: follow)", k)
		}
	}
	return b.String()
}

// ShortHelp implements help.KeyMap.
func (v *Syscalls) ShortHelp() []key.Binding {
	k := v.c.Keys
	return []key.Binding{k.Break, k.Filter, k.Follow, k.Pause}
}

// FullHelp implements help.KeyMap.
func (v *Syscalls) FullHelp() [][]key.Binding {
	k := v.c.Keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Follow, k.Filter, k.Clear, k.Manual},
		{k.Break, k.BreakPID, k.BreakExit, k.Edit, k.Continue, k.Pause},
		{k.Inject, k.InjectPID},
	}
}

// title is a pane's first line.
func title(st *common.Styles, focused bool, text string, width int) string {
	if focused {
		return st.TitleFocused.Render(cut(text, width)) + strings.Repeat(" ", max(width-len(cut(text, width)), 0))
	}
	return st.Title.Render(fit(text, width))
}

// pad fills a pane to its height so panes line up.
func pad(lines []string, height int) string {
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines[:height], "\n")
}
