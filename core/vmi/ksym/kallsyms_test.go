package ksym

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const synthText = LinkText + 0x2a00000 // a KASLR slide of 42 MiB

var synthVariants = []struct {
	name string
	opts synthOpts
}{
	{"offsets-first", synthOpts{layout: OffsetsFirst}},
	{"offsets-first+seqs3 (Debian 6.1)", synthOpts{layout: OffsetsFirst, seqsWidth: 3}},
	{"offsets-first+seqs4 (6.2)", synthOpts{layout: OffsetsFirst, seqsWidth: 4}},
	{"offsets-last (6.4+)", synthOpts{layout: OffsetsLast}},
}

// embed surrounds the tables with unrelated bytes, including a decoy run of
// digit tokens, as in a real kernel's .rodata.
func embed(tables []byte) []byte {
	pre := bytes.Repeat([]byte("\x00\x01junk"), 1024)
	pre = append(pre, digitTokens...)
	for len(pre)%8 != 0 {
		pre = append(pre, 0xcc)
	}
	out := append(pre, tables...)
	return append(out, bytes.Repeat([]byte{0xff}, 4096)...)
}

func TestDecodeSynthetic(t *testing.T) {
	syms := synthSymbols(700, synthText, map[string]uint64{"linux_banner": 0x200000})
	for _, v := range synthVariants {
		t.Run(v.name, func(t *testing.T) {
			tables, _ := buildKallsyms(syms, v.opts)
			tab, err := Decode(embed(tables))
			if err != nil {
				t.Fatal(err)
			}
			if tab.Layout() != v.opts.layout {
				t.Errorf("layout %v, want %v", tab.Layout(), v.opts.layout)
			}
			if tab.Len() != len(syms) {
				t.Fatalf("%d symbols, want %d", tab.Len(), len(syms))
			}
			for i, s := range tab.Symbols() {
				w := syms[i]
				if s.Name != w.name || s.Addr != w.addr || s.Type != w.typ {
					t.Fatalf("symbol %d = %q %c %#x, want %q %c %#x", i, s.Name, s.Type, s.Addr, w.name, w.typ, w.addr)
				}
			}
			if slide, ok := tab.Slide(); !ok || slide != 0x2a00000 {
				t.Errorf("slide %#x %v, want 0x2a00000", slide, ok)
			}
		})
	}
}

// flushN symbols with flushMore end kallsyms_seqs_of_names flush against
// the token table with a nonzero byte, as in Debian's 6.1.0-47-rt-amd64:
// 3 bytes a symbol for a multiple of 8 symbols leave no padding, and the
// last entry, the index of the name that sorts last, is 69998: its top
// byte is 1.
const flushN = 70000

var flushMore = map[string]uint64{"zzz_sorts_last": 0xf00000}

func TestDecodeSeqsFlushAgainstTokenTable(t *testing.T) {
	syms := synthSymbols(flushN, synthText, flushMore)
	opts := synthOpts{layout: OffsetsFirst, seqsWidth: 3}
	tables, lay := buildKallsyms(syms, opts)
	if seqsEnd := lay.tokenTable - 3*flushN; seqsEnd%8 != 0 || tables[lay.tokenTable-1] == 0 {
		t.Fatalf("the test tables do not end kallsyms_seqs_of_names flush with a nonzero byte (%#x)", tables[lay.tokenTable-1])
	}
	tab, err := Decode(embed(tables))
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != flushN || tab.Layout() != OffsetsFirst {
		t.Fatalf("%d symbols, layout %v; want %d, %v", tab.Len(), tab.Layout(), flushN, OffsetsFirst)
	}
	if a, ok := tab.Lookup("zzz_sorts_last"); !ok || a != synthText+flushMore["zzz_sorts_last"] {
		t.Errorf("zzz_sorts_last = %#x %v", a, ok)
	}
}

func TestTableLookups(t *testing.T) {
	syms := synthSymbols(300, synthText, map[string]uint64{"linux_banner": 0x200000})
	tables, _ := buildKallsyms(syms, synthOpts{layout: OffsetsLast})
	tab, err := Decode(tables)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := tab.Lookup("current_task"); !ok || a != 0x1fb80 {
		t.Errorf("current_task = %#x %v, want the absolute per-cpu offset 0x1fb80", a, ok)
	}
	if _, ok := tab.Lookup("no_such_symbol"); ok {
		t.Error("found a symbol that does not exist")
	}
	tests := []struct {
		addr uint64
		name string
		off  uint64
		ok   bool
	}{
		{synthText, "_text", 0, true},
		{synthText + 0x1000 + 0x40 + 3, "sym_1", 3, true},
		{synthText + 0x200000 + 0x10, "linux_banner", 0x10, true},
		{synthText + 0x1000000, "", 0, false}, // _end and above: not the image
		{0xffffffffc0001000, "", 0, false},    // a module address
	}
	for _, tc := range tests {
		name, off, ok := tab.Nearest(tc.addr)
		if name != tc.name || off != tc.off || ok != tc.ok {
			t.Errorf("Nearest(%#x) = %q+%#x %v, want %q+%#x %v", tc.addr, name, off, ok, tc.name, tc.off, tc.ok)
		}
	}
}

