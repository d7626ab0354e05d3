package vmi

import (
	"errors"
	"fmt"
)

// Page-table entry bits and masks (Intel SDM vol. 3, 4.5).
const (
	pageShift = 12
	pageSize  = 1 << pageShift
	pageMask  = pageSize - 1

	ptePresent  = 1 << 0
	pteWritable = 1 << 1
	pteUser     = 1 << 2
	ptePageSize = 1 << 7

	// physAddrMask keeps bits 51:12 of an entry or of CR3: the physical
	// frame. Bits 63:52 hold NX and protection keys, bits 11:0 flags or the PCID.
	physAddrMask = 0x000f_ffff_ffff_f000

	// PTIUserBit is the CR3 bit that selects the user half of a PGD pair
	// under Linux page-table isolation: the user PGD is the page after the
	// kernel PGD, so the kernel view is cr3 &^ PTIUserBit.
	PTIUserBit = 1 << 12

	// cr4LA57 is CR4 bit 12: 5-level paging.
	cr4LA57 = 1 << 12
)

var (
	// ErrNotPresent matches a PageFault: the address has no mapping.
	ErrNotPresent = errors.New("page not present")
	// ErrNonCanonical is returned for virtual addresses whose upper bits
	// are not a sign extension of the highest translated bit.
	ErrNonCanonical = errors.New("non-canonical virtual address")
)

// PageFault is the error for a virtual address the page tables do not map.
// errors.Is(err, ErrNotPresent) matches it.
type PageFault struct {
	Addr  uint64 // the virtual address
	CR3   uint64 // the page-table root it was translated under
	Level int    // paging level of the entry that stopped the walk: 5 (PML5) .. 1 (PT)
	Entry uint64 // that entry's value
	// Reserved is set when the entry was present but had the page-size bit
	// set at a level that cannot map a page (PML4, PML5).
	Reserved bool
}

func (f *PageFault) Error() string {
	why := "not present"
	if f.Reserved {
		why = "has a reserved bit set"
	}
	return fmt.Sprintf("page fault at %#x (cr3 %#x): level-%d entry %#x %s", f.Addr, f.CR3, f.Level, f.Entry, why)
}

// Is makes errors.Is(err, ErrNotPresent) match any PageFault.
func (f *PageFault) Is(target error) bool { return target == ErrNotPresent }

// LA57 reports whether CR4 enables 5-level paging.
func LA57(cr4 uint64) bool { return cr4&cr4LA57 != 0 }

// KernelCR3 returns the kernel half of a PTI page-table pair for a user
// CR3, without the PCID bits. Only meaningful when the guest runs with PTI:
// without it a PGD may sit at an odd page and bit 12 is part of its address.
func KernelCR3(cr3 uint64) uint64 { return cr3 & physAddrMask &^ PTIUserBit }

// entryReader returns the 8-byte page-table entry at guest-physical address pa.
type entryReader func(pa uint64) (uint64, error)

// walk translates va to a guest-physical address by reading the 4- or
// 5-level tables rooted at cr3, and returns the AND of the entries on the
// way, whose writable and user bits say what user code may do with the page.
// The walk is bounded by the number of levels, so hostile tables cannot
// loop; entries pointing outside guest RAM surface as the source's error
// (ErrOutOfRange).
func walk(entryAt entryReader, cr3 uint64, la57 bool, va uint64) (pa, perm uint64, err error) {
	levels, vaBits := 4, 48
	if la57 {
		levels, vaBits = 5, 57
	}
	if !canonical(va, vaBits) {
		return 0, 0, fmt.Errorf("translating %#x: %w", va, ErrNonCanonical)
	}
	table := cr3 & physAddrMask
	perm = ^uint64(0)
	for level := levels; level >= 1; level-- {
		shift := pageShift + 9*(level-1)
		slot := table + (va>>shift&511)*8
		entry, err := entryAt(slot)
		if err != nil {
			return 0, 0, fmt.Errorf("translating %#x: reading level-%d entry at physical %#x: %w", va, level, slot, err)
		}
		if entry&ptePresent == 0 {
			return 0, 0, &PageFault{Addr: va, CR3: cr3, Level: level, Entry: entry}
		}
		perm &= entry
		if entry&ptePageSize != 0 {
			switch level {
			case 2, 3: // 2 MiB and 1 GiB pages; bit 12 (PAT) falls in the offset mask
				size := uint64(1) << shift
				return entry&physAddrMask&^(size-1) | va&(size-1), perm, nil
			case 4, 5:
				return 0, 0, &PageFault{Addr: va, CR3: cr3, Level: level, Entry: entry, Reserved: true}
			}
			// In a PT entry bit 7 is PAT, not a page size.
		}
		table = entry & physAddrMask
	}
	return table | va&pageMask, perm, nil
}

// canonical reports whether bits 63..bits-1 of va are all equal.
func canonical(va uint64, bits int) bool {
	top := int64(va) >> (bits - 1)
	return top == 0 || top == -1
}
