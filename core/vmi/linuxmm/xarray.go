package linuxmm

import (
	"encoding/binary"
	"fmt"

	"nitro/core/vmi/offsets"
)

// The xarray's encoding (include/linux/xarray.h), with the kernel's
// default XA_CHUNK_SHIFT of 6 (CONFIG_BASE_SMALL off).
const (
	chunkShift = 6
	chunkSize  = 1 << chunkShift
	chunkMask  = chunkSize - 1
	// maxXaDepth bounds a walk: 64-bit indexes need at most 11 levels.
	maxXaDepth = (64 + chunkShift - 1) / chunkShift
	// maxFolioPages bounds the pages one page cache entry covers: a 1 GiB
	// folio, larger than any the kernel makes.
	maxFolioPages = 1 << 18
)

// lookup returns the entry of the xarray at xa (a struct xarray, here an
// address_space's i_pages) for index, as xas_load finds it, and the first
// index the entry covers (a large folio is one multi-index entry). Only
// a struct page pointer is an answer: an empty slot, a value entry (a
// shadow or swap entry) or an internal one (retry, zero) is ErrNotCached.
func (r *Resolver) lookup(xa, index uint64) (entry, first uint64, err error) {
	entry, err = r.u64(xa + uint64(r.o.XArray.Head))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: reading xarray %#x: %w", ErrCorrupt, xa, err)
	}
	if !isInternalNode(entry) {
		if index != 0 {
			return 0, 0, ErrNotCached // a lone entry is index 0's
		}
		return leaf(entry, 0)
	}
	want := -1 // the shift the next node must have; the top's is free
	for range maxXaDepth {
		node := entry - 2
		var b [1]byte
		if err := r.kern.Read(b[:], node+uint64(r.o.XaNode.Shift)); err != nil {
			return 0, 0, fmt.Errorf("%w: reading xa_node %#x: %w", ErrCorrupt, node, err)
		}
		shift := int(b[0])
		if shift%chunkShift != 0 || shift >= 64 || (want >= 0 && shift != want) {
			return 0, 0, fmt.Errorf("%w: xa_node %#x has shift %d (want %d)", ErrCorrupt, node, shift, want)
		}
		if want < 0 && shift+chunkShift < 64 && index>>(shift+chunkShift) != 0 {
			return 0, 0, ErrNotCached // beyond what the array holds
		}
		off := index >> shift & chunkMask
		if entry, err = r.slot(node, off); err != nil {
			return 0, 0, err
		}
		if isSibling(entry) {
			// A multi-index entry: its siblings point back at its slot.
			canon := entry >> 2
			if canon >= off {
				return 0, 0, fmt.Errorf("%w: xa_node %#x slot %d is a sibling of slot %d", ErrCorrupt, node, off, canon)
			}
			off = canon
			if entry, err = r.slot(node, off); err != nil {
				return 0, 0, err
			}
		}
		if !isInternalNode(entry) {
			// The node's first index (0 for a top node at shift 60, where
			// the mask's shift passes 64 and the mask is all ones).
			base := index &^ (1<<(shift+chunkShift) - 1)
			first = base | off<<shift
			if index-first >= maxFolioPages {
				return 0, 0, fmt.Errorf("%w: an entry of xa_node %#x covers %d pages from %d", ErrCorrupt, node, uint64(1)<<shift, first)
			}
			return leaf(entry, first)
		}
		if shift == 0 {
			return 0, 0, fmt.Errorf("%w: xa_node %#x at shift 0 points to another node", ErrCorrupt, node)
		}
		want = shift - chunkShift
	}
	return 0, 0, fmt.Errorf("%w: xarray deeper than %d levels", ErrCorrupt, maxXaDepth)
}

// slot reads slot off of the xa_node at node.
func (r *Resolver) slot(node, off uint64) (uint64, error) {
	e, err := r.u64(node + uint64(r.o.XaNode.Slots) + 8*off)
	if err != nil {
		return 0, fmt.Errorf("%w: reading xa_node %#x slot %d: %w", ErrCorrupt, node, off, err)
	}
	return e, nil
}

