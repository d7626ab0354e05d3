package physmem

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"nitro/core/vmi"
)

func TestRawImage(t *testing.T) {
	img := make([]byte, 0x3000)
	for i := range img {
		img[i] = byte(i)
	}
	path := filepath.Join(t.TempDir(), "pmem.raw")
	if err := os.WriteFile(path, img, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := OpenRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := make([]byte, 0x20)
	if err := src.ReadPhys(got, 0x1ff0); err != nil || !bytes.Equal(got, img[0x1ff0:0x2010]) {
		t.Fatalf("ReadPhys: %v", err)
	}
	if err := src.ReadPhys(got, 0x2ff0); !errors.Is(err, vmi.ErrOutOfRange) {
		t.Fatalf("past the end: err = %v", err)
	}
	if err := src.WritePhys(got, 0); !errors.Is(err, vmi.ErrReadOnly) {
		t.Fatalf("write: err = %v", err)
	}
}

// segment is one PT_LOAD of a synthetic core.
type segment struct {
	paddr uint64
	data  []byte
}

// writeCore writes an x86-64 ELF core to a file, truncate bytes short.
func writeCore(t *testing.T, typ elf.Type, segs []segment, truncate int) string {
	t.Helper()
	b := coreBytes(typ, segs)
	path := filepath.Join(t.TempDir(), "core.elf")
	if err := os.WriteFile(path, b[:len(b)-truncate], 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// coreBytes builds an x86-64 ELF core with a note and the given segments,
// laid out as QEMU's dump-guest-memory does: headers, then segment data.
func coreBytes(typ elf.Type, segs []segment) []byte {
	const ehsize, phsize = 64, 56
	nph := len(segs) + 1
	var buf bytes.Buffer
	hdr := elf.Header64{
		Type: uint16(typ), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Phoff: ehsize, Ehsize: ehsize, Phentsize: phsize, Phnum: uint16(nph),
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	binary.Write(&buf, binary.LittleEndian, hdr)
	off := uint64(ehsize + phsize*nph)
	binary.Write(&buf, binary.LittleEndian, elf.Prog64{Type: uint32(elf.PT_NOTE), Off: off})
	for _, s := range segs {
		n := uint64(len(s.data))
		binary.Write(&buf, binary.LittleEndian, elf.Prog64{
			Type: uint32(elf.PT_LOAD), Off: off, Paddr: s.paddr, Filesz: n, Memsz: n,
		})
		off += n
	}
	for _, s := range segs {
		buf.Write(s.data)
	}
	return buf.Bytes()
}

func TestELFCore(t *testing.T) {
	low := bytes.Repeat([]byte("low!"), 0x400)
	high := bytes.Repeat([]byte("HIGH"), 0x400)
	segs := []segment{{0, low}, {1 << 32, high}}
	src, err := OpenELFCore(writeCore(t, elf.ET_CORE, segs, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := make([]byte, 8)
	if err := src.ReadPhys(got, 0xff8); err != nil || string(got) != "low!low!" {
		t.Fatalf("low: %q %v", got, err)
	}
	if err := src.ReadPhys(got, 1<<32+8); err != nil || string(got) != "HIGHHIGH" {
		t.Fatalf("high: %q %v", got, err)
	}
	if err := src.ReadPhys(got, 0x1000); !errors.Is(err, vmi.ErrOutOfRange) {
		t.Fatalf("gap: err = %v", err)
	}
	if n := len(src.Ranges()); n != 2 {
		t.Fatalf("%d ranges, want 2", n)
	}

	if _, err := OpenELFCore(writeCore(t, elf.ET_EXEC, segs, 0)); !errors.Is(err, ErrNotCore) {
		t.Errorf("executable: err = %v, want ErrNotCore", err)
	}
	if _, err := OpenELFCore(writeCore(t, elf.ET_CORE, segs, 1)); !errors.Is(err, ErrBadLayout) {
		t.Errorf("truncated: err = %v, want ErrBadLayout", err)
	}
	raw := filepath.Join(t.TempDir(), "raw")
	os.WriteFile(raw, low, 0o600)
	if _, err := OpenELFCore(raw); !errors.Is(err, ErrNotCore) {
		t.Errorf("raw image: err = %v, want ErrNotCore", err)
	}
}

// FuzzCoreRanges feeds hostile files to the ELF core reader: errors, never
// panics, and ranges inside the file.
func FuzzCoreRanges(f *testing.F) {
	f.Add(coreBytes(elf.ET_CORE, []segment{{0, []byte("low")}, {1 << 32, []byte("high")}}))
	f.Add(coreBytes(elf.ET_CORE, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := coreRanges(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.Off+r.Size > uint64(len(b)) || r.Off+r.Size < r.Off {
				t.Fatalf("range %+v outside the %d-byte file", r, len(b))
			}
		}
	})
}
