package replay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"nitro/api"
	"nitro/record"
)

// ErrRecording is what a replay says to what only a live guest can do:
// run control, edits, injections, reading kernel memory. It is an
// api.ErrNotSupported too, for errors.Is.
var ErrRecording error = recordingError{}

type recordingError struct{}

func (recordingError) Error() string        { return "a recording cannot change: that needs a live guest" }
func (recordingError) Is(target error) bool { return target == api.ErrNotSupported }

// Options choose how a recording plays.
type Options struct {
	// Speed is the playback speed: 1 real time, N times faster (0.5 half
	// as fast), 0 as fast as the readers take the calls.
	Speed float64
	// Start is the seq of the first call played (or of the first after
	// it): the playback starts there, with the process table as it was,
	// having decoded one block of what comes before.
	Start uint64
	// Linger keeps the session open at the end of the recording until it
	// is closed, as a live guest that went quiet: the TUI keeps showing
	// it. Without it the session ends there, as a trace wants.
	Linger bool
}

// Hypervisor is a recording seen as a host with one domain, the one
// recorded; Attach plays it.
type Hypervisor struct {
	path string
	opts Options
	meta record.Meta
	// Damage is the recording's, when it was cut short (see record.Reader).
	Damage error
}

// Open checks the recording at path and returns the hypervisor that plays it.
func Open(path string, o Options) (*Hypervisor, error) {
	if o.Speed < 0 {
		return nil, fmt.Errorf("replay speed %g: want 0 (as fast as possible) or more", o.Speed)
	}
	f, err := record.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return &Hypervisor{path: path, opts: o, meta: f.Meta, Damage: f.Damage}, nil
}

// Domain is the name of the domain recorded.
func (h *Hypervisor) Domain() string { return h.meta.Domain }

// Domains lists the recorded domain.
func (h *Hypervisor) Domains(context.Context) ([]api.Domain, error) {
	return []api.Domain{{Name: h.meta.Domain, State: "recorded"}}, nil
}

// Control refuses: a recording has no run state to change.
func (h *Hypervisor) Control(_ context.Context, name string, a api.Action) error {
	return fmt.Errorf("%s %s: %w", a, name, ErrRecording)
}

// Attach plays the recording; o.Syscalls, if set, are the only calls it
// delivers, as a live guest stops only for those.
func (h *Hypervisor) Attach(_ context.Context, name string, o api.AttachOptions) (api.Session, error) {
	if name != h.meta.Domain {
		return nil, fmt.Errorf("the recording %s holds domain %q, not %q", h.path, h.meta.Domain, name)
	}
	f, err := record.Open(h.path)
	if err != nil {
		return nil, err
	}
	return newSession(f, h.path, h.opts, o.Syscalls), nil
}

// Inspect refuses: a recording holds no kernel memory.
func (h *Hypervisor) Inspect(_ context.Context, name string) (api.Guest, error) {
	return nil, fmt.Errorf("inspecting %s: %w", name, ErrRecording)
}

// Detach has nothing to free.
func (h *Hypervisor) Detach(context.Context, string) error { return nil }

// batchInterval is how often the calls played reach the readers, as a
// live session batches them.
const batchInterval = 30 * time.Millisecond

// Session plays a recording through the api.Session interface.
type Session struct {
	file  *record.File
	info  api.Info
	opts  Options
	only  map[string]bool // the calls delivered; nil: all
	holds chan api.Held
	cont  chan struct{} // Continue's to the hold
	wake  chan struct{} // a Resume, for a paused playback
	done  chan struct{} // closed by Close

	mu       sync.Mutex
	subs     []*subscription
	limit    int // the smallest subscription's
	breaks   api.BreakSet
	paused   bool
	holding  bool
	procs    map[int]api.Process // by thread id, as of the playback's position
	events   uint64
	running  bool
	over     bool // Run has returned
	closed   bool
	closeErr error
}

