package core

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// guardName is argv[0] of a nitro process started as a detach guard.
const guardName = "nitro-detach-guard"

// released is what an attached nitro tells its guard after a clean detach.
const released = "released\n"

// guardComm is the guard's process name: not "nitro", so that `killall
// nitro` or `pkill -x nitro` leaves it to do its job.
const guardComm = "nitro-guard"

// guardLog is where guards say what went wrong: they have no terminal.
var guardLog = filepath.Join(runDir, "guard.log")

// guardReady is what a guard writes on fd 3 once it runs.
const guardReady = "ready\n"

// A guard is a second nitro process that outlives this one. It waits on a
// pipe from us; if the pipe closes without word of a clean detach (this
// process died, even by SIGKILL) it detaches the domain itself. Nothing
// inside one process can survive SIGKILL, hence the second process. A
// guard that dies while we are attached is replaced.
type guard struct {
	uri, name string

	mu       sync.Mutex
	pipe     *os.File
	cmd      *exec.Cmd
	finished bool
}

// startGuard starts the guard for domain name on uri and waits until it
// runs. It runs this very executable, which must call RunGuardIfAsked
// first thing in main.
func startGuard(uri, name string) (*guard, error) {
	g := &guard{uri: uri, name: name}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.spawn(); err != nil {
		return nil, fmt.Errorf("starting detach guard: %w", err)
	}
	return g, nil
}

// spawn starts a guard process; g.mu is held.
func (g *guard) spawn() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return err
	}
	logf, err := os.OpenFile(guardLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	ready, readyW, err := os.Pipe()
	if err != nil {
		w.Close()
		return err
	}
	defer ready.Close()
	cmd := &exec.Cmd{
		Path:       exe,
		Args:       []string{guardName, g.uri, g.name},
		Stdin:      r,
		Stderr:     logf,
		ExtraFiles: []*os.File{readyW},
		// Its own session: a Ctrl+C or a signal to our process group must
		// not take the guard with us.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		w.Close()
		return err
	}
	word := make([]byte, len(guardReady))
	ready.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(ready, word); err != nil || string(word) != guardReady {
		w.Close()
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("the guard did not start (see %s): %v", guardLog, err)
	}
	g.pipe, g.cmd = w, cmd
	go g.watch(cmd)
	return nil
}

// watch reaps the guard process cmd and replaces it if it died while the
// domain is still attached.
func (g *guard) watch(cmd *exec.Cmd) {
	err := cmd.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.finished || g.cmd != cmd {
		return
	}
	g.pipe.Close()
	if serr := g.spawn(); serr != nil {
		logGuard(g.name, fmt.Errorf("the guard died (%v) and could not be replaced: %w", err, serr))
	}
}

// release tells the guard the domain was detached cleanly, and lets it go.
func (g *guard) release() { g.finish(released) }

// abandon leaves the guard to detach the domain itself, now.
func (g *guard) abandon() { g.finish("") }

func (g *guard) finish(word string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.finished = true
	io.WriteString(g.pipe, word)
	g.pipe.Close()
}

// RunGuardIfAsked runs the detach guard and exits when this process was
// started as one; otherwise it returns at once. Call it first in main.
func RunGuardIfAsked() {
	if len(os.Args) == 3 && os.Args[0] == guardName {
		os.Exit(runGuard(os.Args[1], os.Args[2]))
	}
}

func runGuard(uri, name string) int {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGTSTP)
	// /proc/self is the thread group's leader, whatever thread runs this.
	_ = os.WriteFile("/proc/self/comm", []byte(guardComm), 0)
	if ready := os.NewFile(3, "ready"); ready != nil {
		io.WriteString(ready, guardReady)
		ready.Close()
	}
	word, _ := io.ReadAll(os.Stdin) // returns when the attached nitro exits or releases us
	if string(word) == released {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Detach(ctx, uri, name); err != nil {
		logGuard(name, err)
		return 1
	}
	return 0
}

// logGuard writes a guard's failure to its log (its stderr, or the log
// file when this is the attached nitro).
func logGuard(name string, err error) {
	w := io.Writer(os.Stderr)
	if len(os.Args) == 0 || os.Args[0] != guardName {
		f, ferr := os.OpenFile(guardLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if ferr != nil {
			return
		}
		defer f.Close()
		w = f
	}
	fmt.Fprintf(w, "%s nitro detach guard for %s: %v\n", time.Now().Format(time.RFC3339), name, err)
}
