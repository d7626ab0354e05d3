package qemulayout

import (
	"errors"
	"fmt"
	"strings"

	"nitro/core/vmi/physmem"
)

// ErrMismatch is returned when QEMU's answers contradict each other (a
// range that is not contiguous in host memory, a region with no RAM block).
var ErrMismatch = errors.New("QEMU memory layout is inconsistent")

// HMP runs one human-monitor command in the guest's QEMU and returns its output.
type HMP func(cmd string) (string, error)

// Open learns the RAM layout of the QEMU process pid through hmp and opens
// its memory in place (physmem.OpenProcess).
func Open(pid int, hmp HMP) (*physmem.Source, error) {
	ranges, err := Ranges(hmp)
	if err != nil {
		return nil, fmt.Errorf("learning the guest RAM layout: %w", err)
	}
	return physmem.OpenProcess(pid, ranges)
}

// Ranges learns the guest-physical RAM of a running QEMU and where each
// range sits in QEMU's address space, for physmem.OpenProcess. It reads the
// flat view of guest-physical memory and the RAM blocks, then asks gpa2hva
// for the host address of the lowest and the highest byte each RAM block
// backs: a block is one contiguous host mapping, so every range in it
// follows from the block's base and the range's offset, and two round
// trips per block stand for one pair per range. A region name that two RAM
// blocks share (two devices' "vga.vram") is resolved range by range.
// Device RAM ("ramd", such as VFIO BARs) and MMIO are left out; ROM and
// read-only RAM come back ReadOnly. The layout holds until the guest remaps
// memory (PCI BARs, hotplug); learn it again after such changes.
func Ranges(hmp HMP) ([]physmem.Range, error) { return ranges(hmp, nil) }

// ranges is Ranges, asking gpa2hva through memo when there is one.
func ranges(hmp HMP, memo *Memo) ([]physmem.Range, error) {
	mtree, err := hmp("info mtree -f")
	if err != nil {
		return nil, fmt.Errorf("info mtree -f: %w", err)
	}
	regions, err := ParseFlatView(mtree, "memory")
	if err != nil {
		return nil, err
	}
	ramblock, err := hmp("info ramblock")
	if err != nil {
		return nil, fmt.Errorf("info ramblock: %w", err)
	}
	blocks, err := ParseRAMBlocks(ramblock)
	if err != nil {
		return nil, err
	}
	if memo != nil {
		hmp = memo.asker(hmp, mtree, ramblock)
	}
	var ram []Region
	for _, r := range regions {
		switch r.Kind {
		case "ram", "rom", "romd":
			ram = append(ram, r)
		}
	}
	if len(ram) == 0 {
		return nil, fmt.Errorf("%w: the flat view of memory has no RAM", ErrMismatch)
	}
	bases, err := blockBases(hmp, blocks, ram)
	if err != nil {
		return nil, err
	}
	ranges := make([]physmem.Range, 0, len(ram))
	for _, r := range ram {
		base, ok := bases[r.Name]
		if !ok {
			if base, err = spanBase(hmp, r, r); err != nil {
				return nil, err
			}
		}
		hva := base + r.Offset
		if err := checkBlock(blocks, r, hva); err != nil {
			return nil, err
		}
		ranges = append(ranges, physmem.Range{GPA: r.Start, Size: r.Size, Off: hva, ReadOnly: r.Kind != "ram", Name: r.Name})
	}
	return ranges, nil
}

// blockBases returns the host address of offset 0 of each region that
// exactly one RAM block holds, checked at the lowest and highest byte the
// flat view maps of it.
func blockBases(hmp HMP, blocks []RAMBlock, ram []Region) (map[string]uint64, error) {
	type span struct{ lo, hi Region }
	spans := map[string]*span{}
	var order []string
	for _, r := range ram {
		if len(matchBlocks(blocks, r.Name)) != 1 {
			continue
		}
		s, ok := spans[r.Name]
		if !ok {
			spans[r.Name] = &span{r, r}
			order = append(order, r.Name)
			continue
		}
		if r.Offset < s.lo.Offset {
			s.lo = r
		}
		if r.Offset+r.Size > s.hi.Offset+s.hi.Size {
			s.hi = r
		}
	}
	bases := make(map[string]uint64, len(spans))
	for _, name := range order {
		base, err := spanBase(hmp, spans[name].lo, spans[name].hi)
		if err != nil {
			return nil, err
		}
		bases[name] = base
	}
	return bases, nil
}

// spanBase returns the host address of offset 0 of the region that lo and
// hi (ranges of one region, lo the lowest, hi the highest) are in, after
// gpa2hva has placed lo's first byte and hi's last byte that far apart in
// that region.
func spanBase(hmp HMP, lo, hi Region) (uint64, error) {
	var hva [2]uint64
	for i, gpa := range []uint64{lo.Start, hi.Start + hi.Size - 1} {
		text, err := hmp(fmt.Sprintf("gpa2hva %#x", gpa))
		if err != nil {
			return 0, fmt.Errorf("gpa2hva %#x: %w", gpa, err)
		}
		region, addr, err := ParseGPA2HVA(text)
		if err != nil {
			return 0, fmt.Errorf("gpa2hva %#x: %w", gpa, err)
		}
		if region != lo.Name {
			return 0, fmt.Errorf("%w: %#x is in %q by info mtree, %q by gpa2hva", ErrMismatch, gpa, lo.Name, region)
		}
		hva[i] = addr
	}
	if want := hi.Offset + hi.Size - 1 - lo.Offset; hva[1]-hva[0] != want {
		return 0, fmt.Errorf("%w: %q is not contiguous in QEMU: guest %#x..%#x at host %#x..%#x",
			ErrMismatch, lo.Name, lo.Start, hi.Start+hi.Size-1, hva[0], hva[1])
	}
	return hva[0] - lo.Offset, nil
}

// checkBlock cross-checks r against the RAM block of the same region: the
// range must fit in the block's used length and, where QEMU prints the
// block's host address, start at block HVA + offset. Device RAM blocks are
// named "<device path>/<region>"; two devices with the same region name make
// the match ambiguous and the check is skipped.
func checkBlock(blocks []RAMBlock, r Region, hva uint64) error {
	match := matchBlocks(blocks, r.Name)
	switch {
	case len(match) == 0:
		return fmt.Errorf("%w: region %q has no RAM block", ErrMismatch, r.Name)
	case len(match) > 1:
		return nil
	}
	b := match[0]
	if r.Offset > b.Used || r.Size > b.Used-r.Offset {
		return fmt.Errorf("%w: %q at offset %#x (%#x bytes) overruns RAM block %q of %#x bytes",
			ErrMismatch, r.Name, r.Offset, r.Size, b.Name, b.Used)
	}
	if b.HVA != 0 && b.HVA+r.Offset != hva {
		return fmt.Errorf("%w: %q: gpa2hva says host %#x, info ramblock %#x+%#x", ErrMismatch, r.Name, hva, b.HVA, r.Offset)
	}
	return nil
}

// matchBlocks returns the RAM blocks of region name: its own, or a device's
// "<device path>/<name>".
func matchBlocks(blocks []RAMBlock, name string) []RAMBlock {
	var match []RAMBlock
	for _, b := range blocks {
		if b.Name == name || strings.HasSuffix(b.Name, "/"+name) {
			match = append(match, b)
		}
	}
	return match
}
