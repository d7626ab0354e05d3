package physmem

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"nitro/core/vmi"
)

// Range maps guest-physical memory [GPA, GPA+Size) onto host storage at
// Off: a host virtual address in QEMU's process, or an offset in a dump file.
type Range struct {
	GPA, Size uint64
	Off       uint64
	ReadOnly  bool   // ROM: writes are refused with vmi.ErrReadOnly
	Name      string // where the memory comes from (QEMU region, ELF segment), for messages
}

// ErrBadLayout is returned for ranges that overlap, are empty or wrap around.
var ErrBadLayout = errors.New("bad guest-physical layout")

// store is host storage addressed by offsets.
type store interface {
	readAt(p []byte, off uint64) error
	writeAt(p []byte, off uint64) error
	// mapped returns the bytes at [off, off+n) when they are mapped into
	// this process, else nil.
	mapped(off uint64, n int) []byte
	// data returns the parts of [off, off+n) that hold data, without
	// reading them (see vmi.Sparse).
	data(off, n uint64) ([]span, error)
	close() error
}

// Source is guest-physical memory backed by ranges of host storage. It
// implements vmi.PhysMem and is safe for concurrent use.
type Source struct {
	ranges []Range // sorted by GPA, disjoint
	st     store
}

var (
	_ vmi.PhysMem    = (*Source)(nil)
	_ vmi.HostMapped = (*Source)(nil)
	_ vmi.Sparse     = (*Source)(nil)
)

func newSource(ranges []Range, st store) (*Source, error) {
	rs := slices.Clone(ranges)
	slices.SortFunc(rs, func(a, b Range) int { return cmp.Compare(a.GPA, b.GPA) })
	for i, r := range rs {
		if r.Size == 0 || r.GPA+r.Size < r.GPA || r.Off+r.Size < r.Off {
			return nil, fmt.Errorf("%w: range %q at %#x size %#x", ErrBadLayout, r.Name, r.GPA, r.Size)
		}
		if i > 0 && rs[i-1].GPA+rs[i-1].Size > r.GPA {
			return nil, fmt.Errorf("%w: ranges %q and %q overlap at %#x", ErrBadLayout, rs[i-1].Name, r.Name, r.GPA)
		}
	}
	return &Source{ranges: rs, st: st}, nil
}

// Ranges returns the guest-physical ranges the source holds, sorted.
func (s *Source) Ranges() []Range { return slices.Clone(s.ranges) }

// ReadPhys implements vmi.PhysMem.
func (s *Source) ReadPhys(p []byte, pa uint64) error {
	return s.access(p, pa, false)
}

// WritePhys implements vmi.PhysMem.
func (s *Source) WritePhys(p []byte, pa uint64) error {
	return s.access(p, pa, true)
}

// HostBytes implements vmi.HostMapped.
func (s *Source) HostBytes(pa uint64, n int) []byte {
	r, ok := s.find(pa)
	if !ok || n < 0 || uint64(n) > r.GPA+r.Size-pa {
		return nil
	}
	return s.st.mapped(r.Off+(pa-r.GPA), n)
}

// Close releases the storage.
func (s *Source) Close() error { return s.st.close() }

// access splits [pa, pa+len(p)) over the ranges; a gap anywhere fails the
// whole access with vmi.ErrOutOfRange before any byte moves.
func (s *Source) access(p []byte, pa uint64, write bool) error {
	type piece struct {
		p   []byte
		off uint64
	}
	var pieces [4]piece // most accesses touch one range
	todo := pieces[:0]
	for done := 0; done < len(p); {
		addr := pa + uint64(done)
		r, ok := s.find(addr)
		if !ok || addr < pa {
			return fmt.Errorf("%d bytes at %#x: no RAM at %#x: %w", len(p), pa, addr, vmi.ErrOutOfRange)
		}
		if write && r.ReadOnly {
			return fmt.Errorf("writing %#x (%s): %w", addr, r.Name, vmi.ErrReadOnly)
		}
		n := int(min(uint64(len(p)-done), r.GPA+r.Size-addr))
		todo = append(todo, piece{p[done : done+n], r.Off + (addr - r.GPA)})
		done += n
	}
	for _, c := range todo {
		var err error
		if write {
			err = s.st.writeAt(c.p, c.off)
		} else {
			err = s.st.readAt(c.p, c.off)
		}
		if err != nil {
			return fmt.Errorf("%d bytes at guest-physical %#x: %w", len(p), pa, err)
		}
	}
	return nil
}

// find returns the range holding pa. Guests have a few ranges: a linear
// scan beats a binary search's calls.
func (s *Source) find(pa uint64) (Range, bool) {
	for _, r := range s.ranges {
		if pa < r.GPA {
			break
		}
		if pa-r.GPA < r.Size {
			return r, true
		}
	}
	return Range{}, false
}
