package windows

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"nitro/core/backend"
	"nitro/core/backend/windows/ntsvc"
	"nitro/core/kvm"
	"nitro/core/vmi"
)

// Backend turns listener events of one Windows 7 SP1 x64 guest into
// system calls. It is not safe for concurrent use: events are handled one
// at a time.
type Backend struct {
	mem    *vmi.Memory
	kern   vmi.Space // the System process's page tables: every kernel address
	base   uint64
	pdb    PDB
	layout *Layout

	entry, exit uint64
	handlers    map[uint64]uint32 // nt service handlers by address, to their number
	w32Args     map[uint32]int    // win32k argument counts read from the guest's table
	pending     map[uint64]*handled
	procs       map[uint64]knownThread
	seq         uint64
}

// knownThread is a thread's Process, remembered while its EPROCESS stays.
type knownThread struct {
	eproc uint64
	p     backend.Process
}

// maxPending bounds the entries waiting for their exit (a thread that
// ends in NtTerminateThread never returns) and the remembered threads.
const maxPending = 1 << 14

// Where KiSystemCall64 calls the service: call r10, within this many bytes.
var callR10 = []byte{0x41, 0xff, 0xd2}

const exitSearchLen = 0x1000

// ErrNoExit means KiSystemCall64's call of the service was not found.
var ErrNoExit = errors.New("no call r10 in KiSystemCall64")

// New sets up a back end for the kernel cfg describes.
func New(cfg Config) (*Backend, error) {
	l := *cfg.Layout
	if err := l.check(); err != nil {
		return nil, err
	}
	b := &Backend{
		mem: cfg.Mem, base: cfg.Base, pdb: cfg.PDB, layout: &l,
		handlers: make(map[uint64]uint32), w32Args: make(map[uint32]int),
		pending: make(map[uint64]*handled), procs: make(map[uint64]knownThread),
	}
	// The System process's tables map every kernel address, KVA shadow
	// or not: the given vCPU may be in a user process whose tables do not.
	sys, err := cfg.Space.U64(b.base + l.Symbols["PsInitialSystemProcess"])
	if err != nil {
		return nil, fmt.Errorf("reading PsInitialSystemProcess: %w", err)
	}
	dtb, err := cfg.Space.U64(sys + l.KProcessDTB)
	if err != nil {
		return nil, fmt.Errorf("reading the System process's DirectoryTableBase: %w", err)
	}
	b.kern = cfg.Mem.Space(dtb, 0)
	if cfg.Calibrate {
		if err := b.calibrate(cfg.KPCR); err != nil {
			return nil, err
		}
	}
	b.entry = b.base + l.Symbols["KiSystemCall64"]
	if shadow, ok := l.Symbols["KiSystemCall64Shadow"]; ok {
		b.entry = b.base + shadow // KVA shadow: the live entry
	}
	code := make([]byte, exitSearchLen)
	if err := b.kern.Read(code, b.base+l.Symbols["KiSystemCall64"]); err != nil {
		return nil, fmt.Errorf("reading KiSystemCall64: %w", err)
	}
	at := bytes.Index(code, callR10)
	if at < 0 {
		return nil, ErrNoExit
	}
	b.exit = b.base + l.Symbols["KiSystemCall64"] + uint64(at+len(callR10))
	if err := b.readServiceTable(); err != nil {
		return nil, err
	}
	b.mem.SetStable(vmi.Range{Start: b.base, End: b.base + 32<<20})
	return b, nil
}

// readServiceTable notes every nt service's handler, for --syscalls: each
// entry of KiServiceTable is the handler's offset from the table << 4 |
// its stack-argument count.
func (b *Backend) readServiceTable() error {
	table := b.base + b.layout.Symbols["KiServiceTable"]
	raw := make([]byte, 4*len(ntsvc.NT))
	if err := b.kern.Read(raw, table); err != nil {
		return fmt.Errorf("reading KiServiceTable: %w", err)
	}
	for i := range ntsvc.NT {
		e := int32(binary.LittleEndian.Uint32(raw[4*i:]))
		b.handlers[table+uint64(int64(e>>4))] = uint32(i)
	}
	return nil
}

// Stops are KiSystemCall64 (or its KVA-shadow twin) and the instruction
// after its call of the service. WOW64 processes enter there too.
func (b *Backend) Stops() backend.Stops { return backend.Stops{Entry: b.entry, Exit: b.exit} }

// ErrNoHandler means the named call has no handler nitro can stop at.
var ErrNoHandler = errors.New("no handler for this call")

