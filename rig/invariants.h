/*
 * invariants.h - the invariant catalog (stable IDs, one-line descriptions)
 * and the checker that proves them from guest memory alone, after every
 * step (incrementally, from what the step changed) or in full.
 */
#ifndef RIG_INVARIANTS_H
#define RIG_INVARIANTS_H

#include <stdint.h>

#include "events.h"
#include "machine.h"

struct pvset;

struct invariant_info {
	const char *id;
	const char *summary;
};

/* The catalog's IDs, in catalog order (an index into invariant_catalog). */
enum invariant_id {
	INV_PD_SELFMAP,
	INV_PD_KERNEL,
	INV_PT_COUNT,
	INV_PV_MAPPING,
	INV_PV_CHUNK_BITMAP,
	INV_PV_CHUNK_LISTS,
	INV_PV_CHUNK_EMPTY,
	INV_PV_KVA,
	INV_TLB_STALE,
	INV_PAGE_STATE,
	INV_STATS,
	INV_MODEL,
	INV_LOCK_ORDER,
	INV_LOCK_RECURSE,
	INV_LOCK_HELD,
	INV_AD_DIRTY_LOST,
	INV_AD_REF_LOST,
	INV_COUNT,
};

/* The catalog, terminated by a NULL id. */
extern const struct invariant_info invariant_catalog[];
/* The catalog's entry for id (exact, case-sensitive), or NULL. */
const struct invariant_info *invariant_lookup(const char *id);

/* A bug planted on purpose in one guest build (`guest buggy-NAME`). */
struct planted_bug {
	const char *name;
	const char *breaks;	/* the invariant ID it breaks */
	const char *what;
};

extern const struct planted_bug planted_bugs[];
extern const struct planted_bug smp_bugs[];	/* guest-smp-NAME.elf */
const struct planted_bug *planted_bug_lookup(const char *name);

/* A broken rule: its ID and the evidence (structures, addresses, values). */
struct violation {
	const char *id;
	char detail[2048];
	struct event cause;	/* the write that caused it, when known */
	int has_cause;
	uint32_t stack[RIG_MAX_FRAMES];	/* the cause's callers (return addresses), when known */
	int nstack;
};

