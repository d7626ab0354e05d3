package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"nitro/internal/lab"
	"nitro/record"
)

// probeDone is nitro-probe's last console line, written by its last call
// but exit_group.
var probeDone = regexp.MustCompile(`^nitro-probe: pid (\d+) results `)

// recorded reads the recording at path back with `nitro trace --from`.
func recorded(t *testing.T, path string) []traceEvent {
	t.Helper()
	return traceJSON(t, "trace", "--from", path, "--format", "json")
}

// probeRunOf is the whole run of pid among runs.
func probeRunOf(t *testing.T, runs []probeRun, pid int) probeRun {
	t.Helper()
	for _, r := range runs {
		if r.pid == pid {
			return r
		}
	}
	t.Fatalf("the recording lacks the whole run of nitro-probe pid %d; it has %d others", pid, len(runs))
	return probeRun{}
}

// tracedIteration bounds a wait for the light workload's next probe run
// while nitro traces every call: an iteration that runs the guest's strace
// steps takes a traced guest over a minute (60-70 s measured on nitro-lab).
const tracedIteration = 3 * time.Minute

// probesAfter waits for n runs of nitro-probe that start after the serial
// log's offset from, and for the iteration of the last one to end; it
// returns their pids. Every call of theirs was made over a second before
// that end (the workload sleeps a second), long enough for nitro to have
// handed it over (core.BatchInterval).
func probesAfter(t *testing.T, g lab.Guest, from, n int) []int {
	t.Helper()
	_, pos, err := g.WaitSerial(lab.Iteration, from, tracedIteration) // the runs after it start after from
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for range n {
		m, at, err := g.WaitSerial(probeDone, pos, tracedIteration)
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(m[1])
		pids = append(pids, pid)
		if _, pos, err = g.WaitSerial(lab.Iteration, at, tracedIteration); err != nil {
			t.Fatal(err)
		}
	}
	return pids
}

// probeSoon waits for a moment the light workload's next probe run is a
// few seconds away: after its strace run ends, on a guest whose workload
// has one, else after an iteration line.
func probeSoon(t *testing.T, g lab.Guest) {
	t.Helper()
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	next := lab.Iteration
	if strings.Contains(log, "nitro-lab: strace begin") {
		next = regexp.MustCompile(`^nitro-lab: strace end$`)
	}
	if _, _, err := g.WaitSerial(next, len(log), tracedIteration); err != nil {
		t.Fatal(err)
	}
}

// rowSeq is the seq the inspector shows for events[i]: that of its
// call's entry, where the pane's row begins.
func rowSeq(events []traceEvent, i int) uint64 {
	if events[i].Direction == "exit" {
		for j := i - 1; j >= 0; j-- {
			if e := events[j]; e.TID == events[i].TID {
				if e.Direction == "enter" && e.Name == events[i].Name {
					return e.Seq
				}
				break
			}
		}
	}
	return events[i].Seq
}

