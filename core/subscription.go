package core

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"nitro/api"
	"nitro/core/backend"
)

// BatchInterval is how often subscribers get the system calls gathered
// since the last batch: often enough to look live, rarely enough that a
// screen redraws at most about 30 times a second.
const BatchInterval = 30 * time.Millisecond

// Subscription receives a session's system calls in batches on C, which is
// closed when the session stops. When its reader falls behind, the
// session waits for it up to the subscription's wait (api.Lossy: never,
// api.Lossless: for good), and then drops and counts calls until the
// reader takes a batch: a stalled reader costs calls, not a frozen guest.
type Subscription struct {
	ch    chan []backend.Syscall
	wait  time.Duration
	limit int

	mu      sync.Mutex
	room    chan struct{} // closed when a flush makes room
	stalled bool          // the wait ran out: drop until the next flush
	batch   []backend.Syscall
	ending  bool
	dropped atomic.Uint64
	done    chan struct{} // closed by the session at its end
}

// Subscribe returns a subscription holding at most limit calls between
// batches; it sees the calls from now on.
func (s *Session) Subscribe(limit int, wait time.Duration) api.Subscription {
	ch := make(chan []backend.Syscall, 1)
	sub := &Subscription{ch: ch, wait: wait, limit: max(limit, 1), room: make(chan struct{}), done: make(chan struct{})}
	s.mu.Lock()
	s.subs = append(s.subs, sub)
	s.mu.Unlock()
	go sub.flushLoop()
	return sub
}

// C delivers the batches; it is closed when the session ends.
func (sub *Subscription) C() <-chan []api.Syscall { return sub.ch }

// Dropped counts the calls the subscription had no room for.
func (sub *Subscription) Dropped() uint64 { return sub.dropped.Load() }

// publish hands sc to every subscriber; a wait for one ends with ctx.
func (s *Session) publish(ctx context.Context, sc *backend.Syscall) {
	s.mu.Lock()
	subs := s.subs
	s.mu.Unlock()
	for _, sub := range subs {
		sub.add(ctx, sc)
	}
}

func (s *Session) closeSubscriptions() {
	s.mu.Lock()
	subs := s.subs
	s.mu.Unlock()
	for _, sub := range subs {
		sub.end()
	}
}

func (sub *Subscription) add(ctx context.Context, sc *backend.Syscall) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	var timeout <-chan time.Time
	for len(sub.batch) >= sub.limit && !sub.ending {
		if sub.wait == api.Lossy || sub.stalled {
			sub.dropped.Add(1)
			return
		}
		if timeout == nil && sub.wait > 0 {
			t := time.NewTimer(sub.wait)
			defer t.Stop()
			timeout = t.C
		}
		room, timedOut := sub.room, false
		sub.mu.Unlock()
		select {
		case <-room:
		case <-sub.done:
		case <-ctx.Done():
		case <-timeout:
			timedOut = true
		}
		sub.mu.Lock()
		if ctx.Err() != nil {
			return // the session is ending: the call goes nowhere
		}
		if timedOut && len(sub.batch) >= sub.limit {
			sub.stalled = true
		}
	}
	if !sub.ending {
		sub.batch = append(sub.batch, *sc)
	}
}

// take removes the pending batch.
func (sub *Subscription) take() []backend.Syscall {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	b := sub.batch
	sub.batch = nil
	sub.stalled = false
	close(sub.room)
	sub.room = make(chan struct{})
	return b
}

func (sub *Subscription) end() {
	sub.mu.Lock()
	if !sub.ending {
		sub.ending = true
		close(sub.done) // wakes adds waiting for room
	}
	sub.mu.Unlock()
}

func (sub *Subscription) flushLoop() {
	defer close(sub.ch)
	tick := time.NewTicker(BatchInterval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if b := sub.take(); len(b) > 0 {
				select {
				case sub.ch <- b:
				case <-sub.done:
					sub.deliverLast(append(b, sub.take()...))
					return
				}
			}
		case <-sub.done:
			sub.deliverLast(sub.take())
			return
		}
	}
}

// deliverLast hands over the final batch, unless nobody reads any more.
func (sub *Subscription) deliverLast(b []backend.Syscall) {
	if len(b) == 0 {
		return
	}
	select {
	case sub.ch <- b:
	case <-time.After(time.Second):
	}
}
