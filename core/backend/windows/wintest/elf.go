package wintest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
)

// CPU is the state of the vCPU that WriteELF records: the registers a
// back end finds the kernel from.
type CPU struct {
	RIP, RSP, CR3, CR4   uint64
	GSBase, KernelGSBase uint64
	IDTBase              uint64
}

// CPU0 is vCPU 0 as a dump of the guest at rest finds it: in the kernel,
// on the current thread's process's page tables, after swapgs.
func (g *Guest) CPU0() CPU {
	idt, _ := g.Kernel().U64(g.KPCR + kpcrIdt)
	return CPU{
		RIP: g.Entry() + 0x40, RSP: poolBase + 0xff000,
		CR3: g.Current.Proc.DTB, CR4: 0x6f8,
		GSBase: g.KPCR, KernelGSBase: TEB, IDTBase: idt,
	}
}

// QEMUCPUState is QEMU's per-vCPU note (target/i386/arch_dump.c): version,
// size, rax-r15, rip, rflags, ten segments (cs ds es fs gs ss ldt tr gdt
// idt: selector, limit, flags, pad, base), cr0-cr4, kernel_gs_base.
func QEMUCPUState(c CPU) []byte {
	b := make([]byte, 440)
	le := binary.LittleEndian
	le.PutUint32(b[0:], 1)
	le.PutUint32(b[4:], uint32(len(b)))
	le.PutUint64(b[8+6*8:], c.RSP)
	le.PutUint64(b[8+16*8:], c.RIP)
	seg := func(i int, base uint64) { le.PutUint64(b[152+i*24+16:], base) }
	seg(4, c.GSBase)
	seg(9, c.IDTBase)
	le.PutUint64(b[392+3*8:], c.CR3)
	le.PutUint64(b[392+4*8:], c.CR4)
	le.PutUint64(b[432:], c.KernelGSBase)
	return b
}

// WriteELF writes the guest's memory as `virsh dump --memory-only` does:
// an x86-64 ELF core with a PT_NOTE of each vCPU's QEMU state and a
// PT_LOAD of guest-physical memory.
func (g *Guest) WriteELF(path string, cpus ...CPU) error {
	if len(cpus) == 0 {
		cpus = []CPU{g.CPU0()}
	}
	var notes bytes.Buffer
	for _, c := range cpus {
		desc := QEMUCPUState(c)
		binary.Write(&notes, binary.LittleEndian, [3]uint32{5, uint32(len(desc)), 0})
		notes.WriteString("QEMU\x00\x00\x00\x00")
		notes.Write(desc)
	}
	const ehSize, phSize = 64, 56
	noteOff := uint64(ehSize + 2*phSize)
	memOff := (noteOff + uint64(notes.Len()) + 0xfff) &^ 0xfff
	var out bytes.Buffer
	binary.Write(&out, binary.LittleEndian, elf.Header64{
		Ident:   [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:    uint16(elf.ET_CORE),
		Machine: uint16(elf.EM_X86_64),
		Version: uint32(elf.EV_CURRENT),
		Phoff:   ehSize, Ehsize: ehSize, Phentsize: phSize, Phnum: 2,
	})
	binary.Write(&out, binary.LittleEndian, elf.Prog64{Type: uint32(elf.PT_NOTE), Off: noteOff, Filesz: uint64(notes.Len())})
	binary.Write(&out, binary.LittleEndian, elf.Prog64{
		Type: uint32(elf.PT_LOAD), Off: memOff, Filesz: MemSize, Memsz: MemSize, Align: 0x1000,
	})
	out.Write(notes.Bytes())
	out.Write(make([]byte, memOff-uint64(out.Len())))
	out.Write(g.Phys.Mem)
	return os.WriteFile(path, out.Bytes(), 0o644)
}
