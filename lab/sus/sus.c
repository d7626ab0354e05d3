/*
 * nitro-sus: the suspicious lab guest's planted behaviours, each what a
 * built-in triage rule (triage/builtin.json) looks for, each harmless: the
 * guest is a throwaway initramfs, nothing leaves it, nothing stays.
 *
 *   nitro-sus               one round of every behaviour, then exit
 *   nitro-sus noop          exit (what the copies exec'd below run)
 *   nitro-sus unlink-self   unlink argv[0], its own program, then exit
 *   nitro-sus sleep         sleep a second at a time, for ever: the process
 *                           lab/sus/init runs as nitro-hidden and hides
 *                           (lab/sus/hide.c); it keeps making calls, so a
 *                           tracer sees it run
 *
 * A round, by the rule it is for:
 *   shell_spawned         fork; the child execs /bin/sh -c true
 *   sensitive_file_write  open /etc/passwd for appending, write nothing
 *   kernel_module_load    finit_module(-1, "", 0): EBADF, nothing loads
 *   ptrace_attach         fork a child that pauses; PTRACE_ATTACH it, kill it
 *   fileless_exec         copy this program into a memfd; a child execveat()s
 *                         the memfd (AT_EMPTY_PATH) with "noop"
 *   exec_from_temp,       copy it to /tmp/nitro-sus-drop; a child execs it with
 *   unlink_own_exe        "unlink-self", and so unlinks its own program
 *   exec_deleted          copy it to /tmp/nitro-sus-del, open it, unlink it; a
 *                         child execveat()s the open descriptor with "noop"
 *   setuid_root,          a child becomes uid 1000, then asks setuid(0)
 *   capset_non_root       (EPERM) and capset (as it is)
 *   outbound_connect      connect a TCP socket to 192.0.2.1:80 (TEST-NET-1;
 *                         the guest has no network: ENETUNREACH)
 *   mass_rename           rename one file back and forth 24 times
 *   mass_write            create and truncate 60 files in /tmp, then unlink them
 *
 * Paths and strings are copied to the stack first (on_stack), as
 * nitro-probe does: a tracer reads them at the call's entry, when a page
 * the program never touched is not mapped yet.
 */
#include "../guest/sys.h"

#define SYS_pause 34
#define SYS_nanosleep 35
#define SYS_socket 41
#define SYS_connect 42
#define SYS_fork 57
#define SYS_execve 59
#define SYS_wait4 61
#define SYS_kill 62
#define SYS_rename 82
#define SYS_ptrace 101
#define SYS_setuid 105
#define SYS_capset 126
#define SYS_finit_module 313
#define SYS_memfd_create 319
#define SYS_execveat 322

#define O_APPEND 02000
#define AT_EMPTY_PATH 0x1000
#define PTRACE_ATTACH 16
#define SIGKILL 9
#define AF_INET 2
#define SOCK_STREAM 1

static char **envp;

/* wait_child reaps pid. */
static void wait_child(long pid)
{
	int status;
	sys4(SYS_wait4, pid, &status, 0, 0);
}

/* copy_self writes this program (/bin/nitro-sus) to fd. */
static void copy_self(long fd)
{
	char path[32], buf[4096];
	long in = sys4(SYS_openat, AT_FDCWD, on_stack(path, "/bin/nitro-sus"), O_RDONLY, 0);
	long n;
	while ((n = sys3(SYS_read, in, buf, sizeof buf)) > 0)
		sys3(SYS_write, fd, buf, n);
	sys1(SYS_close, in);
}

/* run_child forks; the child execs path (or, with path NULL, the
 * descriptor fd) with argv {arg0, mode}; the parent waits for it. */
static void run_child(const char *path, long fd, const char *arg0, const char *mode)
{
	long pid = sys1(SYS_fork, 0);
	if (pid == 0) {
		char a0[64], a1[16], empty[1] = "";
		char *argv[] = {(char *)on_stack(a0, arg0), (char *)on_stack(a1, mode), 0};
		if (path) {
			char p[64];
			sys3(SYS_execve, on_stack(p, path), argv, envp);
		} else {
			sys6(SYS_execveat, fd, (long)empty, (long)argv, (long)envp, AT_EMPTY_PATH, 0);
		}
		sys_exit(127);
	}
	wait_child(pid);
}

static void shell(void)
{
	long pid = sys1(SYS_fork, 0);
	if (pid == 0) {
		char sh[16], c[4], t[8];
		char *argv[] = {(char *)on_stack(sh, "sh"), (char *)on_stack(c, "-c"), (char *)on_stack(t, "true"), 0};
		sys3(SYS_execve, on_stack(sh, "/bin/sh"), argv, envp);
		sys_exit(127);
	}
	wait_child(pid);
}

