package rsp

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// StopKind says why the target stopped.
type StopKind uint8

const (
	// Stopped: the target stopped with a signal (`T` or `S` reply):
	// SIGTRAP (5) for breakpoints and steps, SIGINT (2) for Interrupt.
	Stopped StopKind = iota
	// Exited: the process exited (`W`); Signal holds its exit status.
	Exited
	// Terminated: the process was killed by a signal (`X`).
	Terminated
)

// Signal numbers of GDB's protocol that QEMU reports.
const (
	SIGINT  = 2
	SIGTRAP = 5
)

// Stop is a parsed stop reply.
type Stop struct {
	Kind      StopKind
	Signal    uint8 // signal, or exit status for Exited
	Thread    Thread
	HasThread bool
	Reason    string // "watch", "rwatch", "awatch", "swbreak", "hwbreak", ... if given
	Addr      uint64 // data address of a watchpoint reason
}

// Gone reports whether the target no longer exists (it exited or was
// killed), so nothing can be resumed.
func (s Stop) Gone() bool { return s.Kind != Stopped }

// isStopReply tells stop replies from the answers to other requests,
// none of which starts with an upper-case T, S, W or X followed by hex.
func isStopReply(data []byte) bool {
	if len(data) < 3 || !strings.ContainsRune("TSWX", rune(data[0])) {
		return false
	}
	_, err := parseStop(data)
	return err == nil
}

// parseStop parses a stop reply: `S05`, `T05thread:p1.2;core:0;`, `W00`,
// `X09;process:1`.
func parseStop(data []byte) (Stop, error) {
	if len(data) < 3 {
		return Stop{}, fmt.Errorf("%w: stop reply %.32q", ErrMalformed, data)
	}
	var s Stop
	switch data[0] {
	case 'T', 'S':
		s.Kind = Stopped
	case 'W':
		s.Kind = Exited
	case 'X':
		s.Kind = Terminated
	default:
		return Stop{}, fmt.Errorf("%w: stop reply %.32q", ErrMalformed, data)
	}
	sig, ok := parseHexByte(data[1], data[2])
	if !ok {
		return Stop{}, fmt.Errorf("%w: stop reply %.32q", ErrMalformed, data)
	}
	s.Signal = sig
	if data[0] == 'S' {
		return s, nil
	}
	for field := range strings.SplitSeq(string(data[3:]), ";") {
		name, value, _ := strings.Cut(field, ":")
		var err error
		switch name {
		case "thread":
			s.Thread, err = parseThread(value)
			s.HasThread = err == nil
		case "watch", "rwatch", "awatch":
			s.Reason = name
			s.Addr, err = parseHexUint(value, 64)
		case "swbreak", "hwbreak", "library", "replaylog", "fork", "vfork", "exec", "create":
			s.Reason = name
		}
		// Other fields (expedited registers, core, process) are not used.
		if err != nil {
			return Stop{}, fmt.Errorf("stop reply field %.32q: %w", field, err)
		}
	}
	return s, nil
}

// BreakpointKind selects the `Z`/`z` packet type.
type BreakpointKind uint8

const (
	// Software breakpoints (Z0): QEMU under TCG checks them at translation;
	// under KVM they are int3 bytes written into guest memory.
	Software BreakpointKind = 0
	// Hardware breakpoints (Z1): debug registers under KVM (four at most).
	Hardware BreakpointKind = 1
)

// InsertBreakpoint sets a breakpoint at the virtual address addr, for all
// vCPUs.
func (c *Client) InsertBreakpoint(k BreakpointKind, addr uint64) error {
	if err := c.requestOK(fmt.Appendf(nil, "Z%d,%x,1", k, addr)); err != nil {
		return fmt.Errorf("inserting breakpoint at %#x: %w", addr, err)
	}
	return nil
}

// RemoveBreakpoint removes a breakpoint set by InsertBreakpoint.
func (c *Client) RemoveBreakpoint(k BreakpointKind, addr uint64) error {
	if err := c.requestOK(fmt.Appendf(nil, "z%d,%x,1", k, addr)); err != nil {
		return fmt.Errorf("removing breakpoint at %#x: %w", addr, err)
	}
	return nil
}

