package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"nitro/internal/lab"
)

// TestTUIEditPath holds the probe's openat in the TUI and types another
// path over /etc/nitro/probe-input (22 bytes): a shorter one, which must
// end where it ends (its NUL written too), then a longer one, which must
// not overwrite what follows the old path on the probe's stack. Each time
// the probe prints what it read from the new file, and its results line,
// built from other variables of its stack, is whole.
func TestTUIEditPath(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Newer
	tm := openatTUI(t, g)

	for _, c := range []struct {
		path string
		read *regexp.Regexp // the start of what the probe then read
	}{
		{"/proc/version", regexp.MustCompile(`^Linux version 6\.12`)},
		{"/proc/sys/kernel/osrelease", regexp.MustCompile(`^6\.12\.`)},
	} {
		t.Run(strings.TrimPrefix(c.path, "/"), func(t *testing.T) {
			start, err := g.SerialSize()
			if err != nil {
				t.Fatal(err)
			}
			pid := editProbePath(t, tm, c.path)
			first := regexp.MustCompile(fmt.Sprintf(`^nitro-probe: pid %d ppid 1 read (\d+) bytes: (.*)$`, pid))
			m, next, err := g.WaitSerial(first, start, time.Minute)
			if err != nil {
				t.Fatalf("%v; screen:\n%s", err, tm.screen())
			}
			if !c.read.MatchString(m[2]) {
				t.Errorf("the probe read %q after its path became %s", m[2], c.path)
			}
			results := regexp.MustCompile(fmt.Sprintf(`^nitro-probe: pid %d results getpid=%[1]d getppid=1 openat1=3 read=%s close1=0 openat2=3 write=19 close2=0 openat3=-2 unlink=0$`, pid, m[1]))
			if _, _, err := g.WaitSerial(results, next, 10*time.Second); err != nil {
				t.Errorf("the probe's results line is not whole: %v", err)
			}
		})
	}
	tm.keys("q")
	requireRunning(t, g)
}

// probeHeld is the inspector holding the probe's first openat: its pid and
// the path's pointer.
var probeHeld = regexp.MustCompile(`(?s)pid (\d+)  tid \d+  ppid \d+  uid \d+  comm "nitro-probe".*arg1 +(0x[0-9a-f]+)  "/etc/nitro/probe-input"`)

// editProbePath arms a break on openat, lets other calls go until the
// probe's first openat is held, types path over its path and continues
// with the break disarmed; it returns the probe's pid. The probe may have
// too little stack mapped below its stack pointer for a longer path
// (where the stack pointer falls in its page is random): nitro refuses,
// saying so, and the next run of the probe is tried.
func editProbePath(t *testing.T, tm *tmux, path string) int {
	t.Helper()
	tm.keys("b")
	tm.waitFor(`\| break openat`, 10*time.Second) // the note may give way to a hold at once
	for tries := 0; ; tries++ {
		m := holdProbe(t, tm, probeHeld)
		tm.keys("j") // from arg0 to arg1, the path
		time.Sleep(300 * time.Millisecond)
		tm.keys("e")
		tm.waitFor(`edit arg1 \("text", hex x"68 69" or a number\)`, 10*time.Second)
		tm.keys("C-u")
		tm.keys(`"`+path+`"`, "Enter")
		s := tm.waitFor(`edited|edit refused`, 10*time.Second)
		if strings.Contains(s, "edit refused") {
			if !strings.Contains(s, "no writable memory below") || tries == 5 {
				t.Fatalf("the edit was refused:\n%s", s)
			}
			t.Logf("try %d: %s", tries, s[strings.Index(s, "edit refused"):])
			tm.keys("c")
			time.Sleep(300 * time.Millisecond)
			continue
		}
		after := tm.waitFor(`arg1 +0x[0-9a-f]+  "`+regexp.QuoteMeta(path)+`"`, 10*time.Second)
		moved := !strings.Contains(after, "arg1 "+strings.Repeat(" ", 18-len(m[2]))+m[2]+"  ")
		if wantMoved := len(path) > len("/etc/nitro/probe-input"); moved != wantMoved {
			t.Errorf("%s: the pointer moved %v, want %v:\n%s", path, moved, wantMoved, after)
		}
		tm.keys("b") // disarm, then let the call go
		tm.waitFor(`break cleared: openat`, 10*time.Second)
		tm.keys("c")
		pid, _ := strconv.Atoi(m[1])
		return pid
	}
}

