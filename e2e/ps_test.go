package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"nitro/internal/lab"
)

type guestProc struct {
	pid, ppid int
	comm      string
}

// guestPS is one process list the guest printed (lab/guest/init): the
// processes but the ps that listed them, which has exited, the lister's
// pid, and pid_max.
type guestPS struct {
	procs          map[int]guestProc
	lister, pidMax int
}

var (
	psBegin = regexp.MustCompile(`^nitro-lab: ps begin$`)
	psLine  = regexp.MustCompile(`^\s*(\d+)\s+(\d+)\s+(.*)$`)
	psEnd   = regexp.MustCompile(`^nitro-lab: ps end lister=(\d+) pid_max=(\d+)$`)
)

// nextPS waits for the first whole process list the guest prints after
// offset after, and returns it and the offset just past it.
func nextPS(g lab.Guest, after int, timeout time.Duration) (guestPS, int, error) {
	_, from, err := g.WaitSerial(psBegin, after, timeout)
	if err != nil {
		return guestPS{}, 0, err
	}
	end, to, err := g.WaitSerial(psEnd, from, timeout)
	if err != nil {
		return guestPS{}, 0, err
	}
	log, err := g.Serial()
	if err != nil {
		return guestPS{}, 0, err
	}
	if to < from || to > len(log) {
		return guestPS{}, 0, fmt.Errorf("%s restarted while printing its process list", g.Name)
	}
	ps := guestPS{procs: map[int]guestProc{}}
	ps.lister, _ = strconv.Atoi(end[1])
	ps.pidMax, _ = strconv.Atoi(end[2])
	for line := range strings.SplitSeq(log[from:to], "\n") {
		if m := psLine.FindStringSubmatch(strings.TrimSuffix(line, "\r")); m != nil {
			pid, _ := strconv.Atoi(m[1])
			ppid, _ := strconv.Atoi(m[2])
			if pid != ps.lister {
				ps.procs[pid] = guestProc{pid, ppid, m[3]}
			}
		}
	}
	return ps, to, nil
}

// startedAfter says whether pid was handed out after the lister's. The
// kernel hands pids out upwards, wrapping from pid_max to 300
// (RESERVED_PIDS). Between the list and the suspend the guest starts a few
// processes, far fewer than the 1000 allowed here; a pid further on, or
// behind the lister's, is no new one.
func (ps guestPS) startedAfter(pid int) bool {
	d := pid - ps.lister
	if d <= 0 {
		if pid < 300 {
			return false
		}
		d = ps.pidMax - ps.lister + pid - 300
	}
	return d > 0 && d <= 1000
}

// TestPSMatchesGuest suspends each guest right after it printed its own
// process list and compares `nitro ps --json`, read from the suspended
// guest's memory with KASLR on, against it.
func TestPSMatchesGuest(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) { checkPS(t, g) })
	}
}

func checkPS(t *testing.T, g lab.Guest) {
	dom := labDomain(t, g)

	start, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	// The light workload prints its process list every ten iterations.
	want, end, err := nextPS(g, start, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := dom.Suspend(); err != nil {
		t.Fatal(err)
	}
	// The guest runs again however the test ends; once, here or below.
	resume := sync.OnceValue(dom.Resume)
	t.Cleanup(func() {
		if err := resume(); err != nil {
			t.Errorf("resuming %s: %v", g.Name, err)
		}
	})
	if len(want.procs) < 10 {
		t.Fatalf("guest printed only %d processes", len(want.procs))
	}

	out, err := exec.Command(nitroBin, "-c", lab.URI, "ps", "--json", g.Name).Output()
	if err != nil {
		t.Fatalf("nitro ps: %v", err)
	}
	var got []struct {
		PID, PPID int
		Comm      string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("nitro ps --json: %v\n%s", err, out)
	}
	seen := map[int]bool{}
	for _, p := range got {
		seen[p.PID] = true
		w, ok := want.procs[p.PID]
		if !ok {
			if !want.startedAfter(p.PID) {
				t.Errorf("nitro sees pid %d (%s) the guest did not list (its lister was pid %d)", p.PID, p.Comm, want.lister)
			}
			continue
		}
		if w.ppid != p.PPID || !sameComm(w.comm, p.Comm) {
			t.Errorf("pid %d: nitro sees ppid %d comm %q, guest says ppid %d comm %q", p.PID, p.PPID, p.Comm, w.ppid, w.comm)
		}
	}
	var missing []guestProc
	for pid, w := range want.procs {
		if !seen[pid] {
			missing = append(missing, w)
		}
	}
	if len(missing) == 0 {
		return
	}
	// The lister aside, init has no child when it prints the list, but a
	// kernel thread may have ended between the list and the suspend. The
	// guest's next list tells: a process in it still ran at the suspend, and
	// nitro had to see it.
	if err := resume(); err != nil {
		t.Fatalf("resuming %s: %v", g.Name, err)
	}
	next, _, err := nextPS(g, end, 60*time.Second)
	if err != nil {
		t.Fatalf("nitro does not see %v; the guest's next list, to tell whether they ended: %v", missing, err)
	}
	for _, w := range missing {
		if n, ok := next.procs[w.pid]; ok && n.ppid == w.ppid {
			t.Errorf("guest lists pid %d (%s), nitro does not", w.pid, w.comm)
		} else {
			t.Logf("pid %d (%s) ended after the guest listed it", w.pid, w.comm)
		}
	}
}

// sameComm says whether nitro's comm (task_struct.comm) names the process
// the guest listed as comm. task_struct.comm holds 15 bytes, where /proc
// shows a kernel thread's full name, and a kernel worker's name followed by
// its latest workqueue ("kworker/0:0-events", "+" while it runs one).
func sameComm(guest, nitro string) bool {
	rest, ok := strings.CutPrefix(guest, nitro)
	switch {
	case !ok:
		return false
	case rest == "" || len(nitro) == 15:
		return true
	default:
		return strings.HasPrefix(nitro, "kworker/") && (rest[0] == '-' || rest[0] == '+')
	}
}
