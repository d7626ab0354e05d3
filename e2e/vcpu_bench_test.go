package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"nitro/api"
	"nitro/core"
	"nitro/internal/lab"
)

// smp8 is BenchmarkEightVCPUs's guest: eight vCPUs, and the workload
// NITRO_BENCH_SMP_WORKLOAD. The default, light, forks short processes, which
// the kernel spreads over the vCPUs and moves between them; busy's one
// thread never sleeps, so it stays on one vCPU.
var smp8 = &onDemand{Guest: lab.Guest{Name: "nitro-smp8", Kernel: "6.1", VCPUs: 8, Workload: envOr("NITRO_BENCH_SMP_WORKLOAD", "light"), Vendor: "AMD"}}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envDuration reads a duration from the environment, def when unset.
func envDuration(tb testing.TB, name string, def time.Duration) time.Duration {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		tb.Fatalf("%s=%q: want a positive duration such as 10m", name, v)
	}
	return d
}

// BenchmarkEightVCPUs traces every call of the eight-vCPU guest for
// NITRO_BENCH_SMP_FOR (default 10m) and checks the stream against what a
// guest's calls must look like: every vCPU makes calls, and every exit is
// paired with its own thread's entry, wherever the thread ran in between.
// Only the edges may break the rule: an exit whose thread's entry came
// before attach. Goals: vcpus-seen 8, unmatched-exits 0.
func BenchmarkEightVCPUs(b *testing.B) {
	g := smp8.up(b)
	d := envDuration(b, "NITRO_BENCH_SMP_FOR", 10*time.Minute)
	start, err := g.SerialSize()
	if err != nil {
		b.Fatal(err)
	}
	var p *pairs
	for b.Loop() {
		p = traceFor(b, g, d)
	}
	if err := unharmed(g, start); err != nil {
		b.Error(err)
	}
	b.ReportMetric(float64(p.events), "events")
	b.ReportMetric(float64(p.events)/d.Seconds(), "events/s")
	b.ReportMetric(float64(p.unmatched), "unmatched-exits")
	b.ReportMetric(float64(p.mispaired), "mispaired-exits")
	b.ReportMetric(float64(len(p.perVCPU)), "vcpus-seen")
	b.ReportMetric(float64(p.migrations), "migrations")
	b.ReportMetric(float64(p.midCall), "mid-call-migrations")
	b.Logf("%s, %s workload, %v: events per vCPU %v; %d threads; edges: %d exits entered before attach, %d calls in flight at the end; %d exits lost (an entry followed by the thread's next entry)",
		g.Name, g.Workload, d, p.perVCPU, len(p.threads), p.edgeExits, p.inFlight(), p.lostExits)
	for _, e := range p.examples {
		b.Log(e)
	}
	if n := len(p.perVCPU); n != g.VCPUs {
		b.Errorf("calls came from %d vCPUs %v, want all %d", n, p.perVCPU, g.VCPUs)
	}
	if p.unmatched+p.mispaired > 0 {
		b.Errorf("%d exits unmatched beyond the edges, %d paired with no entry of their thread", p.unmatched, p.mispaired)
	}
}

// traceFor traces every call of g for d through a lossless subscription,
// so that no call escapes the check.
func traceFor(tb testing.TB, g lab.Guest, d time.Duration) *pairs {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	sess, err := core.Attach(ctx, lab.URI, g.Name, core.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer sess.Close()
	sub := sess.Subscribe(1<<16, api.Lossless)
	done := make(chan error, 1)
	go func() { done <- sess.Run(ctx) }()
	p := newPairs(g.VCPUs)
	for batch := range sub.C() {
		for i := range batch {
			p.add(&batch[i])
		}
	}
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	if err := sess.Close(); err != nil {
		tb.Fatal(err)
	}
	if st := sess.Stats(); st.DecodeErrors > 0 {
		tb.Errorf("%d events could not be decoded", st.DecodeErrors)
	}
	return p
}

// pairs follows each thread's calls through the stream, as the guest made
// them: a thread is in one call at a time, so its exit belongs to its last
// entry.
type pairs struct {
	vcpus   int
	events  uint64
	perVCPU map[int]uint64
	threads map[int]*threadState // by TID
	// edgeExits are unmatched exits that were their thread's first event:
	// calls entered before attach.
	edgeExits uint64
	// unmatched are the other unmatched exits: their entry was in the stream.
	unmatched uint64
	// mispaired are exits nitro matched that do not follow an entry of
	// their thread, or follow one of another call.
	mispaired uint64
	// lostExits are entries followed by their thread's next entry.
	lostExits uint64
	// migrations count a thread's consecutive events on different vCPUs;
	// midCall those between a call's entry and its exit.
	migrations, midCall uint64
	examples            []string // the first few faults, for the log
}

type threadState struct {
	vcpu  int
	entry *api.Syscall // the call under way, nil between calls
}

func newPairs(vcpus int) *pairs {
	return &pairs{vcpus: vcpus, perVCPU: make(map[int]uint64), threads: make(map[int]*threadState)}
}

const maxExamples = 5

func (p *pairs) fault(what string, c *api.Syscall) {
	if len(p.examples) < maxExamples {
		p.examples = append(p.examples, fmt.Sprintf("%s: seq %d vCPU %d tid %d %s %s", what, c.Seq, c.VCPU, c.Process.TID, c.Direction, api.CallText(c, api.Whole)))
	}
}

func (p *pairs) add(c *api.Syscall) {
	p.events++
	p.perVCPU[c.VCPU]++
	if c.VCPU < 0 || c.VCPU >= p.vcpus {
		p.fault("an event of no vCPU of the guest", c)
	}
	t, seen := p.threads[c.Process.TID]
	if !seen {
		t = &threadState{vcpu: c.VCPU}
		p.threads[c.Process.TID] = t
	}
	if t.vcpu != c.VCPU {
		p.migrations++
		if c.IsExit() && t.entry != nil {
			p.midCall++
		}
		t.vcpu = c.VCPU
	}
	if !c.IsExit() {
		if t.entry != nil {
			p.lostExits++
			p.fault("an entry while the thread's last call had not returned", c)
		}
		if !c.NoReturn() {
			e := *c
			t.entry = &e
		}
		return
	}
	entry := t.entry
	t.entry = nil
	switch {
	case !c.Matched && !seen:
		p.edgeExits++
	case !c.Matched:
		p.unmatched++
		p.fault("unmatched exit", c)
	case entry == nil || !sameCall(entry, c):
		p.mispaired++
		p.fault("exit matched to no entry of its thread", c)
	}
}

// sameCall says whether exit is entry's return: the back end gives an exit
// its entry's number and arguments' raw values.
func sameCall(entry, exit *api.Syscall) bool {
	return entry.ABI == exit.ABI && entry.Nr == exit.Nr &&
		slices.EqualFunc(entry.Args, exit.Args, func(a, b api.Arg) bool { return a.Raw == b.Raw })
}

// inFlight counts the calls entered and not yet returned: the end's edge.
func (p *pairs) inFlight() int {
	n := 0
	for _, t := range p.threads {
		if t.entry != nil {
			n++
		}
	}
	return n
}
