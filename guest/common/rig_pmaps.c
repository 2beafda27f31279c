/*
 * rig_pmaps.c - the entry points the rig calls for a pmap's storage and for
 * a touch (docs/guest-contract.md), written against pmap(9) alone, so
 * every family links them: the family's pmap.h provides struct pmap,
 * NPMAPS_MAX, kernel_pmap, pm_active, pmap_pinit, pmap_release,
 * pmap_activate and pmap_is_current.
 */
#include "kernel.h"
#include "pmap.h"

static struct pmap pmap_store[NPMAPS_MAX];
static uint8_t pmap_store_used[NPMAPS_MAX];

/* A new user pmap (storage + pmap_pinit); NULL when none can be made. */
struct pmap *rig_pmap_create(void)
{
	for (int i = 0; i < NPMAPS_MAX; i++) {
		if (pmap_store_used[i])
			continue;
		if (!pmap_pinit(&pmap_store[i]))
			return NULL;
		pmap_store_used[i] = 1;
		return &pmap_store[i];
	}
	return NULL;
}

/* Release an empty pmap, switching to the kernel's space if it is loaded. */
void rig_pmap_destroy(struct pmap *pmap)
{
	if (pmap_is_current(pmap))
		pmap_activate(kernel_pmap);
	pmap_release(pmap);
	pmap_store_used[pmap - pmap_store] = 0;
}

/*
 * Load (write = 0) or store (write = 1) one word at va with pmap active,
 * through the MMU. A page fault here is the step's outcome, not a crash:
 * the host recognises the faulting EIP as rig_touch_access.
 */
uint32_t rig_touch(struct pmap *pmap, vm_offset_t va, int write)
{
	extern uint32_t rig_touch_access(vm_offset_t va, int write);

	if (!pmap_is_current(pmap) || (pmap->pm_active & (1u << curcpu())) == 0)
		pmap_activate(pmap);
	return rig_touch_access(va, write);
}
