package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"nitro/core/backend"
	"nitro/internal/lab"
)

// probe32Calls is what nitro-probe32 calls, in order, alternating int 0x80
// and the vDSO (lab/guest/probe32.c).
var probe32Calls = []string{"getpid", "getppid", "open", "read", "close", "open", "write", "exit_group"}

// probe32Line is nitro-probe32's first console line: its pid and parent,
// and how the vDSO entered the kernel.
func probe32Line(pid int) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`^nitro-probe32: pid %d ppid (\d+) via (\S+) read 18 bytes: nitro probe (input|OTHER)$`, pid))
}

// TestTraceCompat traces the 32-bit nitro-probe32 on each guest: int 0x80,
// and the vDSO's 32-bit syscall (AMD, nitro-lab) or sysenter (Intel,
// nitro-lab-612), all with i386 numbers and arguments in ebx, ecx, edx...
func TestTraceCompat(t *testing.T) {
	lab.RequireRoot(t)
	vias := map[string]string{lab.Default.Name: "vsyscall/syscall", lab.Newer.Name: "vsyscall/sysenter"}
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) {
			// A run is 16 events (its execve's exit, 8 entries, 7 exits).
			events := runTrace(t, g, "--comm", "nitro-probe32", "--count", "40", "--duration", "3m")
			byPID := map[int][]traceEvent{}
			for _, e := range events {
				if e.Name != "execve" {
					byPID[e.PID] = append(byPID[e.PID], e)
				}
			}
			checked := 0
			for pid, evs := range byPID {
				if len(evs) != 2*len(probe32Calls)-1 || evs[0].Name != "getpid" {
					continue // a run cut by the start or end of the trace
				}
				checkProbe32Run(t, g, pid, evs, vias[g.Name])
				checked++
			}
			if checked == 0 {
				t.Fatalf("no whole run of nitro-probe32 in %d events", len(events))
			}
		})
	}
}

func checkProbe32Run(t *testing.T, g lab.Guest, pid int, evs []traceEvent, via string) {
	t.Helper()
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	out, err := probeOutputOf(log, "nitro-probe32", pid)
	if err != nil {
		t.Fatal(err)
	}
	line := probe32Line(pid).FindStringSubmatch(out.line)
	if line == nil {
		t.Fatalf("pid %d printed %q", pid, out.line)
	}
	if line[2] != via {
		t.Errorf("pid %d entered by %s, want %s: the lab's CPU vendor changed?", pid, line[2], via)
	}
	ppid, _ := strconv.Atoi(line[1])
	wants := []exitWant{
		{nil, int64(pid), ""},
		{nil, int64(ppid), ""},
		{[]string{`"/etc/nitro/probe-input"`, "O_RDONLY"}, 3, ""},
		{[]string{"3", `"nitro probe input\n"`, "128"}, 18, ""},
		{[]string{"3"}, 0, ""},
		{[]string{`"/nonexistent/nitro-probe32"`, "O_RDONLY"}, -2, "ENOENT"},
		{[]string{"1"}, int64(out.written), ""},
	}
	var exits []traceEvent
	for i, e := range evs {
		call := i / 2
		if e.ABI != "i386" || e.Name != probe32Calls[call] || e.PID != pid || e.PPID != ppid {
			t.Fatalf("pid %d: event %d is %s %s %s (pid %d ppid %d); want i386 %s of pid %d ppid %d",
				pid, i, e.ABI, e.Direction, e.Name, e.PID, e.PPID, probe32Calls[call], pid, ppid)
		}
		if e.Direction == "exit" {
			checkExit(t, pid, e, probe32Calls[call], wants[call])
			exits = append(exits, e)
		}
	}
	checkResults(t, pid, exits[:len(exits)-1], out)
}

// TestHookRewritesCompatOpen stops only at open (both conventions' handlers)
// and changes the path of nitro-probe32's first open, made with int 0x80,
// to the other file: the probe says it read that one.
func TestHookRewritesCompatOpen(t *testing.T) {
	lab.RequireRoot(t)
	runHooked(t, lab.Newer, "open", func(call *backend.Call) error {
		if call.Process.Comm != "nitro-probe32" || call.ABI != backend.I386 {
			return nil
		}
		return rewritePath(call, 0)
	}, regexp.MustCompile(`^nitro-probe32: pid \d+ ppid 1 via \S+ read 18 bytes: nitro probe OTHER$`))
}

// TestHookChangesVDSORead stops only at read and shortens the count of
// nitro-probe32's read, made through the vDSO (32-bit syscall on nitro-lab,
// sysenter on nitro-lab-612): the probe says it read 5 bytes.
func TestHookChangesVDSORead(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) {
			runHooked(t, g, "read", func(call *backend.Call) error {
				if call.Process.Comm != "nitro-probe32" || call.ABI != backend.I386 {
					return nil
				}
				return call.Arguments.Set(2, 5)
			}, regexp.MustCompile(`^nitro-probe32: pid \d+ ppid 1 via vsyscall/(sysenter|syscall) read 5 bytes: nitro`))
		})
	}
}
