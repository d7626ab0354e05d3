package core

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"nitro/core/backend"
	"nitro/core/backend/linux"
	"nitro/core/backend/linux/strace"
	"nitro/core/kvm/domain"
	"nitro/core/vmi"
	"nitro/core/vmi/ksym"
	"nitro/core/vmi/ksym/bzimage"
	"nitro/core/vmi/offsets"
	"nitro/core/vmi/physmem"
	"nitro/core/vmi/qemulayout"
)

// profileCache keeps the struct offsets learnt from each guest kernel's BTF,
// so the next attach to the same kernel skips parsing it.
var profileCache = filepath.Join(cacheHome(), "nitro", "profiles")

func cacheHome() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return d
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".cache")
	}
	return os.TempDir()
}

// Guest is a running domain's memory read from its QEMU process, with the
// kernel's symbols and structure layout found in that memory, and the back
// end for its operating system. It reads the guest without stopping it.
type Guest struct {
	conn    *domain.Conn
	dom     *domain.Domain
	phys    *physmem.Source
	mem     *vmi.Memory
	syms    *ksym.Table
	offsets *offsets.Offsets
	backend *linux.Backend
}

// Kernel says where the guest's kernel symbols and structure layouts come
// from. The zero value finds both in the guest's own memory.
type Kernel struct {
	// Symbols is a file of kernel symbols to use instead: /proc/kallsyms of
	// this boot (or `nitro symbols` output), or a System.map, vmlinux or
	// vmlinuz of a kernel booted without KASLR.
	Symbols string
	// Profile is a JSON offsets profile (`nitro profile` output, or see
	// package offsets) to use instead of the kernel's BTF.
	Profile string
}

// OpenGuest opens domain name on libvirt uri ("" for the default) and
// finds its kernel. The domain must run on this host under QEMU.
func OpenGuest(uri, name string, k Kernel) (*Guest, error) {
	return openGuest(uri, name, k, strace.Options{})
}

func openGuest(uri, name string, k Kernel, decode strace.Options) (*Guest, error) {
	conn, err := domain.Open(uri)
	if err != nil {
		return nil, err
	}
	g := &Guest{conn: conn}
	if err := g.open(name, k, decode); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

func (g *Guest) open(name string, k Kernel, decode strace.Options) error {
	dom, err := g.conn.Lookup(name)
	if err != nil {
		return err
	}
	g.dom = dom
	info, err := dom.Info()
	if err != nil {
		return err
	}
	if !info.State.Active() {
		return fmt.Errorf("%w: %s is %s", domain.ErrNotRunning, name, info.State)
	}
	pid, err := dom.QEMUPid()
	if err != nil {
		return err
	}
	ranges, err := qemulayout.Ranges(dom.HMP)
	if err != nil {
		return fmt.Errorf("learning the memory layout of %s: %w", name, err)
	}
	if g.phys, err = physmem.OpenProcess(pid, ranges); err != nil {
		return fmt.Errorf("opening the memory of %s: %w", name, err)
	}
	g.mem = vmi.NewMemory(g.phys)
	if g.syms, err = kernelSymbols(g.phys, ramEnd(ranges), k.Symbols); err != nil {
		return fmt.Errorf("finding the kernel's symbols in %s: %w", name, err)
	}
	if g.offsets, err = kernelOffsets(g.phys, g.syms, k.Profile); err != nil {
		return fmt.Errorf("finding the kernel's structure layout in %s: %w", name, err)
	}
	g.backend, err = linux.New(linux.Config{Mem: g.mem, Symbols: g.syms, Offsets: g.offsets, Decode: decode})
	if err != nil {
		return fmt.Errorf("setting up the Linux back end for %s: %w", name, err)
	}
	return nil
}

// kernelSymbols scans memory for the kernel's symbol table, or reads the
// one in file and finds where that kernel lies in memory.
func kernelSymbols(mem vmi.PhysMem, size uint64, file string) (*ksym.Table, error) {
	if file == "" {
		return ksym.Scan(mem, size)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var t *ksym.Table
	switch {
	case bytes.HasPrefix(raw, []byte("\x7fELF")):
		t, err = ksym.FromVmlinux(raw)
	case len(raw) > 0x206 && string(raw[0x202:0x206]) == "HdrS": // a bzImage
		var image []byte
		if image, err = bzimage.Extract(raw); err == nil {
			t, err = ksym.FromVmlinux(image)
		}
	default:
		t, err = ksym.ParseSystemMap(bytes.NewReader(raw))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := t.Locate(mem, size); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return t, nil
}

// kernelOffsets reads the structure layout from the guest's BTF, or from a
// profile file.
func kernelOffsets(mem vmi.PhysMem, syms *ksym.Table, file string) (*offsets.Offsets, error) {
	if file == "" {
		return offsets.FromGuest(mem, syms, profileCache)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	o, err := offsets.LoadProfile(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return o, nil
}

// ramEnd is the highest guest-physical address with memory.
func ramEnd(ranges []physmem.Range) uint64 {
	var end uint64
	for _, r := range ranges {
		end = max(end, r.GPA+r.Size)
	}
	return end
}

// Name is the domain's name.
func (g *Guest) Name() string { return g.dom.Name() }

// Kernel is the guest kernel's banner (linux_banner), or "" when unknown.
func (g *Guest) Kernel() string { return g.offsets.Kernel }

// WriteSymbols writes the kernel's symbols in /proc/kallsyms's form.
func (g *Guest) WriteSymbols(w io.Writer) error { return g.syms.WriteKallsyms(w) }

// WriteProfile writes the kernel's structure layout as a JSON profile.
func (g *Guest) WriteProfile(w io.Writer) error { return g.offsets.WriteProfile(w) }

// Stops are where the guest's system calls enter the kernel and return to
// its entry code, in both conventions: where a listener stops.
func (g *Guest) Stops() linux.Stops { return g.backend.Stops() }

// Processes lists the guest's processes and threads from its memory.
func (g *Guest) Processes() ([]backend.Process, error) {
	return g.backend.Processes()
}

// Close releases the guest's memory and the libvirt connection; the guest
// itself is untouched.
func (g *Guest) Close() error {
	var errs []error
	if g.phys != nil {
		errs = append(errs, g.phys.Close())
	}
	if g.dom != nil {
		errs = append(errs, g.dom.Close())
	}
	errs = append(errs, g.conn.Close())
	return errors.Join(errs...)
}