/* Record a violation of rule id in v (no cause known yet); returns -1. */
int vfail(struct violation *v, const char *id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define CHK_MAX_PMAPS	80

/* One pmap as the checker sees it. */
struct chk_pmap {
	uint32_t gva;		/* struct pmap */
	uint32_t pd;		/* its directory's physical address */
	const uint32_t *pde;	/* the directory in host memory */
};

/* Counts of one directory's mappings, as pm_stats should have them. */
struct chk_stats {
	uint32_t pd, resident, wired;
};

/* The callers of a step's write that took PG_A or PG_M out of a managed PTE. */
struct chk_stack {
	uint64_t seq;
	uint32_t frames[RIG_MAX_FRAMES];
	int n;
};

#define CHK_MAX_STACKS	32

/* Bitmap words in a chunk: 4096 bytes hold at most 1024 four-byte entries. */
#define CHK_MAX_NPCM	32

/* A chunk page written in this step, and which of its entries may have changed. */
struct chk_dirty_chunk {
	uint32_t va;
	uint32_t mask[CHK_MAX_NPCM];
};

/* Shadow counts kept from the event stream between full checks. */
struct chk_shadow {
	uint16_t *mapcount;	/* per page: valid PTEs mapping it */
	struct chk_stats stats[CHK_MAX_PMAPS];
	int nstats;
	int32_t entries;	/* pv entries in use, summed over chunks */
	int32_t free_pages;	/* pages in the free role (from stores into page.role) */
	int32_t pv_counts;	/* page.pv_count summed over pages (from stores into it) */
	struct pvset *chunk_inuse;	/* chunk VA -> entries in use */
	int valid;		/* set by a full check; cleared when unsure */
};

/*
 * The model's accessed/modified state of one physical page, owned by the
 * runner: what the VM must still be able to learn from the pmap (PG_A/PG_M
 * in a live managed PTE of the page, or PGA_REFERENCED/PGA_MODIFIED in its
 * vm_page). The A/D rules compare guest memory with it.
 */
#define CHK_AD_REF	0x1	/* accessed since the page was allocated */
#define CHK_AD_DIRTY	0x2	/* written since allocated or last clear-modify */

/* CHK_AD_* of a PTE's PG_A and PG_M. */
static inline uint8_t chk_ad_of_pte(uint32_t pte)
{
	return (pte & PG_A ? CHK_AD_REF : 0) | (pte & PG_M ? CHK_AD_DIRTY : 0);
}

struct chk_ad {
	const uint8_t *want;	/* per physical page: CHK_AD_*; NULL: no A/D rules */
	/* Describe how page pg got bit (for messages); NULL: say nothing. */
	void (*describe)(void *ctx, uint32_t pg, uint8_t bit, char *buf, size_t len);
	void *ctx;
	uint32_t touched[4];	/* pages the CPU accessed in this step (set by the runner) */
	int ntouched;
};

struct checker {
	struct machine *m;
	const struct contract *ct;	/* what the guest declares (m->ct) */
	const struct glayout *lay;	/* its address-space layout (m->lay) */
	uint32_t npages;		/* physical pages of RAM */
	uint32_t pages_va, nrecs;	/* the vm_page array and its records */
	uint32_t kva_base, kva_slots;	/* the chunk KVA block (0 slots: none declared) */
	uint32_t entry_bound;		/* more pv entries than can exist: a list this long is a cycle */
	uint32_t ignore_mask;	/* bit INV_*: the file ignores that rule */
	struct chk_pmap pmaps[CHK_MAX_PMAPS];	/* [0] is the kernel pmap */
	int npmaps;
	struct chk_shadow shadow;
	/* the current step's changes, fed by the watch */
	struct event *writes;	/* PTE/PDE writes and INVLPG/CR loads, in order */
	int nwrites, capwrites;
	struct chk_dirty_chunk *dirty_chunks;	/* chunk pages written */
	int ndirty_chunks, capdirty_chunks;
	uint32_t *dirty_pages;	/* vm_page indices written */
	int ndirty_pages, capdirty_pages;
	uint32_t step_cr3;	/* CR3 when the step began */
	uint32_t known[CHK_MAX_PMAPS];	/* directories seen at the last check */
	int nknown;
	struct chk_ad ad;	/* the A/D model the runner keeps */
	struct chk_stack stacks[CHK_MAX_STACKS];	/* callers of this step's A/D-dropping writes */
	int nstacks;
};

int checker_init(struct checker *c, struct machine *m);
/*
 * What a passing full check left (the pmaps, the shadow counts), kept to
 * start another checker on the same machine state without the full check
 * again (a run on a restored snapshot); NULL when there is none to keep.
 */
struct chk_saved *checker_save(const struct checker *c);
/* Start c (fresh from checker_init, on the same RAM) from what s kept; 0 or -1. */
int checker_load(struct checker *c, const struct chk_saved *s);
void checker_saved_free(void *s);
/* Is rule id (INV_*) ignored by this file? */
#define chk_off(c, id)	(((c)->ignore_mask >> (id)) & 1)
void checker_free(struct checker *c);
/* Every rule over the whole state; 0, or -1 with *v filled (the first rule that fails,
 * in the order of invfull.c: directories, page tables and STATS, pv side, pages). */
int checker_full(struct checker *c, struct violation *v);
/* TLB-STALE, then the rules over what the current step changed. */
int checker_step(struct checker *c, struct violation *v);
/* TLB-STALE over the current step's events alone. */
int checker_tlb(struct checker *c, struct violation *v);
/* Begin a step: remember CR3, forget the last step's changes. */
void checker_begin_step(struct checker *c);
/* Note that the CPU accessed physical page pg in this step (a touch). */
void checker_ad_touched(struct checker *c, uint32_t pg);
/* The event sink that records a step's changes (subscribe it to the stream). */
void checker_event(void *arg, const struct event *e);

#endif
