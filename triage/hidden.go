package triage

import (
	"time"

	"nitro/api"
	"nitro/internal/escape"
)

// hiddenRule is the finding no call can show: a task the back end found
// hidden, comparing the kernel's views of its tasks (api.Process.Hidden).
// It is built in, apart from the rule files: its condition is a listing's.
var hiddenRule = &Rule{
	Name:     "hidden_process",
	Severity: Critical,
	Why:      "a process the kernel's task list lacks (ps and /proc do not show it) while another view holds it: hidden, as a rootkit hides",
}

// Listed judges a listing of the guest's tasks (a session's Processes,
// taken at at): each process with a task marked Hidden is a
// hidden_process finding, whose why names the views, counted once a
// listing, and whose evidence is the calls the process makes from then
// on (each listing of a recording or an older back end marks none).
func (e *Engine) Listed(ps []api.Process, at time.Time) {
	counted := map[int]bool{}
	for _, p := range ps {
		if p.Hidden == nil || counted[p.PID] {
			continue
		}
		counted[p.PID] = true
		key := findingKey{hiddenRule, p.PID}
		f := e.found[key]
		if f == nil {
			if len(e.found) >= maxFindings {
				e.Dropped++
				continue
			}
			f = &Finding{Rule: hiddenRule.Name, Severity: hiddenRule.Severity, PID: p.PID, Comm: escape.String(p.Comm),
				First: at, Evidence: []Evidence{}}
			e.found[key] = f
			if len(e.hidden) >= maxProcs {
				clear(e.hidden) // evidence is a bonus: bounded beats complete
			}
			e.hidden[p.PID] = f
		}
		f.Why = hiddenRule.Why + ": " + p.Hidden.String()
		f.Count++
		f.Last = at
		e.Changes++
	}
}

// hiddenCall adds sc, a call of a hidden process, to its finding.
func (e *Engine) hiddenCall(f *Finding, sc *api.Syscall) {
	if len(f.Evidence) < maxEvidence {
		f.Evidence = append(f.Evidence, e.evidence(sc))
		e.Changes++
	}
}
