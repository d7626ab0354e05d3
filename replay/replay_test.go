package replay

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"nitro/api"
	"nitro/record"
	"nitro/record/recordtest"
	"nitro/ui/uitest"
)

var meta = record.Meta{Domain: "nitro-lab", OS: "linux", Kernel: "Linux 6.1.0-28-amd64", Listener: "gdbstub", Start: uitest.Epoch}

// recording writes evs, with uitest's process table before them and the
// snapshots given, to a file and returns its path.
func recording(t testing.TB, evs []api.Syscall, snaps ...recordtest.Snapshot) string {
	t.Helper()
	snaps = append([]recordtest.Snapshot{{Before: 0, Procs: uitest.Procs}}, snaps...)
	return recordtest.Write(t, meta, evs, snaps...)
}

func attach(t testing.TB, path string, o Options, ao api.AttachOptions) api.Session {
	t.Helper()
	h, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	s, err := h.Attach(context.Background(), "nitro-lab", ao)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// collect reads sub until it closes.
func collect(sub api.Subscription) []api.Syscall {
	var got []api.Syscall
	for b := range sub.C() {
		got = append(got, b...)
	}
	return got
}

func sameCalls(t *testing.T, got, want []api.Syscall) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d calls, want %d", len(got), len(want))
	}
	for i := range want {
		w := want[i]
		w.Time = time.Unix(0, w.Time.UnixNano())
		if !reflect.DeepEqual(got[i], w) {
			t.Fatalf("call %d:\n got %+v\nwant %+v", i, got[i], w)
		}
	}
}

func TestPlaysEveryCallInOrder(t *testing.T) {
	evs := uitest.Stream(1, 20000)
	s := attach(t, recording(t, evs), Options{}, api.AttachOptions{})
	if in := s.Info(); in.Replay == "" || in.Domain != "nitro-lab" || in.Kernel != meta.Kernel {
		t.Errorf("info %+v", in)
	}
	sub := s.Subscribe(1000, api.Lossy)
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	sameCalls(t, collect(sub), evs)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Events != uint64(len(evs)) || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Errorf("close after the end: %v", err)
	}
}

// TestStart: a playback from the middle delivers the calls from there,
// with the process table as it was.
func TestStart(t *testing.T) {
	evs := uitest.Stream(1, 20000)
	start := evs[12345].Seq
	s := attach(t, recording(t, evs), Options{Start: start}, api.AttachOptions{})
	sub := s.Subscribe(1000, api.Lossless)
	go s.Run(context.Background())
	sameCalls(t, collect(sub), evs[12345:])
	if procs, _ := s.Processes(context.Background()); len(procs) != len(uitest.Procs) {
		t.Errorf("processes %v", procs)
	}
}

func TestOnlyTheCallsAsked(t *testing.T) {
	evs := uitest.Stream(1, 600)
	s := attach(t, recording(t, evs), Options{}, api.AttachOptions{Syscalls: []string{"mmap"}})
	sub := s.Subscribe(1000, api.Lossless)
	go s.Run(context.Background())
	var want []api.Syscall
	for _, sc := range evs {
		if sc.Name == "mmap" {
			want = append(want, sc)
		}
	}
	sameCalls(t, collect(sub), want)
}

