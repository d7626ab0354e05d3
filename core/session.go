package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"nitro/core/backend"
	"nitro/core/backend/linux/strace"
	"nitro/core/kvm"
	"nitro/core/kvm/gdbstub"
)

// Options choose what a session traces.
type Options struct {
	// Syscalls, if set, are the only system calls the guest stops for
	// (names as strace prints them); the rest run at full speed.
	Syscalls []string
	// Decode bounds how much of the guest's memory an argument shows.
	Decode strace.Options
	// Kernel overrides where symbols and structure layouts come from.
	Kernel Kernel
}

// Hook is a callback on a system call while its vCPU is stopped (the
// seed's define_hook). It may change the call through call.Arguments; an
// error is counted and otherwise ignored. call is valid during the
// callback only: keep a copy of call.Syscall, not the pointer.
type Hook func(call *backend.Call) error

type hookKey struct {
	name string
	dir  kvm.Direction
}

// Session is a guest attached for tracing: its listener, memory and back end
// started and stopped as one. Close always leaves the guest running with no
// breakpoints; a guard process does the same if this process dies.
type Session struct {
	*Guest
	uri      string
	listener kvm.Listener
	guard    *guard
	lock     *os.File

	mu      sync.Mutex
	hooks   map[hookKey][]Hook
	subs    []*Subscription
	closed  bool
	breaks  map[Breakpoint]bool
	holding bool
	stopRun context.CancelFunc

	holds chan Held
	reqs  chan holdReq

	stats struct {
		events, hookErrors, decodeErrors, resumedOutside atomic.Uint64
	}
}

// Attach opens domain name on libvirt uri ("" for the default) and starts
// tracing it; no event flows until Run.
func Attach(ctx context.Context, uri, name string, opts Options) (*Session, error) {
	g, err := openGuest(uri, name, opts.Kernel, opts.Decode)
	if err != nil {
		return nil, err
	}
	s := &Session{
		Guest: g, uri: g.conn.URI(), hooks: make(map[hookKey][]Hook), breaks: make(map[Breakpoint]bool),
		holds: make(chan Held, 1), reqs: make(chan holdReq),
	}
	if s.lock, err = lockDomain(name); err != nil {
		g.Close()
		return nil, err
	}
	stops := g.backend.Stops()
	cfg := gdbstub.Config{
		SyscallEntry: stops.Entry, SyscallExit: stops.Exit,
		CompatEntries: stops.CompatEntries, CompatExits: stops.CompatExits,
	}
	if len(opts.Syscalls) > 0 {
		if cfg.Handlers, err = s.handlers(opts.Syscalls); err != nil {
			return nil, errors.Join(err, s.Close())
		}
	}
	if s.guard, err = startGuard(s.uri, name); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	sock, err := g.dom.StartGDBServer(gdbDir(name))
	if err == nil {
		s.listener, err = gdbstub.Dial(ctx, sock, cfg)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("attaching to %s: %w", name, err), s.Close())
	}
	return s, nil
}

// handlers maps system call names to the guest's handler addresses.
func (s *Session) handlers(names []string) ([]uint64, error) {
	var addrs []uint64
	for _, name := range names {
		if err := strace.Check(name); err != nil {
			return nil, err
		}
		a, err := s.backend.Handlers(name)
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, a...)
	}
	return addrs, nil
}

// Hook registers fn for system call name at enter or exit. Register hooks
// before Run.
func (s *Session) Hook(name string, dir kvm.Direction, fn Hook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := hookKey{name, dir}
	s.hooks[k] = append(s.hooks[k], fn)
}

// Run handles events until ctx ends, the listener fails or Close is
// called, and hands every system call to the subscribers. It returns nil
// when ctx ended or the session was closed. Call it once.
func (s *Session) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.stopRun = cancel // Close ends a Run blocked in a hold
	s.mu.Unlock()
	defer s.closeSubscriptions()
	defer close(s.holds) // Run is the only sender
	for {
		ev, err := s.listener.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || s.isClosed() {
				return nil
			}
			return fmt.Errorf("waiting for the next event: %w", err)
		}
		call, herr := s.backend.Handle(ev)
		if herr == nil {
			regs := ev.Regs
			s.runHooks(call)
			if s.shouldHold(call) {
				s.hold(ctx, ev, call)
			}
			if ev.Regs != regs {
				herr = s.listener.SetRegs(ev)
			}
		}
		cerr := herr
		if !errors.Is(herr, kvm.ErrResumedOutside) {
			cerr = s.listener.Continue(ev)
		}
		switch {
		case errors.Is(cerr, kvm.ErrResumedOutside):
			// The call ran unchanged; the listener goes on from there.
			s.stats.resumedOutside.Add(1)
			continue
		case cerr != nil && s.isClosed():
			return nil
		case cerr != nil:
			return fmt.Errorf("continuing vCPU %d: %w", ev.VCPU, cerr)
		case herr != nil:
			s.stats.decodeErrors.Add(1) // one unreadable event does not end the trace
			continue
		}
		s.stats.events.Add(1)
		s.publish(&call.Syscall)
	}
}

func (s *Session) runHooks(call *backend.Call) {
	s.mu.Lock()
	hooks := s.hooks[hookKey{call.Name, call.Direction}]
	s.mu.Unlock()
	for _, h := range hooks {
		if err := h(call); err != nil {
			s.stats.hookErrors.Add(1)
		}
	}
}

func (s *Session) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Stats counts a session's work.
type Stats struct {
	Events       uint64 // system calls handed to subscribers
	DecodeErrors uint64 // events the back end could not read
	HookErrors   uint64
	Dropped      uint64 // system calls lossy subscribers had no room for
	// ResumedOutside counts held calls that ran unchanged because the VM
	// was resumed outside nitro (virsh resume).
	ResumedOutside uint64
}

// Stats returns the counters so far.
func (s *Session) Stats() Stats {
	st := Stats{
		Events:         s.stats.events.Load(),
		DecodeErrors:   s.stats.decodeErrors.Load(),
		HookErrors:     s.stats.hookErrors.Load(),
		ResumedOutside: s.stats.resumedOutside.Load(),
	}
	s.mu.Lock()
	for _, sub := range s.subs {
		st.Dropped += sub.dropped.Load()
	}
	s.mu.Unlock()
	return st
}

// Close stops tracing and detaches: breakpoints removed, the VM running.
// When the listener cannot detach (a lost connection), Close detaches
// through a new connection, as `nitro detach` does.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.stopRun != nil {
		s.stopRun()
	}
	s.mu.Unlock()
	var errs []error
	if s.listener != nil {
		if err := s.listener.Close(); err != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if derr := detach(ctx, s.dom); derr != nil {
				errs = append(errs, err, derr)
			}
			cancel()
		}
	}
	if s.guard != nil {
		if len(errs) == 0 {
			s.guard.release()
		} else {
			s.guard.abandon() // let it try once more from outside
		}
	}
	errs = append(errs, s.Guest.Close())
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}