// leaf returns a leaf entry that is a pointer, else ErrNotCached.
func leaf(entry, first uint64) (uint64, uint64, error) {
	if entry == 0 || entry&3 != 0 {
		return 0, 0, fmt.Errorf("%w: entry %#x", ErrNotCached, entry)
	}
	return entry, first, nil
}

// isSibling is xa_is_sibling: an internal entry below 256 naming the slot
// of the multi-index entry it belongs to.
func isSibling(e uint64) bool { return e&3 == 2 && e < (chunkSize-1)<<2|2 }

// maxXaNodes bounds the nodes one Entries walk reads: 2^16 nodes of 64
// slots hold four million entries, the most pids Linux allows.
const maxXaNodes = 1 << 16

// Entries calls fn with each pointer entry of the xarray at xa (a struct
// xarray: an idr's idr_rt, an address_space's i_pages) and its index, in
// index order, as xa_for_each finds them; value and internal entries are
// left out. fn returns false to stop. The walk reads at most maxXaNodes
// nodes and ends with ErrCorrupt at the first node whose shift does not
// fit where it hangs, so loops and wild pointers end it too.
func Entries(kern Kernel, o *offsets.Offsets, xa uint64, fn func(index, entry uint64) bool) error {
	if o.XArray.Head == offsets.Absent || o.XaNode.Shift == offsets.Absent || o.XaNode.Slots == offsets.Absent {
		return fmt.Errorf("%w: no xarray layout", ErrUnsupported)
	}
	var b [8]byte
	if err := kern.Read(b[:], xa+uint64(o.XArray.Head)); err != nil {
		return fmt.Errorf("%w: reading xarray %#x: %w", ErrCorrupt, xa, err)
	}
	head := binary.LittleEndian.Uint64(b[:])
	if !isInternalNode(head) {
		if head != 0 && head&3 == 0 {
			fn(0, head) // a lone entry is index 0's
		}
		return nil
	}
	w := xaWalk{kern: kern, o: o, fn: fn, left: maxXaNodes}
	_, err := w.node(head-2, -1, 0)
	return err
}

// xaWalk is one Entries walk.
type xaWalk struct {
	kern Kernel
	o    *offsets.Offsets
	fn   func(index, entry uint64) bool
	left int // nodes the walk may still read
}

// node visits the node at addr, whose first index is base and whose
// shift must be want (any, at the top: -1). It returns false once fn
// asked to stop.
func (w *xaWalk) node(addr uint64, want int, base uint64) (bool, error) {
	if w.left == 0 {
		return false, fmt.Errorf("%w: xarray of more than %d nodes", ErrCorrupt, maxXaNodes)
	}
	w.left--
	var sh [1]byte
	var slots [chunkSize * 8]byte
	if err := w.kern.Read(sh[:], addr+uint64(w.o.XaNode.Shift)); err != nil {
		return false, fmt.Errorf("%w: reading xa_node %#x: %w", ErrCorrupt, addr, err)
	}
	if err := w.kern.Read(slots[:], addr+uint64(w.o.XaNode.Slots)); err != nil {
		return false, fmt.Errorf("%w: reading xa_node %#x slots: %w", ErrCorrupt, addr, err)
	}
	shift := int(sh[0])
	if shift%chunkShift != 0 || shift >= 64 || (want >= 0 && shift != want) {
		return false, fmt.Errorf("%w: xa_node %#x has shift %d (want %d)", ErrCorrupt, addr, shift, want)
	}
	for off := range uint64(chunkSize) {
		e := binary.LittleEndian.Uint64(slots[8*off:])
		index := base | off<<shift
		switch {
		case isInternalNode(e):
			if shift == 0 {
				return false, fmt.Errorf("%w: xa_node %#x at shift 0 points to another node", ErrCorrupt, addr)
			}
			if more, err := w.node(e-2, shift-chunkShift, index); !more || err != nil {
				return more, err
			}
		case e != 0 && e&3 == 0:
			if !w.fn(index, e) {
				return false, nil
			}
		}
	}
	return true, nil
}
