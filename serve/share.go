package serve

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"nitro/api"
	"nitro/internal/escape"
)

// backlog is how many batches a viewer's screen may fall behind before its
// own calls are dropped: about two seconds of a session's batches (tens of
// milliseconds apart), so a screen busy redrawing loses nothing, while one
// whose connection stalled costs only itself.
const backlog = 64

// sharedLimit is what the one subscription of a shared session holds
// between batches. The fan-out never waits for a screen, so it keeps up
// unless the server itself starves: then all screens miss the same calls.
const sharedLimit = 1 << 16

// hub keeps the one shared session of each domain.
type hub struct {
	hv    api.Hypervisor
	audit *auditLog
	// ctx is the server's: sessions are attached for it, not for the
	// viewer who happened to come first.
	ctx context.Context

	mu    sync.Mutex
	slots map[string]*slot
}

// slot serializes attaching and detaching one domain: a viewer arriving as
// the last one leaves waits for the detach, then attaches anew.
type slot struct {
	mu     sync.Mutex
	shared *shared // nil while detached
}

func (h *hub) slot(name string) *slot {
	h.mu.Lock()
	defer h.mu.Unlock()
	sl := h.slots[name]
	if sl == nil {
		sl = &slot{}
		h.slots[name] = sl
	}
	return sl
}

// open joins who to the shared session of the domain, attaching it first
// when nobody watches it. ctx is who's: when it ended during the attach,
// nobody would close the viewer, so open does.
func (h *hub) open(ctx context.Context, name string, who Person) (api.Session, error) {
	sl := h.slot(name)
	sl.mu.Lock()
	if sl.shared == nil {
		sess, err := h.hv.Attach(h.ctx, name, api.AttachOptions{})
		if err != nil {
			sl.mu.Unlock()
			return nil, err
		}
		sl.shared = newShared(h, sl, name, sess)
	}
	v := sl.shared.join(who)
	sl.mu.Unlock()
	if err := ctx.Err(); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// closeAll detaches every domain: the server stops.
func (h *hub) closeAll() {
	h.mu.Lock()
	slots := make([]*slot, 0, len(h.slots))
	for _, sl := range h.slots {
		slots = append(slots, sl)
	}
	h.mu.Unlock()
	for _, sl := range slots {
		sl.mu.Lock()
		if s := sl.shared; s != nil {
			sl.shared = nil
			s.sess.Close()
		}
		sl.mu.Unlock()
	}
}

// shared is one attached session and the viewers it feeds.
type shared struct {
	hub  *hub
	slot *slot
	name string
	sess api.Session
	sub  api.Subscription // the session's one subscription, fanned out
	ran  chan struct{}    // closed when Run returned, with runErr
	// runErr is Run's error, read only after ran is closed.
	runErr error

	ctl sync.Mutex // one control action at a time

	mu      sync.Mutex
	viewers map[*viewer]bool
	ended   bool      // the stream ended: every subscription is closed
	held    *api.Held // the call held now, as the viewers got it; nil if none
	holder  *viewer   // whose break holds it; nil when unknown or gone
	release chan struct{}
	// resumed is the session's ResumedOutside when held came: a resume
	// outside nitro lets the call run without any Continue.
	resumed uint64
	// breaks and injections say who armed what (injections by their
	// text): whose a hold is, what a controller leaving takes with it.
	breaks     map[api.Breakpoint]*viewer
	injections map[string]armed
}

// armed is an injection and who armed it.
type armed struct {
	in api.Injection
	by *viewer
}

func newShared(h *hub, sl *slot, name string, sess api.Session) *shared {
	s := &shared{
		hub: h, slot: sl, name: name, sess: sess,
		sub:        sess.Subscribe(sharedLimit, api.Lossy),
		ran:        make(chan struct{}),
		viewers:    make(map[*viewer]bool),
		breaks:     make(map[api.Breakpoint]*viewer),
		injections: make(map[string]armed),
	}
	go s.fanOut()
	go func() {
		s.runErr = sess.Run(h.ctx)
		close(s.ran)
	}()
	go s.watchHolds()
	return s
}

// fanOut hands each batch to every viewer's subscriptions without ever
// waiting for one; when the stream ends it closes them and detaches.
func (s *shared) fanOut() {
	for b := range s.sub.C() {
		s.mu.Lock()
		for v := range s.viewers {
			for _, f := range v.subs {
				f.offer(b)
			}
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.ended = true
	s.releaseLocked()
	for v := range s.viewers {
		for _, f := range v.subs {
			close(f.ch)
		}
	}
	s.mu.Unlock()
	// The guest went away or could not be followed: detach now, so that a
	// viewer opening it again attaches anew, whoever still looks at the end.
	// Under the slot's lock: a viewer opening it meanwhile attaches once
	// this session let go of the domain.
	s.slot.mu.Lock()
	defer s.slot.mu.Unlock()
	if s.slot.shared == s {
		s.slot.shared = nil
	}
	s.sess.Close()
}

func (s *shared) watchHolds() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.ran:
			return
		case h := <-s.sess.Held():
			s.hold(h)
		case <-t.C:
			s.checkResumed()
		}
	}
}

