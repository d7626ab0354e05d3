package ksym

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"nitro/internal/escape"
)

// LinkText is where x86-64 kernels are linked to start: __START_KERNEL_map
// plus the default CONFIG_PHYSICAL_START of 16 MiB. The KASLR slide is the
// distance of the running kernel's _text from it.
const LinkText = 0xffffffff81000000

// Symbol is one kernel symbol.
type Symbol struct {
	Name string
	Addr uint64
	// Type is nm's letter: 'T'/'t' text, 'D'/'d' data, 'B'/'b' bss,
	// 'R'/'r' read-only data, 'A' absolute (per-cpu offsets with
	// CONFIG_KALLSYMS_ABSOLUTE_PERCPU), 'W'/'w' weak, ...
	Type byte
}

// Table is a kernel symbol table sorted by address. It is immutable and safe
// for concurrent use.
type Table struct {
	syms   []Symbol // sorted by Addr, stable
	byName []uint32 // indexes of syms sorted by name, then index
	end    uint64   // address of _end, or 0: Nearest answers below it

	physText uint64 // physical address of _text
	hasPhys  bool
	layout   Layout
}

// newTable sorts syms by address (stable, so kallsyms order breaks ties).
func newTable(syms []Symbol) *Table {
	slices.SortStableFunc(syms, func(a, b Symbol) int { return cmp.Compare(a.Addr, b.Addr) })
	byName := make([]uint32, len(syms))
	for i := range byName {
		byName[i] = uint32(i)
	}
	slices.SortFunc(byName, func(a, b uint32) int {
		return cmp.Or(strings.Compare(syms[a].Name, syms[b].Name), cmp.Compare(a, b))
	})
	return indexedTable(syms, byName)
}

// indexedTable is the table of syms (sorted by address) with its name
// index (sorted by name, then index).
func indexedTable(syms []Symbol, byName []uint32) *Table {
	t := &Table{syms: syms, byName: byName}
	t.end, _ = t.Lookup("_end")
	return t
}

// Len is the number of symbols.
func (t *Table) Len() int { return len(t.syms) }

// Symbols returns the symbols in address order; the slice must not be
// modified.
func (t *Table) Symbols() []Symbol { return t.syms }

// Lookup returns the address of the symbol called name. Of several
// (static) symbols with one name, it returns the lowest address.
func (t *Table) Lookup(name string) (uint64, bool) {
	// A sorted index rather than a map: a table loaded from the cache is
	// ready without hashing every name, which ps and attach would pay for
	// a handful of lookups.
	i, ok := slices.BinarySearchFunc(t.byName, name, func(j uint32, name string) int {
		return strings.Compare(t.syms[j].Name, name)
	})
	if !ok {
		return 0, false
	}
	return t.syms[t.byName[i]].Addr, true
}

// Nearest returns the symbol at or below addr and addr's offset from it.
// It fails below the first symbol and, when _end is known, at or above
// _end (module and heap addresses are not the kernel image's). Absolute
// (per-cpu) symbols are matched only by addresses below the kernel image.
func (t *Table) Nearest(addr uint64) (name string, off uint64, ok bool) {
	if t.end != 0 && addr >= t.end {
		return "", 0, false
	}
	i, found := slices.BinarySearchFunc(t.syms, addr, func(s Symbol, a uint64) int { return cmp.Compare(s.Addr, a) })
	if !found {
		if i == 0 {
			return "", 0, false
		}
		i--
	}
	// Several symbols may share an address; report the first.
	for i > 0 && t.syms[i-1].Addr == t.syms[i].Addr {
		i--
	}
	return t.syms[i].Name, addr - t.syms[i].Addr, true
}

// Text returns the address of _text, the start of the kernel image.
func (t *Table) Text() (uint64, bool) { return t.Lookup("_text") }

// Slide returns the KASLR slide: _text's address minus LinkText. It is 0
// for tables read from a vmlinux or a System.map.
func (t *Table) Slide() (int64, bool) {
	text, ok := t.Text()
	return int64(text - LinkText), ok
}

// PhysText returns the physical address the kernel image (_text) is loaded
// at, when the table's source tells it.
func (t *Table) PhysText() (uint64, bool) { return t.physText, t.hasPhys }

// Phys translates the virtual address of a byte of the kernel image (from
// _text to _end) to its physical address. The image is physically
// contiguous, so this needs no page tables.
func (t *Table) Phys(virt uint64) (uint64, bool) {
	text, ok := t.Text()
	if !ok || !t.hasPhys || virt < text || t.end != 0 && virt >= t.end {
		return 0, false
	}
	return t.physText + (virt - text), true
}

// Layout returns the kallsyms table order the symbols were decoded from, or
// 0 for a table parsed from text.
func (t *Table) Layout() Layout { return t.layout }

// WriteKallsyms writes the table in /proc/kallsyms's form ("address type
// name" a line), which ParseSystemMap reads back. Names decoded from guest
// memory are the guest's bytes: they are escaped (escape.Field), so none
// can drive a terminal or forge a line.
func (t *Table) WriteKallsyms(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, s := range t.syms {
		fmt.Fprintf(bw, "%016x %c %s\n", s.Addr, s.Type, escape.Field(s.Name))
	}
	return bw.Flush()
}
