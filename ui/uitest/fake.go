package uitest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"nitro/core/backend"
	"nitro/internal/escape"
	"nitro/ui/model"
)

// ErrNotQEMU is what the fake Hypervisor says when attaching to a domain of
// libvirt's test driver.
var ErrNotQEMU = errors.New("domain is not a QEMU domain (nitro attaches through QEMU's monitor)")

// Hypervisor is a fake libvirt: the domains of libvirt's test driver, plus
// sessions the test registers by name.
type Hypervisor struct {
	mu       sync.Mutex
	domains  []model.Domain
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
		domains:  []model.Domain{{Name: "test", State: "running", VCPUs: 2, MemoryKiB: 8 << 20}},
		sessions: make(map[string]*Session),
	}
}

// Add lists a domain whose Attach returns s (nil: attaching fails).
func (h *Hypervisor) Add(d model.Domain, s *Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.domains = append(h.domains, d)
	if s != nil {
		h.sessions[d.Name] = s
	}
}

// Domains implements model.Hypervisor.
func (h *Hypervisor) Domains(context.Context) ([]model.Domain, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]model.Domain(nil), h.domains...), nil
}

// Control implements model.Hypervisor: it records the action and changes the state.
func (h *Hypervisor) Control(_ context.Context, name string, a model.Action) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.controls = append(h.controls, a.String()+" "+name)
	for i := range h.domains {
		d := &h.domains[i]
		if d.Name != name {
			continue
		}
		switch a {
		case model.Start, model.Resume:
			d.State, d.Paused = "running", false
		case model.Shutdown:
			d.State, d.Paused = "shut off", false
		case model.Suspend:
			d.State, d.Paused = "paused", true
		}
		return nil
	}
	return fmt.Errorf("domain %q not found", name)
}

// Attach implements model.Hypervisor.
func (h *Hypervisor) Attach(_ context.Context, name string) (model.Session, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.sessions[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("attaching to %q: %w", name, ErrNotQEMU)
}

// Session is a fake attached domain. Tests feed it with Send and Hold and
// read what the UI asked of it from its exported fields (under Lock).
type Session struct {
	sync.Mutex
	info    model.Info
	batches chan []backend.Syscall
	held    chan model.Held
	stats   model.Stats
	current *model.Held

	Breaks    []model.Breakpoint
	Edits     []model.Edit
	Continues int
	Closed    bool
}

// NewSession is a fake session of domain "lab".
func NewSession() *Session {
	return &Session{
		info:    model.Info{Domain: "lab", Listener: "gdbstub", Kernel: "Linux 6.1.0-28-amd64"},
		batches: make(chan []backend.Syscall, 64),
		held:    make(chan model.Held, 1),
	}
}

// Send delivers a batch, counting it in Stats.
func (s *Session) Send(b []backend.Syscall) {
	s.Lock()
	s.stats.Total += uint64(len(b))
	s.Unlock()
	s.batches <- b
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
			s.stats.Total += uint64(n)
			s.Unlock()
		default:
			s.Lock()
			s.stats.Total += uint64(n)
			s.stats.Dropped += uint64(n)
			s.Unlock()
		}
	}
}

// SetStats replaces the counters the UI reads.
func (s *Session) SetStats(st model.Stats) {
	s.Lock()
	defer s.Unlock()
	s.stats = st
}

// Hold reports a break hit.
func (s *Session) Hold(h model.Held) {
	s.Lock()
	s.current = &h
	s.Unlock()
	s.held <- h
}

// End closes the batch channel as a session that lost its domain does.
func (s *Session) End() { close(s.batches) }

func (s *Session) Info() model.Info                  { return s.info }
func (s *Session) Batches() <-chan []backend.Syscall { return s.batches }
func (s *Session) Held() <-chan model.Held           { return s.held }

func (s *Session) Processes(context.Context) ([]model.Process, error) {
	return append([]model.Process(nil), Procs...), nil
}

func (s *Session) Stats() model.Stats {
	s.Lock()
	defer s.Unlock()
	return s.stats
}

func (s *Session) Break(_ context.Context, b model.Breakpoint) error {
	s.Lock()
	defer s.Unlock()
	s.Breaks = append(s.Breaks, b)
	return nil
}

func (s *Session) ClearBreak(_ context.Context, b model.Breakpoint) error {
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
// guest: an argument's raw value or the text of the buffer it points to.
func (s *Session) Edit(_ context.Context, e model.Edit) (model.Held, error) {
	s.Lock()
	defer s.Unlock()
	if s.current == nil {
		return model.Held{}, errors.New("no call is held")
	}
	s.Edits = append(s.Edits, e)
	h := s.current
	// Copies: the UI holds the slices of the Held it was given.
	h.Call.Args = append([]backend.Arg(nil), h.Call.Args...)
	h.Regs = append([]model.Register(nil), h.Regs...)
	switch {
	case e.Reg != "":
		for i := range h.Regs {
			if strings.EqualFold(h.Regs[i].Name, e.Reg) {
				h.Regs[i].Value = e.Value
			}
		}
	case e.Arg < 0 || e.Arg >= len(h.Call.Args):
		return model.Held{}, fmt.Errorf("no argument %d", e.Arg)
	case e.Data != nil:
		h.Call.Args[e.Arg].Text = `"` + escape.Bytes(e.Data) + `"`
	default:
		h.Call.Args[e.Arg] = backend.Arg{Raw: e.Value, Text: fmt.Sprintf("%#x", e.Value)}
	}
	return *h, nil
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
	s.Lock()
	defer s.Unlock()
	s.Closed = true
	return nil
}
