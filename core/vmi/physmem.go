package vmi

import "errors"

// PhysMem is a source of guest-physical memory.
type PhysMem interface {
	// ReadPhys fills p from guest-physical address pa.
	ReadPhys(p []byte, pa uint64) error
	// WritePhys stores p at guest-physical address pa; sources that cannot
	// write return ErrReadOnly.
	WritePhys(p []byte, pa uint64) error
}

// HostMapped is implemented by sources that hold guest RAM mapped into
// this process (shared guest memory, a mapped snapshot): Memory copies
// from it directly instead of calling ReadPhys, which costs an allocation
// per small read (the buffer escapes through the interface).
type HostMapped interface {
	// HostBytes returns the host bytes of guest-physical [pa, pa+n) when
	// one mapping holds them all, else nil.
	HostBytes(pa uint64, n int) []byte
}

// Sparse is implemented by sources that can tell memory the guest never
// touched without touching it: the host has not allocated it (a hole in a
// memfd or file, an anonymous page never faulted in). It reads as zeros,
// and reading it may make the host allocate it, so sweeps of guest RAM ask
// first and read only the data.
type Sparse interface {
	// Data returns, in order, the parts of guest-physical [pa, pa+n) that
	// may hold other than zeros, at page granularity. Gaps with no RAM are
	// left out.
	Data(pa, n uint64) ([]Range, error)
}

var (
	// ErrReadOnly is returned by sources that cannot write guest memory.
	ErrReadOnly = errors.New("memory source is read-only")
	// ErrOutOfRange is returned for guest-physical addresses the guest has no RAM at.
	ErrOutOfRange = errors.New("guest-physical address out of range")
)
