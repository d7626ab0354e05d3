package core

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/kvm"
)

// skipNumber is what an injected call's number becomes at its entry: no
// call has it, so the kernel skips the call and leaves an error (ENOSYS)
// as its result, which the exit then replaces.
const skipNumber = ^uint64(0)

// maxInjectState bounds the per-thread state of injections: threads come
// and go unseen. Past it the counts start again, as for new threads.
const maxInjectState = 1 << 14

// injections are a session's armed fault injections, and what the run
// loop keeps of them.
type injections struct {
	mu    sync.Mutex
	armed []*armedInjection
	n     atomic.Int32 // len(armed), read at every entry without the lock
	// refuse says why this session cannot inject; nil when it can.
	refuse error
	errors atomic.Uint64 // injections that could not be carried out

	// exits are the injected calls in flight, by thread: what each
	// returns. Only the Run goroutine uses it.
	exits map[int]injectedExit
}

type injectedExit struct {
	call callKey
	ret  uint64
}

// callKey is a system call as a number of its ABI.
type callKey struct {
	abi api.ABI
	nr  uint64
}

// armedInjection is an injection resolved against the guest's calls.
type armedInjection struct {
	api.Injection
	spec     string
	set      map[callKey]bool // the calls of Names, in each ABI that has them
	ret      uint64           // what an injected call returns
	counts   map[countKey]whenCount
	injected uint64
}

// countKey is one thread's calls of one system call, which strace counts
// apart ("per syscall and per tracee").
type countKey struct {
	tid  int
	call callKey
}

// whenCount is strace's inject_opts counter of one thread and call: the
// invocations until the next injection (first), the invocations left to
// consider (last, noLast for no end) and the step.
type whenCount struct{ first, last, step int }

const noLast = -1

// Inject arms a fault injection; see api.Session.
func (s *Session) Inject(_ context.Context, in api.Injection) error {
	if err := in.Check(); err != nil {
		return err
	}
	if s.inj.refuse != nil {
		return s.inj.refuse
	}
	b, ok := s.backend.(backend.Injector)
	if !ok {
		return fmt.Errorf("fault injection on %s guests: %w", s.backend.OS(), api.ErrNotSupported)
	}
	in.Names = slices.Clone(in.Names) // Stats hands them out
	a := &armedInjection{Injection: in, spec: in.String(), set: make(map[callKey]bool), counts: make(map[countKey]whenCount)}
	if in.Errno != "" {
		e, err := b.Errno(in.Errno)
		if err != nil {
			return fmt.Errorf("injection %q: %w", a.spec, err)
		}
		a.ret = -e
	} else {
		a.ret = uint64(in.Retval)
	}
	for _, name := range in.Names {
		known := false
		for _, abi := range []api.ABI{api.X8664, api.I386} {
			if nr, ok := b.SyscallNumber(abi, name); ok {
				a.set[callKey{abi, nr}], known = true, true
			}
		}
		if !known {
			return fmt.Errorf("injection %q: unknown system call %q", a.spec, name)
		}
	}
	s.inj.mu.Lock()
	defer s.inj.mu.Unlock()
	s.inj.armed = slices.DeleteFunc(s.inj.armed, func(have *armedInjection) bool { return have.spec == a.spec })
	s.inj.armed = append(s.inj.armed, a)
	s.inj.n.Store(int32(len(s.inj.armed)))
	return nil
}

// ClearInjection disarms an injection; see api.Session.
func (s *Session) ClearInjection(_ context.Context, in api.Injection) error {
	spec := in.String()
	s.inj.mu.Lock()
	defer s.inj.mu.Unlock()
	n := len(s.inj.armed)
	s.inj.armed = slices.DeleteFunc(s.inj.armed, func(have *armedInjection) bool { return have.spec == spec })
	if len(s.inj.armed) == n {
		return fmt.Errorf("%w: %s", api.ErrNotArmed, spec)
	}
	s.inj.n.Store(int32(len(s.inj.armed)))
	return nil
}

