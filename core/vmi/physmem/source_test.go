package physmem

import (
	"bytes"
	"errors"
	"testing"

	"nitro/core/vmi"
)

// sliceStore is host storage in a byte slice, offsets from 0.
type sliceStore struct{ b []byte }

func (s *sliceStore) readAt(p []byte, off uint64) error  { copy(p, s.b[off:]); return nil }
func (s *sliceStore) writeAt(p []byte, off uint64) error { copy(s.b[off:], p); return nil }
func (s *sliceStore) close() error                       { return nil }
func (s *sliceStore) data(off, n uint64) ([]span, error) { return []span{{off, off + n}}, nil }
func (s *sliceStore) mapped(off uint64, n int) []byte {
	if off+uint64(n) > uint64(len(s.b)) {
		return nil
	}
	return s.b[off : off+uint64(n)]
}

func TestHostBytesStaysInOneRange(t *testing.T) {
	st := &sliceStore{b: make([]byte, 0x2000)}
	st.b[0x1010] = 0x5a
	src, err := newSource([]Range{
		{GPA: 0x0, Size: 0x1000, Off: 0x1000, Name: "low"},
		{GPA: 0x1000, Size: 0x1000, Off: 0x0, Name: "low2"},
	}, st)
	if err != nil {
		t.Fatal(err)
	}
	if b := src.HostBytes(0x10, 8); len(b) != 8 || b[0] != 0x5a {
		t.Fatalf("HostBytes(0x10, 8) = %x, want 8 bytes from offset 0x1010", b)
	}
	for _, c := range []struct {
		pa uint64
		n  int
	}{{0xffc, 8}, {0x2000, 1}, {^uint64(0) - 2, 8}, {0x10, -1}} {
		if b := src.HostBytes(c.pa, c.n); b != nil {
			t.Errorf("HostBytes(%#x, %d) = %x, want nil (across ranges, a hole, or no length)", c.pa, c.n, b)
		}
	}
}

func TestSourceSplitsAccesses(t *testing.T) {
	st := &sliceStore{b: make([]byte, 0x3000)}
	for i := range st.b {
		st.b[i] = byte(i / 16)
	}
	// Low RAM, a hole, RAM above it stored before the low part, then ROM.
	src, err := newSource([]Range{
		{GPA: 0x10000, Size: 0x1000, Off: 0x0, Name: "high"},
		{GPA: 0x0, Size: 0x1000, Off: 0x1000, Name: "low"},
		{GPA: 0x1000, Size: 0x1000, Off: 0x2000, Name: "low2"},
		{GPA: 0x20000, Size: 0x100, Off: 0x0, ReadOnly: true, Name: "rom"},
	}, st)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 0x20)
	if err := src.ReadPhys(got, 0xff0); err != nil { // straddles low and low2
		t.Fatal(err)
	}
	want := append(bytes.Clone(st.b[0x1ff0:0x2000]), st.b[0x2000:0x2010]...)
	if !bytes.Equal(got, want) {
		t.Fatalf("ReadPhys across ranges = %x, want %x", got, want)
	}
	if err := src.WritePhys([]byte{0xaa, 0xbb}, 0x10fff-0x0); err == nil {
		t.Fatal("write running off the end of a range into the hole succeeded")
	} else if !errors.Is(err, vmi.ErrOutOfRange) {
		t.Fatalf("err = %v, want ErrOutOfRange", err)
	}
	if st.b[0xfff] != byte(0xfff/16) {
		t.Fatal("a failed write changed memory")
	}
	if err := src.ReadPhys(got, 0x2000); !errors.Is(err, vmi.ErrOutOfRange) {
		t.Fatalf("read in the hole: err = %v, want ErrOutOfRange", err)
	}
	if err := src.ReadPhys(got, ^uint64(0)-4); !errors.Is(err, vmi.ErrOutOfRange) {
		t.Fatalf("read wrapping around: err = %v, want ErrOutOfRange", err)
	}
	if err := src.WritePhys([]byte{1}, 0x20010); !errors.Is(err, vmi.ErrReadOnly) {
		t.Fatalf("write to ROM: err = %v, want ErrReadOnly", err)
	}
	if err := src.WritePhys([]byte{1, 2}, 0x10010); err != nil || st.b[0x10] != 1 || st.b[0x11] != 2 {
		t.Fatalf("write: %v", err)
	}
}

func TestSourceRejectsBadLayouts(t *testing.T) {
	for name, rs := range map[string][]Range{
		"empty":   {{GPA: 0, Size: 0}},
		"overlap": {{GPA: 0, Size: 0x2000}, {GPA: 0x1000, Size: 0x1000}},
		"wraps":   {{GPA: ^uint64(0) - 10, Size: 0x100}},
	} {
		if _, err := newSource(rs, &sliceStore{}); !errors.Is(err, ErrBadLayout) {
			t.Errorf("%s: err = %v, want ErrBadLayout", name, err)
		}
	}
}
