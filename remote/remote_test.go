package remote

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"nitro/api"
	"nitro/ui/uitest"
)

// tap records what crosses a connection one way.
type tap struct {
	net.Conn
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *tap) Write(b []byte) (int, error) {
	t.mu.Lock()
	t.buf.Write(b)
	t.mu.Unlock()
	return t.Conn.Write(b)
}

func (t *tap) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.Len()
}

func (t *tap) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// serve runs an agent on h and returns a client of it, and what the agent
// wrote; both end with the test, and Serve's error is checked then.
func serve(t testing.TB, h api.Hypervisor) (*Client, *tap) {
	t.Helper()
	near, far := net.Pipe()
	out := &tap{Conn: far}
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), h, far, out) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := NewClient(ctx, near)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close() // the agent reads the end of its input, and detaches
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		far.Close()
	})
	return c, out
}

func attached(t testing.TB, o api.AttachOptions) (*uitest.Session, api.Session, api.Subscription, *tap, <-chan error) {
	t.Helper()
	h := uitest.NewHypervisor()
	fake := uitest.NewSession()
	h.Add(api.Domain{Name: "lab", State: "running"}, fake)
	c, out := serve(t, h)
	ctx := context.Background()
	s, err := c.Attach(ctx, "lab", o)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Info(); got != fake.Info() {
		t.Errorf("Info = %+v, want %+v", got, fake.Info())
	}
	sub := s.Subscribe(1000, api.Lossless)
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	return fake, s, sub, out, ran
}

// every is a batch that uses every field of api.Syscall.
func every() []api.Syscall {
	at := time.Date(2026, 12, 2, 5, 0, 0, 123456789, time.UTC)
	return []api.Syscall{
		{Seq: 1, Time: at, VCPU: 3, Direction: api.Enter, ABI: api.I386, Nr: 5, Name: "open",
			Process: api.Process{PID: 42, TID: 43, PPID: 1, Comm: uitest.Hostile, UID: 1000, Task: 0xffff888012345678, Image: `C:\x.exe`, NotThread: true},
			Args:    []api.Arg{{Raw: 0xffffffffffffff9c, Text: `"/etc/hostname"`}, {Raw: 7, Text: "O_RDONLY", Out: true}}},
		{Seq: 2, Time: at.Add(time.Microsecond), VCPU: 3, Direction: api.Exit, ABI: api.I386, Nr: 5, Name: "open",
			Process: api.Process{PID: 42, TID: 43, PPID: 1, Comm: uitest.Hostile},
			Args:    []api.Arg{{Raw: 1, Text: "x"}},
			Ret:     -13, Errno: "EACCES", Matched: true, RetText: "-1 EACCES (Permission denied) (INJECTED)", Injected: true},
		{Seq: 3, Time: at.Add(2 * time.Microsecond), Direction: api.Enter, Name: "exit_group", Nr: 231,
			Process: api.Process{PID: 42, TID: 42, PPID: 1, Comm: "sh"}, Args: []api.Arg{}, RetText: "?"},
	}
}

func TestStreamKeepsEveryField(t *testing.T) {
	fake, s, sub, _, ran := attached(t, api.AttachOptions{})
	want := every()
	fake.Send(want)
	got := <-sub.C()
	if len(got) != len(want) {
		t.Fatalf("got %d calls, want %d", len(got), len(want))
	}
	for i := range got {
		if !got[i].Time.Equal(want[i].Time) {
			t.Errorf("call %d: time %v, want %v", i, got[i].Time, want[i].Time)
		}
		got[i].Time, want[i].Time = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("call %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run after Close: %v", err)
	}
	if _, ok := <-sub.C(); ok {
		t.Error("the subscription is open after Close")
	}
	if !fake.Closed {
		t.Error("the far session was not closed")
	}
}

func TestFiltersApplyOnTheAgent(t *testing.T) {
	fake, s, sub, out, _ := attached(t, api.AttachOptions{Comms: []string{"cat"}})
	defer s.Close()
	fake.Send(uitest.Stream(1, 12)) // cat (77), sh (42) and the hostile 99
	got := <-sub.C()
	for _, sc := range got {
		if sc.Process.Comm != "cat" {
			t.Errorf("call %d of %q came through", sc.Seq, sc.Process.Comm)
		}
	}
	if len(got) != 6 {
		t.Errorf("got %d calls of cat, want 6", len(got))
	}
	if wire := out.String(); strings.Contains(wire, `"pid":42`) || strings.Contains(wire, `"pid":99`) {
		t.Errorf("calls the filter drops crossed the link:\n%s", wire)
	}
}

