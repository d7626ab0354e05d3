package ksym

import (
	"bytes"
	"errors"
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

func TestDecodeRejectsDamage(t *testing.T) {
	syms := synthSymbols(700, synthText, nil)
	tables, lay := buildKallsyms(syms, synthOpts{layout: OffsetsLast})
	damage := map[string]func(b []byte) []byte{
		"no tables":            func([]byte) []byte { return bytes.Repeat([]byte("0\x001\x00"), 100) },
		"truncated in offsets": func(b []byte) []byte { return b[:lay.offsets+100] },
		"token index broken":   func(b []byte) []byte { b[lay.tokenTable+700] ^= 0xff; return b },
		"relative base user-space": func(b []byte) []byte {
			b[lay.relBase+7] = 0
			return b
		},
		"many token tables": func(b []byte) []byte {
			// Token table and index, then 8 zero bytes so the next token
			// table starts after a NUL.
			tables := append(bytes.Clone(b[lay.tokenTable:lay.offsets]), make([]byte, 8)...)
			return bytes.Repeat(tables, maxTables+1)
		},
		"unsorted offsets": func(b []byte) []byte {
			copy(b[lay.offsets+4*500:], []byte{0xff, 0xff, 0xff, 0x80})
			return b
		},
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(f(bytes.Clone(tables)))
			if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrNotFound or ErrMalformed", err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	syms := synthSymbols(300, synthText, nil)
	for _, v := range synthVariants {
		tables, _ := buildKallsyms(syms, v.opts)
		f.Add(tables)
		f.Add(tables[:len(tables)/2])
	}
	f.Add(digitTokens)
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := Decode(b)
		if err == nil && tab.Len() == 0 {
			t.Fatal("decoded an empty table without error")
		}
	})
}

func TestDecodeBoundsTokenTables(t *testing.T) {
	tables, lay := buildKallsyms(synthSymbols(300, synthText, nil), synthOpts{layout: OffsetsLast})
	one := append(bytes.Clone(tables[lay.tokenTable:lay.offsets]), make([]byte, 8)...)
	if _, err := Decode(bytes.Repeat(one, maxTables)); errors.Is(err, errTooManyTables) {
		t.Fatalf("%d token tables: %v", maxTables, err)
	}
	if _, err := Decode(bytes.Repeat(one, maxTables+1)); !errors.Is(err, errTooManyTables) {
		t.Fatalf("%d token tables: err = %v, want errTooManyTables", maxTables+1, err)
	}
}
