package linuxmm

import (
	"errors"
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

func TestLookupCorrupt(t *testing.T) {
	for name, build := range map[string]func(g *guest) uint64{
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
	} {
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
