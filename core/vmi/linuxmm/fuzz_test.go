package linuxmm

import (
	"encoding/binary"
	"testing"
)

// fuzzSize is the kernel memory a fuzz input fills, at heap.
const fuzzSize = 8 << 10

// fuzzGuest is a guest whose kernel memory at heap is data, with every
// word whose top 16 bits are set taken as a pointer into it (heap plus its
// low 13 bits, type and tag bits included): the fuzzer's pointers aim at
// the nodes it writes, as a hostile guest's do.
func fuzzGuest(t *testing.T, data []byte) *guest {
	g := newGuest(t)
	data = data[:min(len(data), fuzzSize)]
	mem := make([]byte, len(data)&^7)
	for i := 0; i < len(mem); i += 8 {
		w := binary.LittleEndian.Uint64(data[i:])
		if w>>48 == 0xffff {
			w = heap + w&(fuzzSize-1)
		}
		binary.LittleEndian.PutUint64(mem[i:], w)
	}
	g.k.Put(heap, mem)
	g.k.reads = 0
	return g
}

// seed returns a seed input from a guest built with the test builders: its
// kernel memory at heap.
func seed(g *guest) []byte {
	b := make([]byte, fuzzSize)
	for i := uint64(0); i < fuzzSize; i++ {
		if pg, ok := g.k.pages[(heap+i)&^4095]; ok {
			b[i] = pg[(heap+i)&4095]
		}
	}
	return b
}

func FuzzFindVMA(f *testing.F) {
	for _, shape := range [][2]int{{3, 2}, {16, 10}} {
		g := newGuest(f)
		g.mapped(ranges, shape[0], shape[1])
		root, _ := g.r.u64(mmAddr + uint64(g.b.O.MM.MmMt+g.b.O.MapleTree.Root))
		f.Add(root, uint64(0x401234), seed(g))
	}
	f.Fuzz(func(t *testing.T, root, addr uint64, data []byte) {
		g := fuzzGuest(t, data)
		if root>>48 == 0xffff {
			root = heap + root&(fuzzSize-1)
		}
		vma, err := g.r.findVMA(root, addr)
		if err == nil && vma == 0 {
			t.Fatal("found no VMA without an error")
		}
		if g.k.reads > maxHeight {
			t.Fatalf("%d reads for a tree of at most %d levels", g.k.reads, maxHeight)
		}
	})
}

func FuzzLookup(f *testing.F) {
	g := newGuest(f)
	mapping, _ := g.xarray()
	xa := mapping + uint64(g.b.O.AddressSpace.IPages)
	for _, index := range []uint64{70, 129, 5} {
		f.Add(xa, index, seed(g))
	}
	f.Fuzz(func(t *testing.T, xa, index uint64, data []byte) {
		g := fuzzGuest(t, data)
		if xa>>48 == 0xffff {
			xa = heap + xa&(fuzzSize-1)
		}
		page, first, err := g.r.lookup(xa, index)
		if err != nil {
			return
		}
		if page == 0 || page&3 != 0 || first > index || index-first >= maxFolioPages {
			t.Fatalf("lookup(%d) = %#x, first %d", index, page, first)
		}
		// The head, then per level its shift and at most two slots.
		if g.k.reads > 1+3*maxXaDepth {
			t.Fatalf("%d reads for an xarray of at most %d levels", g.k.reads, maxXaDepth)
		}
	})
}
