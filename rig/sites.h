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

/*
 * With several engines (one per CPU) there is no hook per address: one code
 * hook per engine over the whole text runs the sites, and around them the
 * gate (the scheduler, scheduler.c): before them, a non-zero answer skips the
 * instruction's sites (they ran before a stop there, or an IPI comes
 * first); after them, it may stop the engine to run another CPU.
 */
enum gate_phase { GATE_BEFORE, GATE_AFTER };
typedef int (*gate_fn)(void *arg, uint32_t addr, enum gate_phase phase);

#define SITES_MAX_ENGINES 8

struct sites {
	uc_engine *uc;		/* the first engine; the only one with per-address hooks */
	uc_engine *ucs[SITES_MAX_ENGINES];
	int nuc;
	uc_hook whole[SITES_MAX_ENGINES];	/* several engines: the hook over the text */
	gate_fn gate;
	void *gate_arg;
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

/* The guest's executable segments become the text sites may be in, on n engines. 0 or -1. */
int sites_init(struct sites *s, uc_engine **ucs, int n, const struct elf_image *img);
/* Several engines: the gate around every instruction of the text (NULL: none). */
void sites_gate(struct sites *s, gate_fn fn, void *arg);
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
