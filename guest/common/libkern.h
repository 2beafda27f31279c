/*
 * libkern.h - what guest/common provides every guest family: the C library
 * routines, printf and panic, KASSERT, and the symbols of boot (locore.S)
 * and of the family's machdep.c that guest/common uses.
 */
#ifndef PMAPRIG_LIBKERN_H
#define PMAPRIG_LIBKERN_H

#include "types.h"
#include "rig_abi.h"

/* libkern.c */
void	*memset(void *dst, int c, size_t n);
void	*memcpy(void *dst, const void *src, size_t n);
size_t	strlen(const char *s);
void	pagezero(void *va);

/* subr_prf.c */
int	vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int	snprintf(char *buf, size_t size, const char *fmt, ...);
void	printf(const char *fmt, ...);
__dead void panic(const char *fmt, ...);

#define KASSERT(exp, msg) do {						\
	if (!(exp))							\
		panic msg;						\
} while (0)

/* locore.S, and the family's machdep.c */
extern struct guest_info guest_info;
extern char _end[];
extern pd_entry_t boot_pd[];

#endif
