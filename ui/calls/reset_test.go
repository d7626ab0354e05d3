package calls_test

import (
	"testing"

	"nitro/ui/calls"
	"nitro/ui/uitest"
)

// TestReset: a store reset holds nothing of before, and keeps its filter.
func TestReset(t *testing.T) {
	s := calls.New(100)
	f, _ := calls.Parse("name:openat")
	s.SetFilter(f)
	s.Add(uitest.Stream(1, 30))
	s.Reset()
	if s.Len() != 0 || s.Kept() != 0 || len(s.Procs()) != 0 {
		t.Fatalf("after a reset: %d rows, %d kept, %d processes", s.Len(), s.Kept(), len(s.Procs()))
	}
	s.Add(uitest.Stream(31, 12))
	if s.Kept() != 6 || s.Len() != 2 || s.At(0).Call.Seq != 37 {
		t.Errorf("after a reset and 12 events: %d kept, %d shown, first seq %d; want 6, 2 openat, 37", s.Kept(), s.Len(), s.At(0).Call.Seq)
	}
}
