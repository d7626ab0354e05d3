package core

import (
	"context"
	"errors"
	"fmt"

	"nitro/core/backend"
	"nitro/core/kvm"
)

// ErrNotHeld is returned when editing or continuing while no call is held.
var ErrNotHeld = errors.New("no system call is held")

// Breakpoint holds every call of a system call, by name, at its entry; or
// only one process's calls when PID is not 0.
type Breakpoint struct {
	Name string
	PID  int
}

// Held is a system call stopped at its entry for the user: the guest stays
// stopped until Continue. Regs are the vCPU's registers at the stop.
type Held struct {
	Call backend.Syscall
	Regs kvm.Regs
}

// holdReq is work for the Run goroutine while it holds a call: the vCPU
// state belongs to that goroutine.
type holdReq struct {
	edit func(regs *kvm.Regs, call *backend.Call) error // nil: continue
	done chan error
}

// Break arms a breakpoint.
func (s *Session) Break(b Breakpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.breaks[b] = true
}

// ClearBreak disarms a breakpoint.
func (s *Session) ClearBreak(b Breakpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.breaks, b)
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
func (s *Session) Pause() error {
	p, ok := s.listener.(pauser)
	if !ok {
		return fmt.Errorf("pausing: %w", kvm.ErrNotSupported)
	}
	return p.Pause()
}

// Resume ends a Pause.
func (s *Session) Resume() {
	if p, ok := s.listener.(pauser); ok {
		p.Resume()
	}
}

// Paused says whether the guest is stopped for the user: a held call, a
// Pause, or a pause made outside nitro (virsh suspend), which nitro leaves
// in place until it is resumed there.
func (s *Session) Paused() bool {
	p, ok := s.listener.(pauser)
	return s.isHolding() || ok && p.Paused()
}

// Holds delivers each call that a breakpoint or Pause holds.
func (s *Session) Holds() <-chan Held { return s.holds }

// Edit changes the held call: its registers or, through call.Arguments, its
// arguments and the memory they point to. The arguments are decoded again
// afterwards, and the call as it now stands is returned.
func (s *Session) Edit(ctx context.Context, fn func(regs *kvm.Regs, call *backend.Call) error) (Held, error) {
	var held Held
	err := s.request(ctx, func(regs *kvm.Regs, call *backend.Call) error {
		if err := fn(regs, call); err != nil {
			return err
		}
		if err := s.backend.Redecode(call); err != nil {
			return err
		}
		held = Held{Call: call.Syscall, Regs: *regs}
		return nil
	})
	return held, err
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

// shouldHold says whether call stops for the user.
func (s *Session) shouldHold(call *backend.Call) bool {
	if call.Direction != kvm.Enter {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.breaks[Breakpoint{Name: call.Name}] || s.breaks[Breakpoint{Name: call.Name, PID: call.Process.PID}]
}

// hold keeps ev's vCPU stopped and serves edits until Continue or ctx ends.
func (s *Session) hold(ctx context.Context, ev *kvm.Event, call *backend.Call) {
	s.setHolding(true)
	defer s.setHolding(false)
	select { // the newest hold replaces one nobody took
	case <-s.holds:
	default:
	}
	s.holds <- Held{Call: call.Syscall, Regs: ev.Regs}
	for {
		select {
		case r := <-s.reqs:
			if r.edit == nil {
				r.done <- nil
				return
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
			return
		}
	}
}
