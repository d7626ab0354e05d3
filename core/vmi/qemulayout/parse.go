package qemulayout

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	// ErrSyntax is returned for HMP text that does not parse.
	ErrSyntax = errors.New("unexpected HMP output")
	// ErrNoFlatView is returned when `info mtree -f` lists no flat view for
	// the address space asked for.
	ErrNoFlatView = errors.New("no flat view for the address space")
	// ErrNotRAM is returned by ParseGPA2HVA when QEMU has no RAM at the address.
	ErrNotRAM = errors.New("guest-physical address is not RAM")
)

// Region is one range of a flat view: guest-physical [Start, Start+Size)
// rendered by memory region Name from Offset on.
type Region struct {
	Start, Size uint64
	Priority    int
	Kind        string // "ram", "rom" (read-only RAM), "romd", "ramd" (device RAM), "i/o"
	Name        string
	Offset      uint64 // offset of Start within the region
}

// flatRange matches a flat-view line, e.g.
//
//	0000000000100000-000000007fffffff (prio 0, ram): pc.ram @0000000000100000
//
// QEMU prints the last byte (inclusive), "nv-" before the kind for
// non-volatile memory, and " KVM" after the name when KVM maps the range.
var flatRange = regexp.MustCompile(`^\s+([0-9a-f]+)-([0-9a-f]+) \(prio (-?\d+), (?:nv-)?([a-z/]+)\): (.*?)(?: @([0-9a-f]+))?(?: KVM)?$`)

// ParseFlatView parses `info mtree -f` and returns the ranges of the flat
// view that address space as (QEMU names guest-physical memory "memory") uses.
func ParseFlatView(text, as string) ([]Region, error) {
	var (
		regions []Region
		inView  bool // in a view's header, before its ranges
		found   bool
	)
	want := fmt.Sprintf(" AS %q,", as)
	for i, line := range lines(text) {
		switch {
		case strings.HasPrefix(line, "FlatView #"):
			if found {
				return regions, nil
			}
			inView = true
		case inView && strings.HasPrefix(line, want):
			found = true
		case strings.HasPrefix(line, " Root memory region:"):
			inView = false
		case found && isRangeLine(line):
			r, err := parseRange(line)
			if err != nil {
				return nil, fmt.Errorf("info mtree line %d: %w", i+1, err)
			}
			regions = append(regions, r)
		}
	}
	if !found {
		return nil, fmt.Errorf("%w %q", ErrNoFlatView, as)
	}
	return regions, nil
}

// isRangeLine tells range lines from headers and the -d dispatch dump.
func isRangeLine(line string) bool {
	s := strings.TrimLeft(line, " ")
	start, _, ok := strings.Cut(s, "-")
	return len(s) < len(line) && ok && isHex(start)
}

func parseRange(line string) (Region, error) {
	m := flatRange.FindStringSubmatch(line)
	if m == nil {
		return Region{}, fmt.Errorf("%w: %q", ErrSyntax, line)
	}
	first, err1 := strconv.ParseUint(m[1], 16, 64)
	last, err2 := strconv.ParseUint(m[2], 16, 64)
	prio, err3 := strconv.Atoi(m[3])
	if err := errors.Join(err1, err2, err3); err != nil || last < first || last-first == ^uint64(0) {
		return Region{}, fmt.Errorf("%w: %q", ErrSyntax, line)
	}
	r := Region{Start: first, Size: last - first + 1, Priority: prio, Kind: m[4], Name: m[5]}
	if m[6] != "" {
		if r.Offset, err1 = strconv.ParseUint(m[6], 16, 64); err1 != nil {
			return Region{}, fmt.Errorf("%w: %q", ErrSyntax, line)
		}
	}
	return r, nil
}

// RAMBlock is one row of `info ramblock`.
type RAMBlock struct {
	Name     string // QEMU's idstr: the region name, prefixed by the device path for device RAM
	PageSize uint64
	Offset   uint64 // in QEMU's ram_addr_t space, not guest-physical
	Used     uint64
	Total    uint64
	HVA      uint64 // host address; 0 where QEMU (before 8.0) does not print it
	ReadOnly bool
}

