package uitest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"nitro/api"
)

// ErrNotQEMU is what the fake Hypervisor says when attaching to a domain of
// libvirt's test driver.
var ErrNotQEMU = errors.New("domain is not a QEMU domain (nitro attaches through QEMU's monitor)")

// Hypervisor is a fake libvirt: the domains of libvirt's test driver, plus
// sessions the test registers by name.
type Hypervisor struct {
	mu       sync.Mutex
	domains  []api.Domain
	sessions map[string]*Session
	controls []string
}

// Controls is what the UI asked, "action name" in order.
func (h *Hypervisor) Controls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.controls...)
}

// NewHypervisor has test:///default's one domain, "test", running.
func NewHypervisor() *Hypervisor {
	return &Hypervisor{
		domains:  []api.Domain{{Name: "test", State: "running", VCPUs: 2, MemoryKiB: 8 << 20}},
		sessions: make(map[string]*Session),
	}
}

// Add lists a domain whose Attach returns s (nil: attaching fails).
func (h *Hypervisor) Add(d api.Domain, s *Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.domains = append(h.domains, d)
	if s != nil {
		h.sessions[d.Name] = s
	}
}

// Domains implements api.Hypervisor.
func (h *Hypervisor) Domains(context.Context) ([]api.Domain, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]api.Domain(nil), h.domains...), nil
}

// Control implements api.Hypervisor: it records the action and changes the state.
func (h *Hypervisor) Control(_ context.Context, name string, a api.Action) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.controls = append(h.controls, a.String()+" "+name)
	for i := range h.domains {
		d := &h.domains[i]
		if d.Name != name {
			continue
		}
		switch a {
		case api.Start, api.Resume:
			d.State, d.Paused = "running", false
		case api.Shutdown:
			d.State, d.Paused = "shut off", false
		case api.Suspend:
			d.State, d.Paused = "paused", true
		}
		return nil
	}
	return fmt.Errorf("domain %q not found", name)
}

// Attach implements api.Hypervisor.
func (h *Hypervisor) Attach(_ context.Context, name string, _ api.AttachOptions) (api.Session, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.sessions[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("attaching to %q: %w", name, ErrNotQEMU)
}

// Replace makes Attach to name return s from now on, as a new session
// does after the first was lost.
func (h *Hypervisor) Replace(name string, s *Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sessions[name] = s
}

// Inspect implements api.Hypervisor: the fake has no guest memory.
func (h *Hypervisor) Inspect(_ context.Context, name string) (api.Guest, error) {
	return nil, fmt.Errorf("inspecting %q: %w", name, ErrNotQEMU)
}

// Detach implements api.Hypervisor, recording it like a control.
func (h *Hypervisor) Detach(_ context.Context, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.controls = append(h.controls, "detach "+name)
	return nil
}

// Session is a fake attached domain. Tests feed it with Send and Hold and
// read what the UI asked of it from its exported fields (under Lock).
type Session struct {
	sync.Mutex
	info    api.Info
	batches chan []api.Syscall
	held    chan api.Held
	closed  chan struct{} // ends Run
	lost    chan struct{} // ends Run with lostErr
	lostErr error
	stats   api.Stats
	current *api.Held
	// subscribed: the first subscription (the UI's) has batches; those
	// after it (a recorder's) each get a channel of their own in extra,
	// fed what Send delivers too, closed with the session.
	subscribed bool
	extra      []chan []api.Syscall
	extraShut  bool

	Breaks    []api.Breakpoint
	Edits     []api.Edit
	Continues int
	Closed    bool
	// Injections are the armed injections, in the order armed; Stats
	// lists them.
	Injections []api.Injection
}

// NewSession is a fake session of domain "lab".
func NewSession() *Session {
	return &Session{
		info:    api.Info{Domain: "lab", Listener: "gdbstub", Kernel: "Linux 6.1.0-28-amd64"},
		batches: make(chan []api.Syscall, 64),
		held:    make(chan api.Held, 1),
		closed:  make(chan struct{}),
		lost:    make(chan struct{}),
	}
}

// Send delivers a batch, counting it in Stats, to every subscription.
func (s *Session) Send(b []api.Syscall) {
	s.Lock()
	s.stats.Events += uint64(len(b))
	s.Unlock()
	s.batches <- b
	s.Lock()
	defer s.Unlock()
	if s.extraShut {
		return
	}
	for _, ch := range s.extra {
		ch <- b
	}
}

// shutExtra closes the subscriptions after the first, once.
func (s *Session) shutExtra() {
	s.Lock()
	defer s.Unlock()
	if !s.extraShut {
		s.extraShut = true
		for _, ch := range s.extra {
			close(ch)
		}
	}
}

// Flood feeds the session like a lossy core subscription until ctx ends:
// every interval a batch of rate*interval events; a batch the UI has no room
// for is dropped and counted.
func (s *Session) Flood(ctx context.Context, rate int, every time.Duration) {
	n := max(int(float64(rate)*every.Seconds()), 1)
	seq := uint64(1)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b := Stream(seq, n)
		seq += uint64(n)
		select {
		case s.batches <- b:
			s.Lock()
			s.stats.Events += uint64(n)
			s.Unlock()
		default:
			s.Lock()
			s.stats.Events += uint64(n)
			s.stats.Dropped += uint64(n)
			s.Unlock()
		}
	}
}

