package e2e

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"nitro/api"
	"nitro/internal/lab"
)

// hiddenRow is a row of nitro ps --hidden --json.
type hiddenRow struct {
	PID, TID int
	Comm     string
	In       []string
	Missing  []string
}

// psHidden runs nitro ps --hidden --json on domain and returns its rows
// and exit status.
func psHidden(t *testing.T, domain string) ([]hiddenRow, int) {
	t.Helper()
	out, code := runVerdict(t, "-c", lab.URI, "ps", "--hidden", "--json", domain)
	var rows []hiddenRow
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	return rows, code
}

// hiddenPID is the pid the suspicious guest's kernel module hid
// (lab/sus/init), once the guest's own ps was seen not to list it.
func hiddenPID(t *testing.T, g lab.Guest) int {
	t.Helper()
	m, _, err := g.WaitSerial(regexp.MustCompile(`^nitro-sus: hidden pid (\d+)$`), 0, 2*time.Minute)
	if err != nil {
		t.Fatalf("the guest did not hide its process: %v", err)
	}
	if _, _, err := g.WaitSerial(regexp.MustCompile(`^nitro-sus: ps does not list pid `+m[1]+`$`), 0, time.Minute); err != nil {
		t.Fatalf("the guest's own ps lists the hidden pid %s: %v", m[1], err)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// TestHiddenSus: on the suspicious guest, the process its rootkit module
// unlinked from the task list and /proc's listing (the guest's own ps
// does not list it) is the one task nitro ps --hidden lists: in the pid
// table, missing from the task list; and it exits 2.
func TestHiddenSus(t *testing.T) {
	g := sus.up(t)
	pid := hiddenPID(t, g)
	rows, code := psHidden(t, g.Name)
	if code != 2 || len(rows) != 1 {
		t.Fatalf("exit status %d, hidden %+v; want 2 and pid %d alone", code, rows, pid)
	}
	r := rows[0]
	if r.PID != pid || r.TID != pid || r.Comm != "nitro-hidden" ||
		!slices.Contains(r.In, api.ViewPidTable) || !slices.Equal(r.Missing, []string{api.ViewTaskList}) {
		t.Errorf("hidden %+v; want pid %d nitro-hidden, in the pid table, missing from the task list", r, pid)
	}
	requireRunning(t, g)
}

// TestHiddenPlainLab: the plain lab guest hides nothing.
func TestHiddenPlainLab(t *testing.T) {
	lab.RequireRoot(t)
	rows, code := psHidden(t, lab.Default.Name)
	if code != 0 || len(rows) != 0 {
		t.Errorf("exit status %d, hidden tasks on the plain lab guest: %+v", code, rows)
	}
}
