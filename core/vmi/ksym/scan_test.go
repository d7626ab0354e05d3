package ksym

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"nitro/core/vmi"
)

// ram is guest-physical memory backed by a byte slice; holes are ranges
// that report vmi.ErrOutOfRange.
type ram struct {
	b     []byte
	holes [][2]uint64
	reads int
}

func (r *ram) ReadPhys(p []byte, pa uint64) error {
	r.reads++
	end := pa + uint64(len(p))
	if end > uint64(len(r.b)) || end < pa {
		return vmi.ErrOutOfRange
	}
	for _, h := range r.holes {
		if pa < h[1] && end > h[0] {
			return vmi.ErrOutOfRange
		}
	}
	copy(p, r.b[pa:])
	return nil
}

func (r *ram) WritePhys([]byte, uint64) error { return vmi.ErrReadOnly }

// Where the synthetic kernel image puts things, relative to _text.
const (
	synthBanner = 0x180000
	synthSCT    = 0x1c0000
	synthRead   = 0x2000
	synthTables = 0x400000
)

// synthGuest lays out a kernel image at physText: a banner, a syscall table
// and the kallsyms tables of n symbols. withTableSym lists the tables
// among the symbols, as Linux 6.12 does.
func synthGuest(t testing.TB, physText uint64, layout Layout, withTableSym bool, n int, more map[string]uint64) *ram {
	t.Helper()
	extra := map[string]uint64{
		"linux_banner":   synthBanner,
		"sys_call_table": synthSCT,
		"__x64_sys_read": synthRead,
	}
	maps.Copy(extra, more)
	opts := synthOpts{layout: layout, seqsWidth: 3}
	syms := synthSymbols(n, synthText, extra)
	tables, _ := buildKallsyms(syms, opts)
	if withTableSym {
		tables, _ = buildSelfListing(syms, opts, synthText+synthTables, 0)
	}
	m := &ram{b: make([]byte, 32<<20)}
	copy(m.b[physText+synthBanner:], "Linux version 6.1.0-synthetic")
	binary.LittleEndian.PutUint64(m.b[physText+synthSCT:], synthText+synthRead)
	copy(m.b[physText+synthTables:], tables)
	return m
}

func TestScanFindsImage(t *testing.T) {
	const physText = 0xa00000
	for _, tc := range []struct {
		name         string
		layout       Layout
		withTableSym bool
		n            int
		more         map[string]uint64
	}{
		{"6.1-like", OffsetsFirst, false, 600, nil},
		{"6.12-like", OffsetsLast, true, 600, nil},
		{"offsets-last without table symbol", OffsetsLast, false, 600, nil},
		{"6.1 seqs flush against the token table", OffsetsFirst, false, flushN, flushMore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := synthGuest(t, physText, tc.layout, tc.withTableSym, tc.n, tc.more)
			// A decoy banner 2 MiB lower makes the syscall table decide.
			copy(m.b[physText-physAlign+synthBanner:], bannerPrefix)
			// A hole in the chunk that holds the image makes the scan read it page-wise.
			m.holes = [][2]uint64{{physText - 0x100000, physText - 0x80000}}
			tab, err := Scan(m, uint64(len(m.b)))
			if err != nil {
				t.Fatal(err)
			}
			if pa, ok := tab.PhysText(); !ok || pa != physText {
				t.Fatalf("PhysText = %#x %v, want %#x", pa, ok, physText)
			}
			if pa, ok := tab.Phys(synthText + synthBanner); !ok || pa != physText+synthBanner {
				t.Errorf("Phys(linux_banner) = %#x %v", pa, ok)
			}
			if _, ok := tab.Phys(synthText - 1); ok {
				t.Error("Phys answered for an address below _text")
			}
			if slide, _ := tab.Slide(); slide != 0x2a00000 {
				t.Errorf("slide %#x", slide)
			}
		})
	}
}

// TestScanSkipsDecoy plants a copy of the tables and a banner lower in
// memory, as a guest process could: without the syscall table the copy
// does not place an image, and the scan goes on to the kernel's own.
func TestScanSkipsDecoy(t *testing.T) {
	const physText, decoyText = 0xa00000, 0
	for _, layout := range []Layout{OffsetsFirst, OffsetsLast} {
		m := synthGuest(t, physText, layout, false, 600, nil)
		copy(m.b[decoyText+synthTables:], m.b[physText+synthTables:physText+synthTables+0x100000])
		copy(m.b[decoyText+synthBanner:], bannerPrefix)
		tab, err := Scan(m, uint64(len(m.b)))
		if err != nil {
			t.Fatal(err)
		}
		if pa, _ := tab.PhysText(); pa != physText {
			t.Errorf("%v: PhysText = %#x, want %#x", layout, pa, physText)
		}
	}
}

