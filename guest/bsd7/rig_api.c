/*
 * rig_api.c - bsd7's entry points for pages, enter and kenter (the runtime
 * ABI, docs/guest-contract.md); guest/common/rig_pmaps.c has the pmaps'
 * storage and the touch.
 */
#include "kernel.h"
#include "pmap.h"

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
