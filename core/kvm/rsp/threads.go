package rsp

import (
	"fmt"
	"strings"
)

// Thread is a thread id: a process and a thread within it, both as the
// stub numbers them (QEMU: process 1, thread N is vCPU N-1). -1 means all,
// 0 any. PID is 0 unless the stub speaks multiprocess ids.
type Thread struct {
	PID, TID int64
}

// AllThreads is the thread id that means every thread.
var AllThreads = Thread{PID: -1, TID: -1}

func (t Thread) String() string {
	if t.PID == 0 {
		return idString(t.TID)
	}
	return "p" + idString(t.PID) + "." + idString(t.TID)
}

func idString(id int64) string {
	if id == -1 {
		return "-1"
	}
	return fmt.Sprintf("%x", id)
}

func parseID(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	v, err := parseHexUint(s, 31)
	return int64(v), err
}

// parseThread parses `p1.2`, `p1` (every thread of process 1), `2`, `-1`.
func parseThread(s string) (Thread, error) {
	var t Thread
	var err error
	if rest, ok := strings.CutPrefix(s, "p"); ok {
		pid, tid, dotted := strings.Cut(rest, ".")
		if t.PID, err = parseID(pid); err != nil {
			return Thread{}, err
		}
		if !dotted {
			t.TID = -1
			return t, nil
		}
		s = tid
	}
	t.TID, err = parseID(s)
	return t, err
}

// wire renders a thread id the way the stub expects it.
func (c *Client) wire(t Thread) string {
	if !c.Multiprocess() {
		t.PID = 0
	} else if t.PID == 0 {
		t.PID = -1
	}
	return t.String()
}

// maxThreads bounds the thread list a hostile stub can make the client
// collect.
const maxThreads = 4096

// Threads lists the target's threads (QEMU: one per vCPU) with
// qfThreadInfo and qsThreadInfo.
func (c *Client) Threads() ([]Thread, error) {
	var threads []Thread
	req := "qfThreadInfo"
	for {
		reply, err := c.request([]byte(req))
		if err != nil {
			return nil, fmt.Errorf("listing threads: %w", err)
		}
		if len(reply) == 0 || reply[0] == 'l' {
			return threads, nil
		}
		if reply[0] != 'm' {
			return nil, fmt.Errorf("listing threads: %w: %.32q", ErrMalformed, reply)
		}
		for item := range strings.SplitSeq(string(reply[1:]), ",") {
			t, err := parseThread(item)
			if err != nil {
				return nil, fmt.Errorf("listing threads: %w", err)
			}
			threads = append(threads, t)
		}
		if len(threads) > maxThreads {
			return nil, fmt.Errorf("listing threads: %w: over %d threads", ErrTooLarge, maxThreads)
		}
		req = "qsThreadInfo"
	}
}

// SelectThread chooses the thread later requests apply to: op 'g' for
// registers and memory, 'c' for the legacy `c` and `s` packets.
func (c *Client) SelectThread(op byte, t Thread) error {
	if op != 'g' && op != 'c' {
		return fmt.Errorf("selecting thread: bad operation %q", op)
	}
	if err := c.requestOK([]byte("H" + string(op) + c.wire(t))); err != nil {
		return fmt.Errorf("selecting thread %s for %q: %w", t, op, err)
	}
	return nil
}