// TestDecodeRejectsDamage checks that damaged tables are refused and that
// the error names the check that failed.
func TestDecodeRejectsDamage(t *testing.T) {
	syms := synthSymbols(700, synthText, nil)
	tables, lay := buildKallsyms(syms, synthOpts{layout: OffsetsLast})
	damage := map[string]struct {
		f    func(b []byte) []byte
		want string
	}{
		"no tables": {func([]byte) []byte { return bytes.Repeat([]byte("0\x001\x00"), 100) }, "kallsyms tables not found"},
		"digits only": {func([]byte) []byte { return bytes.Repeat(digitTokens, 100) },
			"token index starts at"},
		"truncated in offsets": {func(b []byte) []byte { return b[:lay.offsets+100] },
			"offsets-last: offsets or relative base outside the bytes searched"},
		"token index broken": {func(b []byte) []byte { b[lay.tokenTable+700] ^= 0xff; return b },
			"token index disagrees with the tokens"},
		"token index padding": {func(b []byte) []byte { b[lay.offsets-512-1] = 1; return b },
			"nonzero padding between the tokens and the token index"},
		"relative base user-space": {func(b []byte) []byte { b[lay.relBase+7] = 0; return b },
			"relative base 0xffffff83a00000 is not a kernel address"},
		"unsorted offsets": {func(b []byte) []byte { copy(b[lay.offsets+4*500:], []byte{0xff, 0xff, 0xff, 0x80}); return b },
			"address 500 is below the one before"},
		"markers broken": {func(b []byte) []byte { b[lay.markers+7] = 0x7f; return b },
			"no kallsyms_names before the token table (no kallsyms_markers"},
		"marker misses its name": {func(b []byte) []byte { b[lay.markers+4]++; return b },
			"1 of them with names that miss their markers"},
		"names broken": {func(b []byte) []byte { b[lay.names]++; return b },
			"1 of them with names that miss their markers"},
		"num_syms one short": {func(b []byte) []byte { b[lay.names-8]--; return b },
			"1 of them with names that miss their markers"},
	}
	for name, tc := range damage {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(tc.f(bytes.Clone(tables)))
			if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrNotFound or ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestDecodeChecksSelfListing checks tables that list themselves (Linux
// 6.12 does) against where they were found.
func TestDecodeChecksSelfListing(t *testing.T) {
	syms := synthSymbols(700, synthText, nil)
	opts := synthOpts{layout: OffsetsLast}
	at := uint64(synthText + 0x800000)
	good, _ := buildSelfListing(syms, opts, at, 0)
	if _, err := Decode(good); err != nil {
		t.Fatal(err)
	}
	bad, _ := buildSelfListing(syms, opts, at, 8)
	if _, err := Decode(bad); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "symbol kallsyms_names is at") {
		t.Fatalf("err = %v, want kallsyms_names named as misplaced", err)
	}
}

func FuzzDecode(f *testing.F) {
	syms := synthSymbols(300, synthText, nil)
	for _, v := range synthVariants {
		tables, _ := buildKallsyms(syms, v.opts)
		f.Add(tables)
		f.Add(tables[:len(tables)/2])
	}
	flush, _ := buildKallsyms(synthSymbols(seqsFlushN, synthText, nil), synthOpts{layout: OffsetsFirst, seqsWidth: 3})
	f.Add(flush)
	f.Add(digitTokens)
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := Decode(b)
		if err == nil && tab.Len() == 0 {
			t.Fatal("decoded an empty table without error")
		}
	})
}

// seqsFlushN symbols take 3*seqsFlushN bytes of kallsyms_seqs_of_names, a
// multiple of 8: the seqs end flush against the token table.
const seqsFlushN = 304

// FuzzDecodeSeqsContent fills kallsyms_seqs_of_names, which the decoder
// does not read, with arbitrary bytes: whatever the table before the token
// table ends with, the tables must be found.
func FuzzDecodeSeqsContent(f *testing.F) {
	syms := synthSymbols(seqsFlushN, synthText, nil)
	tables, lay := buildKallsyms(syms, synthOpts{layout: OffsetsFirst, seqsWidth: 3})
	if lay.tokenTable-3*seqsFlushN != align8(lay.markers+4*((seqsFlushN+255)/256)) {
		f.Fatal("the seqs do not end flush against the token table")
	}
	f.Add([]byte{0xff})
	f.Add(digitTokens)
	f.Add(bytes.Repeat([]byte{0}, 3*seqsFlushN))
	f.Fuzz(func(t *testing.T, fill []byte) {
		fill = fill[max(0, len(fill)-3*seqsFlushN):]
		b := bytes.Clone(tables)
		copy(b[lay.tokenTable-len(fill):], fill)
		tab, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if tab.Len() != seqsFlushN {
			t.Fatalf("%d symbols, want %d", tab.Len(), seqsFlushN)
		}
	})
}

func TestDecodeBoundsTokenTables(t *testing.T) {
	tables, lay := buildKallsyms(synthSymbols(300, synthText, nil), synthOpts{layout: OffsetsLast})
	// Token tables back to back: nothing separates one from the index before.
	one := tables[lay.tokenTable:lay.offsets]
	if _, err := Decode(bytes.Repeat(one, maxTables)); errors.Is(err, errTooManyTables) {
		t.Fatalf("%d token tables: %v", maxTables, err)
	}
	if _, err := Decode(bytes.Repeat(one, maxTables+1)); !errors.Is(err, errTooManyTables) {
		t.Fatalf("%d token tables: err = %v, want errTooManyTables", maxTables+1, err)
	}
}
