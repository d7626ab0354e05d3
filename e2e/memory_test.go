package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"nitro/core/vmi"
	"nitro/core/vmi/ksym"
	"nitro/core/vmi/physmem"
	"nitro/core/vmi/qemulayout"
	"nitro/internal/lab"
)

// TestDumpsMatchProcess reads the 6.1 guest's memory four ways: in place in
// QEMU's process, as nitro does; from an ELF core written by `virsh dump
// --memory-only` (QEMU pauses the guest while dumping and resumes it); from
// a raw image of low RAM written by HMP pmemsave; and through libvirt's
// memory peek. Pages of kernel text and read-only data, which do not change
// while the guest runs, must be the same in all four.
func TestDumpsMatchProcess(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)
	pid, err := dom.QEMUPid()
	if err != nil {
		t.Fatal(err)
	}
	live, err := qemulayout.Open(pid, dom.HMP)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	var ramEnd, lowEnd uint64
	for _, r := range live.Ranges() {
		if r.ReadOnly {
			continue
		}
		ramEnd = max(ramEnd, r.GPA+r.Size)
		if r.GPA+r.Size <= 1<<32 {
			lowEnd = max(lowEnd, r.GPA+r.Size)
		}
	}
	syms, err := ksym.Scan(live, ramEnd)
	if err != nil {
		t.Fatal(err)
	}

	elfPath := filepath.Join(t.TempDir(), "core.elf")
	if out, err := exec.Command("virsh", "-c", lab.URI, "dump", "--memory-only", "--format", "elf", g.Name, elfPath).CombinedOutput(); err != nil {
		t.Fatalf("virsh dump: %v\n%s", err, out)
	}
	elfCore, err := physmem.OpenELFCore(elfPath)
	if err != nil {
		t.Fatal(err)
	}
	defer elfCore.Close()
	// QEMU writes the raw image itself, so into a directory its user owns.
	rawPath := fmt.Sprintf("/var/lib/libvirt/qemu/dump/nitro-e2e-%d.raw", os.Getpid())
	defer os.Remove(rawPath)
	if out, err := dom.HMP(fmt.Sprintf("pmemsave 0 %#x %q", lowEnd, rawPath)); err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("pmemsave: %v %s", err, out)
	}
	raw, err := physmem.OpenRaw(rawPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	for _, name := range []string{"linux_banner", "sys_call_table", "do_syscall_64", "entry_SYSCALL_64"} {
		va, ok := syms.Lookup(name)
		if !ok {
			t.Fatalf("no symbol %s", name)
		}
		pa, ok := syms.Phys(va)
		if !ok {
			t.Fatalf("%s (%#x) has no physical address", name, va)
		}
		pa &^= 4095
		want := make([]byte, 4096)
		if err := live.ReadPhys(want, pa); err != nil {
			t.Fatal(err)
		}
		if bytes.Count(want, []byte{0}) == len(want) {
			t.Fatalf("%s: QEMU's memory holds a page of zeros at %#x", name, pa)
		}
		for what, dump := range map[string]vmi.PhysMem{"ELF core": elfCore, "raw image": raw, "libvirt peek": dom.PhysPeek()} {
			got := make([]byte, 4096)
			if err := dump.ReadPhys(got, pa); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("%s (physical %#x): the %s and QEMU's memory differ", name, pa, what)
			}
		}
	}
	requireRunning(t, g)
}
