package linux

import (
	"errors"
	"fmt"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/backend/linux/strace"
	"nitro/core/kvm"
	"nitro/core/vmi"
	"nitro/core/vmi/linuxmm"
)

// maxArgBytes bounds one ReadBytes of guest memory.
const maxArgBytes = 1 << 20

// argWords are the pt_regs words holding the six arguments, by convention.
var argWords = [...][6]int{
	backend.X8664: {ptDI, ptSI, ptDX, ptR10, ptR8, ptR9},
	backend.I386:  {ptBX, ptCX, ptDX, ptSI, ptDI, ptBP},
}

// source is where a call's argument values live while its vCPU is stopped,
// which decides how a change reaches the kernel.
type source uint8

const (
	ran      source = iota // the call has run: read-only
	inRegs                 // the vCPU's registers, written back before it runs on
	inPtRegs               // the user registers saved on the task's kernel stack
)

// args is the ArgumentMap of one call, and the decoder's view of the
// calling process's memory.
type args struct {
	vals [6]uint64
	user vmi.Space // the calling process's memory, where pointers point
	// pages reads what user's page tables do not map yet from the
	// calling task's page cache (nil: the kernel's layout is unknown).
	pages *linuxmm.Resolver
	task  uint64 // the calling task
	src   source

	regs *kvm.Regs // inRegs, with the convention that reads them
	abi  backend.ABI

	// inPtRegs: pt_regs in kernel memory and the words of the arguments.
	kern   vmi.Space
	ptRegs uint64
	words  *[6]int
	// stackArg is the user address of a 32-bit fast system call's sixth
	// argument, which the kernel loads into pt_regs->bp only after the
	// entry stop; 0 when it is in pt_regs.
	stackArg uint64

	// number says where the call's number can still change: nowhere, the
	// vCPU's rax (before the entry code saved it), or pt_regs' orig_ax
	// and ax (the C entry functions read it from there).
	number source
	// ret says where the return value goes at an exit: nowhere (an
	// entry), rax (the call has left pt_regs behind), or pt_regs' ax.
	ret source
	// result is the return value at an exit, as SetReturn left it.
	result uint64

	sc *backend.Syscall // the call, for its convention and number
	// retIP is where the call returns to user mode, read at its entry
	// (0: unknown).
	retIP uint64
	// sp is the user stack pointer at an entry (0: unknown), below which
	// data that does not fit where an argument points goes; below is
	// the lowest address handed out so far, so that two pieces of data
	// of one held call do not overlap.
	sp, below uint64
}

// handled is a call and its arguments, allocated together: one allocation
// per event.
type handled struct {
	call backend.Call
	args args
}

// fromRegs takes the arguments of a call stopped where they are still in
// the vCPU's registers: the 64-bit entry point, or the instruction itself
// for listeners that trap it.
func (a *args) fromRegs(r *kvm.Regs, abi backend.ABI) {
	// The syscall instruction leaves rsp alone: at entry_SYSCALL_64's
	// first instruction, as on the instruction itself, it is the user's.
	a.src, a.regs, a.abi, a.sp = inRegs, r, abi, r.RSP
	for i, p := range argRegs(r, abi) {
		a.vals[i] = *p
	}
}

// argRegs are the registers holding the six arguments, by convention.
func argRegs(r *kvm.Regs, abi backend.ABI) [6]*uint64 {
	if abi == backend.I386 {
		return [6]*uint64{&r.RBX, &r.RCX, &r.RDX, &r.RSI, &r.RDI, &r.RBP}
	}
	return [6]*uint64{&r.RDI, &r.RSI, &r.RDX, &r.R10, &r.R8, &r.R9}
}

// ptRegs is struct pt_regs as read from a task's kernel stack.
type ptRegs [8 * ptWords]byte

// word returns word i of the registers.
func (r *ptRegs) word(i int) uint64 { return le64(r[:], i) }

// fromPtRegs takes the arguments of abi from the pt_regs r read at addr;
// writable says whether changes still reach the kernel.
func (a *args) fromPtRegs(r *ptRegs, kern vmi.Space, addr uint64, abi backend.ABI, writable bool) {
	a.kern, a.ptRegs, a.words, a.sp = kern, addr, &argWords[abi], r.word(ptSP)
	if writable {
		a.src = inPtRegs
	}
	for i, w := range a.words {
		a.vals[i] = r.word(w)
	}
}

