package core

import (
	"context"
	"testing"

	"nitro/api"
)

// TestBreakAtExitEditsTheResult: a break with Exit holds the call once it
// has run; its return value is edited there, shown at once, and is what
// the program gets back. An edit the stop cannot take is refused with the
// back end's reason and changes nothing.
func TestBreakAtExitEditsTheResult(t *testing.T) {
	s, f, g := attachFake(t)
	ctx := context.Background()
	h, done := breakAndWait(t, s, api.Breakpoint{Name: "close", Exit: true})
	if !h.Call.IsExit() || h.Call.Name != "close" || h.Call.Ret != 330 {
		t.Fatalf("held %+v, want close's exit returning 330", h.Call)
	}
	if _, err := s.Edit(ctx, api.Edit{Arg: 0, Value: 1}); err == nil {
		t.Error("an argument of a finished call changed")
	}
	h, err := s.Edit(ctx, api.Edit{Ret: true, Value: ^uint64(8)}) // -EBADF
	if err != nil {
		t.Fatal(err)
	}
	if h.Call.Ret != -9 || h.Call.RetText != "-9" {
		t.Errorf("after the edit the held call returns %d (%q), want -9", h.Call.Ret, h.Call.RetText)
	}
	if err := s.ClearBreak(ctx, api.Breakpoint{Name: "close", Exit: true}); err != nil {
		t.Fatal(err)
	}
	before := len(g.completed())
	if err := s.Continue(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(g.completed()) > before })
	if r := g.completed()[before-1]; r.nr != 3 || r.ret != ^uint64(8) || !r.back {
		t.Errorf("the program got %+v, want close returning -9", r)
	}
	requireDetached(t, s, f, done)
}
