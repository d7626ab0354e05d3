package linux

import (
	"errors"
	"testing"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/kvm"
	"nitro/core/vmi"
)

// eacces is -EACCES as the kernel returns it.
const eacces = ^uint64(12)

// TestInjectX8664 skips a 64-bit call and sets its result where the
// kernel takes them: the number in rax at the entry point (the listener
// writes the registers back), the result in pt_regs at the exit.
func TestInjectX8664(t *testing.T) {
	k, events := snapshot(t)
	b := newTestBackend(k, vmi.NewMemory(k.phys))
	kern := b.mem.Space(k.tables.Root, 0)

	call, err := b.Handle(&events[0]) // openat
	if err != nil {
		t.Fatal(err)
	}
	if err := call.Arguments.SetReturn(0); !errors.Is(err, api.ErrNotAtExit) {
		t.Errorf("SetReturn at an entry: %v, want api.ErrNotAtExit", err)
	}
	if err := call.Arguments.SetNumber(^uint64(0)); err != nil || events[0].Regs.RAX != ^uint64(0) {
		t.Fatalf("SetNumber: %v, rax %#x", err, events[0].Regs.RAX)
	}
	exit, err := b.Handle(&events[1])
	if err != nil {
		t.Fatal(err)
	}
	// The exit is the call the process asked for, not the number it ran as.
	if exit.Name != "openat" || !exit.Matched {
		t.Fatalf("exit %s matched %v, want openat's", exit.Name, exit.Matched)
	}
	if err := exit.Arguments.SetNumber(1); !errors.Is(err, api.ErrNotAtEntry) {
		t.Errorf("SetNumber at an exit: %v, want api.ErrNotAtEntry", err)
	}
	if err := b.SetResult(exit, eacces); err != nil {
		t.Fatal(err)
	}
	if ax, err := kern.U64(ptRegsArea + 8*ptAX); err != nil || ax != eacces {
		t.Errorf("pt_regs->ax = %#x, %v; want -EACCES", ax, err)
	}
	want := `[42 cat] openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY) = -1 EACCES (Permission denied) (INJECTED) matched`
	if got := line(&exit.Syscall); got != want {
		t.Errorf("injected exit: %s\n want %s", got, want)
	}
	if exit.Ret != -13 || exit.Errno != "EACCES" || !exit.Injected || exit.RetText != "-1 EACCES (Permission denied) (INJECTED)" {
		t.Errorf("injected exit: ret %d errno %q injected %v, RetText %q", exit.Ret, exit.Errno, exit.Injected, exit.RetText)
	}

	// A success injected into read: what the call "read" is decoded with
	// the injected length, as strace does.
	entry, err := b.Handle(&events[2])
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetResult(entry, 0); !errors.Is(err, backend.ErrForeignCall) {
		t.Errorf("SetResult on an entry: %v, want ErrForeignCall", err)
	}
	exit, err = b.Handle(&events[3])
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetResult(exit, 5); err != nil {
		t.Fatal(err)
	}
	if got, want := line(&exit.Syscall), `[42 cat] read(3, "nitro", 128) = 5 (INJECTED) matched`; got != want {
		t.Errorf("injected read: %s\n want %s", got, want)
	}
}

