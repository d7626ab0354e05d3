package e2e

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"nitro/internal/lab"
)

// many keeps 5,000 processes asleep (LAB_WORKLOAD=many, in 1 GiB of RAM),
// and says how many it made on its console.
var many = &onDemand{Guest: lab.Guest{Name: "nitro-many", Kernel: "6.1", VCPUs: 1, Workload: "many", Vendor: "AMD"}}

var manyAlive = regexp.MustCompile(`^nitro-lab: many (\d+) alive`)

// BenchmarkPs5000 runs `nitro ps --json` on the guest with 5,000 sleeping
// processes, as a person would: a new nitro each time, which finds the
// kernel again before it walks the task list. Each run must list every
// process the guest made. Goal: ps-ms (a run's wall time) under 100.
func BenchmarkPs5000(b *testing.B) {
	g := many.up(b)
	m, _, err := g.WaitSerial(manyAlive, 0, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	want, _ := strconv.Atoi(m[1])
	var procs int
	for b.Loop() {
		out, err := exec.Command(nitroBin, "-c", lab.URI, "ps", "--json", g.Name).Output()
		if err != nil {
			b.Fatalf("nitro ps: %v", err)
		}
		var got []struct{ Comm string }
		if err := json.Unmarshal(out, &got); err != nil {
			b.Fatalf("nitro ps --json: %v", err)
		}
		sleepers := 0
		for _, p := range got {
			if p.Comm == "nitro-many" {
				sleepers++
			}
		}
		if sleepers != want {
			b.Fatalf("nitro ps lists %d nitro-many processes, the guest made %d", sleepers, want)
		}
		procs = len(got)
	}
	b.ReportMetric(float64(procs), "processes")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ps-ms")
}