// SetStats replaces the counters the UI reads.
func (s *Session) SetStats(st api.Stats) {
	s.Lock()
	defer s.Unlock()
	s.stats = st
}

// Hold reports a break hit.
func (s *Session) Hold(h api.Held) {
	if h.Uses == nil { // the core always says what the arguments are
		h.Uses = Uses(h.Call)
	}
	s.Lock()
	s.current = &h
	s.Unlock()
	s.held <- h
}

// End ends Run and closes the batch channels as a session that lost its
// domain does.
func (s *Session) End() { s.Lose(nil) }

// Lose ends Run with err and closes the batch channels, as a remote
// session whose connection dropped does.
func (s *Session) Lose(err error) {
	s.lostErr = err
	close(s.lost)
	close(s.batches)
	s.shutExtra()
}

func (s *Session) Info() api.Info        { return s.info }
func (s *Session) Held() <-chan api.Held { return s.held }

// Subscribe returns, the first time, the stream tests feed with Send and
// Flood, whose drops are those Flood counted; after that, a stream of its
// own that Send feeds too.
func (s *Session) Subscribe(int, time.Duration) api.Subscription {
	s.Lock()
	defer s.Unlock()
	if !s.subscribed {
		s.subscribed = true
		return subscription{s, s.batches}
	}
	ch := make(chan []api.Syscall, 64)
	if s.extraShut {
		close(ch)
	}
	s.extra = append(s.extra, ch)
	return subscription{s, ch}
}

type subscription struct {
	s  *Session
	ch chan []api.Syscall
}

func (sub subscription) C() <-chan []api.Syscall { return sub.ch }

func (sub subscription) Dropped() uint64 {
	sub.s.Lock()
	defer sub.s.Unlock()
	return sub.s.stats.Dropped
}

// Run waits for Close or ctx, as a session's event loop does.
func (s *Session) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-s.closed:
	case <-s.lost:
		return s.lostErr
	}
	return nil
}

func (s *Session) Processes(context.Context) ([]api.Process, error) {
	return append([]api.Process(nil), Procs...), nil
}

func (s *Session) Stats() api.Stats {
	s.Lock()
	defer s.Unlock()
	st := s.stats
	st.Injections = nil
	for _, in := range s.Injections {
		st.Injections = append(st.Injections, api.ArmedInjection{Injection: in})
	}
	return st
}

// Inject arms in as a session does: it replaces one of the same text.
func (s *Session) Inject(_ context.Context, in api.Injection) error {
	if err := in.Check(); err != nil {
		return err
	}
	s.Lock()
	defer s.Unlock()
	s.Injections = slices.DeleteFunc(s.Injections, func(have api.Injection) bool { return have.String() == in.String() })
	s.Injections = append(s.Injections, in)
	return nil
}

func (s *Session) ClearInjection(_ context.Context, in api.Injection) error {
	s.Lock()
	defer s.Unlock()
	n := len(s.Injections)
	s.Injections = slices.DeleteFunc(s.Injections, func(have api.Injection) bool { return have.String() == in.String() })
	if len(s.Injections) == n {
		return fmt.Errorf("%w: %s", api.ErrNotArmed, in)
	}
	return nil
}

func (s *Session) Break(_ context.Context, b api.Breakpoint) error {
	s.Lock()
	defer s.Unlock()
	s.Breaks = append(s.Breaks, b)
	return nil
}

func (s *Session) ClearBreak(_ context.Context, b api.Breakpoint) error {
	s.Lock()
	defer s.Unlock()
	for i, have := range s.Breaks {
		if have == b {
			s.Breaks = append(s.Breaks[:i], s.Breaks[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("no break on %s", b.Name)
}

// Edit applies e to the held call as a session would after writing the
// guest (see apply), or refuses it, changing nothing, with the core's reason.
func (s *Session) Edit(_ context.Context, e api.Edit) (api.Held, error) {
	s.Lock()
	defer s.Unlock()
	if s.current == nil || e.Seq != 0 && e.Seq != s.current.Call.Seq {
		return api.Held{}, api.ErrNotHeld
	}
	s.Edits = append(s.Edits, e)
	// A copy: the UI holds the slices of the Held it was given.
	h := *s.current
	h.Call.Args = append([]api.Arg(nil), h.Call.Args...)
	h.Regs = append([]api.Register(nil), h.Regs...)
	if err := apply(&h, e); err != nil {
		return api.Held{}, err
	}
	*s.current = h
	return h, nil
}

func (s *Session) Continue(context.Context) error {
	s.Lock()
	defer s.Unlock()
	if s.current == nil {
		return errors.New("no call is held")
	}
	s.current = nil
	s.Continues++
	return nil
}

func (s *Session) Pause(context.Context) error {
	s.Lock()
	defer s.Unlock()
	s.stats.Paused = true
	return nil
}

func (s *Session) Resume(context.Context) error {
	s.Lock()
	defer s.Unlock()
	s.stats.Paused = false
	return nil
}

func (s *Session) Close() error {
	s.shutExtra()
	s.Lock()
	defer s.Unlock()
	if !s.Closed {
		s.Closed = true
		close(s.closed)
	}
	return nil
}
