package record

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"nitro/ui/uitest"
)

// countWriter counts what a recording would put on disk.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkWrite is the recorder's cost per event, and the recording's
// size per event, on the synthetic stream with a process snapshot a
// second: a loop that compresses far better than a guest does (e2e's
// BenchmarkRecordingSize has the goal, on the lab guest).
func BenchmarkWrite(b *testing.B) {
	evs := uitest.Stream(1, 100_000)
	var cw countWriter
	w, err := NewWriter(&cw, meta)
	if err != nil {
		b.Fatal(err)
	}
	snap := Snapshot{Procs: uitest.Procs}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sc := evs[i%len(evs)]
		sc.Seq = uint64(i + 1)
		sc.Time = uitest.Epoch.Add(time.Duration(i) * time.Millisecond)
		if i%1000 == 0 { // a snapshot a second at a thousand events a second
			snap.Time = sc.Time
			if err := w.Processes(snap); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Event(&sc); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cw.n)/float64(b.N), "bytes/event")
}

// BenchmarkRead reads a recording from start to end: an op is one event.
func BenchmarkRead(b *testing.B) {
	r := open(b, write(b, uitest.Stream(1, 100_000), nil, 0, true))
	b.ResetTimer()
	for done := 0; done < b.N; {
		for i := range r.Blocks {
			blk, err := r.Block(i)
			if err != nil {
				b.Fatal(err)
			}
			done += len(blk.Events)
		}
	}
}

// BenchmarkWriteVaried is BenchmarkWrite on a stream less kind to a
// compressor than the synthetic loop: irregular times, pointers, file
// descriptors and data, many processes.
func BenchmarkWriteVaried(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	evs := uitest.Stream(1, 100_000)
	at := uitest.Epoch
	for i := range evs {
		sc := &evs[i]
		at = at.Add(time.Duration(rng.ExpFloat64() * float64(200*time.Microsecond)))
		sc.Time = at
		if i%2 == 0 { // a new call: its exit keeps what the entry had
			sc.Process.PID += rng.IntN(40)
			sc.Process.TID = sc.Process.PID
			for j := range sc.Args {
				if sc.Args[j].Raw > 1<<20 {
					sc.Args[j].Raw += uint64(rng.IntN(1<<16)) << 4
				}
			}
			if sc.Name == "read" {
				n := rng.IntN(200)
				sc.Args[1].Text = fmt.Sprintf("%q...", strings.Repeat("x", n%32)+fmt.Sprint(n))
			}
		} else {
			sc.Process = evs[i-1].Process
			sc.Args = evs[i-1].Args
		}
	}
	var cw countWriter
	w, err := NewWriter(&cw, meta)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sc := evs[i%len(evs)]
		sc.Seq = uint64(i + 1)
		if err := w.Event(&sc); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cw.n)/float64(b.N), "bytes/event")
}
