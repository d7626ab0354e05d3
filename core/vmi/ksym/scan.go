package ksym

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"

	"nitro/core/vmi"
)

// ErrNoLoadAddress is returned when the tables decode but the kernel
// image's physical address cannot be established.
var ErrNoLoadAddress = errors.New("kernel physical load address not found")

const (
	pageSize  = 4096
	scanChunk = 4 << 20
	// Around a candidate token table, a small window settles whether it is
	// one before the big window (all the tables) is read.
	peekBefore = 64 << 10
	peekAfter  = 128 << 10
	// maxTablesAfter bounds how far after the token table the tables end:
	// the offsets of 2^21 symbols and the relative base.
	maxTablesAfter = 16 << 20
	// physAlign is x86-64's minimum CONFIG_PHYSICAL_ALIGN: KASLR places the
	// image at a multiple of it, physically and virtually.
	physAlign = 2 << 20
	// maxImageSpan bounds the distance from _text to the kallsyms tables.
	maxImageSpan = 256 << 20
)

// Scan searches guest-physical memory [0, size) for the kernel's kallsyms
// tables and decodes them. The kernel image is physically contiguous, so
// the tables are too; their addresses are run-time ones (KASLR applied,
// see Table.Slide), and the table knows the image's physical address
// (Table.PhysText, Table.Phys). Ranges the source reports as
// vmi.ErrOutOfRange (holes) are skipped, and so is memory a vmi.Sparse
// source says the guest never touched.
func Scan(mem vmi.PhysMem, size uint64) (*Table, error) { return ScanLive(mem, size, nil) }

// ErrNotLive is a table whose image the running kernel does not use: a
// kernel of an earlier boot, left in RAM by a reboot, or a copy.
var ErrNotLive = errors.New("not the running kernel's tables (an image left in memory by an earlier boot?)")

// ScanLive is Scan that takes only a table live accepts (nil: any); a
// refused one is passed over, and live's error says why in the result's
// error when no table is taken.
func ScanLive(mem vmi.PhysMem, size uint64, live func(*Table) error) (*Table, error) {
	return ScanRanges(mem, size, []vmi.Range{{Start: 0, End: size}}, live)
}

// ScanRanges is ScanLive that searches only the guest-physical ranges
// given (the kernel image's, say), in order; the tables and the image
// around a hit are still read from anywhere in [0, size).
func ScanRanges(mem vmi.PhysMem, size uint64, ranges []vmi.Range, live func(*Table) error) (*Table, error) {
	buf := make([]byte, scanChunk+len(digitTokens)-1)
	var rej rejects
	tables := 0
	for _, r := range ranges {
		for pa := r.Start; pa < min(r.End, size); pa += scanChunk {
			n := min(uint64(len(buf)), size-pa)
			chunk := buf[:n]
			if err := readFill(mem, chunk, pa); err != nil {
				return nil, fmt.Errorf("scanning guest memory: %w", err)
			}
			for from := 0; from < min(len(chunk), scanChunk); {
				i := bytes.Index(chunk[from:], digitTokens)
				if i < 0 || from+i >= scanChunk {
					break
				}
				hit := from + i
				from += i + 1
				// Most runs of digit tokens are not in a token table; settle
				// that in the chunk when it holds enough around the run.
				if hit >= peekBefore && hit+peekAfter <= len(chunk) {
					if _, err := tokenTableAt(chunk, hit); err != nil {
						rej.add(pa+uint64(hit), err, false)
						continue
					}
				}
				t, err := tryHit(mem, size, pa+uint64(hit))
				var noTable noTokenTable
				if errors.As(err, &noTable) {
					rej.add(pa+uint64(hit), noTable.err, false)
					continue
				}
				if tables++; tables > maxTables {
					return nil, errTooManyTables
				}
				if err == nil && live != nil {
					err = live(t)
				}
				if err == nil {
					return t, nil
				}
				rej.add(pa+uint64(hit), err, true)
			}
		}
	}
	return nil, rej.err()
}

// noTokenTable says why the digit tokens at a place are not in a token table.
type noTokenTable struct{ err error }

func (e noTokenTable) Error() string { return e.err.Error() }

// tryHit decodes the tables around digit tokens found at physical hit.
func tryHit(mem vmi.PhysMem, size, hit uint64) (*Table, error) {
	peek, peekAt, err := readWindow(mem, size, hit, peekBefore, peekAfter)
	if err != nil {
		return nil, err
	}
	tk, err := tokenTableAt(peek, int(hit-peekAt))
	if err != nil {
		return nil, noTokenTable{err}
	}
	tablePA := peekAt + uint64(tk.start)
	win, winAt, err := readWindow(mem, size, tablePA, maxTablesBefore, maxTablesAfter)
	if err != nil {
		return nil, err
	}
	if tk, err = tokenTableAt(win, int(hit-winAt)); err != nil {
		return nil, noTokenTable{err}
	}
	t, err := decodeCached(win, tk)
	if err != nil {
		return nil, err
	}
	if err := t.locateImage(mem, size, tablePA); err != nil {
		return nil, err
	}
	return t, nil
}

