package vmi

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// ErrTruncated is returned by CString when no NUL ends the string within
// the length cap; the string read so far is returned with it.
var ErrTruncated = errors.New("string longer than the cap")

// hostView returns the host bytes of [va, va+n) when they lie in one page
// of host-mapped memory, else nil: typed reads from there allocate nothing.
func (s Space) hostView(va uint64, n int) []byte {
	if s.mem.host == nil || int(va&pageMask)+n > pageSize {
		return nil
	}
	pa, err := s.Translate(va)
	if err != nil {
		return nil // the caller's plain read reports it
	}
	return s.mem.host.HostBytes(pa, n)
}

// U32 reads a little-endian 32-bit value at va.
func (s Space) U32(va uint64) (uint32, error) {
	if b := s.hostView(va, 4); b != nil {
		return binary.LittleEndian.Uint32(b), nil
	}
	var b [4]byte
	if err := s.Read(b[:], va); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// U64 reads a little-endian 64-bit value at va.
func (s Space) U64(va uint64) (uint64, error) {
	if b := s.hostView(va, 8); b != nil {
		return binary.LittleEndian.Uint64(b), nil
	}
	var b [8]byte
	if err := s.Read(b[:], va); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// Pointer reads a guest pointer at va. The value is guest data: it may be
// wild, and reading through it may fail.
func (s Space) Pointer(va uint64) (uint64, error) { return s.U64(va) }

// PutU32 stores a little-endian 32-bit value at va.
func (s Space) PutU32(va uint64, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return s.Write(b[:], va)
}

// PutU64 stores a little-endian 64-bit value at va.
func (s Space) PutU64(va uint64, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return s.Write(b[:], va)
}

// CString reads a NUL-terminated string of at most max bytes (without the
// NUL) at va. It reads a page at a time, so a string that ends before an
// unmapped page reads fine. A max below zero reads nothing. When it fails part way (a fault, or
// ErrTruncated) it returns the bytes read before the failure with the error.
func (s Space) CString(va uint64, max int) (string, error) {
	if max < 0 {
		return "", ErrTruncated
	}
	var out []byte
	for len(out) <= max {
		// +1 so a string of exactly max bytes still finds its NUL.
		n := min(max+1-len(out), pageSize-int(va&pageMask))
		chunk := make([]byte, n)
		if err := s.Read(chunk, va); err != nil {
			return string(out), err
		}
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			return string(append(out, chunk[:i]...)), nil
		}
		out = append(out, chunk...)
		va += uint64(n)
	}
	if len(out) > max {
		out = out[:max]
	}
	return string(out), ErrTruncated
}
