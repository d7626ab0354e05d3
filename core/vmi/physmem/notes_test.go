package physmem

import (
	"encoding/binary"
	"testing"
)

// note is one ELF note as QEMU writes it: name and desc padded to 4.
func note(name string, typ uint32, desc []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(name)+1))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(desc)))
	b = binary.LittleEndian.AppendUint32(b, typ)
	b = append(b, name...)
	b = append(b, make([]byte, 4-len(name)%4)...)
	b = append(b, desc...)
	return append(b, make([]byte, (4-len(desc)%4)%4)...)
}

func TestQEMUNotes(t *testing.T) {
	state := func(cr3, gs, kgs, idt uint64, withKGS bool) []byte {
		d := make([]byte, qsKGS+8)
		binary.LittleEndian.PutUint64(d[qsCR+3*8:], cr3)
		binary.LittleEndian.PutUint64(d[qsGS:], gs)
		binary.LittleEndian.PutUint64(d[qsIDT:], idt)
		binary.LittleEndian.PutUint64(d[qsKGS:], kgs)
		binary.LittleEndian.PutUint64(d[qsRIP:], 0x1234)
		if !withKGS {
			d = d[:qsKGS]
		}
		return d
	}
	var raw []byte
	raw = append(raw, note("CORE", 1, make([]byte, 336))...) // NT_PRSTATUS: skipped
	raw = append(raw, note("QEMU", 0, state(0x187000, 0xfffff80002a05000, 0x7fffffde000, 0xfffff80000b95080, true))...)
	raw = append(raw, note("QEMU", 0, state(0x2000, 1, 0, 2, false))...)
	raw = append(raw, note("QEMU", 0, []byte{1, 2, 3})...) // too short: skipped
	cut := note("QEMU", 0, state(0x3000, 0, 0, 0, true))
	raw = append(raw, cut[:len(cut)-9]...) // cut short: ends the list
	cpus := qemuNotes(raw)
	want := []CPUState{
		{RIP: 0x1234, CR3: 0x187000, GSBase: 0xfffff80002a05000, KernelGSBase: 0x7fffffde000, IDTBase: 0xfffff80000b95080},
		{RIP: 0x1234, CR3: 0x2000, GSBase: 1, IDTBase: 2},
	}
	if len(cpus) != len(want) {
		t.Fatalf("%d vCPUs: %+v", len(cpus), cpus)
	}
	for i := range want {
		if cpus[i] != want[i] {
			t.Errorf("vCPU %d: %+v, want %+v", i, cpus[i], want[i])
		}
	}
}

func FuzzQEMUNotes(f *testing.F) {
	f.Add(note("QEMU", 0, make([]byte, qsKGS+8)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		if n := len(qemuNotes(raw)); n > len(raw)/qsMin {
			t.Fatalf("%d vCPUs from %d bytes", n, len(raw))
		}
	})
}