func TestHeldEditContinue(t *testing.T) {
	fake, s, _, _, _ := attached(t, api.AttachOptions{})
	defer s.Close()
	ctx := context.Background()
	if err := s.Break(ctx, api.Breakpoint{Name: "openat", Exit: true}); err != nil {
		t.Fatal(err)
	}
	call := uitest.Stream(1, 2)[1]
	go fake.Hold(api.Held{Call: call, Regs: []api.Register{{Name: "rax", Value: 3}}})
	h := <-s.Held()
	if h.Call.Seq != call.Seq || len(h.Regs) != 1 || h.Regs[0] != (api.Register{Name: "rax", Value: 3}) || len(h.Uses) != len(call.Args) {
		t.Fatalf("held %+v", h)
	}
	if _, err := s.Edit(ctx, api.Edit{Seq: 999, Ret: true, Value: 1}); !errors.Is(err, api.ErrNotHeld) {
		t.Errorf("an edit of another call: %v, want ErrNotHeld", err)
	}
	e, err := s.Edit(ctx, api.Edit{Seq: call.Seq, Ret: true, Value: 7})
	if err != nil || e.Call.Ret != 7 {
		t.Fatalf("edit: %+v, %v", e.Call, err)
	}
	if err := s.Continue(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Pause(ctx); err != nil || !s.Stats().Paused {
		t.Errorf("pause: %v, stats %+v", err, s.Stats())
	}
	fake.Lock()
	defer fake.Unlock()
	if fake.Continues != 1 || len(fake.Breaks) != 1 || len(fake.Edits) != 1 {
		t.Errorf("the far session saw %d continues, breaks %v, edits %v", fake.Continues, fake.Breaks, fake.Edits)
	}
}

func TestDomainsAndControl(t *testing.T) {
	h := uitest.NewHypervisor()
	c, _ := serve(t, h)
	ctx := context.Background()
	ds, err := c.Domains(ctx)
	if err != nil || len(ds) != 1 || ds[0].Name != "test" {
		t.Fatalf("domains %+v, %v", ds, err)
	}
	if err := c.Control(ctx, "test", api.Suspend); err != nil {
		t.Fatal(err)
	}
	if got := h.Controls(); len(got) != 1 || got[0] != "pause test" {
		t.Errorf("controls %v", got)
	}
	if _, err := c.Attach(ctx, "nosuch", api.AttachOptions{}); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("attach to a domain that is not there: %v", err)
	}
}

// raw runs an agent and talks to it line by line.
func raw(t *testing.T, h api.Hypervisor) (w io.Writer, r *bufio.Reader, done <-chan error) {
	t.Helper()
	near, far := net.Pipe()
	ch := make(chan error, 1)
	go func() { ch <- Serve(context.Background(), h, far, far); far.Close() }()
	t.Cleanup(func() { near.Close() })
	return near, bufio.NewReader(near), ch
}

func send(t *testing.T, w io.Writer, lines ...string) {
	t.Helper()
	if _, err := io.WriteString(w, strings.Join(lines, "")); err != nil {
		t.Fatal(err)
	}
}

func recv(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the agent: %v (got %q)", err, line)
	}
	return line
}

func TestAgentFraming(t *testing.T) {
	w, r, _ := raw(t, uitest.NewHypervisor())
	// Two requests in one write, then one in three writes.
	send(t, w, "{\"nitro_agent\":2}\n{\"id\":1,\"op\":\"domains\"}\n")
	if got := recv(t, r); got != "{\"nitro_agent\":2}\n" {
		t.Fatalf("hello %q", got)
	}
	if got := recv(t, r); !strings.HasPrefix(got, `{"id":1,"result":[{"Name":"test"`) {
		t.Errorf("reply %q", got)
	}
	send(t, w, `{"id":2,`)
	send(t, w, `"op":"dom`)
	send(t, w, "ains\"}\n")
	if got := recv(t, r); !strings.HasPrefix(got, `{"id":2,"result":`) {
		t.Errorf("reply %q", got)
	}
}

