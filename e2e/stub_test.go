package e2e

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"nitro/core"
	"nitro/core/kvm/gdbstub"
	"nitro/core/kvm/rsp"
	"nitro/internal/lab"
)

// syscallPoints returns where g's 64-bit system calls enter the kernel and
// return to its entry code, as nitro finds them in the guest's memory.
func syscallPoints(tb testing.TB, g lab.Guest) (entry, exit uint64) {
	tb.Helper()
	guest, err := core.OpenGuest(lab.URI, g.Name, core.Kernel{})
	if err != nil {
		tb.Fatal(err)
	}
	defer guest.Close()
	stops := guest.Stops()
	return stops.Entry, stops.Exit
}

// gdbStub starts g's gdbstub where nitro starts it (a root-only directory
// under /run/nitro) and returns its socket. A test that fails may leave a
// client or a breakpoint behind: the guest is then detached as `nitro
// detach` does, running with no breakpoint.
func gdbStub(tb testing.TB, g lab.Guest) string {
	tb.Helper()
	dom := labDomain(tb, g)
	tb.Cleanup(func() {
		if !tb.Failed() {
			return // the test closed its clients, which detached
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := core.Detach(ctx, lab.URI, g.Name); err != nil {
			tb.Errorf("detaching %s: %v", g.Name, err)
		}
	})
	sock, err := dom.StartGDBServer(filepath.Join("/run/nitro", g.Name))
	if err != nil {
		tb.Fatal(err)
	}
	return sock
}

// dialListener starts a gdbstub listener on sock; it is closed (detached)
// when the test ends, if the test has not closed it.
func dialListener(tb testing.TB, sock string, cfg gdbstub.Config) *gdbstub.Listener {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := gdbstub.Dial(ctx, sock, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = l.Close() })
	return l
}

// listenerEvents takes n events from l, continuing each at once.
func listenerEvents(l *gdbstub.Listener, n int) error {
	ctx := context.Background()
	for range n {
		ev, err := l.Next(ctx)
		if err != nil {
			return err
		}
		if err := l.Continue(ev); err != nil {
			return err
		}
	}
	return nil
}

// rawLoop is the least a debugger must do per system call, with no listener
// around it: a breakpoint at the syscall entry, a register read per stop,
// a step over it. It is what the listener's cost is measured against.
type rawLoop struct {
	c      *rsp.Client
	entry  uint64 // 0 until the breakpoint is set
	rip    rsp.Register
	closed bool
}

// dialRaw connects to the stub at sock and sets the breakpoint at entry.
// The loop is closed when the test ends, if the test has not closed it.
func dialRaw(tb testing.TB, sock string, entry uint64) *rawLoop {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rsp.Dial(ctx, sock, nil)
	if err != nil {
		tb.Fatal(err)
	}
	r := &rawLoop{c: c}
	tb.Cleanup(func() { _ = r.close() })
	var ok bool
	if r.rip, ok = c.Layout().Lookup("rip"); !ok {
		tb.Fatal("the stub has no rip register")
	}
	if err := c.InsertBreakpoint(rsp.Software, entry); err != nil {
		tb.Fatal(err)
	}
	r.entry = entry // from now on close removes the breakpoint
	return r
}

// stepOver moves a vCPU stopped at the breakpoint past its instruction.
type stepOver func(stop rsp.Stop, regs []byte) error

// stops runs n stops of the loop: continue, wait for the breakpoint, read
// the registers, step over.
func (r *rawLoop) stops(n int, step stepOver) error {
	ctx := context.Background()
	for range n {
		if err := r.c.Continue(); err != nil {
			return err
		}
		stop, err := r.c.Wait(ctx)
		if err != nil {
			return err
		}
		regs, err := r.c.ReadRegisters()
		if err != nil {
			return err
		}
		if rip := r.rip.Uint(regs); rip != r.entry {
			return fmt.Errorf("stopped at %#x, not at the breakpoint %#x", rip, r.entry)
		}
		if err := step(stop, regs); err != nil {
			return err
		}
	}
	return nil
}

// singleStep steps over the breakpoint the plain way: remove, single-step,
// insert again.
func (r *rawLoop) singleStep(stop rsp.Stop, _ []byte) error {
	if err := r.c.RemoveBreakpoint(rsp.Software, r.entry); err != nil {
		return err
	}
	if err := r.c.Step(stop.Thread); err != nil {
		return err
	}
	if _, err := r.c.Wait(context.Background()); err != nil {
		return err
	}
	return r.c.InsertBreakpoint(rsp.Software, r.entry)
}

// swapgsStep returns a step over the `swapgs` that opens Linux's
// entry_SYSCALL_64, emulated: three register writes (rip, gs_base,
// k_gs_base) and no debug stop, as the listener does.
func (r *rawLoop) swapgsStep() (stepOver, error) {
	var insn [3]byte
	if err := r.c.ReadVirt(insn[:], r.entry); err != nil {
		return nil, err
	}
	if string(insn[:]) != "\x0f\x01\xf8" {
		return nil, fmt.Errorf("no swapgs at %#x: % x", r.entry, insn)
	}
	l := r.c.Layout()
	gs, ok1 := l.Lookup("gs_base")
	kgs, ok2 := l.Lookup("k_gs_base")
	if !ok1 || !ok2 {
		return nil, errors.New("the stub has no gs_base or k_gs_base register")
	}
	return func(_ rsp.Stop, regs []byte) error {
		for _, w := range []struct {
			r rsp.Register
			v uint64
		}{{r.rip, r.entry + 3}, {gs, kgs.Uint(regs)}, {kgs, gs.Uint(regs)}} {
			if err := r.c.WriteRegisterUint(w.r, w.v); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// close stops the VM if it runs, removes the breakpoint and detaches,
// which lets the VM run again. Later calls do nothing.
func (r *rawLoop) close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var errs []error
	if r.c.Running() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.c.Interrupt(); err != nil {
			errs = append(errs, err)
		} else if _, err := r.c.Wait(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if r.entry != 0 {
		errs = append(errs, r.c.RemoveBreakpoint(rsp.Software, r.entry))
	}
	errs = append(errs, r.c.Detach(), r.c.Close())
	return errors.Join(errs...)
}
