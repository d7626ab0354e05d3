package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/ui/uitest"
)

// sleepers is a guest of n processes, as the many lab guest has them: the
// stream's processes (uitest.Procs) and the rest asleep under init.
func sleepers(n int) []api.Process {
	procs := leaders(uitest.Procs)
	for pid := 100; len(procs) < n; pid++ {
		procs = append(procs, api.Process{PID: pid, TID: pid, PPID: 1, Comm: "nitro-many"})
	}
	return procs
}

// BenchmarkProcessTree5000 measures the attached screen's frames (one
// Update and the View after it, as the program runs them, at 80x24) with
// 5,000 processes in the guest: each frame brings a batch of 30 calls and
// every 60th the process snapshot, as one second at 60 frames a second
// does. The snapshots differ as a guest's do: one process ends and
// another starts each time. Goal: p99-frame-ms under 16.
func BenchmarkProcessTree5000(b *testing.B) {
	const procs, framesPerSnapshot = 5000, 60
	m, s := attachedModel(b)
	defer m.Close()
	snap := sleepers(procs)
	first := len(leaders(uitest.Procs)) // the oldest sleeper
	wait := m.att.waitBatch()
	var frames []time.Duration
	seq := uint64(1)
	for i := 0; b.Loop(); i++ {
		var msg tea.Msg
		if i%framesPerSnapshot == 0 {
			// A sleeper ends and a new process starts.
			snap = append(slices.Delete(snap, first, first+1), api.Process{PID: 100 + procs + i, TID: 100 + procs + i, PPID: 42, Comm: fmt.Sprintf("job%d", i)})
			msg = snapMsg{sess: s, at: uitest.Epoch.Add(time.Duration(i) * time.Second), taken: uitest.Epoch, procs: slices.Clone(snap)}
		} else {
			s.Send(uitest.Stream(seq, 30))
			seq += 30
			msg = wait()
		}
		start := time.Now()
		_, next := m.Update(msg)
		_ = m.View()
		frames = append(frames, time.Since(start))
		if _, ok := msg.(batchMsg); ok {
			wait = next
		}
	}
	b.StopTimer()
	if screen := m.View(); !strings.Contains(screen, fmt.Sprintf("Processes %d ", procs)) {
		b.Fatalf("the tree does not count %d processes:\n%s", procs, screen)
	}
	slices.Sort(frames)
	b.ReportMetric(float64(frames[len(frames)*99/100].Microseconds())/1000, "p99-frame-ms")
}
