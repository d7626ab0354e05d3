/*
 * Text helpers for the lab's freestanding workload programs, shared by the
 * 64-bit ones (sys.h) and the 32-bit one (sys32.h): there is no libc.
 */
#ifndef NITRO_LAB_TEXT_H
#define NITRO_LAB_TEXT_H

static inline unsigned long str_len(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

/* Copies the NUL-terminated s into buf (which must be large enough). */
static inline const char *on_stack(char *buf, const char *s)
{
	unsigned long i = 0;
	do
		buf[i] = s[i];
	while (s[i++]);
	return buf;
}

/* Appends s to buf at *pos, never past cap; returns the new position. */
static inline unsigned long put_str(char *buf, unsigned long pos, unsigned long cap, const char *s, unsigned long n)
{
	for (unsigned long i = 0; i < n && pos < cap; i++)
		buf[pos++] = s[i];
	return pos;
}

static inline unsigned long put_uint(char *buf, unsigned long pos, unsigned long cap, unsigned long v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n && pos < cap)
		buf[pos++] = tmp[--n];
	return pos;
}

/* Appends the n bytes at s in hex, two digits a byte. */
static inline unsigned long put_hex(char *buf, unsigned long pos, unsigned long cap, const char *s, unsigned long n)
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned long i = 0; i < n; i++) {
		char h[2] = {digits[(unsigned char)s[i] >> 4], digits[(unsigned char)s[i] & 15]};
		pos = put_str(buf, pos, cap, h, 2);
	}
	return pos;
}

/* Appends v in decimal, with a minus sign when negative (-errno results). */
static inline unsigned long put_int(char *buf, unsigned long pos, unsigned long cap, long v)
{
	if (v < 0) {
		pos = put_str(buf, pos, cap, "-", 1);
		return put_uint(buf, pos, cap, -(unsigned long)v);
	}
	return put_uint(buf, pos, cap, v);
}

/*
 * The results of a program's system calls in the order it made them, for
 * its console line: "name=result" each, so a test can compare every exit a
 * tracer saw with what the program itself got back (a fault a tracer
 * injects shows here as the program's own view).
 */
#define MAX_RESULTS 16

struct results {
	int n;
	const char *name[MAX_RESULTS];
	long ret[MAX_RESULTS];
};

/* Records call name's result ret and returns ret, to wrap a call in place. */
static inline long note(struct results *r, const char *name, long ret)
{
	if (r->n < MAX_RESULTS) {
		r->name[r->n] = name;
		r->ret[r->n] = ret;
		r->n++;
	}
	return ret;
}

/* Appends " name=ret" for every recorded call. */
static inline unsigned long put_results(char *buf, unsigned long pos, unsigned long cap, const struct results *r)
{
	for (int i = 0; i < r->n; i++) {
		pos = put_str(buf, pos, cap, " ", 1);
		pos = put_str(buf, pos, cap, r->name[i], str_len(r->name[i]));
		pos = put_str(buf, pos, cap, "=", 1);
		pos = put_int(buf, pos, cap, r->ret[i]);
	}
	return pos;
}

#endif
