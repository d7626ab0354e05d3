package ksym

import (
	"bytes"
	"debug/elf"
	"fmt"
)

// Decode finds and decodes kallsyms tables anywhere in b, for instance a
// dump of guest memory. Addresses are as the tables hold them: run-time
// ones in memory, link-time ones in a vmlinux. b's offset 0 must be 8-byte
// aligned in the address space it was taken from.
func Decode(b []byte) (*Table, error) {
	f, err := decode(b)
	if err != nil {
		return nil, err
	}
	t := newTable(f.syms)
	t.layout = f.layout
	return t, nil
}

// FromVmlinux decodes the kallsyms tables of a kernel ELF (a vmlinux, for
// instance from bzimage.Extract). Addresses are link-time; the physical
// load address is the one the ELF's program headers ask for.
func FromVmlinux(image []byte) (*Table, error) {
	ef, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return nil, fmt.Errorf("reading vmlinux: %w", err)
	}
	// Decode the file as a whole: sections are page aligned in the file,
	// so offsets keep the alignment the decoder relies on.
	t, err := Decode(image)
	if err != nil {
		return nil, fmt.Errorf("decoding vmlinux kallsyms: %w", err)
	}
	if text, ok := t.Text(); ok {
		for _, p := range ef.Progs {
			if p.Type == elf.PT_LOAD && text >= p.Vaddr && text-p.Vaddr < p.Memsz {
				t.physText, t.hasPhys = p.Paddr+(text-p.Vaddr), true
				break
			}
		}
	}
	return t, nil
}
