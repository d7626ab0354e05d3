package linux

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"nitro/core/backend"
	"nitro/core/backend/linux/strace"
	"nitro/core/kvm"
	"nitro/core/vmi"
	"nitro/core/vmi/ksym"
	"nitro/core/vmi/linuxmm"
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
	offsets *offsets.Offsets
	tasks   tasks
	kernel  vmi.Space // the kernel's own page tables, for reads without an event
	current uint64    // per-cpu offset of the pointer to the running task
	// pages reads user pages the page tables do not map yet; nil for
	// kernels whose memory map it does not know (before Linux 6.1).
	pages *linuxmm.Resolver

	entry, exit uint64              // the 64-bit convention's stops
	stops       map[uint64]stop     // every stop by address, handlers included
	names       []string            // by number, from the guest's sys_call_table
	pending     map[uint64]*handled // entries waiting for their exit, by task
	free        []*handled          // calls done with, for reuse: the hot path allocates little
	last        *handled            // the call Handle returned last, if it can be reused
	ptiCR3      map[uint64]bool     // see ptiUser
	procs       map[uint64]knownTask
	cross       *crossView // the other views of the tasks, for hidden ones
	scratch     []byte     // task fields, read at every event
	regs        ptRegs     // read at every stop but the 64-bit entry
	seq         uint64
	decoder     *strace.Decoder
}

// stopKind is what the vCPU's state means at a stop.
type stopKind uint8

const (
	atEntry64     stopKind = iota + 1 // entry_SYSCALL_64: arguments in registers
	atExit                            // after the entry code's call: rsp points at pt_regs
	atEntry                           // a C entry function: rdi points at pt_regs
	atFastEntry32                     // do_fast_syscall_32: atEntry, the sixth argument still on the user stack
	atHandler                         // one call's handler, for filters: rdi points at pt_regs
)

// stop is an address a listener stops at.
type stop struct {
	kind stopKind
	abi  backend.ABI
	nr   uint64 // handlers: the call they handle
}

// New finds in guest memory what the back end needs: the entry and exit
// points, the per-cpu current task, and the guest's own system call table.
func New(cfg Config) (*Backend, error) {
	b := &Backend{
		mem:     cfg.Mem,
		syms:    cfg.Symbols,
		offsets: cfg.Offsets,
		stops:   make(map[uint64]stop),
		pending: make(map[uint64]*handled),
		ptiCR3:  make(map[uint64]bool),
		procs:   make(map[uint64]knownTask),
		decoder: strace.NewDecoder(cfg.Decode),
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
	b.cross = newCrossView(cfg.Offsets, b.syms.Lookup)
	b.scratch = make([]byte, b.tasks.size())
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
	if b.exit, err = b.returnPoint("entry_SYSCALL_64", b.entry, doSyscall); err != nil {
		return nil, err
	}
	b.stops[b.entry] = stop{kind: atEntry64}
	b.stops[b.exit] = stop{kind: atExit}
	if err := b.findCompat(); err != nil {
		return nil, err
	}
	if err := b.readSyscallTable(need); err != nil {
		return nil, err
	}
	b.mem.SetStable(b.stableRanges()...)
	b.pages = b.pageCache()
	return b, nil
}

// pageCache returns the resolver of user pages through the page cache, or
// nil when the kernel lacks what it needs: then such pages stay unread.
func (b *Backend) pageCache() *linuxmm.Resolver {
	r, err := linuxmm.New(b.kernel, b.mem.Phys(), b.offsets, b.layoutBase("vmemmap_base", vmemmapBase))
	if err != nil {
		return nil
	}
	return r
}

// layoutBase returns the value of the kernel variable sym, a base address
// of the memory layout that KASLR randomizes, or def, its value without
// KASLR, when the kernel has no such variable or it reads wrong.
func (b *Backend) layoutBase(sym string, def uint64) uint64 {
	if v, ok := b.syms.Lookup(sym); ok {
		if got, err := b.kernel.U64(v); err == nil && kernelAddr(got) {
			return got
		}
	}
	return def
}

// Defaults of x86-64 Linux's memory layout (Documentation/arch/x86/x86_64/mm.rst).
const (
	directMapBase = 0xffff888000000000 // page_offset_base without KASLR
	directMapSize = 1 << 46            // 64 TiB with 4-level paging
	vmemmapBase   = 0xffffea0000000000 // the struct page array, without KASLR
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
	base := b.layoutBase("page_offset_base", directMapBase)
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

// returnPoint finds the instruction after the call to callee in the entry
// code at addr (named name): where the system calls it makes return.
func (b *Backend) returnPoint(name string, addr, callee uint64) (uint64, error) {
	code := make([]byte, exitSearchLen)
	if err := b.kernel.Read(code, addr); err != nil {
		return 0, fmt.Errorf("reading %s: %w", name, err)
	}
	at, err := ExitPoint(code, addr, callee)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return at, nil
}

// The 32-bit convention's entry code (arch/x86/entry/entry_64_compat.S,
// and the int 0x80 IDT entry since Linux 6.7 and its stable backports)
// calls a C function per instruction, which gets pt_regs in rdi; the calls
// return to the entry code with rsp at pt_regs. sysenter enters through
// do_SYSENTER_32, which calls do_fast_syscall_32 as 32-bit syscall does.
var (
	compatExits = [][2]string{ // entry code, the function it calls
		{"asm_int80_emulation", "int80_emulation"},
		{"entry_INT80_compat", "do_int80_syscall_32"},
		{"entry_SYSCALL_compat", "do_fast_syscall_32"},
		{"entry_SYSENTER_compat", "do_SYSENTER_32"},
	}
	compatEntries = map[string]stopKind{
		"int80_emulation":     atEntry,
		"do_int80_syscall_32": atEntry,
		"do_fast_syscall_32":  atFastEntry32,
	}
)

// findCompat adds the stops of the 32-bit convention, for kernels built
// with IA32 emulation.
func (b *Backend) findCompat() error {
	for _, e := range compatExits {
		code, ok1 := b.syms.Lookup(e[0])
		fn, ok2 := b.syms.Lookup(e[1])
		if !ok1 || !ok2 {
			continue
		}
		at, err := b.returnPoint(e[0], code, fn)
		if err != nil {
			return err
		}
		b.stops[at] = stop{kind: atExit, abi: backend.I386}
	}
	// sysenter's return may jump to 32-bit syscall's (Linux 6.12 does):
	// a stop there too would see every such call return twice.
	for at, st := range b.stops {
		if st.kind != atExit {
			continue
		}
		code := make([]byte, 16)
		if err := b.kernel.Read(code, at); err != nil {
			return fmt.Errorf("reading the code at %#x: %w", at, err)
		}
		if to, ok := jumpTarget(code, at); ok && b.stops[to].kind == atExit {
			delete(b.stops, at)
		}
	}
	for name, kind := range compatEntries {
		if fn, ok := b.syms.Lookup(name); ok {
			b.stops[fn] = stop{kind: kind, abi: backend.I386}
		}
	}
	return nil
}

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
			b.stops[addr] = stop{kind: atHandler, nr: uint64(nr)}
		}
		b.names = append(b.names, call)
	}
	if len(b.names) == 0 {
		return fmt.Errorf("%w: sys_call_table holds no __x64_sys_ handlers", ErrSymbol)
	}
	return nil
}

