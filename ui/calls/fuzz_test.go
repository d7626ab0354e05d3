package calls_test

import (
	"testing"

	"nitro/api"
	"nitro/ui/calls"
	"nitro/ui/uitest"
)

// FuzzStore feeds the store any order of entries and exits (a guest can
// lose exits, repeat entries, or exit calls it never entered) through a
// small ring with a filter on; the store must stay within its bound and
// keep its filter index equal to a rebuilt one.
func FuzzStore(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7}, "name:openat")
	f.Add([]byte{0x81, 0x81, 0x01, 0x13, 0x93}, "ENOENT pid:42")
	f.Fuzz(func(t *testing.T, ops []byte, query string) {
		filter, err := calls.Parse(query)
		if err != nil {
			filter = calls.Filter{}
		}
		s := calls.New(7)
		s.SetFilter(filter)
		script := uitest.Script()
		for i, op := range ops {
			c := script[int(op&0x7f)%len(script)]
			var ev api.Syscall
			if op&0x80 != 0 {
				ev = c.Exit(uint64(i+1), uitest.Epoch)
			} else {
				ev = c.Enter(uint64(i+1), uitest.Epoch)
			}
			s.Add([]api.Syscall{ev})
			if s.Kept() > 7 || s.Len() > s.Kept() {
				t.Fatalf("kept %d, shown %d: past the bound of 7", s.Kept(), s.Len())
			}
		}
		inc := rows(s)
		s.SetFilter(filter)
		if rebuilt := rows(s); !equal(inc, rebuilt) {
			t.Fatalf("incremental index %v != rebuilt %v", inc, rebuilt)
		}
		for i := 0; i < s.Len(); i++ {
			if s.Pos(s.Abs(i)) != i {
				t.Fatalf("Pos(Abs(%d)) = %d", i, s.Pos(s.Abs(i)))
			}
		}
	})
}
