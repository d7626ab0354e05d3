package vmi_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"nitro/core/vmi"
	"nitro/core/vmi/vmitest"
)

const (
	physSize = 16 << 20
	cr4LA57  = 1 << 12

	kernelRoot = 0x100000 // 8 KiB aligned, so the PTI user PGD is the next page
	userRoot   = kernelRoot + vmi.PTIUserBit
	tableArea  = 0x200000
	userTables = 0x300000
)

// guest is a fake guest with 4-level kernel tables at kernelRoot.
type guest struct {
	phys *vmitest.Phys
	pt   *vmitest.Tables
	mem  *vmi.Memory
}

func newGuest(t *testing.T, la57 bool) *guest {
	t.Helper()
	phys := vmitest.NewPhys(physSize)
	return &guest{phys: phys, pt: vmitest.NewTables(phys, la57, kernelRoot, tableArea), mem: vmi.NewMemory(phys)}
}

// fill writes a recognisable pattern at physical pa.
func (g *guest) fill(pa uint64, n int, seed byte) []byte {
	b := g.phys.Mem[pa : pa+uint64(n)]
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return bytes.Clone(b)
}

func TestTranslatePageSizes(t *testing.T) {
	for _, la57 := range []bool{false, true} {
		g := newGuest(t, la57)
		var cr4 uint64
		base := uint64(0xffff_8880_0000_0000) // 4-level direct map
		if la57 {
			cr4 = cr4LA57
			base = 0xff11_0000_0000_0000 // 5-level direct map: bits 56..48 used
		}
		g.pt.Map(base, 0x5000, vmitest.Page4K)
		g.pt.Map(base+vmitest.Page2M, 0x400000, vmitest.Page2M)
		g.pt.Map(base+vmitest.Page1G, 0, vmitest.Page1G)
		// CR3 with PCID bits: the PCID must not be taken as part of the root.
		s := g.mem.Space(kernelRoot|0x123, cr4)
		for _, c := range []struct {
			va, pa uint64
		}{
			{base + 0x10, 0x5010},
			{base + 0xff0, 0x5ff0},
			{base + vmitest.Page2M + 0x12345, 0x412345},
			{base + vmitest.Page1G + 0xabcdef, 0xabcdef},
		} {
			pa, err := s.Translate(c.va)
			if err != nil || pa != c.pa {
				t.Errorf("la57=%v: Translate(%#x) = %#x, %v; want %#x", la57, c.va, pa, err, c.pa)
			}
			want := g.fill(c.pa, 16, byte(c.va))
			got := make([]byte, 16)
			if err := s.Read(got, c.va); err != nil || !bytes.Equal(got, want) {
				t.Errorf("la57=%v: Read(%#x) = %x, %v; want %x", la57, c.va, got, err, want)
			}
		}
	}
}

func TestNonCanonical(t *testing.T) {
	g := newGuest(t, false)
	// Valid under 5-level paging, not under 4-level.
	_, err := g.mem.Space(kernelRoot, 0).Translate(0xff11_0000_0000_0000)
	if !errors.Is(err, vmi.ErrNonCanonical) {
		t.Fatalf("err = %v, want ErrNonCanonical", err)
	}
}

func TestPageFault(t *testing.T) {
	g := newGuest(t, false)
	const va = 0x7f00_1234_5000
	g.pt.Map(va, 0x6000, vmitest.Page4K)
	s := g.mem.Space(kernelRoot, 0)
	for _, level := range []int{1, 3, 4} {
		g.pt.Unmap(va, level)
		g.mem.Invalidate()
		_, err := s.U64(va + 8)
		var pf *vmi.PageFault
		if !errors.Is(err, vmi.ErrNotPresent) || !errors.As(err, &pf) {
			t.Fatalf("level %d: err = %v, want a PageFault", level, err)
		}
		if pf.Addr != va+8 || pf.Level != level || pf.Reserved {
			t.Errorf("level %d: fault %+v", level, pf)
		}
	}
}

