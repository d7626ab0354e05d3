package domain

import (
	"errors"
	"fmt"

	"libvirt.org/go/libvirt"
)

// peekMax is what libvirt's remote protocol carries in one peek.
const peekMax = 64 << 10

// ErrPeekReadOnly is returned by PhysPeek.WritePhys: libvirt only peeks.
var ErrPeekReadOnly = errors.New("libvirt's memory peek cannot write")

// PhysPeek reads guest-physical memory through libvirt's
// virDomainMemoryPeek: the slowest source (milliseconds a call), but one
// that needs neither QEMU's process nor its gdbstub. Its methods match
// core/vmi's PhysMem.
type PhysPeek struct{ d *Domain }

// PhysPeek returns the domain's memory as libvirt peeks it.
func (d *Domain) PhysPeek() PhysPeek { return PhysPeek{d} }

// ReadPhys fills p from guest-physical address pa.
func (m PhysPeek) ReadPhys(p []byte, pa uint64) error {
	for len(p) > 0 {
		n := min(len(p), peekMax)
		b, err := m.d.virt.MemoryPeek(pa, uint64(n), libvirt.MEMORY_PHYSICAL)
		if err != nil {
			return fmt.Errorf("peeking %d bytes at %#x of %q: %w", n, pa, m.d.name, wrap(err))
		}
		if len(b) != n {
			return fmt.Errorf("peeking %d bytes at %#x of %q: got %d", n, pa, m.d.name, len(b))
		}
		copy(p, b)
		p, pa = p[n:], pa+uint64(n)
	}
	return nil
}

// WritePhys fails: libvirt has no memory poke.
func (m PhysPeek) WritePhys([]byte, uint64) error { return ErrPeekReadOnly }