func TestScanErrors(t *testing.T) {
	t.Run("no kernel", func(t *testing.T) {
		m := &ram{b: make([]byte, 8<<20)}
		if _, err := Scan(m, uint64(len(m.b))); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("no banner", func(t *testing.T) {
		m := synthGuest(t, 0xa00000, OffsetsFirst, false, 600, nil)
		clear(m.b[0xa00000+synthBanner : 0xa00000+synthBanner+16])
		if _, err := Scan(m, uint64(len(m.b))); !errors.Is(err, ErrNoLoadAddress) {
			t.Fatalf("err = %v, want ErrNoLoadAddress", err)
		}
	})
	t.Run("source failure", func(t *testing.T) {
		boom := errors.New("boom")
		if _, err := Scan(failing{boom}, 1<<20); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the source's error", err)
		}
	})
}

type failing struct{ err error }

func (f failing) ReadPhys([]byte, uint64) error  { return f.err }
func (f failing) WritePhys([]byte, uint64) error { return f.err }

// TestLocateFromFile writes a found table in /proc/kallsyms's form, reads
// it back as a file-given table and finds the image again; a table whose
// addresses are not the running kernel's (link-time under KASLR) is refused.
func TestLocateFromFile(t *testing.T) {
	const physText = 0xa00000
	m := synthGuest(t, physText, OffsetsFirst, false, 600, nil)
	copy(m.b[physText-physAlign+synthBanner:], bannerPrefix) // a decoy
	found, err := Scan(m, uint64(len(m.b)))
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := found.WriteKallsyms(&text); err != nil {
		t.Fatal(err)
	}
	file, err := ParseSystemMap(bytes.NewReader(text.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := file.PhysText(); ok {
		t.Fatal("a table from a file knows its physical address before Locate")
	}
	if err := file.Locate(m, uint64(len(m.b))); err != nil {
		t.Fatal(err)
	}
	if pa, ok := file.PhysText(); !ok || pa != physText || file.Len() != found.Len() {
		t.Fatalf("PhysText = %#x %v with %d symbols, want %#x with %d", pa, ok, file.Len(), physText, found.Len())
	}

	// The same symbols 16 MiB lower, as a link-time map of a KASLR kernel.
	var moved bytes.Buffer
	for _, s := range found.Symbols() {
		fmt.Fprintf(&moved, "%016x %c %s\n", s.Addr-16<<20, s.Type, s.Name)
	}
	linkTime, err := ParseSystemMap(&moved)
	if err != nil {
		t.Fatal(err)
	}
	if err := linkTime.Locate(m, uint64(len(m.b))); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Locate of moved symbols: %v, want ErrMismatch", err)
	}
}

// FuzzScan gives Scan hostile guest memory: it must come back with a table
// or an error, never panic.
func FuzzScan(f *testing.F) {
	syms := synthSymbols(300, synthText, map[string]uint64{"linux_banner": 0x100})
	for _, v := range synthVariants {
		tables, _ := buildKallsyms(syms, v.opts)
		f.Add(tables)
		f.Add(append(append(make([]byte, 0x100), bannerPrefix...), tables...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := Scan(&ram{b: b}, uint64(len(b)))
		if err == nil && tab.Len() == 0 {
			t.Fatal("found an empty table without error")
		}
	})
}

// TestScanLiveSkipsAnEarlierBoot: a reboot leaves the earlier kernel's
// image in RAM, lower than the running one's; Scan takes the first whole
// image it finds, ScanLive only the one its check says the vCPU runs.
func TestScanLiveSkipsAnEarlierBoot(t *testing.T) {
	const physText, earlier = 0xa00000, 0x200000
	m := synthGuest(t, physText, OffsetsFirst, false, 600, nil)
	copy(m.b[earlier:physText], m.b[physText:])
	if tab, err := Scan(m, uint64(len(m.b))); err != nil || mustPhys(tab) != earlier {
		t.Fatalf("Scan: %v; the test needs it to find the earlier image first", err)
	}
	running := func(tab *Table) error {
		if mustPhys(tab) != physText {
			return ErrNotLive
		}
		return nil
	}
	tab, err := ScanLive(m, uint64(len(m.b)), running)
	if err != nil || mustPhys(tab) != physText {
		t.Fatalf("ScanLive took %#x, %v; want the running image at %#x", mustPhys(tab), err, physText)
	}
	if _, err := ScanLive(m, uint64(len(m.b)), func(*Table) error { return ErrNotLive }); !errors.Is(err, ErrNotLive) {
		t.Errorf("with no running image: %v, want ErrNotLive", err)
	}
}

func mustPhys(tab *Table) uint64 {
	if tab == nil {
		return 0
	}
	pa, _ := tab.PhysText()
	return pa
}

// sparse is ram whose data is only where data says, as vmi.Sparse tells;
// it records the reads that touch anything else.
type sparse struct {
	*ram
	data    []vmi.Range
	strayed []vmi.Range
}

func (s *sparse) Data(pa, n uint64) ([]vmi.Range, error) {
	var out []vmi.Range
	for _, d := range s.data {
		if lo, hi := max(pa, d.Start), min(pa+n, d.End); lo < hi {
			out = append(out, vmi.Range{Start: lo, End: hi})
		}
	}
	return out, nil
}

func (s *sparse) ReadPhys(p []byte, pa uint64) error {
	r := vmi.Range{Start: pa, End: pa + uint64(len(p))}
	if !slices.ContainsFunc(s.data, func(d vmi.Range) bool { return d.Start <= r.Start && r.End <= d.End }) {
		s.strayed = append(s.strayed, r)
	}
	return s.ram.ReadPhys(p, pa)
}

// TestScanReadsOnlyData: a scan of memory that says where its data is
// reads nothing else (a read elsewhere could make the host allocate it).
func TestScanReadsOnlyData(t *testing.T) {
	const physText = 0xa00000
	m := synthGuest(t, physText, OffsetsFirst, false, 600, nil)
	s := &sparse{ram: m, data: []vmi.Range{
		{Start: 0x1000, End: 0x3000},
		{Start: physText, End: physText + synthTables + 0x100000},
	}}
	tab, err := Scan(s, uint64(len(m.b)))
	if err != nil || mustPhys(tab) != physText {
		t.Fatalf("Scan: %#x, %v", mustPhys(tab), err)
	}
	if len(s.strayed) > 0 {
		t.Errorf("%d reads outside the data, first %x", len(s.strayed), s.strayed[0])
	}
}

// TestScanRangesLooksThereOnly plants a whole second image lower in
// memory, which Scan takes; ScanRanges over the running image's range
// finds that one.
func TestScanRangesLooksThereOnly(t *testing.T) {
	const physText, other = 0xa00000, 0x200000
	m := synthGuest(t, physText, OffsetsFirst, false, 600, nil)
	copy(m.b[other:physText], m.b[physText:])
	if mustPhys(mustScan(t, m)) != other {
		t.Fatal("the test needs Scan to find the other image first")
	}
	image := []vmi.Range{{Start: physText, End: physText + 8<<20}}
	tab, err := ScanRanges(m, uint64(len(m.b)), image, nil)
	if err != nil || mustPhys(tab) != physText {
		t.Fatalf("ScanRanges took %#x, %v; want the image at %#x", mustPhys(tab), err, physText)
	}
}

// TestScanDecodesOnce: the same tables found again share the symbols
// decoded the first time; a table differing in one byte is decoded anew.
func TestScanDecodesOnce(t *testing.T) {
	const physText = 0xa00000
	m := synthGuest(t, physText, OffsetsLast, true, 600, nil)
	a, b := mustScan(t, m), mustScan(t, m)
	if &a.Symbols()[0] != &b.Symbols()[0] {
		t.Error("the second scan decoded the same tables again")
	}
	// The last byte of the names' data: a symbol's name changes.
	names, _ := a.Lookup("kallsyms_names")
	i := physText + (names - synthText) + 8
	m.b[i]++
	c := mustScan(t, m)
	if &a.Symbols()[0] == &c.Symbols()[0] {
		t.Error("changed tables answered from the cache")
	}
}

func mustScan(t *testing.T, m vmi.PhysMem) *Table {
	t.Helper()
	tab, err := Scan(m, 32<<20)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestDecoysCannotBlind: a guest user can fill memory with copies of the
// kernel's token table, enough to make a sweep give up; the scan of the
// image the vCPU maps never looks at them.
func TestDecoysCannotBlind(t *testing.T) {
	const physText = 0x1400000
	m := synthGuest(t, physText, OffsetsFirst, false, 600, nil)
	tab := mustScan(t, m)
	tt, ok := tab.Lookup("kallsyms_token_table")
	if !ok {
		tt = synthText + synthTables // the token table opens this layout's tables
	}
	tokens := m.b[physText+(tt-synthText):][:0x10000]
	for i := range maxTables + 1 {
		copy(m.b[0x10000+uint64(i)*0x10000*2:], tokens)
	}
	if _, err := Scan(m, uint64(len(m.b))); err == nil {
		t.Fatal("the sweep was not blinded: the test's decoys do not work")
	}
	image := []vmi.Range{{Start: physText, End: physText + 8<<20}}
	if tab, err := ScanRanges(m, uint64(len(m.b)), image, nil); err != nil || mustPhys(tab) != physText {
		t.Fatalf("ScanRanges over the image: %#x, %v", mustPhys(tab), err)
	}
}
