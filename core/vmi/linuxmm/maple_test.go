package linuxmm

import (
	"errors"
	"testing"
)

// seg is a range of a maple tree, [lo, hi] inclusive, and its entry.
type seg struct{ lo, hi, entry uint64 }

// tree writes a maple tree over segs (sorted, covering 0 to 2^64-1) with
// leaves of up to perLeaf segments and parents of up to fanout children, and
// returns its root's encoded pointer and its height.
func (g *guest) tree(segs []seg, perLeaf, fanout int) (root uint64, height int) {
	type sub struct{ lo, hi, enode uint64 }
	var level []sub
	for i := 0; i < len(segs); i += perLeaf {
		part := segs[i:min(i+perLeaf, len(segs))]
		var pivots, slots []uint64
		for _, s := range part {
			pivots, slots = append(pivots, s.hi), append(slots, s.entry)
		}
		level = append(level, sub{part[0].lo, part[len(part)-1].hi, g.b.Leaf(pivots, slots)})
	}
	for height = 1; len(level) > 1; height++ {
		var up []sub
		for i := 0; i < len(level); i += fanout {
			part := level[i:min(i+fanout, len(level))]
			var pivots, children []uint64
			for _, s := range part {
				pivots, children = append(pivots, s.hi), append(children, s.enode)
			}
			up = append(up, sub{part[0].lo, part[len(part)-1].hi, g.b.Arange(pivots, children)})
		}
		level = up
	}
	return level[0].enode, height
}

// mapped writes VMAs for the given [start, end) ranges (end-1 of each is
// its last byte) and the gaps between them into a tree, and returns the
// VMAs' addresses.
func (g *guest) mapped(ranges [][2]uint64, perLeaf, fanout int) (vmas []uint64, height int) {
	var segs []seg
	next := uint64(0)
	for _, r := range ranges {
		if r[0] > next {
			segs = append(segs, seg{next, r[0] - 1, 0})
		}
		v := g.b.VMA(r[0], r[1], 0, 0, 0)
		vmas = append(vmas, v)
		segs = append(segs, seg{r[0], r[1] - 1, v})
		next = r[1]
	}
	segs = append(segs, seg{next, ^uint64(0), 0})
	root, height := g.tree(segs, perLeaf, fanout)
	g.b.Root(mmAddr, root)
	return vmas, height
}

// ranges are a process's mappings: a program, libraries, heap, stack.
var ranges = [][2]uint64{
	{0x400000, 0x401000}, {0x401000, 0x48b000}, {0x48b000, 0x4b4000}, {0x4b5000, 0x4bb000},
	{0x4bb000, 0x4e0000}, {0x7f0000000000, 0x7f0000021000}, {0x7f0000100000, 0x7f0000200000},
	{0x7ffd00000000, 0x7ffd00021000}, {0x7ffd00100000, 0x7ffd00102000},
}

func TestFindVMA(t *testing.T) {
	for _, shape := range []struct{ perLeaf, fanout, height int }{{16, 10, 1}, {3, 2, 4}, {2, 3, 3}, {2, 2, 4}} {
		g := newGuest(t)
		vmas, height := g.mapped(ranges, shape.perLeaf, shape.fanout)
		if height != shape.height {
			t.Fatalf("built a tree of height %d, want %d", height, shape.height)
		}
		root, _ := g.r.u64(mmAddr + uint64(g.b.O.MM.MmMt+g.b.O.MapleTree.Root))
		for i, r := range ranges {
			for _, addr := range []uint64{r[0], r[0] + 0x123, r[1] - 1} {
				got, err := g.r.findVMA(root, addr)
				if err != nil || got != vmas[i] {
					t.Errorf("height %d: findVMA(%#x) = %#x, %v; want VMA %d %#x", height, addr, got, err, i, vmas[i])
				}
			}
		}
		for _, addr := range []uint64{0, 0x3fffff, 0x4b4000, 0x4b4fff, 0x7f0000021000, 0x7ffd00102000, ^uint64(0)} {
			if got, err := g.r.findVMA(root, addr); !errors.Is(err, ErrNoVMA) {
				t.Errorf("height %d: findVMA(%#x) in a gap = %#x, %v; want ErrNoVMA", height, addr, got, err)
			}
		}
	}
}

func TestFindVMAEmpty(t *testing.T) {
	g := newGuest(t)
	for _, root := range []uint64{0, 0xffff888000200000} { // no tree; a lone entry
		if _, err := g.r.findVMA(root, 0x400000); !errors.Is(err, ErrNoVMA) {
			t.Errorf("root %#x: %v, want ErrNoVMA", root, err)
		}
	}
}

// A hostile tree: a node that is its own child, covering the same range,
// costs maxHeight reads and fails.
func TestFindVMACycle(t *testing.T) {
	g := newGuest(t)
	v := g.b.VMA(0x400000, 0x401000, 0, 0, 0)
	node := g.b.Arange([]uint64{^uint64(0), ^uint64(0)}, []uint64{0, v})
	self := node &^ 0xff
	g.b.U64(self+uint64(g.b.O.MapleArange.Slot), node) // slot 0: itself
	g.k.reads = 0
	_, err := g.r.findVMA(node|2, 0x400000)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("cycle: %v, want ErrCorrupt", err)
	}
	if g.k.reads > maxHeight {
		t.Errorf("cycle cost %d reads, want at most %d", g.k.reads, maxHeight)
	}
}

func TestFindVMACorrupt(t *testing.T) {
	vma := func(g *guest) uint64 { return g.b.VMA(0x400000, 0x401000, 0, 0, 0) }
	for name, build := range map[string]func(g *guest) uint64{
		"wild child": func(g *guest) uint64 {
			return g.b.Arange([]uint64{0xffffff, ^uint64(0)}, []uint64{0xffff888077700000 | 1<<3, 0})
		},
		"wild root": func(g *guest) uint64 { return 0xffff888066600000 | 3<<3 },
		"dense node": func(g *guest) uint64 {
			return g.b.Leaf([]uint64{^uint64(0)}, []uint64{vma(g)}) &^ 0xf8 // type 0
		},
		"child outside its parent": func(g *guest) uint64 {
			leaf := g.b.Leaf([]uint64{0x100, 0x200, 0x4fffff}, []uint64{0, 0, vma(g)}) // claims [0x201, 0x4fffff]
			return g.b.Arange([]uint64{0x3fffff, 0x4fffff, ^uint64(0)}, []uint64{0, leaf, 0})
		},
		"end past the slots": func(g *guest) uint64 {
			n := g.b.Leaf([]uint64{0xffffff, ^uint64(0)}, []uint64{vma(g), 0})
			g.b.Put(n&^0xff+uint64(g.b.O.MapleRange.Meta), []byte{200})
			return n
		},
		"dead node": func(g *guest) uint64 {
			n := g.b.Leaf([]uint64{^uint64(0)}, []uint64{vma(g)})
			g.b.U64(n&^0xff, n&^0xff) // parent: itself
			return n
		},
	} {
		g := newGuest(t)
		if got, err := g.r.findVMA(build(g)|2, 0x400000); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: findVMA = %#x, %v; want ErrCorrupt", name, got, err)
		}
	}
}
