package main

import (
	"io"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// frames is a model whose View shows the frame of its Update count.
type frames struct {
	n    int
	show []string
}

func (f frames) Init() tea.Cmd                       { return nil }
func (f frames) Update(tea.Msg) (tea.Model, tea.Cmd) { return frames{f.n + 1, f.show}, nil }
func (f frames) View() string                        { return f.show[f.n] }

type batch struct{} // a message other than a key

func noSend(tea.Msg) {}

func TestProbeKeyShownAtTheWriteAfterItsView(t *testing.T) {
	p := newProbe(frames{show: []string{"a", "a", "b"}}, io.Discard)
	p.Update(batch{})
	p.View()
	if _, err := p.Write([]byte("a")); err != nil { // the screen shows "a"
		t.Fatal(err)
	}
	p.press(noSend, keyCycle[0])
	if m, _ := p.Update(keyCycle[0]); m != p {
		t.Fatalf("Update returned %T, not the probe: the program would lose it", m)
	}
	if got := p.timings(); len(got.toBuilt) != 0 || got.unanswered != 1 {
		t.Fatalf("before the View: %d built, %d unanswered; want 0, 1", len(got.toBuilt), got.unanswered)
	}
	time.Sleep(time.Millisecond)
	p.View() // "b": the renderer has to write it
	if got := p.timings(); len(got.toBuilt) != 1 || len(got.toShown) != 0 {
		t.Fatalf("after the View: %d built, %d shown; want 1, 0", len(got.toBuilt), len(got.toShown))
	}
	time.Sleep(time.Millisecond)
	if _, err := p.Write([]byte("b")); err != nil {
		t.Fatal(err)
	}
	got := p.timings()
	if len(got.toShown) != 1 || got.unanswered != 0 || got.keys != 1 {
		t.Fatalf("after the write: %d shown, %d unanswered of %d keys; want 1, 0 of 1", len(got.toShown), got.unanswered, got.keys)
	}
	if got.toBuilt[0] < time.Millisecond || got.toShown[0] < got.toBuilt[0]+time.Millisecond {
		t.Errorf("latencies: built %v, shown %v; want >= 1ms and shown >= built+1ms", got.toBuilt[0], got.toShown[0])
	}
	if len(got.updates) != 2 || len(got.views) != 2 || got.writes != 2 {
		t.Errorf("%d updates, %d views, %d writes; want 2, 2, 2", len(got.updates), len(got.views), got.writes)
	}
}

func TestProbeKeyChangingNothingIsShownAtItsView(t *testing.T) {
	p := newProbe(frames{show: []string{"a", "a", "a", "a"}}, io.Discard)
	p.Update(batch{})
	p.View()
	if _, err := p.Write(nil); err != nil {
		t.Fatal(err)
	}
	p.press(noSend, keyCycle[1])
	p.press(noSend, keyCycle[2])
	p.Update(keyCycle[1])
	p.Update(keyCycle[2])
	p.View() // "a" again: the renderer writes nothing, the screen is right
	if got := p.timings(); len(got.toShown) != 2 || got.unanswered != 0 {
		t.Fatalf("%d shown, %d unanswered; want 2, 0", len(got.toShown), got.unanswered)
	}
}

func TestProbeKeyNotYetTakenIsUnanswered(t *testing.T) {
	p := newProbe(frames{show: []string{"a", "b"}}, io.Discard)
	p.press(noSend, keyCycle[3])
	p.Update(batch{}) // not a key: the key is still queued
	p.View()
	if _, err := p.Write(nil); err != nil {
		t.Fatal(err)
	}
	if got := p.timings(); got.keys != 1 || got.unanswered != 1 || len(got.toShown) != 0 {
		t.Fatalf("%d keys, %d unanswered, %d shown; want 1, 1, 0", got.keys, got.unanswered, len(got.toShown))
	}
}

func TestSpreadOf(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := spreadOf(ds, 16*time.Millisecond)
	want := spread{n: 100, p50: 50 * time.Millisecond, p99: 99 * time.Millisecond, max: 100 * time.Millisecond, over: 85}
	if got != want {
		t.Errorf("spreadOf = %+v, want %+v", got, want)
	}
	if ds[0] != 100*time.Millisecond {
		t.Error("spreadOf sorted its input")
	}
	if got := spreadOf(nil, time.Second); got.verdict() != "NOT MEASURED" {
		t.Errorf("no durations: verdict %q", got.verdict())
	}
	if got := spreadOf(ds, time.Second); got.verdict() != "met" {
		t.Errorf("all under the goal: verdict %q", got.verdict())
	}
}
