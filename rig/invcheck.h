/*
 * invcheck.h - internals shared by the rules over one structure
 * (invariants.c), the full check (invfull.c) and the per-step check
 * (invstep.c), and the small hash set of (pmap, va) keys (invset.c).
 */
#ifndef RIG_INVCHECK_H
#define RIG_INVCHECK_H

#include "invariants.h"

/* Record a violation of rule id; returns -1. */
int vfail(struct violation *v, const char *id, const char *fmt, ...);
int chk_load_pmaps(struct checker *c, struct violation *v);
struct vm_page *chk_page(struct checker *c, uint32_t pg);
int chk_pd_selfmap(struct checker *c, const struct chk_pmap *p, struct violation *v);
int chk_pd_kernel(struct checker *c, const struct chk_pmap *p, uint32_t pdx, struct violation *v);
int chk_pt_count(struct checker *c, const struct chk_pmap *p, uint32_t pdx, struct violation *v);
/* PD-SELFMAP and PD-KERNEL for every pmap. */
int chk_directories(struct checker *c, struct violation *v);
/* PV-MAPPING for one valid managed PTE: its page's list holds exactly one (pmap, va). */
int chk_pte_has_pv(struct checker *c, uint32_t pmap, uint32_t va, uint32_t pte, struct violation *v);
/* The same, and that the entry listed is the one at address entry (0: any). */
int chk_pte_has_this_pv(struct checker *c, uint32_t pmap, uint32_t va, uint32_t pte, uint32_t entry,
    struct violation *v);
/* PV-MAPPING for one in-use pv entry: it names a valid managed PTE of its page. */
int chk_pv_entry(struct checker *c, uint32_t chunk, int idx, struct violation *v);
/* The chunk rules for one chunk (bitmap bits, emptiness, list links). */
int chk_chunk(struct checker *c, uint32_t chunk, struct violation *v);
/* PAGE-STATE for one page. */
int chk_page_state(struct checker *c, uint32_t pg, struct violation *v);
/* The pmap whose directory is at pd (index into c->pmaps), or -1. */
int chk_pmap_of_pd(const struct checker *c, uint32_t pd);
/* The pmap whose struct is at gva (index into c->pmaps), or -1. */
int chk_pmap_of_gva(const struct checker *c, uint32_t gva);
int chk_is_free_bit(const struct pv_chunk *pc, int idx);
/* The byte offset, within its vm_page record, of the word an EV_VMPAGE_WRITE stored. */
uint32_t chk_vmpage_field(const struct event *e);
/* AD-DIRTY-LOST and AD-REF-LOST over the pages the step wrote or touched. */
int chk_ad_step(struct checker *c, struct violation *v);
/* The same over every page; ptebits: per page, CHK_AD_* of its live managed PTEs. */
int chk_ad_full(struct checker *c, const uint8_t *ptebits, struct violation *v);
int chk_inuse(const struct pv_chunk *pc);

/* A hash set of (pmap, va) -> value. */
struct pvkey {
	uint32_t pmap, va, val;
	uint8_t used, seen;
};

struct pvset {
	struct pvkey *v;
	uint32_t cap, n;
};

int pvset_init(struct pvset *s, uint32_t n);
void pvset_free(struct pvset *s);
/* Insert; returns the existing key if (pmap, va) was there already, else NULL. */
struct pvkey *pvset_put(struct pvset *s, uint32_t pmap, uint32_t va, uint32_t val);
struct pvkey *pvset_get(const struct pvset *s, uint32_t pmap, uint32_t va);

#endif
