package linuxmm

import (
	"errors"
	"fmt"
	"testing"
)

// xarray builds a two-level page cache: a node at shift 6 over nodes at
// shift 0, with a page at index 70, a 4-page folio at 128..131 (a
// multi-index entry: its canonical slot and three siblings), a shadow
// (value) entry at 5 and a retry entry at 6.
func (g *guest) xarray() (mapping uint64, pages map[uint64]uint64) {
	_, mapping = g.b.File()
	p70 := g.b.Page(vmemmap, 0x90, mapping, 70, true)
	folio := g.b.Page(vmemmap, 0xa0, mapping, 128, true)
	low := g.b.XaNode(0, map[int]uint64{5: 0x1234<<1 | 1, 6: 256<<2 | 2})
	mid := g.b.XaNode(0, map[int]uint64{70 - 64: p70})
	high := g.b.XaNode(0, map[int]uint64{0: folio, 1: 0<<2 | 2, 2: 0<<2 | 2, 3: 0<<2 | 2})
	g.b.Head(mapping, g.b.XaNode(6, map[int]uint64{0: low, 1: mid, 2: high}))
	return mapping, map[uint64]uint64{70: p70, 128: folio, 129: folio, 131: folio}
}

func TestLookup(t *testing.T) {
	g := newGuest(t)
	mapping, pages := g.xarray()
	xa := mapping + uint64(g.b.O.AddressSpace.IPages)
	for index, want := range pages {
		page, first, err := g.r.lookup(xa, index)
		wantFirst := index
		if index >= 128 {
			wantFirst = 128
		}
		if err != nil || page != want || first != wantFirst {
			t.Errorf("lookup(%d) = %#x, %d, %v; want %#x, %d", index, page, first, err, want, wantFirst)
		}
	}
	for _, index := range []uint64{0, 5, 6, 69, 71, 132, 4095, 1 << 40} {
		if page, _, err := g.r.lookup(xa, index); !errors.Is(err, ErrNotCached) {
			t.Errorf("lookup(%d) = %#x, %v; want ErrNotCached", index, page, err)
		}
	}
}

func TestLookupLoneEntry(t *testing.T) {
	g := newGuest(t)
	_, mapping := g.b.File()
	page := g.b.Page(vmemmap, 0x90, mapping, 0, true)
	g.b.Head(mapping, page)
	xa := mapping + uint64(g.b.O.AddressSpace.IPages)
	if got, first, err := g.r.lookup(xa, 0); err != nil || got != page || first != 0 {
		t.Errorf("lookup(0) = %#x, %d, %v; want %#x", got, first, err, page)
	}
	if _, _, err := g.r.lookup(xa, 1); !errors.Is(err, ErrNotCached) {
		t.Errorf("lookup(1): %v, want ErrNotCached", err)
	}
}

// corruptXarrays build xarrays no kernel makes, each returning its head.
func corruptXarrays() map[string]func(g *guest) uint64 {
	return map[string]func(g *guest) uint64{
		"node its own child": func(g *guest) uint64 {
			n := g.b.XaNode(6, nil)
			g.b.U64(n-2+uint64(g.b.O.XaNode.Slots), n)
			return n
		},
		"shift skips a level": func(g *guest) uint64 {
			return g.b.XaNode(12, map[int]uint64{0: g.b.XaNode(0, nil)})
		},
		"shift not a multiple of 6": func(g *guest) uint64 { return g.b.XaNode(5, nil) },
		"wild node":                 func(g *guest) uint64 { return 0xffff888055500002 },
		"sibling pointing forward": func(g *guest) uint64 {
			return g.b.XaNode(0, map[int]uint64{0: 3<<2 | 2})
		},
		"node below shift 0": func(g *guest) uint64 {
			return g.b.XaNode(0, map[int]uint64{0: g.b.XaNode(0, nil)})
		},
	}
}

func TestLookupCorrupt(t *testing.T) {
	for name, build := range corruptXarrays() {
		g := newGuest(t)
		_, mapping := g.b.File()
		g.b.Head(mapping, build(g))
		g.k.reads = 0
		if page, _, err := g.r.lookup(mapping+uint64(g.b.O.AddressSpace.IPages), 0); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: lookup = %#x, %v; want ErrCorrupt", name, page, err)
		}
		if g.k.reads > 3*maxXaDepth+1 {
			t.Errorf("%s: %d reads", name, g.k.reads)
		}
	}
}

// TestEntries: a walk of the whole xarray finds each pointer entry once,
// at its index and in order, and leaves value, retry and sibling entries
// out.
func TestEntries(t *testing.T) {
	g := newGuest(t)
	mapping, pages := g.xarray()
	var got []uint64
	err := Entries(g.k, g.b.O, mapping+uint64(g.b.O.AddressSpace.IPages), func(index, entry uint64) bool {
		if entry != pages[index] {
			t.Errorf("entry %d = %#x, want %#x", index, entry, pages[index])
		}
		got = append(got, index)
		return true
	})
	if err != nil || fmt.Sprint(got) != "[70 128]" {
		t.Errorf("Entries found %v, %v; want [70 128]", got, err)
	}
}

// TestEntriesCorrupt: loops, skipped levels and wild pointers end the walk
// with ErrCorrupt, after a bounded number of reads.
func TestEntriesCorrupt(t *testing.T) {
	for name, build := range corruptXarrays() {
		if name == "sibling pointing forward" {
			continue // a walk of every entry passes siblings by
		}
		g := newGuest(t)
		_, mapping := g.b.File()
		g.b.Head(mapping, build(g))
		g.k.reads = 0
		err := Entries(g.k, g.b.O, mapping+uint64(g.b.O.AddressSpace.IPages), func(uint64, uint64) bool { return true })
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Entries = %v; want ErrCorrupt", name, err)
		}
		if g.k.reads > 4*maxXaDepth+1 {
			t.Errorf("%s: %d reads", name, g.k.reads)
		}
	}
}
