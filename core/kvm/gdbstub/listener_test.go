package gdbstub

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"nitro/core/kvm"
	"nitro/core/kvm/rsp"
	"nitro/core/kvm/rsp/rspfake"
)

// The simulated guest: a syscall loop per vCPU through a Linux-like entry
// path. Addresses are virtual.
const (
	kbase    = 0xffffffff80000000
	user     = 0x400000
	entry    = kbase + 0x1000 // swapgs, then dispatch
	hOpen    = kbase + 0x2000 // endbr64, then ret
	hOther   = kbase + 0x2100 // nopl 0(%rax,%rax), then ret
	retSite  = kbase + 0x3000 // mov %rax,0x50(%rbx): emulated store
	exitSite = kbase + 0x3100 // cmp %rcx,%r11: needs a real step
	userGS   = 0x7f0000001000
	nrOpen   = 2
	nrOther  = 3
)

func kernelGS(cpu int) uint64 { return 0xffff888000100000 + uint64(cpu)<<12 }
func stackTop(cpu int) uint64 { return kbase + 0x8000 + uint64(cpu+1)*0x1000 }
func ptRegs(cpu int) uint64   { return kbase + 0x4000 + uint64(cpu)*0x100 }
func result(nr uint64) uint64 { return nr * 100 }

// syscallNr is the n-th system call of a vCPU: vCPU 1 never opens, so its
// returns pass the return breakpoint armed for vCPU 0's opens.
func syscallNr(cpu, n int) uint64 {
	if cpu == 1 {
		return nrOther
	}
	return []uint64{nrOpen, nrOther}[n%2]
}
func handlerOf(nr uint64) uint64 {
	if nr == nrOpen {
		return hOpen
	}
	return hOther
}

// guest is the program the fake runs, with what it observed.
type guest struct {
	done       []int    // syscalls completed per vCPU
	lastResult []uint64 // rax seen back in user mode, per vCPU
	violations []string
}

func newGuest(t *testing.T, ncpu int) (*rspfake.Target, *guest) {
	f := rspfake.New(ncpu, 64<<10)
	f.VirtBase = kbase
	copy(f.Virt(entry, 3), []byte{0x0f, 0x01, 0xf8})
	copy(f.Virt(hOpen, 4), endbr64)
	copy(f.Virt(hOther, 5), []byte{0x0f, 0x1f, 0x44, 0x00, 0x00})
	copy(f.Virt(retSite, 4), []byte{0x48, 0x89, 0x43, 0x50})
	copy(f.Virt(exitSite, 3), []byte{0x49, 0x39, 0xcb})
	g := &guest{done: make([]int, ncpu), lastResult: make([]uint64, ncpu)}
	for i, c := range f.CPUs {
		c.Set("rip", user)
		c.Set("gs_base", userGS)
		c.Set("k_gs_base", kernelGS(i))
		c.Set("cr3", 0x1000*uint64(i+7))
		c.Set("rsp", 0x7ffff000)
	}
	f.Exec = g.exec
	return f, g
}

func (g *guest) fail(format string, args ...any) {
	if len(g.violations) < 10 {
		g.violations = append(g.violations, fmt.Sprintf(format, args...))
	}
}

