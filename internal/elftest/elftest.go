package elftest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// Section is one PROGBITS section of the image, at virtual address Addr.
type Section struct {
	Name string
	Addr uint64
	Data []byte
}

const page = 0x1000

// Vmlinux returns an ELF executable holding secs, each page aligned in the
// file (as a vmlinux's are, which the kallsyms decoder relies on), and one
// PT_LOAD over them all whose physical address is paddr.
func Vmlinux(paddr uint64, secs ...Section) []byte {
	align := func(n int) int { return (n + page - 1) &^ (page - 1) }
	// Section data from the second page on, then the names, then the
	// section headers: null, secs..., .shstrtab.
	offs := make([]int, len(secs))
	end := page
	for i, s := range secs {
		offs[i] = end
		end = align(end + len(s.Data))
	}
	names := []byte{0} // the null section's empty name
	nameAt := make([]uint32, len(secs)+1)
	for i, n := range append(sectionNames(secs), ".shstrtab") {
		nameAt[i] = uint32(len(names))
		names = append(append(names, n...), 0)
	}
	strOff := end
	shOff := (strOff + len(names) + 7) &^ 7

	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Phoff: 64, Shoff: uint64(shOff), Ehsize: 64, Phentsize: 56, Phnum: 1,
		Shentsize: 64, Shnum: uint16(len(secs) + 2), Shstrndx: uint16(len(secs) + 1),
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	_ = binary.Write(&b, le, hdr)
	load := elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Off: page, Paddr: paddr, Align: page}
	if len(secs) > 0 {
		load.Vaddr = secs[0].Addr
		last := secs[len(secs)-1]
		load.Filesz = uint64(offs[len(secs)-1]+len(last.Data)) - page
		load.Memsz = load.Filesz
	}
	_ = binary.Write(&b, le, load)
	for i, s := range secs {
		b.Write(make([]byte, offs[i]-b.Len()))
		b.Write(s.Data)
	}
	b.Write(make([]byte, strOff-b.Len()))
	b.Write(names)
	b.Write(make([]byte, shOff-b.Len()))
	_ = binary.Write(&b, le, elf.Section64{})
	for i, s := range secs {
		_ = binary.Write(&b, le, elf.Section64{
			Name: nameAt[i], Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC),
			Addr: s.Addr, Off: uint64(offs[i]), Size: uint64(len(s.Data)), Addralign: 8,
		})
	}
	_ = binary.Write(&b, le, elf.Section64{
		Name: nameAt[len(secs)], Type: uint32(elf.SHT_STRTAB), Off: uint64(strOff), Size: uint64(len(names)), Addralign: 1,
	})
	return b.Bytes()
}

func sectionNames(secs []Section) []string {
	n := make([]string, len(secs))
	for i, s := range secs {
		n[i] = s.Name
	}
	return n
}
