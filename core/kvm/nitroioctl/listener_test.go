package nitroioctl

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nitro/core/kvm"
)

func next(t *testing.T, l *Listener) *kvm.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := l.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return ev
}

func mustAttach(t *testing.T, f *fakeKernel, opts Options) *Listener {
	t.Helper()
	l, err := f.attach(opts)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	return l
}

func TestEventLoopIndependentVCPUs(t *testing.T) {
	f := newFakeKernel(t, 2)
	l := mustAttach(t, f, Options{Syscalls: []uint64{1, 59}})

	if f.syscall(0, 2) {
		t.Fatal("syscall 2 trapped although only 1 and 59 are filtered in")
	}
	if !f.syscall(0, 1) {
		t.Fatal("syscall 1 did not trap")
	}
	ev0 := next(t, l)
	if ev0.VCPU != 0 || ev0.Direction != kvm.Enter || ev0.Mechanism != kvm.Syscall {
		t.Errorf("event = vcpu %d %v %v, want vcpu 0 enter syscall", ev0.VCPU, ev0.Direction, ev0.Mechanism)
	}
	if ev0.Regs.RAX != 1 || ev0.Regs.RSP != 0x7ffc0000 || ev0.Regs.RBP != 0x7ffc0100 || ev0.SRegs.CR3 != 0x1000 || ev0.SRegs.EFER != 0xd01 {
		t.Errorf("registers = %+v %+v", ev0.Regs, ev0.SRegs)
	}
	if ev0.Time.IsZero() {
		t.Error("event has no time")
	}

	// vCPU 1 stops and is reported while vCPU 0 is still held.
	if !f.syscall(1, 59) {
		t.Fatal("syscall 59 did not trap")
	}
	ev1 := next(t, l)
	if ev1.VCPU != 1 || ev1.SRegs.CR3 != 0x2000 {
		t.Errorf("second event on vcpu %d cr3 %#x, want vcpu 1 cr3 0x2000", ev1.VCPU, ev1.SRegs.CR3)
	}
	if !f.isStopped(0) || !f.isStopped(1) {
		t.Fatal("both vcpus should be stopped before Continue")
	}
	if err := l.Continue(ev1); err != nil {
		t.Fatalf("Continue(vcpu 1): %v", err)
	}
	if f.isStopped(1) || !f.isStopped(0) {
		t.Error("Continue(vcpu 1) must run vcpu 1 only")
	}
	if err := l.Continue(ev1); !errors.Is(err, ErrNotStopped) {
		t.Errorf("second Continue of one event = %v, want ErrNotStopped", err)
	}
	if err := l.Continue(ev0); err != nil {
		t.Fatalf("Continue(vcpu 0): %v", err)
	}

	// The reader fetches again after Continue.
	if !f.syscall(1, 1) {
		t.Fatal("syscall did not trap")
	}
	if ev := next(t, l); ev.VCPU != 1 || ev.Regs.RAX != 1 {
		t.Errorf("third event vcpu %d rax %d", ev.VCPU, ev.Regs.RAX)
	} else if err := l.Continue(ev); err != nil {
		t.Fatal(err)
	}

	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	f.checkDetached()
}

func TestRegisters(t *testing.T) {
	f := newFakeKernel(t, 1)
	f.sregs[0] = kvmSRegs{APICBase: 0xfee00900, CR3: 0x1000}
	l := mustAttach(t, f, Options{})
	defer func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
		f.checkDetached()
	}()
	f.syscall(0, 1)
	ev := next(t, l)

	ev.Regs.RAX = 0xdead
	ev.Regs.RSP = 0x1234
	if err := l.SetRegs(ev); err != nil {
		t.Fatalf("SetRegs: %v", err)
	}
	var got kvmRegs
	f.set(func() { got = f.regs[0] })
	if got.RAX != 0xdead || got.RSP != 0x1234 || got.RBP != 0x7ffc0100 || got.RIP != 0xffffffff81000000 {
		t.Errorf("kernel regs after SetRegs = %+v", got)
	}

	ev.SRegs.CR3 = 0x5000
	if err := l.SetSRegs(ev); err != nil {
		t.Fatalf("SetSRegs: %v", err)
	}
	var s kvmSRegs
	f.set(func() { s = f.sregs[0] })
	if s.CR3 != 0x5000 || s.APICBase != 0xfee00900 {
		t.Errorf("kernel sregs after SetSRegs: cr3 %#x apic_base %#x, want 0x5000 and the untouched 0xfee00900", s.CR3, s.APICBase)
	}

	ev.Regs = kvm.Regs{}
	if err := l.Reload(ev); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if ev.Regs.RAX != 0xdead || ev.SRegs.CR3 != 0x5000 {
		t.Errorf("after Reload rax %#x cr3 %#x", ev.Regs.RAX, ev.SRegs.CR3)
	}

	if err := l.Continue(ev); err != nil {
		t.Fatal(err)
	}
	if err := l.SetRegs(ev); !errors.Is(err, ErrNotStopped) {
		t.Errorf("SetRegs after Continue = %v, want ErrNotStopped", err)
	}
	if err := l.SetRegs(&kvm.Event{VCPU: 7}); !errors.Is(err, ErrNotStopped) {
		t.Errorf("SetRegs on unknown vcpu = %v, want ErrNotStopped", err)
	}
	if err := l.Continue(nil); !errors.Is(err, ErrNotStopped) {
		t.Errorf("Continue(nil) = %v, want ErrNotStopped", err)
	}
}