// hold shows h to every viewer, with whose it is.
func (s *shared) hold(h api.Held) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked() // a newer hold: the older call ran on
	s.release = make(chan struct{})
	h.Done = s.release
	s.holder = s.ownerLocked(&h.Call)
	if s.holder != nil {
		h.By = s.holder.who.String()
	}
	s.held = &h
	s.resumed = s.sess.Stats().ResumedOutside
	for v := range s.viewers {
		v.sendHeld(h)
	}
}

// checkResumed ends the hold a resume outside nitro let run.
func (s *shared) checkResumed() {
	st := s.sess.Stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held != nil && st.ResumedOutside != s.resumed {
		s.releaseLocked()
	}
}

func (s *shared) releaseLocked() {
	if s.release != nil {
		close(s.release)
	}
	s.held, s.holder, s.release = nil, nil, nil
}

// ownerLocked is who armed the break that holds c.
func (s *shared) ownerLocked(c *api.Syscall) *viewer {
	if v := s.breaks[api.Breakpoint{Name: c.Name, PID: c.Process.PID, Exit: c.IsExit()}]; v != nil {
		return v
	}
	return s.breaks[api.Breakpoint{Name: c.Name, Exit: c.IsExit()}]
}

func (s *shared) join(who Person) *viewer {
	v := &viewer{s: s, who: who, held: make(chan api.Held, 1), gone: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.viewers[v] = true
	if s.held != nil {
		v.sendHeld(*s.held)
	}
	return v
}

// leave drops v; the last viewer out detaches. A controller leaving takes
// its breaks and injections with it and lets its held call run: nobody
// else could.
func (s *shared) leave(v *viewer) {
	sl := s.slot
	sl.mu.Lock()
	defer sl.mu.Unlock()
	s.mu.Lock()
	delete(s.viewers, v)
	left := len(s.viewers)
	s.mu.Unlock()
	if sl.shared != s { // it ended and detached already
		return
	}
	if left == 0 {
		sl.shared = nil
		s.sess.Close()
		return
	}
	if v.who.Role == Controller {
		s.disarm(v)
	}
}

func (s *shared) disarm(v *viewer) {
	ctx := s.hub.ctx
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.mu.Lock()
	var breaks []api.Breakpoint
	for b, by := range s.breaks {
		if by == v {
			breaks = append(breaks, b)
			delete(s.breaks, b)
		}
	}
	var injections []api.Injection
	for text, a := range s.injections {
		if a.by == v {
			injections = append(injections, a.in)
			delete(s.injections, text)
		}
	}
	holding := s.holder == v
	s.mu.Unlock()
	for _, b := range breaks {
		s.hub.audit.log(v.who, s.name, "clear "+breakText(b)+" (controller left)", s.sess.ClearBreak(ctx, b))
	}
	for _, in := range injections {
		s.hub.audit.log(v.who, s.name, "clear inject "+in.String()+" (controller left)", s.sess.ClearInjection(ctx, in))
	}
	if holding {
		err := s.sess.Continue(ctx)
		s.mu.Lock()
		if err == nil || errors.Is(err, api.ErrNotHeld) {
			s.releaseLocked()
		} else {
			s.holder = nil // still held: any controller may let it go now
		}
		s.mu.Unlock()
		s.hub.audit.log(v.who, s.name, "continue (controller left)", err)
	}
}

// viewer is one screen's view of a shared session: it implements
// api.Session, refusing a viewer's changes and checking a controller's.
type viewer struct {
	s    *shared
	who  Person
	held chan api.Held
	subs []*fanSub // under s.mu
	gone chan struct{}
	once sync.Once
}

// sendHeld hands h over, replacing one the screen has not taken yet.
// Under s.mu: one sender at a time.
func (v *viewer) sendHeld(h api.Held) {
	select {
	case <-v.held:
	default:
	}
	v.held <- h
}

func (v *viewer) Info() api.Info        { return v.s.sess.Info() }
func (v *viewer) Held() <-chan api.Held { return v.held }
func (v *viewer) Stats() api.Stats      { return v.s.sess.Stats() }

func (v *viewer) Processes(ctx context.Context) ([]api.Process, error) {
	return v.s.sess.Processes(ctx)
}

// Subscribe gives the screen a stream of its own, lossy whatever wait
// asks: one screen never holds the guest or the others. A screen takes
// what is waiting at once, so limit, a bound for a session that gathers
// calls into batches, has no use here.
func (v *viewer) Subscribe(int, time.Duration) api.Subscription {
	s := v.s
	f := &fanSub{ch: make(chan []api.Syscall, backlog), shared: s.sub, base: s.sub.Dropped()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		close(f.ch)
	}
	v.subs = append(v.subs, f)
	return f
}

// Run lasts as long as the screen watches; the shared session runs on
// its own, started at attach.
func (v *viewer) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-v.gone:
		return nil
	case <-v.s.ran:
		return v.s.runErr
	}
}

