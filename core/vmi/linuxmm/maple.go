package linuxmm

import (
	"encoding/binary"
	"fmt"

	"nitro/core/vmi/offsets"
)

// The maple tree's encoding (lib/maple_tree.c, include/linux/maple_tree.h).
const (
	// nodeSize is sizeof(struct maple_node); nodes are aligned to it, and
	// the low byte of a node's encoded pointer holds its type.
	nodeSize = 256
	nodeMask = nodeSize - 1
	// maxHeight is MAPLE_HEIGHT_MAX: no tree is deeper.
	maxHeight = 31
	// Slots of the node types; each has one pivot fewer.
	rangeSlots  = 16 // maple_leaf_64, maple_range_64
	arangeSlots = 10 // maple_arange_64
	// mapleRootNode marks ma_root as a node rather than a lone entry.
	mapleRootNode = 2
)

// enum maple_type (maple_dense, 0, is not used for VMAs): a type below
// mapleRange64 is a leaf.
const (
	mapleLeaf64 = iota + 1
	mapleRange64
	mapleArange64
)

// findVMA returns the entry the maple tree rooted at root (mm_mt.ma_root)
// holds for addr: the vm_area_struct covering it. It descends as the
// kernel's mtree_range_walk does, one node per level, and checks that every
// child's range lies within its parent's, so a hostile tree costs at most
// maxHeight node reads.
func (r *Resolver) findVMA(root, addr uint64) (uint64, error) {
	if !isInternalNode(root) {
		// An empty tree, or one holding a single entry at index 0, where no
		// user mapping can be.
		return 0, fmt.Errorf("%w: %#x (no tree)", ErrNoVMA, addr)
	}
	enode := root &^ mapleRootNode
	lo, hi := uint64(0), ^uint64(0)
	var buf [nodeSize]byte
	for range maxHeight {
		node, typ := enode&^nodeMask, enode>>3&0xf
		var layout offsets.MapleNodeStruct
		var slots int
		switch typ {
		case mapleLeaf64, mapleRange64:
			layout, slots = r.o.MapleRange, rangeSlots
		case mapleArange64:
			layout, slots = r.o.MapleArange, arangeSlots
		default:
			return 0, fmt.Errorf("%w: maple node %#x of type %d", ErrCorrupt, enode, typ)
		}
		if err := r.kern.Read(buf[:], node); err != nil {
			return 0, fmt.Errorf("%w: reading maple node %#x: %w", ErrCorrupt, node, err)
		}
		if binary.LittleEndian.Uint64(buf[:])&^nodeMask == node {
			// A node whose parent is itself is dead: freed mid-update.
			return 0, fmt.Errorf("%w: maple node %#x is dead", ErrCorrupt, node)
		}
		n := mapleNode{buf: &buf, layout: layout, pivots: slots - 1}
		end := n.dataEnd(typ, hi)
		if end >= slots {
			return 0, fmt.Errorf("%w: maple node %#x ends at slot %d of %d", ErrCorrupt, node, end, slots)
		}
		off, min, max := n.find(addr, end, lo, hi)
		if min < lo || max > hi || addr < min || addr > max {
			return 0, fmt.Errorf("%w: maple node %#x gives [%#x, %#x] for %#x within [%#x, %#x]", ErrCorrupt, node, min, max, addr, lo, hi)
		}
		child := n.slot(off)
		if typ < mapleRange64 {
			if child == 0 {
				return 0, fmt.Errorf("%w: %#x (a gap)", ErrNoVMA, addr)
			}
			return child, nil
		}
		if child == 0 {
			return 0, fmt.Errorf("%w: maple node %#x has an empty child slot %d", ErrCorrupt, node, off)
		}
		enode, lo, hi = child, min, max
	}
	return 0, fmt.Errorf("%w: maple tree deeper than %d levels", ErrCorrupt, maxHeight)
}

// isInternalNode reports whether a tree's root is a node, as xa_is_node.
func isInternalNode(e uint64) bool { return e&3 == 2 && e > 4096 }

// mapleNode is one node's bytes read with its layout.
type mapleNode struct {
	buf    *[nodeSize]byte
	layout offsets.MapleNodeStruct
	pivots int
}

func (n mapleNode) pivot(i int) uint64 {
	return binary.LittleEndian.Uint64(n.buf[n.layout.Pivot+8*i:])
}

func (n mapleNode) slot(i int) uint64 {
	return binary.LittleEndian.Uint64(n.buf[n.layout.Slot+8*i:])
}

// dataEnd is ma_data_end: the offset of the node's last slot in use, from
// its metadata when the last pivot is not set, max being the node's upper
// bound.
func (n mapleNode) dataEnd(typ, max uint64) int {
	last := n.pivot(n.pivots - 1)
	switch {
	case typ == mapleArange64 || last == 0:
		return int(n.buf[n.layout.Meta])
	case last == max:
		return n.pivots - 1
	}
	return n.pivots
}

// find returns the slot covering addr and its range, as mtree_range_walk
// computes them within a node covering [lo, hi] whose slots end at end.
func (n mapleNode) find(addr uint64, end int, lo, hi uint64) (off int, min, max uint64) {
	if n.pivot(0) >= addr {
		return 0, lo, n.pivot(0)
	}
	off = 1
	for off < end && n.pivot(off) < addr {
		off++
	}
	min, max = n.pivot(off-1)+1, hi
	if off < end && n.pivot(off) != 0 {
		max = n.pivot(off)
	}
	return off, min, max
}
