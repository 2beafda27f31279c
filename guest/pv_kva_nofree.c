/*
 * pv_kva_nofree.c - KVA policy "nofree": the 2006 interim fix (FreeBSD
 * pmap.c 1.553). The fixed block is handed out by a linear index,
 * pv_nextindex; a chunk page, once allocated, is never returned to the free
 * pool, so the block never has holes. Empty chunks are kept, mapped, on
 * pv_spare and reused before the index moves on.
 * Invariant: slots [0, pv_nextindex) are mapped chunk pages, the rest have
 * PG_V clear; the pages held never go down.
 */
#include "kernel.h"
#include "pmap.h"
#include "pv_kva.h"

uint32_t pv_nextindex;
struct pv_chunklist pv_spare = TAILQ_HEAD_INITIALIZER(pv_spare);

/* Reserve the block during bootstrap. */
void pv_kva_bootstrap(void)
{
	pv_chunkbase = pmap_steal_kva(pv_maxchunks);
}

/* Nothing to set up: the index starts at 0 and the spare list empty. */
void pv_kva_init(void)
{
}

/* A kept empty chunk if there is one, else the next never-used slot. */
struct pv_chunk *pv_chunk_page_get(void)
{
	struct pv_chunk *pc = TAILQ_FIRST(&pv_spare);
	vm_offset_t va;

	if (pc != NULL) {
		TAILQ_REMOVE(&pv_spare, pc, pc_list);
		pv_kva_count(1, pv_slot((vm_offset_t)pc));
		return pc;
	}
	if (pv_nextindex >= pv_maxchunks)
		return NULL;
	va = pv_chunkbase + pv_nextindex * PAGE_SIZE;
	if (!pv_page_map(va))
		return NULL;
	pv_nextindex++;
	return (struct pv_chunk *)va;
}

/* Keep an empty chunk: it stays mapped and its page stays ours. */
void pv_chunk_page_put(struct pv_chunk *pc)
{
	TAILQ_INSERT_HEAD(&pv_spare, pc, pc_list);
	pv_kva_count(-1, pv_slot((vm_offset_t)pc));
}
