package ui

import (
	"strings"
	"testing"
	"time"

	"nitro/api"
)

// TestHiddenProcessFinding: a process listing with a hidden process makes
// a severe finding the status bar counts, whose row has no call to jump
// to until the process makes one.
func TestHiddenProcessFinding(t *testing.T) {
	m, s := attachedModel(t)
	defer m.Close()
	hidden := api.Process{PID: 115, TID: 115, PPID: 80, Comm: "nitro-hidden",
		Hidden: &api.Hiding{In: []string{api.ViewPidTable}, Missing: []string{api.ViewTaskList}}}
	m.Update(snapMsg{sess: s, taken: time.Unix(0, 0), procs: []api.Process{{PID: 1, TID: 1, Comm: "init"}, hidden}})
	if tri := m.att.tri; tri.findings != 1 || tri.severe != 1 {
		t.Fatalf("findings %d (%d severe), want 1 (1)", tri.findings, tri.severe)
	}
	rows := findingRows(m.att.tri.eng.Findings())
	if len(rows) != 1 || rows[0].Seq != 0 || !strings.Contains(rows[0].Text, "CRITICAL hidden_process  115 nitro-hidden  x1") {
		t.Errorf("rows %+v", rows)
	}
}
