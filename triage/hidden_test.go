package triage

import (
	"strings"
	"testing"

	"nitro/api"
)

// TestListedHidden: a listing's hidden process is a critical finding
// whose why names the views, counted once a listing (its thread too is
// hidden, and adds nothing), with the calls it makes after as evidence;
// the processes the views agree on are no finding.
func TestListedHidden(t *testing.T) {
	g := newGuest()
	hiding := &api.Hiding{In: []string{api.ViewPidTable}, Missing: []string{api.ViewTaskList}}
	listing := []api.Process{
		{PID: 1, TID: 1, Comm: "init"},
		{PID: 115, TID: 115, PPID: 80, Comm: "nitro-hidden\x1b[2J", Hidden: hiding},
		{PID: 115, TID: 116, PPID: 80, Comm: "nitro-hidden\x1b[2J", Hidden: hiding},
	}
	e := New(Builtin())
	e.Listed(listing, g.at)
	fs := e.Findings()
	if len(fs) != 1 {
		t.Fatalf("findings %+v, want one", fs)
	}
	f := fs[0]
	if f.Rule != "hidden_process" || f.Severity != Critical || f.PID != 115 || f.Comm != `nitro-hidden\x1b[2J` || f.Count != 1 ||
		!strings.HasSuffix(f.Why, ": in the pid table, not in the task list") || len(f.Evidence) != 0 {
		t.Errorf("finding %+v", f)
	}

	hidden := g.proc(115, 80, "nitro-hidden", 0)
	hidden.call("nanosleep", 0, "", num(0x7ffc0000, "{tv_sec=1, tv_nsec=0}"), num(0, "NULL"))
	g.proc(42, 1, "cat", 0).call("getpid", 42, "")
	for i := range g.calls {
		e.Feed(&g.calls[i])
	}
	e.Listed(listing, g.at)
	f = e.Findings()[0]
	if f.Count != 2 || len(f.Evidence) != 1 || f.Evidence[0].Seq != 2 || f.Evidence[0].Text != "nanosleep({tv_sec=1, tv_nsec=0}, NULL) = 0" {
		t.Errorf("after its call and a second listing: %+v", f)
	}
}
