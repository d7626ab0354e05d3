package gdbstub

import "nitro/core/kvm/rsp"

// Memory reads and writes guest memory through the stub, while the VM is
// stopped (at an event); while it runs, accesses fail with rsp.ErrRunning.
// Its ReadPhys and WritePhys match core/vmi's PhysMem.
type Memory struct {
	c *rsp.Client
}

// Memory returns the guest memory seen through the listener's stub.
func (l *Listener) Memory() *Memory { return &Memory{l.c} }

// ReadPhys fills p from guest-physical address pa.
func (m *Memory) ReadPhys(p []byte, pa uint64) error { return m.c.ReadPhys(p, pa) }

// WritePhys stores p at guest-physical address pa.
func (m *Memory) WritePhys(p []byte, pa uint64) error { return m.c.WritePhys(p, pa) }

// ReadVirt fills p from virtual address va, translated by the page tables
// of the vCPU of the current event.
func (m *Memory) ReadVirt(p []byte, va uint64) error { return m.c.ReadVirt(p, va) }

// WriteVirt stores p at virtual address va.
func (m *Memory) WriteVirt(p []byte, va uint64) error { return m.c.WriteVirt(p, va) }
