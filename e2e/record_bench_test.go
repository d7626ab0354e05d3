package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"nitro/api"
	"nitro/commands"
	"nitro/core"
	"nitro/internal/lab"
	"nitro/record"
)

// BenchmarkRecordOverhead measures what recording costs a traced guest: the
// calls per second nitro delivers tracing every call of the busy guest, read
// as `nitro record` reads them (its subscription; record.Recorder's Event
// per call and Flush per batch, writing to a file), against the same calls
// only counted. The rate moves with the host's load from one second to the
// next, so one session serves both and they take turns in short rounds; a
// round runs from the end of the one before, so a recording's start and
// close count in its round. One op is recordRounds rounds of each.
// Goal: recorded/unrecorded >= 0.95.
func BenchmarkRecordOverhead(b *testing.B) {
	const recordRounds, round = 6, 2 * time.Second
	busyGuest(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sess, err := core.Attach(ctx, lab.URI, busy.Name, core.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	sub := sess.Subscribe(1<<16, api.ReaderWait)
	done := make(chan error, 1)
	go func() { done <- sess.Run(ctx) }()
	readFor(b, sub, time.Second, nil) // past attaching's first burst
	dir := b.TempDir()
	var plain, recorded tally
	end := time.Now()
	lap := func(t *tally, calls int) {
		now := time.Now()
		t.calls += calls
		t.took += now.Sub(end)
		end = now
	}
	for b.Loop() {
		for range recordRounds {
			lap(&plain, readFor(b, sub, round, nil))
			lap(&recorded, recordFor(ctx, b, sess, sub, round, dir))
		}
	}
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(plain.rate(), "unrecorded-events/s")
	b.ReportMetric(recorded.rate(), "recorded-events/s")
	b.ReportMetric(recorded.rate()/plain.rate(), "recorded/unrecorded")
	b.ReportMetric(float64(sub.Dropped()), "dropped")
}

// tally is the calls read over rounds, and the time they took.
type tally struct {
	calls int
	took  time.Duration
}

func (t tally) rate() float64 { return float64(t.calls) / t.took.Seconds() }

// readFor reads sub's calls for d and returns how many came, handing each
// to rec unless nil, and flushing it after each batch, as nitro record does.
func readFor(tb testing.TB, sub api.Subscription, d time.Duration, rec *record.Recorder) int {
	tb.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	n := 0
	for {
		select {
		case batch, ok := <-sub.C():
			if !ok {
				tb.Fatal("the session ended")
			}
			n += len(batch)
			if rec == nil {
				continue
			}
			for i := range batch {
				if err := rec.Event(&batch[i]); err != nil {
					tb.Fatal(err)
				}
			}
			if err := rec.Flush(); err != nil {
				tb.Fatal(err)
			}
		case <-timer.C:
			return n
		}
	}
}

// recordFor is readFor recording sess's calls to a new file in dir, from
// the header and first process table to the index; it removes the file
// once it has checked that it opens with every call.
func recordFor(ctx context.Context, tb testing.TB, sess api.Session, sub api.Subscription, d time.Duration, dir string) int {
	tb.Helper()
	f, err := os.CreateTemp(dir, "*.nitro")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	rec, err := record.NewRecorder(ctx, f, sess, record.Meta{}, func(err error) { tb.Errorf("reading the process table: %v", err) })
	if err != nil {
		tb.Fatal(err)
	}
	n := readFor(tb, sub, d, rec)
	if err := rec.Close(); err != nil {
		tb.Fatal(err)
	}
	if got := recordedCalls(tb, f.Name()); got != n {
		tb.Fatalf("%s holds %d calls of the %d read", f.Name(), got, n)
	}
	return n
}

// recordedCalls is how many calls the recording at path holds.
func recordedCalls(tb testing.TB, path string) int {
	tb.Helper()
	r, err := record.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	if r.Damage != nil {
		tb.Fatal(r.Damage)
	}
	n := 0
	for _, blk := range r.Blocks {
		n += blk.Events
	}
	return n
}

// BenchmarkRecordingSize records the light lab guest's every call for
// labRecordFor, as `nitro record --duration` does, and reports the file's
// size per call: what a recording of a real workload costs on disk, its
// process tables each second and its index included. A recorder ends a
// block each second, and each block opens with the process table (some
// 700 bytes compressed for the lab guest's 43 tasks), so the figure rises
// as a loaded host slows the guest: lab-events/s beside it says how fast
// the guest ran. Goal: lab-bytes/event <= 40.
func BenchmarkRecordingSize(b *testing.B) {
	const labRecordFor = 30 * time.Second
	lab.RequireRoot(b)
	var size int64
	calls := 0
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "lab.nitro")
		var stderr bytes.Buffer
		args := []string{"-o", path, "--duration", labRecordFor.String(), lab.Default.Name}
		if err := commands.Record(context.Background(), &core.Hypervisor{URI: lab.URI}, args, &stderr); err != nil {
			b.Fatalf("nitro record %v: %v\n%s", args, err, stderr.Bytes())
		}
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		size += st.Size()
		calls += recordedCalls(b, path)
	}
	b.ReportMetric(float64(calls)/(float64(b.N)*labRecordFor.Seconds()), "lab-events/s")
	b.ReportMetric(float64(size)/float64(calls), "lab-bytes/event")
}
