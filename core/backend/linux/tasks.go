package linux

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"nitro/core/backend"
	"nitro/core/vmi"
	"nitro/core/vmi/offsets"
)

// Bounds on walks over guest lists: a hostile or corrupt guest can link its
// task list into a loop or make it endless. maxWalk bounds one whole walk
// (the leaders, then every leader's threads), which the per-list bounds
// alone would let grow to maxTasks × maxThreads: a real system lists each
// task once as a thread and at most once more as a leader.
const (
	maxTasks   = 1 << 16
	maxThreads = 1 << 14
	maxWalk    = 1 << 17
)

// ErrTaskList means the guest's task list is corrupt: a loop, or longer
// than any real system's.
var ErrTaskList = errors.New("corrupt task list")

// tasks reads task_structs in kernel memory.
type tasks struct {
	o        *offsets.Offsets
	initTask uint64
	// The fields process reads lie in [lo, hi) of task_struct, read at once.
	lo, hi int
	// budget is the list entries one walk may visit: maxWalk.
	budget int
}

func newTasks(o *offsets.Offsets, initTask uint64) tasks {
	t := tasks{o: o, initTask: initTask, budget: maxWalk}
	ot := &o.Task
	commSize := max(ot.CommSize, 16)
	t.lo, t.hi = ot.Pid, ot.Pid+4
	for _, f := range [][2]int{{ot.Tgid, 4}, {ot.Comm, commSize}, {ot.RealParent, 8}, {ot.Cred, 8}} {
		if f[0] != offsets.Absent {
			t.lo, t.hi = min(t.lo, f[0]), max(t.hi, f[0]+f[1])
		}
	}
	return t
}

// size is how many bytes of a task read needs: the scratch of fields.
func (t *tasks) size() int { return t.hi - t.lo }

// taskFields are the fields of a task_struct a Process is made of.
type taskFields struct {
	tid, pid     int
	comm         []byte // in the caller's scratch
	parent, cred uint64
}

// fields reads the identity fields of a task into raw, of t.size() bytes.
func (t *tasks) fields(k vmi.Space, task uint64, raw []byte) (taskFields, error) {
	o := &t.o.Task
	if err := k.Read(raw, task+uint64(t.lo)); err != nil {
		return taskFields{}, fmt.Errorf("reading task %#x: %w", task, err)
	}
	field := func(off, n int) []byte { return raw[off-t.lo : off-t.lo+n] }
	f := taskFields{
		tid:    int(int32(binary.LittleEndian.Uint32(field(o.Pid, 4)))),
		pid:    int(int32(binary.LittleEndian.Uint32(field(o.Tgid, 4)))),
		comm:   field(o.Comm, max(o.CommSize, 16)),
		parent: binary.LittleEndian.Uint64(field(o.RealParent, 8)),
	}
	if i := bytes.IndexByte(f.comm, 0); i >= 0 {
		f.comm = f.comm[:i]
	}
	if o.Cred != offsets.Absent {
		f.cred = binary.LittleEndian.Uint64(field(o.Cred, 8))
	}
	return f, nil
}

// process makes the Process of a task from its fields, reading its
// parent's pid and its uid.
func (t *tasks) process(k vmi.Space, task uint64, f taskFields) backend.Process {
	p := backend.Process{Task: task, TID: f.tid, PID: f.pid, Comm: string(f.comm)}
	if ptgid, err := k.U32(f.parent + uint64(t.o.Task.Tgid)); err == nil {
		p.PPID = int(int32(ptgid))
	}
	if f.cred != 0 && t.o.Cred.UID != offsets.Absent {
		if uid, err := k.U32(f.cred + uint64(t.o.Cred.UID)); err == nil {
			p.UID = uid
		}
	}
	return p
}

// knownTask is a Process and the pointers it was made from.
type knownTask struct {
	parent, cred uint64
	p            backend.Process
}

