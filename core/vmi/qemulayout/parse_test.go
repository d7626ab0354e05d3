package qemulayout

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// transcript reads a testdata file of "### command" headers and answers.
func transcript(t testing.TB, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, part := range strings.Split(string(b), "### ")[1:] {
		cmd, answer, _ := strings.Cut(part, "\n")
		out[cmd] = answer
	}
	return out
}

func TestParseFlatView(t *testing.T) {
	for _, c := range []struct {
		file   string
		n      int
		checks []Region
	}{
		{"lab-i440fx-256m.txt", 9, []Region{
			{Start: 0, Size: 0xc3000, Kind: "ram", Name: "pc.ram"},
			{Start: 0xc3000, Size: 0x25000, Kind: "rom", Name: "pc.ram", Offset: 0xc3000},
			{Start: 0x100000, Size: 0xff00000, Kind: "ram", Name: "pc.ram", Offset: 0x100000},
			{Start: 0xfee00000, Size: 0x100000, Priority: 4096, Kind: "i/o", Name: "apic-msi"},
			{Start: 0xfffc0000, Size: 0x40000, Kind: "rom", Name: "pc.bios"},
		}},
		{"q35-5g.txt", 25, []Region{
			{Start: 0x100000, Size: 0x7ff00000, Kind: "ram", Name: "pc.ram", Offset: 0x100000},
			{Start: 0xfd000000, Size: 0x1000000, Priority: 1, Kind: "ram", Name: "vga.vram"},
			{Start: 0xfebf0400, Size: 0x20, Kind: "i/o", Name: "vga ioports remapped"},
			{Start: 0x100000000, Size: 0xc0000000, Kind: "ram", Name: "pc.ram", Offset: 0x80000000},
		}},
	} {
		rs, err := ParseFlatView(transcript(t, c.file)["info mtree -f"], "memory")
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if len(rs) != c.n {
			t.Errorf("%s: %d ranges, want %d", c.file, len(rs), c.n)
		}
		for _, want := range c.checks {
			found := false
			for _, r := range rs {
				found = found || r == want
			}
			if !found {
				t.Errorf("%s: no range %+v in %+v", c.file, want, rs)
			}
		}
	}
	// The I/O address space is another flat view; an unknown one is an error.
	io, err := ParseFlatView(transcript(t, "q35-5g.txt")["info mtree -f"], "I/O")
	if err != nil || len(io) == 0 || io[0].Name != "dma-chan" {
		t.Errorf("I/O view: %v, %v", io, err)
	}
	if _, err := ParseFlatView(transcript(t, "q35-5g.txt")["info mtree -f"], "nonesuch"); !errors.Is(err, ErrNoFlatView) {
		t.Errorf("unknown AS: err = %v", err)
	}
	broken := " AS \"memory\", root: system\n Root memory region: system\n  0000000000000000-zz (prio 0, ram): x\n"
	if _, err := ParseFlatView("FlatView #0\n"+broken, "memory"); !errors.Is(err, ErrSyntax) {
		t.Errorf("broken line: err = %v", err)
	}
}

// TestParseFlatViewVariants covers \r\n line ends, the KVM and nv- marks,
// and the dispatch tree `info mtree -f -d` appends.
func TestParseFlatViewVariants(t *testing.T) {
	text := "FlatView #0\r\n AS \"memory\", root: system\r\n Root memory region: system\r\n" +
		"  0000000000000000-000000000009ffff (prio 0, ram): pc.ram KVM\r\n" +
		"  0000000000100000-000000007fffffff (prio 0, nv-ram): pmem @0000000000100000 KVM\r\n" +
		"  Dispatch\r\n    Physical sections\r\n" +
		"      #1 @0000000000000000..000000000009ffff pc.ram [not dirty]\r\n" +
		"    Nodes (9 bits per level, 6 levels) ptr=[3] skip=4\r\n      [0]\r\n\t  0       skip=3  ptr=[3]\r\n" +
		"\r\nFlatView #1\r\n AS \"I/O\", root: io\r\n Root memory region: io\r\n" +
		"  0000000000000000-0000000000000007 (prio 0, i/o): dma-chan\r\n"
	rs, err := ParseFlatView(text, "memory")
	if err != nil {
		t.Fatal(err)
	}
	want := []Region{
		{Start: 0, Size: 0xa0000, Kind: "ram", Name: "pc.ram"},
		{Start: 0x100000, Size: 0x7ff00000, Kind: "ram", Name: "pmem", Offset: 0x100000},
	}
	if fmt.Sprint(rs) != fmt.Sprint(want) {
		t.Fatalf("got %+v, want %+v", rs, want)
	}
}

