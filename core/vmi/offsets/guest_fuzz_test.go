package offsets

import (
	"encoding/binary"
	"errors"
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
// from _text. It goes through ksym's cache encoding, the one way besides a
// scan to a table that knows its physical address.
func placedSyms(t *testing.T, banner, start, stop uint32) *ksym.Table {
	syms := []struct {
		name string
		off  uint64
	}{{"_text", 0}, {"linux_banner", uint64(banner)}, {"__start_BTF", uint64(start)}, {"__stop_BTF", uint64(stop)}, {"_end", fuzzImage}}
	le := binary.LittleEndian
	b := append([]byte("NKSYMS01"), 0, 1, 0, 0) // layout, has phys
	b = le.AppendUint32(b, uint32(len(syms)))
	b = le.AppendUint64(b, fuzzPhysText)
	for _, s := range syms {
		b = le.AppendUint64(b, ksym.LinkText+s.off)
	}
	for range syms {
		b = append(b, 'D')
	}
	end := 0
	for _, s := range syms {
		end += len(s.name)
		b = le.AppendUint32(b, uint32(end))
	}
	for _, s := range syms {
		b = append(b, s.name...)
	}
	var tab ksym.Table
	if err := tab.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return &tab
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
