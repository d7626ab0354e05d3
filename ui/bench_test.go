package ui

import (
	"context"
	"runtime"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/themes"
	"nitro/ui/uitest"
	"nitro/ui/views"
)

// batchSize is what a 100k events/s flood brings in one 30 ms batch.
const batchSize = 3000

// fullRing is the default ring filled: 100k calls, 200k events.
var fullRing = 200_000 / batchSize

// attachedModel is the root model attached to a fake session at 80x24.
func attachedModel(tb testing.TB) (*Model, *uitest.Session) {
	tb.Helper()
	pal, err := themes.Lookup("dark")
	if err != nil {
		tb.Fatal(err)
	}
	m := New(context.Background(), Options{Hypervisor: uitest.NewHypervisor(), Palette: pal, Keys: *uitest.Keys(), Refresh: time.Hour})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	s := uitest.NewSession()
	m.Update(views.AttachMsg{Name: "lab", Session: s})
	if m.att == nil {
		tb.Fatal("not attached")
	}
	return m, s
}

// batches are distinct batches, so rows do not share argument memory.
func batches(n int) [][]api.Syscall {
	out := make([][]api.Syscall, n)
	for i := range out {
		out[i] = uitest.Stream(uint64(1+i*batchSize), batchSize)
	}
	return out
}

// feed pushes one batch through the session's channel, the waiting
// tea.Cmd and Update, as the program does; it returns the next wait.
func feed(m *Model, s *uitest.Session, wait tea.Cmd, batch []api.Syscall) tea.Cmd {
	s.Send(batch)
	_, next := m.Update(wait())
	return next
}

// BenchmarkFlood measures the UI under 100k events/s: per 3000-event batch
// the Update path (channel, Cmd, ring, entry/exit matching) with the ring
// full and wrapping; per frame the View at 80x24 over a full ring; and the
// heap a full ring holds, argument strings included.
func BenchmarkFlood(b *testing.B) {
	b.Run("update-per-batch", func(b *testing.B) {
		in := batches(fullRing + 1)
		m, s := attachedModel(b)
		defer m.Close()
		wait := m.att.waitBatch()
		for _, batch := range in { // fill: measure the steady state
			wait = feed(m, s, wait, batch)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			wait = feed(m, s, wait, in[i%len(in)])
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/batchSize, "ns/event")
	})
	b.Run("view-per-frame", func(b *testing.B) {
		in := batches(fullRing + 1)
		m, s := attachedModel(b)
		defer m.Close()
		wait := m.att.waitBatch()
		for _, batch := range in {
			wait = feed(m, s, wait, batch)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_ = m.View()
		}
		b.StopTimer()
		b.ReportMetric(float64(m.att.store.Kept()), "rows")
	})
	b.Run("heap-full-ring", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			m, s := attachedModel(b)
			wait := m.att.waitBatch()
			for j := 0; j <= fullRing; j++ { // batches made here die here: the ring's rows are all that stays
				wait = feed(m, s, wait, uitest.Stream(uint64(1+j*batchSize), batchSize))
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/(1<<20), "heap-MiB")
			_ = m.Close()
		}
	})
}
