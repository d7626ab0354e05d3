package e2e

import (
	"testing"

	"nitro/core"
	"nitro/internal/lab"
)

// BenchmarkTaskListWalk reads every process and thread of the running 6.1
// lab guest from its memory, as `nitro ps` and the process tree do.
func BenchmarkTaskListWalk(b *testing.B) {
	lab.RequireRoot(b)
	g, err := core.OpenGuest(lab.URI, lab.Default.Name)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	var n int
	for b.Loop() {
		procs, err := g.Processes()
		if err != nil {
			b.Fatal(err)
		}
		n = len(procs)
	}
	b.ReportMetric(float64(n), "tasks")
}
