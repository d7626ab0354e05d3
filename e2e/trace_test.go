package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"nitro/internal/lab"
)

// traceEvent is one JSON line of `nitro trace`.
type traceEvent struct {
	Seq       uint64
	Time      time.Time // the stop's, on the host
	VCPU      int
	Direction string
	ABI       string
	Nr        uint64
	Name      string
	PID, TID  int
	PPID      int
	Comm      string
	Args      []struct{ Raw, Text string }
	Ret       int64
	Errno     string
	Matched   bool
}

func (e traceEvent) arg(i int) string {
	if i < len(e.Args) {
		return e.Args[i].Text
	}
	return ""
}

// runTrace runs `nitro trace --format json` on g with extra flags and
// returns the events, after checking the guest still runs.
func runTrace(t *testing.T, g lab.Guest, flags ...string) []traceEvent {
	t.Helper()
	events := traceJSON(t, append(append([]string{"-c", lab.URI, "trace", "--format", "json"}, flags...), g.Name)...)
	requireRunning(t, g)
	return events
}

// runNitro runs nitro with args and returns what it printed on standard
// output.
func runNitro(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(nitroBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nitro %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// traceJSON runs nitro with args, a trace that prints JSON lines, and
// returns its events.
func traceJSON(t *testing.T, args ...string) []traceEvent {
	t.Helper()
	var events []traceEvent
	sc := bufio.NewScanner(bytes.NewReader(runNitro(t, args...)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e traceEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		events = append(events, e)
	}
	return events
}

// requireRunning checks the guest's workload goes on: its serial console
// shows a new iteration.
func requireRunning(t *testing.T, g lab.Guest) {
	t.Helper()
	size, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := g.WaitSerial(lab.Iteration, size, 30*time.Second); err != nil {
		t.Fatalf("guest stopped after nitro: %v", err)
	}
}

// probeCalls is what nitro-probe calls, in order (lab/guest/probe.c).
var probeCalls = []string{"getpid", "getppid", "openat", "read", "close", "openat", "write", "close",
	"openat", "unlink", "write", "exit_group"}

// TestTraceProbe traces the lab's nitro-probe on each guest and checks every
// call against what the program does and what it says on the console.
func TestTraceProbe(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) { traceProbe(t, g) })
	}
}

// traceProbe traces nitro-probe on g and checks its whole runs.
func traceProbe(t *testing.T, g lab.Guest) {
	// A run is 24 events (its execve's exit, 12 entries, 11 exits): 48
	// hold a whole one even when the trace starts in the middle of one.
	events := runTrace(t, g, "--comm", "nitro-probe", "--count", "48", "--duration", "3m")
	runs := probeRuns(events)
	for _, r := range runs {
		checkProbeRun(t, g, r.pid, r.enters, r.exits)
	}
	if len(runs) == 0 {
		t.Fatalf("no whole run of nitro-probe in %d events", len(events))
	}
}

// probeRun is one run of nitro-probe as a trace shows it: the entries of
// its calls, and their exits but execve's.
type probeRun struct {
	pid           int
	enters, exits []traceEvent
}

// probeRuns finds the whole runs of nitro-probe among events, in the order
// they started, leaving out a run cut by the start or end of the trace.
func probeRuns(events []traceEvent) []probeRun {
	byPID := map[int]*probeRun{}
	var started []*probeRun
	for _, e := range events {
		if e.Comm != "nitro-probe" { // before its execve, the child is its shell's
			continue
		}
		r := byPID[e.PID]
		if r == nil {
			r = &probeRun{pid: e.PID}
			byPID[e.PID] = r
			started = append(started, r)
		}
		if e.Direction == "enter" {
			r.enters = append(r.enters, e)
		} else if e.Name != "execve" {
			r.exits = append(r.exits, e)
		}
	}
	var runs []probeRun
	for _, r := range started {
		if len(r.enters) == len(probeCalls) && r.enters[0].Name == "getpid" {
			runs = append(runs, *r)
		}
	}
	return runs
}

// exitWant is what a traced call's exit must show.
type exitWant struct {
	args  []string // the arguments' texts, from the first
	ret   int64
	errno string
}

