package ksym

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Caps on what the bytes can make the decoder do.
const (
	maxSymbols = 1 << 21 // Debian's kernels have about 150,000
	// maxNameLen bounds an expanded name (type letter included); the
	// kernel's KSYM_NAME_LEN is 512.
	maxNameLen = 1024
	// maxEntryLen bounds an entry of kallsyms_names: a two-byte ULEB128
	// length and at most KSYM_NAME_LEN token bytes.
	maxEntryLen = 2 + 512
	// maxMarkerGap bounds the bytes of 256 consecutive name entries.
	maxMarkerGap = 256 * maxEntryLen
	minMarkerGap = 256 * 2 // a length byte and one token each
	// maxTables bounds the token tables whose other tables are searched
	// for; a kernel image has one, crafted memory could have thousands.
	maxTables = 16
)

var (
	// ErrNotFound is returned when no kallsyms tables are found.
	ErrNotFound = errors.New("kallsyms tables not found")
	// ErrMalformed is returned when tables are found but do not decode.
	ErrMalformed = errors.New("malformed kallsyms tables")

	errTooManyTables = fmt.Errorf("%w: more than %d token tables", ErrMalformed, maxTables)
)

// Layout says in which order the kernel build emitted the tables.
type Layout int

const (
	// OffsetsFirst is the order up to Linux 6.3: kallsyms_offsets,
	// kallsyms_relative_base, kallsyms_num_syms, kallsyms_names,
	// kallsyms_markers, [kallsyms_seqs_of_names,] kallsyms_token_table,
	// kallsyms_token_index. Debian's 6.1 has the seqs table, backported.
	OffsetsFirst Layout = iota + 1
	// OffsetsLast is the order since Linux 6.4: kallsyms_num_syms,
	// kallsyms_names, kallsyms_markers, kallsyms_token_table,
	// kallsyms_token_index, kallsyms_offsets, kallsyms_relative_base,
	// kallsyms_seqs_of_names.
	OffsetsLast
)

func (l Layout) String() string {
	switch l {
	case OffsetsFirst:
		return "offsets-first"
	case OffsetsLast:
		return "offsets-last"
	}
	return fmt.Sprintf("Layout(%d)", int(l))
}

// digitTokens is part of every token table: each byte value that occurs in
// some symbol name stands for itself, so codes '0'..'9' are the one-letter
// tokens "0".."9", stored one after another.
var digitTokens = []byte("0\x001\x002\x003\x004\x005\x006\x007\x008\x009\x00")

// found is the content of decoded tables.
type found struct {
	syms   []Symbol
	layout Layout
}

// tokens is a validated kallsyms_token_table with its kallsyms_token_index.
type tokens struct {
	tok        [256][]byte
	start, end int // the token table
	index      int // kallsyms_token_index, 512 bytes
}

