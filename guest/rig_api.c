/*
 * rig_api.c - the reference guests' entry points for pages, enter and kenter
 * (guest/common/rig_pmaps.c has the pmaps' storage and the touch). The pmap
 * API itself (pmap_enter, pmap_remove, ...) is called directly.
 */
#include "kernel.h"
#include "pmap.h"

/* A new managed page for mapping; NULL when none is left. */
struct vm_page *rig_page_alloc(void)
{
	return vm_page_alloc(VPS_MANAGED);
}

/* Free a managed page; -1 (and nothing done) while it is still mapped. */
int rig_page_free(struct vm_page *m)
{
	if (!TAILQ_EMPTY(&m->pv_list))
		return -1;
	vm_page_free(m);
	return 0;
}

/* pmap_enter, growing the kernel first when the va is a kernel one. */
int rig_enter(struct pmap *pmap, vm_offset_t va, struct vm_page *m, vm_prot_t prot,
    boolean_t wired)
{
	if (pmap == kernel_pmap)
		pmap_growkernel(va + PAGE_SIZE);
	return pmap_enter(pmap, va, m, prot, wired);
}

/* An unmanaged kernel mapping of page m at va, growing the kernel as needed. */
void rig_kenter(vm_offset_t va, struct vm_page *m)
{
	pmap_growkernel(va + PAGE_SIZE);
	pmap_kenter(va, m->phys_addr);
}
