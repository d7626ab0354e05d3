package linux

import (
	"testing"

	"nitro/core/kvm"
	"nitro/core/vmi"
	"nitro/core/vmi/linuxmm"
	"nitro/core/vmi/linuxmm/mmtest"
	"nitro/core/vmi/vmitest"
)

// A forked child's execve whose path and argv strings lie in a page of the
// program its page tables do not map: the page cache holds it.
const (
	rodata   = userPage + 0x1000 // the program's .rodata, unmapped in the child
	rodataPA = 0xe0000           // its page in the page cache
	argvAt   = userPage + 0x300  // the argv array, in the mapped page
	mmHeap   = kva + 0x50000     // the mm and its structures
	testMm   = 0x68              // task_struct.mm in these guests
)

// childExec builds the child's memory map into the snapshot's kernel and
// returns the execve entry's event and the resolver of the child's pages.
func childExec(t *testing.T, k *kernel, sregs kvm.SRegs) (kvm.Event, *linuxmm.Resolver) {
	t.Helper()
	for off := uint64(0); off < 0x10000; off += 0x1000 {
		k.tables.Map(mmHeap+off, 0xd0000+off, vmitest.Page4K)
	}
	mem := vmi.NewMemory(k.phys)
	kern := mem.Space(k.tables.Root, 0)
	mmtest.Layout(k.t.o, testMm)
	b := &mmtest.Builder{O: k.t.o, Next: mmHeap + 0x1000, Put: func(va uint64, p []byte) {
		if err := kern.Write(p, va); err != nil {
			t.Fatal(err)
		}
	}}
	mm := b.Alloc(256)
	b.Put(mm, make([]byte, 256))
	b.U64(task(1)+testMm, mm)
	file, mapping := b.File()
	vmemmap := mmHeap + 0xf000 - (rodataPA>>12)*uint64(k.t.o.Page.Size) // struct pages at mmHeap+0xf000
	page := b.Page(vmemmap, rodataPA>>12, mapping, 1, true)
	b.Head(mapping, b.XaNode(0, map[int]uint64{1: page}))
	vma := b.VMA(rodata, rodata+0x1000, 0, 1, file)
	b.Root(mm, b.Leaf([]uint64{rodata - 1, rodata + 0xfff, ^uint64(0)}, []uint64{0, vma, 0}))

	copy(k.phys.Mem[rodataPA:], "/bin/true\x00")
	copy(k.phys.Mem[rodataPA+0x10:], "-v\x00")
	user := mem.Space(sregs.CR3, 0)
	for i, p := range []uint64{rodata, rodata + 0x10, 0} {
		if err := user.PutU64(argvAt+8*uint64(i), p); err != nil {
			t.Fatal(err)
		}
	}
	r, err := linuxmm.New(kern, k.phys, k.t.o, vmemmap)
	if err != nil {
		t.Fatal(err)
	}
	return kvm.Event{Direction: kvm.Enter, SRegs: sregs, Regs: kvm.Regs{
		RIP: entryPoint, RAX: 59, RDI: rodata, RSI: argvAt, RDX: 0}}, r
}

func TestHandleReadsThePageCache(t *testing.T) {
	for _, c := range []struct {
		name     string
		resolver bool
		want     string
	}{
		{"through the page cache", true, `[42 cat] execve("/bin/true", ["/bin/true", "-v"], NULL) enter`},
		{"without it", false, `[42 cat] execve(0x401000, [0x401000, 0x401010], NULL) enter`},
	} {
		k, events := snapshot(t)
		ev, r := childExec(t, k, events[0].SRegs)
		b := newTestBackend(k, vmi.NewMemory(k.phys))
		if c.resolver {
			b.pages = r
		}
		call, err := b.Handle(&ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := line(&call.Syscall); got != c.want {
			t.Errorf("%s: %s\n want %s", c.name, got, c.want)
		}
	}
}
