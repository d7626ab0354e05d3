package physmem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"nitro/core/vmi"
)

// span is [start, end) of host storage offsets.
type span struct{ start, end uint64 }

// Data implements vmi.Sparse: the parts of guest-physical [pa, pa+n) whose
// host storage holds data, asked of the storage (SEEK_DATA on a memfd or
// dump file, the page map of anonymous memory) without reading it.
func (s *Source) Data(pa, n uint64) ([]vmi.Range, error) {
	end := pa + n
	if end < pa {
		end = ^uint64(0)
	}
	var out []vmi.Range
	for _, r := range s.ranges {
		lo, hi := max(pa, r.GPA), min(end, r.GPA+r.Size)
		if lo >= hi {
			continue
		}
		spans, err := s.st.data(r.Off+(lo-r.GPA), hi-lo)
		if err != nil {
			return nil, fmt.Errorf("finding the data in guest-physical %#x-%#x: %w", lo, hi, err)
		}
		for _, sp := range spans {
			out = appendRange(out, vmi.Range{Start: r.GPA + (sp.start - r.Off), End: r.GPA + (sp.end - r.Off)})
		}
	}
	return out, nil
}

// appendRange appends r, merging it with the last range when they touch.
func appendRange(rs []vmi.Range, r vmi.Range) []vmi.Range {
	if k := len(rs) - 1; k >= 0 && rs[k].End == r.Start {
		rs[k].End = r.End
		return rs
	}
	return append(rs, r)
}

// appendSpan is appendRange for host spans.
func appendSpan(ss []span, s span) []span {
	if k := len(ss) - 1; k >= 0 && ss[k].end == s.start {
		ss[k].end = s.end
		return ss
	}
	return append(ss, s)
}

// fileData returns the data of file offsets [off, off+n) in fd, page
// aligned, by SEEK_DATA and SEEK_HOLE: shmem (memfd) and most file systems
// answer from their block maps; others call the whole file data, which is
// never wrong.
func fileData(fd int, off, n uint64) ([]span, error) {
	end := off + n
	var out []span
	for pos := off &^ (pageSize - 1); pos < end; {
		d, err := unix.Seek(fd, int64(pos), unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) { // nothing but holes after pos
			break
		}
		if err != nil {
			return nil, fmt.Errorf("SEEK_DATA: %w", err)
		}
		if uint64(d) >= end {
			break
		}
		h, err := unix.Seek(fd, d, unix.SEEK_HOLE)
		if err != nil {
			return nil, fmt.Errorf("SEEK_HOLE: %w", err)
		}
		out = appendSpan(out, span{max(uint64(d), off), min(uint64(h), end)})
		pos = uint64(h)
	}
	return out, nil
}

// Page-map entry bits (Documentation/admin-guide/mm/pagemap.rst).
const (
	pagemapPresent = 1 << 63
	pagemapSwapped = 1 << 62
	pagemapBatch   = 4096 // entries read at once: 16 MiB of the other process
)

// pagemapData returns the pages of [addr, addr+n) that process memory
// behind f (its /proc/PID/pagemap) holds in RAM or swap: a page it never
// touched is neither, and is left out.
func pagemapData(f *os.File, addr, n uint64) ([]span, error) {
	end := addr + n
	buf := make([]byte, 8*pagemapBatch)
	var out []span
	for page := addr &^ (pageSize - 1); page < end; {
		count := min(uint64(pagemapBatch), (end-page+pageSize-1)/pageSize)
		b := buf[:8*count]
		if _, err := f.ReadAt(b, int64(page/pageSize*8)); err != nil {
			return nil, fmt.Errorf("reading %s: %w", f.Name(), err)
		}
		for i := range count {
			if binary.LittleEndian.Uint64(b[8*i:])&(pagemapPresent|pagemapSwapped) != 0 {
				p := page + i*pageSize
				out = appendSpan(out, span{max(p, addr), min(p+pageSize, end)})
			}
		}
		page += count * pageSize
	}
	return out, nil
}

const pageSize = 4096

// data implements store: shared views answer from their file, the rest of
// the process from its page map.
func (ps *procStore) data(addr, n uint64) ([]span, error) {
	end := addr + n
	var out []span
	for pos := addr; pos < end; {
		v, ok := ps.viewAt(pos)
		if ok {
			hi := min(end, v.start+uint64(len(v.b)))
			spans, err := fileData(int(v.file.Fd()), v.offset+(pos-v.start), hi-pos)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", v.file.Name(), err)
			}
			for _, s := range spans {
				out = appendSpan(out, span{s.start - v.offset + v.start, s.end - v.offset + v.start})
			}
			pos = hi
			continue
		}
		hi := min(end, ps.nextView(pos))
		f, err := ps.pagemap()
		if err != nil {
			return nil, err
		}
		spans, err := pagemapData(f, pos, hi-pos)
		if err != nil {
			return nil, err
		}
		for _, s := range spans {
			out = appendSpan(out, s)
		}
		pos = hi
	}
	return out, nil
}

// data implements store: the dump file's holes were never written.
func (fs fileStore) data(off, n uint64) ([]span, error) {
	return fileData(int(fs.f.Fd()), off, n)
}
