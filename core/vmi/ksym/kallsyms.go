package ksym

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
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
// occur is tried; the first that yields consistent tables wins. If none
// does, the error says which checks failed where.
func decode(b []byte) (*found, error) {
	var rej rejects
	for from, tables := 0, 0; ; {
		i := bytes.Index(b[from:], digitTokens)
		if i < 0 {
			break
		}
		hit := from + i
		from = hit + 1
		tk, err := tokenTableAt(b, hit)
		if err != nil {
			rej.add(uint64(hit), err, false)
			continue
		}
		if tables++; tables > maxTables {
			return nil, errTooManyTables
		}
		f, err := decodeAround(b, tk)
		if err == nil {
			return f, nil
		}
		rej.add(uint64(hit), err, true)
	}
	return nil, rej.err()
}

// tokenTableAt checks whether the digit tokens at hit belong to a token
// table followed by its index. The tokens from '0' on are walked forward
// to the index, and the index then says where every token starts: its
// entry for '0' pins the table's start. Nothing is assumed about the bytes
// before the table, which may be the end of the previous table.
func tokenTableAt(b []byte, hit int) (tokens, error) {
	var tk tokens
	p := hit
	for c := '0'; c < 256; c++ {
		n := bytes.IndexByte(b[p:min(len(b), p+maxNameLen)], 0)
		if n < 0 {
			return tk, fmt.Errorf("token %#x after the digits has no NUL within %d bytes", c, maxNameLen)
		}
		tk.tok[c] = b[p : p+n]
		p += n + 1
	}
	tk.end = p
	// The index label is aligned to 8 and the assembler pads with zeros.
	tk.index = align8(tk.end)
	if tk.index+512 > len(b) {
		return tk, errors.New("no room for a token index after the tokens")
	}
	if bytes.IndexFunc(b[tk.end:tk.index], func(r rune) bool { return r != 0 }) >= 0 {
		return tk, errors.New("nonzero padding between the tokens and the token index")
	}
	idx := func(c int) int { return int(binary.LittleEndian.Uint16(b[tk.index+2*c:])) }
	if idx(0) != 0 {
		return tk, fmt.Errorf("token index starts at %d, not 0", idx(0))
	}
	tk.start = hit - idx('0')
	if tk.start < 0 {
		return tk, fmt.Errorf("token index puts the table %d bytes before the buffer", -tk.start)
	}
	for c := range 256 {
		at := tk.start + idx(c)
		next := tk.end // where the token ends, NUL included
		if c < 255 {
			next = tk.start + idx(c+1)
		}
		switch {
		case c >= '0' && next != at+len(tk.tok[c])+1:
			return tk, fmt.Errorf("token index disagrees with the tokens at entry %#x", c)
		case c < '0' && (next <= at || next > hit || b[next-1] != 0 || bytes.IndexByte(b[at:next-1], 0) >= 0):
			return tk, fmt.Errorf("token index entries %#x and %#x do not bound one token", c, c+1)
		case c < '0':
			tk.tok[c] = b[at : next-1]
		}
		// A byte that occurs in some name is its own one-byte token.
		if len(tk.tok[c]) == 1 && tk.tok[c][0] != byte(c) {
			return tk, fmt.Errorf("token %#x is the single byte %#x", c, tk.tok[c][0])
		}
	}
	return tk, nil
}

// rejects gathers why candidate tables failed, so that when no candidate
// passes, the error says which checks failed where.
type rejects struct {
	first   error    // of the first candidate that passed the token table checks
	notes   []string // every deep failure (at most maxTables), the first shallow ones
	shallow int      // shallow failures seen
	more    int      // shallow failures not noted
}

const maxShallowNotes = 4

// add records err for the digit tokens at at; deep says they passed the
// token table checks.
func (r *rejects) add(at uint64, err error, deep bool) {
	if deep && r.first == nil {
		r.first = err
	}
	if !deep {
		if r.shallow++; r.shallow > maxShallowNotes {
			r.more++
			return
		}
	}
	r.notes = append(r.notes, fmt.Sprintf("digits at %#x: %v", at, err))
}

