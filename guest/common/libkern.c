/* libkern.c - the few C library routines the freestanding guest needs. */
#include "kernel.h"

/* Fill n bytes at dst with c. gcc may emit calls to this. */
void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

/* Copy n bytes; the ranges must not overlap. gcc may emit calls to this. */
void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

/* Length of a NUL-terminated string. */
size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* Zero one page at a kernel virtual address, with one rep stosl (as FreeBSD's i386 pagezero). */
void pagezero(void *va)
{
	int n = PAGE_SIZE / 4;

	__asm__ __volatile__("cld; rep stosl" : "+D"(va), "+c"(n) : "a"(0) : "memory");
}
