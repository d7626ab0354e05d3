package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"nitro/api"
)

// statsEvery is how often the agent sends a session's counters: a status
// bar's refresh, a few bytes on the link.
const statsEvery = 250 * time.Millisecond

// Serve is `nitro agent`: it serves h to one client on r and w until the
// client goes (nil), ctx ends (nil) or the client breaks the protocol. A
// session or guest still held then is closed, so the guest runs on
// detached whichever way the client went.
func Serve(ctx context.Context, h api.Hypervisor, r io.Reader, w io.Writer) error {
	in, out := newLines(r), newWriter(w)
	var peer hello
	if err := in.decode(&peer); err != nil {
		return fmt.Errorf("waiting for the client's hello: %w", err)
	}
	if err := out.send(hello{Version: Version}); err != nil {
		return err
	}
	if err := checkVersion(peer, "local nitro"); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	a := &agent{h: h, out: out, ctx: ctx}
	// On the way out: end what blocks on ctx, detach (which lets a held
	// Continue return), then wait for the requests in flight.
	var wg sync.WaitGroup
	defer wg.Wait()
	defer a.release()
	defer cancel()
	reqs := make(chan request)
	rerr := make(chan error, 1)
	go func() {
		defer close(reqs)
		for {
			var req request
			if err := in.decode(&req); err != nil {
				rerr <- err
				return
			}
			select {
			case reqs <- req:
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case req, ok := <-reqs:
			if !ok {
				err := <-rerr
				if errors.Is(err, io.EOF) {
					return nil // the client went: release detaches
				}
				_ = out.send(message{Err: toWire(err)})
				return err
			}
			// Each request on its own goroutine: a Continue waits for the
			// call to run, and must not hold up the Pause sent after it.
			wg.Add(1)
			go func() {
				defer wg.Done()
				a.reply(req)
			}()
		}
	}
}

// agent is what one client holds: at most a session and a guest.
type agent struct {
	h   api.Hypervisor
	out *writer
	ctx context.Context

	mu     sync.Mutex
	sess   api.Session
	keep   func(*api.Syscall) bool
	stop   context.CancelFunc // ends the session's Run
	ran    chan struct{}      // closed when Run and its stream are done
	guest  api.Guest
	closed bool
}

func (a *agent) reply(req request) {
	res, err := a.do(req)
	m := message{ID: req.ID}
	if err != nil {
		m.Err = toWire(err)
	} else if res != nil {
		b, merr := json.Marshal(res)
		if merr != nil {
			m.Err = toWire(merr)
		}
		m.Result = b
	}
	_ = a.out.send(m) // a write error ends the read loop too
}

func (a *agent) session() (api.Session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sess == nil {
		return nil, fmt.Errorf("%w: no session is attached (attach first)", ErrNothingHeld)
	}
	return a.sess, nil
}

func (a *agent) guestHeld() (api.Guest, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.guest == nil {
		return nil, fmt.Errorf("%w: no guest is open (inspect first)", ErrNothingHeld)
	}
	return a.guest, nil
}

// guestInfo is inspect's result.
type guestInfo struct {
	Name   string `json:"name"`
	Kernel string `json:"kernel"`
}

func (a *agent) do(req request) (any, error) {
	ctx := a.ctx
	switch req.Op {
	case "domains":
		return a.h.Domains(ctx)
	case "control":
		return nil, a.h.Control(ctx, req.Name, req.Action)
	case "detach":
		return nil, a.h.Detach(ctx, req.Name)
	case "attach":
		return a.attach(req)
	case "run":
		return nil, a.run(req)
	case "stop":
		_, err := a.session()
		if err == nil {
			a.mu.Lock()
			stop := a.stop
			a.mu.Unlock()
			if stop != nil {
				stop()
			}
		}
		return nil, err
	case "close":
		return nil, a.closeSession()
	case "inspect":
		return a.inspect(req)
	case "guest_close":
		g, err := a.guestHeld()
		if err != nil {
			return nil, err
		}
		a.mu.Lock()
		a.guest = nil
		a.mu.Unlock()
		return nil, g.Close()
	case "guest_processes":
		g, err := a.guestHeld()
		if err != nil {
			return nil, err
		}
		return g.Processes(ctx)
	case "symbols", "profile":
		g, err := a.guestHeld()
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		if req.Op == "symbols" {
			err = g.WriteSymbols(&b)
		} else {
			err = g.WriteProfile(&b)
		}
		return b.String(), err
	}
	if !sessionOps[req.Op] {
		return nil, fmt.Errorf("%w: unknown request %q", ErrProtocol, req.Op)
	}
	s, err := a.session()
	if err != nil {
		return nil, err
	}
	return a.sessionOp(ctx, s, req)
}

var sessionOps = map[string]bool{"processes": true, "break": true, "clear_break": true, "inject": true,
	"clear_injection": true, "edit": true, "continue": true, "pause": true, "resume": true}

// sessionOp carries out one of sessionOps on s.
func (a *agent) sessionOp(ctx context.Context, s api.Session, req request) (any, error) {
	var err error
	switch req.Op {
	case "processes":
		return s.Processes(ctx)
	case "break", "clear_break":
		if req.Break == nil {
			return nil, fmt.Errorf("%w: %s without a break", ErrProtocol, req.Op)
		}
		if req.Op == "break" {
			return nil, s.Break(ctx, *req.Break)
		}
		return nil, s.ClearBreak(ctx, *req.Break)
	case "edit":
		if req.Edit == nil {
			return nil, fmt.Errorf("%w: edit without an edit", ErrProtocol)
		}
		h, err := s.Edit(ctx, *req.Edit)
		if err != nil {
			return nil, err
		}
		return toHeld(&h), nil
	case "continue":
		return nil, s.Continue(ctx)
	case "inject", "clear_injection":
		if req.Injection == nil {
			return nil, fmt.Errorf("%w: %s without an injection", ErrProtocol, req.Op)
		}
		if req.Op == "inject" {
			err = s.Inject(ctx, *req.Injection)
		} else {
			err = s.ClearInjection(ctx, *req.Injection)
		}
	case "pause":
		err = s.Pause(ctx)
	case "resume":
		err = s.Resume(ctx)
	}
	// What changed shows in the counters (Paused, the armed injections)
	// before the reply, as a local session's Stats would show it at once.
	st := s.Stats()
	_ = a.out.send(message{Stats: &st})
	return nil, err
}

func toHeld(h *api.Held) *held {
	return &held{Call: fromSyscall(&h.Call), Regs: h.Regs, Uses: h.Uses, By: h.By}
}

func (a *agent) attach(req request) (any, error) {
	a.mu.Lock()
	busy := a.sess != nil
	a.mu.Unlock()
	if busy {
		return nil, errors.New("this connection has a session attached already")
	}
	s, err := withKernel(a.h, req.Kernel, func(h api.Hypervisor) (api.Session, error) {
		return h.Attach(a.ctx, req.Name, api.AttachOptions{Syscalls: req.Syscalls, PID: req.PID, Comms: req.Comms})
	})
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || a.sess != nil {
		s.Close()
		return nil, errors.New("this connection has a session attached already, or is closing")
	}
	a.sess = s
	a.keep = filter(req.PID, req.Comms)
	return s.Info(), nil
}

// filter keeps the calls of process or thread pid (0: all) and of
// processes named in comms (none: all), as trace's --pid and --comm do.
func filter(pid int, comms []string) func(*api.Syscall) bool {
	return func(sc *api.Syscall) bool {
		return (pid == 0 || sc.Process.PID == pid || sc.Process.TID == pid) &&
			(len(comms) == 0 || slices.Contains(comms, sc.Process.Comm))
	}
}

// run subscribes and runs the session, streaming its calls, holds and
// counters until Run ends, then an "end" line.
func (a *agent) run(req request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.sess == nil:
		return fmt.Errorf("%w: no session is attached (attach first)", ErrNothingHeld)
	case a.ran != nil:
		return errors.New("the session runs already")
	}
	s, keep := a.sess, a.keep
	sub := s.Subscribe(max(req.Limit, 1), req.Wait)
	ctx, stop := context.WithCancel(a.ctx)
	a.stop, a.ran = stop, make(chan struct{})
	ran := a.ran
	runDone := make(chan struct{})
	var runErr error
	go func() {
		runErr = s.Run(ctx)
		close(runDone)
	}()
	go a.forwardHeld(s, runDone)
	go func() {
		defer close(ran)
		defer stop()
		a.stream(s, sub, keep, runDone)
		end := ""
		if runErr != nil {
			end = runErr.Error()
		}
		_ = a.out.send(message{End: &end})
	}()
	return nil
}

