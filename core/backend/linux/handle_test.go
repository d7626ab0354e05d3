package linux

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/backend/linux/strace"
	"nitro/core/kvm"
	"nitro/core/vmi"
	"nitro/core/vmi/physmem"
	"nitro/core/vmi/vmitest"
	"nitro/internal/cputime"
)

// A guest frozen in memory, and the events a listener records in it: task
// 42 "cat" making a few calls, stopped at the entry point and at the exit
// point of each.
const (
	entryPoint = 0xffffffff81e00080
	exitPoint  = 0xffffffff81e00126
	perCPU     = kva + 0x38000 // a per-cpu area; its first word points to the running task
	ptRegsArea = kva + 0x3c000 // pt_regs of the recorded calls, 0x100 apart
	userPage   = 0x400000      // the task's data: a path, a read buffer, a written buffer
	userPA     = 0xc0000

	userPath  = userPage
	userRead  = userPage + 0x100
	userWrite = userPage + 0x200
	userStack = userPage + 0x800
)

// A 32-bit task's stops: do_fast_syscall_32 and where its caller resumes.
const (
	fastEntry32 = 0xffffffff81e01000
	exit32      = 0xffffffff81e01100
)

// recorded are the calls of the snapshot, in order.
var recorded = []struct {
	nr   uint64
	args [6]uint64
	ret  uint64
}{
	{257, [6]uint64{^uint64(99), userPath, 0}, 3},                    // openat(AT_FDCWD, path, O_RDONLY) = 3
	{0, [6]uint64{3, userRead, 128}, 18},                             // read(3, buf, 128) = 18
	{1, [6]uint64{1, userWrite, 13}, 13},                             // write(1, "hello, world\n", 13) = 13
	{3, [6]uint64{3}, 0},                                             // close(3) = 0
	{257, [6]uint64{^uint64(99), userPath + 0x40}, -2 & (1<<64 - 1)}, // openat of a missing file = -ENOENT
}

// snapshot builds the frozen guest and the events recorded in it.
func snapshot(tb testing.TB) (*kernel, []kvm.Event) {
	k := newKernel(tb)
	k.addTask(1, 42, 42, 1, "cat", 1000)
	k.put64(perCPU, task(1))
	k.tables.Map(userPage, userPA, vmitest.Page4K)
	user := k.phys.Mem[userPA:]
	copy(user[userPath-userPage:], "/etc/nitro/probe-input\x00")
	copy(user[userPath+0x40-userPage:], "/nonexistent\x00")
	copy(user[userRead-userPage:], "nitro probe input\n")
	copy(user[userWrite-userPage:], "hello, world\n")

	sregs := kvm.SRegs{CR3: k.tables.Root, KernelGSBase: perCPU, GSBase: 0x7f0000001000}
	swapped := sregs // after swapgs
	swapped.GSBase, swapped.KernelGSBase = perCPU, 0x7f0000001000
	var events []kvm.Event
	for i, c := range recorded {
		regs := ptRegsArea + uint64(i)*0x100
		k.put64(regs+8*ptOrigAX, c.nr)
		k.put64(regs+8*ptAX, c.ret)
		for j, w := range argWords[backend.X8664] {
			k.put64(regs+8*uint64(w), c.args[j])
		}
		a := c.args
		events = append(events,
			kvm.Event{Direction: kvm.Enter, SRegs: sregs, Regs: kvm.Regs{
				RIP: entryPoint, RAX: c.nr, RDI: a[0], RSI: a[1], RDX: a[2], R10: a[3], R8: a[4], R9: a[5]}},
			kvm.Event{Direction: kvm.Exit, SRegs: swapped, Regs: kvm.Regs{RIP: exitPoint, RSP: regs, RAX: 1}},
		)
	}
	return k, events
}

// newTestBackend is a back end on the snapshot's kernel, read through mem.
func newTestBackend(k *kernel, mem *vmi.Memory) *Backend {
	b := &Backend{
		mem: mem, tasks: k.t, kernel: mem.Space(k.tables.Root, 0), entry: entryPoint, exit: exitPoint,
		stops: map[uint64]stop{
			entryPoint:  {kind: atEntry64},
			exitPoint:   {kind: atExit},
			fastEntry32: {kind: atFastEntry32, abi: backend.I386},
			exit32:      {kind: atExit, abi: backend.I386},
		},
		pending: make(map[uint64]*handled), ptiCR3: make(map[uint64]bool), procs: make(map[uint64]knownTask),
		scratch: make([]byte, k.t.size()), decoder: strace.NewDecoder(strace.Options{}),
		cross: newCrossView(k.t.o, func(string) (uint64, bool) { return 0, false }),
	}
	b.mem.SetStable(vmi.Range{Start: kva, End: kva + directMapSize})
	return b
}

