package ksym

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"nitro/core/vmi"
)

// ErrBadCache is returned for bytes UnmarshalBinary cannot take for a
// table: another format, a cut or damaged file.
var ErrBadCache = errors.New("not a kernel symbol cache")

// The cache encoding: a fixed head, then the symbols' addresses, types,
// name ends and name order, then the names. Decoding it costs a copy and
// a check of both orders, no sorting or hashing.
//
//	magic [8]byte | layout u8 | has phys u8 | 0 u16 | count u32 | phys text u64
//	addresses [count]u64 | types [count]u8 | name ends [count]u32 |
//	name order [count]u32 | names
const (
	cacheMagic = "NKSYMS02"
	cacheHead  = 8 + 1 + 1 + 2 + 4 + 8
	// maxCached bounds what a cache file may claim: kallsyms's own limit
	// on symbols, and names of a few dozen bytes each.
	maxCachedSyms  = 1 << 21
	maxCachedNames = 128 << 20
	cachedSymBytes = 8 + 1 + 4 + 4 // address, type, name end, name order
)

// MarshalBinary encodes the table and its placement (PhysText).
func (t *Table) MarshalBinary() ([]byte, error) {
	n := len(t.syms)
	names := 0
	for _, s := range t.syms {
		names += len(s.Name)
	}
	b := make([]byte, 0, cacheHead+n*cachedSymBytes+names)
	b = append(b, cacheMagic...)
	b = append(b, byte(t.layout), boolByte(t.hasPhys), 0, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint64(b, t.physText)
	for _, s := range t.syms {
		b = binary.LittleEndian.AppendUint64(b, s.Addr)
	}
	for _, s := range t.syms {
		b = append(b, s.Type)
	}
	end := 0
	for _, s := range t.syms {
		end += len(s.Name)
		b = binary.LittleEndian.AppendUint32(b, uint32(end))
	}
	for _, i := range t.byName {
		b = binary.LittleEndian.AppendUint32(b, i)
	}
	for _, s := range t.syms {
		b = append(b, s.Name...)
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded; bytes that do not
// hold a table whole get ErrBadCache.
func (t *Table) UnmarshalBinary(b []byte) error {
	if len(b) < cacheHead || string(b[:8]) != cacheMagic {
		return ErrBadCache
	}
	n := int(binary.LittleEndian.Uint32(b[12:]))
	if n > maxCachedSyms || len(b)-cacheHead < n*cachedSymBytes {
		return fmt.Errorf("%w: %d symbols in %d bytes", ErrBadCache, n, len(b))
	}
	addrs := b[cacheHead : cacheHead+8*n]
	types := b[cacheHead+8*n : cacheHead+9*n]
	ends := b[cacheHead+9*n : cacheHead+13*n]
	order := b[cacheHead+13*n : cacheHead+17*n]
	blob := b[cacheHead+17*n:]
	if len(blob) > maxCachedNames || n > 0 && int(binary.LittleEndian.Uint32(ends[4*(n-1):])) != len(blob) {
		return fmt.Errorf("%w: the names do not end where the file does", ErrBadCache)
	}
	// One string holds every name; the symbols' names are slices of it.
	names := string(blob)
	syms := make([]Symbol, n)
	start := 0
	for i := range syms {
		end := int(binary.LittleEndian.Uint32(ends[4*i:]))
		if end < start || end > len(names) {
			return fmt.Errorf("%w: name %d runs backwards or off the end", ErrBadCache, i)
		}
		syms[i] = Symbol{Name: names[start:end], Addr: binary.LittleEndian.Uint64(addrs[8*i:]), Type: types[i]}
		start = end
	}
	if !slices.IsSortedFunc(syms, func(a, b Symbol) int { return cmp.Compare(a.Addr, b.Addr) }) {
		return fmt.Errorf("%w: symbols out of address order", ErrBadCache)
	}
	// The name order must hold every symbol once. It is not checked to
	// be in order, which would cost a comparison of names per symbol on
	// every attach: out of order, Lookup misses names (and Placed then
	// refuses the table) but never answers with another name's address.
	byName := make([]uint32, n)
	seen := make([]bool, n)
	for i := range byName {
		j := binary.LittleEndian.Uint32(order[4*i:])
		if int(j) >= n || seen[j] {
			return fmt.Errorf("%w: name order broken at %d", ErrBadCache, i)
		}
		seen[j], byName[i] = true, j
	}
	nt := indexedTable(syms, byName)
	nt.layout, nt.hasPhys, nt.physText = Layout(b[8]), b[9] != 0, binary.LittleEndian.Uint64(b[16:])
	*t = *nt
	return nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// Placed checks that the kernel image t describes lies at its PhysText in
// mem: linux_banner and sys_call_table read there as the symbols say. It
// is how a table kept from an earlier attach is known to fit the guest.
func (t *Table) Placed(mem vmi.PhysMem, size uint64) error {
	phys, ok := t.PhysText()
	if !ok {
		return ErrNoLoadAddress
	}
	text, banner, err := t.bannerSyms()
	if err != nil {
		return err
	}
	if _, ok := t.Lookup("sys_call_table"); !ok {
		return fmt.Errorf("%w: no sys_call_table symbol to check the table by", ErrNoLoadAddress)
	}
	if len(t.bySyscallTable(mem, size, text, t.withBanner(mem, size, text, banner, []uint64{phys}))) != 1 {
		return fmt.Errorf("%w: linux_banner or sys_call_table is not where the table says", ErrMismatch)
	}
	return nil
}
