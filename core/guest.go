package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"nitro/api"
	"nitro/core/backend"
	_ "nitro/core/backend/linux"   // registers the Linux back end
	_ "nitro/core/backend/windows" // registers the Windows back end
	"nitro/core/kvm/domain"
	"nitro/core/vmi"
	"nitro/core/vmi/physmem"
	"nitro/core/vmi/qemulayout"
)

// profileCache keeps what was learnt of each guest kernel (its structure
// offsets), so the next attach to the same kernel skips that work.
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
// back end for the operating system found in it. It reads the guest
// without stopping it.
type Guest struct {
	conn    *domain.Conn
	dom     *domain.Domain
	phys    *physmem.Source
	backend backend.Backend
}

var _ api.Guest = (*Guest)(nil)

// Kernel says where the guest's kernel symbols and structure layouts come
// from. The zero value finds both in the guest's own memory.
type Kernel struct {
	// Symbols is a file of kernel symbols to use instead: /proc/kallsyms of
	// this boot (or `nitro symbols` output), or a System.map, vmlinux or
	// vmlinuz of a kernel booted without KASLR.
	Symbols string
	// Profile is a JSON offsets profile (`nitro profile` output) to use
	// instead of the kernel's BTF.
	Profile string
	// OS names the back end to use ("linux") instead of the one that
	// recognises the guest.
	OS string
}

// OpenGuest opens domain name on libvirt uri ("" for the default) and
// finds its kernel. The domain must run on this host under QEMU.
func OpenGuest(uri, name string, k Kernel) (*Guest, error) {
	if err := checkDomainName(name); err != nil {
		return nil, err
	}
	conn, err := domain.Open(uri)
	if err != nil {
		return nil, err
	}
	g := &Guest{conn: conn}
	if err := g.open(name, k); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

func (g *Guest) open(name string, k Kernel) error {
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
		return fmt.Errorf("%w: %s is %s", api.ErrNotRunning, name, info.State)
	}
	pid, err := dom.QEMUPid()
	if err != nil {
		return err
	}
	if g.phys, err = openMemory(pid, dom.HMP); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	// The vCPU's page tables tell the running kernel from an earlier
	// boot's left in RAM; without them any kernel found is taken.
	regs, _ := dom.SystemRegs()
	g.backend, err = backend.Open(backend.Target{
		Phys: g.phys, Mem: vmi.NewMemory(g.phys), RAMEnd: ramEnd(g.phys.Ranges()),
		Symbols: k.Symbols, Profile: k.Profile, CacheDir: profileCache,
		CR3: regs.CR3, CR4: regs.CR4, GSBase: regs.GSBase, IDTBase: regs.IDTBase,
	}, k.OS)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// openMemory opens the RAM of the guest QEMU process pid runs, where
// QEMU's monitor (hmp) says it lies, its answers kept from an earlier
// attach to the same process where they still hold.
func openMemory(pid int, hmp qemulayout.HMP) (*physmem.Source, error) {
	memo := qemulayout.LoadMemo(profileCache, pid)
	src, err := openLayout(pid, hmp, memo)
	if err != nil && memo.Answered() {
		// Kept answers that no longer hold (memory plugged anew): ask QEMU.
		memo.Forget()
		src, err = openLayout(pid, hmp, memo)
	}
	if err == nil {
		// Unsaved, it costs the next attach its round trips, no more.
		_ = memo.Save()
	}
	return src, err
}

func openLayout(pid int, hmp qemulayout.HMP, memo *qemulayout.Memo) (*physmem.Source, error) {
	ranges, err := memo.Ranges(hmp)
	if err != nil {
		return nil, fmt.Errorf("learning the memory layout: %w", err)
	}
	src, err := physmem.OpenProcess(pid, ranges)
	if err != nil {
		return nil, fmt.Errorf("opening the memory: %w", err)
	}
	return src, nil
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

// Kernel is the guest kernel, e.g. "Linux 6.1.0-28-amd64".
func (g *Guest) Kernel() string { return g.backend.Kernel() }

// WriteSymbols writes the kernel's symbols in /proc/kallsyms's form.
func (g *Guest) WriteSymbols(w io.Writer) error { return g.backend.WriteSymbols(w) }

// WriteProfile writes the kernel's structure layout as a JSON profile.
func (g *Guest) WriteProfile(w io.Writer) error { return g.backend.WriteProfile(w) }

// Stops are where a listener stops to see every system call.
func (g *Guest) Stops() backend.Stops { return g.backend.Stops() }

// Processes lists the guest's processes and threads from its memory.
func (g *Guest) Processes(context.Context) ([]api.Process, error) {
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