// ParseRAMBlocks parses `info ramblock`, with or without the HVA and RO
// columns QEMU 8.0 added.
func ParseRAMBlocks(text string) ([]RAMBlock, error) {
	var (
		blocks []RAMBlock
		header bool
		hva    bool
	)
	for i, line := range lines(text) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !header {
			if strings.Contains(line, "Block Name") && strings.Contains(line, "PSize") {
				header, hva = true, strings.Contains(line, "HVA")
			}
			continue
		}
		b, err := parseBlock(f, hva)
		if err != nil {
			return nil, fmt.Errorf("info ramblock line %d: %w: %q", i+1, err, line)
		}
		blocks = append(blocks, b)
	}
	if !header {
		return nil, fmt.Errorf("%w: no info ramblock header", ErrSyntax)
	}
	return blocks, nil
}

// parseBlock reads a row from the right: name (may be long), page size
// ("4 KiB"), offset, used, total, then HVA and RO when present.
func parseBlock(f []string, hva bool) (RAMBlock, error) {
	tail := 3
	if hva {
		tail = 5
	}
	if len(f) < tail+3 {
		return RAMBlock{}, ErrSyntax
	}
	nums := f[len(f)-tail:]
	var b RAMBlock
	vals := []*uint64{&b.Offset, &b.Used, &b.Total, &b.HVA}
	for i, s := range nums[:min(len(nums), 4)] {
		v, err := parseHex(s)
		if err != nil {
			return RAMBlock{}, err
		}
		*vals[i] = v
	}
	if hva {
		switch nums[4] {
		case "ro":
			b.ReadOnly = true
		case "rw":
		default:
			return RAMBlock{}, ErrSyntax
		}
	}
	size := f[len(f)-tail-2 : len(f)-tail]
	ps, err := parseSize(size[0], size[1])
	if err != nil {
		return RAMBlock{}, err
	}
	b.PageSize = ps
	b.Name = strings.Join(f[:len(f)-tail-2], " ")
	return b, nil
}

// parseSize reads QEMU's size_to_str output, e.g. "4 KiB", "2 MiB".
func parseSize(num, unit string) (uint64, error) {
	v, err := strconv.ParseFloat(num, 64)
	mult, ok := map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}[unit]
	if err != nil || !ok || v < 0 || v*mult >= 1<<63 {
		return 0, ErrSyntax
	}
	return uint64(v * mult), nil
}

// gpa2hvaLine matches "Host virtual address for 0x0 (pc.ram) is 0x7f083be00000".
var gpa2hvaLine = regexp.MustCompile(`^Host virtual address for 0x([0-9a-f]+) \((.*)\) is 0x([0-9a-f]+)$`)

// ParseGPA2HVA parses the answer to `gpa2hva ADDR`: the name of the memory
// region and the host virtual address. Addresses without RAM give ErrNotRAM.
func ParseGPA2HVA(text string) (region string, hva uint64, err error) {
	for _, line := range lines(text) {
		line = strings.TrimSpace(line)
		if m := gpa2hvaLine.FindStringSubmatch(line); m != nil {
			hva, err := parseHex(m[3])
			return m[2], hva, err
		}
		if strings.HasPrefix(line, "No memory is mapped at address") || strings.HasSuffix(line, "is not RAM") {
			return "", 0, fmt.Errorf("%w: %s", ErrNotRAM, line)
		}
	}
	return "", 0, fmt.Errorf("%w: gpa2hva said %q", ErrSyntax, strings.TrimSpace(text))
}

func parseHex(s string) (uint64, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		return 0, ErrSyntax
	}
	return v, nil
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// lines splits HMP text, which comes with \r\n line ends through some paths.
func lines(text string) []string {
	return strings.Split(strings.ReplaceAll(text, "\r", ""), "\n")
}
