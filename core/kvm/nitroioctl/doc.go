// Package nitroioctl is a kvm.Listener for hosts whose KVM carries the Nitro
// patch (github.com/KVM-VMI/kvm): it attaches to a QEMU process's VM through
// the KVM_NITRO_* ioctls on /dev/kvm, turns the in-kernel system call trap on
// and reports each trapped vCPU as a kvm.Event until it is continued.
//
// It has never run against a real Nitro-patched KVM: no such kernel was
// reachable while it was written, and the development machine's /dev/kvm is
// not usable. What is checked instead: the ioctl request numbers and the
// layouts of kvm_regs, kvm_sregs, kvm_segment, kvm_dtable and the Nitro
// structs against the C compiler (a test builds testdata/layout.c against
// <linux/kvm.h>), and the event loop against a fake kernel. The request
// numbers and structs follow the original header (include/linux/nitro.h of
// KVM-VMI/kvm) and the Python client (nitro/kvm.py of KVM-VMI/nitro); later
// forks that grew struct event (nr, args, ret, metadata) are not supported.
//
// Each vCPU has a reader goroutine in KVM_NITRO_GET_EVENT, which the kernel
// ends after 1000 jiffies without an event; that timeout is when a reader
// notices Close or a vanished QEMU process. KernelGSBase is an MSR, outside
// kvm_sregs, so events carry it as zero.
//
// Every raw ioctl goes through one function value (sys.ioctl), so tests
// replace the kernel; apart from it the package only opens /dev/kvm, closes
// descriptors and probes the QEMU pid with kill(pid, 0).
package nitroioctl
