package calls_test

import (
	"testing"

	"nitro/api"
	"nitro/ui/calls"
	"nitro/ui/uitest"
)

func TestExitCompletesEntryInPlace(t *testing.T) {
	s := calls.New(10)
	open, read := uitest.Script()[0], uitest.Script()[1]
	s.Add([]api.Syscall{open.Enter(1, uitest.Epoch), read.Enter(2, uitest.Epoch)})
	if s.Len() != 2 || s.At(0).Done || s.At(1).Done {
		t.Fatalf("two entries: want 2 unfinished rows, have %d", s.Len())
	}
	s.Add([]api.Syscall{open.Exit(3, uitest.Epoch)})
	if s.Len() != 2 {
		t.Fatalf("an exit with its entry seen added a row: %d rows", s.Len())
	}
	if r := s.At(0); !r.Done || r.Call.Ret != 3 || r.Call.Name != "openat" {
		t.Errorf("row 0 = %+v, want openat completed = 3", r)
	}
	if s.At(1).Done {
		t.Error("the read completed with openat's exit")
	}
}

func TestExitMatchesMostRecentEntryOfThread(t *testing.T) {
	s := calls.New(10)
	c := uitest.Script()[0]
	other := c
	other.PID = 42 // same call number, another thread
	s.Add([]api.Syscall{c.Enter(1, uitest.Epoch), c.Enter(2, uitest.Epoch), other.Enter(3, uitest.Epoch)})
	s.Add([]api.Syscall{c.Exit(4, uitest.Epoch)})
	if s.At(0).Done || !s.At(1).Done || s.At(2).Done {
		t.Errorf("done = %v %v %v, want only the most recent entry of the thread completed",
			s.At(0).Done, s.At(1).Done, s.At(2).Done)
	}
}

func TestOrphanExitIsARow(t *testing.T) {
	s := calls.New(10)
	s.Add([]api.Syscall{uitest.Script()[2].Exit(1, uitest.Epoch)})
	if s.Len() != 1 || !s.At(0).Orphan || !s.At(0).Failed() {
		t.Fatalf("orphan exit: rows %d, row %+v", s.Len(), s.At(0))
	}
}

func TestRingIsBounded(t *testing.T) {
	s := calls.New(100)
	s.Add(uitest.Stream(1, 1000)) // 500 calls
	if s.Len() != 100 || s.Kept() != 100 {
		t.Fatalf("rows = %d, want the bound 100", s.Len())
	}
	// The oldest kept row is call 401: seq 801.
	if got := s.At(0).Call.Seq; got != 801 {
		t.Errorf("oldest row seq = %d, want 801", got)
	}
	if got := s.At(99).Call.Seq; got != 999 {
		t.Errorf("newest row seq = %d, want 999", got)
	}
}

func TestEvictedEntryIsNotCompleted(t *testing.T) {
	s := calls.New(2)
	c := uitest.Script()[0]
	s.Add([]api.Syscall{c.Enter(1, uitest.Epoch)})
	s.Add(uitest.Stream(3, 4)) // two calls of other threads push it out
	s.Add([]api.Syscall{c.Exit(9, uitest.Epoch)})
	last := s.At(s.Len() - 1)
	if !last.Orphan || last.Call.Seq != 9 {
		t.Errorf("exit of an evicted entry: last row %+v, want an orphan row", last)
	}
}

func TestFilterIndexFollowsAddsAndEviction(t *testing.T) {
	s := calls.New(50)
	f, err := calls.Parse("name:openat")
	if err != nil {
		t.Fatal(err)
	}
	s.SetFilter(f)
	s.Add(uitest.Stream(1, 300))
	inc := rows(s)
	s.SetFilter(f) // rebuild from scratch
	if rebuilt := rows(s); !equal(inc, rebuilt) {
		t.Fatalf("incremental index %v != rebuilt %v", inc, rebuilt)
	}
	for i := 0; i < s.Len(); i++ {
		if s.At(i).Call.Name != "openat" {
			t.Fatalf("filter kept %q", s.At(i).Call.Name)
		}
	}
	if s.Len() == 0 || s.Len() == s.Kept() {
		t.Fatalf("filter kept %d of %d", s.Len(), s.Kept())
	}
}

func TestFilterSeesCompletion(t *testing.T) {
	s := calls.New(10)
	f, _ := calls.Parse("ENOENT")
	s.SetFilter(f)
	c := uitest.Script()[2]
	s.Add([]api.Syscall{c.Enter(1, uitest.Epoch)})
	if s.Len() != 0 {
		t.Fatal("unfinished call matched ENOENT")
	}
	s.Add([]api.Syscall{c.Exit(2, uitest.Epoch)})
	if s.Len() != 1 {
		t.Fatal("call that failed with ENOENT not kept once complete")
	}
}

func TestParse(t *testing.T) {
	f, err := calls.Parse("sys:read name:write pid:77 comm:ca root:x")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Names) != 2 || f.PID != 77 || f.Comm != "ca" || len(f.Text) != 1 {
		t.Errorf("Parse = %+v", f)
	}
	if _, err := calls.Parse("pid:x"); err == nil {
		t.Error("pid:x parsed")
	}
	s := calls.New(100)
	s.Add(uitest.Stream(1, 12))
	s.SetFilter(f)
	if s.Len() != 1 || s.At(0).Call.Name != "read" {
		t.Errorf("filter kept %d rows", s.Len())
	}
}

func TestFilterOnEscapedComm(t *testing.T) {
	s := calls.New(100)
	s.Add(uitest.Stream(1, 12))
	f, _ := calls.Parse(`comm:\x1b[2J`) // what the user sees, not the raw bytes
	s.SetFilter(f)
	if s.Len() != 1 || s.At(0).Call.Process.PID != 99 {
		t.Errorf("escaped comm filter kept %d rows", s.Len())
	}
}

func TestProcsCountCalls(t *testing.T) {
	s := calls.New(10)           // counts outlive the ring
	s.Add(uitest.Stream(1, 120)) // 10 rounds of the script
	want := map[int]uint64{77: 30, 42: 20, 99: 10}
	for _, p := range s.Procs() {
		if p.Calls != want[p.PID] {
			t.Errorf("pid %d: %d calls, want %d", p.PID, p.Calls, want[p.PID])
		}
	}
}

// TestForgetExited: a process two process lists in a row leave out, with no
// call in between, has exited and is forgotten; one list is not enough, and a
// call in between keeps it.
func TestForgetExited(t *testing.T) {
	s := calls.New(10)
	s.Add(uitest.Stream(1, 12)) // pids 77, 42 and 99
	alive := []api.Process{uitest.Proc(42)}
	s.Forget(alive)
	s.Add(uitest.Stream(9, 2)) // 99 writes again
	s.Forget(alive)
	want := map[int]bool{42: true, 99: true} // 77 missed twice; 99 called in between
	got := map[int]bool{}
	for _, p := range s.Procs() {
		got[p.PID] = true
	}
	if len(got) != len(want) || !got[42] || !got[99] {
		t.Errorf("processes kept %v, want %v", got, want)
	}
	if s.Calls(77) != 0 {
		t.Errorf("pid 77 still counts %d calls", s.Calls(77))
	}
}

func rows(s *calls.Store) []uint64 {
	var out []uint64
	for i := 0; i < s.Len(); i++ {
		out = append(out, s.At(i).Call.Seq)
	}
	return out
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
