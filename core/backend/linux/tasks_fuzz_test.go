package linux

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"nitro/core/backend"
	"nitro/core/vmi"
	"nitro/core/vmi/offsets"
)

// fuzzTasks is how many task_structs fit below the signal structs (at
// kva+0x20000): the fuzzer's pointers aim at them.
const fuzzTasks = 0x20000 / taskSize

// fuzzPointer turns a fuzzer's (kind, n) into a word a hostile kernel
// would store in a task list: mostly pointers to list heads of tasks and
// signal structs the walk can follow, for random words end the walk at once
// and would leave the fuzzer nothing to explore.
func fuzzPointer(o *offsets.Offsets, kind uint8, n uint16) uint64 {
	i := int(n) % fuzzTasks
	switch kind % 7 {
	case 0:
		return task(i) + uint64(o.Task.Tasks)
	case 1:
		if o.Task.ThreadNode != offsets.Absent {
			return task(i) + uint64(o.Task.ThreadNode)
		}
		return task(i) + uint64(o.Task.ThreadGroup)
	case 2:
		return signal(int(n) % 64)
	case 3:
		return signal(int(n)%64) + uint64(o.Signal.ThreadHead)
	case 4:
		return kva + uint64(n)*8 // any word of the mapped kernel
	case 5:
		return uint64(n) // a pid, a uid, a small number
	default:
		return ^uint64(0) - uint64(n) // unmapped, or non-canonical
	}
}

// FuzzTaskList: the task lists are guest data. The fuzzer starts from a
// sane kernel (as TestTaskList's) in one of the layouts Linux has had and
// rewrites words in its tasks, thread rings and signal structs; a walk must
// then end within its budget, with processes or an error that says why.
func FuzzTaskList(f *testing.F) {
	f.Add(uint8(0), []byte{})
	f.Add(uint8(1), []byte{})
	f.Add(uint8(2), []byte{})
	// A leader's node pointing at itself: the ring never comes back to
	// init_task (as "loop" in TestTaskListHostile).
	f.Add(uint8(0), []byte{0x22, 0, 0, 1, 0})
	// A thread ring closing on the leader's node, never back at its head.
	f.Add(uint8(4), []byte{0x6b, 0, 1, 2, 0})
	// Two leaders' signal pointers at one signal struct
	// (TestTaskListSharedThreadRing).
	f.Add(uint8(8), []byte{0x2a, 0, 2, 2, 0, 0x4a, 0, 2, 2, 0})
	f.Fuzz(func(t *testing.T, layout uint8, writes []byte) {
		k := newKernel(t)
		o := k.t.o
		tl := uint64(o.Task.Tasks)
		switch layout % 3 {
		case 1: // before 6.6: task_struct.thread_group
			o.Task.ThreadGroup, o.Task.ThreadNode, o.Task.Signal = 0x58, offsets.Absent, offsets.Absent
		case 2: // no thread list at all: leaders only
			o.Task.ThreadNode = offsets.Absent
		}
		k.t = newTasks(o, task(0))
		// A small budget, so fuzzed lists reach it.
		k.t.budget = 8 + int(layout>>2)
		k.addTask(1, 1, 1, 0, "init", 0)
		k.addTask(2, 42, 42, 1, "cat", 1000)
		k.addTask(3, 43, 42, 1, "worker", 1000)
		k.ring(task(0)+tl, task(1)+tl, task(2)+tl)
		if layout%3 == 1 {
			tg := uint64(o.Task.ThreadGroup)
			k.put64(task(1)+tg, task(1)+tg)
			k.ring(task(2)+tg, task(3)+tg)
		} else {
			k.threads(1, 1)
			k.threads(2, 2, 3)
		}
		// Each 5 bytes: the word to rewrite (of the tasks and signals),
		// the kind of value, its number.
		for ; len(writes) >= 5; writes = writes[5:] {
			slot := uint64(binary.LittleEndian.Uint16(writes)) % (0x20000/8 + 64*0x40/8)
			k.put64(kva+slot*8, fuzzPointer(o, writes[2], binary.LittleEndian.Uint16(writes[3:])))
		}

		before := k.phys.Reads.Load()
		procs, err := k.t.all(k.space)
		reads := k.phys.Reads.Load() - before

		// Each list entry and each process costs a few reads, each at most
		// a page walk: the walk's cost follows its budget, not the guest.
		if limit := int64(k.t.budget+16) * 3 * 5 * 2; reads > limit {
			t.Fatalf("%d physical reads with a budget of %d list entries (limit %d)", reads, k.t.budget, limit)
		}
		if len(procs) > 2*k.t.budget {
			t.Fatalf("%d processes with a budget of %d list entries", len(procs), k.t.budget)
		}
		if err != nil && !errors.Is(err, ErrTaskList) && !errors.Is(err, vmi.ErrNotPresent) &&
			!errors.Is(err, vmi.ErrNonCanonical) && !errors.Is(err, vmi.ErrOutOfRange) {
			t.Fatalf("error %v wraps none of the sentinels", err)
		}
		seen := map[uint64]bool{}
		for _, p := range procs {
			if seen[p.Task] {
				t.Fatalf("task %#x listed twice", p.Task)
			}
			seen[p.Task] = true
			if len(p.Comm) > 16 {
				t.Fatalf("comm %q longer than task_struct's", p.Comm)
			}
		}
		if err == nil && !slices.IsSortedFunc(procs, func(a, b backend.Process) int { return a.TID - b.TID }) {
			t.Fatal("processes not sorted by TID")
		}
	})
}
