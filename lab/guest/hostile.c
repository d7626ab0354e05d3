/*
 * nitro-hostile: what a hostile, unprivileged guest user can do to a tracer
 * watching from outside (lab workload `hostile`). init starts it as root;
 * it drops to uid and gid 1000 at once and then, for good:
 *
 *   - keeps decoy kallsyms tables resident in its own memory: a complete,
 *     self-consistent fake kernel (its own _text, linux_banner "Linux
 *     version 9.9.9-nitro-hostile", sys_call_table and kallsyms_* symbols,
 *     every address where its tables put it) and DECOYS more copies of its
 *     tables, more than a sweep of RAM accepts before it gives up;
 *   - names itself (prctl PR_SET_NAME, and argv[0] in place) with an
 *     erase-display sequence, a right-to-left override (U+202E), a newline,
 *     DEL and a C1 CSI byte;
 *   - each round (a second apart): creates, opens and unlinks a file whose
 *     name holds those bytes and an OSC 52 clipboard write and an OSC 2
 *     title; openat()s of an unmapped address, a kernel address, and a path
 *     that runs without a NUL into an unmapped page; writev()s of IOV_MAX
 *     iovecs, of IOV_MAX+1 and 2^20 (EINVAL), of iovecs pointing at
 *     unmapped memory and of iovec arrays at unmapped and kernel addresses
 *     (EFAULT); and runs itself with 5,000 arguments, and with one argument
 *     of 8,000 bytes, under a hostile argv[0].
 *
 * Nothing it prints is raw: names go out in hex, so the console stays
 * readable and a test can rebuild every byte.
 *
 *   nitro-hostile: start pid P uid 1000 gid 1000 mlock R comm HEX arg0 HEX decoys N banner HEX
 *   nitro-hostile: round N pid P path HEX results create=3 writev=1024 ... execve_long=0
 *   nitro-hostile: child pid P argc N longest L
 *
 * A result is what the call returned (-errno on failure); for the two
 * execs, the child's pid (manypid, longpid) and its wait status (0; the
 * exec's errno times 256 if it failed).
 */
#include "sys.h"

#define SYS_mmap 9
#define SYS_munmap 11
#define SYS_writev 20
#define SYS_nanosleep 35
#define SYS_fork 57
#define SYS_execve 59
#define SYS_wait4 61
#define SYS_getuid 102
#define SYS_getgid 104
#define SYS_setuid 105
#define SYS_setgid 106
#define SYS_mlock 149
#define SYS_prctl 157

#define PR_SET_NAME 15
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20
#define PAGE 4096
#define IOV_MAX 1024

#define GUEST_UID 1000

/* Addresses no user mapping holds: below mmap_min_addr, and the kernel's. */
#define UNMAPPED 0x10000UL
#define KERNEL_ADDR 0xffffffff81000000UL

/* The process name: 12 bytes of the 15 comm holds. */
static const char hostile_comm[] = "hx\x1b[2J\xe2\x80\xae\n\x7f\x9b";
/* The file name adds a clipboard write ("hi") and a window title. */
static const char hostile_path[] = "/tmp/hx\x1b[2J\xe2\x80\xae\n\x7f\x9b\x1b]52;c;aGk=\x07\x1b]2;pwned\x07";
/* argv[0] of the programs it runs. */
static const char hostile_arg0[] = "\x1b]52;c;aGk=\x07\xe2\x80\xae\n";
static const char self_path[] = "/bin/nitro-hostile";
/*
 * What the exec'd programs get, copied at start to memory the program has
 * written: a forked child shares only such pages from the start, and a
 * tracer cannot show an argument whose page was never touched.
 */
static char self[sizeof self_path], arg0[sizeof hostile_arg0], x[2];

/*
 * The fake kernel: FAKE_TEXT is its _text, the start of image. Its tables
 * begin at TABLES; its functions, the sys_call_table's entries, lie
 * between sys_call_table and the tables.
 */
#define FAKE_TEXT 0xffffffffa0000000UL
#define IMAGE_SIZE 0x10000
#define BANNER_OFF 0x100
#define CALLS_OFF 0x1000
#define NCALLS 450
#define FNS_OFF 0x2000
#define NFNS 600
#define FN_STEP 0x10
#define TABLES_OFF 0x5000
#define END_OFF 0xf000
#define DECOYS 20
#define DECOY_STRIDE 0x4000

static const char fake_banner[] = "Linux version 9.9.9-nitro-hostile (decoy@hostile) (gcc) #1 SMP PREEMPT_DYNAMIC\n";

