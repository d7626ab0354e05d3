package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: nitro/core/vmi/physmem
cpu: AMD EPYC
BenchmarkBulkRead-2   	      36	  33160284 ns/op	      4048 raw-MB/s	         0.9871 source/raw	      3996 source-MB/s	       0 B/op	       0 allocs/op
PASS
ok  	nitro/core/vmi/physmem	3.101s
pkg: nitro/e2e
BenchmarkListenerVsRaw-2   	     400	  13044770 ns/op	       200.5 listener-events/s	         1.512 listener/raw	       132.6 raw-stops/s
--- BENCH: BenchmarkListenerVsRaw-2
    bench_test.go:72: listener: 400 events
BenchmarkRawStopLoop/single-step-2         	     400	   7492266 ns/op	       133.5 stops/s
BenchmarkBusyGuestRate-2   	       1	23817291296 ns/op	   1202698 traced-calls/s	         0.8500 traced/untraced	   1100983 untraced-calls/s
BenchmarkRSPRoundTrip
--- FAIL: BenchmarkRSPRoundTrip
    stub_test.go:50: detaching nitro-lab-busy: domain is already running
FAIL
`

func TestParse(t *testing.T) {
	rep, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.results) != 4 {
		t.Fatalf("%d results, want 4: %+v", len(rep.results), rep.results)
	}
	r := rep.results[2]
	if r.pkg != "nitro/e2e" || r.name != "RawStopLoop/single-step" || len(r.metrics) != 2 ||
		r.metrics[0] != (metric{7492266, "ns/op"}) || r.metrics[1] != (metric{133.5, "stops/s"}) {
		t.Errorf("result %+v", r)
	}
	if len(rep.fails) != 2 || rep.fails[0] != "--- FAIL: BenchmarkRSPRoundTrip" {
		t.Errorf("fails %q", rep.fails)
	}
}

func TestReport(t *testing.T) {
	rep, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.write(&b)
	out := b.String()
	for _, want := range []string{
		"core/vmi/physmem\n  BulkRead ",
		"33.2 ms/op  raw-MB/s 4.0k  source/raw 0.99  source-MB/s 4.0k  0 B/op  0 allocs/op\n",
		"e2e\n  ListenerVsRaw ",
		"listener/raw       1.51 (goal >= 0.90) met\n",
		"traced/untraced    0.85 (goal >= 0.90) MISSED\n",
		"23.8 s/op  traced-calls/s 1.2M",
		"--- FAIL: BenchmarkRSPRoundTrip\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestAtMostGoal(t *testing.T) {
	reportHas(t, `pkg: nitro/e2e
BenchmarkEightVCPUs-2   	       1	120000000000 ns/op	         2.000 unmatched-exits	         8.000 vcpus-seen
BenchmarkSoak-2   	       1	300000000000 ns/op	         1.020 rss-end/first	         1.300 heap-end/first
`,
		"unmatched-exits       2 (goal <= 0) MISSED\n",
		"vcpus-seen            8 (goal >= 8) met\n",
		"rss-end/first      1.02 (goal <= 1.10) met\n",
		"heap-end/first     1.30 (goal <= 1.10) MISSED\n",
	)
}

// reportHas fails t for each of wants that the report of out lacks.
func reportHas(t *testing.T, out string, wants ...string) {
	t.Helper()
	rep, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.write(&b)
	for _, want := range wants {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// TestRecordingGoals: the recording and replay figures, from the three
// packages that measure them, against their goals.
func TestRecordingGoals(t *testing.T) {
	reportHas(t, `pkg: nitro/e2e
BenchmarkRecordOverhead-2   	       1	26000000000 ns/op	      1200 unrecorded-events/s	      1100 recorded-events/s	         0.9167 recorded/unrecorded	         0 dropped
BenchmarkRecordingSize-2   	       1	30000000000 ns/op	       310.0 lab-events/s	        27.50 lab-bytes/event
pkg: nitro/replay
BenchmarkOpenSeek-2   	     300	  17000000 ns/op	        17.00 open-seek-ms
pkg: nitro/ui
BenchmarkReplay-2   	       5	 800000000 ns/op	   1600000 store-events/cpu-s	   1250000 store-events/s	       200.0 views/s
`,
		"RecordOverhead                     recorded/unrecorded   0.92 (goal >= 0.95) MISSED\n",
		"RecordingSize                      lab-bytes/event    27.5 (goal <= 40) met\n",
		"OpenSeek                           open-seek-ms         17 (goal <= 200) met\n",
		"Replay                             store-events/cpu-s   1.6M (goal >= 1.0M) met\n",
	)
}

func TestGoalNotMeasured(t *testing.T) {
	var b strings.Builder
	report{}.write(&b)
	if n := strings.Count(b.String(), "not measured"); n != len(goals) {
		t.Errorf("%d goals not measured, want %d:\n%s", n, len(goals), b.String())
	}
}

// FuzzParse: whatever go test printed, parse and write give a report, never a panic.
func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("BenchmarkX-2 1 NaN ns/op\nBenchmark-x 1 2 3\npkg: \n")
	f.Fuzz(func(t *testing.T, s string) {
		rep, err := parse(strings.NewReader(s))
		if err != nil {
			return // a line over the scanner's limit
		}
		var b strings.Builder
		rep.write(&b)
	})
}
