package views

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/internal/escape"
	"nitro/ui/calls"
	"nitro/ui/common"
)

// maxDepth caps the tree's indentation: a guest can chain processes deeper
// than any screen is wide.
const maxDepth = 8

// ProcessFilterMsg asks the syscall pane to show one process (PID 0: all).
type ProcessFilterMsg struct{ PID int }

// Processes is the process tree pane: the session's snapshot merged with the
// processes the stream showed, each with its call count (read live from the
// store: only the rows on screen look it up).
type Processes struct {
	c       *common.Common
	store   *calls.Store
	width   int
	height  int
	focused bool
	rows    []procRow
	cursor  int
	top     int
	chosen  int // the PID filtering the syscall pane, 0 for none
}

type procRow struct {
	depth int
	proc  calls.Proc
}

// NewProcesses is an empty tree counting calls in store.
func NewProcesses(c *common.Common, store *calls.Store) *Processes {
	return &Processes{c: c, store: store}
}

// SetSize implements common.Component.
func (v *Processes) SetSize(width, height int) { v.width, v.height = width, height; v.scroll() }

// SetFocused marks the pane as the one keys go to.
func (v *Processes) SetFocused(f bool) { v.focused = f }

// Set rebuilds the tree from a snapshot and the processes the stream showed,
// keeping the cursor on the same process.
func (v *Processes) Set(snapshot []api.Process) {
	var at int
	if v.cursor < len(v.rows) {
		at = v.rows[v.cursor].proc.PID
	}
	v.rows = tree(snapshot, v.store.Procs())
	v.cursor = 0
	for i, r := range v.rows {
		if r.proc.PID == at {
			v.cursor = i
		}
	}
	v.scroll()
}

// tree orders processes depth first under their parents. The guest writes
// the parent links, so a cycle or a missing parent must not lose a process
// or loop: anything not reached from a root becomes a root itself.
func tree(snapshot []api.Process, seen []calls.Proc) []procRow {
	byPID := make(map[int]calls.Proc, len(snapshot)+len(seen))
	for _, p := range snapshot {
		byPID[p.PID] = calls.Proc{PID: p.PID, PPID: p.PPID, Comm: p.Comm}
	}
	for _, p := range seen {
		if _, ok := byPID[p.PID]; !ok {
			byPID[p.PID] = p
		}
	}
	pids := make([]int, 0, len(byPID))
	for pid := range byPID {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	children := make(map[int][]int)
	var roots []int
	for _, pid := range pids {
		p := byPID[pid]
		if _, ok := byPID[p.PPID]; ok && p.PPID != pid {
			children[p.PPID] = append(children[p.PPID], pid)
		} else {
			roots = append(roots, pid)
		}
	}
	out := make([]procRow, 0, len(pids))
	visited := make(map[int]bool, len(pids))
	walk := func(root int) {
		type item struct{ pid, depth int }
		stack := []item{{root, 0}}
		for len(stack) > 0 {
			it := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if visited[it.pid] {
				continue
			}
			visited[it.pid] = true
			out = append(out, procRow{depth: it.depth, proc: byPID[it.pid]})
			kids := children[it.pid]
			for i := len(kids) - 1; i >= 0; i-- {
				stack = append(stack, item{kids[i], it.depth + 1})
			}
		}
	}
	for _, r := range roots {
		walk(r)
	}
	for _, pid := range pids { // cycles: no root reaches them
		if !visited[pid] {
			walk(pid)
		}
	}
	return out
}

func (v *Processes) rowsShown() int { return max(v.height-2, 1) }

func (v *Processes) scroll() {
	shown := v.rowsShown()
	v.cursor = max(0, min(v.cursor, len(v.rows)-1))
	switch {
	case v.cursor < v.top:
		v.top = v.cursor
	case v.cursor >= v.top+shown:
		v.top = v.cursor - shown + 1
	}
	v.top = max(0, min(v.top, len(v.rows)-shown))
}

// Init implements tea.Model.
func (v *Processes) Init() tea.Cmd { return nil }

// Update implements tea.Model: moving, and select to filter by a process.
func (v *Processes) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok || len(v.rows) == 0 {
		return v, nil
	}
	keys := v.c.Keys
	switch {
	case key.Matches(k, keys.Up):
		v.cursor--
	case key.Matches(k, keys.Down):
		v.cursor++
	case key.Matches(k, keys.PageUp):
		v.cursor -= v.rowsShown()
	case key.Matches(k, keys.PageDown):
		v.cursor += v.rowsShown()
	case key.Matches(k, keys.Top):
		v.cursor = 0
	case key.Matches(k, keys.Bottom):
		v.cursor = len(v.rows) - 1
	case key.Matches(k, keys.Select):
		pid := v.rows[v.cursor].proc.PID
		if v.chosen == pid {
			pid = 0 // selecting the chosen process again shows all
		}
		v.chosen = pid
		return v, func() tea.Msg { return ProcessFilterMsg{PID: pid} }
	}
	v.scroll()
	return v, nil
}

// Unchoose forgets the chosen process (the filter was cleared).
func (v *Processes) Unchoose() { v.chosen = 0 }

// View implements tea.Model.
func (v *Processes) View() string {
	st := v.c.Styles
	text := fmt.Sprintf("Processes %d", len(v.rows))
	if v.chosen != 0 {
		text += fmt.Sprintf("  showing pid %d", v.chosen)
	}
	lines := []string{title(st, v.focused, text, v.width), st.Header.Render(fit(fmt.Sprintf("%6s %8s %s", "PID", "CALLS", "COMM"), v.width))}
	for i := v.top; i < min(v.top+v.rowsShown(), len(v.rows)); i++ {
		r := v.rows[i]
		mark := "  "
		if r.proc.PID == v.chosen {
			mark = "* "
		}
		line := fit(fmt.Sprintf("%6d %8d %s%s%s", r.proc.PID, v.store.Calls(r.proc.PID), strings.Repeat(" ", min(r.depth, maxDepth)),
			mark, escape.String(r.proc.Comm)), v.width)
		if i == v.cursor && v.focused {
			line = st.Selected.Render(line)
		} else {
			line = st.Text.Render(line)
		}
		lines = append(lines, line)
	}
	return pad(lines, v.height)
}

// ShortHelp implements help.KeyMap.
func (v *Processes) ShortHelp() []key.Binding {
	k := v.c.Keys
	return []key.Binding{k.Select, k.Filter, k.Pause}
}

// FullHelp implements help.KeyMap.
func (v *Processes) FullHelp() [][]key.Binding {
	k := v.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Select, k.Filter, k.Clear}}
}
