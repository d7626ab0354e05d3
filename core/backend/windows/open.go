package windows

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"nitro/core/backend"
	"nitro/core/vmi"
)

// The Windows back end is asked first: it knows a guest from a few reads
// of the vCPU state, where the Linux one may sweep RAM for its kernel.
func init() { backend.RegisterFirst("windows", Open) }

// Open finds a Windows x64 kernel from the vCPU state in t and makes its
// back end: the KPCR at a GS base (a vCPU in the kernel, or a dump's), or
// else ntoskrnl below the IDT's first handler and the build's own
// KiInitialPCR (a live vCPU in user mode, whose GS base is its TEB). A
// guest with neither is another OS (backend.ErrOtherOS).
func Open(t backend.Target) (backend.Backend, error) {
	if t.CR3 == 0 {
		return nil, fmt.Errorf("%w: no vCPU state to find a KPCR from", backend.ErrOtherOS)
	}
	user := t.Mem.Space(t.CR3, t.CR4)
	given := user
	kpcr, noKPCR := findKPCR(given, t.GSBase, t.KernelGSBase)
	idt := t.IDTBase
	if noKPCR == nil {
		given = kernelSpace(t.Mem, given, kpcr)
		var err error
		if idt, err = given.U64(kpcr + kpcrIdtBase); err != nil {
			return nil, fmt.Errorf("reading the KPCR's IdtBase: %w", err)
		}
	} else if !kernelAddr(idt) {
		return nil, fmt.Errorf("%w: %w", backend.ErrOtherOS, noKPCR)
	}
	base, err := findKernelBase(given, idt)
	if err != nil && noKPCR != nil {
		return nil, fmt.Errorf("%w: %w; %w", backend.ErrOtherOS, noKPCR, err)
	}
	if err != nil {
		return nil, err
	}
	pdb, err := readPDB(given, base)
	if err != nil {
		return nil, fmt.Errorf("reading ntoskrnl's debug record at %#x: %w", base, err)
	}
	l, err := chooseLayout(pdb, t.Profile)
	if err != nil {
		return nil, err
	}
	if noKPCR != nil {
		pcr, ok := l.Symbols["KiInitialPCR"]
		if !ok {
			return nil, fmt.Errorf("%w, and the profile lacks KiInitialPCR", noKPCR)
		}
		if kpcr, err = findKPCR(given, base+pcr); err != nil {
			return nil, err
		}
	}
	if err := checkShadow(user, given, base, l); err != nil {
		return nil, err
	}
	b, err := New(Config{Mem: t.Mem, Space: given, Base: base, KPCR: kpcr, PDB: pdb, Layout: l, Calibrate: t.Profile == ""})
	if err != nil {
		return nil, fmt.Errorf("setting up the Windows back end (%s): %w", pdb, err)
	}
	return b, nil
}

// The current thread's process and its page tables, at offsets every
// 7601 build shares: read before the build is known.
const (
	kpcrCurrentThread = kpcrPrcb + 0x8
	kthreadApcProcess = 0x70
	kprocessDTB       = 0x28
)

// kprcbKernelDTB is KPRCB.KernelDirectoryTableBase in the KVA-shadow
// 7601 kernels: the kernel's page tables, which their syscall entry loads.
const kprcbKernelDTB = 0x5e80

// kernelSpace is page tables that map the kernel, found from the vCPU
// whose KPCR is kpcr: those of its current thread's process, or under KVA
// shadowing (a vCPU in user mode runs on tables that map the KPCR but not
// the kernel) the KPRCB's KernelDirectoryTableBase. Either must map the
// KPCR where s does; s when neither does.
func kernelSpace(mem *vmi.Memory, s vmi.Space, kpcr uint64) vmi.Space {
	var cands []uint64
	if thread, err := s.U64(kpcr + kpcrCurrentThread); err == nil {
		if proc, err := s.U64(thread + kthreadApcProcess); err == nil {
			if dtb, err := s.U64(proc + kprocessDTB); err == nil {
				cands = append(cands, dtb)
			}
		}
	}
	if dtb, err := s.U64(kpcr + kpcrPrcb + kprcbKernelDTB); err == nil {
		cands = append(cands, dtb)
	}
	for _, dtb := range cands {
		if dtb == 0 {
			continue
		}
		k := mem.Space(dtb, 0)
		if self, err := k.U64(kpcr + kpcrSelf); err == nil && self == kpcr {
			return k
		}
	}
	return s
}

// ErrKVAShadow means the kernel enters through KiSystemCall64Shadow and
// the layout does not say where that is.
var ErrKVAShadow = errors.New("the kernel runs with KVA shadowing")

