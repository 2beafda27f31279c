/*
 * pv_kva_ptelist.c - KVA policy "ptelist": a fixed block of pv_maxchunks
 * pages whose free slots are listed through their own PTEs.
 *
 * This is the idea the 2006 commit looked forward to (FreeBSD 1.554): the
 * PTE of a free slot is never valid, so it can hold anything with PG_V
 * clear, and the virtual address of the next free slot (page-aligned, so
 * PG_V is 0) is such a thing. pv_vafree is the head; the list costs no
 * memory, holes anywhere in the block are tracked, and chunk pages can be
 * returned to the free pool again.
 * Invariant: every slot is either mapped (holding a chunk) or on the list,
 * and every PTE on the list has PG_V clear.
 */
#include "kernel.h"
#include "pmap.h"
#include "pv_kva.h"

vm_offset_t pv_vafree;

/* Pop a free slot off the list threaded through PTEs; 0 when empty. */
static vm_offset_t pmap_ptelist_alloc(vm_offset_t *head)
{
	vm_offset_t va = *head;
	pt_entry_t *pte;

	if (va == 0)
		return 0;
	pte = vtopte(va);
#ifndef RIG_BUG_PTELIST_KEEPS_HEAD
	*head = *pte;
#endif
	if (*head & PG_V)
		panic("pmap_ptelist_alloc: va with PG_V set!");
	*pte = 0;
	return va;
}

/* Push slot va: its (invalid) PTE now holds the old head. */
static void pmap_ptelist_free(vm_offset_t *head, vm_offset_t va)
{
	pt_entry_t *pte;

	if (va & PG_V)
		panic("pmap_ptelist_free: freeing va with PG_V set!");
	pte = vtopte(va);
	*pte = *head;		/* virtual! PG_V is 0 though */
	*head = va;
}

/* Put all npages slots of the block on the list, lowest address first. */
static void pmap_ptelist_init(vm_offset_t *head, vm_offset_t base, uint32_t npages)
{
	*head = 0;
	for (int i = (int)npages - 1; i >= 0; i--)
		pmap_ptelist_free(head, base + i * PAGE_SIZE);
}

/* Reserve the block during bootstrap. */
void pv_kva_bootstrap(void)
{
	pv_chunkbase = pmap_steal_kva(pv_maxchunks);
}

/* Thread every slot onto pv_vafree. */
void pv_kva_init(void)
{
	pmap_ptelist_init(&pv_vafree, pv_chunkbase, pv_maxchunks);
}

/* A slot off the list, backed by a new page; NULL if either is missing. */
struct pv_chunk *pv_chunk_page_get(void)
{
	vm_offset_t va = pmap_ptelist_alloc(&pv_vafree);

	if (va == 0)
		return NULL;
	if (!pv_page_map(va)) {
		pmap_ptelist_free(&pv_vafree, va);
		return NULL;
	}
	return (struct pv_chunk *)va;
}

/* Unmap an empty chunk, free its page, and put its slot back on the list. */
void pv_chunk_page_put(struct pv_chunk *pc)
{
	vm_offset_t va = (vm_offset_t)pc;

	pv_page_unmap(va);
	pmap_ptelist_free(&pv_vafree, va);
#ifdef RIG_BUG_VAFREE_PGV
	*vtopte(va) |= PG_V;
#endif
}
