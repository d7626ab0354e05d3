package linux

import (
	"errors"
	"fmt"
	"strings"

	"nitro/core/backend"
	"nitro/core/backend/linux/strace"
	"nitro/core/kvm"
	"nitro/core/vmi"
	"nitro/core/vmi/ksym"
	"nitro/core/vmi/offsets"
)

// ErrSymbol means a kernel symbol the back end needs is missing.
var ErrSymbol = errors.New("kernel symbol not found")

// Words of struct pt_regs (arch/x86/include/asm/ptrace.h), in order.
const (
	ptR15 = iota
	ptR14
	ptR13
	ptR12
	ptBP
	ptBX
	ptR11
	ptR10
	ptR9
	ptR8
	ptAX
	ptCX
	ptDX
	ptSI
	ptDI
	ptOrigAX
	ptIP
	ptCS
	ptFlags
	ptSP
	ptSS
	ptWords
)

// ptArgs are the pt_regs words holding the six system call arguments.
var ptArgs = [6]int{ptDI, ptSI, ptDX, ptR10, ptR8, ptR9}

// maxSyscalls bounds the read of the guest's sys_call_table.
const maxSyscalls = 1024

// maxPending bounds the entries waiting for their exit: calls such as
// exit_group never return.
const maxPending = 1 << 14

// Config is what a Linux back end reads the guest with.
type Config struct {
	Mem     *vmi.Memory
	Symbols *ksym.Table
	Offsets *offsets.Offsets
	Decode  strace.Options
}

// Backend turns listener events of one Linux x86-64 guest into system
// calls. It is not safe for concurrent use: events are handled one at a time.
type Backend struct {
	mem     *vmi.Memory
	syms    *ksym.Table
	tasks   tasks
	kernel  vmi.Space // the kernel's own page tables, for reads without an event
	current uint64    // per-cpu offset of the pointer to the running task

	entry, exit uint64
	names       []string          // by number, from the guest's sys_call_table
	handlers    map[uint64]uint64 // handler address -> number, for filters
	pending     map[uint64]pending
	ptiCR3      map[uint64]bool // see ptiUser
	seq         uint64
	decoder     *strace.Decoder
}

// pending is an entry waiting for its exit, by task.
type pending struct {
	nr   uint64
	args [6]uint64
	text []backend.Arg // as decoded at entry, before the call changed memory
}

// New finds in guest memory what the back end needs: the entry and exit
// points, the per-cpu current task, and the guest's own system call table.
func New(cfg Config) (*Backend, error) {
	b := &Backend{
		mem:      cfg.Mem,
		syms:     cfg.Symbols,
		handlers: make(map[uint64]uint64),
		pending:  make(map[uint64]pending),
		ptiCR3:   make(map[uint64]bool),
		decoder:  strace.NewDecoder(cfg.Decode),
	}
	need := func(name string) (uint64, error) {
		if a, ok := b.syms.Lookup(name); ok {
			return a, nil
		}
		return 0, fmt.Errorf("%w: %s", ErrSymbol, name)
	}
	var err error
	if b.entry, err = need("entry_SYSCALL_64"); err != nil {
		return nil, err
	}
	initTask, err := need("init_task")
	if err != nil {
		return nil, err
	}
	b.tasks = newTasks(cfg.Offsets, initTask)
	if b.current, err = cfg.Offsets.CurrentTaskGS(cfg.Symbols); err != nil {
		return nil, err
	}
	if err := b.findKernelSpace(need); err != nil {
		return nil, err
	}
	doSyscall, err := need("do_syscall_64")
	if err != nil {
		return nil, err
	}
	code := make([]byte, exitSearchLen)
	if err := b.kernel.Read(code, b.entry); err != nil {
		return nil, fmt.Errorf("reading entry_SYSCALL_64: %w", err)
	}
	if b.exit, err = ExitPoint(code, b.entry, doSyscall); err != nil {
		return nil, err
	}
	if err := b.readSyscallTable(need); err != nil {
		return nil, err
	}
	b.mem.SetStable(b.stableRanges()...)
	return b, nil
}

// Defaults of x86-64 Linux's memory layout (Documentation/arch/x86/x86_64/mm.rst).
const (
	directMapBase = 0xffff888000000000 // page_offset_base without KASLR
	directMapSize = 1 << 46            // 64 TiB with 4-level paging
)

// stableRanges are the kernel's mappings whose targets never change, so
// their translations can outlive a stop: the kernel image, and the direct
// map of physical memory, where task structures, credentials and per-cpu
// data live. Kernel stacks (vmalloc) are not among them.
func (b *Backend) stableRanges() []vmi.Range {
	var ranges []vmi.Range
	text, ok1 := b.syms.Lookup("_text")
	end, ok2 := b.syms.Lookup("_end")
	if ok1 && ok2 && end > text {
		ranges = append(ranges, vmi.Range{Start: text, End: end})
	}
	base := uint64(directMapBase)
	if v, ok := b.syms.Lookup("page_offset_base"); ok { // randomized by KASLR
		if got, err := b.kernel.U64(v); err == nil && kernelAddr(got) {
			base = got
		}
	}
	return append(ranges, vmi.Range{Start: base, End: base + directMapSize})
}

