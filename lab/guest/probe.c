/*
 * nitro-probe: one run makes exactly this sequence of system calls, which the
 * end-to-end tests check traces against:
 *
 *   getpid()                                                           = PID
 *   getppid()                                                          = PPID
 *   openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY)              = 3
 *   read(3, "nitro probe input\n", 128)                                = 18
 *   close(3)                                                           = 0
 *   openat(AT_FDCWD, "/tmp/nitro-probe-marker", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3
 *   write(3, "nitro-probe marker\n", 19)                               = 19
 *   close(3)                                                           = 0
 *   openat(AT_FDCWD, "/nonexistent/nitro-probe", O_RDONLY)            = -2 (ENOENT)
 *   unlink("/tmp/nitro-probe-marker")                                  = 0
 *   write(1, "nitro-probe: pid PID ppid PPID read 18 bytes: nitro probe input\n"
 *            "nitro-probe: pid PID results getpid=PID getppid=PPID openat1=3 read=18 close1=0 openat2=3 write=19 close2=0 openat3=-2 unlink=0\n", N) = N
 *   exit_group(0)
 *
 * The paths are copied to the stack first, as most programs build theirs:
 * a path in a page the program never touched is not mapped when the call
 * enters, and a tracer could neither show it then nor rewrite it.
 *
 * What it prints is the guest's own view of its pid and parent, and shows
 * what it really read, so a tracer that rewrites the path of the first
 * openat can see the effect on the serial console. The second line, written
 * by the same write, gives the result of every call before it, in order,
 * named by call site (openat1 is the first openat; a name without a number
 * is made once): what the program itself got back, so a test can compare
 * each exit a tracer saw, and see a fault a tracer injected (openat2=-13).
 * A call not made (the read after a failed openat1) is not listed.
 */
#include "sys.h"

static const char input_path[] = "/etc/nitro/probe-input";
static const char marker_path[] = "/tmp/nitro-probe-marker";
static const char marker[] = "nitro-probe marker\n";
static const char missing_path[] = "/nonexistent/nitro-probe";

void main_c(void)
{
	char input[sizeof input_path], marker_at[sizeof marker_path], missing[sizeof missing_path];
	char in[128];
	char out[512];
	unsigned long pos = 0;
	struct results r;

	r.n = 0;
	long pid = note(&r, "getpid", sys1(SYS_getpid, 0));
	long ppid = note(&r, "getppid", sys1(SYS_getppid, 0));
	long fd = note(&r, "openat1", sys3(SYS_openat, AT_FDCWD, on_stack(input, input_path), O_RDONLY));
	long n = fd < 0 ? fd : note(&r, "read", sys3(SYS_read, fd, in, sizeof in));
	if (fd >= 0)
		note(&r, "close1", sys1(SYS_close, fd));

	long mfd = note(&r, "openat2",
			sys4(SYS_openat, AT_FDCWD, on_stack(marker_at, marker_path), O_WRONLY | O_CREAT | O_TRUNC, 0644));
	if (mfd >= 0) {
		note(&r, "write", sys3(SYS_write, mfd, marker, sizeof marker - 1));
		note(&r, "close2", sys1(SYS_close, mfd));
	}
	note(&r, "openat3", sys3(SYS_openat, AT_FDCWD, on_stack(missing, missing_path), O_RDONLY));
	note(&r, "unlink", sys1(SYS_unlink, marker_at));

	pos = put_str(out, pos, sizeof out, "nitro-probe: pid ", 17);
	pos = put_uint(out, pos, sizeof out, pid);
	pos = put_str(out, pos, sizeof out, " ppid ", 6);
	pos = put_uint(out, pos, sizeof out, ppid);
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
	pos = put_str(out, pos, sizeof out, "nitro-probe: pid ", 17);
	pos = put_uint(out, pos, sizeof out, pid);
	pos = put_str(out, pos, sizeof out, " results", 8);
	pos = put_results(out, pos, sizeof out, &r);
	pos = put_str(out, pos, sizeof out, "\n", 1);
	sys3(SYS_write, 1, out, pos);
	sys_exit(0);
}
