package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/kvm"
	"nitro/core/kvm/gdbstub"
	"nitro/core/kvm/rsp"
	"nitro/core/kvm/rsp/rspfake"
)

// The fake guest: one vCPU looping in user code over the calls of script,
// entering the kernel at entry (a nop, where the listener stops), running
// the call at entry+1 and returning through exit (a nop, the exit stop).
const (
	kbase     = 0xffffffff80000000
	userCode  = 0x400000
	entry     = kbase + 0x1000
	exitPoint = kbase + 0x2000
	enosys    = ^uint64(37) // -ENOSYS, what a skipped call returns
)

// call is one system call of the fake guest: number, argument and name.
type call struct {
	nr   uint64
	arg  uint64
	name string
}

var script = []call{{2, 10, "open"}, {0, 20, "read"}, {3, 30, "close"}}

// run is what the guest's kernel saw of one call and what the program got back.
type run struct {
	nr, arg, ret uint64
	back         bool // the result reached user mode
}

// fakeGuest is the program the rspfake target runs.
type fakeGuest struct {
	mu   sync.Mutex
	n    int   // calls made
	runs []run // calls completed, in order
}

func newFakeGuest() (*rspfake.Target, *fakeGuest) {
	f := rspfake.New(1, 16<<10)
	f.VirtBase = kbase
	f.Virt(entry, 1)[0] = 0x90
	f.Virt(exitPoint, 1)[0] = 0x90
	g := &fakeGuest{}
	c := f.CPUs[0]
	c.Set("rip", userCode)
	c.Set("rsp", 0x7ffff000)
	f.Exec = g.exec
	return f, g
}

func (g *fakeGuest) exec(t *rspfake.Target, i int) {
	c := t.CPUs[i]
	g.mu.Lock()
	defer g.mu.Unlock()
	switch c.Get("rip") {
	case userCode:
		s := script[g.n%len(script)]
		g.n++
		c.Set("rax", s.nr)
		c.Set("rdi", s.arg)
		c.Set("rip", entry)
	case entry:
		c.Set("rip", entry+1)
	case entry + 1: // the kernel runs the call: its result is 100*nr+arg
		nr, ret := c.Get("rax"), enosys
		if int(nr) < 4 {
			ret = 100*nr + c.Get("rdi")
		}
		g.runs = append(g.runs, run{nr: nr, arg: c.Get("rdi")})
		c.Set("rax", ret)
		c.Set("rip", exitPoint)
	case exitPoint:
		c.Set("rip", exitPoint+1)
	case exitPoint + 1: // back in user mode with the result
		r := &g.runs[len(g.runs)-1]
		r.ret, r.back = c.Get("rax"), true
		c.Set("rip", userCode)
	default:
		c.Set("rip", userCode)
	}
}

// completed returns the calls the guest finished so far.
func (g *fakeGuest) completed() []run {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]run(nil), g.runs...)
}

// fakeBackend reads the fake guest's calls from the registers at its two stops.
type fakeBackend struct {
	seq  uint64
	last uint64 // the number of the call in flight
	args fakeArgs
	call backend.Call
}

var _ backend.Backend = (*fakeBackend)(nil)

func (b *fakeBackend) OS() string           { return "fake" }
func (b *fakeBackend) Kernel() string       { return "Fake 1.0" }
func (b *fakeBackend) Stops() backend.Stops { return backend.Stops{Entry: entry, Exit: exitPoint} }
func (b *fakeBackend) Handlers(name string) ([]uint64, error) {
	return nil, fmt.Errorf("no handler for %s", name)
}
func (b *fakeBackend) Processes() ([]api.Process, error) {
	return []api.Process{{PID: 1, TID: 1, Comm: "init"}}, nil
}
func (b *fakeBackend) WriteSymbols(io.Writer) error { return nil }
func (b *fakeBackend) WriteProfile(io.Writer) error { return nil }

func (b *fakeBackend) Handle(ev *kvm.Event) (*backend.Call, error) {
	b.seq++
	b.args = fakeArgs{regs: &ev.Regs, exit: ev.Direction == kvm.Exit}
	sc := api.Syscall{Seq: b.seq, VCPU: ev.VCPU, Direction: ev.Direction, Process: api.Process{PID: 1, TID: 1, Comm: "init"}}
	if ev.Direction == kvm.Enter {
		sc.Nr = ev.Regs.RAX
		sc.Args = []api.Arg{{Raw: ev.Regs.RDI, Text: fmt.Sprint(ev.Regs.RDI)}}
		b.last = sc.Nr
	} else {
		sc.Nr, sc.Ret, sc.Matched = b.last, int64(ev.Regs.RAX), true
		sc.RetText = fmt.Sprint(sc.Ret)
	}
	for _, s := range script {
		if s.nr == sc.Nr {
			sc.Name = s.name
		}
	}
	b.call = backend.Call{Syscall: sc, Arguments: &b.args}
	return &b.call, nil
}