// stream sends the batches of sub that keep keeps, and the counters,
// until Run is done and the batches it left are sent.
func (a *agent) stream(s api.Session, sub api.Subscription, keep func(*api.Syscall) bool, runDone <-chan struct{}) {
	tick := time.NewTicker(statsEvery)
	defer tick.Stop()
	var line []byte
	send := func(b []api.Syscall) {
		var kept bool
		if line, kept = appendCalls(line[:0], b, keep); kept {
			_ = a.out.write(line)
		}
	}
	for {
		select {
		case b, ok := <-sub.C():
			if !ok {
				return
			}
			send(b)
		case <-tick.C:
			st := s.Stats()
			_ = a.out.send(message{Stats: &st})
		case <-runDone:
			for { // what Run delivered before it returned
				select {
				case b, ok := <-sub.C():
					if !ok {
						return
					}
					send(b)
				default:
					st := s.Stats()
					_ = a.out.send(message{Stats: &st})
					return
				}
			}
		}
	}
}

// forwardHeld sends each held call, and a "done" line when it goes on.
func (a *agent) forwardHeld(s api.Session, runDone <-chan struct{}) {
	for {
		select {
		case h, ok := <-s.Held():
			if !ok {
				return
			}
			_ = a.out.send(message{Held: toHeld(&h)})
			if h.Done != nil {
				go func(seq uint64, done <-chan struct{}) {
					select {
					case <-done:
						_ = a.out.send(message{Done: seq})
					case <-runDone:
					}
				}(h.Call.Seq, h.Done)
			}
		case <-runDone:
			return
		}
	}
}

