// Package kvm attaches to a running virtual machine's vCPUs and yields
// low-level system call events: which vCPU, entering or leaving the kernel,
// by which mechanism, with general and special registers.
//
// It knows nothing of guest operating systems: callers say where to stop
// (addresses) or which system call numbers to trap. Implementations live in
// sub-packages: gdbstub (QEMU's GDB stub; stock QEMU under TCG or KVM) and
// nitroioctl (the KVM_NITRO_* ioctls of a Nitro-patched KVM).
package kvm
