/*
 * mmu.h - the host is the CPU's MMU. Unicorn runs in UC_TLB_VIRTUAL mode and
 * asks the fill hook for every translation it does not cache; the hook walks
 * the guest's tables as an i386 CPU does (4 KiB and 4 MiB pages, U/S by CPL,
 * CR0.WP, RW on both levels), sets the accessed and dirty bits in guest
 * memory, and raises page faults with their error code. A frame the watcher
 * watches is handed out at its alias in the MMIO window for stores, so only
 * stores to watched frames (and loads from them after one, until the next
 * flush) leave Unicorn's fast path.
 *
 * With the model on, the MMU also keeps the TLB model: per virtual page, the
 * translation last handed out to the CPU. Fills are served from it first, so
 * a translation the guest changed without INVLPG keeps being used until an
 * INVLPG of it or a CR3 load, as on hardware, even when the host has to
 * flush Unicorn's own TLB. The model is exact: it holds what the CPU may
 * still use, and TLB-STALE is judged from it.
 */
#ifndef RIG_MMU_H
#define RIG_MMU_H

#include <stdint.h>
#include <unicorn/unicorn.h>

#include "walk.h"

/* The alias window: frame f of RAM is also at ALIAS_BASE + f * 4096 (above 4 GiB). */
#define ALIAS_BASE	0x100000000ull

/* A translation the CPU holds. */
struct tlb_entry {
	uint32_t vpage;		/* VA >> 12 */
	uint32_t frame;		/* PA >> 12 */
	uint32_t pte;		/* the PTE (or 4 MiB PDE) as the walk left it */
	uint32_t pte_pa, pde_pa;	/* where the entries live (equal for 4 MiB) */
	uint8_t flags;		/* TLB_* */
};

#define TLB_USED	0x01
#define TLB_RW		0x02	/* writable in the tables (PDE and PTE) */
#define TLB_U		0x04	/* user in the tables */
#define TLB_D		0x08	/* dirty when filled: the CPU writes without a walk */
#define TLB_LARGE	0x10	/* from a 4 MiB PDE */
#define TLB_GLOBAL	0x20	/* PG_G with CR4.PGE: survives CR3 loads */

enum mmu_fault_kind { MMU_OK, MMU_PAGE_FAULT, MMU_BAD_FRAME };

/* Why the last fill failed. */
struct mmu_fault {
	enum mmu_fault_kind kind;
	uint32_t va;		/* CR2 */
	uint32_t err;		/* page-fault error code (P, W/R, U/S) */
	uint32_t pa;		/* MMU_BAD_FRAME: the physical address outside RAM */
	uint32_t entry;		/* MMU_BAD_FRAME: the entry that points there */
};

struct mmu {
	uc_engine *uc;
	const struct physmem *pm;
	uint32_t npages;
	const uint8_t *watched;	/* per frame: non-zero = hand out at the alias */
	int model;		/* keep the TLB model and serve fills from it */
	struct tlb_entry *tlb;	/* open addressing on vpage */
	uint32_t cap, n, nlarge, nglobal;
	uint16_t *frame_refs;	/* model entries per frame */
	struct mmu_fault fault;
	uint32_t aliased;	/* alias hand-outs since Unicorn's TLB was last flushed */
	uint32_t alias_loads;	/* loads through the alias since the last store there */
	uint64_t fills, served, walks, flushes;
	uint64_t inv_seq;	/* the guest's invalidations so far (INVLPG, CR loads) */
	uint32_t inv_va;	/* the last one's page, or MMU_INV_ALL */
};

#define MMU_INV_ALL	0xffffffffu

/* Install the fill hook on uc (before the first run). 0 or -1. */
int mmu_init(struct mmu *u, uc_engine *uc, const struct physmem *pm);
void mmu_free(struct mmu *u);
/* Turn the TLB model on (empty) or off. */
void mmu_model(struct mmu *u, int on);
/* The guest ran INVLPG va / loaded CR3 (keep global entries) / CR0 or CR4. */
void mmu_invlpg(struct mmu *u, uint32_t va);
void mmu_flush(struct mmu *u, int keep_global);
/*
 * Loads through the alias in a row, with no store between, after which the
 * host flushes Unicorn's TLB so that watched pages serve loads from RAM
 * again (a flush and its refills cost about as much as 40 such loads).
 */
#define MMU_UNALIAS_LOADS	32

/* A load / a store came through the alias window (from its callbacks). */
void mmu_alias_load(struct mmu *u);
void mmu_alias_store(struct mmu *u);
/* A frame starts or stops being handed out at its alias: Unicorn must drop what it caches of it. */
void mmu_frame_changes(struct mmu *u, uint32_t frame);
/*
 * An access the host makes for the CPU (a string instruction it runs
 * itself): translate as the CPU would, with the same accessed/dirty
 * updates and model entry. 0 and the frame, or -1 where the CPU would fault.
 */
int mmu_access(struct mmu *u, uint32_t va, int write, uint32_t *frame);
/* The model's entry for va's page, or NULL. */
const struct tlb_entry *mmu_lookup(const struct mmu *u, uint32_t va);
/* Iterate: *i from 0; the next used entry, or NULL at the end. */
const struct tlb_entry *mmu_next(const struct mmu *u, uint32_t *i);
/* The translations of pages in [lo, hi], in VA order, in a malloc'd *out (free it); how many, or -1. */
int mmu_sorted(const struct mmu *u, uint64_t lo, uint64_t hi, struct tlb_entry **out);
/* " RW US D G 4M": an entry's TLB_* flags as words (empty for none); buf. */
const char *tlb_flags_text(uint8_t flags, char *buf, size_t len);
/* How the tables translate e's page now differs from e, or NULL if they agree. */
const char *mmu_entry_stale(const struct mmu *u, const struct tlb_entry *e, uint32_t cr3, uint32_t cr4,
    struct walk *now);

#endif