// checkExit checks the exit x of pid's call name, matched to its entry.
func checkExit(t *testing.T, pid int, x traceEvent, name string, w exitWant) {
	t.Helper()
	if x.Name != name || !x.Matched || x.Ret != w.ret || x.Errno != w.errno {
		t.Errorf("pid %d: exit %s matched=%v = %d %s; want %s = %d %s", pid, x.Name, x.Matched, x.Ret, x.Errno, name, w.ret, w.errno)
	}
	for j, a := range w.args {
		if x.arg(j) != a {
			t.Errorf("pid %d: %s argument %d is %s, want %s", pid, x.Name, j, x.arg(j), a)
		}
	}
}

func checkProbeRun(t *testing.T, g lab.Guest, pid int, enters, exits []traceEvent) {
	t.Helper()
	for i, e := range enters {
		if e.Name != probeCalls[i] {
			t.Fatalf("pid %d: call %d is %s, want %s", pid, i, e.Name, probeCalls[i])
		}
	}
	if len(exits) != len(probeCalls)-1 {
		var names []string
		for _, x := range exits {
			names = append(names, fmt.Sprintf("%s=%d(vcpu %d, matched %v)", x.Name, x.Ret, x.VCPU, x.Matched))
		}
		t.Fatalf("pid %d: %d exits, want %d: %v", pid, len(exits), len(probeCalls)-1, names)
	}
	wants := []exitWant{
		{nil, int64(pid), ""},
		{nil, int64(enters[0].PPID), ""},
		{[]string{"AT_FDCWD", `"/etc/nitro/probe-input"`, "O_RDONLY"}, 3, ""},
		{[]string{"3", `"nitro probe input\n"`, "128"}, 18, ""},
		{[]string{"3"}, 0, ""},
		{[]string{"AT_FDCWD", `"/tmp/nitro-probe-marker"`, "O_WRONLY|O_CREAT|O_TRUNC", "0644"}, 3, ""},
		{[]string{"3", `"nitro-probe marker\n"`, "19"}, 19, ""},
		{[]string{"3"}, 0, ""},
		{[]string{"AT_FDCWD", `"/nonexistent/nitro-probe"`, "O_RDONLY"}, -2, "ENOENT"},
		{[]string{`"/tmp/nitro-probe-marker"`}, 0, ""},
	}
	for i, w := range wants {
		checkExit(t, pid, exits[i], probeCalls[i], w)
	}
	// The guest's own word on its pid and parent, and on what each call returned.
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	out, err := probeOutputOf(log, "nitro-probe", pid)
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(fmt.Sprintf(`^nitro-probe: pid %d ppid (\d+) read 18 bytes: nitro probe input$`, pid)).FindStringSubmatch(out.line)
	if line == nil {
		t.Fatalf("pid %d printed %q", pid, out.line)
	}
	if ppid, _ := strconv.Atoi(line[1]); ppid != enters[0].PPID {
		t.Errorf("pid %d: nitro sees ppid %d, the guest %d", pid, enters[0].PPID, ppid)
	}
	last := exits[len(exits)-1]
	if !strings.HasPrefix(last.arg(1), `"nitro-probe: pid `+strconv.Itoa(pid)) || last.Ret != int64(out.written) {
		t.Errorf("pid %d: console write %s = %d, want %d", pid, last.arg(1), last.Ret, out.written)
	}
	checkResults(t, pid, exits[:len(exits)-1], out)
}

// probeOutput is what one run of a probe (nitro-probe, nitro-probe32)
// printed with its console write: a first line with its pid, parent and
// what it read, then the result of each call it made before, in order
// (lab/guest/probe.c).
type probeOutput struct {
	line    string        // the first line, without its end
	results []probeResult // as the probe got them, in call order
	written int           // bytes of the write: both lines with their "\n"
}

// probeResult is what one call returned to the probe; site names the call
// in the probe's source ("openat2", its second openat; "read").
type probeResult struct {
	site, name string
	ret        int64
}

// probeResultField is one "site=result"; a site is the call's name and,
// for a call made more than once, its number (no probe call's name ends in
// a digit).
var probeResultField = regexp.MustCompile(`^([a-z_]+?)(\d*)=(-?\d+)$`)

