package linuxmm

import (
	"fmt"
	"testing"

	"nitro/core/vmi"
	"nitro/core/vmi/linuxmm/mmtest"
	"nitro/core/vmi/offsets"
	"nitro/core/vmi/vmitest"
)

// Kernel addresses of the synthetic guests: structures are allocated from
// heap up; the vmemmap is elsewhere.
const (
	heap    = 0xffff888000100000
	vmemmap = 0xffffea0000000000
	mmAddr  = 0xffff888000010000
	taskAt  = 0xffff888000020000
	taskMm  = 0x68 // task_struct.mm in these guests
)

// kmem is sparse kernel memory: pages written are there, every other
// address fails to read, as a wild pointer in a guest does.
type kmem struct {
	pages map[uint64]*[4096]byte
	reads int
}

func newKmem() *kmem { return &kmem{pages: map[uint64]*[4096]byte{}} }

func (m *kmem) Read(p []byte, va uint64) error {
	m.reads++
	for i := range p {
		pg, ok := m.pages[(va+uint64(i))&^4095]
		if !ok {
			return fmt.Errorf("kernel %#x: %w", va+uint64(i), vmi.ErrNotPresent)
		}
		p[i] = pg[(va+uint64(i))&4095]
	}
	return nil
}

func (m *kmem) Put(va uint64, b []byte) {
	for i, c := range b {
		a := va + uint64(i)
		pg, ok := m.pages[a&^4095]
		if !ok {
			pg = new([4096]byte)
			m.pages[a&^4095] = pg
		}
		pg[a&4095] = c
	}
}

// guest is a kernel memory map under construction, with a resolver on it.
type guest struct {
	k    *kmem
	phys *vmitest.Phys
	b    *mmtest.Builder
	r    *Resolver
}

func newGuest(t testing.TB) *guest {
	t.Helper()
	o := &offsets.Offsets{}
	mmtest.Layout(o, taskMm)
	k := newKmem()
	g := &guest{k: k, phys: vmitest.NewPhys(1 << 20), b: &mmtest.Builder{O: o, Put: k.Put, Next: heap}}
	k.Put(mmAddr, make([]byte, 256))
	g.b.U64(taskAt+taskMm, mmAddr)
	r, err := New(k, g.phys, o, vmemmap)
	if err != nil {
		t.Fatal(err)
	}
	g.r = r
	return g
}
