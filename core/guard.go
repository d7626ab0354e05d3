package core

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// guardName is argv[0] of a nitro process started as a detach guard.
const guardName = "nitro-detach-guard"

// released is what an attached nitro tells its guard after a clean detach.
const released = "released\n"

// A guard is a second nitro process that outlives this one. It waits on a
// pipe from us; if the pipe closes without word of a clean detach (this
// process died, even by SIGKILL) it detaches the domain itself. Nothing
// inside one process can survive SIGKILL, hence the second process.
type guard struct {
	pipe *os.File
	cmd  *exec.Cmd
}

// startGuard starts the guard for domain name on uri. It runs this very
// executable, which must call RunGuardIfAsked first thing in main.
func startGuard(uri, name string) (*guard, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("starting detach guard: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting detach guard: %w", err)
	}
	cmd := &exec.Cmd{
		Path:  exe,
		Args:  []string{guardName, uri, name},
		Stdin: r,
		// Its own session: a Ctrl+C or a signal to our process group must
		// not take the guard with us.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("starting detach guard: %w", err)
	}
	r.Close()
	return &guard{pipe: w, cmd: cmd}, nil
}

// release tells the guard the domain was detached cleanly, and lets it go.
func (g *guard) release() { g.finish(released) }

// abandon leaves the guard to detach the domain itself, now.
func (g *guard) abandon() { g.finish("") }

func (g *guard) finish(word string) {
	io.WriteString(g.pipe, word)
	g.pipe.Close()
	go g.cmd.Wait() // reap it once it is done
}

// RunGuardIfAsked runs the detach guard and exits when this process was
// started as one; otherwise it returns at once. Call it first in main.
func RunGuardIfAsked() {
	if len(os.Args) == 3 && os.Args[0] == guardName {
		os.Exit(runGuard(os.Args[1], os.Args[2]))
	}
}

func runGuard(uri, name string) int {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	word, _ := io.ReadAll(os.Stdin) // returns when the attached nitro exits or releases us
	if string(word) == released {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Detach(ctx, uri, name); err != nil {
		fmt.Fprintln(os.Stderr, "nitro detach guard:", err)
		return 1
	}
	return 0
}
