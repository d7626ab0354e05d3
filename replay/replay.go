package replay

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
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

// maxHistory bounds the calls a move hands a reader to show what led to
// the new position: a screenful many times over, a few blocks to decode.
const maxHistory = 10_000

// Session plays a recording through the api.Session interface, and moves
// through it as an api.Playback.
type Session struct {
	file   *record.File
	info   api.Info
	opts   Options
	only   map[string]bool // the calls delivered; nil: all
	length api.Position    // the recording's extent
	holds  chan api.Held
	cont   chan struct{} // Continue's to the hold
	wake   chan struct{} // a Resume, a Step or a new speed, for a waiting playback
	moves  chan move     // to the player
	done   chan struct{} // closed by Close
	ended  chan struct{} // closed when Run has returned

	mu       sync.Mutex
	subs     []*subscription
	limit    int // the smallest subscription's
	breaks   api.BreakSet
	paused   bool
	steps    int // calls still to play at once though paused
	speed    float64
	holding  bool
	procs    map[int]api.Process // by thread id, as of the playback's position
	pos      *api.Syscall        // the call last played
	events   uint64
	running  bool
	over     bool // Run has returned
	closed   bool
	closeErr error
}

func newSession(f *record.File, path string, o Options, only []string) *Session {
	s := &Session{
		file: f, opts: o, speed: o.Speed,
		info:  api.Info{Domain: f.Meta.Domain, Listener: f.Meta.Listener, OS: f.Meta.OS, Kernel: f.Meta.Kernel, Replay: path},
		holds: make(chan api.Held, 1), cont: make(chan struct{}), wake: make(chan struct{}, 1),
		moves: make(chan move), done: make(chan struct{}), ended: make(chan struct{}),
		procs: make(map[int]api.Process), limit: 1 << 16,
	}
	if len(only) > 0 {
		s.only = make(map[string]bool)
		for _, n := range only {
			s.only[n] = true
		}
	}
	if bs := f.Blocks; len(bs) > 0 {
		s.length = api.Position{First: bs[0].FirstSeq, Last: bs[len(bs)-1].LastSeq, Start: bs[0].FirstTime, End: bs[len(bs)-1].LastTime}
		for _, b := range bs {
			s.length.Calls += uint64(b.Events)
		}
	}
	return s
}

// Info names the recorded domain and says it is a replay.
func (s *Session) Info() api.Info { return s.info }

// Subscribe delivers the calls played from now on. No subscription drops
// any: the playback waits for its slowest reader, since a recording, unlike
// a guest, loses nothing by waiting. A move gives it a new channel (see
// api.Playback).
func (s *Session) Subscribe(limit int, _ time.Duration) api.Subscription {
	sub := &subscription{s: s, ch: make(chan []api.Syscall, 1)}
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

type subscription struct {
	s  *Session
	ch chan []api.Syscall // s.mu guards it: a move replaces it
}

func (sub *subscription) C() <-chan []api.Syscall {
	sub.s.mu.Lock()
	defer sub.s.mu.Unlock()
	return sub.ch
}

func (sub *subscription) Dropped() uint64 { return 0 }

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

// Continue lets the playback go on from the held call, which is played
// even while paused: a paused playback then stops at the next call.
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
	s.setPaused(true)
	return nil
}

// Resume ends a Pause.
func (s *Session) Resume(context.Context) error {
	s.setPaused(false)
	return nil
}

func (s *Session) setPaused(p bool) {
	s.mu.Lock()
	s.paused, s.steps = p, 0
	s.mu.Unlock()
	s.poke()
}

// poke wakes a playback waiting for Resume, a Step, a new speed or Close.
func (s *Session) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Position is where the playback is, in the recording's extent.
func (s *Session) Position() api.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.length
	if s.pos != nil {
		p.Seq, p.Time = s.pos.Seq, s.pos.Time
	}
	p.Speed = s.speed
	return p
}

// SetSpeed changes the playback's speed from the next call on.
func (s *Session) SetSpeed(speed float64) error {
	if speed < 0 || math.IsNaN(speed) || math.IsInf(speed, 0) {
		return fmt.Errorf("replay speed %g: want 0 (as fast as possible) or more", speed)
	}
	s.mu.Lock()
	s.speed = speed
	s.mu.Unlock()
	s.poke()
	return nil
}