func (r *rejects) err() error {
	if len(r.notes) == 0 {
		return ErrNotFound
	}
	return &discoveryError{cause: r.first, notes: r.notes, more: r.more}
}

// discoveryError lists the candidates tried and the check each failed. It
// is ErrNotFound, and also the error of the first candidate that got past
// the token table (ErrMalformed, ErrNoLoadAddress, ...).
type discoveryError struct {
	cause error
	notes []string
	more  int
}

func (e *discoveryError) Error() string {
	s := ErrNotFound.Error() + ": " + strings.Join(e.notes, "; ")
	if e.more > 0 {
		s += fmt.Sprintf("; %d more digit runs that are no token table", e.more)
	}
	return s
}

func (e *discoveryError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrNotFound}
	}
	return []error{ErrNotFound, e.cause}
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
	candidates := []tablePlaces{
		{OffsetsLast, align8(tk.index + 512), align8(align8(tk.index+512) + 4*nt.n)},
		{OffsetsFirst, alignDown8(nt.numSyms - 8 - 4*nt.n), nt.numSyms - 8},
	}
	var why []string
	for _, c := range candidates {
		addrs, err := readAddresses(b, c.offsets, c.relBase, nt.n)
		if err != nil {
			why = append(why, fmt.Sprintf("%v: %v", c.layout, err))
			continue
		}
		syms, err := expandNames(b, tk, nt, addrs)
		if err != nil {
			return nil, err
		}
		if err := selfConsistent(syms, tk, nt, c); err != nil {
			why = append(why, fmt.Sprintf("%v: %v", c.layout, err))
			continue
		}
		return &found{syms: syms, layout: c.layout}, nil
	}
	return nil, fmt.Errorf("%w: no address table fits the %d names (%s)", ErrMalformed, nt.n, strings.Join(why, "; "))
}

// tablePlaces is where one layout puts the address tables.
type tablePlaces struct {
	layout           Layout
	offsets, relBase int
}

// selfConsistent checks the tables against the symbols that name them:
// newer kernels (6.12, not 6.1) list kallsyms' own tables, whose addresses
// must then lie as far apart as the tables found.
func selfConsistent(syms []Symbol, tk tokens, nt nameTables, c tablePlaces) error {
	at := map[string]int{
		"kallsyms_num_syms":      nt.numSyms,
		"kallsyms_names":         nt.names,
		"kallsyms_markers":       nt.markers,
		"kallsyms_token_table":   tk.start,
		"kallsyms_token_index":   tk.index,
		"kallsyms_offsets":       c.offsets,
		"kallsyms_relative_base": c.relBase,
	}
	addr := map[string]uint64{}
	for _, s := range syms {
		if _, ok := at[s.Name]; ok {
			addr[s.Name] = s.Addr
		}
	}
	ref, ok := addr["kallsyms_token_table"]
	if !ok {
		return nil
	}
	for name, a := range addr {
		if want := ref + uint64(at[name]-tk.start); a != want {
			return fmt.Errorf("symbol %s is at %#x, the tables put it at %#x", name, a, want)
		}
	}
	return nil
}

// findNames searches backwards from the token table for the markers: an
// aligned array that starts at 0 and grows by a plausible size every 256
// names. The markers end where the token table starts (Linux 6.4+ and
// vanilla 6.1) or where kallsyms_seqs_of_names starts (3 or 4 bytes a
// symbol, Linux 6.2/6.3 and Debian's 6.1). The first candidate whose names
// walk lands exactly on its markers wins.
func findNames(b []byte, tk tokens) (nameTables, error) {
	s := namesSearch{work: searchWork}
	lowest := max(0, tk.start-maxTablesBefore)
	for m := alignDown8(tk.start - 8); m >= lowest; m -= 8 {
		if !s.work.spend(1) {
			return nameTables{}, fmt.Errorf("%w: search limit reached looking for kallsyms_names (%v)", ErrMalformed, s)
		}
		for _, w := range []int{4, 8} {
			if readUint(b, m, w) != 0 {
				continue
			}
			k := markerRun(b, m, w, tk.start)
			if k < 2 {
				continue
			}
			s.markers++
			if nt, ok := s.namesBefore(b, tk, m, w, k); ok {
				return nt, nil
			}
		}
	}
	return nameTables{}, fmt.Errorf("%w: no kallsyms_names before the token table (%v)", ErrMalformed, s)
}

