/*
 * nitro-peek: reads its own kernel's code where a tracer stops the guest, as
 * a rootkit checking its entry points for a debugger's int3 would. Run as
 * root (it needs /proc/kcore and the addresses in /proc/kallsyms).
 *
 * At its start it finds entry_SYSCALL_64 (where every 64-bit system call
 * enters) and __x64_sys_pread64 (the handler a tracer filtering on pread64
 * stops at) in /proc/kallsyms, opens /proc/kcore and maps each address to
 * a file offset through kcore's ELF program headers. Then, once a second,
 * it reads the first 16 bytes at each with pread64 and prints them in hex:
 *
 *   nitro-peek: round N pid P entry_SYSCALL_64 HEX __x64_sys_pread64 HEX
 *
 * A step that fails prints "nitro-peek: error STEP RESULT" and ends it.
 */
#include "sys.h"

#define SYS_pread64 17
#define SYS_nanosleep 35

#define PT_LOAD 1
#define PEEK 16

static const char *const names[] = {"entry_SYSCALL_64", "__x64_sys_pread64"};
#define NSYMS (sizeof names / sizeof names[0])

static unsigned long addr[NSYMS], offset[NSYMS];
static char chunk[4096];
static unsigned char header[4096];

static void say(const char *s, unsigned long n) { sys3(SYS_write, 1, s, n); }

static __attribute__((noreturn)) void fail(const char *step, long ret)
{
	char out[128];
	unsigned long pos = 0;
	pos = put_str(out, pos, sizeof out, "nitro-peek: error ", 18);
	pos = put_str(out, pos, sizeof out, step, str_len(step));
	pos = put_str(out, pos, sizeof out, " ", 1);
	pos = put_int(out, pos, sizeof out, ret);
	pos = put_str(out, pos, sizeof out, "\n", 1);
	say(out, pos);
	sys_exit(1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Notes the address of a kallsyms line "ADDR T NAME" naming one of names. */
static void symbol(const char *line, unsigned long n)
{
	unsigned long a = 0, i = 0;
	for (; i < n && hexval(line[i]) >= 0; i++)
		a = a << 4 | hexval(line[i]);
	if (i + 3 > n || line[i] != ' ' || line[i + 2] != ' ')
		return;
	const char *name = line + i + 3;
	unsigned long len = n - i - 3;
	for (unsigned long k = 0; k < NSYMS; k++) {
		unsigned long j = 0;
		while (j < len && names[k][j] && names[k][j] == name[j])
			j++;
		if (j == len && !names[k][j])
			addr[k] = a;
	}
}

/* Reads /proc/kallsyms line by line; a line longer than line[] is skipped. */
static void find_symbols(void)
{
	char path[] = "/proc/kallsyms", line[256];
	unsigned long n = 0;
	int skip = 0;
	long fd = sys3(SYS_openat, AT_FDCWD, path, O_RDONLY);
	if (fd < 0)
		fail("open-kallsyms", fd);
	for (;;) {
		long got = sys3(SYS_read, fd, chunk, sizeof chunk);
		if (got < 0)
			fail("read-kallsyms", got);
		if (got == 0)
			break;
		for (long i = 0; i < got; i++) {
			char c = chunk[i];
			if (c == '\n') {
				if (!skip)
					symbol(line, n);
				n = 0, skip = 0;
			} else if (n < sizeof line) {
				line[n++] = c;
			} else {
				skip = 1;
			}
		}
	}
	sys1(SYS_close, fd);
	for (unsigned long k = 0; k < NSYMS; k++)
		if (!addr[k])
			fail(names[k], 0);
}

static unsigned long le(const unsigned char *p, int n)
{
	unsigned long v = 0;
	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* Maps each address to its offset in kcore, by the PT_LOAD holding it. */
static void map_kcore(long fd)
{
	long got = sys6(SYS_pread64, fd, (long)header, sizeof header, 0, 0, 0);
	if (got < 64 || header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F')
		fail("kcore-header", got);
	unsigned long phoff = le(header + 0x20, 8), phentsize = le(header + 0x36, 2), phnum = le(header + 0x38, 2);
	if (phentsize < 48 || phoff > (unsigned long)got || phnum > ((unsigned long)got - phoff) / phentsize)
		fail("kcore-phdrs", phnum);
	for (unsigned long k = 0; k < NSYMS; k++) {
		for (unsigned long i = 0; i < phnum && !offset[k]; i++) {
			const unsigned char *ph = header + phoff + i * phentsize;
			unsigned long off = le(ph + 8, 8), vaddr = le(ph + 16, 8), memsz = le(ph + 40, 8);
			if (le(ph, 4) == PT_LOAD && addr[k] >= vaddr && addr[k] - vaddr < memsz)
				offset[k] = off + (addr[k] - vaddr);
		}
		if (!offset[k])
			fail("kcore-map", k);
	}
}

void main_c(void)
{
	char path[] = "/proc/kcore", out[256];
	find_symbols();
	long fd = sys3(SYS_openat, AT_FDCWD, path, O_RDONLY);
	if (fd < 0)
		fail("open-kcore", fd);
	map_kcore(fd);
	long pid = sys1(SYS_getpid, 0);
	for (unsigned long round = 1;; round++) {
		unsigned long pos = 0;
		pos = put_str(out, pos, sizeof out, "nitro-peek: round ", 18);
		pos = put_uint(out, pos, sizeof out, round);
		pos = put_str(out, pos, sizeof out, " pid ", 5);
		pos = put_uint(out, pos, sizeof out, pid);
		for (unsigned long k = 0; k < NSYMS; k++) {
			char code[PEEK];
			long got = sys6(SYS_pread64, fd, (long)code, PEEK, offset[k], 0, 0);
			if (got != PEEK)
				fail("read-kcore", got);
			pos = put_str(out, pos, sizeof out, " ", 1);
			pos = put_str(out, pos, sizeof out, names[k], str_len(names[k]));
			pos = put_str(out, pos, sizeof out, " ", 1);
			pos = put_hex(out, pos, sizeof out, code, PEEK);
		}
		pos = put_str(out, pos, sizeof out, "\n", 1);
		say(out, pos);
		long ts[2] = {1, 0};
		sys3(SYS_nanosleep, ts, 0, 0);
	}
}
