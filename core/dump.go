package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/vmi"
	"nitro/core/vmi/physmem"
)

// DumpPrefix starts a guest name that is a memory dump instead of a
// domain: "dump:FILE", FILE an ELF core as `virsh dump --memory-only`
// writes it, or "dump:FILE?cr3=HEX[&gs=HEX][&kgs=HEX][&idt=HEX]", FILE
// then a raw image of guest-physical memory (HMP's pmemsave) or a core
// whose registers are to be overridden.
const DumpPrefix = "dump:"

// Dump is a saved guest: a memory dump with its vCPUs' registers, read as
// a running guest's memory is, with the back end of the OS found in it.
type Dump struct {
	name    string
	phys    *physmem.Source
	backend backend.Backend
}

var _ api.Guest = (*Dump)(nil)

// ErrDumpRegs means a dump's registers are missing or malformed: a raw
// image needs at least its CR3 in the name.
var ErrDumpRegs = errors.New("a raw memory image needs the vCPU's registers: dump:FILE?cr3=HEX[&gs=HEX][&kgs=HEX][&idt=HEX]")

// OpenDump opens the dump spec names ("FILE" or "FILE?cr3=..."; see
// DumpPrefix) and finds its kernel from vCPU 0's registers.
func OpenDump(spec string, k Kernel) (*Dump, error) {
	path, query, _ := strings.Cut(spec, "?")
	regs, err := dumpRegs(query)
	if err != nil {
		return nil, err
	}
	phys, err := physmem.OpenELFCore(path)
	switch {
	case err == nil && regs == nil:
		cpus, err := physmem.CoreCPUs(path)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("%w (%w)", err, ErrDumpRegs), phys.Close())
		}
		regs = &cpus[0]
	case errors.Is(err, physmem.ErrNotCore) && regs != nil:
		phys, err = physmem.OpenRaw(path)
	}
	if err != nil {
		if errors.Is(err, physmem.ErrNotCore) {
			err = fmt.Errorf("%w (%w)", err, ErrDumpRegs)
		}
		return nil, err
	}
	d := &Dump{name: DumpPrefix + spec, phys: phys}
	var end uint64
	for _, r := range phys.Ranges() {
		end = max(end, r.GPA+r.Size)
	}
	d.backend, err = backend.Open(backend.Target{
		Phys: phys, Mem: vmi.NewMemory(phys), RAMEnd: end,
		Symbols: k.Symbols, Profile: k.Profile,
		CR3: regs.CR3, CR4: regs.CR4, GSBase: regs.GSBase, KernelGSBase: regs.KernelGSBase, IDTBase: regs.IDTBase,
	}, k.OS)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%s: %w", path, err), phys.Close())
	}
	return d, nil
}

// dumpRegs reads the registers a dump's name gives; nil when it gives none.
func dumpRegs(query string) (*physmem.CPUState, error) {
	if query == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDumpRegs, err)
	}
	var c physmem.CPUState
	for name, dst := range map[string]*uint64{"cr3": &c.CR3, "cr4": &c.CR4, "gs": &c.GSBase, "kgs": &c.KernelGSBase, "idt": &c.IDTBase} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		if *dst, err = strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64); err != nil {
			return nil, fmt.Errorf("%w: %s=%q", ErrDumpRegs, name, v)
		}
		q.Del(name)
	}
	if c.CR3 == 0 || len(q) > 0 {
		return nil, fmt.Errorf("%w: %q", ErrDumpRegs, query)
	}
	return &c, nil
}

// inspectDump opens name as a dump when it has DumpPrefix.
func inspectDump(name string, k Kernel) (api.Guest, bool, error) {
	path, ok := strings.CutPrefix(name, DumpPrefix)
	if !ok {
		return nil, false, nil
	}
	d, err := OpenDump(path, k)
	if err != nil {
		return nil, true, err
	}
	return d, true, nil
}

// Name is the dump's name as given: "dump:FILE...".
func (d *Dump) Name() string { return d.name }

// Kernel names the dumped guest's kernel.
func (d *Dump) Kernel() string { return d.backend.Kernel() }

// Processes lists the processes the dump holds.
func (d *Dump) Processes(context.Context) ([]api.Process, error) { return d.backend.Processes() }

// WriteSymbols writes the kernel's symbols in /proc/kallsyms's form.
func (d *Dump) WriteSymbols(w io.Writer) error { return d.backend.WriteSymbols(w) }

// WriteProfile writes the kernel's structure layout.
func (d *Dump) WriteProfile(w io.Writer) error { return d.backend.WriteProfile(w) }

// Close releases the dump's mapping.
func (d *Dump) Close() error { return d.phys.Close() }