// findKernelSpace sets up reads through the kernel's own page tables
// (init_top_pgt), which need no vCPU state: the kernel image is physically
// contiguous, so its physical address follows from the symbol table.
func (b *Backend) findKernelSpace(need func(string) (uint64, error)) error {
	pgt, err := need("init_top_pgt")
	if err != nil {
		return err
	}
	pa, ok := b.syms.Phys(pgt)
	if !ok {
		return fmt.Errorf("%w: physical address of the kernel image", ErrSymbol)
	}
	var cr4 uint64
	if l5, ok := b.syms.Lookup("__pgtable_l5_enabled"); ok {
		if l5pa, ok := b.syms.Phys(l5); ok {
			var v [4]byte
			if err := b.mem.Phys().ReadPhys(v[:], l5pa); err != nil {
				return fmt.Errorf("reading __pgtable_l5_enabled: %w", err)
			}
			if v != [4]byte{} {
				cr4 = cr4LA57
			}
		}
	}
	b.kernel = b.mem.Space(pa, cr4)
	return nil
}

// cr4LA57 is CR4's 5-level paging bit.
const cr4LA57 = 1 << 12

// readSyscallTable names each system call number after the handler the
// guest's sys_call_table points to (__x64_sys_openat -> openat), and notes
// the handlers for filters.
func (b *Backend) readSyscallTable(need func(string) (uint64, error)) error {
	table, err := need("sys_call_table")
	if err != nil {
		return err
	}
	raw := make([]byte, 8*maxSyscalls)
	// The table is shorter than maxSyscalls; what follows it is other data,
	// which names no __x64_sys_ handler and so ends the scan.
	if err := b.kernel.Read(raw, table); err != nil {
		return fmt.Errorf("reading sys_call_table: %w", err)
	}
	for nr := range maxSyscalls {
		addr := le64(raw, nr)
		name, off, ok := b.syms.Nearest(addr)
		if !ok || off != 0 {
			break
		}
		// SYSCALL_DEFINE0 handlers carry two names, __x64_sys_X and
		// __do_sys_X, and kallsyms may list either first.
		call, ok := strings.CutPrefix(name, "__x64_sys_")
		if !ok {
			call, ok = strings.CutPrefix(name, "__do_sys_")
		}
		if !ok {
			break
		}
		if call == "ni_syscall" {
			call = ""
		} else {
			b.handlers[addr] = uint64(nr)
		}
		b.names = append(b.names, call)
	}
	if len(b.names) == 0 {
		return fmt.Errorf("%w: sys_call_table holds no __x64_sys_ handlers", ErrSymbol)
	}
	return nil
}

// nameUnknown names a call the built-in table does not know after the
// guest's handler. Known calls keep strace's names: the kernel's handlers
// say newstat and newuname where strace says stat and uname.
func (b *Backend) nameUnknown(sc *backend.Syscall) {
	if !strace.Known(sc.Nr) {
		if name := b.Name(sc.Nr); name != "" {
			sc.Name = name
		}
	}
}

// EntryPoint is where system calls enter the kernel (entry_SYSCALL_64, the
// LSTAR target; swapgs has not run there yet).
func (b *Backend) EntryPoint() uint64 { return b.entry }

// ExitPoint is where every system call returns to entry_SYSCALL_64.
func (b *Backend) ExitPoint() uint64 { return b.exit }

// Handler returns the address of the guest's handler for system call nr,
// for listeners that stop only at chosen calls.
func (b *Backend) Handler(nr uint64) (uint64, bool) {
	for addr, n := range b.handlers {
		if n == nr {
			return addr, true
		}
	}
	return 0, false
}

// Name is the guest's name for system call nr, "" when it has none.
func (b *Backend) Name(nr uint64) string {
	if nr < uint64(len(b.names)) {
		return b.names[nr]
	}
	return ""
}

// Processes lists every task of the guest, read through the kernel's own
// page tables.
func (b *Backend) Processes() ([]backend.Process, error) {
	b.mem.Invalidate()
	return b.tasks.all(b.kernel)
}

