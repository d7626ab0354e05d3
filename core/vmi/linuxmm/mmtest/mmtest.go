package mmtest

import (
	"encoding/binary"

	"nitro/core/vmi/offsets"
)

// Layout sets o's memory-map fields to Debian 6.12's values (its BTF's), and
// task_struct.mm to mm if o has none.
func Layout(o *offsets.Offsets, mm int) {
	if o.Task.Mm <= 0 {
		o.Task.Mm = mm
	}
	o.MM.MmMt = 64
	o.MapleTree.Root = 8
	o.MapleRange = offsets.MapleNodeStruct{Pivot: 8, Slot: 128, Meta: 248}
	o.MapleArange = offsets.MapleNodeStruct{Pivot: 8, Slot: 80, Meta: 240}
	o.VMA = offsets.VMAStruct{Start: 0, End: 8, Flags: 32, Pgoff: 120, File: 128}
	o.File.Mapping = 24
	o.AddressSpace.IPages = 8
	o.XArray.Head = 8
	o.XaNode = offsets.XaNodeStruct{Shift: 0, Slots: 40}
	o.Page = offsets.PageStruct{Size: 64, Flags: 0, Mapping: 24, Index: 32, Uptodate: 3}
}

// Maple node types, as encoded in a node pointer.
const (
	leaf64   = 1
	arange64 = 3
)

// Builder writes kernel structures with Put, allocating them upwards from
// Next (kernel virtual addresses).
type Builder struct {
	O    *offsets.Offsets
	Put  func(va uint64, b []byte)
	Next uint64
}

// Alloc returns n bytes of kernel memory aligned to 256, as maple nodes are.
func (b *Builder) Alloc(n int) uint64 {
	a := (b.Next + 255) &^ 255
	b.Next = a + uint64(n)
	return a
}

// U64 writes a little-endian word.
func (b *Builder) U64(va, v uint64) {
	var w [8]byte
	binary.LittleEndian.PutUint64(w[:], v)
	b.Put(va, w[:])
}

// Leaf writes a maple_leaf_64 node whose slot i covers up to pivots[i]
// (the last one being the node's upper bound, stored only if a pivot is
// left for it, as the kernel does) and returns its encoded pointer. There
// are as many pivots as slots, at most 16.
func (b *Builder) Leaf(pivots, slots []uint64) uint64 {
	return b.node(leaf64, b.O.MapleRange, 16, pivots, slots)
}

// Arange writes a maple_arange_64 node over children (encoded node
// pointers), as Leaf does, and returns its encoded pointer; there are at
// most 10 children.
func (b *Builder) Arange(pivots, children []uint64) uint64 {
	return b.node(arange64, b.O.MapleArange, 10, pivots, children)
}

func (b *Builder) node(typ uint64, l offsets.MapleNodeStruct, nslots int, pivots, slots []uint64) uint64 {
	n := b.Alloc(256)
	b.Put(n, make([]byte, 256))
	for i, p := range pivots[:min(len(pivots), nslots-1)] {
		b.U64(n+uint64(l.Pivot+8*i), p)
	}
	for i, s := range slots {
		b.U64(n+uint64(l.Slot+8*i), s)
	}
	if end := uint64(l.Slot + 8*len(slots)); uint64(l.Meta) >= end || uint64(l.Meta) < uint64(l.Slot) {
		// The metadata (the last slot in use) shares a full range node's
		// last slot.
		b.Put(n+uint64(l.Meta), []byte{byte(len(slots) - 1)})
	}
	return n | typ<<3 | 4 // MAPLE_ENODE_NULL
}

// Root makes the tree of mm, a struct mm_struct, the one whose root node
// is enode.
func (b *Builder) Root(mm, enode uint64) {
	b.U64(mm+uint64(b.O.MM.MmMt+b.O.MapleTree.Root), enode|2)
}

// VMA writes a vm_area_struct and returns its address.
func (b *Builder) VMA(start, end, flags, pgoff, file uint64) uint64 {
	o := &b.O.VMA
	v := b.Alloc(256)
	b.Put(v, make([]byte, 256))
	b.U64(v+uint64(o.Start), start)
	b.U64(v+uint64(o.End), end)
	b.U64(v+uint64(o.Flags), flags)
	b.U64(v+uint64(o.Pgoff), pgoff)
	b.U64(v+uint64(o.File), file)
	return v
}

// File writes a struct file and its address_space, with an empty page
// cache, and returns both.
func (b *Builder) File() (file, mapping uint64) {
	file, mapping = b.Alloc(256), b.Alloc(256)
	b.Put(file, make([]byte, 256))
	b.Put(mapping, make([]byte, 256))
	b.U64(file+uint64(b.O.File.Mapping), mapping)
	return file, mapping
}

// Head makes entry (a page, or an XaNode's entry) the head of the page
// cache of mapping.
func (b *Builder) Head(mapping, entry uint64) {
	b.U64(mapping+uint64(b.O.AddressSpace.IPages+b.O.XArray.Head), entry)
}

// XaNode writes an xa_node at shift with the given slots and returns its
// entry (the internal pointer a parent or a head holds).
func (b *Builder) XaNode(shift int, slots map[int]uint64) uint64 {
	n := b.Alloc(0x240)
	b.Put(n, make([]byte, 0x240))
	b.Put(n+uint64(b.O.XaNode.Shift), []byte{byte(shift)})
	for i, s := range slots {
		b.U64(n+uint64(b.O.XaNode.Slots+8*i), s)
	}
	return n | 2
}

// Page writes the struct page of pfn in the vmemmap at vmemmap: a page
// cache page of mapping at index, up to date or not, and returns its
// address.
func (b *Builder) Page(vmemmap, pfn, mapping, index uint64, uptodate bool) uint64 {
	o := &b.O.Page
	p := vmemmap + pfn*uint64(o.Size)
	b.Put(p, make([]byte, o.Size))
	var flags uint64
	if uptodate {
		flags = 1 << o.Uptodate
	}
	b.U64(p+uint64(o.Flags), flags)
	b.U64(p+uint64(o.Mapping), mapping)
	b.U64(p+uint64(o.Index), index)
	return p
}