// nameUnknown names a 64-bit call the built-in table does not know after
// the guest's handler. Known calls keep strace's names: the kernel's
// handlers say newstat and newuname where strace says stat and uname.
func (b *Backend) nameUnknown(sc *backend.Syscall) {
	if sc.ABI == backend.X8664 && !strace.Known(sc.Nr) {
		if name := b.Name(sc.Nr); name != "" {
			sc.Name = name
		}
	}
}

// Stops returns where a listener stops to see every system call.
func (b *Backend) Stops() backend.Stops {
	s := backend.Stops{Entry: b.entry, Exit: b.exit}
	for addr, st := range b.stops {
		switch {
		case st.abi != backend.I386 || st.kind == atHandler:
		case st.kind == atExit:
			s.CompatExits = append(s.CompatExits, addr)
		default:
			s.CompatEntries = append(s.CompatEntries, addr)
		}
	}
	slices.Sort(s.CompatEntries)
	slices.Sort(s.CompatExits)
	return s
}

// ErrNoHandler means the guest kernel has no handler for a system call.
var ErrNoHandler = errors.New("the guest kernel has no handler")

// Handlers returns the addresses of the guest's handlers of the named
// system call, in each convention that has it, for listeners that stop
// only at chosen calls. A 32-bit handler is found by the call's name
// (__ia32_compat_sys_NAME or __ia32_sys_NAME): the few i386 calls whose
// handler has another name (mmap2, _llseek) are not filtered.
func (b *Backend) Handlers(name string) ([]uint64, error) {
	if err := strace.Check(name); err != nil {
		return nil, err
	}
	var addrs []uint64
	if nr, err := strace.Lookup(name); err == nil {
		for addr, st := range b.stops {
			if st.abi == backend.X8664 && st.kind == atHandler && st.nr == nr {
				addrs = append(addrs, addr)
			}
		}
	}
	if nr, err := strace.For(backend.I386).Lookup(name); err == nil {
		for _, prefix := range []string{"__ia32_compat_sys_", "__ia32_sys_"} {
			if addr, ok := b.syms.Lookup(prefix + name); ok {
				b.stops[addr] = stop{kind: atHandler, abi: backend.I386, nr: nr}
				addrs = append(addrs, addr)
				break
			}
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w for %s", ErrNoHandler, name)
	}
	return addrs, nil
}

// Name is the guest's name for system call nr, "" when it has none.
func (b *Backend) Name(nr uint64) string {
	if nr < uint64(len(b.names)) {
		return b.names[nr]
	}
	return ""
}

// Processes lists every task of the guest, read through the kernel's own
// page tables, with those the task list lacks but other views hold, and
// marks the tasks the views disagree on Hidden (crossView.list).
func (b *Backend) Processes() ([]backend.Process, error) {
	b.mem.Invalidate()
	return b.cross.list(&b.tasks, b.kernel, b.mem.Invalidate)
}

// Handle turns one stop into a system call. The vCPU is stopped: the
// returned call's Arguments may be changed until the listener continues.
// The call is the back end's again at the next Handle: keep a copy of its
// Syscall, not the pointer.
func (b *Backend) Handle(ev *kvm.Event) (*backend.Call, error) {
	if b.last != nil {
		b.recycle(b.last)
		b.last = nil
	}
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
	proc, err := b.process(kern, task)
	if err != nil {
		return nil, err
	}
	b.cross.saw(task, proc.TID)
	b.seq++
	h := b.alloc()
	*h = handled{call: backend.Call{Syscall: backend.Syscall{
		Seq: b.seq, Time: ev.Time, VCPU: ev.VCPU, Direction: kvm.Enter, Process: proc,
	}}}
	call, a, sc := &h.call, &h.args, &h.call.Syscall
	call.Arguments, a.user, a.sc, a.pages, a.task = a, user, sc, b.pages, task
	ret, known, err := b.locate(ev, kern, sc, a)
	if err != nil {
		return nil, err
	}
	if sc.Direction == kvm.Enter {
		b.decoder.Enter(sc, sc.Nr, a.vals, a)
	} else {
		p, ok := b.pending[task]
		delete(b.pending, task)
		sc.Matched = ok
		var entry []backend.Arg
		switch {
		case ok:
			// The entry's values are the call's, hooks' changes included:
			// by its exit, execve and rt_sigreturn have replaced the saved
			// registers.
			sc.ABI, sc.Nr, entry = p.call.ABI, p.call.Nr, p.call.Args
			a.saved(p.args.vals)
			if a.ret == inPtRegs && sc.ABI == backend.X8664 {
				ret = b.resultInFrame(user, p.args.retIP, ret)
			}
		case !known: // a filtered exit whose entry was missed
			sc.Nr = noSyscall
		}
		a.result = ret
		b.decoder.Exit(sc, sc.Nr, a.vals, ret, a, entry)
		if ok {
			b.recycle(p) // its Args stay with the Syscall copies made of it
		}
	}
	b.nameUnknown(sc)
	sc.RetText = strace.Result(sc)
	switch {
	case sc.Direction == kvm.Exit:
		b.last = h // an entry is reused after its exit
	case !sc.NoReturn(): // an exit_group's task is gone: it would stay for good
		b.remember(task, h)
	}
	return call, nil
}

// maxFree bounds the calls kept for reuse.
const maxFree = 64

func (b *Backend) alloc() *handled {
	if n := len(b.free); n > 0 {
		h := b.free[n-1]
		b.free = b.free[:n-1]
		return h
	}
	return new(handled)
}

func (b *Backend) recycle(h *handled) {
	if len(b.free) < maxFree {
		b.free = append(b.free, h)
	}
}

// locate reads what the stop at ev says of the call: its direction,
// convention, number and arguments, and at an exit the return value.
// known is false for an exit that has nothing but the return value.
func (b *Backend) locate(ev *kvm.Event, kern vmi.Space, sc *backend.Syscall, a *args) (ret uint64, known bool, err error) {
	st, ok := b.stops[ev.Regs.RIP]
	switch {
	case !ok && ev.Direction == kvm.Exit:
		// A filtered exit, back in the handler's caller, or a trapped
		// return (Nitro ioctls): the result is in rax, the rest is
		// remembered from the entry.
		sc.Direction = kvm.Exit
		a.regs, a.ret = &ev.Regs, inRegs
		return ev.Regs.RAX, false, nil
	case !ok:
		// A trapped syscall or sysenter instruction (Nitro ioctls): the
		// arguments are in the registers of the event's convention.
		if ev.Mechanism == kvm.Sysenter {
			sc.ABI = backend.I386
		}
		a.fromRegs(&ev.Regs, sc.ABI)
		sc.Nr, a.number = ev.Regs.RAX, inRegs
		return 0, true, nil
	case st.kind == atEntry64:
		a.fromRegs(&ev.Regs, backend.X8664)
		sc.Nr, a.number, a.retIP = ev.Regs.RAX, inRegs, ev.Regs.RCX // syscall put the return address in rcx
		return 0, true, nil
	}
	sc.ABI = st.abi
	at := ev.Regs.RDI // entry functions and handlers get pt_regs as their argument
	if st.kind == atExit {
		at = ev.Regs.RSP // the entry code's call has returned to it
	}
	if err := kern.Read(b.regs[:], at); err != nil {
		return 0, false, fmt.Errorf("reading pt_regs at %#x: %w", at, err)
	}
	a.fromPtRegs(&b.regs, kern, at, st.abi, st.kind != atExit)
	a.retIP = b.regs.word(ptIP)
	sc.Nr = b.number(st.abi)
	switch st.kind {
	case atExit:
		sc.Direction = kvm.Exit
		a.ret = inPtRegs
		return b.regs.word(ptAX), true, nil
	case atFastEntry32:
		a.fromStack(b.regs.word(ptSP))
	}
	if st.kind != atHandler {
		a.number = inPtRegs // the C entry function reads it from there
	}
	return 0, true, nil
}

// Where x86-64's signal frame keeps the interrupted rax and rip, from the
// user stack pointer a handler starts with: the return address, then
// struct ucontext (uc_flags, uc_link, uc_stack), whose sigcontext starts
// with r8-r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip
// (arch/x86/include/uapi/asm/sigcontext.h).
const (
	frameRAX = 8 + 40 + 13*8
	frameRIP = 8 + 40 + 16*8
)

// resultInFrame is the result of a call that returns into a signal
// handler: the kernel gives the handler rax 0 and keeps the result in the
// signal frame, for rt_sigreturn to restore, as strace shows it. It is
// taken when pt_regs (in b.regs) send the vCPU elsewhere than where the
// call returns to and the frame at the new stack saved that very place;
// otherwise ret stands.
func (b *Backend) resultInFrame(user vmi.Space, retIP, ret uint64) uint64 {
	if retIP == 0 || b.regs.word(ptIP) == retIP {
		return ret
	}
	sp := b.regs.word(ptSP)
	if ip, err := user.U64(sp + frameRIP); err != nil || ip != retIP {
		return ret
	}
	if rax, err := user.U64(sp + frameRAX); err == nil {
		return rax
	}
	return ret
}

// number is the call number in pt_regs: orig_ax, except at the start of
// int80_emulation, which finds orig_ax still -1 and the number in ax. A
// 32-bit number is the low half.
func (b *Backend) number(abi backend.ABI) uint64 {
	nr := b.regs.word(ptOrigAX)
	if abi == backend.I386 {
		if nr == ^uint64(0) {
			nr = b.regs.word(ptAX)
		}
		nr = uint64(uint32(nr))
	}
	return nr
}

// noSyscall stands for the number of a call whose entry was not seen.
const noSyscall = ^uint64(0)

// Redecode decodes a held call's arguments again, after they or the memory
// they point to were changed, and at an exit its result, which SetReturn
// may have changed.
func (b *Backend) Redecode(call *backend.Call) error {
	a, ok := call.Arguments.(*args)
	if !ok {
		return backend.ErrForeignCall
	}
	b.mem.Invalidate()
	if call.Direction == kvm.Enter {
		b.decoder.Enter(&call.Syscall, call.Nr, a.vals, a)
	} else {
		// What the call read keeps its text; what it wrote is decoded
		// after the new result (read's buffer shows as many bytes).
		b.decoder.Exit(&call.Syscall, call.Nr, a.vals, a.result, a, call.Args)
	}
	b.nameUnknown(&call.Syscall) // the exit finds the new text through its pending entry
	call.RetText = strace.Result(&call.Syscall)
	return nil
}

// process returns the Process of a task, remembered from an earlier event
// while the fields it was made from stay the same.
func (b *Backend) process(k vmi.Space, task uint64) (backend.Process, error) {
	f, err := b.tasks.fields(k, task, b.scratch)
	if err != nil {
		return backend.Process{}, err
	}
	if known, ok := b.procs[task]; ok && known.same(f) {
		return known.p, nil
	}
	p := b.tasks.process(k, task, f)
	if len(b.procs) >= maxPending {
		clear(b.procs)
	}
	b.procs[task] = knownTask{parent: f.parent, cred: f.cred, p: p}
	return p, nil
}

func (b *Backend) remember(task uint64, p *handled) {
	if _, ok := b.pending[task]; !ok && len(b.pending) >= maxPending {
		// Make room by one: clearing all would unmatch every thread's
		// call in flight.
		for t := range b.pending {
			delete(b.pending, t)
			break
		}
	}
	b.pending[task] = p
}

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