// gone waits until the program in tm's terminal has ended.
func (tm *tmux) gone(timeout time.Duration) {
	tm.t.Helper()
	for deadline := time.Now().Add(timeout); exec.Command("tmux", "has-session", "-t", tm.session).Run() == nil; {
		if time.Now().After(deadline) {
			tm.t.Fatalf("nitro did not quit; screen:\n%s", tm.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRecordReplay records the 6.1 lab guest for 20 s with nitro record,
// checks the first run of nitro-probe in the recording against what the
// probe printed, and replays the file in the TUI: a jump to the probe's
// first openat shows that call, its process and the fd the probe got;
// a step forward and back, and a break on openat, stop where the recording
// says.
func TestRecordReplay(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	path := filepath.Join(t.TempDir(), "lab.nitro")
	probeSoon(t, g)
	out, err := exec.Command(nitroBin, "-c", lab.URI, "record", "-o", path, "--duration", "20s", g.Name).CombinedOutput()
	if err != nil || !regexp.MustCompile(`recorded \d+ calls of `+g.Name+` in `).Match(out) {
		t.Fatalf("nitro record: %v\n%s", err, out)
	}
	requireRunning(t, g)
	events := recorded(t, path)
	runs := probeRuns(events)
	if len(runs) == 0 {
		t.Fatalf("no whole run of nitro-probe in %d recorded events", len(events))
	}
	run := runs[0]
	checkProbeRun(t, g, run.pid, run.enters, run.exits)
	tm, at := replayAtOpen(t, g, path, events, run)
	open := events[at]

	// '.' plays the next recorded call; ',' goes back.
	next := events[at+1]
	tm.keys(".")
	tm.waitFor(fmt.Sprintf(`(?s)%s\s+nr %d\s+seq %d\s.*\| seq %d @`, next.Name, next.Nr, rowSeq(events, at+1), next.Seq), 10*time.Second)
	tm.keys(",")
	tm.waitFor(fmt.Sprintf(`(?s)openat\s+nr 257\s+seq %d\s.*\| seq %d @`, run.enters[2].Seq, open.Seq), 10*time.Second)

	// A break on openat (the selected row's call) stops the playback at the
	// next openat the recording has.
	held := at + 1
	for events[held].Name != "openat" || events[held].Direction != "enter" {
		held++
	}
	tm.keys("b")
	tm.waitFor(`\| break openat`, 10*time.Second)
	tm.keys("p")
	tm.waitFor(fmt.Sprintf(`(?s)HELD.*openat\s+nr 257\s+seq %d\s.*%s`, events[held].Seq, regexp.QuoteMeta(events[held].arg(1))), 30*time.Second)

	tm.keys("q")
	tm.gone(10 * time.Second)
}

// replayAtOpen opens the recording at path in the TUI, at full speed,
// jumps to the exit of run's first openat and checks what the screen
// shows against the probe's own words: the pane's row with the fd it got,
// the inspector, the process tree as it was then. It returns the TUI and
// the index of that exit in events.
func replayAtOpen(t *testing.T, g lab.Guest, path string, events []traceEvent, run probeRun) (*tmux, int) {
	t.Helper()
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	probe, err := probeOutputOf(log, "nitro-probe", run.pid)
	if err != nil {
		t.Fatal(err)
	}
	fd := probe.results[2].ret // openat1, the guest's own word
	open := run.exits[2]
	at := 0
	for events[at].Seq != open.Seq {
		at++
	}
	tm := startTmux(t, nitroBin+" --theme none replay --speed 0 "+path)
	last := events[len(events)-1].Seq
	tm.waitFor(fmt.Sprintf(`REPLAY %s \| seq %d @\S+ of %d calls`, regexp.QuoteMeta(filepath.Base(path)), last, len(events)), time.Minute)
	// Room for the process tree: the recording's first snapshot lists the
	// kernel's threads too.
	if out, err := exec.Command("tmux", "resize-window", "-t", tm.session, "-x", "160", "-y", "60").CombinedOutput(); err != nil {
		t.Fatalf("tmux resize-window: %v\n%s", err, out)
	}
	// ':' jumps to the seq of the probe's first openat's exit.
	tm.keys(":")
	tm.waitFor(`jump to \(seq`, 10*time.Second)
	tm.keys(strconv.FormatUint(open.Seq, 10), "Enter")
	tm.waitFor(fmt.Sprintf(`\| seq %d @`, open.Seq), 30*time.Second)
	pid := strconv.Itoa(run.pid)
	for _, re := range []string{
		// the pane's last row, the position
		fmt.Sprintf(`%s nitro-probe\s+openat\(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY\) = %d\s*\nProcesses`, pid, fd),
		// the inspector: the call, its process and the fd
		fmt.Sprintf(`openat\s+nr 257\s+seq %d\s`, run.enters[2].Seq),
		fmt.Sprintf(`pid %s\s+tid %s\s+ppid %d\s+uid 0\s+comm "nitro-probe"`, pid, pid, run.enters[0].PPID),
		fmt.Sprintf(`ret\s+%d\s+in `, fd),
		// the process tree as it was then
		fmt.Sprintf(`(?m)^\s+%s\s+\d+\s+nitro-probe\s`, pid),
	} {
		tm.waitFor(re, 10*time.Second)
	}
	return tm, at
}

// TestRecordFromTUI records the 6.1 lab guest with the TUI's record key
// while two runs of nitro-probe start and end, and reads the file back:
// both runs are in it, as the probe printed them, and it replays in the
// TUI as nitro record's recordings do.
func TestRecordFromTUI(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dir := t.TempDir()
	tm := startTmux(t, "cd "+dir+" && exec "+nitroBin+" -c "+lab.URI+" --theme none --domain "+g.Name)
	tm.waitFor(`Syscalls \d+`, time.Minute)
	tm.waitFor(`(?m)^\s+\d+\s+\d+\s+\S+\s+\S+\s+.*\(.*\)`, time.Minute) // a call row
	tm.keys("R")
	tm.waitFor(`\| REC `+g.Name+`-\d{8}-\d{6}\.nitro \|`, 30*time.Second)
	pids := probesAfter(t, g, serialSize(t, g), 2)
	tm.keys("R")
	m := regexp.MustCompile(`recorded (\d+) calls in (\S+\.nitro)`).FindStringSubmatch(tm.waitFor(`recorded \d+ calls in `, 30*time.Second))
	tm.keys("q")
	tm.gone(30 * time.Second)
	requireRunning(t, g)

	path := filepath.Join(dir, m[2])
	f, err := record.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Damage != nil {
		t.Errorf("the recording was not closed whole: %v", f.Damage)
	}
	events := recorded(t, path)
	if strconv.Itoa(len(events)) != m[1] {
		t.Errorf("the TUI said it recorded %s calls; the file holds %d", m[1], len(events))
	}
	runs := probeRuns(events)
	for _, pid := range pids {
		r := probeRunOf(t, runs, pid)
		checkProbeRun(t, g, pid, r.enters, r.exits)
	}
	// The TUI's recording replays like nitro record's.
	tm, _ = replayAtOpen(t, g, path, events, probeRunOf(t, runs, pids[0]))
	tm.keys("q")
	tm.gone(10 * time.Second)
}

// TestRecordKilled kills nitro record with SIGKILL once a run of
// nitro-probe is in the file: the file opens, says it is truncated, and
// holds that run up to its last whole block; the guest runs on with no
// breakpoint left.
func TestRecordKilled(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)
	path := filepath.Join(t.TempDir(), "killed.nitro")
	cmd := exec.Command(nitroBin, "-c", lab.URI, "record", "-o", path, g.Name)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 { // attached: the header is written
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nitro record wrote no header in a minute")
		}
	}
	pid := probesAfter(t, g, serialSize(t, g), 1)[0]
	// A block is written whole once a second: wait for the one with the
	// probe's last call.
	for deadline := time.Now().Add(time.Minute); !holds(path, pid, "exit_group"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the probe's exit_group (pid %d) never reached the file", pid)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	for killed := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		stopped, err := debugStopped(dom)
		if err != nil {
			t.Fatal(err)
		}
		if !stopped {
			break
		}
		if time.Since(killed) > 2*time.Second {
			t.Fatal("guest still held for a debugger 2 s after nitro record was killed")
		}
	}
	requireRunning(t, g)

	f, err := record.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Damage == nil {
		t.Fatal("a killed recording opens as whole")
	}
	whole := 0
	for _, b := range f.Blocks {
		whole += b.Events
	}
	cmdOut, err := exec.Command(nitroBin, "trace", "--from", path, "--format", "json").CombinedOutput()
	if err != nil || !strings.Contains(string(cmdOut), "recording is truncated") {
		t.Errorf("trace --from a killed recording: %v, it said %q", err, strings.SplitN(string(cmdOut), "\n", 2)[0])
	}
	events := recorded(t, path)
	if len(events) != whole || events[len(events)-1].Seq != f.Blocks[len(f.Blocks)-1].LastSeq {
		t.Errorf("trace --from read %d events to seq %d; the file's %d whole blocks hold %d to seq %d",
			len(events), events[len(events)-1].Seq, len(f.Blocks), whole, f.Blocks[len(f.Blocks)-1].LastSeq)
	}
	r := probeRunOf(t, probeRuns(events), pid)
	checkProbeRun(t, g, pid, r.enters, r.exits)
}

// holds says whether the whole blocks of the recording at path, which may
// be being written, hold a call of pid named name.
func holds(path string, pid int, name string) bool {
	f, err := record.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for i := range f.Blocks {
		b, err := f.Block(i)
		if err != nil {
			return false
		}
		for _, sc := range b.Events {
			if sc.Process.PID == pid && sc.Name == name {
				return true
			}
		}
	}
	return false
}

// TestTraceRecordMatches runs nitro trace --record on the probe's calls:
// trace --from the recording prints exactly the lines the live trace
// printed, and those hold whole runs of the probe as it printed them.
func TestTraceRecordMatches(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	path := filepath.Join(t.TempDir(), "traced.nitro")
	probeSoon(t, g)
	// A run is 24 events: 48 hold a whole one wherever the trace starts.
	live := string(runNitro(t, "-c", lab.URI, "trace", "--format", "text", "--comm", "nitro-probe", "--count", "48",
		"--duration", "3m", "--record", path, g.Name))
	requireRunning(t, g)
	if again := string(runNitro(t, "trace", "--from", path, "--format", "text")); again != live {
		t.Fatalf("trace --from printed\n%s\nthe live trace\n%s", again, live)
	}
	runs := probeRuns(recorded(t, path))
	if len(runs) == 0 {
		t.Fatalf("no whole run of nitro-probe in the trace:\n%s", live)
	}
	for _, r := range runs {
		checkProbeRun(t, g, r.pid, r.enters, r.exits)
		// As the live trace printed them: the fd the probe got, its failure.
		for _, line := range []string{
			fmt.Sprintf(`[%d nitro-probe] openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY) = %d`, r.pid, r.exits[2].Ret),
			fmt.Sprintf(`[%d nitro-probe] openat(AT_FDCWD, "/nonexistent/nitro-probe", O_RDONLY) = -1 ENOENT (No such file or directory)`, r.pid),
		} {
			if !strings.Contains(live, line+"\n") {
				t.Errorf("the live trace lacks %s", line)
			}
		}
	}
}
