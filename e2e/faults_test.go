package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nitro/core/kvm/domain"
	"nitro/internal/lab"
	"nitro/internal/syncbuf"
)

// killMoment starts nitro on the guest, brings it to one kind of moment
// and returns its pid there, with what reaps it once killed.
type killMoment struct {
	name  string
	reach func(t *testing.T, g lab.Guest, rng *rand.Rand) (pid int, reap func())
}

// killMoments are the kinds of moment TestRandomKills picks from, each
// reached at a random point of its own.
var killMoments = []killMoment{
	{"attach", func(t *testing.T, g lab.Guest, rng *rand.Rand) (int, func()) {
		// Attach, finding the kernel and arming the entry take some
		// hundreds of milliseconds: a kill in there lands in one of them.
		cmd := startNitro(t, "trace", "--format", "json", g.Name)
		time.Sleep(time.Duration(rng.IntN(800)) * time.Millisecond)
		return cmd.Process.Pid, func() { cmd.Wait() }
	}},
	{"trace", func(t *testing.T, g lab.Guest, rng *rand.Rand) (int, func()) {
		cmd, lines := startTrace(t, g, 1+rng.IntN(300), nil)
		drain(lines)
		return cmd.Process.Pid, func() { cmd.Wait() }
	}},
	{"record", func(t *testing.T, g lab.Guest, rng *rand.Rand) (int, func()) {
		file := filepath.Join(t.TempDir(), "killed.nitro")
		cmd := startNitro(t, "record", "-o", file, "--duration", "1m", g.Name)
		time.Sleep(300*time.Millisecond + time.Duration(rng.IntN(2700))*time.Millisecond)
		return cmd.Process.Pid, func() { cmd.Wait() }
	}},
	{"hold", func(t *testing.T, g lab.Guest, rng *rand.Rand) (int, func()) {
		tm := heldInTUI(t, g)
		time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
		return tm.pid(), func() {}
	}},
	{"edit", func(t *testing.T, g lab.Guest, rng *rand.Rand) (int, func()) {
		tm := heldInTUI(t, g)
		tm.keys("j") // from arg0 to arg1, the path
		time.Sleep(300 * time.Millisecond)
		tm.keys("e")
		tm.waitFor(`edit arg1`, 10*time.Second)
		tm.keys("C-u", `"/etc/nitro/probe-other"`, "Enter")
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		return tm.pid(), func() {}
	}},
	{"serve", func(t *testing.T, g lab.Guest, rng *rand.Rand) (int, func()) {
		// nitro serve with the teacher's SSH session attached to g.
		l := startServe(t)
		l.open("teacher", g.Name).waitFor(`Syscalls \d+`, time.Minute)
		time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
		return l.cmd.Process.Pid, func() { l.cmd.Wait() }
	}},
}

// startTrace starts `nitro trace --format json` on g, its stderr to
// stderr, and reads its first n events: lines goes on from there.
func startTrace(t *testing.T, g lab.Guest, n int, stderr io.Writer) (cmd *exec.Cmd, lines *bufio.Scanner) {
	t.Helper()
	cmd, lines = pipeNitro(t, stderr, "-c", lab.URI, "trace", "--format", "json", g.Name)
	for i := range n {
		if !lines.Scan() {
			cmd.Wait()
			t.Fatalf("nitro trace ended after %d of %d events", i, n)
		}
	}
	return cmd, lines
}

