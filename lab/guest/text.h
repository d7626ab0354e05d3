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

#endif
