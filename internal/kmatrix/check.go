package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"nitro/core/backend"
	"nitro/core/backend/linux"
	"nitro/core/vmi"
	"nitro/core/vmi/ksym"
	"nitro/core/vmi/ksym/bzimage"
	"nitro/core/vmi/offsets"
	"nitro/core/vmi/vmitest"
)

// outcome is what the checks found of one kernel.
type outcome struct {
	layout  ksym.Layout
	symbols int
	btf     int // bytes from __start_BTF to __stop_BTF
	banner  string
}

// knownSymbols must all decode; of a line, one name is enough (Linux 6.9
// dispatches system calls through x64_sys_call rather than the table).
var knownSymbols = [][]string{
	{"_text"}, {"_end"}, {"linux_banner"}, {"entry_SYSCALL_64"}, {"do_syscall_64"},
	{"sys_call_table", "x64_sys_call"}, {"init_task"}, {"__start_BTF"}, {"__stop_BTF"},
}

const (
	// ramSlack is guest memory above the image: the scan reads past the
	// tables, and a real guest has RAM there.
	ramSlack = 64 << 20
	// maxLoadEnd bounds where the image may end physically, so a broken
	// one cannot ask for gigabytes of simulated RAM.
	maxLoadEnd = 1 << 30
)

// check runs the checks on a vmlinuz (bzImage).
func check(vmlinuz []byte) (outcome, error) {
	vmlinux, err := bzimage.Extract(vmlinuz)
	if err != nil {
		return outcome{}, fmt.Errorf("unpacking the vmlinux: %w", err)
	}
	return checkVmlinux(vmlinux)
}

// checkVmlinux decodes the kernel's symbols from the file, then runs
// nitro's attach path on a simulated guest whose memory holds the image
// as the boot loader places it, and checks what it finds.
func checkVmlinux(vmlinux []byte) (outcome, error) {
	var out outcome
	file, err := ksym.FromVmlinux(vmlinux)
	if err != nil {
		return out, fmt.Errorf("kallsyms in the vmlinux: %w", err)
	}
	out.layout, out.symbols = file.Layout(), file.Len()
	for _, names := range knownSymbols {
		if !slices.ContainsFunc(names, func(n string) bool { _, ok := file.Lookup(n); return ok }) {
			return out, fmt.Errorf("kallsyms in the vmlinux: no symbol %s", strings.Join(names, " or "))
		}
	}

	ef, err := elf.NewFile(bytes.NewReader(vmlinux))
	if err != nil {
		return out, fmt.Errorf("reading the vmlinux: %w", err)
	}
	mem, err := load(ef)
	if err != nil {
		return out, err
	}
	guest, err := ksym.Scan(mem, uint64(len(mem.Mem)))
	if err != nil {
		return out, fmt.Errorf("kallsyms in guest memory: %w", err)
	}
	if !slices.Equal(guest.Symbols(), file.Symbols()) {
		return out, fmt.Errorf("kallsyms in guest memory: %d symbols differ from the file's %d", guest.Len(), file.Len())
	}
	filePA, _ := file.PhysText()
	if pa, _ := guest.PhysText(); pa != filePA {
		return out, fmt.Errorf("kallsyms in guest memory: image placed at %#x, loaded at %#x", pa, filePA)
	}

	offs, err := offsets.FromGuest(mem, guest, "")
	if err != nil {
		return out, fmt.Errorf("structure offsets: %w", err)
	}
	out.banner = offs.Kernel
	if out.btf, err = sameBTF(ef, mem, guest); err != nil {
		return out, err
	}
	if err := checkInitTask(mem, guest, offs); err != nil {
		return out, fmt.Errorf("structure offsets: %w", err)
	}
	if err := checkBackend(mem, guest); err != nil {
		return out, fmt.Errorf("back end: %w", err)
	}
	return out, nil
}

// load places the image's segments at their physical addresses, as the
// boot loader does before the kernel runs. The kernel's own page tables
// (init_top_pgt, statically initialised in Debian's builds) then map it,
// which the back end reads through.
func load(ef *elf.File) (*vmitest.Phys, error) {
	var end uint64
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD {
			end = max(end, p.Paddr+p.Memsz)
		}
	}
	if end == 0 || end > maxLoadEnd {
		return nil, fmt.Errorf("reading the vmlinux: loaded image ends at %#x", end)
	}
	mem := vmitest.NewPhys(int(end + ramSlack))
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if _, err := p.ReadAt(mem.Mem[p.Paddr:p.Paddr+p.Filesz], 0); err != nil {
			return nil, fmt.Errorf("reading the vmlinux: segment at %#x: %w", p.Paddr, err)
		}
	}
	return mem, nil
}

