package linux

import (
	"strconv"
	"testing"

	"nitro/core/backend/linux/strace"
	"nitro/core/kvm"
	"nitro/core/vmi"
	"nitro/core/vmi/vmitest"
)

// A guest frozen in memory, and the events a listener records in it: task
// 42 "cat" calling openat, stopped at the entry point and at the exit point.
const (
	entryPoint = 0xffffffff81e00080
	exitPoint  = 0xffffffff81e00126
	perCPU     = kva + 0x38000 // a per-cpu area; its first word points to the running task
	ptRegsAt   = kva + 0x3f000 // the task's pt_regs, where rsp points at the exit point
	userPath   = 0x400000      // the path, in user memory
	userPA     = 0xc0000
)

func snapshot(tb testing.TB) (*Backend, []kvm.Event) {
	k := newKernel(tb)
	k.addTask(1, 42, 42, 1, "cat", 1000)
	k.put64(perCPU, task(1))
	// pt_regs as entry_SYSCALL_64 saved them: openat(AT_FDCWD, path, O_RDONLY) = 3.
	for i, v := range map[int]uint64{ptOrigAX: 257, ptAX: 3, ptDI: ^uint64(99), ptSI: userPath, ptDX: 0} {
		k.put64(ptRegsAt+8*uint64(i), v)
	}
	k.tables.Map(userPath, userPA, vmitest.Page4K)
	copy(k.phys.Mem[userPA:], "/etc/nitro/probe-input\x00")
	b := &Backend{
		mem: vmi.NewMemory(k.phys), tasks: k.t, kernel: k.space,
		entry: entryPoint, exit: exitPoint, pending: make(map[uint64]pending), ptiCR3: make(map[uint64]bool),
		decoder: strace.NewDecoder(strace.Options{}),
	}
	b.mem.SetStable(vmi.Range{Start: kva, End: kva + directMapSize})
	sregs := kvm.SRegs{CR3: k.tables.Root, KernelGSBase: perCPU, GSBase: 0x7f0000001000}
	enter := kvm.Event{Direction: kvm.Enter, SRegs: sregs,
		Regs: kvm.Regs{RIP: entryPoint, RAX: 257, RDI: ^uint64(99), RSI: userPath}}
	sregs.GSBase, sregs.KernelGSBase = perCPU, 0x7f0000001000 // swapgs has run
	exit := kvm.Event{Direction: kvm.Exit, SRegs: sregs, Regs: kvm.Regs{RIP: exitPoint, RSP: ptRegsAt, RAX: 1}}
	return b, []kvm.Event{enter, exit}
}

func TestHandleOpenat(t *testing.T) {
	b, events := snapshot(t)
	want := []string{
		`[42 cat] openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY) enter`,
		`[42 cat] openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY) = 3 matched`,
	}
	for i := range events {
		call, err := b.Handle(&events[i])
		if err != nil {
			t.Fatal(err)
		}
		sc := call.Syscall
		got := "[" + strconv.Itoa(sc.Process.PID) + " " + sc.Process.Comm + "] " + sc.Name + "(" + sc.Args[0].Text + ", " + sc.Args[1].Text + ", " + sc.Args[2].Text + ")"
		if sc.IsExit() {
			got += " = " + strace.Result(&sc)
			if sc.Matched {
				got += " matched"
			}
		} else {
			got += " enter"
		}
		if got != want[i] {
			t.Errorf("event %d: %s, want %s", i, got, want[i])
		}
	}
	// The entry's arguments live in the registers: a hook's change there
	// is what the kernel will see.
	call, err := b.Handle(&events[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := call.Arguments.Set(2, 1); err != nil || events[0].Regs.RDX != 1 {
		t.Fatalf("Set(2, O_WRONLY): %v, rdx %#x", err, events[0].Regs.RDX)
	}
	if err := call.Arguments.WriteBytes(1, []byte("/etc/nitro/probe-other")); err != nil {
		t.Fatal(err)
	}
	if err := b.Redecode(call); err != nil || call.Args[1].Text != `"/etc/nitro/probe-other"` || call.Args[2].Text != "O_WRONLY" {
		t.Fatalf("after edits: %v %+v", err, call.Args)
	}
	events[0].Regs.RDX = 0
}

// BenchmarkHandle is the back end's whole work per event (current task,
// process, pt_regs, strace decoding, entry/exit matching) on recorded events
// against a memory snapshot: what decoding costs a live trace at most.
func BenchmarkHandle(b *testing.B) {
	be, events := snapshot(b)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := be.Handle(&events[n%2]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