func TestCloseContinuesStoppedVCPUs(t *testing.T) {
	f := newFakeKernel(t, 3)
	l := mustAttach(t, f, Options{Syscalls: []uint64{0, 1}})

	f.syscall(0, 1)
	held := next(t, l) // delivered, never continued
	f.syscall(1, 0)    // trapped; its reader waits for someone to call Next
	// vCPU 2 traps after Close began: the trap is off by then or the
	// reader drains it.
	guest := make(chan bool)
	go func() {
		time.Sleep(5 * time.Millisecond)
		guest <- f.syscall(2, 1)
	}()

	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	<-guest
	f.checkDetached()

	calls := f.calls()
	trapOff := slices.Index(calls, "SET_SYSCALL_TRAP false")
	firstClose := slices.IndexFunc(calls, func(c string) bool { return strings.HasPrefix(c, "close") })
	for i, c := range calls {
		switch {
		case strings.HasPrefix(c, "REMOVE_SYSCALL_FILTER") && i < trapOff:
			t.Errorf("filter removed before the trap went off: %v", calls)
		case (strings.HasPrefix(c, "CONTINUE") || strings.HasPrefix(c, "REMOVE")) && i > firstClose:
			t.Errorf("%s after descriptors were closed: %v", c, calls)
		}
	}

	if _, err := l.Next(context.Background()); !errors.Is(err, kvm.ErrDetached) {
		t.Errorf("Next after Close = %v, want ErrDetached", err)
	}
	if err := l.Continue(held); !errors.Is(err, kvm.ErrDetached) {
		t.Errorf("Continue after Close = %v, want ErrDetached", err)
	}
	if err := l.AddFilter(3); !errors.Is(err, kvm.ErrDetached) {
		t.Errorf("AddFilter after Close = %v, want ErrDetached", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestNextWaitsForContext(t *testing.T) {
	f := newFakeKernel(t, 1)
	l := mustAttach(t, f, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next on a quiet VM = %v, want DeadlineExceeded", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f.checkDetached()
}

func TestRuntimeFilters(t *testing.T) {
	f := newFakeKernel(t, 1)
	l := mustAttach(t, f, Options{Syscalls: []uint64{1}})
	if err := l.AddFilter(60); err != nil {
		t.Fatal(err)
	}
	if err := l.RemoveFilter(1); err != nil {
		t.Fatal(err)
	}
	if f.syscall(0, 1) {
		t.Error("removed filter still traps")
	}
	if !f.syscall(0, 60) {
		t.Error("added filter does not trap")
	}
	if err := l.Continue(next(t, l)); err != nil {
		t.Fatal(err)
	}
	f.set(func() { f.filterMax = 1 })
	if err := l.AddFilter(61); err == nil {
		t.Error("AddFilter past the kernel's table size succeeded")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f.checkDetached()
}

func TestUnknownEventIsSkipped(t *testing.T) {
	f := newFakeKernel(t, 1)
	l := mustAttach(t, f, Options{})
	f.trapRaw(0, rawEvent{Direction: rawEnter, Type: 2}) // KASLR in later forks
	if _, err := l.Next(context.Background()); !errors.Is(err, ErrUnknownEvent) {
		t.Fatalf("Next = %v, want ErrUnknownEvent", err)
	}
	if f.isStopped(0) {
		t.Error("vcpu left stopped after an unknown event")
	}
	f.syscall(0, 1)
	ev := next(t, l)
	if ev.Regs.RAX != 1 {
		t.Errorf("event after the unknown one has rax %d", ev.Regs.RAX)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f.checkDetached()
}

func TestReaderErrorIsStickyAndDetachIsClean(t *testing.T) {
	f := newFakeKernel(t, 2)
	f.failVCPU[1] = unix.EIO
	l := mustAttach(t, f, Options{})
	for range 2 {
		_, err := l.Next(context.Background())
		if !errors.Is(err, unix.EIO) {
			t.Fatalf("Next = %v, want EIO from vcpu 1", err)
		}
	}
	// vCPU 1 has no reader any more; it traps and only Close frees it.
	f.syscall(1, 1)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	f.checkDetached()
}

func TestQEMUGone(t *testing.T) {
	f := newFakeKernel(t, 1)
	l := mustAttach(t, f, Options{})
	f.set(func() { f.dead = true })
	if _, err := l.Next(context.Background()); !errors.Is(err, kvm.ErrDetached) {
		t.Fatalf("Next after QEMU exit = %v, want ErrDetached", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f.checkDetached()
}

type fakePauser struct {
	f          *fakeKernel
	suspendErr error
	paused     bool
}

func (p *fakePauser) Suspend() error {
	if p.suspendErr != nil {
		return p.suspendErr
	}
	p.f.set(func() { p.f.log = append(p.f.log, "suspend") })
	p.paused = true
	return nil
}

func (p *fakePauser) Resume() error {
	p.f.set(func() { p.f.log = append(p.f.log, "resume") })
	p.paused = false
	return nil
}

func TestPauserAroundTrap(t *testing.T) {
	f := newFakeKernel(t, 1)
	p := &fakePauser{f: f}
	l := mustAttach(t, f, Options{Pauser: p})
	p.suspendErr = errors.New("libvirt gone")
	err := l.Close()
	if err == nil || !strings.Contains(err.Error(), "libvirt gone") {
		t.Errorf("Close with a failing pauser = %v, want its error", err)
	}
	f.checkDetached() // the trap went off all the same
	want := []string{"suspend", "SET_SYSCALL_TRAP true", "resume", "SET_SYSCALL_TRAP false"}
	var got []string
	for _, c := range f.calls() {
		if c == "suspend" || c == "resume" || strings.HasPrefix(c, "SET_SYSCALL_TRAP") {
			got = append(got, c)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("pause and trap order = %v, want %v", got, want)
	}
	if p.paused {
		t.Error("VM left paused")
	}
}

func TestAttachFailuresLeaveNothingBehind(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeKernel) Options
		is    error
	}{
		{"unpatched kvm", func(f *fakeKernel) Options {
			f.fail["ATTACH_VM"] = unix.EINVAL
			return Options{}
		}, kvm.ErrNotSupported},
		{"attach vcpus", func(f *fakeKernel) Options {
			f.fail["ATTACH_VCPUS"] = unix.EPERM
			return Options{}
		}, unix.EPERM},
		{"no vcpus", func(f *fakeKernel) Options {
			f.numVCPUs = 0
			return Options{}
		}, nil},
		{"more vcpus than descriptors", func(f *fakeKernel) Options {
			f.numVCPUs = 3
			return Options{}
		}, nil},
		{"too many vcpus", func(f *fakeKernel) Options {
			f.numVCPUs = maxVCPUs + 1
			return Options{}
		}, nil},
		{"filter table full", func(f *fakeKernel) Options {
			f.filterMax = 1
			return Options{Syscalls: []uint64{1, 2}}
		}, nil},
		{"filter ioctl", func(f *fakeKernel) Options {
			f.fail["ADD_SYSCALL_FILTER"] = unix.EFAULT
			return Options{Syscalls: []uint64{1}}
		}, unix.EFAULT},
		{"trap ioctl", func(f *fakeKernel) Options {
			f.fail["SET_SYSCALL_TRAP"] = unix.EIO
			return Options{Syscalls: []uint64{1}}
		}, unix.EIO},
		{"pause", func(f *fakeKernel) Options {
			return Options{Pauser: &fakePauser{f: f, suspendErr: errors.New("no libvirt")}}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKernel(t, 2)
			opts := tt.setup(f)
			l, err := f.attach(opts)
			if err == nil {
				l.Close()
				t.Fatal("attach succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("attach error %v, want %v", err, tt.is)
			}
			f.set(func() { clear(f.fail) })
			f.checkDetached()
		})
	}
}
