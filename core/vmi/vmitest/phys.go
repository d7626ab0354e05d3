package vmitest

import (
	"fmt"
	"sync/atomic"

	"nitro/core/vmi"
)

// Phys is guest-physical memory held in a byte slice starting at address
// 0; addresses past its end give vmi.ErrOutOfRange. It counts calls so tests
// can tell cached translations from fresh page walks.
type Phys struct {
	Mem   []byte
	Reads atomic.Int64 // ReadPhys calls
}

// NewPhys returns size bytes of zeroed guest-physical memory.
func NewPhys(size int) *Phys { return &Phys{Mem: make([]byte, size)} }

// ReadPhys implements vmi.PhysMem.
func (p *Phys) ReadPhys(b []byte, pa uint64) error {
	p.Reads.Add(1)
	s, err := p.slice(pa, len(b))
	if err != nil {
		return err
	}
	copy(b, s)
	return nil
}

// WritePhys implements vmi.PhysMem.
func (p *Phys) WritePhys(b []byte, pa uint64) error {
	s, err := p.slice(pa, len(b))
	if err != nil {
		return err
	}
	copy(s, b)
	return nil
}

func (p *Phys) slice(pa uint64, n int) ([]byte, error) {
	size := uint64(len(p.Mem))
	if pa > size || uint64(n) > size-pa {
		return nil, fmt.Errorf("%d bytes at %#x: %w", n, pa, vmi.ErrOutOfRange)
	}
	return p.Mem[pa : pa+uint64(n)], nil
}
