package e2e

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"nitro/core"
	"nitro/core/kvm/gdbstub"
	"nitro/core/kvm/rsp"
	"nitro/internal/lab"
)

// BenchmarkTaskListWalk reads every process and thread of the running 6.1
// lab guest from its memory, as `nitro ps` and the process tree do.
func BenchmarkTaskListWalk(b *testing.B) {
	lab.RequireRoot(b)
	g, err := core.OpenGuest(lab.URI, lab.Default.Name, core.Kernel{})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	var n int
	for b.Loop() {
		procs, err := g.Processes(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		n = len(procs)
	}
	b.ReportMetric(float64(n), "tasks")
}

// BenchmarkListenerVsRaw measures, in one run on the busy guest, stops per
// second of rawLoop at the syscall entry with its swapgs emulated, the least
// a debugger can do per stop, and events per second through the gdbstub
// listener, first stopping at the entry alone, as the raw loop does (their
// ratio is the listener's overhead), then at the entry and the exit, as
// nitro traces. One op is one stop of each; they take turns in rounds, so a
// change in the host's load weighs on all three. Goal: listener/raw >= 0.9.
func BenchmarkListenerVsRaw(b *testing.B) {
	b.StopTimer() // only the loops count: not booting the guest, not attaching
	g := busyGuest(b)
	entry, exit := syscallPoints(b, g)
	sock := gdbStub(b, g)
	var rawTime, entryTime, bothTime time.Duration
	var stats gdbstub.Stats
	listen := func(cfg gdbstub.Config, n int) time.Duration {
		l := dialListener(b, sock, cfg)
		d := timed(b, func() error { return listenerEvents(l, n) })
		st := l.Stats()
		stats.Events, stats.Steps, stats.Emulated = stats.Events+st.Events, stats.Steps+st.Steps, stats.Emulated+st.Emulated
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
		return d
	}
	for _, n := range rounds(b.N, 8) {
		raw := dialRaw(b, sock, entry)
		step, err := raw.swapgsStep()
		if err != nil {
			b.Fatal(err)
		}
		rawTime += timed(b, func() error { return raw.stops(n, step) })
		if err := raw.close(); err != nil {
			b.Fatal(err)
		}
		entryTime += listen(gdbstub.Config{SyscallEntry: entry}, n)
		bothTime += listen(gdbstub.Config{SyscallEntry: entry, SyscallExit: exit}, n)
	}
	perSecond := func(d time.Duration) float64 { return float64(b.N) / d.Seconds() }
	b.ReportMetric(perSecond(rawTime), "raw-stops/s")
	b.ReportMetric(perSecond(entryTime), "listener-entry-events/s")
	b.ReportMetric(perSecond(bothTime), "listener-events/s")
	b.ReportMetric(rawTime.Seconds()/entryTime.Seconds(), "listener/raw")
	b.Logf("listener: %d events, %d stepped over by emulation, %d by a single step", stats.Events, stats.Emulated, stats.Steps)
}

// rounds splits n into at most k nonzero parts.
func rounds(n, k int) []int {
	var parts []int
	for i := range k {
		p := n / k
		if i < n%k {
			p++
		}
		if p > 0 {
			parts = append(parts, p)
		}
	}
	return parts
}

// timed runs f with the benchmark timer on and returns how long it took.
func timed(b *testing.B, f func() error) time.Duration {
	b.StartTimer()
	start := time.Now()
	err := f()
	d := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkRawStopLoop compares the two ways rawLoop steps over the
// breakpoint at the syscall entry on the busy guest: a real single step, or
// emulating the swapgs there. One op is one stop.
func BenchmarkRawStopLoop(b *testing.B) {
	g := busyGuest(b)
	entry, _ := syscallPoints(b, g)
	sock := gdbStub(b, g)
	for _, v := range []struct {
		name string
		step func(*rawLoop) (stepOver, error)
	}{
		{"single-step", func(r *rawLoop) (stepOver, error) { return r.singleStep, nil }},
		{"emulated-swapgs", (*rawLoop).swapgsStep},
	} {
		b.Run(v.name, func(b *testing.B) {
			raw := dialRaw(b, sock, entry)
			step, err := v.step(raw)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for b.Loop() {
				if err := raw.stops(1, step); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "stops/s")
			if err := raw.close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkRSPRoundTrip: one op is one register read (`g`) from the
// stopped busy guest, the protocol's own cost per round trip.
func BenchmarkRSPRoundTrip(b *testing.B) {
	g := busyGuest(b)
	sock := gdbStub(b, g)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rsp.Dial(ctx, sock, nil) // QEMU stops the VM for its client
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := errors.Join(c.Detach(), c.Close()); err != nil {
			b.Error(err)
		}
	}()
	for b.Loop() {
		if _, err := c.ReadRegisters(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBusyGuestRate compares the busy guest's own system call rate,
// from its serial console, untraced and with nitro attached stopping only
// at a call the guest never makes: what being attached costs a guest that
// is not stopped. A bare gdb client holding the same breakpoints, and doing
// nothing else, is the third column: what QEMU itself charges for being
// attached, which nitro cannot lower. The host's load moves the rate a lot
// from one second to the next, so one op takes turns, rateRounds times,
// rateSeconds each, and the medians are reported.
// Goal: traced/untraced >= 0.9.
func BenchmarkBusyGuestRate(b *testing.B) {
	const rateRounds, rateSeconds = 3, 3
	g := busyGuest(b)
	handlers := openatHandlers(b, g)
	sock := gdbStub(b, g)
	var untraced, bare, traced []float64
	for b.Loop() {
		for range rateRounds {
			untraced = append(untraced, busyRates(b, rateSeconds)...)
			bare = append(bare, bareRates(b, sock, handlers, rateSeconds)...)
			traced = append(traced, tracedRates(b, rateSeconds)...)
		}
	}
	b.Logf("per-second rates untraced %.0f, bare gdb client %.0f, traced %.0f", untraced, bare, traced)
	u, c, t := median(untraced), median(bare), median(traced)
	b.ReportMetric(u, "untraced-calls/s")
	b.ReportMetric(c, "bare-attached-calls/s")
	b.ReportMetric(t, "traced-calls/s")
	b.ReportMetric(t/u, "traced/untraced")
	b.ReportMetric(t/c, "traced/bare")
}

// openatHandlers are the guest's openat handlers, where tracedRates stops.
func openatHandlers(tb testing.TB, g lab.Guest) []uint64 {
	tb.Helper()
	guest, err := core.OpenGuest(lab.URI, g.Name, core.Kernel{})
	if err != nil {
		tb.Fatal(err)
	}
	defer guest.Close()
	var syms bytes.Buffer
	if err := guest.WriteSymbols(&syms); err != nil {
		tb.Fatal(err)
	}
	var addrs []uint64
	for line := range strings.Lines(syms.String()) {
		f := strings.Fields(line)
		if len(f) == 3 && (f[2] == "__x64_sys_openat" || f[2] == "__ia32_compat_sys_openat") {
			a, err := strconv.ParseUint(f[0], 16, 64)
			if err != nil {
				tb.Fatal(err)
			}
			addrs = append(addrs, a)
		}
	}
	if len(addrs) != 2 {
		tb.Fatalf("found %d openat handlers, want 2", len(addrs))
	}
	return addrs
}

// bareRates attaches a gdb client that only sets breakpoints at addrs and
// lets the guest run, and returns the guest's next n per-second rates.
func bareRates(tb testing.TB, sock string, addrs []uint64, n int) []float64 {
	tb.Helper()
	r := dialRaw(tb, sock, addrs[0]) // QEMU stops the guest for its client
	for _, a := range addrs[1:] {
		if err := r.c.InsertBreakpoint(rsp.Software, a); err != nil {
			tb.Fatal(err)
		}
	}
	if err := r.c.Continue(); err != nil {
		tb.Fatal(err)
	}
	rates := busyRates(tb, n)
	if err := r.close(); err != nil { // detached: QEMU drops every breakpoint
		tb.Fatal(err)
	}
	return rates
}
