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

var (
	// ErrReadOnly is returned by sources that cannot write guest memory.
	ErrReadOnly = errors.New("memory source is read-only")
	// ErrOutOfRange is returned for guest-physical addresses the guest has no RAM at.
	ErrOutOfRange = errors.New("guest-physical address out of range")
)