func TestReservedPageSizeBit(t *testing.T) {
	g := newGuest(t, false)
	const va = 0xffff_8880_0000_0000
	g.pt.Map(va, 0x6000, vmitest.Page4K)
	// PS in a PML4 entry is reserved.
	slot := uint64(kernelRoot + (va>>39&511)*8)
	g.pt.SetEntry(slot, g.pt.Entry(slot)|1<<7)
	_, err := g.mem.Space(kernelRoot, 0).Translate(va)
	var pf *vmi.PageFault
	if !errors.As(err, &pf) || !pf.Reserved || pf.Level != 4 {
		t.Fatalf("err = %v, want a reserved-bit fault at level 4", err)
	}
}

func TestWildTableAddress(t *testing.T) {
	g := newGuest(t, false)
	// A PML4 entry (the second: 512 GiB up) pointing far outside guest RAM.
	g.pt.SetEntry(kernelRoot+8, 0x000f_ffff_ffff_f000|1)
	_, err := g.mem.Space(kernelRoot, 0).Translate(0x80_0000_1000)
	if !errors.Is(err, vmi.ErrOutOfRange) {
		t.Fatalf("err = %v, want ErrOutOfRange", err)
	}
	// A leaf pointing outside: translation works, the read fails.
	g.pt.Map(0x40_0000_0000, 0xff_0000_0000, vmitest.Page1G)
	g.mem.Invalidate() // the tables changed, as between two stops
	s := g.mem.Space(kernelRoot, 0)
	if pa, err := s.Translate(0x40_0000_0010); err != nil || pa != 0xff_0000_0010 {
		t.Fatalf("Translate = %#x, %v", pa, err)
	}
	if _, err := s.U32(0x40_0000_0010); !errors.Is(err, vmi.ErrOutOfRange) {
		t.Fatalf("read err = %v, want ErrOutOfRange", err)
	}
}

func TestPTI(t *testing.T) {
	g := newGuest(t, false)
	user := vmitest.NewTables(g.phys, false, userRoot, userTables)
	const kva, uva = 0xffff_ffff_8200_0000, 0x5555_5555_4000
	g.pt.Map(kva, 0x7000, vmitest.Page4K)
	g.pt.Map(uva, 0x8000, vmitest.Page4K)
	user.Map(uva, 0x8000, vmitest.Page4K)
	want := g.fill(0x7000, 8, 1)

	// A user CR3 as Linux loads it: user PGD bit and the user PCID bit (11).
	us := g.mem.Space(userRoot|1<<11|3, 0)
	if _, err := us.U64(kva); !errors.Is(err, vmi.ErrNotPresent) {
		t.Fatalf("kernel address through user tables: err = %v, want ErrNotPresent", err)
	}
	if !us.PTIUser(kva) {
		t.Fatal("PTIUser = false for a PTI user CR3")
	}
	ks := us.Kernel()
	if ks.CR3() != kernelRoot {
		t.Fatalf("Kernel().CR3() = %#x, want %#x", ks.CR3(), kernelRoot)
	}
	got := make([]byte, 8)
	if err := ks.Read(got, kva); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("kernel read = %x, %v; want %x", got, err, want)
	}
	if _, err := ks.Translate(uva); err != nil {
		t.Fatalf("user address through kernel tables: %v", err)
	}
	// A kernel CR3, and a non-PTI PGD at an odd page, are not PTI user spaces.
	if g.mem.Space(kernelRoot, 0).PTIUser(kva) {
		t.Error("PTIUser = true for the kernel CR3")
	}
	odd := vmitest.NewTables(g.phys, false, 0x501000, 0x600000)
	odd.Map(kva, 0x7000, vmitest.Page4K)
	if g.mem.Space(odd.Root, 0).PTIUser(kva) {
		t.Error("PTIUser = true for an odd PGD that maps the kernel")
	}
}