// checkShadow tells a KVA-shadow kernel, whose live entry is
// KiSystemCall64Shadow, where it can: the vCPU's own tables then lack
// KiSystemCall64, which the kernel's map.
func checkShadow(user, kern vmi.Space, base uint64, l *Layout) error {
	if _, ok := l.Symbols["KiSystemCall64Shadow"]; ok {
		return nil
	}
	at := base + l.Symbols["KiSystemCall64"]
	if _, err := user.Translate(at); err == nil {
		return nil
	}
	if _, err := kern.Translate(at); err != nil {
		return nil
	}
	return fmt.Errorf("%w: the vCPU's page tables lack KiSystemCall64 (%#x), so the kernel enters at KiSystemCall64Shadow, which %s does not locate: give an ISF file whose symbols include KiSystemCall64Shadow with --profile FILE",
		ErrKVAShadow, at, l.Build)
}

// chooseLayout is the built-in layout of the build pdb names, or the one
// in the ISF file profile; an unknown build is an error that names it.
func chooseLayout(pdb PDB, profile string) (*Layout, error) {
	if profile != "" {
		l, err := LoadISF(profile)
		if err != nil {
			return nil, err
		}
		if l.GUID != "" && l.GUID != pdb.GUID {
			return nil, fmt.Errorf("%w: %s describes GUID %s, the guest's kernel is %s", ErrISF, profile, l.GUID, pdb)
		}
		return l, nil
	}
	l, ok := builtin[pdb.GUID]
	if !ok {
		known := KnownBuilds()
		sort.Strings(known)
		return nil, fmt.Errorf("%w: the guest's kernel is %s; nitro knows %s: give this build's Volatility 3 ISF file with --profile FILE (.json, .json.xz or .json.gz)",
			ErrUnknownBuild, pdb, strings.Join(known, ", "))
	}
	return &l, nil
}

// OS is "windows".
func (b *Backend) OS() string { return "windows" }

// Kernel names the build, e.g. "Windows 7 SP1 x64 (ntoskrnl 7601.17514)".
func (b *Backend) Kernel() string {
	return fmt.Sprintf("Windows 7 SP1 x64 (ntoskrnl %s, %s)", b.layout.Build, b.pdb)
}

// WriteSymbols writes the kernel symbols the back end uses, in
// /proc/kallsyms's form: address, type, name.
func (b *Backend) WriteSymbols(w io.Writer) error {
	names := make([]string, 0, len(b.layout.Symbols))
	for n := range b.layout.Symbols {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return b.layout.Symbols[names[i]] < b.layout.Symbols[names[j]] })
	for _, n := range names {
		if _, err := fmt.Fprintf(w, "%016x T %s\n", b.base+b.layout.Symbols[n], n); err != nil {
			return err
		}
	}
	return nil
}

// WriteProfile writes the layout in use as a Volatility 3 ISF file, which
// --profile reads back.
func (b *Backend) WriteProfile(w io.Writer) error { return b.layout.writeISF(w, b.pdb) }

// Config is what a Windows back end reads the guest with.
type Config struct {
	Mem    *vmi.Memory
	Space  vmi.Space // a vCPU's address space, which maps the kernel
	Base   uint64    // ntoskrnl's base
	KPCR   uint64
	PDB    PDB
	Layout *Layout
	// Calibrate checks the build's ETHREAD offsets against the running
	// thread, which tells the 7601 updates apart.
	Calibrate bool
}

// cidCandidates are ETHREAD's Cid and ThreadListEntry in the 7601 builds.
var cidCandidates = [][2]uint64{{0x3b0, 0x420}, {0x3b8, 0x428}}

// ErrCalibrate means no known ETHREAD.Cid offset fits the running thread.
var ErrCalibrate = errors.New("ETHREAD.Cid matches no known offset")

// calibrate picks the Cid offset whose UniqueProcess is the pid of the
// thread's process: it moved between 7601 updates with the same symbols.
func (b *Backend) calibrate(kpcr uint64) error {
	thread, err := b.kern.U64(kpcr + b.layout.PrcbCurrThread)
	if err != nil {
		return fmt.Errorf("reading the current thread: %w", err)
	}
	proc, err := b.kern.U64(thread + b.layout.KThreadProcess)
	if err != nil {
		return fmt.Errorf("reading the current thread's process: %w", err)
	}
	pid, err := b.kern.U64(proc + b.layout.EProcPID)
	if err != nil {
		return fmt.Errorf("reading the current process's pid: %w", err)
	}
	cands := append([][2]uint64{{b.layout.EThreadCid, b.layout.EThreadList}}, cidCandidates...)
	for _, c := range cands {
		if v, err := b.kern.U64(thread + c[0]); err == nil && v == pid {
			b.layout.EThreadCid, b.layout.EThreadList = c[0], c[1]
			return nil
		}
	}
	return fmt.Errorf("%w (thread %#x, pid %d)", ErrCalibrate, thread, pid)
}
