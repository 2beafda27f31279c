/*
 * rig_api.c - the entry points the rig calls (docs/guest-contract.md, the
 * runtime ABI) for steps that need more than one pmap call or storage the
 * pmap API leaves to its caller.
 */
#include "kernel.h"
#include "pmap.h"

static struct pmap pmap_store[NPMAPS_MAX];
static uint8_t pmap_store_used[NPMAPS_MAX];

/* A new user pmap; NULL when none can be made. */
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

/* A new managed page; NULL when none is left. */
struct vm_page *rig_page_alloc(void)
{
	return vm_page_alloc(0);
}

/* Free a page; -1 (and nothing done) while it is still mapped. */
int rig_page_free(struct vm_page *m)
{
	if (!TAILQ_EMPTY(&m->md.pv_list))
		return -1;
	vm_page_free(m);
	return 0;
}

/* pmap_enter, growing the kernel first for a kernel va. pmap_enter cannot fail: 0. */
int rig_enter(struct pmap *pmap, vm_offset_t va, struct vm_page *m, vm_prot_t prot, boolean_t wired)
{
	if (pmap == kernel_pmap)
		pmap_growkernel(va + PAGE_SIZE);
	pmap_enter(pmap, va, m, prot, wired);
	return KERN_SUCCESS;
}

/* An unmanaged kernel mapping of page m at va. */
void rig_kenter(vm_offset_t va, struct vm_page *m)
{
	pmap_growkernel(va + PAGE_SIZE);
	pmap_kenter(va, m->phys_addr);
}

/* One load or store at va with pmap active (guest/common/rig_touch.S). */
uint32_t rig_touch(struct pmap *pmap, vm_offset_t va, int write)
{
	extern uint32_t rig_touch_access(vm_offset_t va, int write);

	if (!pmap_is_current(pmap))
		pmap_activate(pmap);
	return rig_touch_access(va, write);
}
