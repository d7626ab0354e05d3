/*
 * nitro-busy: a tight loop of cheap system calls (getppid) that prints how
 * many it made in each second, so benchmarks can compare the guest's speed
 * untraced and traced. It checks the clock every 4096 calls; those
 * clock_gettime calls are counted too.
 */
#include "sys.h"

struct timespec {
	long tv_sec;
	long tv_nsec;
};

static long now_ns(void)
{
	struct timespec ts;
	sys3(SYS_clock_gettime, CLOCK_MONOTONIC, &ts, 0);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

void main_c(void)
{
	char out[64];
	unsigned long count = 0;
	long start = now_ns();

	for (;;) {
		for (int i = 0; i < 4096; i++)
			sys1(SYS_getppid, 0);
		count += 4097;
		long t = now_ns();
		if (t - start >= 1000000000L) {
			unsigned long rate = count * 1000000000UL / (unsigned long)(t - start);
			unsigned long pos = put_str(out, 0, sizeof out, "nitro-busy: ", 12);
			pos = put_uint(out, pos, sizeof out, rate);
			pos = put_str(out, pos, sizeof out, " syscalls/s\n", 12);
			sys3(SYS_write, 1, out, pos);
			count = 0;
			start = t;
		}
	}
}
