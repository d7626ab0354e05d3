package kvm

import (
	"context"
	"errors"
	"fmt"
	"nitro/api"
	"time"
)

// Direction says whether an event is a system call entering or leaving the
// kernel: the faces' own type (package api), so an event's direction passes
// through every layer unchanged.
type Direction = api.Direction

const (
	Enter = api.Enter
	Exit  = api.Exit
)

// Mechanism is how the guest entered the kernel, as far as a stop tells.
type Mechanism uint8

const (
	// Syscall is the 64-bit syscall instruction.
	Syscall Mechanism = iota
	// Sysenter is the 32-bit convention: sysenter, 32-bit syscall or int
	// 0x80. Linux funnels them into shared code, where the gdbstub listener
	// stops, and the Nitro ioctls report sysenter alone.
	Sysenter
)

func (m Mechanism) String() string {
	switch m {
	case Syscall:
		return "syscall"
	case Sysenter:
		return "sysenter"
	}
	return fmt.Sprintf("mechanism(%d)", uint8(m))
}

// Regs are the x86-64 general registers of a stopped vCPU.
type Regs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RIP, RFlags                            uint64
}

// SRegs are the special registers a back end needs to read guest memory and
// find the current task.
type SRegs struct {
	CR0, CR2, CR3, CR4, CR8, EFER uint64
	FSBase, GSBase, KernelGSBase  uint64
}

// Event is one stop of one vCPU at a system call boundary. The vCPU stays
// stopped until the Listener is told to Continue, so handlers may read guest
// memory and change registers in between.
type Event struct {
	VCPU      int
	Direction Direction
	Mechanism Mechanism
	Regs      Regs
	SRegs     SRegs
	Time      time.Time // host time at which the stop was seen
}

// Listener is a source of system call events from one VM.
//
// Next blocks until an event arrives; the event's vCPU is then stopped. The
// caller may change ev.Regs and call SetRegs, and must Continue the event
// before its vCPU can report again; events of other vCPUs may arrive in the
// meantime. Close detaches: no breakpoint or trap is left behind and the VM
// runs, whatever state the listener was in.
type Listener interface {
	Next(ctx context.Context) (*Event, error)
	SetRegs(ev *Event) error
	Continue(ev *Event) error
	Close() error
}

// Sentinel errors shared by every listener implementation.
var (
	// ErrDetached is returned by Next after Close, or when the VM went away.
	ErrDetached = errors.New("listener detached")
	// ErrNotSupported means the host or VM lacks what this listener needs.
	ErrNotSupported = api.ErrNotSupported
	// ErrResumedOutside, from SetRegs or Continue, means the VM was resumed
	// from outside (QEMU's monitor: virsh resume) while the event held it:
	// the call ran on unchanged and the event is gone; Next goes on from
	// where the VM stopped since.
	ErrResumedOutside = errors.New("the VM was resumed outside nitro while a call was held")
)

// RegNames are the general registers in the order Regs.Ref knows them.
var RegNames = []string{
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags",
}

// Ref returns the register called name (as in RegNames), for reading or
// changing it by name.
func (r *Regs) Ref(name string) (*uint64, bool) {
	refs := [...]*uint64{
		&r.RAX, &r.RBX, &r.RCX, &r.RDX, &r.RSI, &r.RDI, &r.RBP, &r.RSP,
		&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15, &r.RIP, &r.RFlags,
	}
	for i, n := range RegNames {
		if n == name {
			return refs[i], true
		}
	}
	return nil, false
}
