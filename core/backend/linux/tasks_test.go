package linux

import (
	"encoding/binary"
	"errors"
	"testing"

	"nitro/core/vmi"
	"nitro/core/vmi/offsets"
	"nitro/core/vmi/vmitest"
)

// A small task_struct layout for hand-built kernels: the 6.6+ thread list.
func testOffsets() *offsets.Offsets {
	o := &offsets.Offsets{}
	t := &o.Task
	*t = offsets.TaskStruct{
		Tasks: 0x10, Pid: 0x20, Tgid: 0x24, Comm: 0x30, CommSize: 16, RealParent: 0x40,
		Cred: 0x48, Signal: 0x50, ThreadNode: 0x58, ThreadGroup: offsets.Absent,
	}
	o.Signal.ThreadHead = 0x10
	o.Cred.UID = 0x4
	return o
}

const (
	kva      = 0xffff888000000000 // the direct map, as Linux has it
	taskSize = 0x100
)

// kernel is guest memory with tasks at kva + i*taskSize.
type kernel struct {
	phys   *vmitest.Phys
	tables *vmitest.Tables
	space  vmi.Space
	t      tasks
}

func newKernel(t testing.TB) *kernel {
	t.Helper()
	phys := vmitest.NewPhys(1 << 20)
	tables := vmitest.NewTables(phys, false, 0x1000, 0x2000)
	for off := uint64(0); off < 0x40000; off += 0x1000 {
		tables.Map(kva+off, 0x80000+off, vmitest.Page4K)
	}
	k := &kernel{phys: phys, tables: tables, space: vmi.NewMemory(phys).Space(tables.Root, 0)}
	k.t = newTasks(testOffsets(), task(0))
	return k
}

func task(i int) uint64 { return kva + uint64(i)*taskSize }

func (k *kernel) put64(va, v uint64) {
	binary.LittleEndian.PutUint64(k.phys.Mem[0x80000+va-kva:], v)
}

func (k *kernel) put32(va uint64, v uint32) {
	binary.LittleEndian.PutUint32(k.phys.Mem[0x80000+va-kva:], v)
}

// signal structs live after the tasks, one per leader.
func signal(i int) uint64 { return kva + 0x20000 + uint64(i)*0x40 }

// addTask fills task i: pid, tgid, comm, parent, a cred with uid, and a
// signal struct whose thread ring holds threads (leader first).
func (k *kernel) addTask(i, pid, tgid, parent int, comm string, uid uint32) {
	o := &k.t.o.Task
	a := task(i)
	k.put32(a+uint64(o.Pid), uint32(pid))
	k.put32(a+uint64(o.Tgid), uint32(tgid))
	copy(k.phys.Mem[0x80000+a+uint64(o.Comm)-kva:], comm+"\x00")
	k.put64(a+uint64(o.RealParent), task(parent))
	cred := kva + 0x30000 + uint64(i)*0x10
	k.put64(a+uint64(o.Cred), cred)
	k.put32(cred+uint64(k.t.o.Cred.UID), uid)
}

// ring links the list_heads at the given addresses into a circular list.
func (k *kernel) ring(nodes ...uint64) {
	for i, n := range nodes {
		k.put64(n, nodes[(i+1)%len(nodes)])
	}
}

func (k *kernel) threads(leader int, members ...int) {
	o := &k.t.o.Task
	sig := signal(leader)
	nodes := []uint64{sig + uint64(k.t.o.Signal.ThreadHead)}
	for _, m := range members {
		k.put64(task(m)+uint64(o.Signal), sig)
		nodes = append(nodes, task(m)+uint64(o.ThreadNode))
	}
	k.ring(nodes...)
}

func TestTaskList(t *testing.T) {
	k := newKernel(t)
	tl := uint64(k.t.o.Task.Tasks)
	k.addTask(0, 0, 0, 0, "swapper/0", 0)
	k.addTask(1, 1, 1, 0, "init", 0)
	k.addTask(2, 42, 42, 1, "\x1b[2Jcat", 1000)
	k.addTask(3, 43, 42, 1, "worker", 1000)
	k.ring(task(0)+tl, task(1)+tl, task(2)+tl) // leaders only
	k.threads(1, 1)
	k.threads(2, 2, 3)

	procs, err := k.t.all(k.space)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		pid, tid, ppid int
		comm           string
		uid            uint32
	}{{1, 1, 0, "init", 0}, {42, 42, 1, "\x1b[2Jcat", 1000}, {42, 43, 1, "worker", 1000}}
	if len(procs) != len(want) {
		t.Fatalf("got %d tasks %+v, want %d", len(procs), procs, len(want))
	}
	for i, w := range want {
		p := procs[i]
		if p.PID != w.pid || p.TID != w.tid || p.PPID != w.ppid || p.Comm != w.comm || p.UID != w.uid {
			t.Errorf("task %d: %+v, want %+v", i, p, w)
		}
	}
}