// TestInjectCompat skips a 32-bit call at do_fast_syscall_32, which reads
// the number from pt_regs: SetNumber writes orig_ax and ax there.
func TestInjectCompat(t *testing.T) {
	k, _ := snapshot(t)
	b := newTestBackend(k, vmi.NewMemory(k.phys))
	kern := b.mem.Space(k.tables.Root, 0)
	regs := uint64(ptRegsArea + 0x800)
	const open32 = 5
	for w, v := range map[int]uint64{ptOrigAX: open32, ptAX: ^uint64(37), ptBX: userPath, ptSP: userStack} {
		k.put64(regs+8*uint64(w), v)
	}
	sregs := kvm.SRegs{CR3: k.tables.Root, GSBase: perCPU}
	enter := kvm.Event{Direction: kvm.Enter, Mechanism: kvm.Sysenter, SRegs: sregs, Regs: kvm.Regs{RIP: fastEntry32, RDI: regs}}
	call, err := b.Handle(&enter)
	if err != nil {
		t.Fatal(err)
	}
	if err := call.Arguments.SetNumber(^uint64(0)); err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{ptOrigAX, ptAX} {
		if v, err := kern.U64(regs + 8*uint64(w)); err != nil || v != ^uint64(0) {
			t.Errorf("pt_regs word %d = %#x, %v; want -1", w, v, err)
		}
	}
	exit := kvm.Event{Direction: kvm.Exit, Mechanism: kvm.Sysenter, SRegs: sregs, Regs: kvm.Regs{RIP: exit32, RSP: regs}}
	ret, err := b.Handle(&exit)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetResult(ret, eacces); err != nil {
		t.Fatal(err)
	}
	if ax, _ := kern.U64(regs + 8*ptAX); ax != eacces {
		t.Errorf("pt_regs->ax = %#x, want -EACCES", ax)
	}
	if got, want := line(&ret.Syscall), `[42 cat] open("/etc/nitro/probe-input", O_RDONLY) = -1 EACCES (Permission denied) (INJECTED) matched`; got != want || ret.ABI != backend.I386 {
		t.Errorf("injected compat exit (%v): %s\n want %s", ret.ABI, got, want)
	}
}

// TestInjectWhereItCannot: at a handler's stop the kernel has chosen the
// call already; at a trapped return the result is still in rax.
func TestInjectWhereItCannot(t *testing.T) {
	k, _ := snapshot(t)
	b := newTestBackend(k, vmi.NewMemory(k.phys))
	const handler = 0xffffffff81300000
	b.stops[handler] = stop{kind: atHandler, nr: 257}
	sregs := kvm.SRegs{CR3: k.tables.Root, GSBase: perCPU}
	at := kvm.Event{Direction: kvm.Enter, SRegs: sregs, Regs: kvm.Regs{RIP: handler, RDI: ptRegsArea}}
	call, err := b.Handle(&at)
	if err != nil {
		t.Fatal(err)
	}
	if err := call.Arguments.SetNumber(^uint64(0)); !errors.Is(err, api.ErrNotAtEntry) {
		t.Errorf("SetNumber at a handler: %v, want api.ErrNotAtEntry", err)
	}
	// Its exit, caught back in the handler's caller: rax carries the result.
	ret := kvm.Event{Direction: kvm.Exit, SRegs: sregs, Regs: kvm.Regs{RIP: 0xffffffff81001234, RAX: 3}}
	exit, err := b.Handle(&ret)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetResult(exit, eacces); err != nil || ret.Regs.RAX != eacces || exit.Errno != "EACCES" {
		t.Errorf("SetResult at a filtered exit: %v, rax %#x, errno %q", err, ret.Regs.RAX, exit.Errno)
	}
}

func TestInjectNames(t *testing.T) {
	k, _ := snapshot(t)
	b := newTestBackend(k, vmi.NewMemory(k.phys))
	b.names = make([]string, 600)
	b.names[580] = "newcall" // a call of the guest's table the built-in one lacks
	for _, c := range []struct {
		abi  backend.ABI
		name string
		nr   uint64
		ok   bool
	}{
		{backend.X8664, "openat", 257, true},
		{backend.I386, "openat", 295, true},
		{backend.X8664, "socketcall", 0, false},
		{backend.I386, "socketcall", 102, true},
		{backend.X8664, "newcall", 580, true},
		{backend.I386, "newcall", 0, false},
		{backend.X8664, "2", 2, true},
		{backend.X8664, "nosuchcall", 0, false},
	} {
		if nr, ok := b.SyscallNumber(c.abi, c.name); nr != c.nr || ok != c.ok {
			t.Errorf("SyscallNumber(%v, %q) = %d %v, want %d %v", c.abi, c.name, nr, ok, c.nr, c.ok)
		}
	}
	for name, want := range map[string]uint64{"EACCES": 13, "ENOENT": 2, "13": 13, "4095": 4095, "EOPNOTSUPP": 95, "ERESTARTSYS": 512} {
		if got, err := b.Errno(name); err != nil || got != want {
			t.Errorf("Errno(%q) = %d, %v; want %d", name, got, err, want)
		}
	}
	for _, name := range []string{"EFOO", "eacces", "0", "4096", "-2", ""} {
		if got, err := b.Errno(name); err == nil {
			t.Errorf("Errno(%q) = %d, want an error", name, got)
		}
	}
}
