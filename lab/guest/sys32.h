/*
 * Raw i386 Linux system calls for nitro-probe32, built with gcc -m32 and no
 * libc, so that the only system calls it makes are the ones in its source.
 * A call enters the kernel one of two ways: int $0x80 directly, or a call to
 * the vDSO's __kernel_vsyscall, which enters with sysenter (Intel), 32-bit
 * syscall (AMD) or int $0x80, whichever the kernel patched in at boot.
 * Arguments go in ebx, ecx, edx (then esi, edi, ebp, unused here), the
 * number in eax; the result comes back in eax.
 */
#ifndef NITRO_LAB_SYS32_H
#define NITRO_LAB_SYS32_H

#include "text.h"

#define SYS_read 3
#define SYS_write 4
#define SYS_open 5
#define SYS_close 6
#define SYS_getpid 20
#define SYS_getppid 64
#define SYS_exit_group 252

#define O_RDONLY 0

/* The auxiliary vector's key for __kernel_vsyscall's address. */
#define AT_NULL 0
#define AT_SYSINFO 32

static inline long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

/* __kernel_vsyscall keeps every register but eax, as int $0x80 does. */
static inline long vsyscall(unsigned long entry, long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("call *%[entry]"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c), [entry] "S"(entry)
			 : "memory");
	return ret;
}

/* Entry point: align the stack and call main_c(sp); main_c never returns. */
__asm__(".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %esp, %eax\n"
	"	and $-16, %esp\n"
	"	sub $12, %esp\n"
	"	push %eax\n"
	"	call main_c\n"
	"	ud2\n");

/* Finds key in the auxiliary vector above argv and envp on the initial stack; 0 if absent. */
static inline unsigned long auxv_get(const unsigned long *sp, unsigned long key)
{
	const unsigned long *p = sp + 1 + sp[0] + 1; /* argc, argv..., NULL */
	while (*p)
		p++; /* envp... */
	for (p++; p[0] != AT_NULL; p += 2)
		if (p[0] == key)
			return p[1];
	return 0;
}

#endif
