package linuxmm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"nitro/core/vmi"
	"nitro/core/vmi/offsets"
)

const (
	pageShift = 12
	pageSize  = 1 << pageShift
	pageMask  = pageSize - 1
)

// vm_flags that make a mapping's pages something other than its file's page
// cache at index vm_pgoff + page: hugetlbfs indexes in huge pages, and PFN,
// mixed and I/O maps have no page cache behind them.
const (
	vmIO       = 0x00004000
	vmHugeTLB  = 0x00400000
	vmPFNMap   = 0x00000400
	vmMixedMap = 0x10000000
	vmNoCache  = vmIO | vmHugeTLB | vmPFNMap | vmMixedMap
)

var (
	// ErrUnsupported means the kernel lacks a structure the resolver needs
	// (before Linux 6.1 VMAs were in a red-black tree).
	ErrUnsupported = errors.New("kernel memory map not supported")
	// ErrNoVMA means no mapping of the process covers the address: the
	// kernel would fail the access too.
	ErrNoVMA = errors.New("no mapping covers the address")
	// ErrNotCached means the mapping covers the address but its content is
	// not at hand without faulting: an anonymous or special mapping, or a
	// file page not (or not yet fully) in the page cache.
	ErrNotCached = errors.New("page not in the page cache")
	// ErrCorrupt means the kernel's structures are inconsistent, or larger
	// than any real kernel's: a hostile guest, or one caught mid-update.
	ErrCorrupt = errors.New("inconsistent kernel memory-map structures")
)

// Kernel reads kernel virtual memory; vmi.Space does.
type Kernel interface {
	Read(p []byte, va uint64) error
}

// Resolver finds the physical page behind a user address through the
// kernel's structures. It keeps no state between calls, so nothing it
// returns can be stale; it is safe for concurrent use if its memory is.
type Resolver struct {
	kern    Kernel
	phys    vmi.PhysMem
	o       *offsets.Offsets
	vmemmap uint64 // vmemmap_base: the struct page of pfn 0
}

// New returns a resolver reading kernel structures through kern and pages
// through phys. vmemmap is the address of the struct page of pfn 0
// (vmemmap_base, randomized by KASLR). It fails with ErrUnsupported when o
// lacks a structure the walk needs.
func New(kern Kernel, phys vmi.PhysMem, o *offsets.Offsets, vmemmap uint64) (*Resolver, error) {
	need := map[string]int{
		"task_struct.mm": o.Task.Mm, "mm_struct.mm_mt": o.MM.MmMt, "maple_tree.ma_root": o.MapleTree.Root,
		"vm_area_struct.vm_start": o.VMA.Start, "vm_area_struct.vm_end": o.VMA.End,
		"vm_area_struct.vm_flags": o.VMA.Flags, "vm_area_struct.vm_pgoff": o.VMA.Pgoff,
		"vm_area_struct.vm_file": o.VMA.File, "file.f_mapping": o.File.Mapping,
		"address_space.i_pages": o.AddressSpace.IPages, "xarray.xa_head": o.XArray.Head,
		"xa_node.shift": o.XaNode.Shift, "xa_node.slots": o.XaNode.Slots,
		"page.flags": o.Page.Flags, "page.mapping": o.Page.Mapping, "page.index": o.Page.Index,
		"PG_uptodate": o.Page.Uptodate,
	}
	for name, v := range need {
		if v == offsets.Absent {
			return nil, fmt.Errorf("%w: no %s", ErrUnsupported, name)
		}
	}
	if o.Page.Size <= 0 || o.Page.Uptodate >= 64 {
		return nil, fmt.Errorf("%w: sizeof(struct page) %d, PG_uptodate %d", ErrUnsupported, o.Page.Size, o.Page.Uptodate)
	}
	for _, l := range []struct {
		name  string
		n     offsets.MapleNodeStruct
		slots int
	}{{"maple_range_64", o.MapleRange, rangeSlots}, {"maple_arange_64", o.MapleArange, arangeSlots}} {
		if l.n.Pivot < 0 || l.n.Slot < 0 || l.n.Meta < 0 ||
			l.n.Pivot+8*(l.slots-1) > nodeSize || l.n.Slot+8*l.slots > nodeSize || l.n.Meta >= nodeSize {
			return nil, fmt.Errorf("%w: %s layout %+v does not fit a %d-byte node", ErrUnsupported, l.name, l.n, nodeSize)
		}
	}
	return &Resolver{kern: kern, phys: phys, o: o, vmemmap: vmemmap}, nil
}

