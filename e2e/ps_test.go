package e2e

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"nitro/internal/lab"
)

type guestProc struct {
	pid, ppid int
	comm      string
}

var psLine = regexp.MustCompile(`^ps:\s+(\d+)\s+(\d+)\s+(.+)$`)

// lastPS returns the last complete process list the guest printed.
func lastPS(log string) map[int]guestProc {
	end := strings.LastIndex(log, "nitro-lab: ps end")
	begin := strings.LastIndex(log[:max(end, 0)], "nitro-lab: ps begin")
	if end < 0 || begin < 0 {
		return nil
	}
	procs := map[int]guestProc{}
	for _, line := range strings.Split(log[begin:end], "\n") {
		if m := psLine.FindStringSubmatch(strings.TrimRight(line, "\r")); m != nil {
			pid, _ := strconv.Atoi(m[1])
			ppid, _ := strconv.Atoi(m[2])
			procs[pid] = guestProc{pid, ppid, m[3]}
		}
	}
	return procs
}

// TestPSMatchesGuest pauses each guest right after it printed its own
// process list and compares `nitro ps --json`, read from guest memory with
// KASLR on, against it.
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
	if _, _, err := g.WaitSerial(regexp.MustCompile(`^nitro-lab: ps end`), start, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := dom.Suspend(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := dom.Resume(); err != nil {
			t.Errorf("resuming %s: %v", g.Name, err)
		}
	}()
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	want := lastPS(log)
	if len(want) < 10 {
		t.Fatalf("guest printed only %d processes", len(want))
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
	maxPID := 0
	for pid := range want {
		maxPID = max(maxPID, pid)
	}
	for _, p := range got {
		seen[p.PID] = true
		w, ok := want[p.PID]
		if !ok {
			if p.PID > maxPID {
				continue // started after the guest printed its list
			}
			t.Errorf("nitro sees pid %d (%s) the guest did not list", p.PID, p.Comm)
			continue
		}
		// /proc shows a kernel worker's current workqueue after its comm
		// ("kworker/0:0-events"); task_struct.comm has the name alone.
		if w.ppid != p.PPID || !(w.comm == p.Comm || strings.HasPrefix(p.Comm, "kworker/") && strings.HasPrefix(w.comm, p.Comm)) {
			t.Errorf("pid %d: nitro sees ppid %d comm %q, guest says ppid %d comm %q", p.PID, p.PPID, p.Comm, w.ppid, w.comm)
		}
	}
	for pid, w := range want {
		// ps and sed printed the list and are gone by now.
		if !seen[pid] && w.comm != "ps" && w.comm != "sed" {
			t.Errorf("guest lists pid %d (%s), nitro does not", pid, w.comm)
		}
	}
	if !seen[1] {
		t.Error("nitro does not see init")
	}
}
