/*
 * pv_kva_common.c - what every KVA policy does with a chunk's page:
 * allocate, map, count; and the reverse.
 */
#include "kernel.h"
#include "pmap.h"
#include "pv_kva.h"

/* Count one page more held by the pv allocator. */
static void pv_page_held(int delta)
{
	pv_stats.pv_pages_held += delta;
	if (pv_stats.pv_pages_held > pv_stats.pv_pages_peak)
		pv_stats.pv_pages_peak = pv_stats.pv_pages_held;
}

/* Count one chunk KVA slot more (or less) in use; `slot` is its index. */
void pv_kva_count(int delta, uint32_t slot)
{
	pv_stats.pv_kva_inuse += delta;
	if (pv_stats.pv_kva_inuse > pv_stats.pv_kva_peak)
		pv_stats.pv_kva_peak = pv_stats.pv_kva_inuse;
	if (delta > 0 && slot + 1 > pv_stats.pv_kva_used_ever)
		pv_stats.pv_kva_used_ever = slot + 1;
}

/* Back the chunk slot at va with a new zeroed page and count it; FALSE if none. */
boolean_t pv_page_map(vm_offset_t va)
{
	struct vm_page *m = vm_page_alloc(VPS_PVCHUNK);

	if (m == NULL)
		return FALSE;
	pmap_qenter(va, m);
	pagezero((void *)va);
	pv_page_held(1);
	pv_kva_count(1, pv_slot(va));
	return TRUE;
}

/* Unmap the chunk page at va, return it to the free pool, uncount the slot. */
void pv_page_unmap(vm_offset_t va)
{
	struct vm_page *m = PHYS_TO_VM_PAGE(PTE_ADDR(*vtopte(va)));

	pmap_qremove(va);
	vm_page_free(m);
	pv_page_held(-1);
	pv_kva_count(-1, pv_slot(va));
}