// pipeNitro starts nitro with args, its stderr to stderr, and returns its
// standard output's lines.
func pipeNitro(t *testing.T, stderr io.Writer, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(nitroBin, args...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	lines.Buffer(nil, 1<<20)
	return cmd, lines
}

// drain reads the rest of a trace's output, so that nitro never waits on it.
func drain(lines *bufio.Scanner) {
	go func() {
		for lines.Scan() {
		}
	}()
}

func startNitro(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(nitroBin, append([]string{"-c", lab.URI}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// heldInTUI opens the TUI on g in tmux and holds the next openat.
func heldInTUI(t *testing.T, g lab.Guest) *tmux {
	t.Helper()
	tm := startTmux(t, "exec "+nitroBin+" -c "+lab.URI+" --theme none --domain "+g.Name)
	tm.waitFor(`Syscalls \d+`, time.Minute)
	tm.filterOpenat()
	tm.keys("b")
	tm.waitFor(`HELD`, 2*time.Minute)
	return tm
}

// pid is the pid of the program in the pane: nitro, which exec'd its shell.
func (tm *tmux) pid() int {
	tm.t.Helper()
	out, err := exec.Command("tmux", "display-message", "-p", "-t", tm.session, "#{pane_pid}").Output()
	if err != nil {
		tm.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		tm.t.Fatal(err)
	}
	if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); strings.TrimSpace(string(comm)) != "nitro" {
		tm.t.Fatalf("pane runs %q, not nitro", comm)
	}
	return pid
}

// TestRandomKills kills nitro with SIGKILL at 20 random moments of six
// kinds in turn: while it attaches and finds the kernel, while it traces,
// while it records, while the TUI holds a call, as the TUI's edit of the
// held call goes in, and while nitro serve has an SSH viewer attached. Each time the guest must run again within two
// seconds, with no breakpoint left: it goes on with its workload. The seed
// is logged; NITRO_KILL_SEED repeats a run's moments.
func TestRandomKills(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NITRO_KILL_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("NITRO_KILL_SEED: %v", err)
		}
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	var worst time.Duration
	for i := range 20 {
		m := killMoments[i%len(killMoments)]
		pid, reap := m.reach(t, g, rng)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill %d (%s): %v", i+1, m.name, err)
		}
		reap()
		took := waitDetached(t, dom)
		worst = max(worst, took)
		t.Logf("kill %2d, %-6s: running again %v later", i+1, m.name, took.Round(time.Millisecond))
		waitUnlocked(t, g)
		requireRunning(t, g)
	}
	t.Logf("20/20 running within 2 s; the slowest after %v", worst.Round(time.Millisecond))
}

// TestKillNitroAndGuard kills nitro and its guard together: nothing is left
// to detach, and the guest stops at its next system call. `nitro detach`
// frees it, as the README says.
func TestKillNitroAndGuard(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)
	cmd, lines := startTrace(t, g, 40, nil)
	drain(lines)
	// The guard is stopped first: nitro would replace a guard that dies,
	// and a guard that runs detaches as soon as nitro dies.
	guard := childNamed(t, cmd.Process.Pid, "nitro-guard")
	syscall.Kill(guard, syscall.SIGSTOP)
	syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	syscall.Kill(guard, syscall.SIGKILL)
	// With no debugger and its breakpoints armed, the guest stops for good.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if stopped, err := debugStopped(dom); err != nil {
			t.Fatal(err)
		} else if stopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the guest never stopped at a breakpoint the dead nitro left: was the guard killed?")
		}
	}
	detached := time.Now()
	if out, err := exec.Command(nitroBin, "-c", lab.URI, "detach", g.Name).CombinedOutput(); err != nil {
		t.Fatalf("nitro detach: %v\n%s", err, out)
	}
	t.Logf("nitro detach freed the guest in %v", time.Since(detached).Round(time.Millisecond))
	waitDetached(t, dom)
	requireRunning(t, g)
}

// childNamed returns the pid of parent's child process called comm.
func childNamed(t *testing.T, parent int, comm string) int {
	t.Helper()
	tasks, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, stat := range tasks {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || s[open+1:end] != comm {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(parent) {
			pid, _ := strconv.Atoi(strings.Fields(s)[0])
			return pid
		}
	}
	t.Fatalf("process %d has no child %q", parent, comm)
	return 0
}

// waitDetached waits for the guest to run free of any debugger: running,
// not held at a breakpoint. It fails after two seconds and returns how
// long it took.
func waitDetached(t *testing.T, dom *domain.Domain) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		info, err := dom.Info()
		if err != nil {
			t.Fatal(err)
		}
		stopped, err := debugStopped(dom)
		if err != nil {
			t.Fatal(err)
		}
		if info.State == domain.Running && !stopped {
			return time.Since(start)
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("guest %s (held for a debugger: %v) 2 s after nitro died", info.State, stopped)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUnlocked waits until no nitro holds g's attach lock (a guard may
// still be detaching when the guest already runs), so that the next
// attach is not refused.
func waitUnlocked(t *testing.T, g lab.Guest) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join("/run/nitro", g.Name+".lock"), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err == nil {
			unix.Flock(int(f.Fd()), unix.LOCK_UN)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the attach lock of %s is still held 10 s later", g.Name)
		}
	}
}

