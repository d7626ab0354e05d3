package ksym

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSystemMap(t *testing.T) {
	const procKallsyms = `0000000000000000 A fixed_percpu_data
000000000001fb80 A current_task
ffffffff9c000000 T startup_64
ffffffff9c000000 T _text
ffffffff9c000040 t helper
ffffffff9c000080 T entry_SYSCALL_64

ffffffff9f430000 B _end
ffffffffc0a01000 t nf_hook	[nf_tables]
`
	tab, err := ParseSystemMap(strings.NewReader(procKallsyms))
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 7 {
		t.Errorf("%d symbols, want 7 (the module symbol skipped)", tab.Len())
	}
	if a, ok := tab.Lookup("entry_SYSCALL_64"); !ok || a != 0xffffffff9c000080 {
		t.Errorf("entry_SYSCALL_64 = %#x %v", a, ok)
	}
	if slide, ok := tab.Slide(); !ok || slide != 0x1b000000 {
		t.Errorf("slide = %#x %v, want 0x1b000000", slide, ok)
	}
	if name, off, ok := tab.Nearest(0xffffffff9c000001); !ok || name != "startup_64" || off != 1 {
		t.Errorf("Nearest = %q+%d %v, want the first of two symbols at one address", name, off, ok)
	}
	if _, ok := tab.PhysText(); ok {
		t.Error("a symbol map cannot know the physical load address")
	}
}

func TestParseSystemMapErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want error
	}{
		"hidden":     {"0000000000000000 T _text\n0000000000000000 T _stext\n", ErrHiddenAddresses},
		"empty":      {"\n\n", ErrNotFound},
		"bad type":   {"ffffffff81000000 ? _text\n", nil},
		"bad addr":   {"zzzz T _text\n", nil},
		"short line": {"ffffffff81000000 T\n", nil},
		"long line":  {"ffffffff81000000 T " + strings.Repeat("x", 2*maxLineLen) + "\n", nil},
		"raw escape": {"ffffffff81000000 T a\x1b[2Jb\n", nil},
		"raw C1":     {"ffffffff81000000 T a\xc2\x9bb\n", nil},
		"bad escape": {"ffffffff81000000 T a\\qb\n", nil},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseSystemMap(strings.NewReader(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzParseSystemMap(f *testing.F) {
	f.Add("ffffffff81000000 T _text\nffffffff81000010 t x\t[mod]\n")
	f.Add("0 A a\n")
	f.Fuzz(func(t *testing.T, s string) {
		tab, err := ParseSystemMap(strings.NewReader(s))
		if err == nil {
			for _, sym := range tab.Symbols() {
				if a, ok := tab.Lookup(sym.Name); !ok || a > sym.Addr {
					t.Fatalf("Lookup(%q) = %#x %v, symbol at %#x", sym.Name, a, ok, sym.Addr)
				}
			}
		}
	})
}

// TestWriteKallsymsHostileNames: names decoded from guest memory are the
// guest's bytes. Written, they must not drive a terminal nor forge lines
// (a newline then an entry_SYSCALL_64 line that --symbols would read back),
// and the file must read back to the same names.
func TestWriteKallsymsHostileNames(t *testing.T) {
	names := []string{
		"_text",
		"evil\nffffffff81000000 T entry_SYSCALL_64",
		"\x1b]52;c;cHduZWQ=\x07clip",
		"\x1b[2Jclear",
		"two words\t[mod]",
		`back\slash"quote`,
		"\x7f\xc2\x9b\xe2\x80\xae",
	}
	var syms []Symbol
	for i, n := range names {
		syms = append(syms, Symbol{Name: n, Addr: 0xffffffff9c000000 + uint64(i)*16, Type: 'T'})
	}
	var out strings.Builder
	if err := newTable(syms).WriteKallsyms(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for i := 0; i < len(text); i++ {
		if c := text[i]; (c < 0x20 || c > 0x7e) && c != '\n' {
			t.Fatalf("byte %#x written in %q", c, text)
		}
	}
	if n := strings.Count(text, "\n"); n != len(names) {
		t.Fatalf("%d lines for %d symbols:\n%s", n, len(names), text)
	}
	back, err := ParseSystemMap(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if back.Len() != len(names) {
		t.Fatalf("read back %d symbols, want %d", back.Len(), len(names))
	}
	for i, n := range names {
		if a, ok := back.Lookup(n); !ok || a != syms[i].Addr {
			t.Errorf("read back %q at %#x %v", n, a, ok)
		}
	}
	if _, ok := back.Lookup("entry_SYSCALL_64"); ok {
		t.Error("a forged entry_SYSCALL_64 line was read back")
	}
}