func (b *fakeBackend) Redecode(call *backend.Call) error {
	if call.Direction == kvm.Exit {
		call.Ret = int64(b.args.regs.RAX)
		call.RetText = fmt.Sprint(call.Ret)
		return nil
	}
	call.Args[0] = api.Arg{Raw: b.args.regs.RDI, Text: fmt.Sprint(b.args.regs.RDI)}
	return nil
}

// fakeArgs is the ArgumentMap of the fake guest: one argument, in rdi.
type fakeArgs struct {
	regs *kvm.Regs
	exit bool
}

func (a *fakeArgs) Len() int { return 1 }

// Shown: the fake shows its one argument, and the call number after it as
// a value read from elsewhere.
func (a *fakeArgs) Shown(i int) int {
	if i == 0 {
		return 0
	}
	return -1
}
func (a *fakeArgs) Get(int) uint64 { return a.regs.RDI }
func (a *fakeArgs) Set(i int, v uint64) error {
	if i != 0 || a.exit {
		return errors.New("no such argument")
	}
	a.regs.RDI = v
	return nil
}
func (a *fakeArgs) ReadBytes(int, int) ([]byte, error) { return nil, errors.New("no memory") }
func (a *fakeArgs) WriteBytes(int, []byte) error       { return errors.New("no memory") }
func (a *fakeArgs) Use(int) backend.ArgUse             { return backend.ArgUse{Kind: backend.ArgValue, Len: -1} }
func (a *fakeArgs) WriteString(int, []byte) error      { return errors.New("no memory") }
func (a *fakeArgs) WriteBuffer(int, []byte, bool) error {
	return errors.New("no memory")
}
func (a *fakeArgs) SetNumber(nr uint64) error {
	if a.exit {
		return errors.New("not at an entry")
	}
	a.regs.RAX = nr
	return nil
}
func (a *fakeArgs) SetReturn(v uint64) error {
	if !a.exit {
		return errors.New("not at an exit")
	}
	a.regs.RAX = v
	return nil
}

// attachFake composes a session over the fake guest as Attach does over a
// real one, with its run loop started; the test's cleanup closes it.
func attachFake(t *testing.T) (*Session, *rspfake.Target, *fakeGuest) {
	t.Helper()
	f, g := newFakeGuest()
	return gdbSession(t, "fake", f, &fakeBackend{}, nil), f, g
}

// gdbSession composes domain's session of back end b over a gdbstub
// listener on the fake target f, stopping for syscalls' handlers when set;
// the test's cleanup closes it.
func gdbSession(t *testing.T, domain string, f *rspfake.Target, b backend.Backend, syscalls []string) *Session {
	t.Helper()
	c, err := rsp.New(f.Dial(), &rsp.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := gdbConfig(b, syscalls, "")
	if err != nil {
		t.Fatal(err)
	}
	l, err := gdbstub.New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(api.Info{Domain: domain, Listener: ListenerGDBStub, OS: b.OS(), Kernel: b.Kernel()}, l, b)
	t.Cleanup(func() { s.Close() })
	return s
}

// breakAndWait arms b, runs the session and returns the first call b holds.
func breakAndWait(t *testing.T, s *Session, b api.Breakpoint) (api.Held, chan error) {
	t.Helper()
	if err := s.Break(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	done := start(s)
	select {
	case h := <-s.Held():
		return h, done
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s held", b.Name)
	}
	return api.Held{}, done
}

// start runs the session's loop; its result arrives on the channel.
func start(s *Session) chan error {
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	return done
}

// requireDetached checks the guarantee: after Close the guest runs with no
// breakpoint left, and Run has returned.
func requireDetached(t *testing.T, s *Session, f *rspfake.Target, done chan error) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Close")
	}
	if !f.Detached() || !f.Running() || len(f.Breakpoints()) != 0 {
		t.Errorf("after Close: detached %v, running %v, breakpoints %x", f.Detached(), f.Running(), f.Breakpoints())
	}
	if v := f.Violations(); len(v) != 0 {
		t.Errorf("protocol violations: %q", v)
	}
}