// sameBTF checks that the BTF the offsets were read from (by the
// __start_BTF and __stop_BTF symbols, in memory) is the ELF's .BTF
// section, and returns its size.
func sameBTF(ef *elf.File, mem vmi.PhysMem, syms *ksym.Table) (int, error) {
	sec := ef.Section(".BTF")
	if sec == nil {
		return 0, errors.New("structure offsets: the vmlinux has no .BTF section")
	}
	want, err := sec.Data()
	if err != nil {
		return 0, fmt.Errorf("reading .BTF: %w", err)
	}
	start, _ := syms.Lookup("__start_BTF")
	got := make([]byte, len(want))
	if err := read(mem, syms, start, got); err != nil {
		return 0, fmt.Errorf("structure offsets: BTF: %w", err)
	}
	if !bytes.Equal(got, want) {
		return 0, fmt.Errorf("structure offsets: the BTF at __start_BTF (%#x) is not the .BTF section", start)
	}
	return len(want), nil
}

// checkInitTask reads the statically initialised init_task with the
// offsets: its comm is "swapper", its task list is empty (points to
// itself), it is its own parent and group leader, and it borrows init_mm.
func checkInitTask(mem vmi.PhysMem, syms *ksym.Table, o *offsets.Offsets) error {
	task, _ := syms.Lookup("init_task")
	initMM, ok := syms.Lookup("init_mm")
	if !ok {
		return errors.New("no init_mm symbol")
	}
	comm := make([]byte, o.Task.CommSize)
	if err := read(mem, syms, task+uint64(o.Task.Comm), comm); err != nil {
		return err
	}
	if !bytes.HasPrefix(comm, []byte("swapper\x00")) {
		return fmt.Errorf("init_task.comm reads %q, want swapper", comm)
	}
	pointers := map[string]struct {
		off  int
		want uint64
	}{
		"tasks.next":   {o.Task.Tasks, task + uint64(o.Task.Tasks)},
		"real_parent":  {o.Task.RealParent, task},
		"parent":       {o.Task.Parent, task},
		"group_leader": {o.Task.GroupLeader, task},
		"active_mm":    {o.Task.ActiveMm, initMM},
		"mm":           {o.Task.Mm, 0},
	}
	for name, f := range pointers {
		if f.off == offsets.Absent {
			return fmt.Errorf("task_struct.%s missing from BTF", name)
		}
		var v [8]byte
		if err := read(mem, syms, task+uint64(f.off), v[:]); err != nil {
			return err
		}
		if got := binary.LittleEndian.Uint64(v[:]); got != f.want {
			return fmt.Errorf("init_task.%s reads %#x, want %#x", name, got, f.want)
		}
	}
	if o.PtRegsSize != 168 {
		return fmt.Errorf("sizeof(struct pt_regs) = %d, want x86-64's 168", o.PtRegsSize)
	}
	return nil
}

// checkBackend sets up the Linux back end as attaching does, and checks
// what it reads through the kernel's page tables: the stops, the guest's
// own names of its system calls (in its sys_call_table), and the task list.
func checkBackend(mem *vmitest.Phys, syms *ksym.Table) error {
	b, err := linux.Open(backend.Target{Phys: mem, Mem: vmi.NewMemory(mem), RAMEnd: uint64(len(mem.Mem))})
	if err != nil {
		return err
	}
	entry, _ := syms.Lookup("entry_SYSCALL_64")
	if s := b.Stops(); s.Entry != entry || s.Exit <= entry {
		return fmt.Errorf("stops at %#x and %#x, want entry_SYSCALL_64 %#x and a return after it", s.Entry, s.Exit, entry)
	}
	for _, name := range []string{"read", "openat", "execve"} {
		if _, err := b.Handlers(name); err != nil {
			return fmt.Errorf("sys_call_table: %w", err)
		}
	}
	// Before boot, init_task's list holds no other task.
	procs, err := b.Processes()
	if err != nil {
		return fmt.Errorf("task list: %w", err)
	}
	if len(procs) != 0 {
		return fmt.Errorf("task list: %d tasks before boot", len(procs))
	}
	return nil
}

// read reads kernel-image bytes at virtual address virt.
func read(mem vmi.PhysMem, syms *ksym.Table, virt uint64, p []byte) error {
	pa, ok := syms.Phys(virt)
	if !ok {
		return fmt.Errorf("%#x is not in the kernel image", virt)
	}
	return mem.ReadPhys(p, pa)
}