func newSession(f *record.File, path string, o Options, only []string) *Session {
	s := &Session{
		file: f, opts: o,
		info:  api.Info{Domain: f.Meta.Domain, Listener: f.Meta.Listener, OS: f.Meta.OS, Kernel: f.Meta.Kernel, Replay: path},
		holds: make(chan api.Held, 1), cont: make(chan struct{}), wake: make(chan struct{}, 1), done: make(chan struct{}),
		procs: make(map[int]api.Process), limit: 1 << 16,
	}
	if len(only) > 0 {
		s.only = make(map[string]bool)
		for _, n := range only {
			s.only[n] = true
		}
	}
	return s
}

// Info names the recorded domain and says it is a replay.
func (s *Session) Info() api.Info { return s.info }

// Subscribe delivers the calls played from now on. No subscription drops
// any: the playback waits for its slowest reader, since a recording, unlike
// a guest, loses nothing by waiting.
func (s *Session) Subscribe(limit int, _ bool) api.Subscription {
	sub := &subscription{ch: make(chan []api.Syscall, 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.over { // nothing more to play
		close(sub.ch)
		return sub
	}
	s.subs = append(s.subs, sub)
	s.limit = min(s.limit, max(limit, 1))
	return sub
}

type subscription struct{ ch chan []api.Syscall }

func (sub *subscription) C() <-chan []api.Syscall { return sub.ch }
func (sub *subscription) Dropped() uint64         { return 0 }

// Held delivers the calls a break stops the playback at.
func (s *Session) Held() <-chan api.Held { return s.holds }

// Processes is the process table as of the playback's position: the
// latest snapshot recorded, with the calls' processes since.
func (s *Session) Processes(context.Context) ([]api.Process, error) {
	s.mu.Lock()
	ps := make([]api.Process, 0, len(s.procs))
	for _, p := range s.procs {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	slices.SortFunc(ps, func(a, b api.Process) int {
		if a.PID != b.PID {
			return a.PID - b.PID
		}
		return a.TID - b.TID
	})
	return ps, nil
}

// Stats counts the calls played; Paused says the playback waits, for
// Pause or at a break.
func (s *Session) Stats() api.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return api.Stats{Events: s.events, Paused: s.paused || s.holding}
}

// Break stops the playback at the next call that matches, as a break
// stops a guest.
func (s *Session) Break(_ context.Context, b api.Breakpoint) error {
	s.breaks.Arm(b)
	return nil
}

// ClearBreak disarms a break.
func (s *Session) ClearBreak(_ context.Context, b api.Breakpoint) error {
	s.breaks.Clear(b)
	return nil
}

// Inject refuses: the recorded calls ran as they ran.
func (s *Session) Inject(context.Context, api.Injection) error {
	return ErrRecording
}

// ClearInjection: nothing is ever armed.
func (s *Session) ClearInjection(_ context.Context, i api.Injection) error {
	return fmt.Errorf("%w: %s", api.ErrNotArmed, i)
}

// Edit refuses, once a call is held: a recorded call cannot change.
func (s *Session) Edit(context.Context, api.Edit) (api.Held, error) {
	if !s.isHolding() {
		return api.Held{}, api.ErrNotHeld
	}
	return api.Held{}, ErrRecording
}

// Continue lets the playback go on from the held call.
func (s *Session) Continue(ctx context.Context) error {
	if !s.isHolding() {
		return api.ErrNotHeld
	}
	select {
	case s.cont <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return nil
	}
}

// Pause stops the playback until Resume; a held call stays held.
func (s *Session) Pause(context.Context) error {
	s.mu.Lock()
	s.paused = true
	s.mu.Unlock()
	return nil
}

// Resume ends a Pause.
func (s *Session) Resume(context.Context) error {
	s.mu.Lock()
	s.paused = false
	s.mu.Unlock()
	s.poke()
	return nil
}

// poke wakes a playback waiting for Resume or Close.
func (s *Session) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Close stops the playback and closes the recording; it is safe to call
// twice.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
		if !s.running && !s.over { // else Run closes it when it returns
			s.closeErr = s.file.Close()
			s.closeSubs()
		}
	}
	return s.closeErr
}