// TestBreakStopsThePlayback: a break on a call holds the playback there;
// what came before is delivered, nothing after, until Continue.
func TestBreakStopsThePlayback(t *testing.T) {
	evs := uitest.Stream(1, 400)
	s := attach(t, recording(t, evs), Options{}, api.AttachOptions{})
	ctx := context.Background()
	if err := s.Break(ctx, api.Breakpoint{Name: "mmap", PID: 42}); err != nil {
		t.Fatal(err)
	}
	sub := s.Subscribe(1000, api.Lossless)
	go s.Run(ctx)
	var held api.Held
	select {
	case held = <-s.Held():
	case <-time.After(10 * time.Second):
		t.Fatal("no call held")
	}
	at := 0
	for evs[at].Name != "mmap" {
		at++
	}
	sameCalls(t, []api.Syscall{held.Call}, evs[at:at+1])
	if len(held.Uses) != len(held.Call.Args) {
		t.Errorf("%d uses for %d args", len(held.Uses), len(held.Call.Args))
	}
	var got []api.Syscall
	for len(got) < at {
		got = append(got, <-sub.C()...)
	}
	sameCalls(t, got, evs[:at])
	select {
	case b := <-sub.C():
		t.Fatalf("%d calls delivered past the break", len(b))
	case <-time.After(100 * time.Millisecond):
	}
	if !s.Stats().Paused {
		t.Error("a held playback is not paused")
	}
	if _, err := s.Edit(ctx, api.Edit{Arg: 0, Value: 1}); !errors.Is(err, ErrRecording) || !errors.Is(err, api.ErrNotSupported) {
		t.Errorf("edit: %v", err)
	}
	procs, _ := s.Processes(ctx)
	if len(procs) != len(uitest.Procs) {
		t.Errorf("processes at the break: %v", procs)
	}
	if err := s.ClearBreak(ctx, api.Breakpoint{Name: "mmap", PID: 42}); err != nil {
		t.Fatal(err)
	}
	if err := s.Continue(ctx); err != nil {
		t.Fatal(err)
	}
	sameCalls(t, append(got, collect(sub)...), evs)
	if err := s.Continue(ctx); !errors.Is(err, api.ErrNotHeld) {
		t.Errorf("continue with nothing held: %v", err)
	}
}

func TestPauseResume(t *testing.T) {
	evs := uitest.Stream(1, 400)
	s := attach(t, recording(t, evs), Options{Speed: 1}, api.AttachOptions{})
	ctx := context.Background()
	sub := s.Subscribe(1000, api.Lossless)
	if err := s.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	go s.Run(ctx)
	select {
	case b := <-sub.C():
		t.Fatalf("%d calls played while paused", len(b))
	case <-time.After(100 * time.Millisecond):
	}
	start := time.Now()
	if err := s.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	sameCalls(t, collect(sub), evs)
	// 400 calls a millisecond apart, in real time.
	if took := time.Since(start); took < 350*time.Millisecond || took > 5*time.Second {
		t.Errorf("real time took %v for 400 ms recorded", took)
	}
}

// TestLinger: a lingering replay keeps its session at the end until Close.
func TestLinger(t *testing.T) {
	evs := uitest.Stream(1, 10)
	s := attach(t, recording(t, evs), Options{Linger: true}, api.AttachOptions{})
	sub := s.Subscribe(100, api.Lossy)
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	var got []api.Syscall
	for len(got) < len(evs) {
		got = append(got, <-sub.C()...)
	}
	select {
	case <-done:
		t.Fatal("Run ended at the end of a lingering replay")
	case <-time.After(50 * time.Millisecond):
	}
	s.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := <-sub.C(); ok {
		t.Error("subscription open after Close")
	}
}

func TestHypervisor(t *testing.T) {
	h, err := Open(recording(t, uitest.Stream(1, 2)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if d, _ := h.Domains(ctx); len(d) != 1 || d[0].Name != "nitro-lab" {
		t.Errorf("domains %+v", d)
	}
	if _, err := h.Attach(ctx, "other", api.AttachOptions{}); err == nil {
		t.Error("attached to a domain not recorded")
	}
	if err := h.Control(ctx, "nitro-lab", api.Start); !errors.Is(err, ErrRecording) {
		t.Errorf("control: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none"), Options{}); err == nil {
		t.Error("opened a file that does not exist")
	}
}

// BenchmarkPlay is playback as fast as possible to one reader that only
// counts: one op plays a recording of 200,000 calls. ui's BenchmarkReplay
// has the goal, with the TUI taking the calls.
func BenchmarkPlay(b *testing.B) {
	const n = 200_000
	path := recording(b, uitest.Stream(1, n))
	for b.Loop() {
		s := attach(b, path, Options{}, api.AttachOptions{})
		sub := s.Subscribe(1<<16, api.Lossless)
		go s.Run(context.Background())
		done := 0
		for batch := range sub.C() {
			done += len(batch)
		}
		if done != n {
			b.Fatalf("%d calls played of %d", done, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
