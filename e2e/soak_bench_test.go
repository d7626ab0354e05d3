package e2e

import (
	"context"
	"errors"
	"io"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/core"
	"nitro/internal/lab"
	"nitro/themes"
	"nitro/ui"
	"nitro/ui/uitest"
)

// maxGrowth is how much nitro's memory may grow over a soak: the end level
// against the first minute's.
const maxGrowth = 1.1

// soakHistory is the rows the soak's TUI keeps: few enough that a traced TCG
// guest fills them in a minute or two, after which they are a fixed cost
// (the flood benchmark measures the full history's).
const soakHistory = 10_000

// BenchmarkSoak runs the TUI headless on the busy guest for NITRO_SOAK
// (default 3m, the short form `make bench` runs; `make soak` runs an hour),
// as nitro runs it: the real session, the TUI's own lossy subscription,
// its store, process snapshots each second and the renderer, output
// discarded. The clock starts once the TUI's history (soakHistory rows) is
// full, and this process's private memory (RssAnon) and live Go heap are
// sampled each minute. Goal: rss-end/first and heap-end/first <= 1.1; past
// it the benchmark fails.
func BenchmarkSoak(b *testing.B) {
	g := busyGuest(b)
	d := envDuration(b, "NITRO_SOAK", 3*time.Minute)
	if d < 2*time.Minute {
		b.Fatalf("NITRO_SOAK=%v: a soak needs two minutes at least, to compare the first with the last", d)
	}
	var s []memSample
	for b.Loop() {
		s = soak(b, g, d)
	}
	first, end := s[0], s[len(s)-1]
	for _, x := range s {
		b.Logf("%v: RssAnon %.1f MiB, heap %.1f MiB, %d events, %d dropped", x.at, inMiB(x.rssAnon), inMiB(x.heap), x.events, x.dropped)
	}
	rss, heap := float64(end.rssAnon)/float64(first.rssAnon), float64(end.heap)/float64(first.heap)
	b.ReportMetric(float64(end.events-first.events)/(end.at-first.at).Seconds(), "events/s")
	b.ReportMetric(inMiB(first.rssAnon), "rss-first-MiB")
	b.ReportMetric(inMiB(end.rssAnon), "rss-end-MiB")
	b.ReportMetric(rss, "rss-end/first")
	b.ReportMetric(inMiB(first.heap), "heap-first-MiB")
	b.ReportMetric(inMiB(end.heap), "heap-end-MiB")
	b.ReportMetric(heap, "heap-end/first")
	if rss > maxGrowth || heap > maxGrowth {
		b.Errorf("memory grew over %v: RssAnon %.2fx, heap %.2fx the first minute's (at most %.2fx)", d, rss, heap, maxGrowth)
	}
}

// memSample is nitro's memory at one point of a soak, and the session's
// counters then.
type memSample struct {
	at              time.Duration // since the clock started
	rssAnon, heap   uint64        // bytes
	events, dropped uint64
}

func inMiB(n uint64) float64 { return float64(n) / (1 << 20) }

// capture is a hypervisor that hands over the session the TUI attaches.
type capture struct {
	api.Hypervisor
	sessions chan api.Session
}

func (c capture) Attach(ctx context.Context, name string, o api.AttachOptions) (api.Session, error) {
	s, err := c.Hypervisor.Attach(ctx, name, o)
	if err == nil {
		c.sessions <- s
	}
	return s, err
}

// soak attaches the TUI to g, fills its history, then samples memory each
// minute for d.
func soak(tb testing.TB, g lab.Guest, d time.Duration) []memSample {
	tb.Helper()
	pal, err := themes.Lookup("dark")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hv := capture{Hypervisor: &core.Hypervisor{URI: lab.URI}, sessions: make(chan api.Session, 1)}
	m := ui.New(ctx, ui.Options{Hypervisor: hv, Domain: g.Name, Palette: pal, Keys: *uitest.Keys(), History: soakHistory})
	defer m.Close()
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(nil), tea.WithOutput(io.Discard))
	go p.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
	ran := make(chan error, 1)
	go func() {
		_, err := p.Run()
		ran <- err
	}()
	var sess api.Session
	select {
	case sess = <-hv.sessions:
	case err := <-ran:
		tb.Fatalf("the TUI ended before it attached: %v", err)
	case <-time.After(2 * time.Minute):
		tb.Fatal("the TUI did not attach in two minutes")
	}
	// The history fills first. A row is a call, its entry and exit.
	for warm := time.Now(); ; {
		st := sess.Stats()
		if st.Events-st.Dropped >= 2*soakHistory {
			break
		}
		if time.Since(warm) > 15*time.Minute {
			tb.Fatalf("the TUI's history did not fill in 15 minutes: %d events, %d dropped", st.Events, st.Dropped)
		}
		wait(tb, ran, time.Second)
	}
	var samples []memSample
	start := time.Now()
	for at := time.Minute; at <= d; at += time.Minute {
		wait(tb, ran, time.Until(start.Add(at)))
		s, err := sampleMem(sess, at)
		if err != nil {
			tb.Fatal(err)
		}
		if n := len(samples); n > 0 && s.events == samples[n-1].events {
			tb.Fatalf("no event in the minute up to %v", at)
		}
		samples = append(samples, s)
	}
	cancel()
	if err := <-ran; err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		tb.Fatalf("running the TUI: %v", err)
	}
	if err := m.Close(); err != nil {
		tb.Fatalf("detaching: %v", err)
	}
	return samples
}

// wait sleeps for d, failing if the TUI ends meanwhile.
func wait(tb testing.TB, ran <-chan error, d time.Duration) {
	tb.Helper()
	select {
	case err := <-ran:
		tb.Fatalf("the TUI ended during the soak: %v", err)
	case <-time.After(d):
	}
}

// sampleMem reads this process's private memory and live heap after a
// collection that also hands freed pages back to the kernel: otherwise
// RssAnon follows when the runtime's scavenger last ran (21-29 MiB from
// minute to minute in an hour's soak with a flat heap), not what nitro
// holds, Go's heap and C's (libvirt) alike.
func sampleMem(sess api.Session, at time.Duration) (memSample, error) {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, err := rssAnon("self")
	st := sess.Stats()
	return memSample{at: at, rssAnon: rss, heap: ms.HeapAlloc, events: st.Events, dropped: st.Dropped}, err
}
