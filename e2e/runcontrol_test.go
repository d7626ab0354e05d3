package e2e

import (
	"context"
	"testing"
	"time"

	"nitro/core"
	"nitro/core/kvm/domain"
	"nitro/internal/lab"
)

// TestRunControl pauses a traced guest outside nitro (virsh suspend) and
// with nitro's own Pause: each time it stays paused, nitro says so and sees
// no calls, and tracing goes on once it is resumed.
func TestRunControl(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := core.Attach(ctx, lab.URI, g.Name, core.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub := s.Subscribe(1<<16, true)
	go func() {
		for range sub.C {
		}
	}()
	go s.Run(ctx)
	progress := func(what string) {
		t.Helper()
		before := s.Stats().Events
		for deadline := time.Now().Add(30 * time.Second); s.Stats().Events < before+20; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no calls traced", what)
			}
		}
	}
	stays := func(what string) {
		t.Helper()
		time.Sleep(time.Second) // let a call in flight land
		before := s.Stats().Events
		time.Sleep(2 * time.Second)
		info, err := dom.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.State != domain.Paused || !s.Paused() || s.Stats().Events != before {
			t.Fatalf("%s: libvirt says %s, nitro paused=%v, %d calls while paused",
				what, info.State, s.Paused(), s.Stats().Events-before)
		}
	}

	progress("attached")
	if err := dom.Suspend(); err != nil {
		t.Fatal(err)
	}
	stays("virsh suspend")
	if err := dom.Resume(); err != nil {
		t.Fatal(err)
	}
	progress("virsh resume")

	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	stays("Pause")
	s.Resume()
	progress("Resume")

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	requireRunning(t, g)
}
