package ui

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"nitro/api"
	"nitro/triage"
	"nitro/ui/common"
	"nitro/ui/views"
)

// triageView is the attached screen's triage: an engine running the
// built-in rules on every call the screen receives, and the activity pane
// that the triage key puts in the syscall pane's place (findings, files,
// network, exec lineage, then back). A playback's move starts the engine
// again: it judges the calls the screen holds, in order.
type triageView struct {
	eng  *triage.Engine
	pane *views.Activity
	on   bool // the activity pane is on top
	// findings and severe are the counts the status bar shows.
	findings, severe int
	changes          uint64 // the engine's Changes when they were counted
}

func newTriageView(c *common.Common) *triageView {
	t := &triageView{pane: views.NewActivity(c)}
	t.reset()
	return t
}

// reset starts the engine again, with nothing judged.
func (t *triageView) reset() {
	t.eng = triage.New(triage.Builtin())
	t.eng.KeepActivity()
	t.findings, t.severe, t.changes = 0, 0, 0
}

// add judges a batch.
func (t *triageView) add(batch []api.Syscall) {
	for i := range batch {
		t.eng.Feed(&batch[i])
	}
	t.changed()
}

// listed judges a listing of the guest's processes: the hidden ones are
// findings.
func (t *triageView) listed(ps []api.Process, at time.Time) {
	t.eng.Listed(ps, at)
	t.changed()
}

// changed refreshes the findings' counts (and the pane, when it lists
// them) if the engine's findings changed.
func (t *triageView) changed() {
	if t.eng.Changes == t.changes {
		return
	}
	t.changes = t.eng.Changes
	if t.on && t.pane.Kind() == views.Findings {
		t.refresh()
		return
	}
	t.count(t.eng.Findings())
}

func (t *triageView) count(fs []triage.Finding) {
	t.findings, t.severe = len(fs), 0
	for _, f := range fs {
		if f.Severity >= triage.Warning {
			t.severe++
		}
	}
}

// refresh lays out the pane's rows from what the engine has now: the
// files, network and exec views are redone on each refresh tick.
func (t *triageView) refresh() {
	kind := t.pane.Kind()
	var rows []views.ActivityRow
	note := ""
	switch kind {
	case views.Findings:
		fs := t.eng.Findings()
		t.count(fs)
		rows = findingRows(fs)
		note = fmt.Sprintf("%d (%d severe)", t.findings, t.severe)
	case views.Files:
		for _, u := range t.eng.Files() {
			to := ""
			if u.To != "" {
				to = " -> " + u.To
			}
			rows = append(rows, views.ActivityRow{Seq: u.Seq, Severe: u.Result != "ok",
				Text: fmt.Sprintf("%7d %-15s %-7s %s%s  %s  %s  x%d", u.PID, u.Comm, u.Op, u.Path, to, u.Mode, u.Result, u.Count)})
		}
	case views.Network:
		for _, s := range t.eng.Network() {
			closed := ""
			if s.Closed {
				closed = "  closed"
			}
			rows = append(rows, views.ActivityRow{Seq: s.Seq, Severe: s.Result != "" && s.Result != "ok",
				Text: fmt.Sprintf("%7d %-15s fd %-3d %-5s %s  local %s  remote %s  %s %s  sent %d  recv %d%s", s.PID, s.Comm, s.FD,
					s.Family, s.Type, dash(s.Local), dash(s.Remote), strings.Join(s.Ops, ","), s.Result, s.Sent, s.Received, closed)})
		}
	case views.Exec:
		rows = execRows(rows, t.eng.Execs(), 0)
	}
	if kind != views.Findings {
		note = fmt.Sprint(len(rows))
		if d := t.eng.ActivityDropped(); d > 0 {
			note += fmt.Sprintf(" (%d not kept)", d)
		}
	}
	t.pane.Set(kind, rows, note)
}

// findingRows are the findings, each followed by its evidence calls.
func findingRows(fs []triage.Finding) []views.ActivityRow {
	var rows []views.ActivityRow
	for _, f := range fs {
		var jump uint64 // none for a hidden process that made no call yet
		if len(f.Evidence) > 0 {
			jump = cmp.Or(f.Evidence[0].Entry, f.Evidence[0].Seq)
		}
		rows = append(rows, views.ActivityRow{Seq: jump, Severe: f.Severity >= triage.Warning,
			Text: fmt.Sprintf("%-8s %s  %d %s  x%d  %s", strings.ToUpper(f.Severity.String()), views.Plain(f.Rule),
				f.PID, f.Comm, f.Count, views.Plain(f.Why))})
		for _, ev := range f.Evidence {
			seq := ev.Entry
			if seq == 0 {
				seq = ev.Seq
			}
			rows = append(rows, views.ActivityRow{Seq: seq, Text: fmt.Sprintf("    #%d  %s", seq, ev.Text)})
		}
	}
	return rows
}

// execRows lays out the exec lineage, a process a row under its parent.
func execRows(rows []views.ActivityRow, nodes []*triage.ExecNode, depth int) []views.ActivityRow {
	for _, n := range nodes {
		var seq uint64
		var exe []string
		for _, e := range n.Execs {
			if seq == 0 {
				seq = e.Seq
			}
			exe = append(exe, e.Argv)
		}
		end := ""
		if n.Exited {
			end = "  exited"
			if n.Status != nil {
				end = fmt.Sprintf("  exited %d", *n.Status)
			}
		}
		rows = append(rows, views.ActivityRow{Seq: seq,
			Text: fmt.Sprintf("%s%d %s  %s%s", strings.Repeat("  ", min(depth, 8)), n.PID, n.Comm, strings.Join(exe, " then "), end)})
		rows = execRows(rows, n.Children, depth+1)
	}
	return rows
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// next shows the next view: the syscall pane, then each activity view,
// then the syscall pane again.
func (t *triageView) next() {
	if !t.on {
		t.on = true
		t.pane.Set(views.Findings, nil, "")
		t.refresh()
		return
	}
	k, ok := t.pane.Kind().Next()
	if !ok {
		t.on = false
		return
	}
	t.pane.Set(k, nil, "")
	t.refresh()
}

// switchTop shows the next view on top (triageView.next), focused.
func (a *attached) switchTop() {
	a.tri.next()
	a.panes[0] = a.syscalls
	if a.tri.on {
		a.panes[0] = a.tri.pane
	}
	a.setFocus(0)
}

// topPane is the pane on top: the syscall pane or the activity pane.
func (a *attached) topPane() paneView { return a.panes[0] }

// jump selects the call of seq in the syscall pane, put back on top.
func (a *attached) jump(m *Model, seq uint64) {
	if a.tri.on {
		a.tri.on = false
		a.panes[0] = a.syscalls
	}
	a.setFocus(0)
	if !a.syscalls.SelectSeq(seq) {
		m.setNote(fmt.Sprintf("call #%d is not in the pane: filtered out, or no longer kept", seq), true)
		return
	}
	a.syncInspector()
	m.setNote(fmt.Sprintf("call #%d", seq), false)
}