// next reads the subscription until it has n calls.
func next(t *testing.T, sub api.Subscription, n int) []api.Syscall {
	t.Helper()
	var got []api.Syscall
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case b, ok := <-sub.C():
			if !ok {
				t.Fatalf("subscription closed after %d calls", len(got))
			}
			got = append(got, b...)
		case <-timeout:
			t.Fatalf("%d calls after 10 s, want %d", len(got), n)
		}
	}
	return got
}

func TestRunDeliversCallsInOrder(t *testing.T) {
	s, f, g := attachFake(t)
	sub := s.Subscribe(1024, api.Lossless)
	done := start(s)
	got := next(t, sub, 12)
	for i, sc := range got[:12] {
		want := script[i/2%len(script)]
		dir := api.Direction(i % 2)
		if sc.Seq != uint64(i+1) || sc.Direction != dir || sc.Name != want.name {
			t.Errorf("event %d: seq %d %s %s, want %d %s %s", i, sc.Seq, sc.Direction, sc.Name, i+1, dir, want.name)
		}
		if dir == api.Exit && sc.Ret != int64(100*want.nr+want.arg) {
			t.Errorf("event %d: %s returned %d, want %d", i, sc.Name, sc.Ret, 100*want.nr+want.arg)
		}
	}
	requireDetached(t, s, f, done)
	if st := s.Stats(); st.Events < 12 || st.DecodeErrors != 0 {
		t.Errorf("stats %+v", st)
	}
	// The guest went on with correct results throughout.
	for _, r := range g.completed() {
		if r.back && r.ret != 100*r.nr+r.arg {
			t.Fatalf("guest saw %+v", r)
		}
	}
}

