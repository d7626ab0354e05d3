package core

import (
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
// closed when the session stops. A lossy subscription never slows the
// guest: past its limit it drops calls and counts them. A lossless one makes
// the session wait, and so the guest.
type Subscription struct {
	ch    chan []backend.Syscall
	lossy bool
	limit int

	mu      sync.Mutex
	room    *sync.Cond // signalled when a flush makes room
	batch   []backend.Syscall
	ending  bool
	dropped atomic.Uint64
	done    chan struct{} // closed by the session at its end
}

// Subscribe returns a subscription holding at most limit calls between
// batches; it sees the calls from now on.
func (s *Session) Subscribe(limit int, lossy bool) api.Subscription {
	ch := make(chan []backend.Syscall, 1)
	sub := &Subscription{ch: ch, lossy: lossy, limit: max(limit, 1), done: make(chan struct{})}
	sub.room = sync.NewCond(&sub.mu)
	s.mu.Lock()
	s.subs = append(s.subs, sub)
	s.mu.Unlock()
	go sub.flushLoop()
	return sub
}

// C delivers the batches; it is closed when the session ends.
func (sub *Subscription) C() <-chan []api.Syscall { return sub.ch }

// Dropped counts the calls a lossy subscription had no room for.
func (sub *Subscription) Dropped() uint64 { return sub.dropped.Load() }

func (s *Session) publish(sc *backend.Syscall) {
	s.mu.Lock()
	subs := s.subs
	s.mu.Unlock()
	for _, sub := range subs {
		sub.add(sc)
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

func (sub *Subscription) add(sc *backend.Syscall) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for len(sub.batch) >= sub.limit && !sub.ending {
		if sub.lossy {
			sub.dropped.Add(1)
			return
		}
		sub.room.Wait()
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
	sub.room.Broadcast()
	return b
}

func (sub *Subscription) end() {
	sub.mu.Lock()
	if !sub.ending {
		sub.ending = true
		close(sub.done)
	}
	sub.room.Broadcast()
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