func TestAgentUnknownRequestAndNothingHeld(t *testing.T) {
	w, r, _ := raw(t, uitest.NewHypervisor())
	send(t, w, "{\"nitro_agent\":2}\n")
	recv(t, r)
	for _, c := range []struct{ req, want string }{
		{`{"id":1,"op":"frobnicate"}`, `{"id":1,"error":{"msg":"remote nitro protocol error: unknown request \"frobnicate\"","kind":"protocol"}}`},
		{`{"id":2,"op":"continue"}`, `{"id":2,"error":{"msg":"the agent holds no such session or guest: no session is attached (attach first)","kind":"nothing_held"}}`},
		{`{"id":3,"op":"run"}`, `{"id":3,"error":{"msg":"the agent holds no such session or guest: no session is attached (attach first)","kind":"nothing_held"}}`},
		{`{"id":4,"op":"symbols"}`, `{"id":4,"error":{"msg":"the agent holds no such session or guest: no guest is open (inspect first)","kind":"nothing_held"}}`},
		{`{"id":5,"op":"domains"}`, `{"id":5,"result":`}, // still serving
	} {
		send(t, w, c.req+"\n")
		if got := recv(t, r); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.req, got, c.want)
		}
	}
}

func TestClientNothingHeldIsAnError(t *testing.T) {
	c, _ := serve(t, uitest.NewHypervisor())
	// A session the client thinks it has, but the agent does not.
	s := &session{c: c, held: make(chan api.Held, 1), ended: make(chan struct{}), dones: map[uint64]chan struct{}{}}
	if err := s.Continue(context.Background()); !errors.Is(err, ErrNothingHeld) {
		t.Errorf("continue with nothing attached: %v", err)
	}
}

func TestAgentTruncatedLine(t *testing.T) {
	in := strings.NewReader("{\"nitro_agent\":2}\n{\"id\":1,\"op\":\"dom")
	var out bytes.Buffer
	err := Serve(context.Background(), uitest.NewHypervisor(), in, &out)
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "ended inside a line") {
		t.Errorf("Serve: %v", err)
	}
	if !strings.Contains(out.String(), `"error":{"msg":"remote nitro protocol error: the stream ended inside a line`) {
		t.Errorf("the agent said %q", out.String())
	}
}

func TestAgentNotJSON(t *testing.T) {
	in := strings.NewReader("{\"nitro_agent\":2}\nhello there\n")
	err := Serve(context.Background(), uitest.NewHypervisor(), in, io.Discard)
	if !errors.Is(err, ErrProtocol) {
		t.Errorf("Serve: %v", err)
	}
}

func TestVersionMismatch(t *testing.T) {
	// The agent refuses a client of another version, after saying its own.
	var out bytes.Buffer
	err := Serve(context.Background(), uitest.NewHypervisor(), strings.NewReader("{\"nitro_agent\":7}\n"), &out)
	if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "version 7") || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("agent: %v", err)
	}
	if out.String() != "{\"nitro_agent\":2}\n" {
		t.Errorf("agent said %q", out.String())
	}
	// The client refuses an agent of another version.
	near, far := net.Pipe()
	go scripted(far, "{\"nitro_agent\":1}\n")
	_, err = NewClient(context.Background(), near)
	if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "remote nitro speaks version 1, this nitro speaks version 2") {
		t.Errorf("client: %v", err)
	}
}

// scripted plays a far agent on conn: for each line it reads, it writes
// the next of answers (none for ""), then closes the connection.
func scripted(conn net.Conn, answers ...string) {
	r := bufio.NewReader(conn)
	for _, a := range answers {
		r.ReadString('\n')
		io.WriteString(conn, a)
	}
	conn.Close()
}

func TestClientTruncatedLine(t *testing.T) {
	near, far := net.Pipe()
	go scripted(far, "{\"nitro_agent\":2}\n", `{"id":1,"res`) // the domains reply cut short
	c, err := NewClient(context.Background(), near)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Domains(context.Background())
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "ended inside a line") {
		t.Errorf("domains: %v", err)
	}
	if _, err := c.Domains(context.Background()); err == nil {
		t.Error("a request after the connection broke succeeded")
	}
}