// line is an event as strace shows it, with the process in front.
func line(sc *backend.Syscall) string {
	s := "[" + strconv.Itoa(sc.Process.PID) + " " + sc.Process.Comm + "] " + sc.Name + "("
	for i, a := range sc.Args {
		if i > 0 {
			s += ", "
		}
		s += a.Text
	}
	s += ")"
	if !sc.IsExit() {
		return s + " enter"
	}
	s += " = " + strace.Result(sc)
	if sc.Matched {
		s += " matched"
	}
	return s
}

func TestHandleRecordedCalls(t *testing.T) {
	k, events := snapshot(t)
	b := newTestBackend(k, vmi.NewMemory(k.phys))
	want := []string{
		`[42 cat] openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY) enter`,
		`[42 cat] openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY) = 3 matched`,
		`[42 cat] read(3, 0x400100, 128) enter`,
		`[42 cat] read(3, "nitro probe input\n", 128) = 18 matched`,
		`[42 cat] write(1, "hello, world\n", 13) enter`,
		`[42 cat] write(1, "hello, world\n", 13) = 13 matched`,
		`[42 cat] close(3) enter`,
		`[42 cat] close(3) = 0 matched`,
		`[42 cat] openat(AT_FDCWD, "/nonexistent", O_RDONLY) enter`,
		`[42 cat] openat(AT_FDCWD, "/nonexistent", O_RDONLY) = -1 ENOENT (No such file or directory) matched`,
	}
	for i := range events {
		call, err := b.Handle(&events[i])
		if err != nil {
			t.Fatal(err)
		}
		if got := line(&call.Syscall); got != want[i] {
			t.Errorf("event %d: %s\n want %s", i, got, want[i])
		}
		if call.ABI != backend.X8664 {
			t.Errorf("event %d: ABI %v, want x86_64", i, call.ABI)
		}
	}
}

func TestHandleEditsReachTheKernel(t *testing.T) {
	k, events := snapshot(t)
	b := newTestBackend(k, vmi.NewMemory(k.phys))
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
	exit, err := b.Handle(&events[1])
	if err != nil {
		t.Fatal(err)
	}
	if exit.Args[1].Text != `"/etc/nitro/probe-other"` {
		t.Errorf("the exit shows %s, want the edited path", exit.Args[1].Text)
	}
	if err := exit.Arguments.Set(0, 1); err != api.ErrReadOnlyArgs {
		t.Errorf("Set at an exit: %v, want api.ErrReadOnlyArgs", err)
	}
}

// TestHandleRereadsChangedTasks checks the remembered processes: a task
// that changed its name or credentials shows the new ones.
func TestHandleRereadsChangedTasks(t *testing.T) {
	k, events := snapshot(t)
	b := newTestBackend(k, vmi.NewMemory(k.phys))
	if call, err := b.Handle(&events[0]); err != nil || call.Process.Comm != "cat" || call.Process.UID != 1000 {
		t.Fatalf("first event: %v %+v", err, call.Process)
	}
	k.addTask(1, 42, 42, 1, "\x1b]0;evil\x07", 0) // execve and setuid: new comm, new cred
	k.put64(task(1)+uint64(k.t.o.Task.Cred), kva+0x30100)
	call, err := b.Handle(&events[2])
	if err != nil {
		t.Fatal(err)
	}
	if p := call.Process; p.Comm != "\x1b]0;evil\x07" || p.UID != 0 || p.PID != 42 || p.PPID != 42 {
		t.Errorf("after the change: %+v, want comm %q uid 0", p, "\x1b]0;evil\x07")
	}
}

