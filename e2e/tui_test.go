package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"nitro/internal/lab"
)

// tmux drives the real nitro binary in a real terminal.
type tmux struct {
	t       *testing.T
	session string
}

func startTmux(t *testing.T, cmd string) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is needed (lab/deps.sh installs it)")
	}
	tm := &tmux{t: t, session: fmt.Sprintf("nitro-e2e-%d", time.Now().UnixNano())}
	if out, err := exec.Command("tmux", "new-session", "-d", "-s", tm.session, "-x", "120", "-y", "34", cmd).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", tm.session).Run() })
	return tm
}

func (tm *tmux) keys(keys ...string) {
	tm.t.Helper()
	if out, err := exec.Command("tmux", append([]string{"send-keys", "-t", tm.session}, keys...)...).CombinedOutput(); err != nil {
		tm.t.Fatalf("tmux send-keys %v: %v\n%s", keys, err, out)
	}
}

func (tm *tmux) screen() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", tm.session).Output()
	return string(out)
}

// waitFor waits until the screen matches re.
func (tm *tmux) waitFor(re string, timeout time.Duration) string {
	tm.t.Helper()
	pat := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for {
		s := tm.screen()
		if pat.MatchString(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("screen never showed %q; it shows:\n%s", re, s)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// filterOpenat filters the syscall pane down to openat and waits until it
// shows one, selected: a key that acts on the selected call needs the
// filtered pane's title to count a row, not an openat anywhere on the
// screen (one seen before the filter applied is not in the filtered pane).
func (tm *tmux) filterOpenat() {
	tm.t.Helper()
	tm.keys("/")
	tm.waitFor(`(?m)^/`, 10*time.Second) // the filter prompt
	tm.keys("sys:openat", "Enter")
	tm.waitFor(`Syscalls [1-9]\d*/\d+`, tracedIteration)
	tm.waitFor(`openat\(AT_FDCWD`, 10*time.Second)
}

// TestTUI drives nitro's terminal interface against the 6.12 lab guest: the
// domain list, attaching, live calls and processes, a break on the probe's
// openat with its path edited to another file, which the guest then reads,
// and quitting with the guest still running.
func TestTUI(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Newer
	tm := startTmux(t, nitroBin+" -c "+lab.URI+" --theme none")

	tm.waitFor(`(?m)^>?\s*`+g.Name+`\s+running\s+2\s+`+strconv.Itoa(g.MemMB)+` MiB`, 30*time.Second)
	for !strings.Contains(tm.screen(), "> "+g.Name) {
		tm.keys("j")
		time.Sleep(100 * time.Millisecond)
	}
	tm.keys("Enter")
	tm.waitFor(`Syscalls \d+`, time.Minute)
	tm.waitFor(`(?m)^\s+\d+\s+\d+\s+\S+\s+\S+\s+.*\(.*\)`, time.Minute) // a call row
	tm.waitFor(`(?m)^\s+1\s+\d+\s+init\s`, time.Minute)
	tm.waitFor(`(?m)^\s+\d+\s+\d+\s+nitro-probe\s`, tracedIteration)

	// p pauses the whole guest and resumes it.
	tm.keys("p")
	tm.waitFor(`(?m)\| 0 ev/s .*paused\s*$`, 10*time.Second)
	tm.keys("p")
	tm.waitFor(`(?m)\| [1-9]\d* ev/s .*running\s*$`, 30*time.Second)

	// Filter down to openat and break on it.
	tm.filterOpenat()
	tm.keys("b")
	start, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		s := tm.waitFor(`HELD`, 2*time.Minute)
		if strings.Contains(s, `comm "nitro-probe"`) && strings.Contains(s, `"/etc/nitro/probe-input"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the probe's openat was never held; screen:\n%s", s)
		}
		tm.keys("c") // another process's openat
		time.Sleep(500 * time.Millisecond)
	}
	tm.keys("j") // from arg0 to arg1, the path
	time.Sleep(300 * time.Millisecond)
	tm.keys("e")
	tm.waitFor(`edit arg1`, 10*time.Second)
	tm.keys("C-u")
	tm.keys(`"/etc/nitro/probe-other"`, "Enter")
	tm.waitFor(`"/etc/nitro/probe-other"`, 10*time.Second)
	tm.keys("b") // disarm, then let the call go
	tm.keys("c")
	if _, _, err := g.WaitSerial(regexp.MustCompile(`^nitro-probe: pid \d+ ppid 1 read 18 bytes: nitro probe OTHER$`), start, time.Minute); err != nil {
		t.Fatalf("%v; screen:\n%s", err, tm.screen())
	}

	tm.keys("q")
	time.Sleep(time.Second)
	if s := tm.screen(); strings.Contains(s, "Syscalls") {
		t.Fatalf("q did not quit:\n%s", s)
	}
	requireRunning(t, g)
}