// same says whether a task's fields are those the Process was made from.
// Its parent's pid and its uid then hold too: a task's parent changes its
// real_parent pointer, and Linux replaces a task's cred rather than
// changing it.
func (k *knownTask) same(f taskFields) bool {
	return k.p.TID == f.tid && k.p.PID == f.pid && k.parent == f.parent && k.cred == f.cred && k.p.Comm == string(f.comm)
}

// walk is one walk over the guest's task lists.
type walk struct {
	k    vmi.Space
	left int             // list entries the walk may still visit
	seen map[uint64]bool // tasks listed so far
}

// list walks a kernel list_head ring starting at head and returns the
// address of each entry's list_head, bounded by limit and by the walk's
// budget.
func (w *walk) list(head uint64, limit int) ([]uint64, error) {
	var nodes []uint64
	seen := map[uint64]bool{head: true}
	for node := head; ; {
		next, err := w.k.Pointer(node)
		if err != nil {
			return nodes, fmt.Errorf("following list at %#x: %w", node, err)
		}
		if next == head {
			return nodes, nil
		}
		if seen[next] || len(nodes) >= limit {
			return nodes, fmt.Errorf("%w: list at %#x loops or exceeds %d entries", ErrTaskList, head, limit)
		}
		if w.left == 0 {
			return nodes, fmt.Errorf("%w: the task lists hold more than %d entries in all", ErrTaskList, maxWalk)
		}
		w.left--
		seen[next] = true
		nodes = append(nodes, next)
		node = next
	}
}

// all returns every process and thread, walking the task list from
// init_task (which itself, pid 0, is left out) and each leader's threads.
func (t *tasks) all(k vmi.Space) ([]backend.Process, error) {
	o := &t.o.Task
	w := &walk{k: k, left: t.budget, seen: map[uint64]bool{}}
	leaders, err := w.list(t.initTask+uint64(o.Tasks), maxTasks)
	if err != nil {
		return nil, fmt.Errorf("reading task list: %w", err)
	}
	var procs []backend.Process
	raw := make([]byte, t.size())
	for _, node := range leaders {
		leader := node - uint64(o.Tasks)
		threads, err := t.threads(w, leader)
		if err != nil {
			return procs, fmt.Errorf("reading threads of task %#x: %w", leader, err)
		}
		for _, task := range threads {
			// Thread groups are disjoint: a task met twice means rings
			// shared between leaders, which would list them N² times.
			if w.seen[task] {
				return procs, fmt.Errorf("%w: task %#x is in two thread groups", ErrTaskList, task)
			}
			w.seen[task] = true
			f, err := t.fields(k, task, raw)
			if err != nil {
				return procs, err
			}
			procs = append(procs, t.process(k, task, f))
		}
	}
	slices.SortFunc(procs, func(a, b backend.Process) int { return a.TID - b.TID })
	return procs, nil
}

// threads returns the tasks of leader's thread group, leader first. Linux
// 6.6 moved the ring from task_struct.thread_group to signal->thread_head.
func (t *tasks) threads(w *walk, leader uint64) ([]uint64, error) {
	o := t.o
	var head, link int
	switch {
	case o.Task.ThreadNode != offsets.Absent && o.Task.Signal != offsets.Absent && o.Signal.ThreadHead != offsets.Absent:
		sig, err := w.k.Pointer(leader + uint64(o.Task.Signal))
		if err != nil {
			return nil, err
		}
		nodes, err := w.list(sig+uint64(o.Signal.ThreadHead), maxThreads)
		return shift(nodes, o.Task.ThreadNode), err
	case o.Task.ThreadGroup != offsets.Absent:
		head, link = o.Task.ThreadGroup, o.Task.ThreadGroup
	default:
		return []uint64{leader}, nil
	}
	nodes, err := w.list(leader+uint64(head), maxThreads)
	return append([]uint64{leader}, shift(nodes, link)...), err
}

// shift turns list_head addresses into the addresses of their containers.
func shift(nodes []uint64, off int) []uint64 {
	for i := range nodes {
		nodes[i] -= uint64(off)
	}
	return nodes
}

// le64 decodes pt_regs-style arrays of little-endian words.
func le64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
