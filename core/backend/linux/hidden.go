package linux

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/vmi"
	"nitro/core/vmi/linuxmm"
	"nitro/core/vmi/offsets"
)

// A rootkit hides a process by unlinking it from the one view of the
// tasks that ps and /proc's listing go by, the task list; the kernel keeps
// it in the others, or it could not run: the pid table (init_pid_ns's idr,
// where kill and /proc/PID look pids up), the run queues, and the system
// calls it makes. Processes compares them, and a task some views hold and
// others lack is marked Hidden, unless it only came or went between two
// reads: every difference is read again before it is reported.

const (
	// maxCPUs bounds nr_cpu_ids, as the kernel's NR_CPUS does.
	maxCPUs = 8192
	// maxSeen bounds the tasks remembered from system calls.
	maxSeen = 1 << 14
	// pfExiting is PF_EXITING: a task on its way out leaves the views one
	// at a time, and is never reported.
	pfExiting = 0x4
)

// ErrView means a view of the guest's tasks other than the task list
// could not be read, twice.
var ErrView = errors.New("cannot read a view of the guest's tasks")

// crossView is what the views besides the task list are read with, and
// the tasks seen making system calls. Handle feeds it while Processes
// reads it, from another goroutine: mu guards what both touch.
type crossView struct {
	o          *offsets.Offsets
	pidNS      uint64 // init_pid_ns; 0 when the pid table is not readable
	runqueues  uint64 // the per-cpu runqueues; 0 when not readable
	cpuOffsets uint64 // __per_cpu_offset
	nrCPUs     uint64 // nr_cpu_ids

	mu    sync.Mutex
	clock uint64 // events seen
	seen  map[uint64]seenTask
	// suspects are the tasks (by task_struct, with their tid: a freed
	// task_struct is soon another task's) only system calls showed at the
	// last listing, which read its views while the clock went from..to.
	suspects map[uint64]int
	from, to uint64
}

// seenTask is a task seen making system calls: its id, and the clock at
// its first and last call.
type seenTask struct {
	tid         int
	first, last uint64
}

func newCrossView(o *offsets.Offsets, lookup func(string) (uint64, bool)) *crossView {
	c := &crossView{o: o, seen: map[uint64]seenTask{}, suspects: map[uint64]int{}}
	t := &o.Task
	if ns, ok := lookup("init_pid_ns"); ok && t.PidLinks != offsets.Absent && o.PidNS.IDR != offsets.Absent &&
		o.IDR.RT != offsets.Absent && o.Pid.Tasks != offsets.Absent {
		c.pidNS = ns
	}
	rq, ok1 := lookup("runqueues")
	cpus, ok2 := lookup("__per_cpu_offset")
	n, ok3 := lookup("nr_cpu_ids")
	if ok1 && ok2 && ok3 && o.RQ.Curr != offsets.Absent {
		c.runqueues, c.cpuOffsets, c.nrCPUs = rq, cpus, n
	}
	return c
}

// saw records that task (thread tid) made a system call.
func (c *crossView) saw(task uint64, tid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock++
	s, ok := c.seen[task]
	if !ok || s.tid != tid {
		if !ok && len(c.seen) >= maxSeen {
			clear(c.seen)
		}
		s = seenTask{tid: tid, first: c.clock}
	}
	s.last = c.clock
	c.seen[task] = s
}

func (c *crossView) now() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clock
}

// taskViews is one read of every view. A nil map is a view the kernel's
// layout or symbols do not let nitro read.
type taskViews struct {
	procs   []backend.Process // the task list's tasks, threads included
	listed  map[uint64]bool   // their task_structs
	pids    map[uint64]int    // the pid table's tasks, with their pids
	running map[uint64]bool   // the CPUs' current tasks, idle ones left out
}

// read reads every view, the task list first.
func (c *crossView) read(t *tasks, k vmi.Space) (*taskViews, error) {
	procs, err := t.all(k)
	if err != nil {
		return nil, err
	}
	v := &taskViews{procs: procs, listed: make(map[uint64]bool, len(procs))}
	for _, p := range procs {
		v.listed[p.Task] = true
	}
	if v.pids, err = c.pidTable(k); err != nil {
		return nil, fmt.Errorf("%w: the pid table: %w", ErrView, err)
	}
	if v.running, err = c.runQueues(k); err != nil {
		return nil, fmt.Errorf("%w: the run queues: %w", ErrView, err)
	}
	return v, nil
}

