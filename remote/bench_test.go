package remote

import (
	"testing"

	"nitro/api"
	"nitro/internal/cputime"
	"nitro/ui/uitest"
)

// BenchmarkStream is the protocol's cost per call on one host: batches of
// the synthetic stream through an agent and a client over a pipe, encoded,
// decoded and handed to a reader; and the bytes per call on the link
// before SSH compresses them. cpu-ns/event is the CPU both sides spent
// (and the fake session's), which the host's load does not move.
func BenchmarkStream(b *testing.B) {
	const batch = 1000
	fake, s, sub, out, _ := attached(b, api.AttachOptions{})
	defer s.Close()
	calls := uitest.Stream(1, batch)
	n := 0
	cpu0, err := cputime.Used()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		fake.Send(calls)
		n += len(<-sub.C())
	}
	cpu1, err := cputime.Used()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(n), "cpu-ns/event")
	b.ReportMetric(float64(out.Len())/float64(n), "wire-bytes/event")
}
