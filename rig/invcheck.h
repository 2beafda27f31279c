/*
 * invcheck.h - internals shared by the rules over one structure
 * (invariants.c), the full check (invfull.c) and the per-step check
 * (invstep.c), and the small hash set of (pmap, va) keys (invset.c).
 */
#ifndef RIG_INVCHECK_H
#define RIG_INVCHECK_H

#include <string.h>

#include "invariants.h"

/*
 * Guest objects are read through the contract: a host pointer to the
 * object (NULL when unmapped) and the word at a byte offset the descriptor
 * and DWARF gave. No struct of the guest's is compiled into the host.
 */
static inline uint32_t rd32(const uint8_t *p, uint32_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/* Host pointers to a guest struct pmap, pv chunk and pv entry at kernel VA va (NULL if unmapped). */
const uint8_t *chk_pmap_ptr(struct checker *c, uint32_t va);
const uint8_t *chk_chunk_ptr(struct checker *c, uint32_t va);
const uint8_t *chk_entry_ptr(struct checker *c, uint32_t va);
/* A pmap's directory (its CR3 value). */
#define PM_CR3(c, pm)		rd32((pm), (c)->ct->pm_dirpa)
/* The first chunk on a pmap's chunk list. */
#define PM_CHUNKS(c, pm)	rd32((pm), (c)->ct->pm_chunks)
/* A chunk's owner, and its next chunk on its pmap's list and on the global list. */
#define PC_OWNER(c, pc)		rd32((pc), (c)->ct->pc_owner)
#define PC_NEXT(c, pc)		rd32((pc), (c)->ct->pc_link.off)
#define PC_GNEXT(c, pc)		rd32((pc), (c)->ct->pc_global.off)
/* Bitmap word i of a chunk. */
#define PC_MAP(c, pc, i)	rd32((pc), (c)->ct->pc_map + 4 * (uint32_t)(i))
/* The VA a chunk's entry idx names, and that entry's address. */
#define PC_PV_VA(c, pc, idx)	rd32((pc), (c)->ct->pc_entries + (uint32_t)(idx) * (c)->ct->entry_size + (c)->ct->pv_va)
#define PC_ENTRY(c, chunk, idx)	((chunk) + (c)->ct->pc_entries + (uint32_t)(idx) * (c)->ct->entry_size)
/* A pv entry's VA and the next entry on its page's list. */
#define PV_VA(c, pv)		rd32((pv), (c)->ct->pv_va)
#define PV_NEXT(c, pv)		rd32((pv), (c)->ct->pv_link.off)
/* A vm_page's first pv entry. */
#define PG_PVFIRST(c, m)	rd32((m), (c)->ct->pg_pv_list)
/* The index of entry address e in its chunk, or -1 if e is not an entry's address. */
int chk_entry_index(const struct checker *c, uint32_t e);
/* The page role (CT_ROLE_*) a vm_page record declares, or -1 (no role field, or an undeclared value). */
int chk_role(const struct checker *c, const uint8_t *m);
/* The role's value in messages ("state 4"). */
uint32_t chk_role_raw(const struct checker *c, const uint8_t *m);
/* Does the guest declare role r (page.role ... r=VALUE)? */
#define chk_has_role(c, r)	((c)->ct->has_role && ((c)->ct->roles_declared >> (r) & 1))
/* The length of a vm_page's pv list (bounded by entry_bound). */
uint32_t chk_page_pvlen(struct checker *c, const uint8_t *m);
/* Pv entries in use now, by the guest's own count (count.entries); -1 when it keeps none. */
int64_t chk_entry_count(struct checker *c);

int chk_load_pmaps(struct checker *c, struct violation *v);
/* The vm_page record of physical page pg (NULL if unreadable). */
const uint8_t *chk_page(struct checker *c, uint32_t pg);
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
int chk_is_free_bit(const struct checker *c, const uint8_t *pc, int idx);
/* The byte offset, within its vm_page record, of the word an EV_VMPAGE_WRITE stored. */
uint32_t chk_vmpage_field(const struct event *e);
/* AD-DIRTY-LOST and AD-REF-LOST over the pages the step wrote or touched. */
int chk_ad_step(struct checker *c, struct violation *v);
/* The same over every page; ptebits: per page, CHK_AD_* of its live managed PTEs. */
int chk_ad_full(struct checker *c, const uint8_t *ptebits, struct violation *v);
/* Entries of a chunk in use (by its bitmap). */
int chk_inuse(const struct checker *c, const uint8_t *pc);

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
