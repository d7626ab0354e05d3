package linux

import (
	"errors"
	"fmt"
	"testing"

	"nitro/core/backend"
)

// Where the views live in the hand-built kernels: the pid namespace with
// its idr, a one-level xarray (pids below 64), the struct pids, and two
// CPUs' run queues.
const (
	pidNSAt    = kva + 0x34000
	xaNodeAt   = kva + 0x35000
	structPids = kva + 0x38000
	rqAt       = kva + 0x37000 // CPU n's at rqAt + n*0x100
	cpuOffAt   = kva + 0x37800
	nrCPUsAt   = kva + 0x37900
)

// viewsKernel is newKernel's with the layout of the other views, and
// init (pid 1), cat (42) and its thread (43) in every view, as a kernel
// keeps them.
func viewsKernel(t *testing.T) (*kernel, *crossView) {
	k := newKernel(t)
	o := k.t.o
	o.Task.PidLinks, o.Task.Flags = 0x60, 0x70
	o.PidNS.IDR, o.IDR.RT, o.Pid.Tasks, o.RQ.Curr = 0x10, 0, 0x8, 0x10
	o.XArray.Head, o.XaNode.Shift, o.XaNode.Slots = 8, 0, 0x28
	syms := map[string]uint64{"init_pid_ns": pidNSAt, "runqueues": rqAt, "__per_cpu_offset": cpuOffAt, "nr_cpu_ids": nrCPUsAt}
	c := newCrossView(o, func(name string) (uint64, bool) { a, ok := syms[name]; return a, ok })
	k.put64(pidNSAt+0x10+8, xaNodeAt|2)
	k.put32(nrCPUsAt, 2)
	k.put64(cpuOffAt+8, 0x100)
	k.addTask(0, 0, 0, 0, "swapper/0", 0)
	k.addTask(1, 1, 1, 0, "init", 0)
	k.addTask(2, 42, 42, 1, "cat", 0)
	k.addTask(3, 43, 42, 1, "cat", 0)
	k.link(0, 1, 2)
	k.threads(1, 1)
	k.threads(2, 2, 3)
	for _, i := range []int{1, 2, 3} {
		k.pid(i)
	}
	k.running(0, 0)
	k.running(1, 2)
	return k, c
}

// link makes the leaders' task list: init_task's tasks, then these.
func (k *kernel) link(leaders ...int) {
	var nodes []uint64
	for _, i := range leaders {
		nodes = append(nodes, task(i)+uint64(k.t.o.Task.Tasks))
	}
	k.ring(nodes...)
}

// pid puts task i in the pid table under its pid.
func (k *kernel) pid(i int) {
	o := k.t.o
	nr := uint64(k.u32(task(i) + uint64(o.Task.Pid)))
	pid := structPids + nr*0x40
	k.put64(pid+uint64(o.Pid.Tasks), task(i)+uint64(o.Task.PidLinks))
	k.put64(xaNodeAt+uint64(o.XaNode.Slots)+8*nr, pid)
}

// unpid takes pid nr out of the pid table.
func (k *kernel) unpid(nr int) { k.put64(xaNodeAt+uint64(k.t.o.XaNode.Slots)+8*uint64(nr), 0) }

// running makes task i CPU cpu's current task.
func (k *kernel) running(cpu, i int) { k.put64(rqAt+uint64(cpu)*0x100+0x10, task(i)) }

func (k *kernel) u32(va uint64) uint32 {
	v, err := k.space.U32(va)
	if err != nil {
		panic(err)
	}
	return v
}

// hiddenOf lists the tasks and says, by tid, how each hidden one is.
func hiddenOf(t *testing.T, k *kernel, c *crossView, invalidate func()) (map[int]string, []backend.Process) {
	t.Helper()
	procs, err := c.list(&k.t, k.space, invalidate)
	if err != nil {
		t.Fatal(err)
	}
	hidden := map[int]string{}
	for _, p := range procs {
		if p.Hidden != nil {
			hidden[p.TID] = p.Hidden.String()
		}
	}
	return hidden, procs
}

func TestViewsAgree(t *testing.T) {
	k, c := viewsKernel(t)
	hidden, procs := hiddenOf(t, k, c, func() {})
	if len(hidden) != 0 || len(procs) != 3 {
		t.Errorf("hidden %v in %+v; want none of 3 tasks", hidden, procs)
	}
}

// TestHiddenFromTaskList: a process a rootkit unlinked from the task list
// is listed, marked, from the pid table; its thread too (it left with its
// leader's ring); a task running on a CPU that no list holds is marked
// too, unless it is exiting.
func TestHiddenFromTaskList(t *testing.T) {
	k, c := viewsKernel(t)
	k.addTask(4, 17, 17, 1, "nitro-hidden", 0)
	k.addTask(5, 18, 17, 1, "nitro-hidden", 0)
	k.threads(4, 4, 5)
	k.pid(4)
	k.pid(5)
	k.addTask(6, 30, 30, 1, "ghost", 0)
	k.running(1, 6)
	hidden, procs := hiddenOf(t, k, c, func() {})
	want := map[int]string{
		17: "in the pid table, not in the task list",
		18: "in the pid table, not in the task list",
		30: "in the run queue, not in the task list and pid table",
	}
	if fmt.Sprint(hidden) != fmt.Sprint(want) {
		t.Errorf("hidden %v, want %v", hidden, want)
	}
	if len(procs) != 6 || procs[1].TID != 17 || procs[1].Comm != "nitro-hidden" || procs[1].PPID != 1 {
		t.Errorf("listed %+v; want the hidden ones among the rest, read whole", procs)
	}

	k.put32(task(6)+uint64(k.t.o.Task.Flags), pfExiting)
	if hidden, _ := hiddenOf(t, k, c, func() {}); hidden[30] != "" {
		t.Errorf("an exiting task is reported hidden: %v", hidden)
	}
}

