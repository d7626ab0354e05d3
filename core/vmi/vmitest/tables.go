package vmitest

import (
	"encoding/binary"
	"fmt"
)

// Page sizes Tables.Map accepts.
const (
	Page4K = 1 << 12
	Page2M = 1 << 21
	Page1G = 1 << 30
)

// Entry flags the builder sets: present, writable, user.
const (
	present  = 1 << 0
	writable = 1 << 1
	user     = 1 << 2
	pageSize = 1 << 7
	frame    = 0x000f_ffff_ffff_f000
)

// Tables builds x86-64 page tables inside a Phys, allocating table pages
// upwards from a given physical address.
type Tables struct {
	phys   *Phys
	levels int
	next   uint64 // next free physical page for a table
	Root   uint64 // physical address of the top-level table: the CR3 to use
}

// NewTables starts empty 4-level (or 5-level with la57) tables with the
// top-level table at physical page root and the others allocated from
// physical address alloc up.
func NewTables(phys *Phys, la57 bool, root, alloc uint64) *Tables {
	t := &Tables{phys: phys, levels: 4, next: root, Root: root}
	if la57 {
		t.levels = 5
	}
	t.page()
	t.next = alloc
	return t
}

// Map maps the virtual page va to the physical page pa; size is Page4K,
// Page2M or Page1G and both addresses must be aligned to it. It panics on
// misuse: tests build tables, guests do not.
func (t *Tables) Map(va, pa, size uint64) {
	leaf := map[uint64]int{Page4K: 1, Page2M: 2, Page1G: 3}[size]
	if leaf == 0 || va%size != 0 || pa%size != 0 {
		panic(fmt.Sprintf("vmitest: bad mapping %#x -> %#x size %#x", va, pa, size))
	}
	table := t.Root
	for level := t.levels; level > leaf; level-- {
		slot := table + index(va, level)*8
		e := t.Entry(slot)
		if e&present == 0 {
			e = t.page() | present | writable | user
			t.SetEntry(slot, e)
		}
		table = e & frame
	}
	flags := uint64(present | writable | user)
	if leaf > 1 {
		flags |= pageSize
	}
	t.SetEntry(table+index(va, leaf)*8, pa|flags)
}

// Unmap clears the leaf or table entry at the given level (1 = PT) on the
// path of va, leaving the rest of the path in place.
func (t *Tables) Unmap(va uint64, level int) {
	table := t.Root
	for l := t.levels; l > level; l-- {
		table = t.Entry(table+index(va, l)*8) & frame
	}
	t.SetEntry(table+index(va, level)*8, 0)
}

// ReadOnly clears the writable bit of the 4 KiB page mapping va, as Linux
// maps a file's page or a page shared copy-on-write.
func (t *Tables) ReadOnly(va uint64) {
	table := t.Root
	for l := t.levels; l > 1; l-- {
		table = t.Entry(table+index(va, l)*8) & frame
	}
	slot := table + index(va, 1)*8
	t.SetEntry(slot, t.Entry(slot)&^writable)
}

// SetEntry stores a raw page-table entry at physical address slot.
func (t *Tables) SetEntry(slot, e uint64) {
	binary.LittleEndian.PutUint64(t.phys.Mem[slot:], e)
}

// Entry reads the raw page-table entry at physical address slot.
func (t *Tables) Entry(slot uint64) uint64 {
	return binary.LittleEndian.Uint64(t.phys.Mem[slot:])
}

// page allocates a zeroed table page.
func (t *Tables) page() uint64 {
	p := t.next
	t.next += Page4K
	clear(t.phys.Mem[p : p+Page4K])
	return p
}

func index(va uint64, level int) uint64 { return va >> (12 + 9*(level-1)) & 511 }