// attachLab attaches to "lab" through a client on conn, whose far host
// says "the guest runs on" when the link is lost.
func attachLab(t *testing.T, conn net.Conn) api.Session {
	t.Helper()
	c, err := NewClient(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	c.Lost = func() string { return "the guest runs on" }
	s, err := c.Attach(context.Background(), "lab", api.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLostConnection(t *testing.T) {
	h := uitest.NewHypervisor()
	fake := uitest.NewSession()
	h.Add(api.Domain{Name: "lab", State: "running"}, fake)
	near, far := net.Pipe()
	served := make(chan error, 1)
	go func() { served <- Serve(context.Background(), h, far, far) }()
	s := attachLab(t, near)
	sub := s.Subscribe(10, api.Lossy)
	ran := make(chan error, 1)
	go func() { ran <- s.Run(context.Background()) }()
	fake.Send(uitest.Stream(1, 2))
	<-sub.C()
	near.Close() // the link drops
	err := <-ran
	if !errors.Is(err, ErrLost) || !strings.Contains(err.Error(), "the guest runs on") {
		t.Errorf("Run: %v", err)
	}
	if _, ok := <-sub.C(); ok {
		t.Error("the subscription is open after the link dropped")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after the link dropped: %v", err)
	}
	// The agent saw its input end and detached.
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	fake.Lock()
	defer fake.Unlock()
	if !fake.Closed {
		t.Error("the agent left the session attached")
	}
}

// A link that drops between the run request and its reply ends Run as
// one that drops later: with what became of the guest.
func TestLostBeforeRunReply(t *testing.T) {
	near, far := net.Pipe()
	go scripted(far, "{\"nitro_agent\":2}\n", "{\"id\":1,\"result\":{}}\n", "") // hello, attach, run
	s := attachLab(t, near)
	err := s.Run(context.Background())
	if !errors.Is(err, ErrLost) || !strings.Contains(err.Error(), "the guest runs on") {
		t.Errorf("Run: %v", err)
	}
}

func TestEventDecode(t *testing.T) {
	var e event
	line := `{"seq":7,"later":{"a":[1,"]}"],"b":null},"time":"2026-12-02T05:00:00.5Z","direction":"exit","abi":"i386",` +
		`"comm":"a\"b\u00e9","args":[{"raw":"0xff","text":"x","out":true,"later":[]}],"ret":-2,"injected":true}`
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		t.Fatal(err)
	}
	want := event{Seq: 7, Time: time.Date(2026, 12, 2, 5, 0, 0, 5e8, time.UTC), Direction: "exit", ABI: "i386",
		Comm: "a\"b\u00e9", Args: []arg{{Raw: 0xff, Text: "x", Out: true}}, Ret: -2, Injected: true}
	if !e.Time.Equal(want.Time) {
		t.Errorf("time %v", e.Time)
	}
	e.Time = want.Time
	if !reflect.DeepEqual(e, want) {
		t.Errorf("got  %+v\nwant %+v", e, want)
	}
	for _, bad := range []string{`{"seq":"7"}`, `{"seq":7`, `{"args":[{"raw":"ff"}]}`, `{"matched":yes}`, `{"comm":"\x"}`, `{"args":[{"text":"x"}`} {
		if err := decodeMessage(newLines(strings.NewReader(`{"calls":[`+bad+"]}\n")), &message{}); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestCallsLine(t *testing.T) {
	var b []byte
	b, _ = appendCalls(b, every(), func(*api.Syscall) bool { return true })
	var m message
	if err := decodeMessage(newLines(bytes.NewReader(b)), &m); err != nil || len(m.Calls) != 3 {
		t.Fatalf("%d calls, %v", len(m.Calls), err)
	}
	// What encoding/json makes of the line is what go-json makes.
	var std message
	if err := json.Unmarshal(b, &std); err != nil || !reflect.DeepEqual(std, m) {
		t.Errorf("encoding/json: %v\n%+v\ngo-json:\n%+v", err, std, m)
	}
	for _, bad := range []string{`{"calls":[{"seq":1}`, `{"calls":[{"seq":1}]}x`, `{"calls":[{"seq":1},]}`, `{"calls":[7]}`} {
		if err := decodeMessage(newLines(strings.NewReader(bad+"\n")), &message{}); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