func TestCrossPageRead(t *testing.T) {
	g := newGuest(t, false)
	const va = 0x4000_0000
	// Three virtual pages: the first two physically contiguous, the third not.
	g.pt.Map(va, 0x10000, vmitest.Page4K)
	g.pt.Map(va+0x1000, 0x11000, vmitest.Page4K)
	g.pt.Map(va+0x2000, 0x20000, vmitest.Page4K)
	want := append(g.fill(0x10800, 0x1800, 3), g.fill(0x20000, 0x100, 9)...)
	s := g.mem.Space(kernelRoot, 0)
	got := make([]byte, len(want))
	if err := s.Read(got, va+0x800); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Read across pages: %v, equal=%v", err, bytes.Equal(got, want))
	}
	// Writes land on the right physical pages too.
	if err := s.PutU64(va+0x1ffc, 0x1122334455667788); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g.phys.Mem[0x11ffc:0x12000], []byte{0x88, 0x77, 0x66, 0x55}) ||
		!bytes.Equal(g.phys.Mem[0x20000:0x20004], []byte{0x44, 0x33, 0x22, 0x11}) {
		t.Fatal("PutU64 across a page boundary wrote the wrong bytes")
	}
	// A read running into an unmapped page fails with the fault's address.
	_, err := s.U64(va + 0x2ffc)
	var pf *vmi.PageFault
	if !errors.As(err, &pf) || pf.Addr != va+0x3000 {
		t.Fatalf("err = %v, want a fault at %#x", err, va+0x3000)
	}
	// So does a write, and it writes nothing.
	before := bytes.Clone(g.phys.Mem[0x20ffc:0x21000])
	if err := s.PutU64(va+0x2ffc, 0x1111111111111111); !errors.Is(err, vmi.ErrNotPresent) {
		t.Fatalf("write err = %v, want ErrNotPresent", err)
	}
	if !bytes.Equal(g.phys.Mem[0x20ffc:0x21000], before) {
		t.Fatal("a faulting write changed the mapped page")
	}
}

func TestCacheInvalidation(t *testing.T) {
	g := newGuest(t, false)
	const va = 0x1000_0000
	g.pt.Map(va, 0x10000, vmitest.Page4K)
	g.fill(0x10000, 8, 1)
	g.fill(0x20000, 8, 2)
	s := g.mem.Space(kernelRoot, 0)
	first, err := s.U64(va)
	if err != nil {
		t.Fatal(err)
	}
	// A cached translation needs no table reads.
	before := g.phys.Reads.Load()
	if _, err := s.Translate(va + 8); err != nil {
		t.Fatal(err)
	}
	if n := g.phys.Reads.Load() - before; n != 0 {
		t.Errorf("cached translation read memory %d times", n)
	}
	// The guest remaps the page: stale until invalidated.
	g.pt.Map(va, 0x20000, vmitest.Page4K)
	if v, _ := s.U64(va); v != first {
		t.Errorf("before Invalidate: %#x, want the cached %#x", v, first)
	}
	g.mem.Invalidate()
	if v, _ := s.U64(va); v == first {
		t.Errorf("after Invalidate: still %#x", v)
	}
	// A walk for a neighbouring page reuses the upper entries already read.
	g.pt.Map(va+0x1000, 0x21000, vmitest.Page4K)
	g.mem.Invalidate()
	if _, err := s.Translate(va); err != nil {
		t.Fatal(err)
	}
	before = g.phys.Reads.Load()
	if pa, err := s.Translate(va + 0x1000); err != nil || pa != 0x21000 {
		t.Fatalf("neighbour: %#x, %v", pa, err)
	}
	if n := g.phys.Reads.Load() - before; n != 1 {
		t.Errorf("walk through cached tables read memory %d times, want once (its own leaf entry)", n)
	}
	// Another CR3 is another cache key.
	other := vmitest.NewTables(g.phys, false, 0x700000, 0x800000)
	other.Map(va, 0x10000, vmitest.Page4K)
	if v, _ := g.mem.Space(other.Root, 0).U64(va); v != first {
		t.Errorf("other CR3: %#x, want %#x", v, first)
	}
}

