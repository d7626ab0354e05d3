package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"nitro/api"
)

// Client is an api.Hypervisor served by a far nitro (Serve) over one
// connection. It holds at most one session and one guest at a time, as
// the agent does.
type Client struct {
	conn io.ReadWriteCloser
	out  *writer
	// Lost, when set, says what became of the guest when the connection
	// dropped (Dial sets it); the session's Run error ends with it.
	Lost func() string
	// Kernel, when set, goes with every attach and inspect: the far nitro
	// reads the guest's kernel from these files.
	Kernel *KernelFiles

	mu      sync.Mutex
	next    uint64
	pending map[uint64]chan message
	sess    *session
	err     error         // why the connection ended
	done    chan struct{} // closed when it has
}

var _ api.Hypervisor = (*Client)(nil)

// NewClient greets the agent on conn and checks that it speaks this
// version. It closes conn when the greeting fails or ctx ends first.
func NewClient(ctx context.Context, conn io.ReadWriteCloser) (*Client, error) {
	c := &Client{conn: conn, out: newWriter(conn), pending: make(map[uint64]chan message), done: make(chan struct{})}
	in := newLines(conn)
	greeted := make(chan error, 1)
	go func() {
		if err := c.out.send(hello{Version: Version}); err != nil {
			greeted <- err
			return
		}
		var peer hello
		if err := in.decode(&peer); err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the remote nitro ended without answering (is `nitro agent` there, of this version?)")
			}
			greeted <- err
			return
		}
		greeted <- checkVersion(peer, "remote nitro")
	}()
	select {
	case err := <-greeted:
		if err != nil {
			conn.Close()
			return nil, err
		}
	case <-ctx.Done():
		conn.Close()
		return nil, ctx.Err()
	}
	go c.read(in)
	return c, nil
}

// Close ends the connection; the agent then detaches what it holds.
func (c *Client) Close() error {
	err := c.conn.Close()
	<-c.done
	return err
}

