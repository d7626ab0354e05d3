/*
 * nitro-forkexec: a fork whose child calls execve with a path and argv that
 * its page tables do not map, as a freshly forked child's often are:
 *
 *   fork()                                                   = CHILD
 *   child:  execve("/bin/true", ["/bin/true", "nitro-forkexec-arg"], [])
 *   wait4(CHILD, NULL, 0, NULL)                              = CHILD
 *   write(1, "nitro-forkexec: child CHILD execve \"/bin/true\" [\"/bin/true\", \"nitro-forkexec-arg\"]\n", N) = N
 *   exit_group(0)
 *
 * The strings live in a page of .rodata of their own that no code reads
 * before the execve: the child names them by address only. Fork copies no
 * page-table entries of a read-only file mapping, so the child's tables
 * never map that page (whatever the parent's do), while the kernel reads
 * the strings from the program's page cache (the initramfs is page cache):
 * a tracer has to resolve them as the kernel does. The parent prints them,
 * in strace's form, after the child has gone, for the tests to compare.
 */
#include "sys.h"

#define SYS_fork 57
#define SYS_execve 59
#define SYS_wait4 61

/* The page: the path at offset 0, the argument at ARG. */
#define ARG 10
static const char untouched[4096] __attribute__((aligned(4096), section(".rodata.nitro_untouched"))) =
	"/bin/true\0nitro-forkexec-arg";

/* Appends s as strace quotes it (these strings need no escapes). */
static unsigned long put_quoted(char *buf, unsigned long pos, unsigned long cap, const char *s)
{
	pos = put_str(buf, pos, cap, "\"", 1);
	pos = put_str(buf, pos, cap, s, str_len(s));
	return put_str(buf, pos, cap, "\"", 1);
}

void main_c(void)
{
	long child = sys1(SYS_fork, 0);
	if (child == 0) {
		/* The addresses go through registers: the compiler would
		 * otherwise load the array from a constant in .rodata, and that
		 * fault would map the pages around it (fault-around). */
		const char *path = untouched, *arg = untouched + ARG;
		__asm__("" : "+r"(path), "+r"(arg));
		const char *argv[] = {path, arg, 0};
		const char *envp[] = {0};
		sys3(SYS_execve, path, argv, envp);
		sys_exit(127);
	}
	if (child < 0)
		sys_exit(1);
	sys4(SYS_wait4, child, 0, 0, 0);

	char out[256];
	unsigned long pos = 0;
	pos = put_str(out, pos, sizeof out, "nitro-forkexec: child ", 22);
	pos = put_uint(out, pos, sizeof out, child);
	pos = put_str(out, pos, sizeof out, " execve ", 8);
	pos = put_quoted(out, pos, sizeof out, untouched);
	pos = put_str(out, pos, sizeof out, " [", 2);
	pos = put_quoted(out, pos, sizeof out, untouched);
	pos = put_str(out, pos, sizeof out, ", ", 2);
	pos = put_quoted(out, pos, sizeof out, untouched + ARG);
	pos = put_str(out, pos, sizeof out, "]\n", 2);
	sys3(SYS_write, 1, out, pos);
	sys_exit(0);
}