// TestHandleCompat follows a 32-bit call through do_fast_syscall_32:
// arguments in pt_regs by the i386 convention, the sixth on the user stack.
func TestHandleCompat(t *testing.T) {
	k, _ := snapshot(t)
	b := newTestBackend(k, vmi.NewMemory(k.phys))
	regs := uint64(ptRegsArea + 0x800)
	const open32 = 5
	vals := map[int]uint64{ptOrigAX: open32, ptAX: ^uint64(37), ptBX: userPath, ptCX: 0, ptDX: 0, ptSP: userStack}
	for w, v := range vals {
		k.put64(regs+8*uint64(w), v)
	}
	copy(k.phys.Mem[userPA+userStack-userPage:], []byte{0x78, 0x56, 0x34, 0x12})
	sregs := kvm.SRegs{CR3: k.tables.Root, GSBase: perCPU}
	enter := kvm.Event{Direction: kvm.Enter, Mechanism: kvm.Sysenter, SRegs: sregs, Regs: kvm.Regs{RIP: fastEntry32, RDI: regs}}
	call, err := b.Handle(&enter)
	if err != nil {
		t.Fatal(err)
	}
	if call.ABI != backend.I386 || call.Nr != open32 || call.Arguments.Get(0) != userPath || call.Arguments.Get(5) != 0x12345678 {
		t.Fatalf("compat entry: abi %v nr %d args %#x %#x", call.ABI, call.Nr, call.Arguments.Get(0), call.Arguments.Get(5))
	}
	// Changes go where the kernel reads them: pt_regs, and the user stack
	// for the sixth argument.
	if err := call.Arguments.Set(1, 0o101); err != nil {
		t.Fatal(err)
	}
	if err := call.Arguments.Set(5, 7); err != nil {
		t.Fatal(err)
	}
	kern := b.mem.Space(k.tables.Root, 0)
	if cx, err := kern.U64(regs + 8*ptCX); err != nil || cx != 0o101 {
		t.Errorf("pt_regs->cx = %#o, %v; want 0101", cx, err)
	}
	if v, err := kern.U32(userStack); err != nil || v != 7 {
		t.Errorf("user stack word = %d, %v; want 7", v, err)
	}
	k.put64(regs+8*ptAX, 3)
	exit := kvm.Event{Direction: kvm.Exit, Mechanism: kvm.Sysenter, SRegs: sregs, Regs: kvm.Regs{RIP: exit32, RSP: regs}}
	ret, err := b.Handle(&exit)
	if err != nil {
		t.Fatal(err)
	}
	if !ret.Matched || ret.ABI != backend.I386 || ret.Nr != open32 || ret.Ret != 3 || ret.Arguments.Get(1) != 0o101 {
		t.Errorf("compat exit: matched %v abi %v nr %d ret %d flags %#o", ret.Matched, ret.ABI, ret.Nr, ret.Ret, ret.Arguments.Get(1))
	}
	// A stack pointer into nothing: the kernel fails the call with EFAULT,
	// and it is still traced.
	k.put64(regs+8*ptSP, 0xdead0000)
	call, err = b.Handle(&enter)
	if err != nil || call.Nr != open32 || call.Arguments.Get(5) != 0 {
		t.Errorf("compat entry with a wild stack: %v, nr %d, arg 5 %#x", err, call.Nr, call.Arguments.Get(5))
	}
}

