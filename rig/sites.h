/*
 * sites.h - code sites: host functions that run just before chosen guest
 * instructions (a CR load, an INVLPG, a lock function's entry). Every site
 * is dispatched by one Unicorn code hook over the whole guest text, which
 * also makes EIP exact inside memory and MMIO callbacks (Unicorn syncs EIP
 * before every hooked instruction). A callback that must stop the run or
 * flush the emulator's TLB asks for it here; it happens before the next
 * guest instruction, never inside a memory callback.
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
	struct site *v;
	int n, cap;
	uc_hook hook;
	int installed;
	site_fn after_fn;	/* run at the first instruction not at after_eip */
	void *after_arg;
	uint32_t after_eip;
	int stop_pending;	/* uc_emu_stop before the next instruction */
	int flush_pending;	/* uc_ctl_flush_tlb before the next instruction */
	uint64_t hits;
};

/* The guest's executable segments become the hooked text. 0 or -1. */
int sites_init(struct sites *s, uc_engine *uc, const struct elf_image *img);
void sites_free(struct sites *s);
/* Run fn(arg, addr) before the instruction at addr. 0, or -1 outside the text. */
int sites_add(struct sites *s, uint32_t addr, site_fn fn, void *arg);
/* Forget the site fn(arg) at addr. */
void sites_del(struct sites *s, uint32_t addr, site_fn fn, void *arg);
/* Forget every site whose arg is arg. */
void sites_remove(struct sites *s, void *arg);
/* Hook every instruction of the text even with no site (exact EIP everywhere). 0 or -1. */
int sites_install(struct sites *s);
/* Run fn(arg, addr) before the first instruction whose address is not eip (one at a time). */
void sites_after(struct sites *s, uint32_t eip, site_fn fn, void *arg);
/* From any callback: stop the run / flush Unicorn's TLB before the next instruction. */
void sites_request_stop(struct sites *s);
void sites_request_flush(struct sites *s);

#endif
