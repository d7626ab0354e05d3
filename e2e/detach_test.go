package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"nitro/core/kvm/domain"
	"nitro/internal/lab"
	"nitro/internal/syncbuf"
)

// TestSignalsDetach stops `nitro trace` with SIGKILL at several moments
// while it traces, and with SIGTERM and SIGINT; each time the guest must run
// again, with no breakpoint left (a breakpoint with no debugger attached
// would stop the guest at its next system call), within two seconds.
func TestSignalsDetach(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)

	for _, c := range []struct {
		sig   syscall.Signal
		after int // events seen before the signal
	}{{syscall.SIGKILL, 1}, {syscall.SIGKILL, 40}, {syscall.SIGKILL, 300}, {syscall.SIGTERM, 40}, {syscall.SIGINT, 40}} {
		cmd := exec.Command(nitroBin, "-c", lab.URI, "trace", "--format", "json", g.Name)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		seen := make(chan int, 1)
		go func() {
			lines := bufio.NewScanner(out)
			n := 0
			for n < c.after && lines.Scan() {
				n++
			}
			seen <- n
		}()
		select {
		case n := <-seen:
			if n < c.after {
				cmd.Wait()
				t.Fatalf("%v: nitro trace ended after %d events: %s", c.sig, n, stderr.String())
			}
		case <-time.After(time.Minute):
			info, _ := dom.Info()
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
			t.Fatalf("%v: %d events did not come in a minute (guest %s): %s", c.sig, c.after, info.State, stderr.String())
		}
		if err := cmd.Process.Signal(c.sig); err != nil {
			t.Fatal(err)
		}
		go io.Copy(io.Discard, out) // a clean stop writes its last lines
		err = cmd.Wait()
		if c.sig != syscall.SIGKILL && err != nil {
			t.Errorf("%v: nitro trace did not stop cleanly: %v", c.sig, err)
		}
		killed := time.Now()
		for {
			info, err := dom.Info()
			if err != nil {
				t.Fatal(err)
			}
			if info.State == domain.Running {
				break
			}
			if time.Since(killed) > 2*time.Second {
				t.Fatalf("%v after %d events: guest still %s 2 s later", c.sig, c.after, info.State)
			}
			time.Sleep(50 * time.Millisecond)
		}
		took := time.Since(killed) // before the wait for the workload's next line
		requireRunning(t, g)
		t.Logf("%v after %d events: running again %v later", c.sig, c.after, took.Round(time.Millisecond))
	}
}

// TestKilledTraceLeavesValidLines kills `nitro trace -o FILE` with SIGKILL
// while it writes: every line in the file must be a whole JSON event.
func TestKilledTraceLeavesValidLines(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	file := filepath.Join(t.TempDir(), "trace.jsonl")
	cmd := exec.Command(nitroBin, "-c", lab.URI, "trace", "--format", "json", "-o", file, g.Name)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if b, _ := os.ReadFile(file); bytes.Count(b, []byte("\n")) >= 100 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("nitro trace -o wrote fewer than 100 lines in a minute")
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("the file ends inside a line: %q", b[max(0, len(b)-80):])
	}
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	for i, line := range lines {
		var e traceEvent
		if err := json.Unmarshal(line, &e); err != nil || e.Seq == 0 || e.Name == "" {
			t.Fatalf("line %d of %d is no whole event (%v): %q", i+1, len(lines), err, line)
		}
	}
	requireRunning(t, g)
}

// TestLostStubDetaches takes QEMU's gdbstub away under a running trace
// (the connection drops with the VM held for the debugger): nitro must say
// so, exit non-zero, and leave the guest running with no breakpoint.
func TestLostStubDetaches(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)
	var stderr bytes.Buffer
	cmd, lines := startTrace(t, g, 40, &stderr)
	drain(lines)
	if _, err := dom.HMP("gdbserver none"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !bytes.Contains(stderr.Bytes(), []byte("nitro: ")) {
			t.Fatalf("nitro trace after losing the stub: %v, stderr %q", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("nitro trace went on without its stub")
	}
	for exited := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		stopped, err := debugStopped(dom)
		if err != nil {
			t.Fatal(err)
		}
		if !stopped {
			t.Logf("running again %v after nitro exited; it said %q", time.Since(exited).Round(time.Millisecond), stderr.String())
			break
		}
		if time.Since(exited) > 2*time.Second {
			t.Fatalf("guest still held for a debugger 2 s after nitro exited; it said %q", stderr.String())
		}
	}
	requireRunning(t, g)
}

