package main

import (
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// keyCycle is what the key driver presses, in turn: moves in the focused
// pane, the jump to the newest call, a change of pane and of follow mode;
// none opens a prompt or leaves the screen.
var keyCycle = []tea.KeyMsg{
	{Type: tea.KeyRunes, Runes: []rune{'j'}},
	{Type: tea.KeyRunes, Runes: []rune{'k'}},
	{Type: tea.KeyRunes, Runes: []rune{'G'}},
	{Type: tea.KeyTab},
	{Type: tea.KeyRunes, Runes: []rune{'f'}},
}

// probe times what a user of the UI waits for. It sits between tea.Program
// and the root model (timing each Update and View) and is the program's
// output (seeing each frame the renderer writes).
//
// A key's latency runs from just before Program.Send (which blocks while
// the event loop is busy, as the terminal reader's Send does) until the
// screen shows the first frame built after the Update that took the key.
// Bubble Tea v1 calls View after every Update; the renderer writes the
// latest View at its next tick (60 per second) unless it is what the screen
// shows already. So a key is shown at the first write after its View (that
// frame, or a later one, which reflects it too), or at its View when that
// frame is already on the screen. The latency up to the View's return is
// kept too: it leaves out the renderer's tick.
//
// What a write shows is taken to be the latest View: the renderer copies a
// View's string a few microseconds after View returns, so a write in that
// gap is credited with the newer frame; with a tick of 16.7 ms that is rare
// and costs a key at most one tick.
type probe struct {
	inner tea.Model // touched by the event loop only
	out   io.Writer

	mu      sync.Mutex
	sent    []time.Time // keys sent and not yet taken by Update, in order
	handled []time.Time // keys Update took, waiting for the next View
	built   []time.Time // keys whose frame is built, waiting for a write
	last    string      // the latest View
	screen  string      // the View the latest write showed
	updates []time.Duration
	views   []time.Duration
	toBuilt []time.Duration // per key: Send to the View reflecting it returned
	toShown []time.Duration // per key: Send to that frame written
	writes  int
}

func newProbe(inner tea.Model, out io.Writer) *probe { return &probe{inner: inner, out: out} }

// Init implements tea.Model.
func (p *probe) Init() tea.Cmd { return p.inner.Init() }

// Update implements tea.Model.
func (p *probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	start := time.Now()
	m, cmd := p.inner.Update(msg)
	d := time.Since(start)
	p.inner = m
	p.mu.Lock()
	defer p.mu.Unlock()
	p.updates = append(p.updates, d)
	// Only the driver sends keys (the program has no input): the oldest
	// key sent is the one taken.
	if _, ok := msg.(tea.KeyMsg); ok && len(p.sent) > 0 {
		p.handled = append(p.handled, p.sent[0])
		p.sent = p.sent[1:]
	}
	return p, cmd
}

// View implements tea.Model.
func (p *probe) View() string {
	start := time.Now()
	s := p.inner.View()
	end := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.views = append(p.views, end.Sub(start))
	p.last = s
	for _, t := range p.handled {
		p.toBuilt = append(p.toBuilt, end.Sub(t))
		if s == p.screen { // the renderer has nothing to write: shown already
			p.toShown = append(p.toShown, end.Sub(t))
		} else {
			p.built = append(p.built, t)
		}
	}
	p.handled = p.handled[:0]
	return s
}

// Write is the program's output: the renderer writes a frame in one call.
func (p *probe) Write(b []byte) (int, error) {
	now := time.Now()
	p.mu.Lock()
	p.writes++
	p.screen = p.last
	for _, t := range p.built {
		p.toShown = append(p.toShown, now.Sub(t))
	}
	p.built = p.built[:0]
	p.mu.Unlock()
	return p.out.Write(b)
}

// press sends k, stamped.
func (p *probe) press(send func(tea.Msg), k tea.KeyMsg) {
	p.mu.Lock()
	p.sent = append(p.sent, time.Now())
	p.mu.Unlock()
	send(k)
}

// drive presses the keys of keyCycle in turn until ctx ends, waiting
// between a key's Send and the next key every on average. The wait is drawn
// from [every/2, every*3/2): a fixed one would lock the keys to one phase of
// the renderer's tick (100 ms is six ticks of 16.7 ms).
func (p *probe) drive(ctx context.Context, send func(tea.Msg), every time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	for i := 0; ; i++ {
		t.Reset(every/2 + rand.N(every))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.press(send, keyCycle[i%len(keyCycle)])
	}
}

// timings is what the probe recorded.
type timings struct {
	updates, views   []time.Duration
	toBuilt, toShown []time.Duration
	writes           int
	keys, unanswered int // keys sent; of them, not yet written at the end
}

func (p *probe) timings() timings {
	p.mu.Lock()
	defer p.mu.Unlock()
	pending := len(p.sent) + len(p.handled) + len(p.built)
	return timings{
		updates: p.updates, views: p.views, toBuilt: p.toBuilt, toShown: p.toShown,
		writes: p.writes, keys: len(p.toShown) + pending, unanswered: pending,
	}
}
