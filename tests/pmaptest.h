/* pmaptest.h - helpers for tests that drive the guest pmap through the host. */
#ifndef RIG_TEST_PMAPTEST_H
#define RIG_TEST_PMAPTEST_H

#include "harness.h"
#include "walk.h"
#include "../guest/pmap_types.h"	/* the reference guests' structures, host view */

#define PROT_R	1
#define PROT_RW	3

/* Host view of a guest structure at a kernel VA (must not cross a page). */
#define GPTR_OF(m, type, va) ((type *)machine_gptr((m), (va), sizeof(type)))

static inline struct vm_page *vmpage(struct machine *m, uint32_t va)
{
	return GPTR_OF(m, struct vm_page, va);
}

static inline struct pmap *pmapv(struct machine *m, uint32_t va)
{
	return GPTR_OF(m, struct pmap, va);
}

static inline struct pv_stats *pvstats(struct machine *m)
{
	return GPTR_OF(m, struct pv_stats, gsym(m, "pv_stats"));
}

static inline uint32_t page_pa(struct machine *m, uint32_t page)
{
	return vmpage(m, page)->phys_addr;
}

/* The guest VA of the vm_page describing physical address pa. */
static inline uint32_t page_of_pa(struct machine *m, uint32_t pa)
{
	return gword(m, "vm_page_array") + (pa >> PAGE_SHIFT) * sizeof(struct vm_page);
}

static inline uint32_t kernel_pmap(struct machine *m)
{
	return gsym(m, "kernel_pmap_store");
}

/* The PTE (or 0) and PDE for va in a pmap, walked by the host. */
static inline uint32_t pte_of(struct machine *m, uint32_t pmap, uint32_t va)
{
	struct walk w;

	walk_va(&m->pm, pmapv(m, pmap)->pm_pdir_pa, 0, va, &w);
	return w.status == WALK_MAPPED || w.status == WALK_NO_PTE ? w.pte : 0;
}

static inline uint32_t pde_of(struct machine *m, uint32_t pmap, uint32_t va)
{
	struct walk w;

	walk_va(&m->pm, pmapv(m, pmap)->pm_pdir_pa, 0, va, &w);
	return w.pde;
}

/* pmap_enter through rig_enter; returns the KERN_* code. */
static inline uint32_t enter(struct machine *m, uint32_t pmap, uint32_t va, uint32_t page,
    uint32_t prot, uint32_t wired)
{
	return CALL(m, "rig_enter", pmap, va, page, prot, wired);
}

/* Does a guest load (write = 0) or store (1) at va, with pmap active, fault? */
static inline int touch_faults(struct machine *m, uint32_t pmap, uint32_t va, int write)
{
	uint32_t v;
	enum stop_kind k = GCALL(m, "rig_touch", &v, pmap, va, write);

	ck_assert_msg(k == STOP_RETURN || (k == STOP_FAULT && m->stop.vector == 14),
	    "touch 0x%08x stopped with %d", va, k);
	return k == STOP_FAULT;
}

#define load_faults(m, pmap, va)	touch_faults((m), (pmap), (va), 0)
#define store_faults(m, pmap, va)	touch_faults((m), (pmap), (va), 1)

#endif