func (g *guest) exec(t *rspfake.Target, i int) {
	c := t.CPUs[i]
	rip := c.Get("rip")
	switch rip {
	case user:
		if gs := c.Get("gs_base"); gs != userGS {
			g.fail("cpu %d: user gs_base %#x", i, gs)
		}
		nr := syscallNr(i, g.done[i])
		c.Set("rax", nr)
		c.Set("r12", nr) // the program's own copy, to check results
		c.Set("rcx", user)
		c.Set("rip", entry)
	case entry:
		gs, kgs := c.Get("gs_base"), c.Get("k_gs_base")
		c.Set("gs_base", kgs)
		c.Set("k_gs_base", gs)
		c.Set("rip", entry+3)
	case entry + 3: // call *sys_call_table(,%rax,8)
		if gs := c.Get("gs_base"); gs != kernelGS(i) {
			g.fail("cpu %d: kernel gs_base %#x", i, gs)
		}
		sp := stackTop(i) - 8
		binary.LittleEndian.PutUint64(t.Virt(sp, 8), retSite)
		c.Set("rsp", sp)
		c.Set("rbx", ptRegs(i))
		c.Set("rip", handlerOf(c.Get("rax")))
	case hOpen:
		c.Set("rip", hOpen+4)
	case hOther:
		c.Set("rip", hOther+5)
	case hOpen + 4:
		// Opens take a while, so other vCPUs return meanwhile.
		if c.Get("r13") < 20 {
			c.Set("r13", c.Get("r13")+1)
			return
		}
		c.Set("r13", 0)
		g.ret(t, c)
	case hOther + 5:
		g.ret(t, c)
	case retSite:
		binary.LittleEndian.PutUint64(t.Virt(c.Get("rbx")+0x50, 8), c.Get("rax"))
		c.Set("rip", retSite+4)
	case retSite + 4:
		c.Set("rip", exitSite)
	case exitSite:
		c.Set("rip", exitSite+3)
	case exitSite + 3: // swapgs; sysret
		gs, kgs := c.Get("gs_base"), c.Get("k_gs_base")
		c.Set("gs_base", kgs)
		c.Set("k_gs_base", gs)
		c.Set("rip", c.Get("rcx"))
		c.Set("rsp", 0x7ffff000)
		g.lastResult[i] = c.Get("rax")
		g.done[i]++
	default:
		g.fail("cpu %d lost at %#x", i, rip)
		c.Set("rip", user)
	}
}

func (g *guest) ret(t *rspfake.Target, c *rspfake.CPU) {
	sp := c.Get("rsp")
	c.Set("rax", result(c.Get("r12")))
	c.Set("rip", binary.LittleEndian.Uint64(t.Virt(sp, 8)))
	c.Set("rsp", sp+8)
}