// debugStopped says whether QEMU holds the VM stopped for a debugger (run
// state "debug"), as an armed breakpoint does when no debugger is left.
func debugStopped(dom *domain.Domain) (bool, error) {
	out, err := dom.QMP(`{"execute":"query-status"}`)
	if err != nil {
		return false, err
	}
	var reply struct {
		Return struct{ Status string } `json:"return"`
	}
	if err := json.Unmarshal([]byte(out), &reply); err != nil {
		return false, err
	}
	return reply.Return.Status == "debug", nil
}

// TestSuspendDetaches: Ctrl+Z (SIGTSTP) on `nitro trace --lossless` must not
// leave the guest stopped at a breakpoint while nitro is: nitro detaches,
// then stops, and the guest's workload goes on; SIGCONT attaches again and
// calls made after it come. Every call is traced: one process's calls can be
// minutes apart while the guest's strace step runs under tracing.
func TestSuspendDetaches(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	cmd := exec.Command(nitroBin, "-c", lab.URI, "trace", "--lossless", "--format", "json", g.Name)
	// A job of its own, as a shell starts it: the kernel drops SIGTSTP in
	// a process group that no parent in the session could continue.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
	}()
	// The time of each call's stop, as nitro printed it.
	stops := make(chan time.Time, 1<<16)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e traceEvent
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("not a JSON event: %q: %v", sc.Text(), err)
				continue
			}
			stops <- e.Time
		}
		close(stops)
	}()
	// waitStop waits for a call stopped after since; those printed before
	// nitro stopped may still be in the pipe.
	waitStop := func(what string, since time.Time) {
		t.Helper()
		for timeout := time.After(time.Minute); ; {
			select {
			case at, ok := <-stops:
				if !ok {
					t.Fatalf("nitro trace ended before a call %s: %s", what, stderr.String())
				}
				if at.After(since) {
					return
				}
			case <-timeout:
				t.Fatalf("no call %s in a minute: %s", what, stderr.String())
			}
		}
	}
	waitStop("at first", time.Time{})
	if err := cmd.Process.Signal(syscall.SIGTSTP); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(30 * time.Second); !stopped(t, cmd.Process.Pid); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("nitro did not stop after SIGTSTP: %s", stderr.String())
		}
	}
	requireRunning(t, g) // with nitro stopped: no breakpoint holds the guest
	continued := time.Now()
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitStop("after SIGCONT", continued)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range stops { // a clean stop writes its last lines
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Errorf("nitro trace: %v: %s", err, stderr.String())
	}
	requireRunning(t, g)
}

// stopped reports whether process pid is stopped by a signal.
func stopped(t *testing.T, pid int) bool {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) S ...: the state follows the comm's closing parenthesis.
	i := bytes.LastIndexByte(raw, ')')
	return i >= 0 && i+2 < len(raw) && raw[i+2] == 'T'
}

// TestAttachKeepsAPause: a guest an administrator paused (virsh suspend)
// stays paused while nitro attaches, traces nothing, and detaches, and
// after `nitro detach` too: QEMU's own detach would run it.
func TestAttachKeepsAPause(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)
	if err := dom.Suspend(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := dom.Resume(); err != nil {
			t.Errorf("resuming: %v", err)
		}
		requireRunning(t, g)
	}()
	size, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nitroBin, "-c", lab.URI, "trace", "--format", "text", "--duration", "3s", g.Name)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nitro trace: %v", err)
	}
	if len(out) != 0 {
		t.Errorf("nitro traced a paused guest:\n%s", out)
	}
	requirePaused(t, g, dom, "after nitro trace")
	if now, _ := g.SerialSize(); now != size {
		t.Errorf("the paused guest wrote %d bytes to its console while nitro traced", now-size)
	}
	// nitro detach clears what a dead nitro may have left, with QEMU's
	// detach, which runs the VM for a moment: it is paused again.
	if out, err := exec.Command(nitroBin, "-c", lab.URI, "detach", g.Name).CombinedOutput(); err != nil {
		t.Fatalf("nitro detach: %v\n%s", err, out)
	}
	requirePaused(t, g, dom, "after nitro detach")
}

// requirePaused checks that libvirt and QEMU both say dom is paused.
func requirePaused(t *testing.T, g lab.Guest, dom *domain.Domain, when string) {
	t.Helper()
	info, err := dom.Info()
	if err != nil {
		t.Fatal(err)
	}
	status, err := dom.HMP("info status")
	if err != nil {
		t.Fatal(err)
	}
	if info.State != domain.Paused || !strings.Contains(status, "paused") {
		t.Errorf("%s: %s is %s, QEMU says %q; want it paused", when, g.Name, info.State, strings.TrimSpace(status))
	}
}
