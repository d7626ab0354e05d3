/*
 * Prints the sizes, field offsets and ioctl request numbers the Go side must
 * match. The Nitro declarations are those of include/linux/nitro.h in
 * KVM-VMI/kvm (the kernel patch), restated here since no installed header
 * has them.
 *
 * Output lines: "size STRUCT N", "offset STRUCT FIELD N", "ioctl NAME N".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/kvm.h>

#define NITRO_MAX_VCPUS 64

enum syscall_direction { ENTER, EXIT };
enum syscall_type { SYSENTER, SYSCALL };

struct event {
	bool present;
	enum syscall_direction direction;
	enum syscall_type type;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

struct nitro_vcpus {
	int num_vcpus;
	int ids[NITRO_MAX_VCPUS];
	int fds[NITRO_MAX_VCPUS];
};

#define KVM_NITRO_ATTACH_VM		_IOW(KVMIO, 0xE1, pid_t)
#define KVM_NITRO_ATTACH_VCPUS		_IOR(KVMIO, 0xE2, struct nitro_vcpus)
#define KVM_NITRO_SET_SYSCALL_TRAP	_IOW(KVMIO, 0xE3, bool)
#define KVM_NITRO_GET_EVENT		_IOR(KVMIO, 0xE5, struct event)
#define KVM_NITRO_CONTINUE		_IO(KVMIO, 0xE6)
#define KVM_NITRO_GET_REGS		_IOR(KVMIO, 0xE7, struct kvm_regs)
#define KVM_NITRO_SET_REGS		_IOW(KVMIO, 0xE8, struct kvm_regs)
#define KVM_NITRO_GET_SREGS		_IOR(KVMIO, 0xE9, struct kvm_sregs)
#define KVM_NITRO_SET_SREGS		_IOW(KVMIO, 0xEA, struct kvm_sregs)
/* As the Python client (nitro/kvm.py) encodes them. */
#define KVM_NITRO_ADD_SYSCALL_FILTER	_IOR(KVMIO, 0xEB, unsigned long long)
#define KVM_NITRO_REMOVE_SYSCALL_FILTER	_IOR(KVMIO, 0xEC, unsigned long long)

#define SIZE(s) printf("size %s %zu\n", #s, sizeof(struct s))
#define OFF(s, f) printf("offset %s %s %zu\n", #s, #f, offsetof(struct s, f))
#define IOCTL(r) printf("ioctl %s %lu\n", #r, (unsigned long)(r))

int main(void)
{
	SIZE(kvm_regs);
	OFF(kvm_regs, rax); OFF(kvm_regs, rbx); OFF(kvm_regs, rcx); OFF(kvm_regs, rdx);
	OFF(kvm_regs, rsi); OFF(kvm_regs, rdi); OFF(kvm_regs, rsp); OFF(kvm_regs, rbp);
	OFF(kvm_regs, r8); OFF(kvm_regs, r9); OFF(kvm_regs, r10); OFF(kvm_regs, r11);
	OFF(kvm_regs, r12); OFF(kvm_regs, r13); OFF(kvm_regs, r14); OFF(kvm_regs, r15);
	OFF(kvm_regs, rip); OFF(kvm_regs, rflags);

	SIZE(kvm_segment);
	OFF(kvm_segment, base); OFF(kvm_segment, limit); OFF(kvm_segment, selector);
	OFF(kvm_segment, type); OFF(kvm_segment, present); OFF(kvm_segment, dpl);
	OFF(kvm_segment, db); OFF(kvm_segment, s); OFF(kvm_segment, l);
	OFF(kvm_segment, g); OFF(kvm_segment, avl); OFF(kvm_segment, unusable);
	OFF(kvm_segment, padding);

	SIZE(kvm_dtable);
	OFF(kvm_dtable, base); OFF(kvm_dtable, limit); OFF(kvm_dtable, padding);

	SIZE(kvm_sregs);
	OFF(kvm_sregs, cs); OFF(kvm_sregs, ds); OFF(kvm_sregs, es); OFF(kvm_sregs, fs);
	OFF(kvm_sregs, gs); OFF(kvm_sregs, ss); OFF(kvm_sregs, tr); OFF(kvm_sregs, ldt);
	OFF(kvm_sregs, gdt); OFF(kvm_sregs, idt);
	OFF(kvm_sregs, cr0); OFF(kvm_sregs, cr2); OFF(kvm_sregs, cr3); OFF(kvm_sregs, cr4);
	OFF(kvm_sregs, cr8); OFF(kvm_sregs, efer); OFF(kvm_sregs, apic_base);
	OFF(kvm_sregs, interrupt_bitmap);

	SIZE(event);
	OFF(event, present); OFF(event, direction); OFF(event, type);
	OFF(event, regs); OFF(event, sregs);

	SIZE(nitro_vcpus);
	OFF(nitro_vcpus, num_vcpus); OFF(nitro_vcpus, ids); OFF(nitro_vcpus, fds);

	printf("enum ENTER %d\nenum EXIT %d\nenum SYSENTER %d\nenum SYSCALL %d\n",
	       ENTER, EXIT, SYSENTER, SYSCALL);

	IOCTL(KVM_NITRO_ATTACH_VM);
	IOCTL(KVM_NITRO_ATTACH_VCPUS);
	IOCTL(KVM_NITRO_SET_SYSCALL_TRAP);
	IOCTL(KVM_NITRO_GET_EVENT);
	IOCTL(KVM_NITRO_CONTINUE);
	IOCTL(KVM_NITRO_GET_REGS);
	IOCTL(KVM_NITRO_SET_REGS);
	IOCTL(KVM_NITRO_GET_SREGS);
	IOCTL(KVM_NITRO_SET_SREGS);
	IOCTL(KVM_NITRO_ADD_SYSCALL_FILTER);
	IOCTL(KVM_NITRO_REMOVE_SYSCALL_FILTER);
	/* A stock request, as a check on the Go encoder itself. */
	IOCTL(KVM_GET_REGS);
	return 0;
}