// Handlers returns the nt service's handler for name, found in the guest's
// own KiServiceTable. win32k's handlers live in session space, mapped in
// GUI processes only, and are not offered.
func (b *Backend) Handlers(name string) ([]uint64, error) {
	nr, ok := ntsvc.Lookup(name)
	if !ok || nr >= 0x1000 {
		return nil, fmt.Errorf("%w: %s", ErrNoHandler, name)
	}
	for addr, n := range b.handlers {
		if n == nr {
			return []uint64{addr}, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNoHandler, name)
}

// Number is the service number of the named call, which the Nitro ioctls
// filter on (eax at the syscall instruction).
func (b *Backend) Number(name string) (uint64, error) {
	nr, ok := ntsvc.Lookup(name)
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrNoHandler, name)
	}
	return uint64(nr), nil
}

// Handle turns one stop into a system call.
func (b *Backend) Handle(ev *kvm.Event) (*backend.Call, error) {
	b.mem.Invalidate()
	kpcr := ev.SRegs.GSBase
	if !kernelAddr(kpcr) { // before swapgs
		kpcr = ev.SRegs.KernelGSBase
	}
	thread, err := b.kern.U64(kpcr + b.layout.PrcbCurrThread)
	if err != nil {
		return nil, fmt.Errorf("reading the current thread on vCPU %d: %w", ev.VCPU, err)
	}
	proc, err := b.process(thread)
	if err != nil {
		return nil, err
	}
	b.seq++
	h := &handled{}
	h.call.Syscall = backend.Syscall{Seq: b.seq, Time: ev.Time, VCPU: ev.VCPU, ABI: backend.X8664, Process: proc}
	h.call.Arguments = &h.args
	a := &h.args
	a.b, a.user, a.kern, a.regs = b, b.mem.Space(ev.SRegs.CR3, ev.SRegs.CR4), b.kern, &ev.Regs
	sc := &h.call.Syscall
	nr, isHandler := b.handlers[ev.Regs.RIP]
	switch {
	case ev.Direction == kvm.Enter && isHandler:
		sc.Direction = kvm.Enter
		a.at, a.stack = atHandler, ev.Regs.RSP
		sc.Nr = uint64(nr)
	case ev.Direction == kvm.Enter:
		// KiSystemCall64, or a trapped syscall instruction (Nitro
		// ioctls): the user's registers and stack either way.
		sc.Direction = kvm.Enter
		a.at, a.stack = atEntry, ev.Regs.RSP
		sc.Nr = uint64(uint32(ev.Regs.RAX))
	default: // the service's return, or a filtered call's
		sc.Direction = kvm.Exit
		a.at = atExit
		p, ok := b.pending[thread]
		delete(b.pending, thread)
		sc.Matched = ok
		if ok {
			sc.Nr, sc.Args = p.call.Nr, p.call.Args
			a.vals, a.n = p.args.vals, p.args.n
		} else {
			sc.Nr = noService
		}
		a.result = ev.Regs.RAX
		b.decodeExit(sc, a)
		return &h.call, nil
	}
	b.decodeEnter(sc, a)
	b.remember(thread, h)
	return &h.call, nil
}

// noService stands for the number of a call whose entry was not seen.
const noService = ^uint64(0)

func (b *Backend) remember(thread uint64, h *handled) {
	if _, ok := b.pending[thread]; !ok && len(b.pending) >= maxPending {
		for t := range b.pending { // make room by one
			delete(b.pending, t)
			break
		}
	}
	b.pending[thread] = h
}

// Redecode decodes a held call again after an edit.
func (b *Backend) Redecode(call *backend.Call) error {
	a, ok := call.Arguments.(*args)
	if !ok {
		return backend.ErrForeignCall
	}
	b.mem.Invalidate()
	if call.Direction == kvm.Enter {
		b.decodeEnter(&call.Syscall, a)
	} else {
		b.decodeExit(&call.Syscall, a)
	}
	return nil
}

// process is the Process of a thread: its EPROCESS (the one the thread is
// attached to, ApcState.Process), pid, tid, parent and name.
func (b *Backend) process(thread uint64) (backend.Process, error) {
	l, k := b.layout, b.kern
	eproc, err := k.U64(thread + l.KThreadApcProc)
	if err != nil {
		return backend.Process{}, fmt.Errorf("reading thread %#x's process: %w", thread, err)
	}
	tid, err := k.U64(thread + l.EThreadCid + 8)
	if err != nil {
		return backend.Process{}, fmt.Errorf("reading thread %#x's id: %w", thread, err)
	}
	if kt, ok := b.procs[thread]; ok && kt.eproc == eproc && kt.p.TID == int(uint32(tid)) {
		return kt.p, nil
	}
	pi, err := b.readProcess(k, eproc)
	if err != nil {
		return backend.Process{}, err
	}
	p := backend.Process{PID: pi.pid, TID: int(uint32(tid)), PPID: pi.ppid, Comm: pi.comm(), Task: thread}
	if len(b.procs) >= maxPending {
		clear(b.procs)
	}
	b.procs[thread] = knownThread{eproc: eproc, p: p}
	return p, nil
}

var _ backend.Backend = (*Backend)(nil)
