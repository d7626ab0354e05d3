package gdbstub

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"nitro/core/kvm/rsp"
)

// Under TCG, QEMU 7.2 flushes its whole translation cache at every debug
// stop, single steps included; so the listener gets past the instruction
// at a breakpoint by emulating it with register and memory writes when it
// is one of the few kinds found at Linux's syscall entry, exit paths and
// function starts. Anything else gets a real step. Instructions that set
// flags always get a real step: see arithFlags.
//
// The writes of an emulation reach the stub one packet at a time, and
// nitro may die between two of them; its guard then lets the vCPU run on
// from the breakpoint's address with whatever was written. So every
// prefix of an emulation's writes must leave a state that running the
// instruction again (or skipping it, once rip moved) gets right: only
// instructions whose writes can be so ordered are emulated.

// stepKind says how to get a vCPU past the instruction at a breakpoint.
type stepKind uint8

const (
	stepSingle stepKind = iota // remove the breakpoint, step, re-insert
	stepSkip                   // nop, endbr64: move rip
	stepSwapgs                 // swap gs_base and k_gs_base
	stepMov                    // 64-bit mov between registers and memory
	stepJmp                    // jmp to a relative target
)

// stepPlan is the decoded instruction at one breakpoint address.
type stepPlan struct {
	kind stepKind
	len  uint64
	inst x86asm.Inst
}

var endbr64 = []byte{0xf3, 0x0f, 0x1e, 0xfa}

// planStep decodes the instruction at a breakpoint.
func planStep(code []byte) stepPlan {
	if bytes.HasPrefix(code, endbr64) { // unknown to x86asm
		return stepPlan{kind: stepSkip, len: uint64(len(endbr64))}
	}
	inst, err := x86asm.Decode(code, 64)
	if err != nil {
		return stepPlan{kind: stepSingle}
	}
	p := stepPlan{len: uint64(inst.Len), inst: inst}
	switch {
	case inst.Op == x86asm.NOP:
		p.kind = stepSkip
	case inst.Op == x86asm.SWAPGS:
		p.kind = stepSwapgs
	case inst.Op == x86asm.MOV && inst.DataSize == 64 && movable(inst.Args[0], inst.Args[1]):
		p.kind = stepMov
	case inst.Op == x86asm.JMP && isRel(inst.Args[0]):
		p.kind = stepJmp
	}
	return p
}

// movable accepts register-to-register, load and store forms. A load
// whose address uses its destination is not: run again after the write,
// it would load from elsewhere.
func movable(dst, src x86asm.Arg) bool {
	_, dstMem := dst.(x86asm.Mem)
	srcMem, isLoad := src.(x86asm.Mem)
	return gpr64(dst) && (gpr64(src) || isLoad && memOK(src) && srcMem.Base != dst && srcMem.Index != dst) ||
		dstMem && memOK(dst) && gpr64(src)
}

func isRel(a x86asm.Arg) bool {
	_, ok := a.(x86asm.Rel)
	return ok
}

func gpr64(a x86asm.Arg) bool {
	r, ok := a.(x86asm.Reg)
	return ok && r >= x86asm.RAX && r <= x86asm.R15
}

// memOK accepts the addressing the emulator computes: 64-bit base and
// index (or rip-relative), no segment but fs and gs.
func memOK(a x86asm.Arg) bool {
	m := a.(x86asm.Mem)
	segOK := m.Segment == 0 || m.Segment == x86asm.FS || m.Segment == x86asm.GS
	baseOK := m.Base == 0 || m.Base == x86asm.RIP || gpr64(m.Base)
	return segOK && baseOK && (m.Index == 0 || gpr64(m.Index))
}

// emulate applies the plan's instruction to a stopped vCPU. It reports
// false, having changed nothing, when the instruction cannot be emulated
// (a memory access fails: a real step raises the fault in the guest).
func (l *Listener) emulate(st *stop, rip uint64, p stepPlan) (bool, error) {
	next := rip + p.len
	var writes []regWrite // in an order whose every prefix is safe to die after
	switch p.kind {
	case stepSkip:
	case stepSwapgs:
		// gs_base first: with both bases the kernel's, swapgs run again
		// keeps the kernel on its own; then rip; the user's base last.
		writes = []regWrite{
			{l.regs.gsBase, l.regs.kernelGSBase.Uint(st.raw)},
			{l.regs.rip, next},
			{l.regs.kernelGSBase, l.regs.gsBase.Uint(st.raw)},
		}
	case stepMov:
		dst, src := p.inst.Args[0], p.inst.Args[1]
		switch {
		case gpr64(dst) && gpr64(src):
			writes = []regWrite{{l.gpr(dst), l.reg(st, src)}}
		case gpr64(dst):
			var b [8]byte
			if l.c.ReadVirt(b[:], l.addr(st, src.(x86asm.Mem), next)) != nil {
				return false, nil
			}
			writes = []regWrite{{l.gpr(dst), binary.LittleEndian.Uint64(b[:])}}
		default:
			if !l.store(l.addr(st, dst.(x86asm.Mem), next), l.reg(st, src)) {
				return false, nil
			}
		}
	case stepJmp:
		next += uint64(int64(p.inst.Args[0].(x86asm.Rel)))
	default:
		return false, nil
	}
	if p.kind != stepSwapgs {
		writes = append(writes, regWrite{l.regs.rip, next}) // what the instruction did, then past it
	}
	for _, w := range writes {
		if err := l.c.WriteRegisterUint(w.r, w.v); err != nil {
			return false, fmt.Errorf("emulating %v at %#x: %w", p.inst, rip, err)
		}
		w.r.PutUint(st.raw, w.v)
	}
	return true, nil
}

type regWrite struct {
	r rsp.Register
	v uint64
}

func (l *Listener) store(addr, v uint64) bool {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return l.c.WriteVirt(b[:], addr) == nil
}

// gpr finds a general register of the stub's layout by x86asm's name.
func (l *Listener) gpr(a x86asm.Arg) rsp.Register {
	r, _ := l.c.Layout().Lookup(strings.ToLower(a.String()))
	return r
}

func (l *Listener) reg(st *stop, a x86asm.Arg) uint64 { return l.gpr(a).Uint(st.raw) }

// addr computes a memory operand's virtual address.
func (l *Listener) addr(st *stop, m x86asm.Mem, next uint64) uint64 {
	a := uint64(m.Disp)
	switch {
	case m.Base == x86asm.RIP:
		a += next
	case m.Base != 0:
		a += l.reg(st, m.Base)
	}
	if m.Index != 0 {
		a += l.reg(st, m.Index) * uint64(m.Scale)
	}
	switch m.Segment {
	case x86asm.FS:
		a += l.regs.sregs[6].Uint(st.raw)
	case x86asm.GS:
		a += l.regs.gsBase.Uint(st.raw)
	}
	return a
}
