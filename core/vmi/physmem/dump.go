package physmem

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"golang.org/x/sys/unix"

	"nitro/core/vmi"
)

// ErrNotCore is returned by OpenELFCore for files that are not x86-64 ELF
// core dumps (kdump-compressed dumps included).
var ErrNotCore = errors.New("not an x86-64 ELF core dump")

// OpenRaw opens a raw physical memory image, as HMP `pmemsave 0 SIZE FILE`
// writes it: file offset N holds guest-physical address N. Dumps are read-only.
func OpenRaw(path string) (*Source, error) {
	fs, err := mapDump(path)
	if err != nil {
		return nil, fmt.Errorf("opening raw memory image: %w", err)
	}
	return newSource([]Range{{Size: uint64(len(fs.b)), ReadOnly: true, Name: path}}, fs)
}

// OpenELFCore opens the ELF core that `virsh dump --memory-only` (QEMU's
// dump-guest-memory) writes: each PT_LOAD segment holds guest-physical
// memory from p_paddr. Dumps are read-only.
func OpenELFCore(path string) (*Source, error) {
	fs, err := mapDump(path)
	if err != nil {
		return nil, fmt.Errorf("opening ELF core: %w", err)
	}
	ranges, err := coreRanges(bytes.NewReader(fs.b), int64(len(fs.b)))
	if err == nil {
		var s *Source
		if s, err = newSource(ranges, fs); err == nil {
			return s, nil
		}
	}
	fs.close()
	return nil, fmt.Errorf("%s: %w", path, err)
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

// fileStore is a dump file mapped read-only: a snapshot is read much like
// live shared guest memory. Dumps are never written. The file stays open
// to be asked for its holes.
type fileStore struct {
	b []byte
	f *os.File
}

// mapDump maps the whole of the dump file at path.
func mapDump(path string) (fileStore, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileStore{}, err
	}
	st, err := f.Stat()
	if err == nil && (st.Size() == 0 || st.Size() > math.MaxInt) {
		err = fmt.Errorf("%s: %w: size %d", path, ErrBadLayout, st.Size())
	}
	if err != nil {
		f.Close()
		return fileStore{}, err
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return fileStore{}, fmt.Errorf("mapping %s: %w", path, err)
	}
	return fileStore{b, f}, nil
}

func (fs fileStore) mapped(off uint64, n int) []byte {
	if n < 0 || off > uint64(len(fs.b)) || uint64(n) > uint64(len(fs.b))-off {
		return nil
	}
	return fs.b[off : off+uint64(n)]
}

func (fs fileStore) readAt(p []byte, off uint64) error {
	b := fs.mapped(off, len(p))
	if b == nil {
		return fmt.Errorf("%d bytes at offset %#x: %w", len(p), off, vmi.ErrOutOfRange)
	}
	copy(p, b)
	return nil
}

func (fs fileStore) writeAt([]byte, uint64) error { return vmi.ErrReadOnly }

func (fs fileStore) close() error { return errors.Join(unix.Munmap(fs.b), fs.f.Close()) }
