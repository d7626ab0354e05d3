package core

import (
	"context"
	"errors"
	"fmt"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/kvm"
)

// ErrNotHeld is returned when editing or continuing while no call is held.
var ErrNotHeld = api.ErrNotHeld

// holdReq is work for the Run goroutine while it holds a call: the vCPU
// state belongs to that goroutine.
type holdReq struct {
	edit func(regs *kvm.Regs, call *backend.Call) error // nil: continue
	// done takes the answer; a continue's comes once the edited registers
	// are written, so a write that fails is the Continue's error.
	done chan error
}

// Break arms a breakpoint.
func (s *Session) Break(_ context.Context, b api.Breakpoint) error {
	s.breaks.Arm(b)
	return nil
}

// ClearBreak disarms a breakpoint.
func (s *Session) ClearBreak(_ context.Context, b api.Breakpoint) error {
	s.breaks.Clear(b)
	return nil
}

// pauser is a listener that can stop the whole VM at will.
type pauser interface {
	Pause() error
	Resume()
	Paused() bool
}

// regsChecker is implemented by listeners that cannot write every change
// of registers (gdbstub: rflags' arithmetic flags).
type regsChecker interface {
	CheckRegs(from, to *kvm.Regs) error
}

// Pause stops the whole guest, wherever it is, until Resume. A held call
// stays held; Continue then lets it run only once the guest is resumed.
func (s *Session) Pause(context.Context) error {
	p, ok := s.listener.(pauser)
	if !ok {
		return fmt.Errorf("pausing: %w", api.ErrNotSupported)
	}
	return p.Pause()
}

// Resume ends a Pause.
func (s *Session) Resume(context.Context) error {
	if p, ok := s.listener.(pauser); ok {
		p.Resume()
	}
	return nil
}

// paused says whether the guest is stopped for the user: a held call, a
// Pause, or a pause made outside nitro (virsh suspend), which nitro leaves
// in place until it is resumed there.
func (s *Session) paused() bool {
	p, ok := s.listener.(pauser)
	return s.isHolding() || ok && p.Paused()
}

// Held delivers each call that a breakpoint holds.
func (s *Session) Held() <-chan api.Held { return s.holds }

// Edit changes the held call: a register, an argument, or the memory an
// argument points to. The arguments are decoded again afterwards, and the
// call as it now stands is returned.
func (s *Session) Edit(ctx context.Context, e api.Edit) (api.Held, error) {
	var held api.Held
	err := s.request(ctx, func(regs *kvm.Regs, call *backend.Call) error {
		if e.Seq != 0 && e.Seq != call.Seq {
			return fmt.Errorf("call %d: %w (call %d is)", e.Seq, ErrNotHeld, call.Seq)
		}
		if err := applyEdit(e, regs, call); err != nil {
			return err
		}
		if err := s.backend.Redecode(call); err != nil {
			return err
		}
		held = heldOf(call, regs)
		return nil
	})
	return held, err
}

// ErrNotAnArgument: an edit of an argument the call shows but does not
// take in a register (a value read from memory).
var ErrNotAnArgument = errors.New("shown from memory, not an argument of the call: edit what it points to")

func applyEdit(e api.Edit, regs *kvm.Regs, call *backend.Call) error {
	switch {
	case e.Reg != "":
		r, ok := regs.Ref(e.Reg)
		if !ok {
			return fmt.Errorf("no register %q", e.Reg)
		}
		*r = e.Value
		return nil
	case e.Ret:
		return call.Arguments.SetReturn(e.Value)
	}
	// The edit names the argument as the call is shown.
	i := call.Arguments.Shown(e.Arg)
	if i < 0 {
		return fmt.Errorf("arg%d: %w", e.Arg, ErrNotAnArgument)
	}
	switch {
	case e.Data != nil && e.String:
		return call.Arguments.WriteString(i, e.Data)
	case e.Data != nil:
		return call.Arguments.WriteBuffer(i, e.Data, e.Len)
	}
	return call.Arguments.Set(i, e.Value)
}

// heldOf is the API's view of a held call.
func heldOf(call *backend.Call, regs *kvm.Regs) api.Held {
	h := api.Held{Call: call.Syscall, Regs: make([]api.Register, len(kvm.RegNames)), Uses: make([]api.ArgUse, len(call.Args))}
	h.Call.Args = append([]api.Arg(nil), call.Args...) // the back end reuses its slice
	for i, n := range kvm.RegNames {
		v, _ := regs.Ref(n)
		h.Regs[i] = api.Register{Name: n, Value: *v}
	}
	for i := range h.Uses {
		if a := call.Arguments.Shown(i); a >= 0 {
			h.Uses[i] = call.Arguments.Use(a)
		}
	}
	return h
}

// Continue lets the held call run, with the changes made to it.
func (s *Session) Continue(ctx context.Context) error { return s.request(ctx, nil) }

func (s *Session) request(ctx context.Context, edit func(*kvm.Regs, *backend.Call) error) error {
	if !s.isHolding() {
		return ErrNotHeld
	}
	r := holdReq{edit: edit, done: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Session) isHolding() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holding
}

func (s *Session) setHolding(v bool) {
	s.mu.Lock()
	s.holding = v
	s.mu.Unlock()
}

// hold keeps ev's vCPU stopped and serves edits until Continue or ctx ends.
// It returns where the Continue waits for its answer, nil when ctx ended.
func (s *Session) hold(ctx context.Context, ev *kvm.Event, call *backend.Call) chan<- error {
	s.setHolding(true)
	defer s.setHolding(false)
	select { // the newest hold replaces one nobody took
	case <-s.holds:
	default:
	}
	s.holds <- heldOf(call, &ev.Regs)
	for {
		select {
		case r := <-s.reqs:
			if r.edit == nil {
				return r.done
			}
			before := ev.Regs
			err := r.edit(&ev.Regs, call)
			if c, ok := s.listener.(regsChecker); ok && err == nil {
				err = c.CheckRegs(&before, &ev.Regs) // refused now, not when the call goes on
			}
			if err != nil {
				ev.Regs = before
			}
			r.done <- err
		case <-ctx.Done():
			return nil
		}
	}
}