// closeSubs ends the subscriptions; s.mu is held.
func (s *Session) closeSubs() {
	for _, sub := range s.subs {
		close(sub.ch)
	}
	s.subs = nil
}

func (s *Session) isHolding() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holding
}

// Run plays the recording until its end (or, with Linger, until ctx ends
// or the session is closed), ctx ends, or the session is closed; those
// return nil. It fails on a block it cannot read: a recording cut short
// plays up to where it was cut.
func (s *Session) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running || s.over || s.closed {
		s.mu.Unlock()
		return errors.New("replay: Run called twice or after Close")
	}
	s.running = true
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	defer s.finish()
	p := player{s: s, lastFlush: time.Now()}
	err := s.play(ctx, &p)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	if err == nil && s.opts.Linger {
		<-ctx.Done()
	}
	return err
}

// finish ends the subscriptions and the holds, and closes the file.
func (s *Session) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeSubs()
	close(s.holds)
	s.closeErr = s.file.Close()
	s.running, s.over = false, true
}

func (s *Session) play(ctx context.Context, p *player) error {
	for i := s.file.FindSeq(s.opts.Start); i < len(s.file.Blocks); i++ {
		blk, err := s.file.Block(i)
		if err != nil {
			return fmt.Errorf("replaying %s: %w", s.info.Replay, err)
		}
		s.filter(blk)
		p.start(blk.Events)
		snaps := blk.Snapshots
		for j := range blk.Events {
			for len(snaps) > 0 && snaps[0].Before <= j {
				s.setProcs(snaps[0].Procs)
				snaps = snaps[1:]
			}
			sc := &blk.Events[j]
			if sc.Seq < s.opts.Start { // before the start: only its process counts
				s.track(sc)
				p.skip()
				continue
			}
			if err := p.pace(ctx, sc.Time); err != nil {
				return err
			}
			s.track(sc)
			if s.breaks.Holds(sc) {
				if err := p.flush(ctx); err != nil {
					return err
				}
				if err := s.hold(ctx, sc); err != nil {
					return err
				}
				p.anchored = false // the time held is not the recording's
			}
			if err := p.add(ctx); err != nil {
				return err
			}
		}
		for _, sn := range snaps {
			s.setProcs(sn.Procs)
		}
		if err := p.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// filter keeps in blk only the calls the session delivers, moving its
// snapshots along.
func (s *Session) filter(blk *record.Block) {
	if s.only == nil {
		return
	}
	k, snaps := 0, blk.Snapshots
	for j := range blk.Events {
		for ; len(snaps) > 0 && snaps[0].Before <= j; snaps = snaps[1:] {
			snaps[0].Before = k
		}
		if s.only[blk.Events[j].Name] {
			blk.Events[k] = blk.Events[j]
			k++
		}
	}
	for ; len(snaps) > 0; snaps = snaps[1:] {
		snaps[0].Before = k
	}
	blk.Events = blk.Events[:k]
}

func (s *Session) setProcs(ps []api.Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.procs)
	for _, p := range ps {
		s.procs[p.TID] = p
	}
}

// track keeps the process table up with a call: its process as it now is
// (a new name after an exec, a thread not in the last snapshot), and gone
// at an exit.
func (s *Session) track(sc *api.Syscall) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := sc.Process
	if sc.Direction == api.Enter {
		switch sc.Name {
		case "exit_group":
			for tid, q := range s.procs {
				if q.PID == p.PID {
					delete(s.procs, tid)
				}
			}
			return
		case "exit":
			delete(s.procs, p.TID)
			return
		}
	}
	if have, ok := s.procs[p.TID]; !ok || have.Comm != p.Comm || have.PPID != p.PPID || have.PID != p.PID {
		if ok && p.Task == 0 { // the call's view may lack what the snapshot read
			p.Task, p.UID = have.Task, have.UID
		}
		s.procs[p.TID] = p
	}
}

