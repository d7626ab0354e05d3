package physmem

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// CPUState is what an ELF core's QEMU note says of one vCPU: the registers
// a back end finds the kernel from when no vCPU can be asked.
type CPUState struct {
	RIP, RSP             uint64
	CR3, CR4             uint64
	GSBase, KernelGSBase uint64 // KernelGSBase 0 when QEMU did not write it (before 7.2)
	IDTBase              uint64
}

// ErrNoCPUState means a core has no QEMU note to read vCPU state from.
var ErrNoCPUState = errors.New("no QEMU vCPU note in the core")

// QEMUCPUState's layout (QEMU's target/i386/arch_dump.c): version and
// size, 18 registers (rax-r15, rip, rflags), ten segments of 24 bytes (cs
// ds es fs gs ss ldt tr gdt idt; base at +16), cr0-cr4, and since QEMU 7.2
// kernel_gs_base.
const (
	qsRSP      = 8 + 6*8
	qsRIP      = 8 + 16*8
	qsSegments = 8 + 18*8
	qsGS       = qsSegments + 4*24 + 16
	qsIDT      = qsSegments + 9*24 + 16
	qsCR       = qsSegments + 10*24
	qsKGS      = qsCR + 5*8
	qsMin      = qsKGS // a note without kernel_gs_base
)

// maxNotes bounds the note segment read: a vCPU's notes take about 1 KiB.
const maxNotes = 16 << 20

// CoreCPUs reads the vCPU states of the ELF core at path, in note order
// (vCPU 0 first, as QEMU writes them).
func CoreCPUs(path string) ([]CPUState, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrNotCore, err)
	}
	var cpus []CPUState
	for _, p := range ef.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(p.Open(), maxNotes))
		if err != nil {
			return nil, fmt.Errorf("%s: reading notes: %w", path, err)
		}
		cpus = append(cpus, qemuNotes(raw)...)
	}
	if len(cpus) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrNoCPUState)
	}
	return cpus, nil
}

// qemuNotes returns the vCPU states of the "QEMU" notes in raw; a note cut
// short ends the list.
func qemuNotes(raw []byte) []CPUState {
	le := binary.LittleEndian
	var cpus []CPUState
	for len(raw) >= 12 {
		namesz, descsz, _ := uint64(le.Uint32(raw)), uint64(le.Uint32(raw[4:])), le.Uint32(raw[8:])
		raw = raw[12:]
		nameLen, descLen := (namesz+3)&^3, (descsz+3)&^3
		if nameLen > uint64(len(raw)) || descLen > uint64(len(raw))-nameLen {
			break
		}
		name, desc := raw[:namesz], raw[nameLen:nameLen+descsz]
		raw = raw[nameLen+descLen:]
		if !bytes.Equal(bytes.TrimRight(name, "\x00"), []byte("QEMU")) || len(desc) < qsMin {
			continue
		}
		c := CPUState{
			RIP: le.Uint64(desc[qsRIP:]), RSP: le.Uint64(desc[qsRSP:]),
			CR3: le.Uint64(desc[qsCR+3*8:]), CR4: le.Uint64(desc[qsCR+4*8:]),
			GSBase: le.Uint64(desc[qsGS:]), IDTBase: le.Uint64(desc[qsIDT:]),
		}
		if len(desc) >= qsKGS+8 {
			c.KernelGSBase = le.Uint64(desc[qsKGS:])
		}
		cpus = append(cpus, c)
	}
	return cpus
}