// fromStack takes the sixth argument of a 32-bit fast system call from
// where the vDSO put it, the top of the user stack at sp. When that is
// unreadable the argument shows as 0: the kernel fails the call with
// EFAULT, and the call is still traced.
func (a *args) fromStack(sp uint64) {
	a.stackArg, a.vals[5] = uint64(uint32(sp)), 0
	if v, err := a.user.U32(a.stackArg); err == nil {
		a.vals[5] = uint64(v)
	}
}

// saved takes values remembered from the call's entry.
func (a *args) saved(vals [6]uint64) {
	a.src, a.vals = ran, vals
}

func (a *args) Len() int { return len(a.vals) }

func (a *args) Shown(i int) int { return strace.ArgRegister(a.sc, i) }

// StackPointer lets the decoder read what a call takes from the user
// stack (rt_sigreturn's signal mask).
func (a *args) StackPointer() (uint64, bool) { return a.sp, a.sp != 0 }

func (a *args) Get(i int) uint64 {
	if i < 0 || i >= len(a.vals) {
		return 0
	}
	return a.vals[i]
}

func (a *args) Set(i int, v uint64) error {
	if i < 0 || i >= len(a.vals) {
		return fmt.Errorf("no argument %d", i)
	}
	switch {
	case a.src == ran:
		return api.ErrReadOnlyArgs
	case a.src == inRegs:
		*argRegs(a.regs, a.abi)[i] = v
	case i == 5 && a.stackArg != 0:
		if err := a.user.PutU32(a.stackArg, uint32(v)); err != nil {
			return fmt.Errorf("writing argument %d to the user stack: %w", i, err)
		}
	default:
		if err := a.kern.PutU64(a.ptRegs+8*uint64(a.words[i]), v); err != nil {
			return fmt.Errorf("writing argument %d to pt_regs: %w", i, err)
		}
	}
	a.vals[i] = v
	return nil
}

func (a *args) ReadBytes(i, n int) ([]byte, error) {
	if n < 0 || n > maxArgBytes {
		return nil, fmt.Errorf("reading %d bytes at argument %d: length out of range", n, i)
	}
	b := make([]byte, n)
	if err := a.read(b, a.Get(i)); err != nil {
		return nil, fmt.Errorf("reading argument %d's memory: %w", i, err)
	}
	return b, nil
}

func (a *args) WriteBytes(i int, b []byte) error {
	if err := a.user.Write(b, a.Get(i)); err != nil {
		return fmt.Errorf("writing argument %d's memory: %w", i, err)
	}
	return nil
}

func (a *args) SetNumber(nr uint64) error {
	switch a.number {
	case inRegs:
		a.regs.RAX = nr
		return nil
	case inPtRegs:
		for _, w := range []int{ptOrigAX, ptAX} {
			if err := a.kern.PutU64(a.ptRegs+8*uint64(w), nr); err != nil {
				return fmt.Errorf("writing the call's number to pt_regs: %w", err)
			}
		}
		return nil
	}
	return api.ErrNotAtEntry
}

func (a *args) SetReturn(v uint64) error {
	switch a.ret {
	case inRegs:
		a.regs.RAX = v
	case inPtRegs:
		if err := a.kern.PutU64(a.ptRegs+8*ptAX, v); err != nil {
			return fmt.Errorf("writing the return value to pt_regs: %w", err)
		}
	default:
		return api.ErrNotAtExit
	}
	a.result = v
	return nil
}

// ReadVirt lets the decoder read the calling process's memory.
func (a *args) ReadVirt(p []byte, va uint64) error { return a.read(p, va) }

// read fills p from the calling process's memory at va. Where its page
// tables map nothing yet (a forked child's untouched file pages), it reads
// what the kernel would fault in, from the page cache; reads that
// translate never get there and cost what they did.
func (a *args) read(p []byte, va uint64) error {
	err := a.user.Read(p, va)
	if err == nil || a.pages == nil || !errors.Is(err, vmi.ErrNotPresent) {
		return err
	}
	return a.pages.ReadUser(a.user, a.task, p, va)
}