func (a *agent) inspect(req request) (any, error) {
	a.mu.Lock()
	busy := a.guest != nil
	a.mu.Unlock()
	if busy {
		return nil, errors.New("this connection has a guest open already")
	}
	g, err := withKernel(a.h, req.Kernel, func(h api.Hypervisor) (api.Guest, error) {
		return h.Inspect(a.ctx, req.Name)
	})
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || a.guest != nil {
		g.Close()
		return nil, errors.New("this connection has a guest open already, or is closing")
	}
	a.guest = g
	return guestInfo{Name: g.Name(), Kernel: g.Kernel()}, nil
}

// closeSession detaches the session and waits for its stream to end.
func (a *agent) closeSession() error {
	a.mu.Lock()
	s, ran := a.sess, a.ran
	a.sess, a.ran, a.stop = nil, nil, nil
	a.mu.Unlock()
	if s == nil {
		return fmt.Errorf("%w: no session is attached", ErrNothingHeld)
	}
	err := s.Close()
	if ran != nil {
		<-ran
	}
	return err
}

// release closes whatever the client left held.
func (a *agent) release() {
	a.mu.Lock()
	a.closed = true
	g := a.guest
	a.guest = nil
	a.mu.Unlock()
	if g != nil {
		g.Close()
	}
	_ = a.closeSession()
}
