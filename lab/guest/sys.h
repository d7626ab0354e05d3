/*
 * Raw x86-64 Linux system calls for the lab's workload programs. They are
 * built without libc so that the only system calls they make are the ones
 * written in their source: the end-to-end tests compare traces against them.
 */
#ifndef NITRO_LAB_SYS_H
#define NITRO_LAB_SYS_H

#include "text.h"

#define SYS_read 0
#define SYS_write 1
#define SYS_close 3
#define SYS_getpid 39
#define SYS_getppid 110
#define SYS_unlink 87
#define SYS_clock_gettime 228
#define SYS_exit_group 231
#define SYS_openat 257

#define AT_FDCWD -100
#define O_RDONLY 0
#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000
#define CLOCK_MONOTONIC 1

static inline long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define sys1(nr, a) sys6(nr, (long)(a), 0, 0, 0, 0, 0)
#define sys3(nr, a, b, c) sys6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(nr, a, b, c, d) sys6(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* Entry point: align the stack and call main_c(sp); main_c never returns. */
__asm__(".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call main_c\n"
	"	ud2\n");

static inline __attribute__((noreturn)) void sys_exit(int code)
{
	for (;;)
		sys1(SYS_exit_group, code);
}

#endif