// pidTable returns the tasks init_pid_ns's idr holds: each pid's struct
// pid, and on it the task whose pid it is (tasks[PIDTYPE_PID]).
func (c *crossView) pidTable(k vmi.Space) (map[uint64]int, error) {
	if c.pidNS == 0 {
		return nil, nil
	}
	o := c.o
	pids := map[uint64]int{}
	var rerr error
	err := linuxmm.Entries(k, o, c.pidNS+uint64(o.PidNS.IDR+o.IDR.RT), func(nr, pid uint64) bool {
		first, err := k.Pointer(pid + uint64(o.Pid.Tasks))
		if err != nil {
			rerr = fmt.Errorf("reading struct pid %#x of pid %d: %w", pid, nr, err)
			return false
		}
		if first == 0 {
			return true // a pid that outlives its task (a pidfd, a process group's)
		}
		task := first - uint64(o.Task.PidLinks)
		tid, err := k.U32(task + uint64(o.Task.Pid))
		if err != nil {
			rerr = fmt.Errorf("reading task %#x of pid %d: %w", task, nr, err)
			return false
		}
		if uint64(tid) != nr {
			return true // the pid changes hands as it is read
		}
		if len(pids) >= maxWalk {
			rerr = fmt.Errorf("%w: the pid table holds more than %d tasks", ErrTaskList, maxWalk)
			return false
		}
		pids[task] = int(tid)
		return true
	})
	return pids, errors.Join(err, rerr)
}

// runQueues returns each CPU's current task (rq->curr), idle tasks left
// out.
func (c *crossView) runQueues(k vmi.Space) (map[uint64]bool, error) {
	if c.runqueues == 0 {
		return nil, nil
	}
	n, err := k.U32(c.nrCPUs)
	if err != nil {
		return nil, fmt.Errorf("reading nr_cpu_ids: %w", err)
	}
	if n == 0 || n > maxCPUs {
		return nil, fmt.Errorf("%w: nr_cpu_ids is %d", ErrTaskList, n)
	}
	running := map[uint64]bool{}
	for cpu := range uint64(n) {
		off, err := k.U64(c.cpuOffsets + 8*cpu)
		if err != nil {
			return nil, fmt.Errorf("reading __per_cpu_offset[%d]: %w", cpu, err)
		}
		curr, err := k.Pointer(c.runqueues + off + uint64(c.o.RQ.Curr))
		if err != nil {
			return nil, fmt.Errorf("reading CPU %d's run queue: %w", cpu, err)
		}
		if curr == 0 {
			continue
		}
		tid, err := k.U32(curr + uint64(c.o.Task.Pid))
		if err != nil {
			return nil, fmt.Errorf("reading CPU %d's current task %#x: %w", cpu, curr, err)
		}
		if tid != 0 { // the idle task, which no list holds
			running[curr] = true
		}
	}
	return running, nil
}

// hiding says which views hold task and which lack it; nil when they
// agree. A view v does not know (a nil map) takes no side.
func (v *taskViews) hiding(task uint64) *api.Hiding {
	h := &api.Hiding{}
	side := func(known, in bool, name string) {
		switch {
		case !known:
		case in:
			h.In = append(h.In, name)
		default:
			h.Missing = append(h.Missing, name)
		}
	}
	_, inPids := v.pids[task]
	side(true, v.listed[task], api.ViewTaskList)
	side(v.pids != nil, inPids, api.ViewPidTable)
	if v.running[task] { // not running is no evidence: most tasks wait
		h.In = append(h.In, api.ViewRunQueue)
	}
	if len(h.In) == 0 || len(h.Missing) == 0 {
		return nil
	}
	return h
}

// differences are the tasks some views hold and others lack.
func (v *taskViews) differences() map[uint64]*api.Hiding {
	diff := map[uint64]*api.Hiding{}
	for _, set := range []map[uint64]bool{v.listed, v.running} {
		for task := range set {
			if h := v.hiding(task); h != nil {
				diff[task] = h
			}
		}
	}
	for task := range v.pids {
		if h := v.hiding(task); h != nil {
			diff[task] = h
		}
	}
	return diff
}