// TestHiddenFromPidTable: a task the pid table lacks but the list holds.
func TestHiddenFromPidTable(t *testing.T) {
	k, c := viewsKernel(t)
	k.unpid(43)
	hidden, _ := hiddenOf(t, k, c, func() {})
	if want := "map[43:in the task list, not in the pid table]"; fmt.Sprint(hidden) != want {
		t.Errorf("hidden %v, want %s", hidden, want)
	}
}

// TestComingAndGoingNotHidden: a task that exits between the views (the
// list had it, the pid table no more) or starts between them (the pid
// table has it, the list not yet) is gone from, or in, every view when
// they are read again: not hidden.
func TestComingAndGoingNotHidden(t *testing.T) {
	k, c := viewsKernel(t)
	k.unpid(43) // 43 exits: out of the pid table first...
	k.addTask(4, 50, 50, 1, "newborn", 0)
	k.threads(4, 4)
	k.pid(4) // ...and 50 starts: in the pid table first
	reads := 0
	hidden, procs := hiddenOf(t, k, c, func() {
		reads++
		k.threads(2, 2) // 43 leaves its thread group
		k.link(0, 1, 2, 4)
	})
	if len(hidden) != 0 || reads != 1 {
		t.Errorf("hidden %v after %d reads again; want none after 1", hidden, reads)
	}
	if len(procs) != 3 || procs[2].TID != 43 {
		t.Errorf("listed %+v; want the first read's", procs)
	}
}

// TestCallsOnlyHidden: a task no view holds but that makes system calls
// is hidden once it made calls before one listing and after it; one that
// stops making calls (it exited) is not, and is forgotten, and neither is
// one whose task_struct a new task took.
func TestCallsOnlyHidden(t *testing.T) {
	k, c := viewsKernel(t)
	k.addTask(4, 26, 26, 1, "quiet", 0)
	k.addTask(5, 27, 27, 1, "gone", 0)
	c.saw(task(4), 26)
	c.saw(task(5), 27)
	c.saw(task(2), 42)
	if hidden, _ := hiddenOf(t, k, c, func() {}); len(hidden) != 0 {
		t.Errorf("first listing: hidden %v; want none yet", hidden)
	}
	c.saw(task(4), 26) // 26 goes on; 27 made its last call
	hidden, _ := hiddenOf(t, k, c, func() {})
	if want := "map[26:in the syscalls, not in the task list and pid table]"; fmt.Sprint(hidden) != want {
		t.Errorf("hidden %v, want %s", hidden, want)
	}
	if _, ok := c.seen[task(5)]; ok {
		t.Error("a task that made no call since the last listing is still remembered")
	}

	// A task_struct freed and taken by a new task: the new one's calls
	// after the listing do not make the old one hidden, nor the new one,
	// seen only since.
	k.addTask(7, 28, 28, 1, "old", 0)
	c.saw(task(7), 28)
	if hidden, _ := hiddenOf(t, k, c, func() {}); hidden[28] != "" {
		t.Errorf("hidden %v", hidden)
	}
	k.addTask(7, 29, 29, 1, "new", 0)
	c.saw(task(7), 29)
	if hidden, _ := hiddenOf(t, k, c, func() {}); hidden[28] != "" || hidden[29] != "" {
		t.Errorf("a reused task_struct: hidden %v", hidden)
	}

	// A task hidden from the list but in the pid table: the calls it
	// makes are named too.
	k.addTask(6, 17, 17, 1, "nitro-hidden", 0)
	k.pid(6)
	c.saw(task(6), 17)
	hidden, _ = hiddenOf(t, k, c, func() {})
	if hidden[17] != "in the pid table and syscalls, not in the task list" {
		t.Errorf("hidden %v", hidden)
	}
}

// TestViewsCorrupt: a task list that loops and a pid table whose node is
// wild end the listing with an error saying which, rather than a guess.
func TestViewsCorrupt(t *testing.T) {
	k, c := viewsKernel(t)
	k.put64(task(2)+uint64(k.t.o.Task.Tasks), task(1)+uint64(k.t.o.Task.Tasks)) // 1 -> 2 -> 1 ...
	if _, err := c.list(&k.t, k.space, func() {}); !errors.Is(err, ErrTaskList) {
		t.Errorf("a looping task list: %v, want ErrTaskList", err)
	}

	k, c = viewsKernel(t)
	k.put64(pidNSAt+0x10+8, 0xffff888017700002)
	if _, err := c.list(&k.t, k.space, func() {}); !errors.Is(err, ErrView) {
		t.Errorf("a wild pid table: %v, want ErrView", err)
	}
	k, c = viewsKernel(t)
	k.put32(nrCPUsAt, 1<<20)
	if _, err := c.list(&k.t, k.space, func() {}); !errors.Is(err, ErrView) {
		t.Errorf("a million CPUs: %v, want ErrView", err)
	}
}

// TestViewsUnknown: a kernel whose layout lacks the other views lists its
// task list, marking nothing.
func TestViewsUnknown(t *testing.T) {
	k, _ := viewsKernel(t)
	c := newCrossView(k.t.o, func(string) (uint64, bool) { return 0, false })
	k.addTask(4, 17, 17, 1, "nitro-hidden", 0)
	k.pid(4)
	hidden, procs := hiddenOf(t, k, c, func() {})
	if len(hidden) != 0 || len(procs) != 3 {
		t.Errorf("hidden %v in %+v", hidden, procs)
	}
}