func TestTaskListHostile(t *testing.T) {
	tl := uint64(testOffsets().Task.Tasks)
	cases := map[string]func(k *kernel){
		// 1 -> 2 -> 1 -> ... never back to init_task.
		"loop": func(k *kernel) {
			k.put64(task(0)+tl, task(1)+tl)
			k.ring(task(1)+tl, task(2)+tl)
		},
		// A next pointer into unmapped memory.
		"wild": func(k *kernel) {
			k.put64(task(0)+tl, task(1)+tl)
			k.put64(task(1)+tl, 0xffff888012345000)
		},
		// A thread ring that loops without passing its head.
		"thread loop": func(k *kernel) {
			k.ring(task(0)+tl, task(1)+tl)
			k.threads(1, 1, 2)
			n := uint64(k.t.o.Task.ThreadNode)
			k.ring(task(1)+n, task(2)+n)
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			k := newKernel(t)
			k.addTask(1, 1, 1, 0, "init", 0)
			k.addTask(2, 2, 2, 1, "evil", 0)
			build(k)
			_, err := k.t.all(k.space)
			if err == nil {
				t.Fatal("a corrupt task list read without error")
			}
			if name != "wild" && !errors.Is(err, ErrTaskList) {
				t.Errorf("err = %v, want ErrTaskList", err)
			}
			if name == "wild" && !errors.Is(err, vmi.ErrNotPresent) {
				t.Errorf("err = %v, want a page fault", err)
			}
		})
	}
}

// TestTaskListSharedThreadRing: 400 leaders whose signal structs all point
// at one ring of their 400 threads. Read naively that is 160,000 tasks
// (N²): a task in two thread groups is corrupt, and is said so at once.
func TestTaskListSharedThreadRing(t *testing.T) {
	const n = 400
	k := newKernel(t)
	o := &k.t.o.Task
	tl := uint64(o.Tasks)
	leaders := []uint64{task(0) + tl}
	ring := []uint64{signal(0) + uint64(k.t.o.Signal.ThreadHead)}
	for i := 1; i <= n; i++ {
		k.addTask(i, i, i, 0, "evil", 0)
		leaders = append(leaders, task(i)+tl)
		k.put64(task(i)+uint64(o.Signal), signal(0))
		ring = append(ring, task(i)+uint64(o.ThreadNode))
	}
	k.ring(leaders...)
	k.ring(ring...)
	procs, err := k.t.all(k.space)
	if !errors.Is(err, ErrTaskList) {
		t.Errorf("err = %v, want ErrTaskList", err)
	}
	if len(procs) > n {
		t.Errorf("%d processes from %d tasks", len(procs), n)
	}
}

// TestTaskListBudget: a walk visits at most its budget of list entries in
// all, however the guest spreads them over thread groups.
func TestTaskListBudget(t *testing.T) {
	k := newKernel(t)
	tl := uint64(k.t.o.Task.Tasks)
	leaders := []uint64{task(0) + tl}
	for g := range 4 {
		members := []int{}
		for i := range 4 {
			id := 1 + 4*g + i
			k.addTask(id, id, 1+4*g, 0, "t", 0)
			members = append(members, id)
		}
		leaders = append(leaders, task(members[0])+tl)
		k.threads(members[0], members...)
	}
	k.ring(leaders...)
	if procs, err := k.t.all(k.space); err != nil || len(procs) != 16 {
		t.Fatalf("%d tasks, %v; want 16", len(procs), err)
	}
	k.t.budget = 4 + 16 - 1 // leaders and threads, less one
	if _, err := k.t.all(k.space); !errors.Is(err, ErrTaskList) {
		t.Errorf("over budget: err = %v, want ErrTaskList", err)
	}
}