func TestCString(t *testing.T) {
	g := newGuest(t, false)
	const va = 0x2000_0000
	g.pt.Map(va, 0x30000, vmitest.Page4K)
	g.pt.Map(va+0x1000, 0x40000, vmitest.Page4K)
	s := g.mem.Space(kernelRoot, 0)
	put := func(at uint64, str string) {
		if err := s.Write(append([]byte(str), 0), at); err != nil {
			t.Fatal(err)
		}
	}
	put(va+0xff0, "/bin/busybox-across")                     // crosses into the second page
	if err := s.Write([]byte("ab"), va+0x1ffe); err != nil { // no NUL before the unmapped page
		t.Fatal(err)
	}

	for _, c := range []struct {
		at      uint64
		max     int
		want    string
		wantErr error
	}{
		{va + 0xff0, 100, "/bin/busybox-across", nil},
		{va + 0xff0, 19, "/bin/busybox-across", nil}, // exactly max bytes
		{va + 0xff0, 5, "/bin/", vmi.ErrTruncated},
		{va + 0x1ffe, 10, "ab", vmi.ErrNotPresent}, // runs off the mapped pages
	} {
		got, err := s.CString(c.at, c.max)
		if got != c.want || !errors.Is(err, c.wantErr) {
			t.Errorf("CString(%#x, %d) = %q, %v; want %q, %v", c.at, c.max, got, err, c.want, c.wantErr)
		}
	}
	// A string that ends right before an unmapped page reads fine.
	put(va+0x1ffa, "tail")
	if got, err := s.CString(va+0x1ffa, 64); got != "tail" || err != nil {
		t.Errorf("CString at page end = %q, %v", got, err)
	}
}

func TestTyped(t *testing.T) {
	g := newGuest(t, false)
	const va = 0xffff_8880_0010_0000
	g.pt.Map(va, 0x50000, vmitest.Page4K)
	s := g.mem.Space(kernelRoot, 0)
	if err := s.PutU32(va, 0xdeadbeef); err != nil {
		t.Fatal(err)
	}
	if err := s.PutU64(va+8, 0xffff_8880_0010_0000); err != nil {
		t.Fatal(err)
	}
	if v, err := s.U32(va); v != 0xdeadbeef || err != nil {
		t.Errorf("U32 = %#x, %v", v, err)
	}
	if p, err := s.Pointer(va + 8); p != va || err != nil {
		t.Errorf("Pointer = %#x, %v", p, err)
	}
	if !bytes.Equal(g.phys.Mem[0x50000:0x50004], []byte{0xef, 0xbe, 0xad, 0xde}) {
		t.Error("PutU32 is not little-endian")
	}
}

