package qemulayout_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"nitro/core/vmi"
	"nitro/core/vmi/physmem"
	"nitro/core/vmi/qemulayout"
	"nitro/internal/lab"
)

// labGuest returns the running lab domain named by NITRO_LAB_DOMAIN (e.g.
// nitro-lab; see lab/lab.sh), or skips.
func labGuest(t *testing.T) (lab.Guest, qemulayout.HMP) {
	name := os.Getenv("NITRO_LAB_DOMAIN")
	if name == "" {
		t.Skip("set NITRO_LAB_DOMAIN to a running lab domain (make lab-up) to run")
	}
	lab.RequireRoot(t)
	hmp := func(cmd string) (string, error) {
		out, err := exec.Command("virsh", "-c", lab.URI, "qemu-monitor-command", name, "--hmp", cmd).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("virsh qemu-monitor-command %q: %w: %s", cmd, err, out)
		}
		return string(out), nil
	}
	return lab.Guest{Name: name}, hmp
}

// kallsyms reads the "kallsyms: ADDR TYPE NAME" lines the lab's init prints.
func kallsyms(t *testing.T, g lab.Guest) map[string]uint64 {
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	syms := map[string]uint64{}
	for _, m := range regexp.MustCompile(`(?m)^kallsyms: ([0-9a-f]+) \w (\w+)`).FindAllStringSubmatch(log, -1) {
		syms[m[2]], _ = strconv.ParseUint(m[1], 16, 64)
	}
	for _, s := range []string{"sys_call_table", "__x64_sys_getppid", "__x64_sys_openat", "__start_BTF", "init_task"} {
		if syms[s] == 0 {
			t.Fatalf("no %s in the serial log's kallsyms lines", s)
		}
	}
	return syms
}

// controlRegs reads CR3 and CR4 of vCPU 0 from `info registers`.
func controlRegs(t *testing.T, hmp qemulayout.HMP) (cr3, cr4 uint64) {
	out, err := hmp("info registers")
	if err != nil {
		t.Fatal(err)
	}
	reg := func(name string) uint64 {
		m := regexp.MustCompile(`\b` + name + `=([0-9a-f]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %s in info registers:\n%s", name, out)
		}
		v, _ := strconv.ParseUint(m[1], 16, 64)
		return v
	}
	return reg("CR3"), reg("CR4")
}

// openLab opens the lab guest's memory in QEMU's process and its kernel
// address space.
func openLab(t *testing.T) (*physmem.Source, vmi.Space, map[string]uint64, qemulayout.HMP) {
	g, hmp := labGuest(t)
	pidText, err := os.ReadFile(filepath.Join("/run/libvirt/qemu", g.Name+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if err != nil {
		t.Fatal(err)
	}
	src, err := qemulayout.Open(pid, hmp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	syms := kallsyms(t, g)
	cr3, cr4 := controlRegs(t, hmp)
	space := vmi.NewMemory(src).Space(cr3, cr4)
	if space.PTIUser(syms["init_task"]) {
		space = space.Kernel()
	}
	t.Logf("%d RAM ranges, cr3 %#x cr4 %#x", len(src.Ranges()), cr3, cr4)
	return src, space, syms, hmp
}

// TestLabKernelMemory reads the live guest's kernel through QEMU's process
// memory and the page tables, and checks what it finds against kallsyms.
func TestLabKernelMemory(t *testing.T) {
	_, s, syms, _ := openLab(t)
	// sys_call_table holds the handlers kallsyms names.
	for nr, name := range map[uint64]string{110: "__x64_sys_getppid", 257: "__x64_sys_openat"} {
		p, err := s.Pointer(syms["sys_call_table"] + nr*8)
		if err != nil || p != syms[name] {
			t.Errorf("sys_call_table[%d] = %#x, %v; want %s %#x", nr, p, err, name, syms[name])
		}
	}
	// BTF starts with its magic, 0xeb9f.
	if magic, err := s.U32(syms["__start_BTF"]); err != nil || magic&0xffff != 0xeb9f {
		t.Errorf("BTF magic = %#x, %v", magic, err)
	}
	// init_task's comm is "swapper" or "swapper/0", somewhere in its first pages.
	task := make([]byte, 16<<10)
	if err := s.Read(task, syms["init_task"]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(task, []byte("swapper")) {
		t.Error(`init_task holds no "swapper"`)
	}
}

// TestLabDumpsMatchProcess writes an ELF core with `virsh dump
// --memory-only` (QEMU pauses the guest while dumping and resumes it) and a
// raw image of low RAM with HMP pmemsave, and checks that both hold the
// bytes the process source reads.
func TestLabDumpsMatchProcess(t *testing.T) {
	src, s, syms, hmp := openLab(t)
	g, _ := labGuest(t)
	elfPath := filepath.Join(t.TempDir(), "core.elf")
	if out, err := exec.Command("virsh", "-c", lab.URI, "dump", "--memory-only", "--format", "elf", g.Name, elfPath).CombinedOutput(); err != nil {
		t.Fatalf("virsh dump: %v\n%s", err, out)
	}
	core, err := physmem.OpenELFCore(elfPath)
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()

	// QEMU writes the raw image itself, so into a directory its user owns.
	var lowEnd uint64
	for _, r := range src.Ranges() {
		if r.GPA+r.Size <= 1<<32 && !r.ReadOnly {
			lowEnd = max(lowEnd, r.GPA+r.Size)
		}
	}
	rawPath := fmt.Sprintf("/var/lib/libvirt/qemu/dump/nitro-test-%d.raw", os.Getpid())
	defer os.Remove(rawPath)
	if out, err := hmp(fmt.Sprintf("pmemsave 0 %#x %q", lowEnd, rawPath)); err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("pmemsave: %v %s", err, out)
	}
	raw, err := physmem.OpenRaw(rawPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	// Kernel text and the syscall table do not change while the guest runs.
	for _, name := range []string{"sys_call_table", "do_syscall_64", "entry_SYSCALL_64"} {
		pa, err := s.Translate(syms[name])
		if err != nil {
			t.Fatal(err)
		}
		live := make([]byte, 4096)
		if err := src.ReadPhys(live, pa); err != nil {
			t.Fatal(err)
		}
		for what, dump := range map[string]*physmem.Source{"ELF core": core, "raw image": raw} {
			got := make([]byte, 4096)
			if err := dump.ReadPhys(got, pa); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if !bytes.Equal(live, got) {
				t.Errorf("%s (physical %#x): the %s and QEMU's memory differ", name, pa, what)
			}
		}
	}
}
