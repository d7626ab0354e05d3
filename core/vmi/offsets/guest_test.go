package offsets

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nitro/core/vmi"
	"nitro/core/vmi/ksym"
	"nitro/internal/bootkernel"
)

// ram is guest-physical memory backed by a byte slice.
type ram []byte

func (r ram) ReadPhys(p []byte, pa uint64) error {
	if pa > uint64(len(r)) || uint64(len(p)) > uint64(len(r))-pa {
		return vmi.ErrOutOfRange
	}
	copy(p, r[pa:])
	return nil
}

func (r ram) WritePhys([]byte, uint64) error { return vmi.ErrReadOnly }

// loadedGuest places a vmlinux's segments in guest-physical memory as the
// boot decompressor would, shifted by a physical KASLR offset.
func loadedGuest(tb testing.TB, image []byte, shift uint64) ram {
	tb.Helper()
	ef, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		tb.Fatal(err)
	}
	m := make(ram, 128<<20)
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if _, err := p.ReadAt(m[p.Paddr+shift:p.Paddr+shift+p.Filesz], 0); err != nil {
			tb.Fatal(err)
		}
	}
	return m
}

func TestFromGuestCaches(t *testing.T) {
	image := bootkernel.Vmlinux(t, bootKernels[len(bootKernels)-1].glob)
	want, err := FromVmlinux(image)
	if err != nil {
		t.Fatal(err)
	}
	mem := loadedGuest(t, image, 0x2600000)
	syms, err := ksym.Scan(mem, uint64(len(mem)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	parsed.Clear()

	got, err := FromGuest(mem, syms, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kernel == "" || got.Kernel[:len("Linux version")] != "Linux version" {
		t.Errorf("kernel = %q, want linux_banner", got.Kernel)
	}
	key := got.CacheKey()
	got.Kernel, got.key = "", ""
	if *got != *want {
		t.Fatalf("from guest memory %+v, from the vmlinux %+v", got, want)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), key+"-") {
		t.Fatalf("cache files %v, want one named by the key %q", files, key)
	}
	// The key finds the profile without the guest: in a new process too.
	parsed.Clear()
	if o, err := FromCache(dir, key); err != nil || o.CacheKey() != key || o.Task != want.Task {
		t.Errorf("FromCache(%q): %v, %+v", key, err, o)
	}
	for _, bad := range []string{"", "../" + key, key[:8]} {
		if _, err := FromCache(dir, bad); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("FromCache(%q): %v, want not found", bad, err)
		}
	}

	// A cached profile answers for the same BTF: one doctored on disk is
	// what the next process gets, while this one keeps its own.
	doctored := *want
	doctored.Kernel = "from the cache"
	if err := writeProfileFile(files[0], &doctored); err != nil {
		t.Fatal(err)
	}
	if o, err := FromGuest(mem, syms, dir); err != nil || o.Kernel == doctored.Kernel {
		t.Errorf("process cache: %v, kernel %q", err, o.Kernel)
	}
	parsed.Clear()
	if o, err := FromGuest(mem, syms, dir); err != nil || o.Kernel != doctored.Kernel {
		t.Errorf("disk cache: %v, kernel %q", err, o.Kernel)
	}

	// Other BTF is another kernel, whatever its banner says: no cache
	// answers for it, and destroyed BTF fails to parse.
	start, _ := syms.Lookup("__start_BTF")
	pa, _ := syms.Phys(start)
	clear(mem[pa : pa+4096])
	if _, err := FromGuest(mem, syms, dir); err == nil {
		t.Error("no error for destroyed BTF: a cache keyed by the banner answered")
	}
}

func BenchmarkFromGuestCached(b *testing.B) {
	image := bootkernel.Vmlinux(b, bootKernels[len(bootKernels)-1].glob)
	mem := loadedGuest(b, image, 0x2600000)
	syms, err := ksym.Scan(mem, uint64(len(mem)))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := FromGuest(mem, syms, ""); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := FromGuest(mem, syms, ""); err != nil {
			b.Fatal(err)
		}
	}
}
