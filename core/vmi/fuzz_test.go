package vmi_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"nitro/core/vmi"
	"nitro/core/vmi/vmitest"
)

// FuzzWalk feeds hostile page tables (random bytes as guest-physical memory)
// and random CR3, CR4 and addresses to the walker: every failure must be one
// of the typed errors, never a panic.
func FuzzWalk(f *testing.F) {
	// Seeds stay tiny so the fuzzer mutates tables, not padding: page 0 is
	// a table at every level. Entry 0 points back to it; entry 1 has the
	// page-size bit, so it maps a 1 GiB page from a PDPT, a 2 MiB page from
	// a PD, and is reserved in a PML4.
	mem := binary.LittleEndian.AppendUint64(nil, 0x1)
	mem = binary.LittleEndian.AppendUint64(mem, 0x81)
	for _, cr4 := range []uint64{0, 1 << 12} {
		for _, va := range []uint64{0x8, 0x4000_0008, 0x20_0008, 0x80_0000_0000, 0xffff_8000_0000_0000, 0xff00_0000_0000_0000} {
			f.Add(mem, uint64(0x3), cr4, va)
		}
	}
	f.Fuzz(func(t *testing.T, mem []byte, cr3, cr4, va uint64) {
		// A copy: the writes below must not change the fuzzer's input.
		m := vmi.NewMemory(&vmitest.Phys{Mem: bytes.Clone(mem)})
		s := m.Space(cr3, cr4)
		check := func(what string, err error) {
			if err != nil && !errors.Is(err, vmi.ErrNotPresent) && !errors.Is(err, vmi.ErrNonCanonical) &&
				!errors.Is(err, vmi.ErrOutOfRange) && !errors.Is(err, vmi.ErrTruncated) {
				t.Fatalf("%s: untyped error %v", what, err)
			}
		}
		_, err := s.Translate(va)
		check("Translate", err)
		check("Read", s.Read(make([]byte, 64), va))
		_, err = s.CString(va, 300)
		check("CString", err)
		check("Write", s.Kernel().PutU64(va, 0))
	})
}
