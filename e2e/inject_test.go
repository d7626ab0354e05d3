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

// runTraceText runs `nitro trace --format text` on g with extra flags and
// returns its lines, by process, after checking the guest still runs.
func runTraceText(t *testing.T, g lab.Guest, flags ...string) map[int][]string {
	t.Helper()
	out := runNitro(t, append(append([]string{"-c", lab.URI, "trace", "--format", "text"}, flags...), g.Name)...)
	byPID := map[int][]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if m := textPID.FindStringSubmatch(l); m != nil {
			pid, _ := strconv.Atoi(m[1])
			byPID[pid] = append(byPID[pid], m[2])
		}
	}
	requireRunning(t, g)
	return byPID
}

// textPID splits a text line into its process (a thread's tid) and its call.
var textPID = regexp.MustCompile(`^\[(?:\d+/)?(\d+) [^\]]*\] (.*)$`)

// injectedRun checks one probe run traced under an injection: its calls
// as nitro showed them (from the first to exit_group, each whole), and
// what the probe printed of their results. It returns false for a run cut
// by the start or the end of the trace. A want call starting with "~" is
// only counted; from is where the serial log stood before the trace.
func injectedRun(t *testing.T, g lab.Guest, from int, prog string, pid int, lines, wantCalls []string, wantResults string) bool {
	t.Helper()
	var calls []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "execve(") {
			calls = append(calls, l)
		}
	}
	if len(calls) != len(wantCalls) || !strings.HasPrefix(calls[0], strings.SplitN(wantCalls[0], "(", 2)[0]+"(") ||
		!strings.Contains(calls[len(calls)-1], "exit_group(") {
		return false
	}
	for i, want := range wantCalls {
		if !strings.HasPrefix(want, "~") && calls[i] != want {
			t.Errorf("%s pid %d: call %d is\n\t%s\nwant\n\t%s", prog, pid, i, calls[i], want)
		}
	}
	// What the probe itself got back.
	re := regexp.MustCompile(fmt.Sprintf(`^%s: pid %d results (.*)$`, prog, pid))
	m, _, err := g.WaitSerial(re, from, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m[1] != wantResults {
		t.Errorf("%s pid %d printed results %q, want %q", prog, pid, m[1], wantResults)
	}
	return true
}

func serialSize(t *testing.T, g lab.Guest) int {
	t.Helper()
	n, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInjectFault makes the second openat of each run of nitro-probe fail
// with EACCES (strace counts when= per process, and each run is a new
// one): nitro shows it as strace does, and the probe says it got -13 and
// made no write to the file it could not open (nor could unlink it: the
// call never ran). Untraced again, the probe gets its normal results.
func TestInjectFault(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) {
			from := serialSize(t, g)
			byPID := runTraceText(t, g, "--inject", "openat:error=EACCES:when=2", "--comm", "nitro-probe",
				"--count", "24", "--duration", "3m") // a run is 11 lines
			after := serialSize(t, g)
			checked := 0
			for pid, lines := range byPID {
				if injectedRun(t, g, from, "nitro-probe", pid, lines, []string{
					"getpid() = " + strconv.Itoa(pid),
					"getppid() = 1",
					`openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY) = 3`,
					`read(3, "nitro probe input\n", 128) = 18`,
					"close(3) = 0",
					`openat(AT_FDCWD, "/tmp/nitro-probe-marker", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 EACCES (Permission denied) (INJECTED)`,
					`openat(AT_FDCWD, "/nonexistent/nitro-probe", O_RDONLY) = -1 ENOENT (No such file or directory)`,
					`unlink("/tmp/nitro-probe-marker") = -1 ENOENT (No such file or directory)`,
					"~write",
					"exit_group(0) = ?",
				}, fmt.Sprintf("getpid=%d getppid=1 openat1=3 read=18 close1=0 openat2=-13 openat3=-2 unlink=-2", pid)) {
					checked++
				}
			}
			if checked == 0 {
				t.Fatalf("no whole run of nitro-probe in the trace: %v", byPID)
			}
			// Detached: the next runs go as they always do.
			normal := regexp.MustCompile(`^nitro-probe: pid \d+ results getpid=\d+ getppid=1 openat1=3 read=18 close1=0 openat2=3 write=19 close2=0 openat3=-2 unlink=0$`)
			if _, _, err := g.WaitSerial(normal, after, time.Minute); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestInjectFaultCompat injects into both 32-bit entries: nitro-probe32's
// first open enters through int 0x80, its second through the vDSO
// (32-bit syscall on AMD, sysenter on Intel).
func TestInjectFaultCompat(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) {
			from := serialSize(t, g)
			byPID := runTraceText(t, g, "--inject", "open:error=EPERM", "--comm", "nitro-probe32",
				"--count", "16", "--duration", "3m") // a run is 7 lines
			checked := 0
			for pid, lines := range byPID {
				if injectedRun(t, g, from, "nitro-probe32", pid, lines, []string{
					"i386:getpid() = " + strconv.Itoa(pid),
					"i386:getppid() = 1",
					`i386:open("/etc/nitro/probe-input", O_RDONLY) = -1 EPERM (Operation not permitted) (INJECTED)`,
					`i386:open("/nonexistent/nitro-probe32", O_RDONLY) = -1 EPERM (Operation not permitted) (INJECTED)`,
					"~write",
					"i386:exit_group(0) = ?",
				}, fmt.Sprintf("getpid=%d getppid=1 open1=-1 open2=-1", pid)) {
					checked++
				}
			}
			if checked == 0 {
				t.Fatalf("no whole run of nitro-probe32 in the trace: %v", byPID)
			}
		})
	}
}

// TestInjectRefusedAtHandlers: under --syscalls the gdbstub listener stops
// at handlers, too late to skip a call; nitro says so and leaves the guest
// running.
func TestInjectRefusedAtHandlers(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	cmd := exec.Command(nitroBin, "-c", lab.URI, "trace", "--syscalls", "openat", "--inject", "openat:error=EIO", "--duration", "1m", g.Name)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "fault injection with --syscalls") {
		t.Errorf("trace --syscalls --inject: %v\n%s", err, out)
	}
	requireRunning(t, g)
}
