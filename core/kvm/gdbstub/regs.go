package gdbstub

import (
	"fmt"

	"nitro/core/kvm"
	"nitro/core/kvm/rsp"
)

// regMap locates the registers an Event carries in the stub's `g` layout.
type regMap struct {
	gpr                            [18]rsp.Register // the order of kvm.Regs' fields: rax .. r15, rip, eflags
	sregs                          [9]rsp.Register  // the order of kvm.SRegs' fields
	gsBase, kernelGSBase, rip, rsp rsp.Register
	end                            int // bytes of `g` payload needed to hold them all
}

var (
	gprNames  = [18]string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags"}
	sregNames = [9]string{"cr0", "cr2", "cr3", "cr4", "cr8", "efer", "fs_base", "gs_base", "k_gs_base"}
)

func newRegMap(l *rsp.Layout) (*regMap, error) {
	m := &regMap{}
	find := func(name string) (rsp.Register, error) {
		r, ok := l.Lookup(name)
		if !ok {
			return r, fmt.Errorf("%w: the stub has no register %q (arch %q)", kvm.ErrNotSupported, name, l.Arch)
		}
		m.end = max(m.end, r.Offset+r.Size)
		return r, nil
	}
	var err error
	for i, n := range gprNames {
		if m.gpr[i], err = find(n); err != nil {
			return nil, err
		}
	}
	for i, n := range sregNames {
		if m.sregs[i], err = find(n); err != nil {
			return nil, err
		}
	}
	m.rip, m.rsp = m.gpr[16], m.gpr[7]
	m.gsBase, m.kernelGSBase = m.sregs[7], m.sregs[8]
	return m, nil
}

func gprs(r *kvm.Regs) [18]*uint64 {
	return [18]*uint64{&r.RAX, &r.RBX, &r.RCX, &r.RDX, &r.RSI, &r.RDI, &r.RBP, &r.RSP,
		&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15, &r.RIP, &r.RFlags}
}

func sregs(s *kvm.SRegs) [9]*uint64 {
	return [9]*uint64{&s.CR0, &s.CR2, &s.CR3, &s.CR4, &s.CR8, &s.EFER, &s.FSBase, &s.GSBase, &s.KernelGSBase}
}

// decode fills an event's registers from a `g` payload.
func (m *regMap) decode(raw []byte, ev *kvm.Event) error {
	if len(raw) < m.end {
		return fmt.Errorf("%w: register payload of %d bytes, want %d", rsp.ErrMalformed, len(raw), m.end)
	}
	for i, p := range gprs(&ev.Regs) {
		*p = m.gpr[i].Uint(raw)
	}
	for i, p := range sregs(&ev.SRegs) {
		*p = m.sregs[i].Uint(raw)
	}
	return nil
}