// Step plays n calls at once and pauses, or moves back -n calls.
func (s *Session) Step(ctx context.Context, n int) error {
	if n < 0 {
		return s.request(ctx, func(ctx context.Context, p *player) (uint64, error) { return p.back(ctx, -n) })
	}
	s.mu.Lock()
	s.paused = true
	holding := s.holding
	if holding {
		n-- // the held call is the first
	}
	s.steps += n
	s.mu.Unlock()
	s.poke()
	if holding {
		return s.Continue(ctx)
	}
	return nil
}

// Seek moves to the call of seq, or the first after it, or the last call.
func (s *Session) Seek(ctx context.Context, seq uint64) error {
	return s.request(ctx, func(ctx context.Context, p *player) (uint64, error) {
		return p.find(ctx, s.file.FindSeq(seq), func(sc *api.Syscall) bool { return sc.Seq >= seq }, true)
	})
}

// SeekTime moves to the first call recorded at t or after, or the last call.
func (s *Session) SeekTime(ctx context.Context, t time.Time) error {
	from := sort.Search(len(s.file.Blocks), func(i int) bool { return !s.file.Blocks[i].LastTime.Before(t) })
	return s.request(ctx, func(ctx context.Context, p *player) (uint64, error) {
		return p.find(ctx, from, func(sc *api.Syscall) bool { return !sc.Time.Before(t) }, true)
	})
}

// SeekMatch moves to the first call after the position that match keeps.
func (s *Session) SeekMatch(ctx context.Context, match func(*api.Syscall) bool) error {
	return s.request(ctx, func(ctx context.Context, p *player) (uint64, error) {
		at := s.Position().Seq
		return p.find(ctx, s.file.FindSeq(at+1), func(sc *api.Syscall) bool { return sc.Seq > at && match(sc) }, false)
	})
}

// errEnded is a move asked of a playback that is over.
var errEnded = errors.New("the replay has ended")

// move is a move asked of the player: target, run on its goroutine (which
// owns the file), finds the call to move to.
type move struct {
	ctx    context.Context
	target func(context.Context, *player) (uint64, error)
	done   chan error
}

