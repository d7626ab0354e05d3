package ksym

import (
	"errors"
	"slices"
	"testing"
)

func TestCacheRoundTrip(t *testing.T) {
	const physText = 0xa00000
	m := synthGuest(t, physText, OffsetsLast, true, 600, nil)
	want := mustScan(t, m)
	raw, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Table
	if err := got.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Symbols(), want.Symbols()) || got.Layout() != want.Layout() || mustPhys(&got) != physText {
		t.Fatalf("the table came back changed: %d symbols, layout %v, phys %#x", got.Len(), got.Layout(), mustPhys(&got))
	}
	if a, ok := got.Lookup("linux_banner"); !ok || a != synthText+synthBanner {
		t.Errorf("Lookup(linux_banner) = %#x %v", a, ok)
	}
	if err := got.Placed(m, uint64(len(m.b))); err != nil {
		t.Errorf("Placed where it was found: %v", err)
	}
	// The same table for an image elsewhere, as after a reboot: refused.
	moved := synthGuest(t, physText+physAlign, OffsetsLast, true, 600, nil)
	if err := got.Placed(moved, uint64(len(moved.b))); !errors.Is(err, ErrMismatch) {
		t.Errorf("Placed on a moved image: %v, want ErrMismatch", err)
	}
	// Every symbol is found by name, the lowest address of a shared name.
	for _, s := range want.Symbols() {
		if a, ok := got.Lookup(s.Name); !ok || a > s.Addr {
			t.Fatalf("Lookup(%q) = %#x %v, want %#x or below", s.Name, a, ok, s.Addr)
		}
	}
	// A name order that names a symbol twice is refused; one out of
	// order may miss names but never answers with another's address.
	n := got.Len()
	order := cacheHead + 13*n
	twice := slices.Clone(raw)
	copy(twice[order+4:order+8], raw[order:order+4])
	if err := new(Table).UnmarshalBinary(twice); !errors.Is(err, ErrBadCache) {
		t.Errorf("a symbol twice in the name order: %v, want ErrBadCache", err)
	}
	reversed := slices.Clone(raw)
	for i := range n {
		copy(reversed[order+4*i:order+4*i+4], raw[order+4*(n-1-i):order+4*(n-i)])
	}
	var mixed Table
	if err := mixed.UnmarshalBinary(reversed); err != nil {
		t.Fatal(err)
	}
	byName := map[string][]uint64{}
	for _, s := range want.Symbols() {
		byName[s.Name] = append(byName[s.Name], s.Addr)
	}
	for name, addrs := range byName {
		if a, ok := mixed.Lookup(name); ok && !slices.Contains(addrs, a) {
			t.Fatalf("out of order, Lookup(%q) = %#x, none of its addresses %#x", name, a, addrs)
		}
	}
	// Every cut of the encoding is refused, never a panic or a shorter table.
	for n := range len(raw) {
		if err := new(Table).UnmarshalBinary(raw[:n]); !errors.Is(err, ErrBadCache) {
			t.Fatalf("cut at %d of %d: %v, want ErrBadCache", n, len(raw), err)
		}
	}
}

// FuzzCache gives UnmarshalBinary damaged files: an error or a table,
// never a panic or a huge allocation.
func FuzzCache(f *testing.F) {
	var syms []Symbol
	for _, s := range synthSymbols(20, synthText, nil) {
		syms = append(syms, Symbol{Name: s.name, Addr: s.addr, Type: s.typ})
	}
	raw, _ := newTable(syms).MarshalBinary()
	f.Add(raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		var tt Table
		if err := tt.UnmarshalBinary(b); err == nil && len(b) < cacheHead+cachedSymBytes*tt.Len() {
			t.Fatalf("%d symbols from %d bytes", tt.Len(), len(b))
		}
	})
}