// Handle turns one stop into a system call. The vCPU is stopped: the
// returned call's Arguments may be changed until the listener continues.
func (b *Backend) Handle(ev *kvm.Event) (*backend.Call, error) {
	b.mem.Invalidate() // page tables may have changed since the last stop
	user := b.mem.Space(ev.SRegs.CR3, ev.SRegs.CR4)
	kern := user
	if b.ptiUser(user) {
		kern = user.Kernel()
	}
	// Before swapgs (at the entry point) the kernel's per-cpu base is in
	// KERNEL_GS_BASE; after it, in GS_BASE.
	perCPU := ev.SRegs.GSBase
	if !kernelAddr(perCPU) {
		perCPU = ev.SRegs.KernelGSBase
	}
	task, err := kern.Pointer(perCPU + b.current)
	if err != nil {
		return nil, fmt.Errorf("reading the current task on vCPU %d: %w", ev.VCPU, err)
	}
	proc, err := b.tasks.process(kern, task)
	if err != nil {
		return nil, err
	}
	b.seq++
	call := &backend.Call{Syscall: backend.Syscall{
		Seq: b.seq, Time: ev.Time, VCPU: ev.VCPU, Direction: ev.Direction, Process: proc,
	}}
	sc := &call.Syscall
	var ret uint64
	switch rip := ev.Regs.RIP; {
	case rip == b.entry:
		sc.Direction, sc.Nr = kvm.Enter, ev.Regs.RAX
		call.Arguments = newRegArgs(ev, user)
	case rip == b.exit:
		regs, err := readPtRegs(kern, user, ev.Regs.RSP, true)
		if err != nil {
			return nil, err
		}
		sc.Direction, sc.Nr, ret = kvm.Exit, regs.words[ptOrigAX], regs.words[ptAX]
		call.Arguments = regs
	case ev.Direction == kvm.Enter:
		// Stopped in a handler, for a filtered call: rdi points at pt_regs.
		regs, err := readPtRegs(kern, user, ev.Regs.RDI, false)
		if err != nil {
			return nil, err
		}
		sc.Nr = regs.words[ptOrigAX]
		call.Arguments = regs
	default:
		// A filtered exit, back in the handler's caller: the result is in
		// rax, the rest is remembered from the entry.
		ret = ev.Regs.RAX
	}
	var args [6]uint64
	if call.Arguments != nil {
		for i := range args {
			args[i] = call.Arguments.Get(i)
		}
	}
	mem := userMemory{user}
	if sc.Direction == kvm.Enter {
		b.decoder.Enter(sc, sc.Nr, args, mem)
		b.remember(task, pending{nr: sc.Nr, args: args, text: sc.Args})
	} else {
		p, ok := b.pending[task]
		delete(b.pending, task)
		sc.Matched = ok
		var entry []backend.Arg
		switch {
		case ok:
			// The entry's values are the call's: by its exit, execve and
			// rt_sigreturn have replaced the saved registers.
			sc.Nr, args, entry = p.nr, p.args, p.text
		case call.Arguments == nil: // a filtered exit whose entry was missed
			sc.Nr = noSyscall
		}
		if call.Arguments == nil {
			call.Arguments = newSavedArgs(args, user)
		}
		b.decoder.Exit(sc, sc.Nr, args, ret, mem, entry)
	}
	b.nameUnknown(sc)
	return call, nil
}

// noSyscall stands for the number of a call whose entry was not seen.
const noSyscall = ^uint64(0)

// ErrForeignCall is returned by Redecode for a call this back end did not make.
var ErrForeignCall = errors.New("not a call of this back end")

// Redecode decodes an entry's arguments again, after they or the memory
// they point to were changed while the call was held.
func (b *Backend) Redecode(call *backend.Call) error {
	m, ok := call.Arguments.(interface{ space() vmi.Space })
	if !ok || call.Direction != kvm.Enter {
		return ErrForeignCall
	}
	var args [6]uint64
	for i := range args {
		args[i] = call.Arguments.Get(i)
	}
	b.mem.Invalidate()
	b.decoder.Enter(&call.Syscall, call.Nr, args, userMemory{m.space()})
	b.nameUnknown(&call.Syscall)
	if p, ok := b.pending[call.Process.Task]; ok {
		p.args, p.text = args, call.Args
		b.pending[call.Process.Task] = p
	}
	return nil
}

func (b *Backend) remember(task uint64, p pending) {
	if len(b.pending) >= maxPending {
		clear(b.pending)
	}
	b.pending[task] = p
}

// userMemory lets the decoder read the calling process's memory.
type userMemory struct{ vmi.Space }

func (m userMemory) ReadVirt(p []byte, va uint64) error { return m.Read(p, va) }

// ptiUser says whether space is the user half of a PTI pair, remembering
// the answer by CR3: it holds for as long as the value names a page-table
// pair, and asking costs a failing page walk at every stop.
func (b *Backend) ptiUser(space vmi.Space) bool {
	if space.CR3()&vmi.PTIUserBit == 0 {
		return false // the cheap common case; PTIUser says the same
	}
	if v, ok := b.ptiCR3[space.CR3()]; ok {
		return v
	}
	if len(b.ptiCR3) >= maxPending {
		clear(b.ptiCR3)
	}
	v := space.PTIUser(b.tasks.initTask)
	b.ptiCR3[space.CR3()] = v
	return v
}

// kernelAddr says whether a is in the upper, kernel half of the address space.
func kernelAddr(a uint64) bool { return a >= 0xffff800000000000 }
