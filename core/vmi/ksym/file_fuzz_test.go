package ksym

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"nitro/internal/elftest"
)

// FuzzFromVmlinux gives FromVmlinux what --symbols may name: an ELF whose
// headers and kallsyms tables are damaged. An error or a table, never a
// panic; a table places _text inside the segment it was read from.
func FuzzFromVmlinux(f *testing.F) {
	syms := synthSymbols(300, LinkText, map[string]uint64{"linux_banner": 0x100})
	for _, v := range synthVariants {
		tables, _ := buildKallsyms(syms, v.opts)
		f.Add(elftest.Vmlinux(0x1000000, elftest.Section{Name: ".rodata", Addr: LinkText, Data: tables}))
	}
	f.Add(elftest.Vmlinux(0x1000000))
	f.Fuzz(func(t *testing.T, image []byte) {
		tab, err := FromVmlinux(image)
		if err != nil {
			return
		}
		if tab.Len() == 0 {
			t.Fatal("an empty table without error")
		}
		if pa, ok := tab.PhysText(); ok {
			if _, ok := tab.Phys(mustText(t, tab)); !ok {
				t.Fatalf("PhysText %#x, but _text has no physical address", pa)
			}
		}
	})
}

func mustText(t *testing.T, tab *Table) uint64 {
	text, ok := tab.Text()
	if !ok {
		t.Fatal("a placed table without _text")
	}
	return text
}

// FuzzLocate gives Locate a hostile symbol file (/proc/kallsyms or
// System.map text) for a guest's memory: an error, or a placement that
// Placed confirms. The guest's decoy banner one alignment lower must not
// fool it.
func FuzzLocate(f *testing.F) {
	// One guest for every run: building its 32 MiB would cost the fuzzer
	// more than Locate does. Locate only reads it.
	m := synthGuest(f, 0xa00000, OffsetsFirst, false, 400, nil)
	copy(m.b[0xa00000-physAlign+synthBanner:], bannerPrefix)
	found, err := Scan(m, uint64(len(m.b)))
	if err != nil {
		f.Fatal(err)
	}
	var text, moved bytes.Buffer
	if err := found.WriteKallsyms(&text); err != nil {
		f.Fatal(err)
	}
	for _, s := range found.Symbols() {
		fmt.Fprintf(&moved, "%016x %c %s\n", s.Addr-16<<20, s.Type, s.Name)
	}
	f.Add(text.Bytes())
	f.Add(moved.Bytes())
	f.Add([]byte("ffffffff81000000 T _text\nffffffff81180000 D linux_banner\nffffffff811c0000 D sys_call_table\nffffffff81002000 T __x64_sys_read\n"))
	f.Fuzz(func(t *testing.T, file []byte) {
		tab, err := ParseSystemMap(bytes.NewReader(file))
		if err != nil {
			return
		}
		if err := tab.Locate(m, uint64(len(m.b))); err != nil {
			if !errors.Is(err, ErrMismatch) && !errors.Is(err, ErrNoLoadAddress) {
				t.Fatalf("Locate: %v wraps neither ErrMismatch nor ErrNoLoadAddress", err)
			}
			return
		}
		if err := tab.Placed(m, uint64(len(m.b))); err != nil {
			t.Fatalf("Locate placed the image at a place Placed refuses: %v", err)
		}
	})
}