// holdProbe lets the calls a break holds go until the inspector shows one
// that held (the probe's) matches, and returns the match.
func holdProbe(t *testing.T, tm *tmux, held *regexp.Regexp) []string {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); ; {
		s := tm.waitFor(`HELD`, 2*time.Minute)
		if m := held.FindStringSubmatch(s); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("the probe's openat was never held; screen:\n%s", s)
		}
		tm.keys("c") // another process's openat
		time.Sleep(300 * time.Millisecond)
	}
}

// TestTUIEditReturn breaks at the exit of openat, and makes the probe's
// first openat, held there, return -ENOENT: the probe says its open failed
// and lists that result, and makes no read.
func TestTUIEditReturn(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Newer
	editReturn(t, g, openatTUI(t, g))
}

// editReturn is TestTUIEditReturn on the TUI tm shows on g.
func editReturn(t *testing.T, g lab.Guest, tm *tmux) {
	t.Helper()
	start, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	tm.keys("E")
	tm.waitFor(`\| break openat@exit`, 10*time.Second) // the note may give way to a hold at once
	m := holdProbe(t, tm, regexp.MustCompile(`(?s)held at exit.*pid (\d+)  tid \d+  ppid \d+  uid \d+  comm "nitro-probe".*"/etc/nitro/probe-input".*ret  3`))
	for range 3 { // past openat's three arguments, a key at a time: keys sent at once arrive as one
		tm.keys("j")
		time.Sleep(200 * time.Millisecond)
	}
	tm.keys("e")
	tm.waitFor(`edit ret \(a number, -2 for -ENOENT\): 3`, 10*time.Second)
	tm.keys("C-u")
	tm.keys("--", "-2", "Enter") // -- : not a flag of send-keys
	tm.waitFor(`ret  -1 ENOENT \(No such file or directory\)`, 10*time.Second)
	tm.keys("E") // disarm, then let the call go
	tm.waitFor(`break cleared: openat at exit`, 10*time.Second)
	tm.keys("c")
	pid, _ := strconv.Atoi(m[1])
	first := regexp.MustCompile(fmt.Sprintf(`^nitro-probe: pid %d ppid 1 open failed: 2$`, pid))
	_, next, err := g.WaitSerial(first, start, time.Minute)
	if err != nil {
		t.Fatalf("%v; screen:\n%s", err, tm.screen())
	}
	// The kernel did open the file, as fd 3, which the probe never closes:
	// its next openat gets 4.
	results := regexp.MustCompile(fmt.Sprintf(`^nitro-probe: pid %d results getpid=%[1]d getppid=1 openat1=-2 openat2=4 write=19 close2=0 openat3=-2 unlink=0$`, pid))
	if _, _, err := g.WaitSerial(results, next, 10*time.Second); err != nil {
		t.Error(err)
	}
	tm.keys("q")
	requireRunning(t, g)
}

// openatTUI opens the TUI on g with the syscall pane filtered to openat,
// once the guest has made one.
func openatTUI(t *testing.T, g lab.Guest) *tmux {
	t.Helper()
	return openatTUIWith(t, g, "-c "+lab.URI)
}

// openatTUIWith is openatTUI with nitro's flags, a shell's words, in front.
func openatTUIWith(t *testing.T, g lab.Guest, flags string) *tmux {
	t.Helper()
	tm := startTmux(t, nitroBin+" "+flags+" --theme none --domain "+g.Name)
	tm.waitFor(`Syscalls \d+`, time.Minute)
	tm.filterOpenat()
	return tm
}