// namesSearch is the state of findNames: its budget, and what it saw, for
// the error should it fail.
type namesSearch struct {
	work    budget
	markers int // candidate kallsyms_markers arrays
	gaps    int // candidates whose markers end where no kallsyms_seqs_of_names fills the gap to the token table
	counts  int // candidate kallsyms_num_syms words that fit their markers
	walks   int // ... whose names stream misses its markers
}

func (s namesSearch) String() string {
	if s.markers == 0 {
		return fmt.Sprintf("no kallsyms_markers: no aligned array from 0 growing by %d..%d bytes a step", minMarkerGap, maxMarkerGap)
	}
	return fmt.Sprintf("%d candidate kallsyms_markers, %d gaps to the token table that no kallsyms_seqs_of_names fills, "+
		"%d kallsyms_num_syms fitting the markers, %d of them with names that miss their markers",
		s.markers, s.gaps, s.counts, s.walks)
}

// budget bounds the steps of the search for the names: crafted bytes can
// offer many candidate markers, each with many candidate name tables. A
// real kernel needs a little more than its symbol count (Debian's:
// 95,000 to 165,000); the budget allows for maxSymbols.
type budget int

const searchWork budget = 4 * maxSymbols

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
func (s *namesSearch) namesBefore(b []byte, tk tokens, m, w, kRun int) (nameTables, bool) {
	for k := kRun; k >= max(2, kRun-1); k-- {
		if !seqsMayFit(m+k*w, tk.start, k) {
			s.gaps++
			continue
		}
		last := int(readUint(b, m+(k-1)*w, w))
		// The names start at most one block of 256 entries before the last
		// marker's entry, measured back from the markers.
		hi := alignDown8(m - last - 8)
		lo := max(0, hi-maxMarkerGap)
		for p := hi; p >= lo && s.work.spend(1); p -= 8 {
			n := int(binary.LittleEndian.Uint32(b[p:]))
			if n <= 256*(k-1) || n > 256*k || binary.LittleEndian.Uint32(b[p+4:]) != 0 {
				continue
			}
			s.counts++
			if !seqsFit(m+k*w, tk.start, n) {
				s.gaps++
				continue
			}
			nt := nameTables{numSyms: p, n: n, names: p + 8, markers: m, width: w}
			if !s.work.spend(n) {
				return nameTables{}, false
			}
			if !nt.walk(b) {
				s.walks++
				continue
			}
			return nt, true
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

// seqsMayFit is seqsFit for any symbol count k markers allow: it rules
// out most candidate markers before their names are searched for.
func seqsMayFit(markersEnd, tokenTable, k int) bool {
	gap := tokenTable - align8(markersEnd)
	return gap == 0 || gap >= 3*(256*(k-1)+1) && gap <= align8(4*256*k)
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
// address, and start at the base. With CONFIG_KALLSYMS_ABSOLUTE_PERCPU,
// non-negative offsets are absolute (per-cpu) values and negative ones
// count down from base-1; without it, all offsets are unsigned distances
// from base.
func readAddresses(b []byte, offsets, relBase, n int) ([]uint64, error) {
	if offsets < 0 || relBase < 0 || offsets+4*n > len(b) || relBase+8 > len(b) {
		return nil, errors.New("offsets or relative base outside the bytes searched")
	}
	base := binary.LittleEndian.Uint64(b[relBase:])
	if base>>47 != 0x1ffff {
		return nil, fmt.Errorf("relative base %#x is not a kernel address", base)
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
			return nil, fmt.Errorf("address %d is below the one before", i)
		}
		if firstRel < 0 && (!absPercpu || off < 0) {
			firstRel = i
		}
	}
	// The base is the lowest relative symbol's address, and a real table
	// spans more than one address (filler bytes decode as constant).
	if firstRel < 0 || addrs[firstRel] != base {
		return nil, fmt.Errorf("the lowest address is not the relative base %#x", base)
	}
	if addrs[n-1] == base {
		return nil, errors.New("every address is the relative base")
	}
	return addrs, nil
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