// TestConcurrentUse reads from several goroutines while another
// invalidates, as vCPUs stopping at once do; run with -race.
func TestConcurrentUse(t *testing.T) {
	g := newGuest(t, false)
	const va = 0x6000_0000
	for i := range uint64(16) {
		g.pt.Map(va+i*0x1000, 0x40000+i*0x1000, vmitest.Page4K)
	}
	want := g.fill(0x40000, 16*0x1000, 5)
	s := g.mem.Space(kernelRoot, 0)
	done := make(chan error)
	for w := range 4 {
		go func() {
			got := make([]byte, 0x1000)
			for i := range 200 {
				off := uint64((i + w) % 16 * 0x1000)
				if err := s.Read(got, va+off); err != nil || !bytes.Equal(got, want[off:off+0x1000]) {
					done <- fmt.Errorf("read at %#x: %v", va+off, err)
					return
				}
				if w == 0 {
					g.mem.Invalidate()
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestStableRanges: translations in a stable range outlive Invalidate,
// others do not.
func TestStableRanges(t *testing.T) {
	g := newGuest(t, false)
	const stable, moving = 0x1000_0000, 0x2000_0000
	g.pt.Map(stable, 0x10000, vmitest.Page4K)
	g.pt.Map(moving, 0x11000, vmitest.Page4K)
	g.mem.SetStable(vmi.Range{Start: stable, End: stable + 0x1000})
	s := g.mem.Space(kernelRoot, 0)
	for _, va := range []uint64{stable, moving} {
		if _, err := s.Translate(va); err != nil {
			t.Fatal(err)
		}
	}
	g.pt.Map(stable, 0x20000, vmitest.Page4K)
	g.pt.Map(moving, 0x21000, vmitest.Page4K)
	g.mem.Invalidate()
	before := g.phys.Reads.Load()
	if pa, err := s.Translate(stable); err != nil || pa != 0x10000 {
		t.Errorf("stable page after Invalidate: %#x, %v; want the cached 0x10000", pa, err)
	}
	if n := g.phys.Reads.Load() - before; n != 0 {
		t.Errorf("stable translation read memory %d times", n)
	}
	if pa, err := s.Translate(moving); err != nil || pa != 0x21000 {
		t.Errorf("other page after Invalidate: %#x, %v; want the new 0x21000", pa, err)
	}
}

// hostPhys maps guest-physical memory below its limit into this process,
// as a source with shared guest RAM does; above it, reads go through ReadPhys.
type hostPhys struct {
	*vmitest.Phys
	limit uint64
}

func (h hostPhys) HostBytes(pa uint64, n int) []byte {
	if pa > h.limit || uint64(n) > h.limit-pa {
		return nil
	}
	return h.Mem[pa : pa+uint64(n)]
}

func TestHostMappedReads(t *testing.T) {
	g := newGuest(t, false)
	const base, mapped, unmapped = 0xffff_8880_0000_0000, 0x400000, 0x900000
	g.pt.Map(base, mapped, vmitest.Page4K)
	g.pt.Map(base+0x1000, unmapped, vmitest.Page4K)
	want := g.fill(mapped, 0x1000, 1)
	wantHigh := g.fill(unmapped, 0x1000, 9)
	s := vmi.NewMemory(hostPhys{g.phys, 0x800000}).Space(kernelRoot, 0)

	got := make([]byte, 0x20)
	if err := s.Read(got, base+0xff0); err != nil || !bytes.Equal(got[:0x10], want[0xff0:]) || !bytes.Equal(got[0x10:], wantHigh[:0x10]) {
		t.Fatalf("read across the mapped and the unmapped page: %v, %x", err, got)
	}
	before := g.phys.Reads.Load()
	v, err := s.U64(base + 8)
	if err != nil || v != binary.LittleEndian.Uint64(want[8:]) {
		t.Fatalf("U64 in mapped memory = %#x, %v; want %#x", v, err, binary.LittleEndian.Uint64(want[8:]))
	}
	if n := g.phys.Reads.Load() - before; n != 0 {
		t.Errorf("U64 in mapped memory made %d ReadPhys calls, want 0", n)
	}
	if v, err := s.U64(base + 0x1008); err != nil || v != binary.LittleEndian.Uint64(wantHigh[8:]) {
		t.Fatalf("U64 past the mapping = %#x, %v", v, err)
	}
	if g.phys.Reads.Load() == before {
		t.Error("U64 past the mapping made no ReadPhys call")
	}
	if _, err := s.U64(base + 0x2000); !errors.Is(err, vmi.ErrNotPresent) {
		t.Fatalf("U64 at an unmapped address: %v, want ErrNotPresent", err)
	}
}

// TestBacking maps a kernel-image-like region, 2 MiB pages, a 4 KiB-mapped
// piece and a gap, plus a mapping outside it, and wants the physical
// ranges behind the region alone, merged.
func TestBacking(t *testing.T) {
	const image = 0xffff_ffff_8000_0000
	g := newGuest(t, false)
	g.pt.Map(image+0x0100_0000, 0x0040_0000, vmitest.Page2M)
	g.pt.Map(image+0x0120_0000, 0x0060_0000, vmitest.Page2M)
	g.pt.Map(image+0x0140_0000, 0x0080_0000, vmitest.Page4K) // split at its end, as rodata is
	g.pt.Map(image+0x0180_0000, 0x00c0_0000, vmitest.Page2M) // after a gap
	g.pt.Map(image-vmitest.Page2M, 0x00e0_0000, vmitest.Page2M)
	got := g.mem.Space(kernelRoot, 0).Backing(image, image+0x4000_0000, vmitest.Page2M)
	want := []vmi.Range{{Start: 0x0040_0000, End: 0x00a0_0000}, {Start: 0x00c0_0000, End: 0x00e0_0000}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Backing = %x, want %x", got, want)
	}
}
