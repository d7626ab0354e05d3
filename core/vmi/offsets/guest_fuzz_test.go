package offsets

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"nitro/core/vmi/ksym"
	"nitro/internal/elftest"
)

// Where FuzzFromGuest's kernel image lies: _text's physical address, and
// its size (_end).
const (
	fuzzPhysText = 0x100000
	fuzzImage    = 0x100000
)

// placedSyms is a symbol table for an image at fuzzPhysText, as Scan would
// return it: _text, linux_banner and the BTF bounds at the given distances
// from _text. A symbol map knows no physical address, so the table goes
// through ksym's cache encoding with its head's placement set (has phys at
// byte 9, phys text at 16): the one way besides a scan to a placed table.
func placedSyms(t *testing.T, banner, start, stop uint32) *ksym.Table {
	var m strings.Builder
	for _, s := range []struct {
		name string
		off  uint64
	}{{"_text", 0}, {"linux_banner", uint64(banner)}, {"__start_BTF", uint64(start)}, {"__stop_BTF", uint64(stop)}, {"_end", fuzzImage}} {
		fmt.Fprintf(&m, "%016x D %s\n", ksym.LinkText+s.off, s.name)
	}
	tab, err := ksym.ParseSystemMap(strings.NewReader(m.String()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b[9] = 1
	binary.LittleEndian.PutUint64(b[16:], fuzzPhysText)
	if err := tab.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return tab
}

// FuzzFromGuest: the kernel image in guest memory, its BTF and banner, are
// the guest's, and so are the symbols that bound them (found by a scan of
// that memory). Offsets that validate or an error, never a panic; the read
// is bounded by maxBTFSize whatever the symbols say.
func FuzzFromGuest(f *testing.F) {
	for _, hot := range []bool{false, true} {
		raw := synthBTF(f, hot)
		image := append(make([]byte, 0x1000), raw...)
		copy(image[0x100:], "Linux version 6.1.0-fuzz (gcc) #1 SMP\n")
		f.Add(image, uint32(0x100), uint32(0x1000), uint32(0x1000+len(raw)))
	}
	f.Add([]byte("Linux version"), uint32(0), uint32(0), uint32(maxBTFSize+1))
	f.Add([]byte{}, uint32(0x100), uint32(0x80000), uint32(0x80000+maxBTFSize))
	f.Fuzz(func(t *testing.T, image []byte, banner, start, stop uint32) {
		mem := make(ram, fuzzPhysText+fuzzImage)
		copy(mem[fuzzPhysText:], image)
		o, err := FromGuest(mem, placedSyms(t, banner, start, stop), "")
		if err != nil {
			return
		}
		if stop-start > maxBTFSize || stop <= start {
			t.Fatalf("read BTF from %#x to %#x", start, stop)
		}
		if verr := o.Validate(); verr != nil {
			t.Fatalf("offsets that do not validate: %v", verr)
		}
		if len(o.Kernel) > maxBannerLen {
			t.Fatalf("a %d-byte banner", len(o.Kernel))
		}
	})
}

// FuzzFromVmlinux gives FromVmlinux what --symbols or a kernel matrix may
// name: an ELF whose headers and .BTF section are damaged.
func FuzzFromVmlinux(f *testing.F) {
	for _, hot := range []bool{false, true} {
		f.Add(elftest.Vmlinux(0x1000000,
			elftest.Section{Name: ".text", Addr: ksym.LinkText, Data: []byte{0xcc, 0xc3}},
			elftest.Section{Name: ".BTF", Addr: ksym.LinkText + 0x1000, Data: synthBTF(f, hot)}))
	}
	f.Add(elftest.Vmlinux(0x1000000))
	f.Fuzz(func(t *testing.T, image []byte) {
		o, err := FromVmlinux(image)
		if err != nil {
			if errors.Is(err, ErrNoBTF) && o != nil {
				t.Fatal("offsets with ErrNoBTF")
			}
			return
		}
		if verr := o.Validate(); verr != nil {
			t.Fatalf("offsets that do not validate: %v", verr)
		}
	})
}