// decoded keeps the tables decoded in this process by a hash of the
// window they were decoded from: the same bytes decode to the same
// symbols, so attaching to a kernel again (another domain, a new session)
// skips the decoding, a tenth of a second or more. The hash's seed is this
// process's own, so a guest cannot aim its bytes at another kernel's entry.
var decoded struct {
	sync.Mutex
	seed   maphash.Seed
	tables map[uint64]*Table // placement not set (see locateImage)
}

// maxDecoded bounds decoded: a few kernels, each some MiB of symbols.
const maxDecoded = 8

func init() { decoded.seed = maphash.MakeSeed() }

// decodeCached decodes the tables in win around tk, or copies the table
// decoded from the same window before; the copy shares its symbols.
func decodeCached(win []byte, tk tokens) (*Table, error) {
	key := maphash.Bytes(decoded.seed, win) ^ uint64(tk.start)
	decoded.Lock()
	t, ok := decoded.tables[key]
	decoded.Unlock()
	if !ok {
		f, err := decodeAround(win, tk)
		if err != nil {
			return nil, err
		}
		t = newTable(f.syms)
		t.layout = f.layout
		decoded.Lock()
		if decoded.tables == nil || len(decoded.tables) >= maxDecoded {
			decoded.tables = make(map[uint64]*Table)
		}
		decoded.tables[key] = t
		decoded.Unlock()
	}
	c := *t
	return &c, nil
}

// readWindow reads [at-before, at+after) clipped to [0, size), starting on
// an 8-byte boundary as the decoder needs; holes read as zeros.
func readWindow(mem vmi.PhysMem, size, at uint64, before, after uint64) ([]byte, uint64, error) {
	lo := uint64(0)
	if at > before {
		lo = (at - before) &^ 7
	}
	hi := min(at+after, size)
	b := make([]byte, hi-lo)
	for off := uint64(0); off < uint64(len(b)); off += scanChunk {
		if err := readFill(mem, b[off:min(off+scanChunk, uint64(len(b)))], lo+off); err != nil {
			return nil, 0, err
		}
	}
	return b, lo, nil
}

// readFill reads p from pa, leaving zero what a vmi.Sparse source says
// the guest never touched (reading it could make the host allocate it);
// if part of the range is a hole, it reads page by page and leaves the
// holes' pages zero.
func readFill(mem vmi.PhysMem, p []byte, pa uint64) error {
	sp, ok := mem.(vmi.Sparse)
	if !ok {
		return readHoles(mem, p, pa)
	}
	data, err := sp.Data(pa, uint64(len(p)))
	if err != nil {
		return fmt.Errorf("reading guest memory at %#x: %w", pa, err)
	}
	if len(data) == 1 && data[0].Start == pa && data[0].End == pa+uint64(len(p)) {
		return readHoles(mem, p, pa)
	}
	clear(p)
	for _, d := range data {
		if err := readHoles(mem, p[d.Start-pa:d.End-pa], d.Start); err != nil {
			return err
		}
	}
	return nil
}

// readHoles reads p from pa, page by page when part of it is no RAM,
// leaving those pages zero.
func readHoles(mem vmi.PhysMem, p []byte, pa uint64) error {
	err := mem.ReadPhys(p, pa)
	if err == nil {
		return nil
	}
	if !errors.Is(err, vmi.ErrOutOfRange) {
		return fmt.Errorf("reading guest memory at %#x: %w", pa, err)
	}
	for off := 0; off < len(p); {
		n := min(pageSize-int((pa+uint64(off))%pageSize), len(p)-off)
		page := p[off : off+n]
		if err := mem.ReadPhys(page, pa+uint64(off)); err != nil {
			if !errors.Is(err, vmi.ErrOutOfRange) {
				return fmt.Errorf("reading guest memory at %#x: %w", pa+uint64(off), err)
			}
			clear(page)
		}
		off += n
	}
	return nil
}

// bannerPrefix starts linux_banner, the string /proc/version prints.
const bannerPrefix = "Linux version "

