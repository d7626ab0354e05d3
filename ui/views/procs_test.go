package views

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"nitro/api"
	"nitro/ui/calls"
)

// TestProcessTreeIncremental changes a guest's processes at random from one
// snapshot to the next (new ones, gone ones, new parents including loops
// and missing ones, new names, hidden or not, processes only the stream
// shows) and checks
// that the tree kept across those snapshots lays out every process once,
// exactly as a tree built from the last snapshot alone.
func TestProcessTreeIncremental(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := testCommon(t)
	store := calls.New(1000)
	kept := NewProcesses(c, store)
	var snap []api.Process
	seq := uint64(1)
	for round := range 300 {
		next := snap[:0:0]
		for _, p := range snap {
			switch r.IntN(10) {
			case 0: // gone
				continue
			case 1:
				p.PPID = r.IntN(60)
			case 2:
				p.Comm = fmt.Sprintf("c%d", r.IntN(5))
			case 3: // found hidden, or no longer
				if p.Hidden == nil {
					p.Hidden = &api.Hiding{In: []string{api.ViewPidTable}, Missing: []string{api.ViewTaskList}}
				} else {
					p.Hidden = nil
				}
			}
			next = append(next, p)
		}
		for range r.IntN(4) {
			pid := r.IntN(60)
			next = append(next, api.Process{PID: pid, TID: pid, PPID: r.IntN(60), Comm: "new"})
		}
		seen := map[int]bool{} // a pid is listed once
		snap = slices.DeleteFunc(next, func(p api.Process) bool {
			dup := seen[p.PID]
			seen[p.PID] = true
			return dup
		})
		if r.IntN(3) == 0 { // a call of a process the snapshot may lack
			pid := r.IntN(80)
			store.Add([]api.Syscall{{Seq: seq, Name: "getpid", Process: api.Process{PID: pid, TID: pid, PPID: r.IntN(80), Comm: "seen"}}})
			seq++
		}
		kept.Set(snap)
		fresh := NewProcesses(c, store)
		fresh.Set(slices.Clone(snap))
		if !slices.Equal(kept.rows, fresh.rows) {
			t.Fatalf("round %d: the kept tree\n%v\nis not the tree of the snapshot\n%v", round, kept.rows, fresh.rows)
		}
		shown := map[int]bool{}
		for _, row := range kept.rows {
			if shown[row.proc.PID] {
				t.Fatalf("round %d: pid %d shown twice", round, row.proc.PID)
			}
			shown[row.proc.PID] = true
		}
		for _, p := range snap {
			if !shown[p.PID] {
				t.Fatalf("round %d: pid %d not shown", round, p.PID)
			}
		}
	}
}

// TestProcessTreeMarksHidden: a process the back end found hidden is
// marked in its row, and only it.
func TestProcessTreeMarksHidden(t *testing.T) {
	v := NewProcesses(testCommon(t), calls.New(10))
	v.SetSize(80, 10)
	v.Set([]api.Process{
		{PID: 1, TID: 1, Comm: "init"},
		{PID: 115, TID: 115, PPID: 1, Comm: "nitro-hidden", Hidden: &api.Hiding{In: []string{api.ViewPidTable}, Missing: []string{api.ViewTaskList}}},
	})
	var marked []string
	for _, line := range strings.Split(Plain(v.View()), "\n") {
		if strings.Contains(line, "HIDDEN") {
			marked = append(marked, strings.TrimSpace(line))
		}
	}
	if len(marked) != 1 || !strings.Contains(marked[0], "115") || !strings.Contains(marked[0], "nitro-hidden") {
		t.Errorf("rows marked hidden: %q; want the one of pid 115", marked)
	}
}
