package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// goals are the figures with a target: at least this much, or with atMost
// at most.
var goals = []struct {
	unit   string
	target float64
	atMost bool
}{
	{"listener/raw", 0.9, false},         // gdbstub listener against a minimal stop loop
	{"traced/untraced", 0.9, false},      // a guest's own speed with nitro attached
	{"handled-events/cpu-s", 1e6, false}, // the Linux back end's work per event, one core
	{"vcpus-seen", 8, false},             // an eight-vCPU guest traced: calls from each vCPU
	{"unmatched-exits", 0, true},         // the same: exits not paired with their entry, edges aside
	{"rss-end/first", 1.1, true},         // a soak: private memory at the end against the first minute
	{"heap-end/first", 1.1, true},        // the same for the live Go heap
	{"ps-ms", 100, true},                 // `nitro ps` on a guest of 5,000 processes, milliseconds
	{"p99-frame-ms", 16, true},           // the TUI's frames with 5,000 processes: one per 60 Hz refresh
	{"recorded/unrecorded", 0.95, false}, // a traced guest's call rate recording to a file, against not
	{"lab-bytes/event", 40, true},        // a recording of the light lab guest: file bytes per call
	{"open-seek-ms", 200, true},          // opening a recording of a million calls at its middle call
	{"store-events/cpu-s", 1e6, false},   // a replay at full speed into the TUI's store, rendering
	{"attach-s", 1, true},                // attach to first event, on guests of 256 MiB to 64 GiB alike
	{"host-alloc-MiB", 64, true},         // what the host allocated for the guest's RAM across attaching
	{"rss-end-MiB", 100, true},           // nitro's private memory (RssAnon) at the end of a soak, TUI and all
	{"triage-ns/event", 1000, true},      // the built-in triage rules, state included: CPU per call
	{"healthy-dropped", 0, true},         // nitro serve: calls 19 reading SSH viewers missed beside a stalled one
	{"serve-rss-MiB", 300, true},         // the same: the server's peak resident memory, 20 viewers at 10,000 calls/s
	{"remote/local", 0.9, false},         // calls/s traced through a far nitro over SSH, against the same trace run locally
}

// metric is one "value unit" pair of a result line.
type metric struct {
	value float64
	unit  string
}

// result is one benchmark's line.
type result struct {
	pkg, name string
	metrics   []metric
}

// report is what the output holds.
type report struct {
	results []result
	fails   []string // FAIL and panic lines
}

// parse reads `go test -bench` output; lines it does not know are skipped.
func parse(r io.Reader) (report, error) {
	var rep report
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(line, "pkg: ")
		case strings.HasPrefix(line, "--- FAIL"), strings.HasPrefix(line, "FAIL"), strings.HasPrefix(line, "panic:"):
			rep.fails = append(rep.fails, line)
		case strings.HasPrefix(line, "Benchmark"):
			if res, ok := parseResult(line); ok {
				res.pkg = pkg
				rep.results = append(rep.results, res)
			}
		}
	}
	return rep, sc.Err()
}

// parseResult reads "BenchmarkName-2  N  v unit  v unit ...".
func parseResult(line string) (result, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return result{}, false // a log line, or a name alone before its result
	}
	if _, err := strconv.Atoi(f[1]); err != nil {
		return result{}, false
	}
	name := strings.TrimPrefix(f[0], "Benchmark")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i] // the GOMAXPROCS suffix
		}
	}
	res := result{name: name}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return result{}, false
		}
		res.metrics = append(res.metrics, metric{v, f[i+1]})
	}
	return res, true
}

// write prints the report.
func (rep report) write(w io.Writer) {
	pkg := ""
	for _, r := range rep.results {
		if r.pkg != pkg {
			pkg = r.pkg
			fmt.Fprintln(w, strings.TrimPrefix(pkg, "nitro/"))
		}
		var own, mem []string // the benchmark's own figures first
		perOp := ""
		for _, m := range r.metrics {
			switch m.unit {
			case "ns/op":
				perOp = duration(m.value)
			case "B/op", "allocs/op":
				mem = append(mem, number(m.value)+" "+m.unit)
			default:
				own = append(own, m.unit+" "+number(m.value))
			}
		}
		fmt.Fprintf(w, "  %-34s %10s/op  %s\n", r.name, perOp, strings.Join(append(own, mem...), "  "))
	}
	fmt.Fprintln(w, "goals")
	for _, g := range goals {
		found := false
		for _, r := range rep.results {
			for _, m := range r.metrics {
				if m.unit != g.unit {
					continue
				}
				found = true
				verdict, op := "met", ">="
				if g.atMost {
					op = "<="
				}
				if g.atMost && m.value > g.target || !g.atMost && m.value < g.target {
					verdict = "MISSED"
				}
				fmt.Fprintf(w, "  %-34s %-16s %6s (goal %s %s) %s\n", r.name, g.unit, number(m.value), op, number(g.target), verdict)
			}
		}
		if !found {
			fmt.Fprintf(w, "  %-34s %-16s not measured\n", "", g.unit)
		}
	}
	for _, f := range rep.fails {
		fmt.Fprintln(w, f)
	}
}

// duration prints nanoseconds with a unit that keeps three digits or so.
func duration(ns float64) string {
	for _, u := range []struct {
		name string
		size float64
	}{{"s", 1e9}, {"ms", 1e6}, {"µs", 1e3}} {
		if ns >= u.size {
			return strconv.FormatFloat(ns/u.size, 'f', 1, 64) + " " + u.name
		}
	}
	return strconv.FormatFloat(ns, 'f', 1, 64) + " ns"
}

// number prints a figure with k/M/G for large ones and about three
// significant digits.
func number(v float64) string {
	for _, u := range []struct {
		name string
		size float64
	}{{"G", 1e9}, {"M", 1e6}, {"k", 1e3}} {
		if v >= u.size {
			return strconv.FormatFloat(v/u.size, 'f', 1, 64) + u.name
		}
	}
	switch {
	case v == float64(int64(v)) || v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: benchsum FILE (the output of go test -bench)")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchsum:", err)
		os.Exit(1)
	}
	defer f.Close()
	rep, err := parse(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchsum:", err)
		os.Exit(1)
	}
	rep.write(os.Stdout)
	if len(rep.fails) > 0 {
		os.Exit(1)
	}
}