// list is the armed injections for Stats.
func (in *injections) list() []api.ArmedInjection {
	if in.n.Load() == 0 {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]api.ArmedInjection, len(in.armed))
	for i, a := range in.armed {
		out[i] = api.ArmedInjection{Injection: a.Injection, Injected: a.injected}
		out[i].Names = slices.Clone(a.Names)
	}
	return out
}

// injectEntry skips the call at its entry when the armed injections say
// so, and notes what its exit returns. It says whether it skipped it.
func (s *Session) injectEntry(call *backend.Call) bool {
	if call.Direction != kvm.Enter {
		return false
	}
	tid := call.Process.TID
	if len(s.inj.exits) > 0 {
		// A new call of the thread: what was noted for its last has passed
		// (its exit was lost), and must not be set on another call.
		delete(s.inj.exits, tid)
	}
	if s.inj.n.Load() == 0 {
		return false
	}
	k := callKey{call.ABI, call.Nr}
	ret, ok := s.inj.decide(k, call.Process.PID, tid)
	if !ok {
		return false
	}
	if err := call.Arguments.SetNumber(skipNumber); err != nil {
		s.inj.errors.Add(1)
		return false
	}
	if s.inj.exits == nil || len(s.inj.exits) >= maxInjectState {
		s.inj.exits = make(map[int]injectedExit)
	}
	s.inj.exits[tid] = injectedExit{k, ret}
	return true
}

// dropExit forgets the injected call of thread tid: it ran unchanged after
// all (the registers could not be written).
func (s *Session) dropExit(tid int) { delete(s.inj.exits, tid) }

// injectExit sets the result of a call skipped at its entry, before hooks
// and subscribers see the exit.
func (s *Session) injectExit(call *backend.Call) {
	if call.Direction != kvm.Exit || len(s.inj.exits) == 0 {
		return
	}
	x, ok := s.inj.exits[call.Process.TID]
	// An exit the back end could not match to its entry has lost its
	// number: the thread's next exit is still the skipped call's.
	if !ok || call.Matched && x.call != (callKey{call.ABI, call.Nr}) {
		return
	}
	delete(s.inj.exits, call.Process.TID)
	b, _ := s.backend.(backend.Injector) // only an Injector arms injections
	if err := b.SetResult(call, x.ret); err != nil {
		s.inj.errors.Add(1)
	}
}

// decide finds the injection that decides call k of thread tid in process
// pid, the last armed that matches it, and counts the invocation. It
// returns what the call returns when it is to be injected.
func (in *injections) decide(k callKey, pid, tid int) (uint64, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := len(in.armed) - 1; i >= 0; i-- {
		a := in.armed[i]
		if a.set[k] == a.Not || a.PID != 0 && a.PID != pid {
			continue
		}
		if !a.count(countKey{tid, k}) {
			return 0, false
		}
		a.injected++
		if a.Count > 0 && a.injected >= uint64(a.Count) {
			in.armed = slices.Delete(in.armed, i, i+1) // done: it disarms itself
			in.n.Store(int32(len(in.armed)))
		}
		return a.ret, true
	}
	return 0, false
}

// count counts an invocation of k's call by its thread and says whether
// to inject it: strace's tamper_with_syscall_entering.
func (a *armedInjection) count(k countKey) bool {
	c, ok := a.counts[k]
	if !ok {
		if len(a.counts) >= maxInjectState {
			clear(a.counts)
		}
		c = whenCount{first: 1, last: noLast, step: 1} // no when=: every invocation
		if w := a.When; w.First != 0 {
			c = whenCount{first: w.First, last: w.Last, step: w.Step}
			if w.Last == 0 {
				c.last = noLast
			}
		}
	}
	inject := false
	if c.first != 0 && c.last != 0 {
		if c.last != noLast {
			c.last--
		}
		if c.first--; c.first == 0 {
			c.first, inject = c.step, true
		}
	}
	a.counts[k] = c
	return inject
}
