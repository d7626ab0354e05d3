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
// flat view of guest-physical memory, asks gpa2hva for the host address of
// the first and last byte of every RAM-backed range (so each range is known
// contiguous in the host), and checks the ranges against the RAM blocks.
// Device RAM ("ramd", such as VFIO BARs) and MMIO are left out; ROM and
// read-only RAM come back ReadOnly. The layout holds until the guest remaps
// memory (PCI BARs, hotplug); learn it again after such changes.
func Ranges(hmp HMP) ([]physmem.Range, error) {
	text, err := hmp("info mtree -f")
	if err != nil {
		return nil, fmt.Errorf("info mtree -f: %w", err)
	}
	regions, err := ParseFlatView(text, "memory")
	if err != nil {
		return nil, err
	}
	if text, err = hmp("info ramblock"); err != nil {
		return nil, fmt.Errorf("info ramblock: %w", err)
	}
	blocks, err := ParseRAMBlocks(text)
	if err != nil {
		return nil, err
	}
	var ranges []physmem.Range
	for _, r := range regions {
		switch r.Kind {
		case "ram", "rom", "romd":
		default:
			continue
		}
		hva, err := hostAddr(hmp, r)
		if err != nil {
			return nil, err
		}
		if err := checkBlock(blocks, r, hva); err != nil {
			return nil, err
		}
		ranges = append(ranges, physmem.Range{GPA: r.Start, Size: r.Size, Off: hva, ReadOnly: r.Kind != "ram", Name: r.Name})
	}
	if len(ranges) == 0 {
		return nil, fmt.Errorf("%w: the flat view of memory has no RAM", ErrMismatch)
	}
	return ranges, nil
}

// hostAddr returns the host address of r's first byte, after checking that
// its last byte is Size-1 further in the same region.
func hostAddr(hmp HMP, r Region) (uint64, error) {
	var hva [2]uint64
	for i, gpa := range []uint64{r.Start, r.Start + r.Size - 1} {
		text, err := hmp(fmt.Sprintf("gpa2hva %#x", gpa))
		if err != nil {
			return 0, fmt.Errorf("gpa2hva %#x: %w", gpa, err)
		}
		name, addr, err := ParseGPA2HVA(text)
		if err != nil {
			return 0, fmt.Errorf("gpa2hva %#x: %w", gpa, err)
		}
		if name != r.Name {
			return 0, fmt.Errorf("%w: %#x is in %q by info mtree, %q by gpa2hva", ErrMismatch, gpa, r.Name, name)
		}
		hva[i] = addr
	}
	if hva[1]-hva[0] != r.Size-1 {
		return 0, fmt.Errorf("%w: %q at %#x (%#x bytes) is not contiguous in QEMU: host %#x..%#x",
			ErrMismatch, r.Name, r.Start, r.Size, hva[0], hva[1])
	}
	return hva[0], nil
}

// checkBlock cross-checks r against the RAM block of the same region: the
// range must fit in the block's used length and, where QEMU prints the
// block's host address, start at block HVA + offset. Device RAM blocks are
// named "<device path>/<region>"; two devices with the same region name make
// the match ambiguous and the check is skipped.
func checkBlock(blocks []RAMBlock, r Region, hva uint64) error {
	var match []RAMBlock
	for _, b := range blocks {
		if b.Name == r.Name || strings.HasSuffix(b.Name, "/"+r.Name) {
			match = append(match, b)
		}
	}
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
