package physmem

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"nitro/core/vmi"
)

// ErrNotCore is returned by OpenELFCore for files that are not x86-64 ELF
// core dumps (kdump-compressed dumps included).
var ErrNotCore = errors.New("not an x86-64 ELF core dump")

// OpenRaw opens a raw physical memory image, as HMP `pmemsave 0 SIZE FILE`
// writes it: file offset N holds guest-physical address N. Dumps are read-only.
func OpenRaw(path string) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening raw memory image: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening raw memory image: %w", err)
	}
	if st.Size() == 0 {
		f.Close()
		return nil, fmt.Errorf("%s: %w: empty image", path, ErrBadLayout)
	}
	return newSource([]Range{{Size: uint64(st.Size()), ReadOnly: true, Name: path}}, fileStore{f})
}

// OpenELFCore opens the ELF core that `virsh dump --memory-only` (QEMU's
// dump-guest-memory) writes: each PT_LOAD segment holds guest-physical
// memory from p_paddr. Dumps are read-only.
func OpenELFCore(path string) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening ELF core: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening ELF core: %w", err)
	}
	ranges, err := coreRanges(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, err := newSource(ranges, fileStore{f})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// coreRanges returns the guest-physical ranges of the ELF core in r.
func coreRanges(r io.ReaderAt, size int64) ([]Range, error) {
	ef, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotCore, err)
	}
	if ef.Type != elf.ET_CORE || ef.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("%w: type %v, machine %v", ErrNotCore, ef.Type, ef.Machine)
	}
	var ranges []Range
	for i, p := range ef.Progs {
		if p.Type != elf.PT_LOAD || p.Filesz == 0 {
			continue
		}
		if p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off {
			return nil, fmt.Errorf("%w: segment %d runs past the end of the file", ErrBadLayout, i)
		}
		ranges = append(ranges, Range{GPA: p.Paddr, Size: p.Filesz, Off: p.Off, ReadOnly: true, Name: fmt.Sprintf("segment %d", i)})
	}
	if len(ranges) == 0 {
		return nil, fmt.Errorf("%w: no PT_LOAD segments", ErrNotCore)
	}
	return ranges, nil
}

// fileStore reads a dump file; dumps are never written.
type fileStore struct{ f *os.File }

func (fs fileStore) readAt(p []byte, off uint64) error {
	if off > math.MaxInt64 {
		return fmt.Errorf("offset %#x: %w", off, vmi.ErrOutOfRange)
	}
	if _, err := fs.f.ReadAt(p, int64(off)); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // the file shrank under us
		}
		return fmt.Errorf("reading %s: %w", fs.f.Name(), err)
	}
	return nil
}

func (fs fileStore) writeAt([]byte, uint64) error { return vmi.ErrReadOnly }

func (fs fileStore) close() error { return fs.f.Close() }
