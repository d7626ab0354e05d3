package e2e

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"nitro/internal/lab"
)

// peekLine is a round of nitro-peek (lab/guest/peek.c, in the hostile
// guest): the first 16 bytes of the kernel's code where tracers stop, as the
// guest itself reads them through /proc/kcore.
var peekLine = regexp.MustCompile(`^nitro-peek: round (\d+) pid (\d+) entry_SYSCALL_64 ([0-9a-f]{32}) __x64_sys_pread64 ([0-9a-f]{32})$`)

// peekRound is one round nitro-peek printed.
type peekRound struct {
	round, pid   int
	entry, pread string // hex
	line         string
	offsetPastIt int
}

// nextPeek waits for the first round nitro-peek prints after offset after.
func nextPeek(t *testing.T, g lab.Guest, after int) peekRound {
	t.Helper()
	m, off, err := g.WaitSerial(peekLine, after, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	r := peekRound{entry: m[3], pread: m[4], line: m[0], offsetPastIt: off}
	r.round, _ = strconv.Atoi(m[1])
	r.pid, _ = strconv.Atoi(m[2])
	return r
}

// TestBreakpointsUnseen: a program in the guest that reads its kernel's
// entry code (entry_SYSCALL_64, where every 64-bit call enters, and the
// pread64 handler) through /proc/kcore, as a rootkit checking for a
// debugger's int3 would, reads the same bytes while nitro traces it as
// when nothing does: traced with auto breakpoints (every call: the lab
// kernel's 64-bit and 32-bit entries and exits are more places than the
// four debug registers, so auto sets software ones beyond and says so)
// and with hardware ones only (pread64: its two handlers and their return).
//
// Under QEMU's TCG, the only accelerator here, QEMU keeps breakpoints of
// both kinds outside guest memory, so the guest cannot see either: what
// this guards against is nitro writing into guest text by itself. Under
// KVM, software breakpoints are int3 bytes the program would read.
func TestBreakpointsUnseen(t *testing.T) {
	g, _ := hostileGuest(t)
	size, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	// Nothing traces the guest now (the e2e tests run one at a time).
	base := nextPeek(t, g, size)
	// The entry begins with swapgs (after an endbr64 on IBT kernels).
	if i := strings.Index(base.entry, "0f01f8"); i != 0 && i != 8 {
		t.Fatalf("nitro-peek read no swapgs at entry_SYSCALL_64: %s", base.line)
	}
	t.Logf("untraced: %s", base.line)

	for _, tc := range []struct {
		name     string
		flags    []string // nitro's, then trace's
		software bool
	}{
		{"auto", []string{"--breakpoints", "auto", "trace"}, true},
		{"hardware", []string{"--breakpoints", "hardware", "trace", "--syscalls", "pread64"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-c", lab.URI}, tc.flags...)
			var stderr bytes.Buffer
			cmd, lines := pipeNitro(t, &stderr, append(args, "--format", "json", "--comm", "nitro-peek", g.Name)...)
			// Attached once nitro shows nitro-peek's pread64 of kcore.
			for seen := false; !seen; {
				if !lines.Scan() {
					cmd.Wait()
					t.Fatalf("nitro trace ended before nitro-peek's pread64:\n%s", stderr.Bytes())
				}
				var e traceEvent
				if err := json.Unmarshal(lines.Bytes(), &e); err != nil {
					t.Fatalf("line %q: %v", lines.Text(), err)
				}
				seen = e.Name == "pread64" && e.Direction == "exit" && e.Ret == 16
			}
			drain(lines)
			// A round printed after that may have read before nitro
			// attached; the round after it read all of its bytes traced.
			at, err := g.SerialSize()
			if err != nil {
				t.Fatal(err)
			}
			first := nextPeek(t, g, at)
			traced := nextPeek(t, g, first.offsetPastIt)
			for traced.round <= first.round {
				traced = nextPeek(t, g, traced.offsetPastIt)
			}
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("nitro %s: %v\n%s", strings.Join(tc.flags, " "), err, stderr.Bytes())
			}
			t.Logf("traced: %s\n%s", traced.line, stderr.Bytes())
			if traced.entry != base.entry || traced.pread != base.pread {
				t.Errorf("traced with %s breakpoints, the guest read other code than untraced:\n%s\n%s", tc.name, traced.line, base.line)
			}
			note := strings.Contains(stderr.String(), "nitro: software breakpoints")
			if note != tc.software {
				t.Errorf("--breakpoints %s: a note of software breakpoints %v, want %v; stderr:\n%s", tc.flags[1], note, tc.software, stderr.Bytes())
			}
			requireRunning(t, g)
		})
	}
}