func TestBreakHoldsEditsAndContinues(t *testing.T) {
	s, f, g := attachFake(t)
	ctx := context.Background()
	h, done := breakAndWait(t, s, api.Breakpoint{Name: "read"})
	if h.Call.Name != "read" || h.Call.Args[0].Raw != 20 || len(h.Regs) != len(kvm.RegNames) {
		t.Fatalf("held %+v", h)
	}
	if !s.Stats().Paused {
		t.Error("a held call does not show the guest paused")
	}
	before := len(g.completed())
	time.Sleep(50 * time.Millisecond)
	if n := len(g.completed()); n != before {
		t.Fatalf("the guest ran %d calls while one was held", n-before)
	}
	if _, err := s.Edit(ctx, api.Edit{Seq: h.Call.Seq + 1, Arg: 0, Value: 8}); !errors.Is(err, api.ErrNotHeld) {
		t.Errorf("an edit meant for another call: %v, want ErrNotHeld", err)
	}
	h, err := s.Edit(ctx, api.Edit{Seq: h.Call.Seq, Arg: 0, Value: 7})
	if err != nil {
		t.Fatal(err)
	}
	if h.Call.Args[0].Raw != 7 || h.Call.Args[0].Text != "7" {
		t.Errorf("after the edit the held call reads %+v", h.Call.Args)
	}
	if _, err := s.Edit(ctx, api.Edit{Arg: 1, Value: 9}); !errors.Is(err, ErrNotAnArgument) {
		t.Errorf("editing a shown value that is no argument: %v, want ErrNotAnArgument", err)
	}
	if err := s.ClearBreak(ctx, api.Breakpoint{Name: "read"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Continue(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Continue(ctx); !errors.Is(err, api.ErrNotHeld) {
		t.Errorf("a second Continue: %v, want ErrNotHeld", err)
	}
	waitFor(t, func() bool { return len(g.completed()) > before+1 })
	if r := g.completed()[before]; r.nr != 0 || r.arg != 7 || r.ret != 7 || !r.back {
		t.Errorf("the edited read ran as %+v, want arg 7 returning 7", r)
	}
	requireDetached(t, s, f, done)
}

// TestContinueSaysTheEditWasNotWritten: when the stub refuses the edited
// registers, Continue says so (the call ran unchanged) rather than
// reporting a continue that dropped the edit.
func TestContinueSaysTheEditWasNotWritten(t *testing.T) {
	s, f, g := attachFake(t)
	ctx := context.Background()
	h, done := breakAndWait(t, s, api.Breakpoint{Name: "read"})
	if _, err := s.Edit(ctx, api.Edit{Seq: h.Call.Seq, Arg: 0, Value: 7}); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearBreak(ctx, api.Breakpoint{Name: "read"}); err != nil {
		t.Fatal(err)
	}
	f.FailAfter("P5=", 0) // the write of rdi, the edited argument
	before := len(g.completed())
	if err := s.Continue(ctx); err == nil || !strings.Contains(err.Error(), "runs unchanged") {
		t.Fatalf("Continue with registers the stub refused: %v", err)
	}
	f.FailAfter("", 0)
	waitFor(t, func() bool { return len(g.completed()) > before })
	if r := g.completed()[before]; r.arg != 20 {
		t.Errorf("the read ran with %d, want its own 20", r.arg)
	}
	requireDetached(t, s, f, done)
}

func TestCloseWhileHeldDetaches(t *testing.T) {
	s, f, _ := attachFake(t)
	_, done := breakAndWait(t, s, api.Breakpoint{Name: "open", PID: 1})
	requireDetached(t, s, f, done)
	if _, ok := <-s.Held(); ok {
		t.Error("Held still open after the session ended")
	}
}

func TestLossySubscriptionNeverStopsTheGuest(t *testing.T) {
	s, f, g := attachFake(t)
	lossy := s.Subscribe(4, api.Lossy) // never read
	done := start(s)
	waitFor(t, func() bool { return len(g.completed()) > 50 })
	if lossy.Dropped() == 0 || s.Stats().Dropped != lossy.Dropped() {
		t.Errorf("dropped %d, stats %d: a lossy subscriber that never reads must count drops", lossy.Dropped(), s.Stats().Dropped)
	}
	requireDetached(t, s, f, done)
}

func TestLosslessSubscriptionHoldsTheGuest(t *testing.T) {
	s, f, g := attachFake(t)
	sub := s.Subscribe(4, api.Lossless)
	done := start(s)
	next(t, sub, 1)
	// Nobody reads: the guest stops once the subscription is full and the
	// one batch in the channel waits.
	time.Sleep(200 * time.Millisecond)
	a := len(g.completed())
	time.Sleep(200 * time.Millisecond)
	if b := len(g.completed()); b != a || b > 10 {
		t.Errorf("the guest ran on past a full lossless subscription: %d then %d calls", a, b)
	}
	next(t, sub, 10) // reading lets it go on
	requireDetached(t, s, f, done)
}

// TestStalledReaderCostsCallsNotTheGuest: a reader that stops (a paged
// `nitro trace | less`) holds the guest for the subscription's wait, then
// loses calls, counted, while the guest runs on; reading again gets calls.
func TestStalledReaderCostsCallsNotTheGuest(t *testing.T) {
	s, f, g := attachFake(t)
	sub := s.Subscribe(4, 50*time.Millisecond)
	done := start(s)
	next(t, sub, 1)
	waitFor(t, func() bool { return len(g.completed()) > 50 })
	if sub.Dropped() == 0 {
		t.Error("the guest ran on past a stalled reader without dropping")
	}
	next(t, sub, 10)
	requireDetached(t, s, f, done)
}

// TestLosslessWaitEndsWithTheSession: Close (Ctrl+C) ends a session whose
// lossless reader stopped reading, rather than waiting for it for good.
func TestLosslessWaitEndsWithTheSession(t *testing.T) {
	s, f, g := attachFake(t)
	sub := s.Subscribe(4, api.Lossless)
	done := start(s)
	next(t, sub, 1)
	waitFor(t, func() bool { return len(g.completed()) >= 4 }) // full: Run waits for the reader
	requireDetached(t, s, f, done)
}

func TestRunEndsWhenTheStubGoesAway(t *testing.T) {
	f, _ := newFakeGuest()
	conn := f.Dial()
	c, err := rsp.New(conn, &rsp.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b := &fakeBackend{}
	cfg, _ := gdbConfig(b, nil, "")
	l, err := gdbstub.New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(api.Info{}, l, b)
	redetached := false
	s.redetach = func(context.Context) error { redetached = true; return nil }
	released := make(chan bool, 1)
	s.release = func(detached bool) error { released <- detached; return nil }
	sub := s.Subscribe(64, api.Lossy)
	done := start(s)
	next(t, sub, 2)
	conn.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Run returned nil after losing its stub")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not notice the lost stub")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if !redetached || !<-released {
		t.Errorf("a lost stub must be detached through a new connection (redetached %v)", redetached)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatal("condition not met after 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
