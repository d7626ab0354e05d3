package linux

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// ErrNoExitPoint means entry_SYSCALL_64 has no direct call to do_syscall_64
// in the bytes given.
var ErrNoExitPoint = errors.New("no call to do_syscall_64 in entry_SYSCALL_64")

// exitSearchLen bounds how much of entry_SYSCALL_64 is decoded; the call
// sits within the first hundred-odd bytes on 6.1 and 6.12.
const exitSearchLen = 512

// endbr64 opens entry points on kernels built for indirect branch tracking.
var endbr64 = []byte{0xf3, 0x0f, 0x1e, 0xfa}

// ExitPoint finds the instruction right after entry_SYSCALL_64's call to
// do_syscall_64, given the code at entry. There every system call returns
// (by sysret or iret), rsp points at the task's pt_regs with the return value
// in pt_regs->ax, and gs already holds the kernel's per-cpu base.
func ExitPoint(code []byte, entry, doSyscall64 uint64) (uint64, error) {
	code = code[:min(len(code), exitSearchLen)]
	for off := 0; off < len(code); {
		if bytes.HasPrefix(code[off:], endbr64) { // x86asm does not know it
			off += len(endbr64)
			continue
		}
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			return 0, fmt.Errorf("decoding entry_SYSCALL_64+%#x: %w", off, err)
		}
		next := entry + uint64(off+inst.Len)
		if inst.Op == x86asm.CALL {
			if rel, ok := inst.Args[0].(x86asm.Rel); ok && next+uint64(int64(rel)) == doSyscall64 {
				return next, nil
			}
		}
		off += inst.Len
	}
	return 0, ErrNoExitPoint
}

// jumpTarget returns where the instruction at pc, given its code, jumps
// when it is an unconditional relative jmp.
func jumpTarget(code []byte, pc uint64) (uint64, bool) {
	inst, err := x86asm.Decode(code, 64)
	if err != nil || inst.Op != x86asm.JMP {
		return 0, false
	}
	rel, ok := inst.Args[0].(x86asm.Rel)
	if !ok {
		return 0, false
	}
	return pc + uint64(inst.Len) + uint64(int64(rel)), true
}