static unsigned char image[IMAGE_SIZE] __attribute__((aligned(PAGE)));
static unsigned char decoys[DECOYS * DECOY_STRIDE] __attribute__((aligned(PAGE)));

static void copy(unsigned char *dst, const void *src, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		dst[i] = ((const unsigned char *)src)[i];
}

static void put_u16(unsigned char *p, unsigned v) { copy(p, &v, 2); }
static void put_u32(unsigned char *p, unsigned v) { copy(p, &v, 4); }
static void put_u64(unsigned char *p, unsigned long v) { copy(p, &v, 8); }
static unsigned long align8(unsigned long x) { return (x + 7) & ~7UL; }

/* The symbols of the fake kernel, in address order, as scripts/kallsyms sorts them. */
enum { S_TEXT, S_BANNER, S_CALLS, S_FN0, S_OFFSETS = S_FN0 + NFNS, S_RELBASE, S_NUMSYMS, S_NAMES, S_MARKERS,
       S_TOKENS, S_INDEX, S_END, NSYMS };

static unsigned long sym_off[NSYMS];

/* sym_name writes symbol i's type letter and name into buf; returns its length. */
static unsigned long sym_name(char *buf, int i)
{
	static const char *const fixed[NSYMS - S_OFFSETS] = {
		"Rkallsyms_offsets", "Rkallsyms_relative_base", "Rkallsyms_num_syms", "Rkallsyms_names",
		"Rkallsyms_markers", "Rkallsyms_token_table", "Rkallsyms_token_index", "B_end",
	};
	const char *s = i == S_TEXT ? "T_text" : i == S_BANNER ? "Dlinux_banner" : i == S_CALLS ? "Rsys_call_table" : 0;
	if (i >= S_OFFSETS)
		s = fixed[i - S_OFFSETS];
	if (s)
		return put_str(buf, 0, 64, s, str_len(s));
	unsigned long n = put_str(buf, 0, 64, "thostile_fn_", 12);
	return put_uint(buf, n, 64, i - S_FN0);
}

/*
 * build_tables lays the kallsyms tables out at image+TABLES_OFF the way
 * Linux 6.1 does (offsets first), with every byte value its own token but
 * code 0, and notes where each table starts in sym_off. The tables' sizes
 * do not depend on the addresses, so a second run writes the same layout
 * with the kallsyms_* symbols at their places.
 */
static void build_tables(void)
{
	unsigned char *b = image + TABLES_OFF;
	unsigned long p = 0, markers[NSYMS / 256 + 1];
	char name[64];

	sym_off[S_OFFSETS] = TABLES_OFF;
	for (int i = 0; i < NSYMS; i++, p += 4)
		put_u32(b + p, (unsigned)(sym_off[i] - sym_off[S_TEXT]));
	p = align8(p);
	sym_off[S_RELBASE] = TABLES_OFF + p;
	put_u64(b + p, FAKE_TEXT);
	p += 8;
	sym_off[S_NUMSYMS] = TABLES_OFF + p;
	put_u32(b + p, NSYMS);
	p = align8(p + 4);
	sym_off[S_NAMES] = TABLES_OFF + p;
	unsigned long names = p;
	for (int i = 0; i < NSYMS; i++) {
		if (i % 256 == 0)
			markers[i / 256] = p - names;
		unsigned long n = sym_name(name, i);
		b[p++] = n;
		copy(b + p, name, n);
		p += n;
	}
	p = align8(p);
	sym_off[S_MARKERS] = TABLES_OFF + p;
	for (int i = 0; i <= (NSYMS - 1) / 256; i++, p += 4)
		put_u32(b + p, markers[i]);
	p = align8(p);
	sym_off[S_TOKENS] = TABLES_OFF + p;
	unsigned long tokens = p;
	unsigned index[256];
	for (int c = 0; c < 256; c++) {
		index[c] = p - tokens;
		if (c == 0) { /* never in a name: a token of two bytes, as real tables have */
			copy(b + p, "xx", 3);
			p += 3;
		} else {
			b[p++] = c;
			b[p++] = 0;
		}
	}
	p = align8(p);
	sym_off[S_INDEX] = TABLES_OFF + p;
	for (int c = 0; c < 256; c++, p += 2)
		put_u16(b + p, index[c]);
}

