package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"nitro/ui/calls"
)

// The goals the report sets the figures against.
const (
	goalRSS   = 200 << 20 // bytes
	goalFrame = 16 * time.Millisecond
	goalKey   = 100 * time.Millisecond
)

// figures are the results of a headless run.
type figures struct {
	elapsed         time.Duration
	events, dropped uint64 // offered by the session; of them, dropped for want of room
	maxRSS          uint64 // bytes
	heapInuse       uint64 // bytes, at the end
	numGC           uint32
	gcPause         time.Duration
	t               timings
}

// spread summarizes durations against a goal.
type spread struct {
	n             int
	p50, p99, max time.Duration
	over          int // how many reach the goal or more
}

func spreadOf(ds []time.Duration, goal time.Duration) spread {
	if len(ds) == 0 {
		return spread{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p int) time.Duration { return s[(len(s)*p+99)/100-1] } // nearest rank
	under, _ := slices.BinarySearch(s, goal)                            // the first at the goal or above
	return spread{n: len(s), p50: rank(50), p99: rank(99), max: s[len(s)-1], over: len(s) - under}
}

func (s spread) String() string {
	if s.n == 0 {
		return "none measured"
	}
	return fmt.Sprintf("p50 %s  p99 %s  max %s", ms(s.p50), ms(s.p99), ms(s.max))
}

// verdict says whether every one met the goal.
func (s spread) verdict() string {
	switch {
	case s.n == 0:
		return "NOT MEASURED"
	case s.over == 0:
		return "met"
	}
	return fmt.Sprintf("MISSED by %d of %d", s.over, s.n)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// write prints the report, a figure a line with its goal and verdict.
func (f figures) write(w io.Writer, c config) {
	ring := c.history
	if ring <= 0 {
		ring = calls.DefaultLimit
	}
	frames := spreadOf(f.t.views, goalFrame)
	shown := spreadOf(f.t.toShown, goalKey)
	taken := f.events - f.dropped
	asked := float64(c.rate) * f.elapsed.Seconds()
	events := "met"
	if f.dropped > 0 || float64(taken) < 0.99*asked {
		events = "MISSED"
	}
	rss := "met"
	if f.maxRSS >= goalRSS {
		rss = "MISSED"
	}
	fmt.Fprintf(w, "flood: %d events/s in batches every %v, ring %d rows, %dx%d, a key every %v, for %v\n",
		c.rate, c.every, ring, screenW, screenH, c.keyEvery, f.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  events       %d offered of the %.0f asked, %d taken by the UI (%.0f/s), %d dropped  (goal: all taken) %s\n",
		f.events, asked, taken, float64(taken)/f.elapsed.Seconds(), f.dropped, events)
	fmt.Fprintf(w, "  peak RSS     %s; Go heap in use at the end %s, %d GCs pausing %s  (goal < %s) %s\n",
		mib(f.maxRSS), mib(f.heapInuse), f.numGC, ms(f.gcPause), mib(goalRSS), rss)
	fmt.Fprintf(w, "  frame time   %s over %d Views; %d frames written  (goal < %s) %s\n",
		frames, frames.n, f.t.writes, ms(goalFrame), frames.verdict())
	fmt.Fprintf(w, "  key latency  %s over %d of %d keys, Send to frame written  (goal < %s) %s\n",
		shown, shown.n, f.t.keys, ms(goalKey), shown.verdict())
	fmt.Fprintf(w, "               %s, Send to View returned (the renderer's tick left out)\n",
		spreadOf(f.t.toBuilt, goalKey))
	fmt.Fprintf(w, "  update time  %s over %d Updates (batches, ticks, keys; no goal of its own)\n",
		spreadOf(f.t.updates, goalFrame), len(f.t.updates))
}

// writeBench prints the figures as a `go test -bench` result, the form
// internal/benchsum reads.
func (f figures) writeBench(w io.Writer) {
	frames := spreadOf(f.t.views, goalFrame)
	shown := spreadOf(f.t.toShown, goalKey)
	msOf := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	fmt.Fprintln(w, "pkg: nitro/ui/uitest/flood")
	fmt.Fprintf(w, "BenchmarkFloodProgram 1 %d ns/op %.0f events/s %d dropped %.1f peak-RSS-MiB %.2f frame-p99-ms %.2f frame-max-ms %.2f key-p99-ms %.2f key-max-ms\n",
		f.elapsed.Nanoseconds(), float64(f.events-f.dropped)/f.elapsed.Seconds(), f.dropped,
		float64(f.maxRSS)/(1<<20), msOf(frames.p99), msOf(frames.max), msOf(shown.p99), msOf(shown.max))
}