// Close leaves the session; the last viewer out detaches it.
func (v *viewer) Close() error {
	v.once.Do(func() {
		close(v.gone)
		v.s.leave(v)
	})
	return nil
}

// control runs op as v's action, if v may, one action at a time, and
// writes it to the audit log either way.
func (v *viewer) control(action string, op func() error) error {
	s := v.s
	if v.who.Role != Controller {
		s.hub.audit.log(v.who, s.name, action, api.ErrReadOnly)
		return api.ErrReadOnly
	}
	s.ctl.Lock()
	defer s.ctl.Unlock()
	err := op()
	s.hub.audit.log(v.who, s.name, action, err)
	return err
}

// mayTouchHeld refuses an edit or continue of a call another controller's
// break holds.
func (v *viewer) mayTouchHeld() error {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holder != nil && s.holder != v {
		return fmt.Errorf("the call is held by %s: only they may edit or continue it", s.holder.who)
	}
	return nil
}

func (v *viewer) Break(ctx context.Context, b api.Breakpoint) error {
	return v.control(breakText(b), func() error {
		if err := v.s.sess.Break(ctx, b); err != nil {
			return err
		}
		v.s.mu.Lock()
		v.s.breaks[b] = v
		v.s.mu.Unlock()
		return nil
	})
}

func (v *viewer) ClearBreak(ctx context.Context, b api.Breakpoint) error {
	return v.control("clear "+breakText(b), func() error {
		if err := v.s.sess.ClearBreak(ctx, b); err != nil {
			return err
		}
		v.s.mu.Lock()
		delete(v.s.breaks, b)
		v.s.mu.Unlock()
		return nil
	})
}

