package nitroioctl

import (
	"unsafe"

	"nitro/core/kvm"
)

// Request numbers, encoded as the kernel's _IOC macros do on x86:
// direction in bits 30-31, argument size in bits 16-29, type, then number.
const (
	kvmio = 0xAE

	iocNone  = 0
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, nr, size uintptr) uint {
	return uint(dir<<30 | size<<16 | kvmio<<8 | nr)
}

// maxVCPUs is NITRO_MAX_VCPUS: the size of the arrays in struct nitro_vcpus.
const maxVCPUs = 64

// The directions are the ones the patched kernel's header declares, not the
// ones the data flow suggests: the kernel matches the whole number, so
// ADD/REMOVE_SYSCALL_FILTER stay _IOR although they pass data in, as the
// Python client has them.
var (
	reqAttachVM            = ioc(iocWrite, 0xE1, unsafe.Sizeof(int32(0))) // pid_t
	reqAttachVCPUs         = ioc(iocRead, 0xE2, unsafe.Sizeof(nitroVCPUs{}))
	reqSetSyscallTrap      = ioc(iocWrite, 0xE3, unsafe.Sizeof(false))
	reqGetEvent            = ioc(iocRead, 0xE5, unsafe.Sizeof(rawEvent{}))
	reqContinue            = ioc(iocNone, 0xE6, 0)
	reqGetRegs             = ioc(iocRead, 0xE7, unsafe.Sizeof(kvmRegs{}))
	reqSetRegs             = ioc(iocWrite, 0xE8, unsafe.Sizeof(kvmRegs{}))
	reqGetSRegs            = ioc(iocRead, 0xE9, unsafe.Sizeof(kvmSRegs{}))
	reqSetSRegs            = ioc(iocWrite, 0xEA, unsafe.Sizeof(kvmSRegs{}))
	reqAddSyscallFilter    = ioc(iocRead, 0xEB, unsafe.Sizeof(uint64(0)))
	reqRemoveSyscallFilter = ioc(iocRead, 0xEC, unsafe.Sizeof(uint64(0)))
)

// kvmRegs is struct kvm_regs (arch/x86/include/uapi/asm/kvm.h).
type kvmRegs struct {
	RAX, RBX, RCX, RDX uint64
	RSI, RDI, RSP, RBP uint64
	R8, R9, R10, R11   uint64
	R12, R13, R14, R15 uint64
	RIP, RFlags        uint64
}

// kvmSegment is struct kvm_segment.
type kvmSegment struct {
	Base                         uint64
	Limit                        uint32
	Selector                     uint16
	Type, Present, DPL, DB, S, L uint8
	G, AVL, Unusable, Padding    uint8
}

// kvmDTable is struct kvm_dtable.
type kvmDTable struct {
	Base    uint64
	Limit   uint16
	Padding [3]uint16
}

// kvmSRegs is struct kvm_sregs.
type kvmSRegs struct {
	CS, DS, ES, FS, GS, SS, TR, LDT kvmSegment
	GDT, IDT                        kvmDTable
	CR0, CR2, CR3, CR4, CR8         uint64
	EFER                            uint64
	APICBase                        uint64
	InterruptBitmap                 [(256 + 63) / 64]uint64 // KVM_NR_INTERRUPTS bits
}

// rawEvent is the Nitro struct event: C bool, two C enums, then the
// registers at their natural 8-byte alignment.
type rawEvent struct {
	Present   uint8
	Direction uint32 // enum syscall_direction: ENTER, EXIT
	Type      uint32 // enum syscall_type: SYSENTER, SYSCALL
	Regs      kvmRegs
	SRegs     kvmSRegs
}

// The kernel's enum values, which differ in order from kvm.Mechanism.
const (
	rawEnter    = 0
	rawExit     = 1
	rawSysenter = 0
	rawSyscall  = 1
)

// nitroVCPUs is struct nitro_vcpus, filled by KVM_NITRO_ATTACH_VCPUS.
type nitroVCPUs struct {
	NumVCPUs int32
	IDs      [maxVCPUs]int32
	FDs      [maxVCPUs]int32
}

func (r *kvmRegs) toKVM() kvm.Regs {
	return kvm.Regs{
		RAX: r.RAX, RBX: r.RBX, RCX: r.RCX, RDX: r.RDX,
		RSI: r.RSI, RDI: r.RDI, RBP: r.RBP, RSP: r.RSP,
		R8: r.R8, R9: r.R9, R10: r.R10, R11: r.R11,
		R12: r.R12, R13: r.R13, R14: r.R14, R15: r.R15,
		RIP: r.RIP, RFlags: r.RFlags,
	}
}

func regsFromKVM(r *kvm.Regs) kvmRegs {
	return kvmRegs{
		RAX: r.RAX, RBX: r.RBX, RCX: r.RCX, RDX: r.RDX,
		RSI: r.RSI, RDI: r.RDI, RBP: r.RBP, RSP: r.RSP,
		R8: r.R8, R9: r.R9, R10: r.R10, R11: r.R11,
		R12: r.R12, R13: r.R13, R14: r.R14, R15: r.R15,
		RIP: r.RIP, RFlags: r.RFlags,
	}
}

// toKVM keeps what a back end needs. KernelGSBase is an MSR, not part of
// kvm_sregs, so it stays zero.
func (s *kvmSRegs) toKVM() kvm.SRegs {
	return kvm.SRegs{
		CR0: s.CR0, CR2: s.CR2, CR3: s.CR3, CR4: s.CR4, CR8: s.CR8,
		EFER:   s.EFER,
		FSBase: s.FS.Base,
		GSBase: s.GS.Base,
	}
}

// direction and mechanism map the kernel's enums; ok is false for values
// this package does not know.
func (e *rawEvent) direction() (d kvm.Direction, ok bool) {
	switch e.Direction {
	case rawEnter:
		return kvm.Enter, true
	case rawExit:
		return kvm.Exit, true
	}
	return 0, false
}

func (e *rawEvent) mechanism() (m kvm.Mechanism, ok bool) {
	switch e.Type {
	case rawSyscall:
		return kvm.Syscall, true
	case rawSysenter:
		return kvm.Sysenter, true
	}
	return 0, false
}
