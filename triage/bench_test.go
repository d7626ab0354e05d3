package triage

import (
	"strconv"
	"testing"

	"nitro/api"
	"nitro/internal/cputime"
)

// BenchmarkRules is the cost per call of the built-in rules, state
// included, on one core: on the lab recording (a plain guest's mix, where
// most calls run no rule), and on a mix of only calls the rules judge or
// track (execs, opens for writing, sockets, connects, renames, closes).
// The goal (benchsum's triage-ns/event) is under 1 µs of CPU per call,
// so that rules never limit the stream; CPU time, not wall time, since a
// loaded host's waits for a core are not the rules' cost.
func BenchmarkRules(b *testing.B) {
	ps, labCalls := recorded(b, lab)
	g := newGuest()
	for i := range 100 {
		p := g.proc(1000+i, 1, "sh", 0).exec("/usr/bin/tool"+strconv.Itoa(i), "tool")
		p.call("openat", 3, "", openat("/var/tmp/out"+strconv.Itoa(i), oWrCreatTrunc, wrText)...)
		p.call("socket", 4, "", num(2, "AF_INET"), num(1, "SOCK_STREAM"), num(6, "IPPROTO_TCP"))
		p.call("connect", 0, "", fd(4), sockaddrIn("10.0.0.1", 80), num(16, ""))
		p.call("rename", 0, "", str("/var/tmp/out"+strconv.Itoa(i)), str("/var/tmp/done"+strconv.Itoa(i)))
		p.call("close", 0, "", fd(3))
		p.exit()
	}
	for _, mix := range []struct {
		name  string
		calls []api.Syscall
	}{{"lab", labCalls}, {"judged", g.calls}} {
		b.Run(mix.name, func(b *testing.B) {
			rs := Builtin()
			n := 0
			cpu0, err := cputime.Used()
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				e := New(rs)
				e.Seed(ps)
				for i := range mix.calls {
					e.Feed(&mix.calls[i])
				}
				n += len(mix.calls)
			}
			cpu, err := cputime.Used()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64((cpu-cpu0).Nanoseconds())/float64(n), "triage-ns/event")
		})
	}
}
