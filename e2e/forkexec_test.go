package e2e

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"nitro/internal/lab"
)

// TestTraceForkExecUntouched traces nitro-forkexec (lab/guest/forkexec.c),
// whose forked child calls execve with a path and argv in a page of the
// program its page tables do not map: nitro must read them as the kernel
// does, from the page cache, and show what the program says it passed.
func TestTraceForkExecUntouched(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) {
			start, err := g.SerialSize()
			if err != nil {
				t.Fatal(err)
			}
			events := runTrace(t, g, "--syscalls", "execve", "--comm", "nitro-forkexec", "--count", "4", "--duration", "2m")
			var children int
			for _, e := range events {
				// The parent's own execve enters as its shell; the child's
				// is the one made as nitro-forkexec.
				if e.Name != "execve" || e.Direction != "enter" || e.Comm != "nitro-forkexec" {
					continue
				}
				children++
				said := regexp.MustCompile(`^nitro-forkexec: child ` + strconv.Itoa(e.PID) + ` execve (".*") (\[.*\])$`)
				m, _, err := g.WaitSerial(said, start, 30*time.Second)
				if err != nil {
					t.Fatalf("child %d: %v", e.PID, err)
				}
				if e.arg(0) != m[1] || e.arg(1) != m[2] {
					t.Errorf("child %d: nitro shows execve(%s, %s), the program passed execve(%s, %s)", e.PID, e.arg(0), e.arg(1), m[1], m[2])
				}
			}
			if children == 0 {
				t.Fatalf("no execve of a nitro-forkexec child in %d events", len(events))
			}
		})
	}
}