// ReadUser fills p from the user address va of the process whose task is
// task, as the kernel would read it: pages user's page tables map are read
// through them, and pages whose page-table entry is empty through the
// task's VMA and its file's page cache. Any other failure is returned, with
// why the page cache could not answer.
func (r *Resolver) ReadUser(user vmi.Space, task uint64, p []byte, va uint64) error {
	var mm uint64
	for off := 0; off < len(p); {
		addr := va + uint64(off)
		n := min(len(p)-off, pageSize-int(addr&pageMask))
		chunk := p[off : off+n]
		off += n
		err := user.Read(chunk, addr)
		var fault *vmi.PageFault
		if err == nil {
			continue
		}
		if !errors.As(err, &fault) || fault.Entry != 0 {
			return err
		}
		if mm == 0 {
			if mm, err = r.u64(task + uint64(r.o.Task.Mm)); err != nil || mm == 0 {
				return fmt.Errorf("reading %#x: task %#x has no mm: %w", addr, task, ErrNoVMA)
			}
		}
		pa, err := r.Phys(mm, addr)
		if err != nil {
			return fmt.Errorf("reading %#x through its mapping: %w", addr, err)
		}
		if err := r.phys.ReadPhys(chunk, pa); err != nil {
			return fmt.Errorf("reading %#x at physical %#x: %w", addr, pa, err)
		}
	}
	return nil
}

// Phys returns the guest-physical address the kernel would read user
// address addr of mm at, were it to fault the page in: through the VMA
// covering it to its file's page cache.
func (r *Resolver) Phys(mm, addr uint64) (uint64, error) {
	root, err := r.u64(mm + uint64(r.o.MM.MmMt+r.o.MapleTree.Root))
	if err != nil {
		return 0, fmt.Errorf("%w: reading mm %#x: %w", ErrCorrupt, mm, err)
	}
	vma, err := r.findVMA(root, addr)
	if err != nil {
		return 0, err
	}
	v, err := r.readVMA(vma)
	if err != nil {
		return 0, err
	}
	switch {
	case addr < v.start || addr >= v.end:
		return 0, fmt.Errorf("%w: the maple tree gives VMA %#x [%#x, %#x) for %#x", ErrCorrupt, vma, v.start, v.end, addr)
	case v.flags&vmNoCache != 0:
		return 0, fmt.Errorf("%w: VMA [%#x, %#x) has flags %#x", ErrNotCached, v.start, v.end, v.flags)
	case v.file == 0:
		return 0, fmt.Errorf("%w: VMA [%#x, %#x) is anonymous", ErrNotCached, v.start, v.end)
	}
	mapping, err := r.u64(v.file + uint64(r.o.File.Mapping))
	if err != nil || mapping == 0 {
		return 0, fmt.Errorf("%w: file %#x has no mapping (%v)", ErrCorrupt, v.file, err)
	}
	index := v.pgoff + (addr-v.start)>>pageShift
	if index < v.pgoff {
		return 0, fmt.Errorf("%w: page offset %#x overflows", ErrCorrupt, v.pgoff)
	}
	page, first, err := r.lookup(mapping+uint64(r.o.AddressSpace.IPages), index)
	if err != nil {
		return 0, fmt.Errorf("file page %d: %w", index, err)
	}
	pfn, err := r.pfn(page, mapping, first)
	if err != nil {
		return 0, err
	}
	return (pfn+index-first)<<pageShift | addr&pageMask, nil
}

// vmaFields are the fields of a vm_area_struct the resolver uses.
type vmaFields struct{ start, end, flags, pgoff, file uint64 }

func (r *Resolver) readVMA(vma uint64) (vmaFields, error) {
	o := &r.o.VMA
	var buf [5]uint64
	for i, off := range []int{o.Start, o.End, o.Flags, o.Pgoff, o.File} {
		v, err := r.u64(vma + uint64(off))
		if err != nil {
			return vmaFields{}, fmt.Errorf("%w: reading VMA %#x: %w", ErrCorrupt, vma, err)
		}
		buf[i] = v
	}
	return vmaFields{start: buf[0], end: buf[1], flags: buf[2], pgoff: buf[3], file: buf[4]}, nil
}

// pfn returns the page frame of the struct page at page, after checking
// that it is the up-to-date page cache page of mapping at index first.
func (r *Resolver) pfn(page, mapping, first uint64) (uint64, error) {
	o := &r.o.Page
	size := uint64(o.Size)
	if page < r.vmemmap || (page-r.vmemmap)%size != 0 {
		return 0, fmt.Errorf("%w: page cache entry %#x is not a struct page (vmemmap %#x)", ErrCorrupt, page, r.vmemmap)
	}
	var f [3]uint64
	for i, off := range []int{o.Flags, o.Mapping, o.Index} {
		v, err := r.u64(page + uint64(off))
		if err != nil {
			return 0, fmt.Errorf("%w: reading struct page %#x: %w", ErrCorrupt, page, err)
		}
		f[i] = v
	}
	flags, pm, index := f[0], f[1], f[2]
	switch {
	case pm != mapping || index != first:
		return 0, fmt.Errorf("%w: struct page %#x is of mapping %#x index %d, not %#x index %d", ErrCorrupt, page, pm, index, mapping, first)
	case flags&(1<<o.Uptodate) == 0:
		return 0, fmt.Errorf("%w: page %#x is not up to date", ErrNotCached, page)
	}
	return (page - r.vmemmap) / size, nil
}

func (r *Resolver) u64(va uint64) (uint64, error) {
	var b [8]byte
	if err := r.kern.Read(b[:], va); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}
