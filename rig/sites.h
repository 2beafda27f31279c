/*
 * sites.h - code sites: host functions that run just before chosen guest
 * instructions (a CR load, an INVLPG, a rep stos, a lock function's entry).
 * Each address with a site gets one Unicorn code hook (and its translated
 * code is dropped, so the hook is called). A site added while the guest
 * runs is hooked at once; an address that lost its last site is unhooked
 * after the run (sites_apply), not under the code that calls the hook.
 */
#ifndef RIG_SITES_H
#define RIG_SITES_H

#include <stdint.h>
#include <unicorn/unicorn.h>

#include "elfload.h"

typedef void (*site_fn)(void *arg, uint32_t addr);

struct site {
	uint32_t addr;
	site_fn fn;
	void *arg;
	int next;		/* index + 1 of the next site at addr, 0 = none */
};

struct sites {
	uc_engine *uc;
	uint32_t lo, hi;	/* the guest text: [lo, hi) */
	int32_t *first;		/* per text byte: index + 1 of its first site */
	uc_hook *hook;		/* per text byte: its code hook, 0 = none */
	struct site *v;
	int n, cap;
	int running;		/* inside uc_emu_start: unhooking waits for sites_apply */
	int keep;		/* never unhook: the runs of a restored machine add the same sites again */
	int pending;		/* some address awaits unhooking: */
	uint32_t *pend;		/* these (all of the text if npend > cappend) */
	int npend, cappend;
	uint64_t hits;
};

/* The guest's executable segments become the text sites may be in. 0 or -1. */
int sites_init(struct sites *s, uc_engine *uc, const struct elf_image *img);
void sites_free(struct sites *s);
/* Run fn(arg, addr) before the instruction at addr. 0, or -1 outside the text. */
int sites_add(struct sites *s, uint32_t addr, site_fn fn, void *arg);
/* Forget the site fn(arg) at addr. */
void sites_del(struct sites *s, uint32_t addr, site_fn fn, void *arg);
/* Forget every site whose arg is arg. */
void sites_remove(struct sites *s, void *arg);
/* Between runs: unhook the addresses that lost all their sites. 0 or -1. */
int sites_apply(struct sites *s);

#endif
