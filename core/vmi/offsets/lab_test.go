package offsets

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"nitro/core/vmi"
	"nitro/core/vmi/ksym"
	"nitro/core/vmi/qemulayout"
	"nitro/internal/lab"
)

// The lab tests read a running lab guest (lab/lab.sh; NITRO_LAB_DOMAIN
// names it, e.g. nitro-lab or nitro-lab-612) in QEMU's memory, as nitro
// does, and check what ksym and offsets find against the "kallsyms:" lines
// the guest's init prints from its own /proc/kallsyms:
//
//	NITRO_LAB_DOMAIN=nitro-lab go test ./core/vmi/offsets -run Lab -v

// openLab opens the lab guest's memory in QEMU's process and returns it
// with the top of its RAM and its serial log's kallsyms lines.
func openLab(t *testing.T) (vmi.PhysMem, uint64, map[string]uint64) {
	name := os.Getenv("NITRO_LAB_DOMAIN")
	if name == "" {
		t.Skip("set NITRO_LAB_DOMAIN to a running lab domain (lab/lab.sh up) to run")
	}
	lab.RequireRoot(t)
	hmp := func(cmd string) (string, error) {
		out, err := exec.Command("virsh", "-c", lab.URI, "qemu-monitor-command", name, "--hmp", cmd).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("virsh qemu-monitor-command %q: %w: %s", cmd, err, out)
		}
		return string(out), nil
	}
	pidText, err := os.ReadFile(filepath.Join("/run/libvirt/qemu", name+".pid"))
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
	var top uint64
	for _, r := range src.Ranges() {
		if !r.ReadOnly {
			top = max(top, r.GPA+r.Size)
		}
	}
	log, err := lab.Guest{Name: name}.Serial()
	if err != nil {
		t.Fatal(err)
	}
	// With several boots in the log, the last one's lines win.
	syms := map[string]uint64{}
	for _, m := range regexp.MustCompile(`(?m)^kallsyms: ([0-9a-f]+) \w (\w+)`).FindAllStringSubmatch(log, -1) {
		syms[m[2]], _ = strconv.ParseUint(m[1], 16, 64)
	}
	if len(syms) == 0 {
		t.Fatal("no kallsyms lines in the serial log")
	}
	return src, top, syms
}

// TestLabSymbols checks ksym.Scan's run-time addresses against the guest's.
func TestLabSymbols(t *testing.T) {
	mem, top, want := openLab(t)
	start := time.Now()
	syms, err := ksym.Scan(mem, top)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	for name, addr := range want {
		if got, ok := syms.Lookup(name); !ok || got != addr {
			t.Errorf("%s = %#x %v, the guest says %#x", name, got, ok, addr)
		}
	}
	slide, _ := syms.Slide()
	pa, _ := syms.PhysText()
	t.Logf("scanned %d MiB in %v: %d symbols, %v tables, KASLR slide %#x, _text at physical %#x",
		top>>20, took, syms.Len(), syms.Layout(), slide, pa)
}

// TestLabTaskList reads the guest with offsets from its own BTF: it walks
// the task list from init_task and finds CPU 0's current task. Heap
// pointers are followed through the direct map (page_offset_base), which is
// enough for a test and needs no page tables.
func TestLabTaskList(t *testing.T) {
	mem, top, _ := openLab(t)
	syms, err := ksym.Scan(mem, top)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	o, err := FromGuest(mem, syms, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("offsets from the guest's BTF in %v", time.Since(start))
	k := kernelReader{t, mem, syms, top, 0}
	k.directMap = k.u64(k.sym("page_offset_base"))

	initTask := k.sym("init_task")
	if comm := k.comm(o, initTask); comm != "swapper/0" {
		t.Errorf("init_task comm %q, want swapper/0", comm)
	}
	head := initTask + uint64(o.Task.Tasks)
	seen := map[uint64]string{initTask: "swapper/0"}
	for next := k.u64(head); next != head; next = k.u64(next) {
		task := next - uint64(o.Task.Tasks)
		if _, loop := seen[task]; loop || len(seen) > 10000 {
			t.Fatalf("task list loops at %#x", task)
		}
		seen[task] = k.comm(o, task)
		if pid := k.u32(task + uint64(o.Task.Pid)); pid == 1 && seen[task] != "init" {
			t.Errorf("pid 1 is %q, want init", seen[task])
		}
	}
	t.Logf("%d tasks: %v", len(seen), slices.Sorted(maps.Values(seen)))

	gs, err := o.CurrentTaskGS(syms)
	if err != nil {
		t.Fatal(err)
	}
	cpu0 := k.u64(k.sym("__per_cpu_offset"))
	cur := k.u64(cpu0 + gs)
	if _, ok := seen[cur]; !ok {
		t.Errorf("CPU 0's current task %#x is not on the task list", cur)
	}
	t.Logf("CPU 0 runs %q", seen[cur])
}

// kernelReader reads kernel virtual addresses of a memory dump: the kernel
// image through its physical load address, the rest through the direct map.
type kernelReader struct {
	t         *testing.T
	mem       vmi.PhysMem
	syms      *ksym.Table
	size      uint64
	directMap uint64
}

func (k kernelReader) sym(name string) uint64 {
	a, ok := k.syms.Lookup(name)
	if !ok {
		k.t.Fatalf("no symbol %s", name)
	}
	return a
}

func (k kernelReader) read(va uint64, n int) []byte {
	pa, ok := k.syms.Phys(va)
	if !ok {
		if k.directMap == 0 || va < k.directMap || va-k.directMap >= k.size {
			k.t.Fatalf("%#x is neither in the kernel image nor in the direct map", va)
		}
		pa = va - k.directMap
	}
	b := make([]byte, n)
	if err := k.mem.ReadPhys(b, pa); err != nil {
		k.t.Fatal(err)
	}
	return b
}

func (k kernelReader) u64(va uint64) uint64 { return binary.LittleEndian.Uint64(k.read(va, 8)) }
func (k kernelReader) u32(va uint64) uint32 { return binary.LittleEndian.Uint32(k.read(va, 4)) }

func (k kernelReader) comm(o *Offsets, task uint64) string {
	b := k.read(task+uint64(o.Task.Comm), o.Task.CommSize)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