// read dispatches the agent's lines until the connection ends.
func (c *Client) read(in *lines) {
	var err error
	for {
		var m message
		if err = decodeMessage(in, &m); err != nil {
			break
		}
		if err = c.dispatch(&m); err != nil {
			break
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
		err = ErrLost
	} else if !errors.Is(err, ErrProtocol) {
		err = fmt.Errorf("%w: %v", ErrLost, err)
	}
	c.mu.Lock()
	c.err = err
	pending, s := c.pending, c.sess
	c.pending = nil
	c.mu.Unlock()
	for _, ch := range pending {
		close(ch)
	}
	if s != nil {
		s.end(err)
	}
	close(c.done)
}

func (c *Client) dispatch(m *message) error {
	if m.ID != 0 {
		c.mu.Lock()
		ch := c.pending[m.ID]
		delete(c.pending, m.ID)
		c.mu.Unlock()
		if ch == nil {
			return fmt.Errorf("%w: a reply to request %d, which is not waiting", ErrProtocol, m.ID)
		}
		ch <- *m
		return nil
	}
	if m.Err != nil { // the agent gave up on the connection
		return fmt.Errorf("%w: %s", ErrProtocol, m.Err.Msg)
	}
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s == nil {
		return fmt.Errorf("%w: session news while no session is attached", ErrProtocol)
	}
	return s.news(m)
}

// call sends req and waits for its reply, decoding its result into res.
func (c *Client) call(ctx context.Context, req request, res any) error {
	ch := make(chan message, 1)
	c.mu.Lock()
	if c.pending == nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.next++
	req.ID = c.next
	c.pending[req.ID] = ch
	c.mu.Unlock()
	if err := c.out.send(req); err != nil {
		c.forget(req.ID)
		return fmt.Errorf("%w: %v", ErrLost, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.err
		}
		if m.Err != nil {
			return m.Err.err()
		}
		if res != nil {
			if err := json.Unmarshal(m.Result, res); err != nil {
				return fmt.Errorf("%w: the reply to %s: %v", ErrProtocol, req.Op, err)
			}
		}
		return nil
	case <-ctx.Done():
		c.forget(req.ID)
		return ctx.Err()
	}
}

// forget drops a request whose reply nobody waits for; the reply, when it
// comes, is dropped too.
func (c *Client) forget(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending != nil {
		c.pending[id] = make(chan message, 1)
	}
}

func (c *Client) Domains(ctx context.Context) ([]api.Domain, error) {
	var d []api.Domain
	return d, c.call(ctx, request{Op: "domains"}, &d)
}

func (c *Client) Control(ctx context.Context, name string, a api.Action) error {
	return c.call(ctx, request{Op: "control", Name: name, Action: a}, nil)
}

func (c *Client) Detach(ctx context.Context, name string) error {
	return c.call(ctx, request{Op: "detach", Name: name}, nil)
}

// Attach attaches the agent to a domain; o's PID and Comms filter the
// calls on the far side.
func (c *Client) Attach(ctx context.Context, name string, o api.AttachOptions) (api.Session, error) {
	s := &session{c: c, held: make(chan api.Held, 1), ended: make(chan struct{}), dones: make(map[uint64]chan struct{})}
	c.mu.Lock()
	if c.sess != nil {
		c.mu.Unlock()
		return nil, errors.New("this remote connection has a session attached already")
	}
	c.sess = s // before the reply: news may follow it at once
	c.mu.Unlock()
	err := c.call(ctx, request{Op: "attach", Name: name, Syscalls: o.Syscalls, PID: o.PID, Comms: o.Comms, Kernel: c.Kernel}, &s.info)
	if err != nil {
		c.mu.Lock()
		c.sess = nil
		c.mu.Unlock()
		return nil, err
	}
	return s, nil
}

// Inspect opens a guest on the far host.
func (c *Client) Inspect(ctx context.Context, name string) (api.Guest, error) {
	var gi guestInfo
	if err := c.call(ctx, request{Op: "inspect", Name: name, Kernel: c.Kernel}, &gi); err != nil {
		return nil, err
	}
	return &guest{c: c, info: gi}, nil
}

// session is an api.Session whose calls come over the connection.
type session struct {
	c    *Client
	info api.Info

	// dmu is held while a batch is handed out and while the readers'
	// channels close, so that none closes under a send.
	dmu     sync.Mutex
	mu      sync.Mutex
	subs    []*subscription
	limit   int
	wait    time.Duration
	stats   api.Stats
	dones   map[uint64]chan struct{}
	endErr  error
	isEnded bool
	closed  bool

	held  chan api.Held
	ended chan struct{} // closed by end
}

func (s *session) Info() api.Info        { return s.info }
func (s *session) Held() <-chan api.Held { return s.held }

func (s *session) Stats() api.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Subscribe adds a reader; the far session is subscribed once, at Run,
// with the largest limit and the longest wait asked.
func (s *session) Subscribe(limit int, wait time.Duration) api.Subscription {
	sub := &subscription{ch: make(chan []api.Syscall, 16), wait: wait, s: s}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isEnded {
		close(sub.ch)
		return sub
	}
	s.subs = append(s.subs, sub)
	s.limit = max(s.limit, limit)
	if wait == api.Lossless || s.wait != api.Lossless && wait > s.wait {
		s.wait = wait
	}
	return sub
}

// Run starts the far session and waits until it ends, ctx ends or the
// connection drops.
func (s *session) Run(ctx context.Context) error {
	s.mu.Lock()
	limit, wait := s.limit, s.wait
	s.mu.Unlock()
	// A link lost before the reply ends the session too, and its end
	// error says what became of the guest: Run waits for it below.
	if err := s.c.call(ctx, request{Op: "run", Limit: limit, Wait: wait}, nil); err != nil && !errors.Is(err, ErrLost) {
		return err
	}
	select {
	case <-s.ended:
	case <-ctx.Done():
		// The far Run ends and says so with its "end" line.
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.c.call(stopCtx, request{Op: "stop"}, nil); err != nil && !errors.Is(err, ErrNothingHeld) {
			s.end(err)
		}
		<-s.ended
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	return s.endErr
}

// news takes a line of the session's.
func (s *session) news(m *message) error {
	switch {
	case m.Calls != nil:
		b := make([]api.Syscall, len(m.Calls))
		for i := range m.Calls {
			var err error
			if b[i], err = m.Calls[i].syscall(); err != nil {
				return err
			}
		}
		s.deliver(b)
	case m.Held != nil:
		return s.hold(m.Held)
	case m.Done != 0:
		s.mu.Lock()
		if ch := s.dones[m.Done]; ch != nil {
			close(ch)
			delete(s.dones, m.Done)
		}
		s.mu.Unlock()
	case m.Stats != nil:
		s.mu.Lock()
		s.stats = *m.Stats
		s.mu.Unlock()
	case m.End != nil:
		var err error
		if *m.End != "" {
			err = &remoteError{msg: *m.End}
		}
		s.end(err)
	default:
		return fmt.Errorf("%w: a line that says nothing", ErrProtocol)
	}
	return nil
}

// deliver hands a batch to every reader, each waiting as it asked.
func (s *session) deliver(b []api.Syscall) {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	s.mu.Lock()
	subs := s.subs
	if s.isEnded {
		subs = nil
	}
	s.mu.Unlock()
	for _, sub := range subs {
		sub.put(b)
	}
}

func (s *session) hold(w *held) error {
	sc, err := w.Call.syscall()
	if err != nil {
		return err
	}
	done := make(chan struct{})
	h := api.Held{Call: sc, Regs: w.Regs, Uses: w.Uses, By: w.By, Done: done}
	s.dmu.Lock() // end closes held
	defer s.dmu.Unlock()
	s.mu.Lock()
	if s.isEnded {
		s.mu.Unlock()
		return nil
	}
	s.dones[sc.Seq] = done
	s.mu.Unlock()
	for { // the newer hold replaces one nobody took
		select {
		case s.held <- h:
			return nil
		default:
			select {
			case <-s.held:
			default:
			}
		}
	}
}

// end ends the session once: its readers' channels close, held calls are
// let go.
func (s *session) end(err error) {
	if errors.Is(err, ErrLost) && s.c.Lost != nil {
		err = fmt.Errorf("%w: %s", err, s.c.Lost())
	}
	s.dmu.Lock()
	defer s.dmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isEnded {
		return
	}
	s.isEnded = true
	s.endErr = err
	for _, sub := range s.subs {
		close(sub.ch)
	}
	for _, ch := range s.dones {
		close(ch)
	}
	s.dones = nil
	close(s.held)
	close(s.ended)
}

func (s *session) Processes(ctx context.Context) ([]api.Process, error) {
	var ps []api.Process
	return ps, s.c.call(ctx, request{Op: "processes"}, &ps)
}

func (s *session) Break(ctx context.Context, b api.Breakpoint) error {
	return s.c.call(ctx, request{Op: "break", Break: &b}, nil)
}

func (s *session) ClearBreak(ctx context.Context, b api.Breakpoint) error {
	return s.c.call(ctx, request{Op: "clear_break", Break: &b}, nil)
}

func (s *session) Inject(ctx context.Context, i api.Injection) error {
	return s.c.call(ctx, request{Op: "inject", Injection: &i}, nil)
}

func (s *session) ClearInjection(ctx context.Context, i api.Injection) error {
	return s.c.call(ctx, request{Op: "clear_injection", Injection: &i}, nil)
}

func (s *session) Edit(ctx context.Context, e api.Edit) (api.Held, error) {
	var w held
	if err := s.c.call(ctx, request{Op: "edit", Edit: &e}, &w); err != nil {
		return api.Held{}, err
	}
	sc, err := w.Call.syscall()
	if err != nil {
		return api.Held{}, err
	}
	s.mu.Lock()
	done := s.dones[sc.Seq]
	s.mu.Unlock()
	return api.Held{Call: sc, Regs: w.Regs, Uses: w.Uses, By: w.By, Done: done}, nil
}

func (s *session) Continue(ctx context.Context) error {
	return s.c.call(ctx, request{Op: "continue"}, nil)
}

func (s *session) Pause(ctx context.Context) error {
	return s.c.call(ctx, request{Op: "pause"}, nil)
}

func (s *session) Resume(ctx context.Context) error {
	return s.c.call(ctx, request{Op: "resume"}, nil)
}

// Close detaches the far session; the connection stays for another.
func (s *session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.c.call(ctx, request{Op: "close"}, nil)
	s.end(nil)
	s.c.mu.Lock()
	if s.c.sess == s {
		s.c.sess = nil
	}
	s.c.mu.Unlock()
	if errors.Is(err, ErrLost) {
		return nil // the far nitro's guard has detached the guest
	}
	return err
}

// subscription is one local reader of a remote session.
type subscription struct {
	s       *session
	ch      chan []api.Syscall
	wait    time.Duration
	dropped atomic.Uint64
}

func (sub *subscription) C() <-chan []api.Syscall { return sub.ch }

// Dropped counts the calls this reader had no room for here, and those the
// far session dropped before they were sent.
func (sub *subscription) Dropped() uint64 { return sub.dropped.Load() + sub.s.Stats().Dropped }

// put delivers b, waiting for the reader as it asked. A wait holds up the
// connection, and so the far session, which then waits or drops as the
// reader asked too.
func (sub *subscription) put(b []api.Syscall) {
	select {
	case sub.ch <- b:
		return
	default:
	}
	switch {
	case sub.wait == api.Lossless:
		sub.ch <- b
		return
	case sub.wait > 0:
		t := time.NewTimer(sub.wait)
		defer t.Stop()
		select {
		case sub.ch <- b:
			return
		case <-t.C:
		}
	}
	sub.dropped.Add(uint64(len(b)))
}

// guest is an api.Guest on the far host.
type guest struct {
	c    *Client
	info guestInfo
}

func (g *guest) Name() string   { return g.info.Name }
func (g *guest) Kernel() string { return g.info.Kernel }

func (g *guest) Processes(ctx context.Context) ([]api.Process, error) {
	var ps []api.Process
	return ps, g.c.call(ctx, request{Op: "guest_processes"}, &ps)
}

func (g *guest) WriteSymbols(w io.Writer) error { return g.write(w, "symbols") }
func (g *guest) WriteProfile(w io.Writer) error { return g.write(w, "profile") }

func (g *guest) write(w io.Writer, op string) error {
	var text string
	if err := g.c.call(context.Background(), request{Op: op}, &text); err != nil {
		return err
	}
	_, err := io.WriteString(w, text)
	return err
}

func (g *guest) Close() error {
	return g.c.call(context.Background(), request{Op: "guest_close"}, nil)
}
