/*
 * nitro-many N: forks N children that sleep in pause() for good, prints
 * "nitro-lab: many M alive" once the forks are done (M: the children it
 * made; a failed fork ends the line with its error) and exits, so the
 * children live on as init's. It has no libc, like nitro-probe, so each
 * child costs the guest a kernel stack, page tables and one stack page.
 */
#include "sys.h"

#define SYS_pause 34
#define SYS_fork 57

static unsigned long parse_uint(const char *s)
{
	unsigned long n = 0;
	while (*s >= '0' && *s <= '9')
		n = n * 10 + (unsigned long)(*s++ - '0');
	return n;
}

void main_c(long *sp)
{
	char out[96];
	unsigned long want = sp[0] > 1 ? parse_uint((const char *)sp[2]) : 0, made = 0;
	long err = 0;

	while (made < want) {
		long pid = sys1(SYS_fork, 0);
		if (pid == 0)
			for (;;)
				sys1(SYS_pause, 0);
		if (pid < 0) {
			err = pid;
			break;
		}
		made++;
	}
	unsigned long pos = put_str(out, 0, sizeof out, "nitro-lab: many ", 16);
	pos = put_uint(out, pos, sizeof out, made);
	pos = put_str(out, pos, sizeof out, " alive", 6);
	if (err) {
		pos = put_str(out, pos, sizeof out, ", fork failed: ", 15);
		pos = put_int(out, pos, sizeof out, err);
	}
	pos = put_str(out, pos, sizeof out, "\n", 1);
	sys3(SYS_write, 1, out, pos);
	sys_exit(err != 0);
}