// probeOutputOf finds what prog printed as pid in the serial log: the last
// such output, as a pid the log shows twice (pids wrap) is the latest run.
func probeOutputOf(log, prog string, pid int) (probeOutput, error) {
	prefix := fmt.Sprintf("%s: pid %d ", prog, pid)
	lines := strings.Split(log, "\n")
	// The last piece has no end yet: it may be a line still being written.
	for i := len(lines) - 2; i >= 0; i-- {
		results, ok := strings.CutPrefix(strings.TrimSuffix(lines[i], "\r"), prefix+"results")
		if !ok {
			continue
		}
		out := probeOutput{written: len(prefix+"results"+results) + 1}
		for _, f := range strings.Fields(results) {
			m := probeResultField.FindStringSubmatch(f)
			if m == nil {
				return probeOutput{}, fmt.Errorf("%s pid %d: %q in its results line %q", prog, pid, f, lines[i])
			}
			ret, _ := strconv.ParseInt(m[3], 10, 64)
			out.results = append(out.results, probeResult{site: m[1] + m[2], name: m[1], ret: ret})
		}
		// The first line comes just before, unless the kernel's console
		// wrote between them.
		for j := i - 1; j >= 0 && j >= i-5; j-- {
			if first := strings.TrimSuffix(lines[j], "\r"); strings.HasPrefix(first, prefix) {
				out.line = first
				out.written += len(first) + 1
				return out, nil
			}
		}
		return probeOutput{}, fmt.Errorf("%s pid %d printed its results line %q without a first line", prog, pid, lines[i])
	}
	return probeOutput{}, fmt.Errorf("guest printed no results line for %s pid %d", prog, pid)
}

// checkResults checks that the exits nitro saw of pid's calls, in order,
// returned what the probe says it got back.
func checkResults(t *testing.T, pid int, exits []traceEvent, out probeOutput) {
	t.Helper()
	if len(exits) != len(out.results) {
		t.Errorf("pid %d: nitro saw %d exits before the console write, the probe printed %d results: %v", pid, len(exits), len(out.results), out.results)
		return
	}
	for i, r := range out.results {
		if x := exits[i]; x.Name != r.name || x.Ret != r.ret {
			t.Errorf("pid %d: exit %d is %s = %d, the probe got %s=%d", pid, i, x.Name, x.Ret, r.site, r.ret)
		}
	}
}

// TestTraceExecveFiltered stops only at execve (each guest runs every other
// call at full speed) and sees the programs the shell runs, with argv.
func TestTraceExecveFiltered(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) {
			events := runTrace(t, g, "--syscalls", "execve", "--duration", "12s")
			seen := map[string]bool{}
			for _, e := range events {
				if e.Name != "execve" {
					t.Fatalf("--syscalls execve let through %s", e.Name)
				}
				if e.Direction == "enter" {
					seen[e.arg(0)+" "+e.arg(1)] = true
				} else if e.Matched && e.Ret != 0 {
					t.Errorf("execve returned %d %s", e.Ret, e.Errno)
				}
			}
			for _, want := range []string{
				`"/bin/cat" ["/bin/cat", "/etc/nitro/probe-input"]`,
				`"/bin/ls" ["/bin/ls", "/"]`,
				`"/bin/nitro-probe" ["/bin/nitro-probe"]`,
				`"/bin/sleep" ["/bin/sleep", "1"]`,
			} {
				if !seen[want] {
					t.Errorf("no execve(%s) among %v", want, seen)
				}
			}
		})
	}
}

// TestEventsFromEveryVCPU checks that entries and exits arrive from every
// vCPU of each guest.
func TestEventsFromEveryVCPU(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) {
			events := runTrace(t, g, "--count", "600", "--duration", "2m")
			seen := map[string]int{}
			for _, e := range events {
				seen[fmt.Sprintf("vCPU %d %s", e.VCPU, e.Direction)]++
			}
			for cpu := range g.VCPUs {
				for _, dir := range []string{"enter", "exit"} {
					if k := fmt.Sprintf("vCPU %d %s", cpu, dir); seen[k] == 0 {
						t.Errorf("no %s events from vCPU %d in %d events: %v", dir, cpu, len(events), seen)
					}
				}
			}
			if len(seen) != 2*g.VCPUs {
				t.Errorf("events from vCPUs the guest does not have: %v", seen)
			}
		})
	}
}