func TestParseRAMBlocks(t *testing.T) {
	bs, err := ParseRAMBlocks(transcript(t, "q35-5g.txt")["info ramblock"])
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 8 {
		t.Fatalf("%d blocks, want 8: %+v", len(bs), bs)
	}
	want := []RAMBlock{
		{Name: "pc.ram", PageSize: 4096, Offset: 0, Used: 0x140000000, Total: 0x140000000},
		{Name: "0000:00:01.0/vga.vram", PageSize: 4096, Offset: 0x140080000, Used: 0x1000000, Total: 0x1000000},
		{Name: "/rom@etc/acpi/tables", PageSize: 4096, Offset: 0x1410c0000, Used: 0x20000, Total: 0x200000},
	}
	for i, w := range want {
		if bs[i] != w {
			t.Errorf("block %d = %+v, want %+v", i, bs[i], w)
		}
	}
	// QEMU 8.0 and later add the host address and RO columns.
	v8 := "              Block Name    PSize              Offset               Used              Total                HVA  RO\n" +
		"                  pc.ram    2 MiB  0x0000000000000000 0x0000000400000000 0x0000000400000000 0x00007f12ebe00000  rw\n" +
		"                 pc.bios    4 KiB  0x0000000400000000 0x0000000000040000 0x0000000000040000 0x00007f12eba00000  ro\n"
	bs, err = ParseRAMBlocks(v8)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].HVA != 0x7f12ebe00000 || bs[0].PageSize != 2<<20 || bs[0].ReadOnly || !bs[1].ReadOnly {
		t.Fatalf("QEMU 8 format: %+v", bs)
	}
	if _, err := ParseRAMBlocks("unknown command: 'info ramblock'\n"); !errors.Is(err, ErrSyntax) {
		t.Errorf("no header: err = %v", err)
	}
}

func TestParseGPA2HVA(t *testing.T) {
	name, hva, err := ParseGPA2HVA(transcript(t, "q35-5g.txt")["gpa2hva 0x100000000"])
	if err != nil || name != "pc.ram" || hva != 0x7f82f3e00000 {
		t.Fatalf("got %q %#x %v", name, hva, err)
	}
	for _, text := range []string{
		"Memory at address 0xb0000000 is not RAM\r\n",
		"No memory is mapped at address 0x80000000\n",
	} {
		if _, _, err := ParseGPA2HVA(text); !errors.Is(err, ErrNotRAM) {
			t.Errorf("%q: err = %v, want ErrNotRAM", text, err)
		}
	}
	if _, _, err := ParseGPA2HVA("unknown command: 'gpa2hva'"); !errors.Is(err, ErrSyntax) {
		t.Errorf("err = %v, want ErrSyntax", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, file := range []string{"lab-i440fx-256m.txt", "q35-5g.txt"} {
		for _, text := range transcript(f, file) {
			f.Add(text)
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		rs, err := ParseFlatView(text, "memory")
		for _, r := range rs {
			if err == nil && (r.Size == 0 || r.Start+r.Size-1 < r.Start) {
				t.Fatalf("bad range %+v", r)
			}
		}
		ParseRAMBlocks(text)
		ParseGPA2HVA(text)
	})
}