// BenchmarkHandle is the back end's whole work per event (current task,
// process, pt_regs, strace decoding, entry/exit matching) on recorded
// events against a memory snapshot, mapped from a file as a dump is: what
// decoding costs a live trace at most.
func BenchmarkHandle(b *testing.B) {
	k, events := snapshot(b)
	path := filepath.Join(b.TempDir(), "snapshot.raw")
	if err := os.WriteFile(path, k.phys.Mem, 0o600); err != nil {
		b.Fatal(err)
	}
	src, err := physmem.OpenRaw(path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	be := newTestBackend(k, vmi.NewMemory(src))
	b.ReportAllocs()
	cpu0, err := cputime.Used()
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		if _, err := be.Handle(&events[n%len(events)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	cpu, err := cputime.Used()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	// On a loaded host wall time undercounts: events per second of CPU the
	// process used, the garbage collector's included, is the one-core figure.
	b.ReportMetric(float64(n)/(cpu-cpu0).Seconds(), "handled-events/cpu-s")
}

// TestHandleTrappedInstructions follows calls as the Nitro ioctls report
// them: stopped on the syscall or sysenter instruction in user space, the
// arguments in the registers of its convention, and on the return. A
// hook's change of the flags goes to the register and shows at the exit.
func TestHandleTrappedInstructions(t *testing.T) {
	k, _ := snapshot(t)
	b := newTestBackend(k, vmi.NewMemory(k.phys))
	sregs := kvm.SRegs{CR3: k.tables.Root, KernelGSBase: perCPU, GSBase: 0x7f0000001000}
	const userCode = 0x401000
	for _, c := range []struct {
		mech  kvm.Mechanism
		regs  kvm.Regs
		flags int // the argument holding the open flags
		want  string
	}{
		{kvm.Syscall, kvm.Regs{RAX: 257, RDI: ^uint64(99), RSI: userPath}, 2,
			`[42 cat] openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDWR) = 3 matched`},
		{kvm.Sysenter, kvm.Regs{RAX: 5, RBX: userPath, RDI: 0xdead}, 1,
			`[42 cat] open("/etc/nitro/probe-input", O_RDWR) = 3 matched`},
	} {
		c.regs.RIP = userCode
		enter := kvm.Event{Direction: kvm.Enter, Mechanism: c.mech, SRegs: sregs, Regs: c.regs}
		call, err := b.Handle(&enter)
		if err != nil {
			t.Fatal(err)
		}
		if err := call.Arguments.Set(c.flags, 0o2); err != nil {
			t.Fatal(err)
		}
		if reg := map[kvm.Mechanism]uint64{kvm.Syscall: enter.Regs.RDX, kvm.Sysenter: enter.Regs.RCX}[c.mech]; reg != 0o2 {
			t.Errorf("%v: Set left the flags register at %#o, want 02", c.mech, reg)
		}
		exit := kvm.Event{Direction: kvm.Exit, Mechanism: c.mech, SRegs: sregs, Regs: kvm.Regs{RIP: userCode + 2, RAX: 3}}
		ret, err := b.Handle(&exit)
		if err != nil {
			t.Fatal(err)
		}
		if got := line(&ret.Syscall); got != c.want {
			t.Errorf("%v: %s\n want %s", c.mech, got, c.want)
		}
	}
}

// FuzzHandle: pt_regs, task fields, the user stack and registers are guest
// data. Whatever they hold, Handle returns a call or an error, never panics.
func FuzzHandle(f *testing.F) {
	f.Add(uint8(0), uint64(257), uint64(userPath), uint64(userStack), []byte{})
	f.Add(uint8(3), uint64(5), uint64(ptRegsArea), uint64(0xdead0000), []byte("\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Add(uint8(6), ^uint64(0), uint64(ptRegsArea+0xff8), uint64(1<<63), make([]byte, 300))
	f.Fuzz(func(t *testing.T, at uint8, rax, ptr, sp uint64, junk []byte) {
		k, _ := snapshot(t)
		// Junk over the pt_regs the stops read and over the task.
		copy(k.phys.Mem[0x80000+ptRegsArea-kva:], junk)
		copy(k.phys.Mem[0x80000+task(1)-kva+0x20:], junk)
		b := newTestBackend(k, vmi.NewMemory(k.phys))
		rips := []uint64{entryPoint, exitPoint, fastEntry32, exit32, 0x401000}
		sregs := kvm.SRegs{CR3: k.tables.Root, KernelGSBase: perCPU, GSBase: 0x7f0000001000}
		for _, dir := range []kvm.Direction{kvm.Enter, kvm.Exit} {
			ev := kvm.Event{
				Direction: dir, Mechanism: kvm.Mechanism(at >> 4 & 1), SRegs: sregs,
				Regs: kvm.Regs{RIP: rips[int(at)%len(rips)], RAX: rax, RDI: ptr, RSI: ptr, RBX: ptr, RSP: sp},
			}
			if call, err := b.Handle(&ev); err == nil {
				_ = line(&call.Syscall)
			}
		}
	})
}

// TestHandleForgetsCallsThatNeverReturn: an exit_group's entry is not
// kept for an exit that never comes (its task is gone for good).
func TestHandleForgetsCallsThatNeverReturn(t *testing.T) {
	k, events := snapshot(t)
	b := newTestBackend(k, vmi.NewMemory(k.phys))
	ev := events[0]
	ev.Regs.RAX = 231 // exit_group
	call, err := b.Handle(&ev)
	if err != nil {
		t.Fatal(err)
	}
	if call.Name != "exit_group" || len(b.pending) != 0 {
		t.Errorf("%s: %d calls kept pending, want none", call.Name, len(b.pending))
	}
	if _, err := b.Handle(&events[2]); err != nil || len(b.pending) != 1 {
		t.Errorf("a read's entry: %v, %d pending, want 1", err, len(b.pending))
	}
}
