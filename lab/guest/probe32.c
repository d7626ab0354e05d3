/*
 * nitro-probe32: the 32-bit (i386 compat) twin of nitro-probe. One run makes
 * exactly this sequence of system calls (i386 numbers), alternating between
 * int $0x80 and the vDSO's __kernel_vsyscall, which the end-to-end tests
 * check traces against:
 *
 *   nr   entry     call
 *   20   int 0x80  getpid()                                              = PID
 *   64   vDSO      getppid()                                             = PPID
 *    5   int 0x80  open("/etc/nitro/probe-input", O_RDONLY)              = 3
 *    3   vDSO      read(3, "nitro probe input\n", 128)                   = 18
 *    6   int 0x80  close(3)                                              = 0
 *    5   vDSO      open("/nonexistent/nitro-probe32", O_RDONLY)          = -2 (ENOENT)
 *    4   int 0x80  write(1, "nitro-probe32: pid PID ppid PPID via VIA read 18 bytes: nitro probe input\n"
 *                           "nitro-probe32: pid PID results getpid=PID getppid=PPID open1=3 read=18 close=0 open2=-2\n", N) = N
 *  252   vDSO      exit_group(0)
 *
 * The vDSO's entry is AT_SYSINFO in the auxiliary vector. Without it every
 * call goes through int $0x80 and VIA is "int80"; with it VIA is
 * "vsyscall/" and the instruction __kernel_vsyscall enters the kernel with:
 * "sysenter" (Intel), "syscall" (AMD), "int80" (neither), or "unknown".
 *
 * The paths are copied to the stack first, as most programs build theirs:
 * a path in a page the program never touched is not mapped when the call
 * enters, and a tracer could neither show it then nor rewrite it.
 *
 * What it prints is the guest's own view of its pid and parent, and shows
 * what it really read, so a tracer that rewrites the path of the first open
 * can see the effect on the serial console. The second line, written by the
 * same write, gives the result of every call before it, in order, named by
 * call site as nitro-probe's does (open1 is the first open); a call not
 * made is not listed.
 */
#include "sys32.h"

static const char input_path[] = "/etc/nitro/probe-input";
static const char missing_path[] = "/nonexistent/nitro-probe32";

static unsigned long vdso_entry;

/* A call through the vDSO, or through int $0x80 when there is none. */
static long vdso(long nr, long a, long b, long c)
{
	return vdso_entry ? vsyscall(vdso_entry, nr, a, b, c) : int80(nr, a, b, c);
}

/*
 * Names the instruction __kernel_vsyscall enters the kernel with. Its code is
 * a few pushes and moves, then the instruction the kernel patched in for the
 * CPU, then int $0x80 as the fallback: the first of the three found is it.
 */
static const char *vdso_instruction(const unsigned char *code)
{
	for (int i = 0; i < 32; i++) {
		if (code[i] == 0x0f && code[i + 1] == 0x34)
			return "sysenter";
		if (code[i] == 0x0f && code[i + 1] == 0x05)
			return "syscall";
		if (code[i] == 0xcd && code[i + 1] == 0x80)
			return "int80";
	}
	return "unknown";
}

void main_c(const unsigned long *sp)
{
	char input[sizeof input_path], missing[sizeof missing_path];
	char in[128];
	char out[512];
	unsigned long pos = 0;
	struct results r;

	r.n = 0;
	vdso_entry = auxv_get(sp, AT_SYSINFO);

	long pid = note(&r, "getpid", int80(SYS_getpid, 0, 0, 0));
	long ppid = note(&r, "getppid", vdso(SYS_getppid, 0, 0, 0));
	long fd = note(&r, "open1", int80(SYS_open, (long)on_stack(input, input_path), O_RDONLY, 0));
	long n = fd < 0 ? fd : note(&r, "read", vdso(SYS_read, fd, (long)in, sizeof in));
	if (fd >= 0)
		note(&r, "close", int80(SYS_close, fd, 0, 0));
	note(&r, "open2", vdso(SYS_open, (long)on_stack(missing, missing_path), O_RDONLY, 0));

	pos = put_str(out, pos, sizeof out, "nitro-probe32: pid ", 19);
	pos = put_uint(out, pos, sizeof out, pid);
	pos = put_str(out, pos, sizeof out, " ppid ", 6);
	pos = put_uint(out, pos, sizeof out, ppid);
	pos = put_str(out, pos, sizeof out, " via ", 5);
	if (vdso_entry) {
		const char *insn = vdso_instruction((const unsigned char *)vdso_entry);
		pos = put_str(out, pos, sizeof out, "vsyscall/", 9);
		pos = put_str(out, pos, sizeof out, insn, str_len(insn));
	} else {
		pos = put_str(out, pos, sizeof out, "int80", 5);
	}
	if (n < 0) {
		pos = put_str(out, pos, sizeof out, " open failed: ", 14);
		pos = put_uint(out, pos, sizeof out, -n);
	} else {
		pos = put_str(out, pos, sizeof out, " read ", 6);
		pos = put_uint(out, pos, sizeof out, n);
		pos = put_str(out, pos, sizeof out, " bytes: ", 8);
		pos = put_str(out, pos, sizeof out, in, n);
	}
	/* What was read ends the first line, with its own newline when it has one. */
	if (out[pos - 1] != '\n')
		pos = put_str(out, pos, sizeof out, "\n", 1);
	pos = put_str(out, pos, sizeof out, "nitro-probe32: pid ", 19);
	pos = put_uint(out, pos, sizeof out, pid);
	pos = put_str(out, pos, sizeof out, " results", 8);
	pos = put_results(out, pos, sizeof out, &r);
	pos = put_str(out, pos, sizeof out, "\n", 1);
	int80(SYS_write, 1, (long)out, pos);
	for (;;)
		vdso(SYS_exit_group, 0, 0, 0);
}