// confirmed says whether a second read still shows the difference h: the
// views h misses the task from still lack it, and those that held it
// (but the run queue, which a waiting task leaves) still hold it.
func (v *taskViews) confirmed(task uint64, h *api.Hiding) bool {
	again := v.hiding(task)
	if again == nil {
		// Seen running only, and no longer running: held if it is still
		// in no other view.
		_, inPids := v.pids[task]
		return slices.Equal(h.In, []string{api.ViewRunQueue}) && !v.listed[task] && !inPids
	}
	for _, name := range h.Missing {
		if slices.Contains(again.In, name) {
			return false
		}
	}
	for _, name := range h.In {
		if name != api.ViewRunQueue && !slices.Contains(again.In, name) {
			return false
		}
	}
	return true
}

// exiting says whether task is on its way out (PF_EXITING), or cannot be
// read: either way not a task to report.
func (c *crossView) exiting(k vmi.Space, task uint64) bool {
	if c.o.Task.Flags == offsets.Absent {
		return false
	}
	flags, err := k.U32(task + uint64(c.o.Task.Flags))
	return err != nil || flags&pfExiting != 0
}

// list reads the views, again where they differ, and returns the task
// list's processes with every task that some views hold and others lack,
// marked Hidden: the ones missing from the task list are added.
func (c *crossView) list(t *tasks, k vmi.Space, invalidate func()) ([]backend.Process, error) {
	from := c.now()
	first, err := c.read(t, k)
	if errors.Is(err, ErrView) {
		invalidate() // a view may have changed under the read: once more
		first, err = c.read(t, k)
	}
	if err != nil {
		return nil, err
	}
	hidden := first.differences()
	if len(hidden) > 0 {
		invalidate()
		second, err := c.read(t, k)
		if err != nil {
			return nil, err
		}
		for task, h := range hidden {
			if !second.confirmed(task, h) || c.exiting(k, task) {
				delete(hidden, task)
			}
		}
	}
	c.fromCalls(k, first, hidden, from, c.now())
	procs := first.procs
	for i := range procs {
		procs[i].Hidden = hidden[procs[i].Task]
		delete(hidden, procs[i].Task)
	}
	raw := make([]byte, t.size())
	for task, h := range hidden {
		f, err := t.fields(k, task, raw)
		if err != nil {
			continue // gone since: nothing to show of it
		}
		p := t.process(k, task, f)
		p.Hidden = h
		procs = append(procs, p)
	}
	slices.SortFunc(procs, func(a, b backend.Process) int { return a.TID - b.TID })
	return procs, nil
}

// fromCalls adds to hidden the tasks only system calls show: each seen
// making one before the last listing and after it, which lacked it from
// every view, as this one does. Alive all through a read that did not
// find it, such a task hides; one that merely exited makes no call after.
// It also marks the hidden tasks seen making calls, and forgets the tasks
// no view holds that made none since the last listing.
func (c *crossView) fromCalls(k vmi.Space, v *taskViews, hidden map[uint64]*api.Hiding, from, to uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	suspects := map[uint64]int{}
	for task, s := range c.seen {
		if _, inPids := v.pids[task]; v.listed[task] || inPids || v.running[task] {
			if h := hidden[task]; h != nil {
				h.In = append(h.In, api.ViewSyscalls)
			}
			continue
		}
		// The same task as at the last listing: the tid it had then, seen
		// since before that listing (a task_struct freed and taken by a
		// new task is seen again from scratch).
		was := c.suspects[task] == s.tid && s.first <= c.from
		switch {
		case was && s.last > c.to:
			if c.still(k, task, s.tid) {
				missing := []string{api.ViewTaskList}
				if v.pids != nil {
					missing = append(missing, api.ViewPidTable)
				}
				hidden[task] = &api.Hiding{In: []string{api.ViewSyscalls}, Missing: missing}
			}
			suspects[task] = s.tid
		case was:
			delete(c.seen, task) // no call since the last listing: gone
		case s.first <= from:
			suspects[task] = s.tid // seen before this read, which lacked it
		}
	}
	c.suspects, c.from, c.to = suspects, from, to
}

// still says whether task is still thread tid, and not on its way out.
func (c *crossView) still(k vmi.Space, task uint64, tid int) bool {
	now, err := k.U32(task + uint64(c.o.Task.Pid))
	return err == nil && int(now) == tid && !c.exiting(k, task)
}
