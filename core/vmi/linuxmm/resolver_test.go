package linuxmm

import (
	"errors"
	"testing"

	"nitro/core/vmi"
	"nitro/core/vmi/offsets"
	"nitro/core/vmi/vmitest"
)

// A program's mappings in the guests below: its text, from file page 0,
// and its .rodata, from file page 69.
const (
	textStart   = 0x400000
	rodataStart = 0x500000
)

// program maps a file whose page cache is g.xarray()'s at textStart and
// rodataStart, an anonymous mapping, a hugetlbfs one and a VMA the tree
// misplaces (it does not cover the range the tree files it under).
func (g *guest) program() (mapping uint64) {
	mapping, _ = g.xarray()
	file := g.b.Alloc(256)
	g.b.Put(file, make([]byte, 256))
	g.b.U64(file+uint64(g.b.O.File.Mapping), mapping)
	segs := []seg{
		{0, textStart - 1, 0},
		{textStart, textStart + 0xfffff, g.b.VMA(textStart, textStart+0x100000, 0, 0, file)},
		{rodataStart, rodataStart + 0x1fff, g.b.VMA(rodataStart, rodataStart+0x2000, 0, 69, file)},
		{rodataStart + 0x2000, rodataStart + 0x2fff, g.b.VMA(rodataStart+0x2000, rodataStart+0x3000, 0, 0, 0)},
		{rodataStart + 0x3000, rodataStart + 0x3fff, g.b.VMA(rodataStart+0x3000, rodataStart+0x4000, vmHugeTLB, 0, file)},
		{rodataStart + 0x4000, rodataStart + 0x4fff, g.b.VMA(0x100000, 0x101000, 0, 0, file)},
		{rodataStart + 0x5000, ^uint64(0), 0},
	}
	root, _ := g.tree(segs, 3, 2)
	g.b.Root(mmAddr, root)
	return mapping
}

func TestPhys(t *testing.T) {
	g := newGuest(t)
	g.program()
	for _, c := range []struct {
		addr, pa uint64
	}{
		{textStart + 70<<12, 0x90000},                  // a page
		{textStart + 70<<12 + 0xabc, 0x90abc},          // its offset
		{textStart + 128<<12 + 0x10, 0xa0010},          // a large folio's first page
		{textStart + 131<<12 + 0xfff, 0xa3fff},         // and its last
		{rodataStart + 1<<12 + 0x123, 0x90123},         // file page 69+1 through vm_pgoff
		{textStart + 129<<12 + 0x800, 0xa1000 + 0x800}, // pfn = (page - vmemmap) / sizeof(struct page)
	} {
		if pa, err := g.r.Phys(mmAddr, c.addr); err != nil || pa != c.pa {
			t.Errorf("Phys(%#x) = %#x, %v; want %#x", c.addr, pa, err, c.pa)
		}
	}
	for _, c := range []struct {
		addr uint64
		want error
	}{
		{textStart + 71<<12, ErrNotCached},   // not in the page cache
		{textStart + 5<<12, ErrNotCached},    // a shadow entry
		{rodataStart + 0x2000, ErrNotCached}, // anonymous
		{rodataStart + 0x3000, ErrNotCached}, // hugetlbfs
		{rodataStart + 0x4000, ErrCorrupt},   // a VMA filed under the wrong range
		{rodataStart + 0x5000, ErrNoVMA},
		{0x1000, ErrNoVMA},
	} {
		if pa, err := g.r.Phys(mmAddr, c.addr); !errors.Is(err, c.want) {
			t.Errorf("Phys(%#x) = %#x, %v; want %v", c.addr, pa, err, c.want)
		}
	}
}