/* plant builds the fake kernel and its decoy copies and keeps them resident. */
static long plant(void)
{
	sym_off[S_TEXT] = 0;
	sym_off[S_BANNER] = BANNER_OFF;
	sym_off[S_CALLS] = CALLS_OFF;
	for (int i = 0; i < NFNS; i++)
		sym_off[S_FN0 + i] = FNS_OFF + i * FN_STEP;
	sym_off[S_END] = END_OFF;
	build_tables();
	build_tables();
	/* Some code at _text and at each function, as a tracer might check. */
	image[0] = 0x90;
	for (int i = 0; i < NFNS; i++)
		image[FNS_OFF + i * FN_STEP] = 0xc3;
	copy(image + BANNER_OFF, fake_banner, sizeof fake_banner);
	for (int i = 0; i < NCALLS; i++)
		put_u64(image + CALLS_OFF + 8 * i, FAKE_TEXT + FNS_OFF + (i % NFNS) * FN_STEP);
	unsigned long n = sym_off[S_INDEX] + 512 - TABLES_OFF;
	for (int i = 0; i < DECOYS; i++)
		copy(decoys + i * DECOY_STRIDE, image + TABLES_OFF, n);
	/* No swap in the guest: touched pages stay; mlock says so, if the limit allows. */
	long r = sys3(SYS_mlock, image, sizeof image, 0);
	return r ? r : sys3(SYS_mlock, decoys, sizeof decoys, 0);
}

struct iovec {
	const void *base;
	unsigned long len;
};

static struct iovec iov[IOV_MAX + 1];
static struct iovec bad_iov[2] = {{(const void *)UNMAPPED, 8}, {(const void *)KERNEL_ADDR, 8}};
static const char *big_argv[5003];
static char long_arg[8001];

/* run runs self with argv in a child and returns its wait status; *pid is the child's. */
static long run(const char *const *argv, long *pid)
{
	static const char *const envp[] = {0};
	long status = 0;
	*pid = sys1(SYS_fork, 0);
	if (*pid == 0) {
		/* A failed exec exits with its errno: the status says why. */
		sys_exit(-sys3(SYS_execve, self, argv, envp));
	}
	if (*pid < 0)
		return *pid;
	long r = sys4(SYS_wait4, *pid, &status, 0, 0);
	return r < 0 ? r : status;
}

/* child: a run of self with arguments reports what it got and exits. */
static void child(long argc, const char **argv)
{
	char out[128];
	unsigned long longest = 0;
	for (long i = 0; i < argc; i++)
		if (str_len(argv[i]) > longest)
			longest = str_len(argv[i]);
	unsigned long pos = put_str(out, 0, sizeof out, "nitro-hostile: child pid ", 25);
	pos = put_uint(out, pos, sizeof out, sys1(SYS_getpid, 0));
	pos = put_str(out, pos, sizeof out, " argc ", 6);
	pos = put_uint(out, pos, sizeof out, argc);
	pos = put_str(out, pos, sizeof out, " longest ", 9);
	pos = put_uint(out, pos, sizeof out, longest);
	pos = put_str(out, pos, sizeof out, "\n", 1);
	sys3(SYS_write, 1, out, pos);
	sys_exit(0);
}

static void round_once(unsigned long n, char *edge)
{
	char path[sizeof hostile_path], out[1024];
	struct results r;
	long pid, many_pid, long_pid;

	r.n = 0;
	pid = sys1(SYS_getpid, 0);
	long fd = note(&r, "create", sys4(SYS_openat, AT_FDCWD, on_stack(path, hostile_path), O_WRONLY | O_CREAT | O_TRUNC, 0600));
	note(&r, "writev", sys3(SYS_writev, fd, iov, IOV_MAX));
	note(&r, "writev_over", sys3(SYS_writev, fd, iov, IOV_MAX + 1));
	note(&r, "writev_huge", sys3(SYS_writev, fd, iov, 1UL << 20));
	note(&r, "writev_badbase", sys3(SYS_writev, fd, bad_iov, 2));
	note(&r, "writev_badvec", sys3(SYS_writev, fd, UNMAPPED, 2));
	note(&r, "writev_kernvec", sys3(SYS_writev, fd, KERNEL_ADDR, 2));
	note(&r, "close1", sys1(SYS_close, fd));
	fd = note(&r, "open", sys3(SYS_openat, AT_FDCWD, path, O_RDONLY));
	note(&r, "close2", sys1(SYS_close, fd));
	note(&r, "unlink", sys1(SYS_unlink, path));
	note(&r, "badpath", sys3(SYS_openat, AT_FDCWD, UNMAPPED, O_RDONLY));
	note(&r, "kernpath", sys3(SYS_openat, AT_FDCWD, KERNEL_ADDR, O_RDONLY));
	note(&r, "edgepath", sys3(SYS_openat, AT_FDCWD, edge, O_RDONLY));
	long many = run(big_argv, &many_pid);
	const char *const long_argv[] = {arg0, long_arg, 0};
	long lng = run(long_argv, &long_pid);

	unsigned long pos = put_str(out, 0, sizeof out, "nitro-hostile: round ", 21);
	pos = put_uint(out, pos, sizeof out, n);
	pos = put_str(out, pos, sizeof out, " pid ", 5);
	pos = put_uint(out, pos, sizeof out, pid);
	pos = put_str(out, pos, sizeof out, " path ", 6);
	pos = put_hex(out, pos, sizeof out, hostile_path, sizeof hostile_path - 1);
	pos = put_str(out, pos, sizeof out, " results", 8);
	pos = put_results(out, pos, sizeof out, &r);
	pos = put_str(out, pos, sizeof out, " manypid=", 9);
	pos = put_int(out, pos, sizeof out, many_pid);
	pos = put_str(out, pos, sizeof out, " execve_many=", 13);
	pos = put_int(out, pos, sizeof out, many);
	pos = put_str(out, pos, sizeof out, " longpid=", 9);
	pos = put_int(out, pos, sizeof out, long_pid);
	pos = put_str(out, pos, sizeof out, " execve_long=", 13);
	pos = put_int(out, pos, sizeof out, lng);
	pos = put_str(out, pos, sizeof out, "\n", 1);
	sys3(SYS_write, 1, out, pos);
}