func (v *viewer) Inject(ctx context.Context, in api.Injection) error {
	return v.control("inject "+in.String(), func() error {
		if err := v.s.sess.Inject(ctx, in); err != nil {
			return err
		}
		v.s.mu.Lock()
		v.s.injections[in.String()] = armed{in, v}
		v.s.mu.Unlock()
		return nil
	})
}

func (v *viewer) ClearInjection(ctx context.Context, in api.Injection) error {
	return v.control("clear inject "+in.String(), func() error {
		if err := v.s.sess.ClearInjection(ctx, in); err != nil {
			return err
		}
		v.s.mu.Lock()
		delete(v.s.injections, in.String())
		v.s.mu.Unlock()
		return nil
	})
}

// Edit changes the held call and shows it changed to every other viewer
// (the editor's screen takes it from the return).
func (v *viewer) Edit(ctx context.Context, e api.Edit) (api.Held, error) {
	var h api.Held
	err := v.control(editText(e), func() error {
		if err := v.mayTouchHeld(); err != nil {
			return err
		}
		var err error
		if h, err = v.s.sess.Edit(ctx, e); err != nil {
			return err
		}
		s := v.s
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.held != nil {
			h.By, h.Done = s.held.By, s.held.Done
			s.held = &h
			for other := range s.viewers {
				if other != v {
					other.sendHeld(h)
				}
			}
		}
		return nil
	})
	return h, err
}

func (v *viewer) Continue(ctx context.Context) error {
	return v.control("continue", func() error {
		if err := v.mayTouchHeld(); err != nil {
			return err
		}
		err := v.s.sess.Continue(ctx)
		if err == nil || errors.Is(err, api.ErrNotHeld) { // either way nothing is held any more
			v.s.mu.Lock()
			v.s.releaseLocked()
			v.s.mu.Unlock()
		}
		return err
	})
}

func (v *viewer) Pause(ctx context.Context) error {
	return v.control("pause", func() error { return v.s.sess.Pause(ctx) })
}

func (v *viewer) Resume(ctx context.Context) error {
	return v.control("resume", func() error { return v.s.sess.Resume(ctx) })
}

// breakText names a break as the audit log shows it.
func breakText(b api.Breakpoint) string {
	t := "break " + b.Name
	if b.PID != 0 {
		t += " pid " + strconv.Itoa(b.PID)
	}
	if b.Exit {
		t += " at exit"
	}
	return t
}

// editText names an edit as the audit log shows it; bytes are escaped.
func editText(e api.Edit) string {
	var t string
	switch {
	case e.Reg != "":
		t = "edit " + e.Reg
	case e.Ret:
		t = "edit return"
	default:
		t = "edit arg " + strconv.Itoa(e.Arg)
	}
	if e.Data != nil {
		t += ` = "` + escape.String(string(e.Data)) + `"`
		if e.Len {
			t += " (length too)"
		}
		return t
	}
	return t + " = " + strconv.FormatUint(e.Value, 10)
}

// fanSub is one screen's subscription to a shared session.
type fanSub struct {
	ch      chan []api.Syscall
	dropped atomic.Uint64
	shared  api.Subscription
	base    uint64 // shared's drops when this one began
}

// offer hands b over unless the screen is backlog batches behind: then
// the screen, and only it, misses b. Under the shared's mu.
func (f *fanSub) offer(b []api.Syscall) {
	select {
	case f.ch <- b:
	default:
		f.dropped.Add(uint64(len(b)))
	}
}

func (f *fanSub) C() <-chan []api.Syscall { return f.ch }

// Dropped counts what this screen missed: its own drops, and those of the
// shared stream since it began.
func (f *fanSub) Dropped() uint64 { return f.dropped.Load() + f.shared.Dropped() - f.base }
