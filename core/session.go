package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/kvm"
)

// Hook is a callback on a system call while its vCPU is stopped (the
// seed's define_hook). It may change the call through call.Arguments; an
// error is counted and otherwise ignored. call is valid during the
// callback only: keep a copy of call.Syscall, not the pointer.
type Hook func(call *backend.Call) error

type hookKey struct {
	name string
	dir  kvm.Direction
}

// Session is a guest attached for tracing: a listener and a back end
// started and stopped as one. Close always leaves the guest running with no
// breakpoints.
type Session struct {
	info     api.Info
	listener kvm.Listener
	backend  backend.Backend
	// redetach detaches through a new connection when the listener could
	// not (a lost connection); nil when there is no other way.
	redetach func(ctx context.Context) error
	// release frees what the attach took besides the listener (guard,
	// lock, guest memory); detached says whether the guest was let go.
	release func(detached bool) error
	// keepPaused says whether someone else paused the guest, so that
	// detaching must leave it paused; nil when the listener cannot.
	keepPaused func() bool

	mu      sync.Mutex
	hooks   map[hookKey][]Hook
	subs    []*Subscription
	closed  bool
	breaks  api.BreakSet
	holding bool
	stopRun context.CancelFunc

	holds chan api.Held
	reqs  chan holdReq

	stats struct {
		events, hookErrors, decodeErrors, resumedOutside atomic.Uint64
	}
	inj injections // fault injection (inject.go)
}

var _ api.Session = (*Session)(nil)

// newSession composes a session from a listener and a back end that are
// already attached to the same guest.
func newSession(info api.Info, l kvm.Listener, b backend.Backend) *Session {
	return &Session{
		info: info, listener: l, backend: b,
		hooks: make(map[hookKey][]Hook),
		holds: make(chan api.Held, 1), reqs: make(chan holdReq),
	}
}

// Info names the domain, listener, back end and kernel.
func (s *Session) Info() api.Info { return s.info }

// Processes lists the guest's processes and threads from its memory.
func (s *Session) Processes(context.Context) ([]api.Process, error) {
	// The back end is the Run goroutine's, but listing tasks reads only
	// through the kernel's page tables and the back end's own walk state.
	return s.backend.Processes()
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
		injected := false
		var continued chan<- error // a Continue waiting for the call to go on
		edited := false
		if herr == nil {
			regs := ev.Regs
			s.injectExit(call)
			s.runHooks(call)
			if s.breaks.Holds(&call.Syscall) {
				continued = s.hold(ctx, ev, call)
			}
			injected = s.injectEntry(call)
			if edited = ev.Regs != regs; edited {
				if herr = s.listener.SetRegs(ev); herr != nil {
					herr = fmt.Errorf("writing the edited registers (the call runs unchanged): %w", herr)
				}
			}
		}
		cerr := herr
		if !errors.Is(herr, kvm.ErrResumedOutside) {
			cerr = s.listener.Continue(ev)
		}
		if continued != nil {
			// A VM resumed outside nitro ran the call on already: an error
			// for Continue only if that lost edits.
			err := cmp.Or(herr, cerr)
			if errors.Is(err, kvm.ErrResumedOutside) && !edited {
				err = nil
			}
			continued <- err
		}
		if injected && (herr != nil || cerr != nil) {
			s.dropExit(call.Process.TID) // the call ran unchanged, or nothing follows
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
		s.publish(ctx, &call.Syscall)
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

// Stats returns the counters so far.
func (s *Session) Stats() api.Stats {
	st := api.Stats{
		Events:         s.stats.events.Load(),
		DecodeErrors:   s.stats.decodeErrors.Load(),
		HookErrors:     s.stats.hookErrors.Load(),
		ResumedOutside: s.stats.resumedOutside.Load(),
		Paused:         s.paused(),
		Injections:     s.inj.list(),
		InjectErrors:   s.inj.errors.Load(),
	}
	s.mu.Lock()
	for _, sub := range s.subs {
		st.Dropped += sub.dropped.Load()
	}
	s.mu.Unlock()
	if k, ok := s.listener.(breakpointKinds); ok {
		hw, sw, note := k.Breakpoints()
		st.Breakpoints, st.BreakpointNote = api.BreakpointsSoftware, note
		switch {
		case hw > 0 && sw > 0:
			st.Breakpoints = api.BreakpointsMixed
		case hw > 0:
			st.Breakpoints = api.BreakpointsHardware
		}
	}
	return st
}

// breakpointKinds is a listener that stops the guest with breakpoints of
// kinds that may change as it runs (gdbstub.Listener.Breakpoints).
type breakpointKinds interface {
	Breakpoints() (hardware, software int, note string)
}

// Close stops tracing and detaches: breakpoints removed, the VM running.
// When the listener cannot detach (a lost connection), Close detaches
// through a new connection, as `nitro detach` does.
// leaver is a listener that can let go of a VM someone else paused and
// leave it paused (gdbstub.Listener.Leave).
type leaver interface{ Leave() error }

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
	closeListener := s.listener.Close
	if lv, ok := s.listener.(leaver); ok && s.keepPaused != nil && s.keepPaused() {
		closeListener = lv.Leave
	}
	if err := closeListener(); err != nil {
		errs = append(errs, err)
		if s.redetach != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if derr := s.redetach(ctx); derr == nil {
				errs = nil
			} else {
				errs = append(errs, derr)
			}
			cancel()
		}
	}
	if s.release != nil {
		errs = append(errs, s.release(len(errs) == 0))
	}
	return errors.Join(errs...)
}