// decode looks for kallsyms tables in b. Each place where the digit tokens
// occur is tried; the first that yields consistent tables wins.
func decode(b []byte) (*found, error) {
	var firstErr error
	for from, tables := 0, 0; ; {
		i := bytes.Index(b[from:], digitTokens)
		if i < 0 {
			break
		}
		hit := from + i
		from = hit + 1
		tk, ok := tokenTableAt(b, hit)
		if !ok {
			continue
		}
		if tables++; tables > maxTables {
			return nil, errTooManyTables
		}
		f, err := decodeAround(b, tk)
		if err == nil {
			return f, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, ErrNotFound
}

// tokenTableAt checks whether the digit tokens at hit belong to a token
// table followed by its index.
func tokenTableAt(b []byte, hit int) (tokens, bool) {
	var tk tokens
	// Walk back over the 48 tokens for codes 0x00..0x2f.
	p := hit
	for range '0' {
		if p < 1 || b[p-1] != 0 {
			return tk, false
		}
		lo := max(p-1-maxNameLen, 0)
		q := bytes.LastIndexByte(b[lo:p-1], 0)
		if q < 0 {
			if lo > 0 {
				return tk, false
			}
			p = 0 // the token table starts the buffer
			continue
		}
		p = lo + q + 1
	}
	tk.start = p
	for c := range 256 {
		n := bytes.IndexByte(b[p:min(len(b), p+maxNameLen)], 0)
		if n < 0 {
			return tk, false
		}
		tk.tok[c] = b[p : p+n]
		p += n + 1
	}
	tk.end = p
	if p-tk.start > 0xffff {
		return tk, false
	}
	var want [512]byte
	for c := range 256 {
		off := 0
		if c > 0 {
			off = int(binary.LittleEndian.Uint16(want[2*(c-1):])) + len(tk.tok[c-1]) + 1
		}
		binary.LittleEndian.PutUint16(want[2*c:], uint16(off))
	}
	// The index label is aligned to 8, so up to 7 bytes of padding.
	for pad := range 8 {
		at := tk.end + pad
		if at+512 > len(b) {
			break
		}
		if bytes.Equal(b[at:at+512], want[:]) {
			tk.index = at
			return tk, true
		}
	}
	return tk, false
}

// nameTables locates kallsyms_num_syms, kallsyms_names and kallsyms_markers.
type nameTables struct {
	numSyms int // offset of kallsyms_num_syms
	n       int
	names   int // offset of the first entry
	markers int // offset of kallsyms_markers
	width   int // bytes per marker: 4 in Debian 6.1 and 6.12; 8 (PTR) in older 64-bit kernels
}

// decodeAround decodes the tables that belong to the token table tk.
func decodeAround(b []byte, tk tokens) (*found, error) {
	nt, err := findNames(b, tk)
	if err != nil {
		return nil, err
	}
	// Offsets-last first: its offsets sit right after the token index.
	candidates := []struct {
		layout           Layout
		offsets, relBase int
	}{
		{OffsetsLast, align8(tk.index + 512), align8(align8(tk.index+512) + 4*nt.n)},
		{OffsetsFirst, alignDown8(nt.numSyms - 8 - 4*nt.n), nt.numSyms - 8},
	}
	for _, c := range candidates {
		addrs, ok := readAddresses(b, c.offsets, c.relBase, nt.n)
		if !ok {
			continue
		}
		syms, err := expandNames(b, tk, nt, addrs)
		if err != nil {
			return nil, err
		}
		return &found{syms: syms, layout: c.layout}, nil
	}
	return nil, fmt.Errorf("%w: no address table fits %d symbols", ErrMalformed, nt.n)
}

// findNames searches backwards from the token table for the markers: an
// aligned array that starts at 0 and grows by a plausible size every 256
// names. The markers end where the token table starts (Linux 6.4+ and
// vanilla 6.1) or where kallsyms_seqs_of_names starts (3 or 4 bytes a
// symbol, Linux 6.2/6.3 and Debian's 6.1). The first candidate whose names
// walk lands exactly on its markers wins.
func findNames(b []byte, tk tokens) (nameTables, error) {
	work := searchWork
	lowest := max(0, tk.start-maxTablesBefore)
	for m := alignDown8(tk.start - 8); m >= lowest; m -= 8 {
		if !work.spend(1) {
			return nameTables{}, fmt.Errorf("%w: search limit reached before the token table at %#x", ErrMalformed, tk.start)
		}
		for _, w := range []int{4, 8} {
			if readUint(b, m, w) != 0 {
				continue
			}
			k := markerRun(b, m, w, tk.start)
			if k < 2 {
				continue
			}
			if nt, ok := namesBefore(b, tk, m, w, k, &work); ok {
				return nt, nil
			}
		}
	}
	return nameTables{}, fmt.Errorf("%w: no names and markers before the token table at %#x", ErrNotFound, tk.start)
}

// budget bounds the steps of the search for the names: crafted bytes can
// offer many candidate markers, each with many candidate name tables. A
// real kernel needs a few million steps.
type budget int

const searchWork budget = 1 << 26

func (b *budget) spend(n int) bool {
	*b -= budget(n)
	return *b >= 0
}

// maxTablesBefore bounds how far before the token table the other tables
// may start: offsets, names and markers of 2^21 symbols fit in 32 MiB.
const maxTablesBefore = 32 << 20

// markerRun counts the markers of a candidate array at m: the first is 0,
// every further one grows by between minMarkerGap and maxMarkerGap.
func markerRun(b []byte, m, w, limit int) int {
	k := 1
	prev := uint64(0)
	for at := m + w; at+w <= limit && k < maxSymbols/256; at += w {
		v := readUint(b, at, w)
		if v < prev+minMarkerGap || v > prev+maxMarkerGap {
			break
		}
		prev = v
		k++
	}
	return k
}

// namesBefore tries markers at m, k of them (or k-1: the bytes after the
// last marker may by chance extend the run), and looks for the
// kallsyms_num_syms word whose names end at m.
func namesBefore(b []byte, tk tokens, m, w, kRun int, work *budget) (nameTables, bool) {
	for k := kRun; k >= max(2, kRun-1); k-- {
		last := int(readUint(b, m+(k-1)*w, w))
		// The names start at most one block of 256 entries before the last
		// marker's entry, measured back from the markers.
		hi := alignDown8(m - last - 8)
		lo := max(0, hi-maxMarkerGap)
		for p := hi; p >= lo && work.spend(1); p -= 8 {
			n := int(binary.LittleEndian.Uint32(b[p:]))
			if n <= 256*(k-1) || n > 256*k || binary.LittleEndian.Uint32(b[p+4:]) != 0 {
				continue
			}
			nt := nameTables{numSyms: p, n: n, names: p + 8, markers: m, width: w}
			if seqsFit(m+k*w, tk.start, n) && work.spend(n) && nt.walk(b) {
				return nt, true
			}
		}
	}
	return nameTables{}, false
}

// seqsFit checks what lies between the markers' end and the token table:
// nothing, or kallsyms_seqs_of_names of 3 or 4 bytes a symbol.
func seqsFit(markersEnd, tokenTable, n int) bool {
	start := align8(markersEnd)
	return tokenTable == start || tokenTable == align8(start+3*n) || tokenTable == align8(start+4*n)
}

// walk steps over all name entries, checking every 256th against its
// marker and that the entries end right before the markers.
func (nt nameTables) walk(b []byte) bool {
	p := nt.names
	for i := range nt.n {
		if i%256 == 0 && readUint(b, nt.markers+i/256*nt.width, nt.width) != uint64(p-nt.names) {
			return false
		}
		n, hdr, ok := entryLen(b, p)
		if !ok {
			return false
		}
		p += hdr + n
	}
	return p <= nt.markers && align8(p) == nt.markers
}

// entryLen reads the ULEB128 length (one or two bytes) of the name entry at p.
func entryLen(b []byte, p int) (n, hdr int, ok bool) {
	if p >= len(b) {
		return 0, 0, false
	}
	n, hdr = int(b[p]), 1
	if n&0x80 != 0 {
		if p+1 >= len(b) {
			return 0, 0, false
		}
		n, hdr = n&0x7f|int(b[p+1])<<7, 2
	}
	if n == 0 || n > maxEntryLen || p+hdr+n > len(b) {
		return 0, 0, false
	}
	return n, hdr, true
}

// readAddresses decodes kallsyms_offsets against kallsyms_relative_base and
// accepts them only if they are sorted, as the build sorts symbols by
// address, and start at the base. With CONFIG_KALLSYMS_ABSOLUTE_PERCPU, non-negative offsets are
// absolute (per-cpu) values and negative ones count down from base-1;
// without it, all offsets are unsigned distances from base.
func readAddresses(b []byte, offsets, relBase, n int) ([]uint64, bool) {
	if offsets < 0 || relBase < 0 || offsets+4*n > len(b) || relBase+8 > len(b) {
		return nil, false
	}
	base := binary.LittleEndian.Uint64(b[relBase:])
	if base>>47 != 0x1ffff { // a kernel-half x86-64 address
		return nil, false
	}
	raw := b[offsets : offsets+4*n]
	absPercpu := false
	for i := 0; i < n; i++ {
		if int32(binary.LittleEndian.Uint32(raw[4*i:])) < 0 {
			absPercpu = true
			break
		}
	}
	addrs := make([]uint64, n)
	firstRel := -1
	for i := range n {
		off := int32(binary.LittleEndian.Uint32(raw[4*i:]))
		switch {
		case !absPercpu:
			addrs[i] = base + uint64(uint32(off))
		case off >= 0:
			addrs[i] = uint64(off)
		default:
			addrs[i] = base - 1 - uint64(int64(off))
		}
		if i > 0 && addrs[i] < addrs[i-1] {
			return nil, false
		}
		if firstRel < 0 && (!absPercpu || off < 0) {
			firstRel = i
		}
	}
	// The base is the lowest relative symbol's address, and a real table
	// spans more than one address (filler bytes decode as constant).
	if firstRel < 0 || addrs[firstRel] != base || addrs[n-1] == base {
		return nil, false
	}
	return addrs, true
}

// expandNames decodes every name entry through the token table.
func expandNames(b []byte, tk tokens, nt nameTables, addrs []uint64) ([]Symbol, error) {
	syms := make([]Symbol, nt.n)
	var buf []byte
	p := nt.names
	for i := range nt.n {
		n, hdr, _ := entryLen(b, p) // walk has checked every entry
		buf = buf[:0]
		for _, c := range b[p+hdr : p+hdr+n] {
			buf = append(buf, tk.tok[c]...)
			if len(buf) > maxNameLen {
				return nil, fmt.Errorf("%w: symbol %d longer than %d bytes", ErrMalformed, i, maxNameLen)
			}
		}
		if len(buf) < 2 || !isTypeLetter(buf[0]) {
			return nil, fmt.Errorf("%w: symbol %d has no type letter: %q", ErrMalformed, i, buf)
		}
		syms[i] = Symbol{Name: string(buf[1:]), Type: buf[0], Addr: addrs[i]}
		p += hdr + n
	}
	return syms, nil
}

func isTypeLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// readUint reads a little-endian 4- or 8-byte word, or returns MaxUint64
// (never a valid marker) past the end of b.
func readUint(b []byte, at, w int) uint64 {
	if at < 0 || at+w > len(b) {
		return ^uint64(0)
	}
	if w == 4 {
		return uint64(binary.LittleEndian.Uint32(b[at:]))
	}
	return binary.LittleEndian.Uint64(b[at:])
}

func align8(x int) int     { return (x + 7) &^ 7 }
func alignDown8(x int) int { return x &^ 7 }
