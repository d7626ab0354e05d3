// Package gdbstub is a kvm.Listener over QEMU's GDB stub: it stops vCPUs
// with breakpoints at the addresses the caller gives (the system call entry
// and exit points of the 64-bit and the 32-bit conventions, or
// per-system-call handlers), turns stops into events, and
// steps over its breakpoints cheaply when resuming. It also exposes guest
// memory (physical and virtual) through the stub.
//
// QEMU's stub is all-stop: while an event is pending every vCPU is stopped,
// and Continue resumes them all. Under TCG each breakpoint stop costs QEMU
// a flush of its translation cache, so the guest slows with the number of
// stops, not with the work done per stop; per-handler breakpoints
// (Config.Handlers) keep the guest fast for the system calls not watched.
//
// Its breakpoints are software ones (Z0), hardware ones (Z1), or hardware
// ones while x86's four debug registers last and the stub takes them,
// software beyond (Config.Breakpoints): under KVM only hardware ones stay
// out of the guest's memory, where code in the guest could read an int3.
//
// It works with stock QEMU, under TCG or KVM, and knows nothing of guest
// operating systems beyond x86 instructions.
package gdbstub