static void passwd(void)
{
	char path[16];
	long fd = sys4(SYS_openat, AT_FDCWD, on_stack(path, "/etc/passwd"), O_WRONLY | O_APPEND | O_CREAT, 0644);
	sys1(SYS_close, fd);
}

static void module(void)
{
	char empty[1] = "";
	sys3(SYS_finit_module, -1, empty, 0);
}

static void attach(void)
{
	long pid = sys1(SYS_fork, 0);
	if (pid == 0)
		for (;;)
			sys1(SYS_pause, 0);
	sys4(SYS_ptrace, PTRACE_ATTACH, pid, 0, 0);
	sys3(SYS_kill, pid, SIGKILL, 0);
	wait_child(pid);
}

static void fileless(void)
{
	char name[8];
	long fd = sys3(SYS_memfd_create, on_stack(name, "sus"), 0, 0);
	copy_self(fd);
	run_child(0, fd, "nitro-sus", "noop");
	sys1(SYS_close, fd);
}

static void dropper(void)
{
	char path[32];
	long fd = sys4(SYS_openat, AT_FDCWD, on_stack(path, "/tmp/nitro-sus-drop"), O_WRONLY | O_CREAT | O_TRUNC, 0755);
	copy_self(fd);
	sys1(SYS_close, fd); /* written, then run: an exec of a file open for writing fails */
	run_child("/tmp/nitro-sus-drop", -1, "/tmp/nitro-sus-drop", "unlink-self");
}

static void deleted(void)
{
	char path[32];
	long fd = sys4(SYS_openat, AT_FDCWD, on_stack(path, "/tmp/nitro-sus-del"), O_WRONLY | O_CREAT | O_TRUNC, 0755);
	copy_self(fd);
	sys1(SYS_close, fd);
	fd = sys4(SYS_openat, AT_FDCWD, path, O_RDONLY, 0);
	sys1(SYS_unlink, path);
	run_child(0, fd, "nitro-sus", "noop");
	sys1(SYS_close, fd);
}

static void escalate(void)
{
	long pid = sys1(SYS_fork, 0);
	if (pid == 0) {
		struct {
			unsigned version;
			int pid;
		} hdr = {0x20080522, 0}; /* _LINUX_CAPABILITY_VERSION_3 */
		unsigned data[6] = {0};
		sys1(SYS_setuid, 1000);
		sys1(SYS_setuid, 0);
		sys3(SYS_capset, &hdr, data, 0);
		sys_exit(0);
	}
	wait_child(pid);
}

static void outbound(void)
{
	struct {
		unsigned short family, port;
		unsigned char addr[4], zero[8];
	} sa = {AF_INET, 80 << 8, {192, 0, 2, 1}, {0}};
	long fd = sys3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	sys3(SYS_connect, fd, &sa, sizeof sa);
	sys1(SYS_close, fd);
}

static void renames(void)
{
	char a[32], b[32];
	on_stack(a, "/tmp/nitro-sus-a");
	on_stack(b, "/tmp/nitro-sus-b");
	sys1(SYS_close, sys4(SYS_openat, AT_FDCWD, a, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	for (int i = 0; i < 12; i++) {
		sys3(SYS_rename, a, b, 0);
		sys3(SYS_rename, b, a, 0);
	}
	sys1(SYS_unlink, a);
}

static void writes(void)
{
	char path[32];
	on_stack(path, "/tmp/nitro-sus-w00");
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 60; i++) {
			path[16] = '0' + i / 10;
			path[17] = '0' + i % 10;
			if (pass == 0)
				sys1(SYS_close, sys4(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
			else
				sys1(SYS_unlink, path);
		}
}

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

void main_c(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	envp = argv + argc + 1;
	if (argc > 1 && same(argv[1], "noop"))
		sys_exit(0);
	if (argc > 1 && same(argv[1], "sleep")) {
		long second[2] = {1, 0};
		for (;;)
			sys3(SYS_nanosleep, second, 0, 0);
	}
	if (argc > 1 && same(argv[1], "unlink-self")) {
		sys1(SYS_unlink, argv[0]);
		sys_exit(0);
	}
	shell();
	passwd();
	module();
	attach();
	fileless();
	dropper();
	deleted();
	escalate();
	outbound();
	renames();
	writes();
	sys_exit(0);
}