// TestBlockedStdout: `nitro trace` whose reader stops (a pager left open)
// does not stop the guest: calls gather in nitro (and are dropped, and
// counted, once it holds its limit) while the guest goes on with its
// workload. Ctrl+C then ends it, reader or not, and the guest runs free.
func TestBlockedStdout(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(nitroBin, "-c", lab.URI, "trace", "--format", "json", g.Name)
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// Blocked: a thread of nitro waits in a write to the pipe.
	for deadline := time.Now().Add(2 * time.Minute); !writeBlocked(cmd.Process.Pid); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("nitro's writes to a pipe nobody reads never blocked in 2 minutes")
		}
	}
	// Two iterations with nobody reading; one may run the guest's strace
	// step, slow under tracing.
	pos, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, pos, err = g.WaitSerial(lab.Iteration, pos, 2*time.Minute); err != nil {
			t.Fatalf("with trace's output blocked: %v", err)
		}
	}
	if !writeBlocked(cmd.Process.Pid) {
		t.Fatal("nitro's write to the pipe nobody reads went through")
	}
	cmd.Process.Signal(syscall.SIGINT)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited: // its last writes given up: an error status is fine
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatal("nitro trace went on 30 s after SIGINT, its output blocked")
	}
	waitDetached(t, labDomain(t, g))
	requireRunning(t, g)
}

// writeBlocked says whether a thread of process pid waits in a pipe write.
func writeBlocked(pid int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
	for _, w := range tasks {
		if b, err := os.ReadFile(w); err == nil && strings.Contains(string(b), "pipe_write") {
			return true
		}
	}
	return false
}

// TestFullFilesystem: `nitro trace -o` on a filesystem that fills up stops
// with an error that says so, the file ends with a whole line, and the
// guest runs on with no breakpoint.
func TestFullFilesystem(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
		t.Fatalf("mounting a small tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	file := filepath.Join(dir, "trace.jsonl")
	cmd := exec.Command(nitroBin, "-c", lab.URI, "trace", "--format", "json", "-o", file, g.Name)
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(stderr.String(), "no space left on device") {
			t.Fatalf("nitro trace on a full filesystem: %v, it said %q", err, stderr.String())
		}
		t.Logf("nitro said %q", strings.TrimSpace(stderr.String()))
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatal("nitro trace -o went on for 3 minutes on a 256 KiB filesystem")
	}
	waitDetached(t, dom)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Errorf("the file (%d bytes) does not end with a whole line: %q", len(b), b[max(0, len(b)-80):])
	}
	requireRunning(t, g)
}

// TestLibvirtdRestart restarts libvirtd under a running trace: the trace
// goes on (nitro's stub connection is QEMU's, not libvirtd's), and a clean
// stop afterwards leaves the guest running with no breakpoint.
func TestLibvirtdRestart(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	stderr := &syncbuf.Buffer{}
	cmd, lines := startTrace(t, g, 40, stderr)
	restartLibvirtd(t)
	for n := 0; n < 200; n++ {
		if !lines.Scan() {
			cmd.Wait()
			t.Fatalf("the trace ended %d events after libvirtd restarted: %s", n, stderr.String())
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	drain(lines)
	if err := cmd.Wait(); err != nil {
		t.Errorf("nitro trace after SIGINT: %v (%s)", err, stderr.String())
	}
	waitDetached(t, labDomain(t, g)) // a new connection: the test's old ones died with libvirtd
	requireRunning(t, g)
}

// restartLibvirtd stops libvirtd and starts it again as lab/deps.sh does,
// waiting until it answers. Domains run on through it.
func restartLibvirtd(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("pkill", "-TERM", "-x", "libvirtd").CombinedOutput(); err != nil {
		t.Fatalf("pkill libvirtd: %v %s", err, out)
	}
	for deadline := time.Now().Add(30 * time.Second); exec.Command("pgrep", "-x", "libvirtd").Run() == nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("libvirtd did not stop in 30 s")
		}
	}
	if out, err := exec.Command("libvirtd", "-d").CombinedOutput(); err != nil {
		t.Fatalf("libvirtd -d: %v %s", err, out)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		c, err := domain.Open(lab.URI)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("libvirtd does not answer 60 s after its restart: %v", err)
		}
	}
}