// A struct page that is not the page cache's page of that file and index,
// or is not up to date, is not read.
func TestPhysPageChecks(t *testing.T) {
	for name, c := range map[string]struct {
		spoil func(g *guest, page, mapping uint64)
		want  error
	}{
		"not up to date": {func(g *guest, page, _ uint64) { g.b.U64(page+uint64(g.b.O.Page.Flags), 0) }, ErrNotCached},
		"other mapping":  {func(g *guest, page, m uint64) { g.b.U64(page+uint64(g.b.O.Page.Mapping), m+8) }, ErrCorrupt},
		"other index":    {func(g *guest, page, _ uint64) { g.b.U64(page+uint64(g.b.O.Page.Index), 71) }, ErrCorrupt},
		"not a struct page": {func(g *guest, page, m uint64) {
			g.b.U64(g.xaSlot(m, 70), page+8)
		}, ErrCorrupt},
		"below the vmemmap": {func(g *guest, page, m uint64) {
			g.b.U64(g.xaSlot(m, 70), vmemmap-64)
		}, ErrCorrupt},
	} {
		g := newGuest(t)
		mapping := g.program()
		page := vmemmap + 0x90*uint64(64)
		c.spoil(g, page, mapping)
		if pa, err := g.r.Phys(mmAddr, textStart+70<<12); !errors.Is(err, c.want) {
			t.Errorf("%s: Phys = %#x, %v; want %v", name, pa, err, c.want)
		}
	}
}

// xaSlot is the address of the slot of index (below 128) in g.xarray()'s
// page cache.
func (g *guest) xaSlot(mapping, index uint64) uint64 {
	top, _ := g.r.u64(mapping + uint64(g.b.O.AddressSpace.IPages+g.b.O.XArray.Head))
	child, _ := g.r.u64(top - 2 + uint64(g.b.O.XaNode.Slots) + 8*(index>>6))
	return child - 2 + uint64(g.b.O.XaNode.Slots) + 8*(index&63)
}

// A kernel without the maple tree (before 6.1) gets no resolver.
func TestNewUnsupported(t *testing.T) {
	o := &offsets.Offsets{}
	o.MM.MmMt = offsets.Absent
	if _, err := New(newKmem(), vmitest.NewPhys(4096), o, vmemmap); !errors.Is(err, ErrUnsupported) {
		t.Errorf("New without mm_mt: %v, want ErrUnsupported", err)
	}
}

// userGuest is g with a process: page tables mapping the page before
// rodataStart+0x1000 (at physical 0x80000), and not the one at
// rodataStart+0x1000, whose content the page cache holds (file page 70,
// physical 0x90000).
func userGuest(t *testing.T) (*guest, vmi.Space, *vmitest.Tables) {
	g := newGuest(t)
	g.program()
	tables := vmitest.NewTables(g.phys, false, 0x1000, 0x2000)
	tables.Map(rodataStart, 0x80000, vmitest.Page4K)
	copy(g.phys.Mem[0x80ff8:], "/usr/bin")
	copy(g.phys.Mem[0x90000:], "/tr\x00")
	return g, vmi.NewMemory(g.phys).Space(tables.Root, 0), tables
}

func TestReadUser(t *testing.T) {
	g, user, tables := userGuest(t)
	va := uint64(rodataStart + 0xff8)
	b := make([]byte, 12)
	if err := user.Read(b, va); !errors.Is(err, vmi.ErrNotPresent) {
		t.Fatalf("the page tables map the second page: %v", err)
	}
	if err := g.r.ReadUser(user, taskAt, b, va); err != nil || string(b) != "/usr/bin/tr\x00" {
		t.Errorf("ReadUser = %q, %v; want the path across both pages", b, err)
	}

	// A swapped-out page (a nonzero entry, not present) is not the page
	// cache's, even though the page cache holds the file's page.
	tables.Map(rodataStart+0x1000, 0x90000, vmitest.Page4K)
	tables.Unmap(rodataStart+0x1000, 1)
	pt := tables.Root
	for level := 4; level > 1; level-- {
		pt = tables.Entry(pt+(uint64(rodataStart+0x1000)>>(12+9*(level-1))&511)*8) & 0xffffffffff000
	}
	tables.SetEntry(pt+(uint64(rodataStart+0x1000)>>12&511)*8, 0x1234<<12) // swap entry
	user = vmi.NewMemory(g.phys).Space(tables.Root, 0)
	if err := g.r.ReadUser(user, taskAt, b, va); !errors.Is(err, vmi.ErrNotPresent) {
		t.Errorf("swapped-out page: ReadUser = %q, %v; want the page fault", b, err)
	}
}

func TestReadUserNoMM(t *testing.T) {
	g, user, _ := userGuest(t)
	g.b.U64(taskAt+taskMm, 0) // a kernel thread
	b := make([]byte, 4)
	if err := g.r.ReadUser(user, taskAt, b, rodataStart+0x1000); !errors.Is(err, ErrNoVMA) {
		t.Errorf("ReadUser without an mm: %v, want ErrNoVMA", err)
	}
}