void main_c(long *sp)
{
	long argc = sp[0];
	const char **argv = (const char **)(sp + 1);
	char out[512];

	if (argc > 1)
		child(argc, argv);
	sys1(SYS_setgid, GUEST_UID);
	sys1(SYS_setuid, GUEST_UID);
	long locked = plant();
	sys3(SYS_prctl, PR_SET_NAME, hostile_comm, 0);
	/* argv[0] in place, as far as it reaches: what /proc/PID/cmdline shows. */
	for (unsigned long i = 0; argv[0][i] && i < sizeof hostile_comm - 1; i++)
		((char *)argv[0])[i] = hostile_comm[i];

	for (int i = 0; i <= IOV_MAX; i++)
		iov[i] = (struct iovec){"h", 1};
	on_stack(self, self_path);
	on_stack(arg0, hostile_arg0);
	on_stack(x, "x");
	big_argv[0] = arg0;
	for (int i = 1; i < 5002; i++)
		big_argv[i] = x;
	for (int i = 0; i < 8000; i++)
		long_arg[i] = "L\x1b\x9b"[i % 3];
	/* A path with no NUL before the end of its page, and the next page unmapped. */
	char *pages = (char *)sys6(SYS_mmap, 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sys3(SYS_munmap, pages + PAGE, PAGE, 0);
	char *edge = pages + PAGE - 64;
	for (int i = 0; i < 64; i++)
		edge[i] = "/tmp/\x1b[2J"[i % 9];

	unsigned long pos = put_str(out, 0, sizeof out, "nitro-hostile: start pid ", 25);
	pos = put_uint(out, pos, sizeof out, sys1(SYS_getpid, 0));
	pos = put_str(out, pos, sizeof out, " uid ", 5);
	pos = put_int(out, pos, sizeof out, sys1(SYS_getuid, 0));
	pos = put_str(out, pos, sizeof out, " gid ", 5);
	pos = put_int(out, pos, sizeof out, sys1(SYS_getgid, 0));
	pos = put_str(out, pos, sizeof out, " mlock ", 7);
	pos = put_int(out, pos, sizeof out, locked);
	pos = put_str(out, pos, sizeof out, " comm ", 6);
	pos = put_hex(out, pos, sizeof out, hostile_comm, sizeof hostile_comm - 1);
	pos = put_str(out, pos, sizeof out, " arg0 ", 6);
	pos = put_hex(out, pos, sizeof out, hostile_arg0, sizeof hostile_arg0 - 1);
	pos = put_str(out, pos, sizeof out, " decoys ", 8);
	pos = put_uint(out, pos, sizeof out, DECOYS + 1);
	pos = put_str(out, pos, sizeof out, " banner ", 8);
	pos = put_hex(out, pos, sizeof out, fake_banner, sizeof fake_banner - 1);
	pos = put_str(out, pos, sizeof out, "\n", 1);
	sys3(SYS_write, 1, out, pos);

	for (unsigned long n = 1;; n++) {
		round_once(n, edge);
		/* The decoys stay as planted: a round touches every page of them. */
		for (unsigned long i = 0; i < sizeof decoys; i += PAGE)
			((volatile unsigned char *)decoys)[i] = decoys[i];
		struct {
			long sec, nsec;
		} second = {1, 0};
		sys3(SYS_nanosleep, &second, 0, 0);
	}
}