// request has the player make a move and waits for it.
func (s *Session) request(ctx context.Context, target func(context.Context, *player) (uint64, error)) error {
	m := move{ctx: ctx, target: target, done: make(chan error, 1)}
	select {
	case s.moves <- m:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errEnded
	case <-s.ended:
		return errEnded
	}
	select {
	case err := <-m.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
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
	err := p.seat(s.opts.Start)
	for err == nil {
		if err = p.play(ctx); err == nil {
			if !s.opts.Linger {
				break
			}
			err = p.linger(ctx)
		}
		if errors.Is(err, errMoved) { // play on from the new position
			err = nil
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// finish ends the subscriptions and the holds, and closes the file.
func (s *Session) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeSubs()
	close(s.holds)
	close(s.ended)
	s.closeErr = s.file.Close()
	s.running, s.over = false, true
}

// block decodes block i with only the calls the session delivers, its
// snapshots moved along.
func (s *Session) block(i int) (*record.Block, error) {
	blk, err := s.file.Block(i)
	if err != nil {
		return nil, fmt.Errorf("replaying %s: %w", s.info.Replay, err)
	}
	if s.only == nil {
		return blk, nil
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
	return blk, nil
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

// errMoved ends what the player was doing: a move put it elsewhere.
var errMoved = errors.New("the playback moved")

// player plays the recording from a position, a block at a time, and
// hands the calls to the subscriptions in batches, each a run of the
// block's calls: the block is decoded afresh for the playback, so the
// readers can have it without a copy. It runs on Run's goroutine, and so
// do the moves it is asked for while it waits.
type player struct {
	s         *Session
	blk       int               // the block playing
	evs       []api.Syscall     // its calls
	snaps     []record.Snapshot // its snapshots not applied yet
	from, to  int               // the batch not handed over yet: evs[from:to]; evs[to] plays next
	lastFlush time.Time
	// The wall clock and the recording's clock at the last anchor, and
	// the speed then: a call is due when the wall clock has moved as far,
	// over the speed.
	wall, rec time.Time
	speed     float64
	anchored  bool
}

// load makes block i the one playing, from its start.
func (p *player) load(i int) error {
	blk, err := p.s.block(i)
	if err != nil {
		return err
	}
	p.blk, p.evs, p.snaps, p.from, p.to = i, blk.Events, blk.Snapshots, 0, 0
	return nil
}

// seat puts the player at the first call of seq from or after it (the end
// when there is none), with the process table as it was: the block's
// snapshots and calls before it.
func (p *player) seat(from uint64) error {
	n := len(p.s.file.Blocks)
	if n == 0 {
		return nil
	}
	if err := p.load(min(p.s.file.FindSeq(from), n-1)); err != nil {
		return err
	}
	for ; p.to < len(p.evs) && p.evs[p.to].Seq < from; p.to++ {
		p.applySnaps()
		p.s.track(&p.evs[p.to])
	}
	p.applySnaps()
	p.from = p.to
	return nil
}

// applySnaps takes the block's snapshots recorded before its call to.
func (p *player) applySnaps() {
	for len(p.snaps) > 0 && p.snaps[0].Before <= p.to {
		p.s.setProcs(p.snaps[0].Procs)
		p.snaps = p.snaps[1:]
	}
}

// play plays from the player's position to the end.
func (p *player) play(ctx context.Context) error {
	s := p.s
	for {
		for p.to < len(p.evs) {
			p.applySnaps()
			sc := &p.evs[p.to]
			stepped, err := p.pace(ctx, sc.Time)
			if err != nil {
				return err
			}
			s.track(sc)
			if s.breaks.Holds(sc) {
				if err := p.flush(ctx); err != nil {
					return err
				}
				if err := p.hold(ctx, sc); err != nil {
					return err
				}
				p.anchored = false // the time held is not the recording's
			}
			if err := p.add(ctx, stepped); err != nil {
				return err
			}
		}
		p.applySnaps()
		if err := p.flush(ctx); err != nil {
			return err
		}
		if p.blk+1 >= len(s.file.Blocks) {
			return nil
		}
		if err := p.load(p.blk + 1); err != nil {
			return err
		}
	}
}

// hold stops the playback at sc until Continue.
func (p *player) hold(ctx context.Context, sc *api.Syscall) error {
	s := p.s
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
	for {
		select {
		case <-s.cont:
			return nil
		case m := <-s.moves:
			if err := p.serve(m); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// linger waits at the end of the recording for a move.
func (p *player) linger(ctx context.Context) error {
	for {
		select {
		case m := <-p.s.moves:
			if err := p.serve(m); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waiting says the playback is paused, with no step to play.
func (s *Session) waiting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused && s.steps == 0
}

// takeStep says whether the next call is a step, to play at once, and
// counts it.
func (s *Session) takeStep() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.paused || s.steps == 0 {
		return false
	}
	s.steps--
	return true
}

func (s *Session) speedNow() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.speed
}

// pace waits until the call recorded at at is due, and while paused;
// stepped says the call is a step.
func (p *player) pace(ctx context.Context, at time.Time) (stepped bool, err error) {
	s := p.s
	for {
		if s.takeStep() {
			p.anchored = false
			return true, nil
		}
		if s.waiting() {
			if err := p.flush(ctx); err != nil {
				return false, err
			}
			if err := p.waitResume(ctx); err != nil {
				return false, err
			}
			p.anchored = false
			continue // a step, or playing again
		}
		speed := s.speedNow()
		if speed <= 0 {
			return false, nil
		}
		if !p.anchored || speed != p.speed {
			p.wall, p.rec, p.speed, p.anchored = time.Now(), at, speed, true
			return false, nil
		}
		wait := time.Until(p.wall.Add(time.Duration(float64(at.Sub(p.rec)) / speed)))
		if wait <= 0 {
			return false, nil
		}
		if p.to > p.from && (wait > batchInterval || time.Since(p.lastFlush) >= batchInterval) {
			if err := p.flush(ctx); err != nil {
				return false, err
			}
		}
		t := time.NewTimer(min(wait, batchInterval))
		select {
		case <-t.C:
		case <-s.wake: // a Pause, Step or new speed that came first; look again
			t.Stop()
		case m := <-s.moves:
			t.Stop()
			if err := p.serve(m); err != nil {
				return false, err
			}
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		}
	}
}

// waitResume waits while the playback is paused with no step to play.
func (p *player) waitResume(ctx context.Context) error {
	for p.s.waiting() {
		select {
		case <-p.s.wake:
		case m := <-p.s.moves:
			if err := p.serve(m); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// add adds the block's next call to the batch; a step goes at once.
func (p *player) add(ctx context.Context, now bool) error {
	p.to++
	p.s.mu.Lock()
	limit := p.s.limit
	p.s.mu.Unlock()
	if now || p.to-p.from >= limit || time.Since(p.lastFlush) >= batchInterval {
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
	s := p.s
	s.mu.Lock()
	chans := make([]chan []api.Syscall, len(s.subs))
	for i, sub := range s.subs {
		chans[i] = sub.ch
	}
	s.events += uint64(len(batch))
	s.pos = &batch[len(batch)-1]
	s.mu.Unlock()
	for _, ch := range chans {
		for sent := false; !sent; {
			select {
			case ch <- batch:
				sent = true
			case m := <-s.moves:
				if err := p.serve(m); err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// serve makes a move asked while the player waits and answers it: errMoved
// when it moved, so that what waited gives way; nil when it failed, so
// that the wait goes on.
func (p *player) serve(m move) error {
	err := p.move(m)
	m.done <- err
	if err != nil {
		return nil
	}
	return errMoved
}

// move finds m's call, puts the player just after it, paused, and starts
// the subscriptions afresh with the calls up to it. A failure changes
// nothing.
func (p *player) move(m move) error {
	s := p.s
	seq, err := m.target(m.ctx, p)
	if err != nil {
		return err
	}
	s.mu.Lock()
	limit := min(s.limit, maxHistory)
	s.mu.Unlock()
	hist, err := p.history(m.ctx, seq, limit)
	if err != nil {
		return err
	}
	if err := p.seat(seq + 1); err != nil {
		return err
	}
	p.anchored = false
	select { // a hold not taken yet is of where the playback was
	case <-s.holds:
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused, s.steps = true, 0
	s.pos = &hist[len(hist)-1]
	for _, sub := range s.subs {
		sub.ch = make(chan []api.Syscall, 1)
		sub.ch <- hist // the channel is new: there is room
	}
	return nil
}

// find is the seq of the first call from block from on that keep keeps;
// with last, the recording's last call when none is; else ErrNoMatch.
func (p *player) find(ctx context.Context, from int, keep func(*api.Syscall) bool, last bool) (uint64, error) {
	for i := from; i < len(p.s.file.Blocks); i++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		blk, err := p.s.block(i)
		if err != nil {
			return 0, err
		}
		if j := slices.IndexFunc(blk.Events, func(sc api.Syscall) bool { return keep(&sc) }); j >= 0 {
			return blk.Events[j].Seq, nil
		}
	}
	if !last {
		return 0, api.ErrNoMatch
	}
	for i := len(p.s.file.Blocks) - 1; i >= 0; i-- {
		blk, err := p.s.block(i)
		if err != nil {
			return 0, err
		}
		if n := len(blk.Events); n > 0 {
			return blk.Events[n-1].Seq, nil
		}
	}
	return 0, errors.New("the recording holds no calls")
}

// back is the seq of the call n calls before the position.
func (p *player) back(ctx context.Context, n int) (uint64, error) {
	at := p.s.Position().Seq
	for i := min(p.s.file.FindSeq(at), len(p.s.file.Blocks)-1); i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		blk, err := p.s.block(i)
		if err != nil {
			return 0, err
		}
		evs := blk.Events
		if k, _ := slices.BinarySearchFunc(evs, at, func(sc api.Syscall, seq uint64) int { return cmp.Compare(sc.Seq, seq) }); k < len(evs) {
			evs = evs[:k] // before the position
		}
		if len(evs) >= n {
			return evs[len(evs)-n].Seq, nil
		}
		n -= len(evs)
	}
	return 0, errors.New("no call before the position: it is the recording's first")
}

// history is the calls up to seq's, at most n of them.
func (p *player) history(ctx context.Context, seq uint64, n int) ([]api.Syscall, error) {
	var parts [][]api.Syscall // newest first
	for i := p.s.file.FindSeq(seq); i >= 0 && n > 0; i-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		blk, err := p.s.block(i)
		if err != nil {
			return nil, err
		}
		evs := blk.Events
		if k, found := slices.BinarySearchFunc(evs, seq, func(sc api.Syscall, seq uint64) int { return cmp.Compare(sc.Seq, seq) }); k < len(evs) {
			if found {
				k++
			}
			evs = evs[:k]
		}
		evs = evs[max(len(evs)-n, 0):]
		parts = append(parts, evs)
		n -= len(evs)
	}
	slices.Reverse(parts)
	return slices.Concat(parts...), nil
}

var (
	_ api.Hypervisor = (*Hypervisor)(nil)
	_ api.Session    = (*Session)(nil)
	_ api.Playback   = (*Session)(nil)
)
