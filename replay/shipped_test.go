package replay

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"nitro/api"
)

// shipped is the recording the README has one open first, made from the
// lab guest by `make lab-recording` (nitro record --count 2500);
// shippedBudget is what it may weigh in the repository.
const (
	shipped       = "../examples/lab.nitro"
	shippedCalls  = 2500
	shippedBudget = 128 << 10
)

// TestShippedRecording plays the shipped recording to its end and checks it
// holds what the README says: the lab's programs started, whole runs of
// nitro-probe and nitro-probe32 (lab/guest/probe.c, probe32.c) with their
// failing opens, and the guest's processes.
func TestShippedRecording(t *testing.T) {
	st, err := os.Stat(shipped)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > shippedBudget {
		t.Errorf("%s weighs %d bytes, over its budget of %d", shipped, st.Size(), shippedBudget)
	}
	h, err := Open(shipped, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Damage != nil {
		t.Errorf("%s is damaged: %v", shipped, h.Damage)
	}
	s := attach(t, shipped, Options{}, api.AttachOptions{})
	sub := s.Subscribe(1<<16, api.Lossless)
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	calls := collect(sub)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	pos := s.(api.Playback).Position()
	if n := len(calls); n == 0 || uint64(n) != pos.Calls || calls[n-1].Seq != pos.Last {
		t.Fatalf("played %d calls; the recording has %d, to seq %d", n, pos.Calls, pos.Last)
	}
	if len(calls) != shippedCalls {
		t.Errorf("%s holds %d calls; the README says %d", shipped, len(calls), shippedCalls)
	}

	// Each exit as strace prints it, by process name.
	lines := map[string]map[string]bool{}
	for i := range calls {
		sc := &calls[i]
		if !sc.IsExit() {
			continue
		}
		comm := sc.Process.Comm
		if lines[comm] == nil {
			lines[comm] = map[string]bool{}
		}
		text := string(api.AppendCall(nil, sc, api.Whole))
		if ret := fmt.Sprintf(" = %d", sc.Process.PID); sc.Name == "getpid" && strings.HasSuffix(text, ret) {
			text = strings.TrimSuffix(text, ret) + " = PID" // its own pid, whichever it was
		}
		lines[comm][text] = true
	}
	for comm, want := range map[string][]string{
		"cat": {`execve("/bin/cat", ["/bin/cat", "/etc/nitro/probe-input"]`},
		"ls":  {`execve("/bin/ls", ["/bin/ls", "/"]`},
		"nitro-probe": {
			`execve("/bin/nitro-probe", ["/bin/nitro-probe"]`,
			"getpid() = PID",
			`openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY) = 3`,
			`openat(AT_FDCWD, "/nonexistent/nitro-probe", O_RDONLY) = -1 ENOENT (No such file or directory)`,
		},
		"nitro-probe32": {
			`execve("/bin/nitro-probe32", ["/bin/nitro-probe32"]`,
			"i386:getpid() = PID",
			`i386:open("/etc/nitro/probe-input", O_RDONLY) = 3`,
			`i386:open("/nonexistent/nitro-probe32", O_RDONLY) = -1 ENOENT (No such file or directory)`,
		},
	} {
		for _, w := range want {
			if !hasPrefixIn(lines[comm], w) {
				t.Errorf("no call of %s reads %s", comm, w)
			}
		}
	}

	procs, err := s.Processes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	init := false
	for _, p := range procs {
		init = init || p.PID == 1 && p.Comm == "init"
	}
	if !init {
		t.Errorf("the process table at the end lacks the guest's init: %+v", procs)
	}
}

// hasPrefixIn says whether a line of lines starts with prefix.
func hasPrefixIn(lines map[string]bool, prefix string) bool {
	for l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