func startListener(t *testing.T, f *rspfake.Target, cfg Config) *Listener {
	t.Helper()
	c, err := rsp.New(f.Dial(), &rsp.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// closeAndCheck closes the listener and checks the invariant: detached,
// no breakpoint left, no byte sent to a running VM, guest not confused.
func closeAndCheck(t *testing.T, l *Listener, f *rspfake.Target, g *guest) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if !f.Detached() || len(f.Breakpoints()) != 0 {
		t.Errorf("after Close: detached %v, breakpoints %x", f.Detached(), f.Breakpoints())
	}
	if v := f.Violations(); len(v) != 0 {
		t.Errorf("protocol violations: %q", v)
	}
	if g != nil && len(g.violations) != 0 {
		t.Errorf("guest broken: %q", g.violations)
	}
	if _, err := l.Next(context.Background()); !errors.Is(err, kvm.ErrDetached) {
		t.Errorf("Next after Close: %v", err)
	}
}

func TestEntryExit(t *testing.T) {
	for _, alwaysStep := range []bool{false, true} {
		t.Run(fmt.Sprintf("alwaysStep=%v", alwaysStep), func(t *testing.T) {
			f, g := newGuest(t, 2)
			l := startListener(t, f, Config{SyscallEntry: entry, SyscallExit: exitSite, AlwaysStep: alwaysStep})
			want := map[int]kvm.Direction{0: kvm.Enter, 1: kvm.Enter}
			nr := map[int]uint64{}
			for range 40 {
				ev, err := l.Next(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if ev.Direction != want[ev.VCPU] {
					t.Fatalf("vCPU %d: %v, want %v", ev.VCPU, ev.Direction, want[ev.VCPU])
				}
				switch ev.Direction {
				case kvm.Enter:
					// Stopped before swapgs: user gs_base still in place.
					if ev.Regs.RIP != entry || ev.SRegs.GSBase != userGS || ev.SRegs.KernelGSBase != kernelGS(ev.VCPU) {
						t.Fatalf("enter: rip %#x gs %#x kgs %#x", ev.Regs.RIP, ev.SRegs.GSBase, ev.SRegs.KernelGSBase)
					}
					nr[ev.VCPU] = ev.Regs.RAX
					want[ev.VCPU] = kvm.Exit
				case kvm.Exit:
					if ev.Regs.RIP != exitSite || ev.Regs.RAX != result(nr[ev.VCPU]) {
						t.Fatalf("exit: rip %#x rax %#x after nr %d", ev.Regs.RIP, ev.Regs.RAX, nr[ev.VCPU])
					}
					want[ev.VCPU] = kvm.Enter
				}
				if ev.SRegs.CR3 != 0x1000*uint64(ev.VCPU+7) || ev.Mechanism != kvm.Syscall {
					t.Fatalf("cr3 %#x mechanism %v", ev.SRegs.CR3, ev.Mechanism)
				}
				if err := l.Continue(ev); err != nil {
					t.Fatal(err)
				}
			}
			s := l.Stats()
			if s.Events != 40 {
				t.Errorf("stats %+v", s)
			}
			// The entry's swapgs is emulated unless told not to; the exit
			// instruction always needs a real step.
			if alwaysStep && s.Emulated != 0 || !alwaysStep && (s.Emulated < 19 || s.Steps > 21) {
				t.Errorf("stats %+v", s)
			}
			closeAndCheck(t, l, f, g)
			if g.done[0]+g.done[1] < 19 {
				t.Errorf("guest completed %v syscalls", g.done)
			}
		})
	}
}

func TestSetRegs(t *testing.T) {
	f, g := newGuest(t, 1)
	l := startListener(t, f, Config{SyscallEntry: entry, SyscallExit: exitSite})
	for range 4 {
		ev, err := l.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ev.Direction == kvm.Exit {
			ev.Regs.RAX = 0xdead
			if err := l.SetRegs(ev); err != nil {
				t.Fatal(err)
			}
			// QEMU would keep a written ZF for good: refused, nothing written.
			ev.Regs.RFlags ^= 1 << 6
			if err := l.SetRegs(ev); !errors.Is(err, kvm.ErrNotSupported) {
				t.Fatalf("SetRegs changing ZF: %v, want ErrNotSupported", err)
			}
			ev.Regs.RFlags ^= 1 << 6
		}
		if err := l.Continue(ev); err != nil {
			t.Fatal(err)
		}
	}
	// Only the changed register is written: rax (number 0), once per exit.
	if n, all := f.Count("P0="), f.Count("P"); n != 2 || all != 2+2*3 {
		t.Errorf("%d P packets for rax, %d in all; want 2 and 2 more per swapgs emulation", n, all)
	}
	closeAndCheck(t, l, f, g)
	if g.lastResult[0] != 0xdead {
		t.Errorf("guest saw result %#x, want 0xdead", g.lastResult[0])
	}
}

// TestFailedStepCloses: a step that fails (the vCPU does not move, or
// Close cancels the step) leaves its breakpoint lifted; Close then removes
// the others and detaches, without asking QEMU to remove the lifted one.
func TestFailedStepCloses(t *testing.T) {
	f, g := newGuest(t, 1)
	l := startListener(t, f, Config{SyscallEntry: entry, SyscallExit: exitSite, AlwaysStep: true})
	ev, err := l.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.StallSteps(maxStepTries)
	if err := l.Continue(ev); err == nil {
		t.Fatal("Continue over a step that never moves: no error")
	}
	closeAndCheck(t, l, f, g)
}

// TestStepThatDoesNotMove: a single step QEMU answers with the vCPU still
// at the breakpoint is taken again, so no call is reported twice.
func TestStepThatDoesNotMove(t *testing.T) {
	f, _ := newGuest(t, 1)
	l := startListener(t, f, Config{SyscallEntry: entry, SyscallExit: exitSite, AlwaysStep: true})
	want := kvm.Enter
	for range 8 {
		ev, err := l.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ev.Direction != want {
			t.Fatalf("got %v, want %v: a call reported twice", ev.Direction, want)
		}
		want = 1 - want
		f.StallSteps(2)
		if err := l.Continue(ev); err != nil {
			t.Fatal(err)
		}
	}
	if st := l.Stats(); st.Steps != 8 {
		t.Errorf("%d step-overs, want 8", st.Steps)
	}
}

func TestHandlersFilter(t *testing.T) {
	f, g := newGuest(t, 2)
	l := startListener(t, f, Config{SyscallEntry: entry, Handlers: []uint64{hOpen}})
	if got := f.Breakpoints(); !slices.Equal(got, []uint64{hOpen}) {
		t.Fatalf("breakpoints %x, want only the handler", got)
	}
	inside := map[int]bool{}
	for range 30 {
		ev, err := l.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Direction {
		case kvm.Enter:
			if inside[ev.VCPU] || ev.Regs.RIP != hOpen {
				t.Fatalf("vCPU %d: enter at %#x, inside %v", ev.VCPU, ev.Regs.RIP, inside[ev.VCPU])
			}
		case kvm.Exit:
			if !inside[ev.VCPU] || ev.Regs.RIP != retSite || ev.Regs.RAX != result(nrOpen) {
				t.Fatalf("vCPU %d: exit at %#x rax %#x inside %v", ev.VCPU, ev.Regs.RIP, ev.Regs.RAX, inside[ev.VCPU])
			}
		}
		inside[ev.VCPU] = ev.Direction == kvm.Enter
		if err := l.Continue(ev); err != nil {
			t.Fatal(err)
		}
	}
	// Stop at one more event so memory can be read.
	ev, err := l.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_ = ev
	// The return site's store to pt_regs was emulated, not stepped.
	for cpu := range 1 {
		var b [8]byte
		if err := l.Memory().ReadVirt(b[:], ptRegs(cpu)+0x50); err != nil {
			t.Fatal(err)
		}
		if v := binary.LittleEndian.Uint64(b[:]); v != result(nrOpen) && v != result(nrOther) {
			t.Errorf("vCPU %d: pt_regs ax %#x", cpu, v)
		}
	}
	// Enters skip the handler's endbr64; vCPU 1's returns hit the
	// return breakpoint and have its store emulated.
	if s := l.Stats(); s.Steps != 0 || s.Stops <= s.Events || s.Emulated < s.Events/2+s.Stops-s.Events {
		t.Errorf("stats %+v: want foreign returns, all emulated", s)
	}
	closeAndCheck(t, l, f, g)
	// Other syscalls ran too, unseen.
	if g.done[1] < 15 {
		t.Errorf("guest completed %v syscalls", g.done)
	}
}

func TestNextCancelAndCloseWhileRunning(t *testing.T) {
	f, g := newGuest(t, 2)
	f.MaxSteps = 50 // then the fake idles, as a VM where nothing hits
	l := startListener(t, f, Config{SyscallEntry: 0x1234})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next: %v", err)
	}
	if !f.Running() {
		t.Error("the VM should keep running after a cancelled Next")
	}
	done := make(chan error)
	go func() {
		_, err := l.Next(context.Background())
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	closeAndCheck(t, l, f, g)
	if err := <-done; !errors.Is(err, kvm.ErrDetached) {
		t.Errorf("blocked Next: %v", err)
	}
}

func TestMisuse(t *testing.T) {
	f, g := newGuest(t, 1)
	l := startListener(t, f, Config{SyscallEntry: entry})
	ev, err := l.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Next(context.Background()); !errors.Is(err, ErrNotContinued) {
		t.Errorf("Next before Continue: %v", err)
	}
	stale := *ev
	if err := l.Continue(&stale); !errors.Is(err, ErrStaleEvent) {
		t.Errorf("Continue of a copy: %v", err)
	}
	// Memory is readable while stopped.
	p := make([]byte, 3)
	if err := l.Memory().ReadPhys(p, entry-kbase); err != nil || p[2] != 0xf8 {
		t.Errorf("ReadPhys: % x, %v", p, err)
	}
	if err := l.Memory().ReadVirt(p, entry); err != nil || p[0] != 0x0f {
		t.Errorf("ReadVirt: % x, %v", p, err)
	}
	if err := l.Continue(ev); err != nil {
		t.Fatal(err)
	}
	if err := l.Memory().ReadPhys(p, 0); !errors.Is(err, rsp.ErrRunning) {
		t.Errorf("ReadPhys while running: %v", err)
	}
	closeAndCheck(t, l, f, g)
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	f2 := rspfake.New(1, 4096)
	c, err := rsp.New(f2.Dial(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(c, Config{}); err == nil || !f2.Detached() {
		t.Errorf("New without addresses: %v, detached %v", err, f2.Detached())
	}
}

func TestReleaseAfterCrash(t *testing.T) {
	f, _ := newGuest(t, 1)
	c, err := rsp.New(f.Dial(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(c, Config{SyscallEntry: entry}); err != nil {
		t.Fatal(err)
	}
	// The process dies: the connection closes, nothing detaches.
	c.Close()
	if f.Running() || len(f.Breakpoints()) == 0 {
		t.Fatal("the fake should be left stopped with its breakpoint, like QEMU")
	}
	path := filepath.Join(t.TempDir(), "gdb.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if conn, err := ln.Accept(); err == nil {
			_ = f.Serve(conn)
			conn.Close()
		}
	}()
	if err := Release(context.Background(), path, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if !f.Running() || len(f.Breakpoints()) != 0 {
		t.Errorf("after release: running %v, breakpoints %x", f.Running(), f.Breakpoints())
	}
}

// TestPauseResume pauses a VM that runs without hitting anything and one
// held at an event; each stays stopped until Resume.
func TestPauseResume(t *testing.T) {
	f, g := newGuest(t, 1)
	f.MaxSteps = 50 // nothing hits: the fake idles as a running VM
	l := startListener(t, f, Config{SyscallEntry: 0x1234})
	events := make(chan error, 1)
	go func() {
		_, err := l.Next(context.Background())
		events <- err
	}()
	waitFor(t, "the VM running", f.Running)
	if err := l.Pause(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pause", l.Paused)
	time.Sleep(20 * time.Millisecond)
	if f.Running() {
		t.Fatal("paused VM runs")
	}
	l.Resume()
	waitFor(t, "the VM running again", func() bool { return f.Running() && !l.Paused() })
	closeAndCheck(t, l, f, g)
	if err := <-events; !errors.Is(err, kvm.ErrDetached) {
		t.Errorf("Next: %v", err)
	}

	// Paused while an event holds the VM: Continue leaves it stopped.
	f, g = newGuest(t, 1)
	l = startListener(t, f, Config{SyscallEntry: entry, SyscallExit: exitSite})
	ev, err := l.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Pause(); err != nil {
		t.Fatal(err)
	}
	if err := l.Continue(ev); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := l.Next(context.Background())
		events <- err
	}()
	waitFor(t, "the pause", l.Paused)
	time.Sleep(20 * time.Millisecond)
	select {
	case err := <-events:
		t.Fatalf("Next returned while paused: %v", err)
	default:
	}
	if f.Running() {
		t.Fatal("paused VM runs")
	}
	l.Resume()
	if err := <-events; err != nil {
		t.Fatalf("Next after Resume: %v", err)
	}
	closeAndCheck(t, l, f, g)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// leaveBreakpoints plays a client that dies after setting breakpoints: the
// connection closes without detaching. QEMU keeps them until the next
// client's `?`; this stub keeps them for good, as a stub may.
func leaveBreakpoints(t *testing.T, f *rspfake.Target, addrs ...uint64) {
	t.Helper()
	f.KeepBreakpoints = true
	c, err := rsp.New(f.Dial(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if err := c.InsertBreakpoint(rsp.Software, a); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
}

// nextEvents takes n events, continuing each, within two seconds.
func nextEvents(t *testing.T, l *Listener, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for i := range n {
		ev, err := l.Next(ctx)
		if err != nil {
			t.Fatalf("event %d: %v (stats %+v)", i, err, l.Stats())
		}
		if err := l.Continue(ev); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
}

// TestLeftoverBreakpointElsewhere: a dead client's breakpoint at an address
// this listener does not use stops the guest there; continuing without
// removing it would stop it there again forever.
func TestLeftoverBreakpointElsewhere(t *testing.T) {
	f, g := newGuest(t, 1)
	leaveBreakpoints(t, f, retSite)
	l := startListener(t, f, Config{SyscallEntry: entry, SyscallExit: exitSite})
	nextEvents(t, l, 10)
	if slices.Contains(f.Breakpoints(), retSite) || l.Stats().Foreign != 1 {
		t.Errorf("the dead client's breakpoint: stats %+v, breakpoints %x", l.Stats(), f.Breakpoints())
	}
	closeAndCheck(t, l, f, g)
}

// TestLeftoverBreakpointAtOwnAddress: a dead client's breakpoint where this
// listener sets its own would double it in QEMU, and stepping over that
// address (one removed, one left) would never move the vCPU.
func TestLeftoverBreakpointAtOwnAddress(t *testing.T) {
	f, g := newGuest(t, 1)
	leaveBreakpoints(t, f, entry, exitSite, exitSite)
	l := startListener(t, f, Config{SyscallEntry: entry, SyscallExit: exitSite, AlwaysStep: true})
	nextEvents(t, l, 10)
	closeAndCheck(t, l, f, g)
}

// TestForgottenReturnRemoved: a handler's return that is forgotten (over
// maxReturns awaited: a task that never returns, as from exit) takes its
// breakpoint with it when no other task waits there.
func TestForgottenReturnRemoved(t *testing.T) {
	const (
		handler = kbase + 0x1000 // endbr64, then back to user mode: no return
		first   = kbase + 0x5000 // the first call's return address
		later   = kbase + 0x6000 // every later call's
	)
	f := rspfake.New(1, 1<<20)
	f.VirtBase = kbase
	copy(f.Virt(handler, 4), endbr64)
	f.CPUs[0].Set("rip", user)
	f.CPUs[0].Set("rsp", kbase+0xf0000)
	calls := 0
	f.Exec = func(t *rspfake.Target, i int) {
		c := t.CPUs[i]
		if c.Get("rip") != user {
			c.Set("rip", user)
			return
		}
		ret := uint64(later)
		if calls == 0 {
			ret = first
		}
		calls++
		sp := c.Get("rsp") - 8 // a new stack slot each call: a new task
		binary.LittleEndian.PutUint64(t.Virt(sp, 8), ret)
		c.Set("rsp", sp)
		c.Set("rip", handler)
	}
	l := startListener(t, f, Config{Handlers: []uint64{handler}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for range maxReturns + 1 {
		ev, err := l.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Continue(ev); err != nil {
			t.Fatal(err)
		}
	}
	if s := l.Stats(); s.Forgotten != 1 {
		t.Errorf("stats %+v, want one return forgotten", s)
	}
	if bps := f.Breakpoints(); slices.Contains(bps, first) || !slices.Contains(bps, later) {
		t.Errorf("breakpoints %x: want the forgotten return's removed, the awaited one's kept", bps)
	}
	closeAndCheck(t, l, f, nil)
}

// TestPlanFollowsPatchedCode: code at a breakpoint patched while traced
// (ftrace turning a 5-byte nop into a jump, livepatch) is stepped over as
// it now is, not as it was when first planned.
func TestPlanFollowsPatchedCode(t *testing.T) {
	const (
		site   = kbase + 0x1000 // nopl 0(%rax,%rax), later jmp target
		target = kbase + 0x1800
	)
	f := rspfake.New(1, 64<<10)
	f.VirtBase = kbase
	nop5 := []byte{0x0f, 0x1f, 0x44, 0x00, 0x00}
	copy(f.Virt(site, 5), nop5)
	f.CPUs[0].Set("rip", user)
	patched, stale, jumped := false, 0, 0
	f.Exec = func(t *rspfake.Target, i int) {
		c := t.CPUs[i]
		switch rip := c.Get("rip"); rip {
		case user:
			c.Set("rip", site)
		case site: // stepped for real: run what is there
			code := t.Virt(site, 5)
			if code[0] == 0xe9 {
				c.Set("rip", site+5+uint64(int64(int32(binary.LittleEndian.Uint32(code[1:])))))
			} else {
				c.Set("rip", site+5)
			}
		case site + 5:
			if patched {
				stale++
			}
			c.Set("rip", user)
		case target:
			jumped++
			c.Set("rip", user)
		}
	}
	l := startListener(t, f, Config{SyscallEntry: site})
	for n := range 6 {
		ev, err := l.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 2 { // patched while the vCPU is held at it
			jmp := []byte{0xe9, 0, 0, 0, 0}
			binary.LittleEndian.PutUint32(jmp[1:], uint32(target-(site+5)))
			copy(f.Virt(site, 5), jmp)
			patched = true
		}
		if err := l.Continue(ev); err != nil {
			t.Fatal(err)
		}
	}
	if stale != 0 || jumped != 4 {
		t.Errorf("after the patch: %d runs of the old code, %d of the new; want 0 and 4", stale, jumped)
	}
	closeAndCheck(t, l, f, nil)
}

// TestKilledMidEmulation: nitro may die between any two of the register
// writes that emulate the instruction at a breakpoint; the guard then
// detaches and the vCPU runs on from whatever state those writes left.
// No prefix of them may leave the kernel running on the user's gs base
// (swapgs run twice): the guest would die of a double fault.
func TestKilledMidEmulation(t *testing.T) {
	for writes := 0; writes <= 3; writes++ {
		t.Run(fmt.Sprint(writes), func(t *testing.T) {
			f, g := newGuest(t, 1)
			l := startListener(t, f, Config{SyscallEntry: entry, SyscallExit: exitSite})
			ev, err := l.Next(context.Background())
			if err != nil || ev.Regs.RIP != entry {
				t.Fatalf("first event %+v, %v; want the entry", ev, err)
			}
			f.FailAfter("P", writes)
			if err := l.Continue(ev); err == nil && writes < 3 {
				t.Fatal("Continue went on with its register writes failing")
			}
			// The guard, on a connection of its own: QEMU drops every
			// breakpoint and the VM runs.
			c, err := rsp.New(f.Dial(), &rsp.Options{Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Detach(); err != nil {
				t.Fatal(err)
			}
			for range 200 {
				g.exec(f, 0)
			}
			for _, v := range g.violations {
				if strings.Contains(v, "kernel gs_base") || strings.Contains(v, "lost") {
					t.Errorf("after %d writes: %s", writes, v)
				}
			}
		})
	}
}

// TestStartPausedAndLeave: a VM someone paused before the listener came
// is not resumed by it, and Leave lets it go with no breakpoint and no
// detach (QEMU's detach would run it).
func TestStartPausedAndLeave(t *testing.T) {
	f, _ := newGuest(t, 1)
	l := startListener(t, f, Config{SyscallEntry: entry, StartPaused: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on a paused VM: %v", err)
	}
	if f.Running() || !l.Paused() {
		t.Fatalf("running %v, paused %v: the listener resumed a VM someone else paused", f.Running(), l.Paused())
	}
	if err := l.Leave(); err != nil {
		t.Fatal(err)
	}
	if f.Running() || f.Detached() || len(f.Breakpoints()) != 0 {
		t.Errorf("after Leave: running %v, detached %v, breakpoints %x", f.Running(), f.Detached(), f.Breakpoints())
	}
}
