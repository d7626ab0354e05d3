package vmi_test

import (
	"errors"
	"testing"

	"nitro/core/vmi"
	"nitro/core/vmi/vmitest"
)

// TestUserWritable: a range is writable only when every page of it is
// mapped writable for user code; a read-only page (a file's, or one shared
// since a fork) or a missing one says so.
func TestUserWritable(t *testing.T) {
	g := newGuest(t, false)
	const va = 0x7f00_0000_0000
	for i := range uint64(3) {
		g.pt.Map(va+i*vmitest.Page4K, 0x10000+i*vmitest.Page4K, vmitest.Page4K)
	}
	g.pt.ReadOnly(va + 2*vmitest.Page4K)
	s := g.mem.Space(kernelRoot, 0)
	if err := s.UserWritable(va+0xff0, 0x20); err != nil {
		t.Errorf("two writable pages: %v", err)
	}
	if err := s.UserWritable(va+0x1ff0, 0x20); !errors.Is(err, vmi.ErrNotWritable) {
		t.Errorf("into the read-only page: %v, want ErrNotWritable", err)
	}
	if err := s.UserWritable(va+0x3000, 0x20); !errors.Is(err, vmi.ErrNotPresent) {
		t.Errorf("past the mapping: %v, want ErrNotPresent", err)
	}
	if err := s.UserWritable(va, 0); err != nil {
		t.Errorf("nothing to write: %v", err)
	}
}
