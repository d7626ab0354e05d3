package ui

import (
	"context"
	"io"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/internal/cputime"
	"nitro/record"
	"nitro/record/recordtest"
	"nitro/replay"
	"nitro/ui/uitest"
)

// counted is the root model, counting the calls its store takes and the
// frames it renders.
type counted struct {
	*Model
	calls, frames int
}

func (c *counted) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if b, ok := msg.(batchMsg); ok && c.att != nil && b.ch == c.att.batches {
		for _, calls := range b.batches {
			c.calls += len(calls)
		}
	}
	_, cmd := c.Model.Update(msg)
	return c, cmd
}

func (c *counted) View() string {
	c.frames++
	return c.Model.View()
}

// BenchmarkReplay is `nitro replay --speed 0` on a recording of a million
// calls, headless: one op runs the TUI's program on it, as nitro does,
// until the recording ends; the store takes every call, a View follows
// every Update, and the renderer writes a frame 60 times a second to
// nowhere. The playback decodes on one goroutine while the TUI takes the
// calls on another: on a shared host the calls per second of CPU the
// process used (decoding, the TUI, the garbage collector) move far less
// than per second of wall time, and are what one core would do alone.
// Goal: store-events/cpu-s at least a million.
func BenchmarkReplay(b *testing.B) {
	const n = 1_000_000
	meta := record.Meta{Domain: "lab", OS: "linux", Kernel: "Linux 6.1.0-28-amd64", Listener: "gdbstub", Start: uitest.Epoch}
	path := recordtest.WriteStream(b, meta, n)
	calls, frames := 0, 0
	cpu0, err := cputime.Used()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		h, err := replay.Open(path, replay.Options{}) // no Linger: the session ends with the recording, and the TUI with it
		if err != nil {
			b.Fatal(err)
		}
		c := &counted{Model: New(context.Background(), Options{Hypervisor: h, Domain: meta.Domain, Keys: *uitest.Keys()})}
		p := tea.NewProgram(c, tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithoutSignalHandler())
		go p.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
		if _, err := p.Run(); err != nil {
			b.Fatal(err)
		}
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
		if c.calls != n {
			b.Fatalf("the store took %d calls of %d", c.calls, n)
		}
		calls += c.calls
		frames += c.frames
	}
	cpu, err := cputime.Used()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(calls)/b.Elapsed().Seconds(), "store-events/s")
	b.ReportMetric(float64(calls)/(cpu-cpu0).Seconds(), "store-events/cpu-s")
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "views/s")
}