// hold stops the playback at sc until Continue.
func (s *Session) hold(ctx context.Context, sc *api.Syscall) error {
	s.mu.Lock()
	s.holding = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.holding = false
		s.mu.Unlock()
	}()
	h := api.Held{Call: *sc, Uses: make([]api.ArgUse, len(sc.Args))}
	h.Call.Args = slices.Clone(sc.Args)
	for i := range h.Uses {
		h.Uses[i].Len = -1 // values only: nothing of a recording is edited
	}
	select { // the newest hold replaces one nobody took
	case <-s.holds:
	default:
	}
	s.holds <- h
	select {
	case <-s.cont:
		return s.waitResume(ctx) // paused, the playback goes on at Resume
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Session) isPaused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused
}

// waitResume waits while the playback is paused.
func (s *Session) waitResume(ctx context.Context) error {
	for s.isPaused() {
		select {
		case <-s.wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// player paces the calls of a block and hands them to the subscriptions
// in batches, each a run of the block's calls: the block is decoded
// afresh for the playback, so the readers can have it without a copy.
type player struct {
	s         *Session
	evs       []api.Syscall // the block's calls
	from, to  int           // the batch not handed over yet: evs[from:to]
	lastFlush time.Time
	// The wall clock and the recording's clock at the last anchor: a
	// call is due when the wall clock has moved as far, over the speed.
	wall, rec time.Time
	anchored  bool
}

// start takes the calls of the next block; the last block's are handed over.
func (p *player) start(evs []api.Syscall) { p.evs, p.from, p.to = evs, 0, 0 }

// pace waits until the call recorded at at is due, and while paused.
func (p *player) pace(ctx context.Context, at time.Time) error {
	for {
		if p.s.isPaused() {
			if err := p.flush(ctx); err != nil {
				return err
			}
			if err := p.s.waitResume(ctx); err != nil {
				return err
			}
			p.anchored = false
		}
		speed := p.s.opts.Speed
		if speed <= 0 {
			return nil
		}
		if !p.anchored {
			p.wall, p.rec, p.anchored = time.Now(), at, true
			return nil
		}
		wait := time.Until(p.wall.Add(time.Duration(float64(at.Sub(p.rec)) / speed)))
		if wait <= 0 {
			return nil
		}
		if p.to > p.from && (wait > batchInterval || time.Since(p.lastFlush) >= batchInterval) {
			if err := p.flush(ctx); err != nil {
				return err
			}
		}
		t := time.NewTimer(min(wait, batchInterval))
		select {
		case <-t.C:
		case <-p.s.wake: // a Resume that came first; look again
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// skip passes over the block's next call: it is before the batch.
func (p *player) skip() { p.from, p.to = p.to+1, p.to+1 }

// add adds the block's next call to the batch.
func (p *player) add(ctx context.Context) error {
	p.to++
	p.s.mu.Lock()
	limit := p.s.limit
	p.s.mu.Unlock()
	if p.to-p.from >= limit || time.Since(p.lastFlush) >= batchInterval {
		return p.flush(ctx)
	}
	return nil
}

// flush hands the batch to every subscription, waiting for each.
func (p *player) flush(ctx context.Context) error {
	p.lastFlush = time.Now()
	if p.to == p.from {
		return nil
	}
	batch := p.evs[p.from:p.to:p.to] // a reader's append cannot reach the next batch
	p.from = p.to
	p.s.mu.Lock()
	subs := slices.Clone(p.s.subs)
	p.s.events += uint64(len(batch))
	p.s.mu.Unlock()
	for _, sub := range subs {
		select {
		case sub.ch <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

var (
	_ api.Hypervisor = (*Hypervisor)(nil)
	_ api.Session    = (*Session)(nil)
)
