package qemulayout

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"nitro/core/vmi/physmem"
)

// fakeHMP answers from a transcript, as QEMU did, with optional overrides.
func fakeHMP(t *testing.T, file string, override map[string]string) HMP {
	answers := transcript(t, file)
	return func(cmd string) (string, error) {
		if a, ok := override[cmd]; ok {
			return a, nil
		}
		a, ok := answers[cmd]
		if !ok {
			return "", fmt.Errorf("fake: no answer to %q", cmd)
		}
		return a, nil
	}
}

func TestRangesLab(t *testing.T) {
	rs, err := Ranges(fakeHMP(t, "lab-i440fx-256m.txt", nil))
	if err != nil {
		t.Fatal(err)
	}
	const base = 0x7fdc67e00000 // gpa2hva of guest-physical 0
	want := []physmem.Range{
		{GPA: 0, Size: 0xc3000, Off: base, Name: "pc.ram"},
		{GPA: 0xc3000, Size: 0x25000, Off: base + 0xc3000, ReadOnly: true, Name: "pc.ram"},
		{GPA: 0xe8000, Size: 0x8000, Off: base + 0xe8000, Name: "pc.ram"},
		{GPA: 0xf0000, Size: 0x10000, Off: base + 0xf0000, ReadOnly: true, Name: "pc.ram"},
		{GPA: 0x100000, Size: 0xff00000, Off: base + 0x100000, Name: "pc.ram"},
		{GPA: 0xfffc0000, Size: 0x40000, Off: 0x7fdcbc400000, ReadOnly: true, Name: "pc.bios"},
	}
	if fmt.Sprint(rs) != fmt.Sprint(want) {
		t.Fatalf("got\n%+v\nwant\n%+v", rs, want)
	}
}

// TestRangesAsksPerBlock: gpa2hva is asked twice per RAM block, not per
// range, since attach waits on every round trip through libvirt.
func TestRangesAsksPerBlock(t *testing.T) {
	answer := fakeHMP(t, "lab-i440fx-256m.txt", nil)
	var asked []string
	rs, err := Ranges(func(cmd string) (string, error) {
		if strings.HasPrefix(cmd, "gpa2hva ") {
			asked = append(asked, cmd)
		}
		return answer(cmd)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"gpa2hva 0x0", "gpa2hva 0xfffffff", "gpa2hva 0xfffc0000", "gpa2hva 0xffffffff"}
	if fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Fatalf("%d ranges took %q, want %q", len(rs), asked, want)
	}
}

// TestRangesSharedName: when two RAM blocks carry a region's name, each of
// its ranges is placed by its own gpa2hva answers.
func TestRangesSharedName(t *testing.T) {
	blocks := transcript(t, "lab-i440fx-256m.txt")["info ramblock"] +
		"   0000:00:02.0/pc.ram    4 KiB  0x0000000010060000 0x0000000000010000 0x0000000000010000\n"
	answer := fakeHMP(t, "lab-i440fx-256m.txt", map[string]string{"info ramblock": blocks})
	asked := 0
	rs, err := Ranges(func(cmd string) (string, error) {
		if strings.HasPrefix(cmd, "gpa2hva ") {
			asked++
		}
		return answer(cmd)
	})
	if err != nil {
		t.Fatal(err)
	}
	if asked != 2*len(rs) {
		t.Errorf("%d gpa2hva for %d ranges, want two each", asked, len(rs))
	}
	if rs[4].Off != 0x7fdc67e00000+0x100000 {
		t.Errorf("pc.ram above 1 MiB at host %#x", rs[4].Off)
	}
}

func TestRangesAbove4G(t *testing.T) {
	rs, err := Ranges(fakeHMP(t, "q35-5g.txt", nil))
	if err != nil {
		t.Fatal(err)
	}
	byGPA := map[uint64]physmem.Range{}
	for _, r := range rs {
		byGPA[r.GPA] = r
	}
	// RAM above 4 GiB continues pc.ram where the part below the hole ends.
	low, high := byGPA[0x100000], byGPA[0x100000000]
	if low.Off != 0x7f8273f00000 || high.Off != 0x7f82f3e00000 || high.Size != 0xc0000000 || high.ReadOnly {
		t.Fatalf("low %+v high %+v", low, high)
	}
	if high.Off != low.Off-0x100000+0x80000000 {
		t.Fatal("above-4G RAM is not at offset 2 GiB of pc.ram")
	}
	if v := byGPA[0xfd000000]; v.Name != "vga.vram" || v.Off != 0x7f8272200000 {
		t.Fatalf("VGA BAR %+v", v)
	}
	if len(rs) != 10 {
		t.Fatalf("%d ranges: %+v", len(rs), rs)
	}
}

func TestRangesMismatch(t *testing.T) {
	for name, override := range map[string]map[string]string{
		"not contiguous": {"gpa2hva 0xfffffff": "Host virtual address for 0xfffffff (pc.ram) is 0x7fdc87dfffff\n"},
		"other region":   {"gpa2hva 0x0": "Host virtual address for 0x0 (pc.bios) is 0x7fdc67e00000\n"},
		"block too small": {"info ramblock": strings.Replace(transcript(t, "lab-i440fx-256m.txt")["info ramblock"],
			"0x0000000010000000 0x0000000010000000", "0x0000000001000000 0x0000000010000000", 1)},
	} {
		_, err := Ranges(fakeHMP(t, "lab-i440fx-256m.txt", override))
		if !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: err = %v, want ErrMismatch", name, err)
		}
	}
	_, err := Ranges(fakeHMP(t, "lab-i440fx-256m.txt", map[string]string{"gpa2hva 0x0": "No memory is mapped at address 0x0\n"}))
	if !errors.Is(err, ErrNotRAM) {
		t.Errorf("err = %v, want ErrNotRAM", err)
	}
}
