package views

import (
	"fmt"
	"slices"
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
//
// A guest may run thousands of processes, of which a snapshot changes a few:
// the tree is kept between snapshots, Set changes only the processes that
// changed, and lays the rows out again only when one did.
type Processes struct {
	c       *common.Common
	store   *calls.Store
	width   int
	height  int
	focused bool
	rows    []procRow
	list
	chosen int // the PID filtering the syscall pane, 0 for none

	nodes    map[int]*procNode
	kids     map[int][]int // children by parent PID, ascending; the parent may be unknown
	pids     []int         // every node's PID, ascending
	last     []api.Process // the snapshot the tree holds
	lastSeen uint64        // the store's ProcsGen the tree holds
	gen      uint64        // stamps the nodes of the latest Set, then those laid out
}

type procRow struct {
	depth  int
	proc   calls.Proc
	hidden bool
}

type procNode struct {
	proc        calls.Proc
	hidden      bool   // the back end found it hidden (api.Process.Hidden)
	set, placed uint64 // the gen of the latest Set that had it, and of its layout
}

// NewProcesses is an empty tree counting calls in store.
func NewProcesses(c *common.Common, store *calls.Store) *Processes {
	return &Processes{c: c, store: store, nodes: make(map[int]*procNode), kids: make(map[int][]int)}
}

// SetSize implements common.Component.
func (v *Processes) SetSize(width, height int) { v.width, v.height = width, height; v.scroll() }

// SetFocused marks the pane as the one keys go to.
func (v *Processes) SetFocused(f bool) { v.focused = f }

// Set updates the tree to a snapshot (which it keeps: the caller must not
// change it) and the processes the stream showed, keeping the cursor on the
// same process.
func (v *Processes) Set(snapshot []api.Process) {
	if v.last != nil && slices.Equal(snapshot, v.last) && v.store.ProcsGen() == v.lastSeen {
		return
	}
	v.last, v.lastSeen = snapshot, v.store.ProcsGen()
	v.gen++
	changed := false
	for _, p := range snapshot {
		changed = v.put(calls.Proc{PID: p.PID, PPID: p.PPID, Comm: p.Comm}, p.Hidden != nil) || changed
	}
	for _, p := range v.store.Procs() {
		if n, ok := v.nodes[p.PID]; !ok || n.set != v.gen { // the snapshot's word comes first
			changed = v.put(calls.Proc{PID: p.PID, PPID: p.PPID, Comm: p.Comm}, false) || changed
		}
	}
	v.pids = slices.DeleteFunc(v.pids, func(pid int) bool {
		n := v.nodes[pid]
		if n.set == v.gen {
			return false
		}
		v.unlink(n.proc.PPID, pid)
		delete(v.nodes, pid)
		changed = true
		return true
	})
	if !changed {
		return
	}
	var at int
	if v.cursor < len(v.rows) {
		at = v.rows[v.cursor].proc.PID
	}
	v.layout()
	v.cursor = 0
	for i, r := range v.rows {
		if r.proc.PID == at {
			v.cursor = i
		}
	}
	v.scroll()
}

// put records p in the tree and says whether it changed what a row shows.
func (v *Processes) put(p calls.Proc, hidden bool) bool {
	n, ok := v.nodes[p.PID]
	if !ok {
		n = &procNode{proc: p}
		v.nodes[p.PID] = n
		v.pids = insertSorted(v.pids, p.PID)
		v.kids[p.PPID] = insertSorted(v.kids[p.PPID], p.PID)
	}
	n.set = v.gen
	marked := ok && n.hidden != hidden
	n.hidden = hidden
	if !ok || n.proc.PPID != p.PPID || n.proc.Comm != p.Comm {
		if ok && n.proc.PPID != p.PPID {
			v.unlink(n.proc.PPID, p.PID)
			v.kids[p.PPID] = insertSorted(v.kids[p.PPID], p.PID)
		}
		n.proc = p
		return true
	}
	return marked
}

// unlink removes pid from its parent's children.
func (v *Processes) unlink(ppid, pid int) {
	kids := v.kids[ppid]
	if i, ok := slices.BinarySearch(kids, pid); ok {
		kids = slices.Delete(kids, i, i+1)
	}
	if len(kids) == 0 {
		delete(v.kids, ppid)
	} else {
		v.kids[ppid] = kids
	}
}

func insertSorted(s []int, x int) []int {
	i, ok := slices.BinarySearch(s, x)
	if ok {
		return s
	}
	return slices.Insert(s, i, x)
}

// layout orders the rows depth first under their parents. The guest writes
// the parent links, so a cycle or a missing parent must not lose a process
// or loop: anything not reached from a root becomes a root itself.
func (v *Processes) layout() {
	v.gen++
	v.rows = v.rows[:0]
	type item struct{ pid, depth int }
	var stack []item
	walk := func(root int) {
		stack = append(stack[:0], item{root, 0})
		for len(stack) > 0 {
			it := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n := v.nodes[it.pid]
			if n.placed == v.gen {
				continue
			}
			n.placed = v.gen
			v.rows = append(v.rows, procRow{depth: it.depth, proc: n.proc, hidden: n.hidden})
			kids := v.kids[it.pid]
			for i := len(kids) - 1; i >= 0; i-- {
				stack = append(stack, item{kids[i], it.depth + 1})
			}
		}
	}
	for _, pid := range v.pids {
		ppid := v.nodes[pid].proc.PPID
		if _, ok := v.nodes[ppid]; !ok || ppid == pid {
			walk(pid)
		}
	}
	for _, pid := range v.pids { // cycles: no root reaches them
		if v.nodes[pid].placed != v.gen {
			walk(pid)
		}
	}
}

func (v *Processes) rowsShown() int { return max(v.height-2, 1) }

func (v *Processes) scroll() { v.list.scroll(len(v.rows), v.rowsShown()) }

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
	case v.move(keys, k, len(v.rows), v.rowsShown()):
		return v, nil
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
		hidden := ""
		if r.hidden {
			hidden = "  HIDDEN" // some views of the guest's tasks lack it: a rootkit's doing
		}
		line := fit(fmt.Sprintf("%6d %8d %s%s%s%s", r.proc.PID, v.store.Calls(r.proc.PID), strings.Repeat(" ", min(r.depth, maxDepth)),
			mark, escape.String(r.proc.Comm), hidden), v.width)
		switch {
		case i == v.cursor && v.focused:
			line = st.Selected.Render(line)
		case r.hidden:
			line = st.Error.Render(line)
		default:
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