// locateImage finds the physical address of _text from the physical
// address of the token table. Kernels that list kallsyms_token_table
// (6.12 does) give it directly; otherwise every physAlign-aligned address
// below the table from which the image reaches the table is tried. A
// candidate must hold linux_banner where the symbols say, and, when the
// symbols name them, a sys_call_table whose first entry is
// __x64_sys_read: tables copied elsewhere (a decoy) fail that.
func (t *Table) locateImage(mem vmi.PhysMem, size, tablePA uint64) error {
	text, banner, err := t.bannerSyms()
	if err != nil {
		return err
	}
	span := uint64(maxImageSpan)
	if t.end > text {
		span = min(span, t.end-text)
	}
	var cands []uint64
	if tt, ok := t.Lookup("kallsyms_token_table"); ok && tt > text && tt-text <= tablePA {
		cands = []uint64{tablePA - (tt - text)}
	} else {
		for c := tablePA &^ (physAlign - 1); c+span > tablePA; c -= physAlign {
			cands = append(cands, c)
			if c == 0 {
				break
			}
		}
	}
	// cands run down from the tables. The image holding them is one piece
	// from its _text up to them, so no other image starts in between: of
	// several bases that fit, the nearest is theirs, and a lower one is an
	// earlier boot's image or a copy.
	hits := t.bySyscallTable(mem, size, text, t.withBanner(mem, size, text, banner, cands))
	if len(hits) == 0 {
		return fmt.Errorf("%w: no place fits linux_banner and sys_call_table below the tables at %#x", ErrNoLoadAddress, tablePA)
	}
	t.physText, t.hasPhys = hits[0], true
	return nil
}

// ErrMismatch means a symbol table read from a file does not describe the
// kernel running in the guest.
var ErrMismatch = errors.New("symbols do not match the running kernel")

// Locate finds, in guest-physical memory [0, size), where the kernel a
// table read from a file (ParseSystemMap, FromVmlinux) describes is loaded.
// The file's addresses must be the running kernel's: /proc/kallsyms of this
// boot, or a System.map or vmlinux of a kernel booted without KASLR. The
// guest's own sys_call_table must point where the table says.
func (t *Table) Locate(mem vmi.PhysMem, size uint64) error {
	text, banner, err := t.bannerSyms()
	if err != nil {
		return err
	}
	for _, name := range []string{"sys_call_table", "__x64_sys_read"} {
		if _, ok := t.Lookup(name); !ok {
			return fmt.Errorf("%w: no %s symbol to check the table by", ErrNoLoadAddress, name)
		}
	}
	var cands []uint64
	for c := uint64(0); c < size; c += physAlign {
		cands = append(cands, c)
	}
	hits := t.bySyscallTable(mem, size, text, t.withBanner(mem, size, text, banner, cands))
	if len(hits) != 1 {
		return fmt.Errorf("%w: found no kernel image whose sys_call_table points where the table says "+
			"(link-time addresses under KASLR?)", ErrMismatch)
	}
	t.physText, t.hasPhys = hits[0], true
	return nil
}

// bannerSyms returns _text and linux_banner, which place the image.
func (t *Table) bannerSyms() (text, banner uint64, err error) {
	text, ok := t.Text()
	if !ok {
		return 0, 0, fmt.Errorf("%w: no _text symbol", ErrNoLoadAddress)
	}
	banner, ok = t.Lookup("linux_banner")
	if !ok || banner < text {
		return 0, 0, fmt.Errorf("%w: no linux_banner symbol", ErrNoLoadAddress)
	}
	return text, banner, nil
}

// withBanner keeps the candidate load addresses where linux_banner reads
// as such.
func (t *Table) withBanner(mem vmi.PhysMem, size, text, banner uint64, cands []uint64) []uint64 {
	var hits []uint64
	for _, c := range cands {
		if readsAs(mem, size, c+(banner-text), []byte(bannerPrefix)) {
			hits = append(hits, c)
		}
	}
	return hits
}

// bySyscallTable keeps the candidates where sys_call_table's first entry
// points at __x64_sys_read.
func (t *Table) bySyscallTable(mem vmi.PhysMem, size, text uint64, cands []uint64) []uint64 {
	sct, ok1 := t.Lookup("sys_call_table")
	read, ok2 := t.Lookup("__x64_sys_read")
	if !ok1 || !ok2 || sct < text {
		return cands
	}
	var want [8]byte
	binary.LittleEndian.PutUint64(want[:], read)
	var keep []uint64
	for _, c := range cands {
		if readsAs(mem, size, c+(sct-text), want[:]) {
			keep = append(keep, c)
		}
	}
	return keep
}

func readsAs(mem vmi.PhysMem, size, pa uint64, want []byte) bool {
	if pa+uint64(len(want)) > size {
		return false
	}
	got := make([]byte, len(want))
	return readFill(mem, got, pa) == nil && bytes.Equal(got, want)
}