// Continue resumes every thread and returns at once; Wait then waits for
// the next stop. While the target runs, requests other than Interrupt fail
// with ErrRunning: QEMU stops the VM on any byte it receives then.
func (c *Client) Continue() error {
	return c.resume(func() error {
		if strings.Contains(c.vCont, ";c") {
			return c.send([]byte("vCont;c"))
		}
		return c.send([]byte("c"))
	})
}

// Step resumes thread t for one instruction and returns at once; the other
// threads stay stopped. Wait returns the stop that ends the step.
func (c *Client) Step(t Thread) error {
	return c.resume(func() error {
		if strings.Contains(c.vCont, ";s") {
			return c.send([]byte("vCont;s:" + c.wire(t)))
		}
		if err := c.exchangeOK([]byte("Hc" + c.wire(t))); err != nil {
			return fmt.Errorf("selecting thread %s: %w", t, err)
		}
		return c.send([]byte("s"))
	})
}

func (c *Client) resume(send func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ready(); err != nil {
		return err
	}
	if c.lastStop.Gone() {
		return fmt.Errorf("%w: the target has exited", ErrClosed)
	}
	c.drain()
	if err := send(); err != nil {
		return fmt.Errorf("resuming: %w", err)
	}
	c.running = true
	return nil
}

// Running reports whether the target was resumed and has not reported a
// stop yet.
func (c *Client) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running
}

// Wait waits for the running target to stop and returns the stop reply.
// Console output that arrives meanwhile goes to Options.Console. If ctx
// ends first, Wait returns ctx's error and the target keeps running: call
// Wait again, or Interrupt and then Wait. Only one goroutine may Wait.
func (c *Client) Wait(ctx context.Context) (Stop, error) {
	if !c.Running() {
		return Stop{}, ErrNotRunning
	}
	for {
		reply, err := c.recv(nil, ctx.Done())
		if errors.Is(err, errDone) {
			return Stop{}, ctx.Err()
		}
		if err != nil {
			return Stop{}, fmt.Errorf("waiting for a stop: %w", err)
		}
		if len(reply) > 1 && reply[0] == 'O' && string(reply) != "OK" {
			if text, err := decodeHex(reply[1:]); err == nil && c.opts.Console != nil {
				_, _ = c.opts.Console.Write(text)
			}
			continue
		}
		stop, err := parseStop(reply)
		if err != nil {
			return Stop{}, fmt.Errorf("waiting for a stop: %w", err)
		}
		c.mu.Lock()
		c.running = false
		c.lastStop = stop
		c.mu.Unlock()
		return stop, nil
	}
}

// ExpectStop marks the target running without resuming it, for a target
// that someone else stopped (QEMU's monitor: `virsh suspend`) and will
// resume: Wait then returns its next stop.
func (c *Client) ExpectStop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running = true
}

// AssumeStopped marks the target stopped without a stop reply, for a
// target someone else stopped (QEMU's monitor) after ExpectStop: requests
// may be sent again. QEMU answers them while the VM is paused.
func (c *Client) AssumeStopped() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running = false
}

// Interrupt asks a running target to stop (the 0x03 byte); Wait returns
// the stop. It does nothing if the target is stopped. A stop that raced
// with the interrupt is reported instead: there is one stop per resume.
func (c *Client) Interrupt() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running || c.detached {
		return nil
	}
	return c.write([]byte{0x03})
}

// Detach removes QEMU's breakpoints and resumes the VM (`D;1` with
// multiprocess ids, `D` otherwise). Afterwards every request fails with
// ErrDetached: any byte sent to QEMU would stop the VM again.
func (c *Client) Detach() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ready(); err != nil {
		return err
	}
	req := "D"
	if c.Multiprocess() {
		pid := c.lastStop.Thread.PID
		if pid <= 0 {
			pid = 1
		}
		req = "D;" + idString(pid)
	}
	if err := c.exchangeOK([]byte(req)); err != nil {
		return fmt.Errorf("detaching: %w", err)
	}
	c.detached = true
	return nil
}
