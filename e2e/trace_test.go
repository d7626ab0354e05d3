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
	args := append([]string{"-c", lab.URI, "trace", "--format", "json"}, flags...)
	cmd := exec.Command(nitroBin, append(args, g.Name)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nitro %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	var events []traceEvent
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e traceEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		events = append(events, e)
	}
	requireRunning(t, g)
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
		t.Run(g.Name, func(t *testing.T) {
			// A run is 24 events (its execve's exit, 12 entries, 11 exits): 48
			// hold a whole one even when the trace starts in the middle of one.
			events := runTrace(t, g, "--comm", "nitro-probe", "--count", "48", "--duration", "3m")
			byPID := map[int][]traceEvent{}
			for _, e := range events {
				byPID[e.PID] = append(byPID[e.PID], e)
			}
			checked := 0
			for pid, evs := range byPID {
				var enters, exits []traceEvent
				for _, e := range evs {
					if e.Direction == "enter" {
						enters = append(enters, e)
					} else if e.Name != "execve" {
						exits = append(exits, e)
					}
				}
				if len(enters) != len(probeCalls) || enters[0].Name != "getpid" {
					continue // a run cut by the start or end of the trace
				}
				checkProbeRun(t, g, pid, enters, exits)
				checked++
			}
			if checked == 0 {
				t.Fatalf("no whole run of nitro-probe in %d events", len(events))
			}
		})
	}
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
	// The guest's own word on its pid and parent.
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(fmt.Sprintf(`(?m)^nitro-probe: pid %d ppid (\d+) read 18 bytes`, pid)).FindStringSubmatch(log)
	if line == nil {
		t.Fatalf("guest printed no line for pid %d", pid)
	}
	if ppid, _ := strconv.Atoi(line[1]); ppid != enters[0].PPID {
		t.Errorf("pid %d: nitro sees ppid %d, the guest %d", pid, enters[0].PPID, ppid)
	}
	last := exits[len(exits)-1]
	if !strings.HasPrefix(last.arg(1), `"nitro-probe: pid `+strconv.Itoa(pid)) || last.Ret != int64(len(line[0]))+int64(len(": nitro probe input\n")) {
		t.Errorf("pid %d: console write %s = %d", pid, last.arg(1), last.Ret)
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
