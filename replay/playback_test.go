package replay

import (
	"context"
	"errors"
	"slices"
	"testing"

	"nitro/api"
	"nitro/record/recordtest"
	"nitro/ui/uitest"
)

// late is a process that the recording's snapshot before call 15000 shows
// for the first time.
var late = api.Process{PID: 300, TID: 300, PPID: 1, Comm: "late"}

// paused attaches to a recording of evs (with late's snapshot) and runs it
// paused at its start, with one subscription of limit calls.
func paused(t *testing.T, evs []api.Syscall, limit int) (*Session, api.Subscription) {
	t.Helper()
	path := recording(t, evs, recordtest.Snapshot{Before: 15000, Procs: append(slices.Clone(uitest.Procs), late)})
	s := attach(t, path, Options{Linger: true}, api.AttachOptions{}).(*Session)
	sub := s.Subscribe(limit, api.Lossless)
	if err := s.Pause(context.Background()); err != nil {
		t.Fatal(err)
	}
	go s.Run(context.Background())
	return s, sub
}

// moved checks that a move left the playback paused at want, the last of
// the new channel's first batch, with the calls before it up to limit; it
// returns the new channel.
func moved(t *testing.T, s *Session, sub api.Subscription, old <-chan []api.Syscall, evs []api.Syscall, want, limit int) <-chan []api.Syscall {
	t.Helper()
	ch := sub.C()
	if ch == old {
		t.Fatal("a move kept the subscription's channel")
	}
	select {
	case b := <-old:
		t.Fatalf("%d calls reached the channel a move replaced", len(b))
	default:
	}
	sameCalls(t, <-ch, evs[max(want+1-limit, 0):want+1])
	if p := s.Position(); p.Seq != evs[want].Seq || !p.Time.Equal(evs[want].Time) {
		t.Errorf("position %d at %v, want %d", p.Seq, p.Time, evs[want].Seq)
	}
	if !s.Stats().Paused {
		t.Error("a move left the playback playing")
	}
	return ch
}

func hasLate(s *Session) bool {
	procs, _ := s.Processes(context.Background())
	return slices.ContainsFunc(procs, func(p api.Process) bool { return p.PID == late.PID })
}

// TestPlaybackMoves: seeks by seq and time, steps both ways and a search
// put the playback at the call asked, hand each reader the calls that led
// there, and give the process table as of there.
func TestPlaybackMoves(t *testing.T) {
	evs := uitest.Stream(1, 20000) // five blocks
	s, sub := paused(t, evs, 1000)
	ctx := context.Background()
	if p := s.Position(); p.Seq != 0 || p.Calls != 20000 || p.First != 1 || p.Last != 20000 ||
		!p.Start.Equal(evs[0].Time) || !p.End.Equal(evs[19999].Time) {
		t.Errorf("position before playing: %+v", p)
	}

	ch := sub.C()
	if err := s.Seek(ctx, 12345); err != nil {
		t.Fatal(err)
	}
	ch = moved(t, s, sub, ch, evs, 12344, 1000)
	if hasLate(s) {
		t.Error("at call 12345, the process table has a process first recorded at 15000")
	}

	if err := s.Step(ctx, 1); err != nil {
		t.Fatal(err)
	}
	sameCalls(t, <-ch, evs[12345:12346])
	if p := s.Position(); p.Seq != 12346 {
		t.Errorf("one step on: at %d, want 12346", p.Seq)
	}

	if err := s.Seek(ctx, 16000); err != nil {
		t.Fatal(err)
	}
	ch = moved(t, s, sub, ch, evs, 15999, 1000)
	if !hasLate(s) {
		t.Error("at call 16000, the process table lacks the process recorded at 15000")
	}

	if err := s.Step(ctx, -3000); err != nil {
		t.Fatal(err)
	}
	ch = moved(t, s, sub, ch, evs, 12999, 1000)
	if hasLate(s) {
		t.Error("back at call 13000, the process table still has the process first recorded at 15000")
	}

	if err := s.SeekTime(ctx, evs[500].Time); err != nil {
		t.Fatal(err)
	}
	ch = moved(t, s, sub, ch, evs, 500, 1000)

	closeExit := func(sc *api.Syscall) bool { return sc.Name == "close" && sc.IsExit() }
	if err := s.SeekMatch(ctx, closeExit); err != nil {
		t.Fatal(err)
	}
	want := 501 + slices.IndexFunc(evs[501:], func(sc api.Syscall) bool { return closeExit(&sc) })
	ch = moved(t, s, sub, ch, evs, want, 1000)

	if err := s.SeekMatch(ctx, func(sc *api.Syscall) bool { return sc.Name == "fork" }); !errors.Is(err, api.ErrNoMatch) {
		t.Errorf("a search for a call never made: %v, want ErrNoMatch", err)
	}
	if sub.C() != ch || s.Position().Seq != evs[want].Seq {
		t.Error("a search that failed moved the playback")
	}

	if err := s.Seek(ctx, 1<<40); err != nil {
		t.Fatal(err)
	}
	ch = moved(t, s, sub, ch, evs, 19999, 1000)
	if err := s.Seek(ctx, 0); err != nil {
		t.Fatal(err)
	}
	moved(t, s, sub, ch, evs, 0, 1000)
	if err := s.Step(ctx, -1); err == nil {
		t.Error("a step back from the first call did not fail")
	}
}

// TestStepFromABreak: a step at a held call plays that call and pauses
// before the next.
func TestStepFromABreak(t *testing.T) {
	evs := uitest.Stream(1, 400)
	s := attach(t, recording(t, evs), Options{Linger: true}, api.AttachOptions{}).(*Session)
	ctx := context.Background()
	if err := s.Break(ctx, api.Breakpoint{Name: "mmap"}); err != nil {
		t.Fatal(err)
	}
	sub := s.Subscribe(1000, api.Lossless)
	go s.Run(ctx)
	held := <-s.Held()
	if err := s.Step(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var got []api.Syscall
	for len(got) == 0 || got[len(got)-1].Seq != held.Call.Seq {
		got = append(got, <-sub.C()...)
	}
	sameCalls(t, got, evs[:held.Call.Seq])
	if p := s.Position(); p.Seq != held.Call.Seq || !s.Stats().Paused {
		t.Errorf("after a step from the break: at %d, paused %v; want %d, paused", p.Seq, s.Stats().Paused, held.Call.Seq)
	}
	if err := s.Step(ctx, 2); err != nil {
		t.Fatal(err)
	}
	for len(got) < int(held.Call.Seq)+2 {
		got = append(got, <-sub.C()...)
	}
	sameCalls(t, got, evs[:held.Call.Seq+2])
}

func TestSetSpeed(t *testing.T) {
	s := attach(t, recording(t, uitest.Stream(1, 2)), Options{Speed: 1}, api.AttachOptions{}).(*Session)
	if err := s.SetSpeed(8); err != nil || s.Position().Speed != 8 {
		t.Errorf("speed %g after SetSpeed(8): %v", s.Position().Speed, err)
	}
	if err := s.SetSpeed(-1); err == nil || s.Position().Speed != 8 {
		t.Errorf("SetSpeed(-1): %v, speed %g", err, s.Position().Speed)
	}
}
