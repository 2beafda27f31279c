/*
 * pmap_pv.c - pv entries, grouped in page-sized pv chunks.
 *
 * Invariants (checked by the host after every step, docs/invariants.md):
 *  - a chunk's in-use entries are exactly the clear bits of pc_map, and
 *    pv_entry_count is the sum of in-use entries over all chunks;
 *  - every chunk is on its pmap's pm_pvchunk list once, chunks with a free
 *    entry ahead of full ones, and once on the global LRU list pv_chunks;
 *  - a chunk with no entry in use does not survive: its page goes back
 *    through the KVA policy (pv_chunk_page_put), except in reclaim, which
 *    hands the emptied chunk straight to the pmap that needs one.
 */
#include "kernel.h"
#include "pmap.h"

struct pv_chunklist pv_chunks = TAILQ_HEAD_INITIALIZER(pv_chunks);
struct pv_stats pv_stats;
struct lock pv_lock;
uint32_t pv_entry_count, pv_entry_max, pv_entry_high_water;
uint32_t pv_maxchunks;
vm_offset_t pv_chunkbase;

static uint32_t pmap_reclaim_chunk(struct pmap *pmap, struct pv_chunk *pc);

static const uint32_t pc_freemask[_NPCM] = {
	~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, PC_FREE_LAST
};

/* The pv system's lock and limits. */
void pv_init(void)
{
	/* The page queues lock of 2006 FreeBSD was recursive; so is ours. */
	lock_init(&pv_lock, "pv", LK_RECURSE);
	pv_entry_max = pv_maxchunks * _NPCPV;
	pv_entry_high_water = 9 * (pv_entry_max / 10);
}

/* Index of the first free entry of pc, or -1 when the chunk is full. */
static int pc_first_free(struct pv_chunk *pc)
{
	for (int i = 0; i < _NPCM; i++)
		if (pc->pc_map[i] != 0)
			return i * 32 + __builtin_ctz(pc->pc_map[i]);
	return -1;
}

/* Is every entry of pc free? */
static boolean_t pc_is_empty(struct pv_chunk *pc)
{
	for (int i = 0; i < _NPCM; i++)
		if (pc->pc_map[i] != pc_freemask[i])
			return FALSE;
	return TRUE;
}

/* Give a fresh chunk page to pmap: all entries free, at the head of its list. */
static void pv_chunk_init(struct pmap *pmap, struct pv_chunk *pc)
{
	pc->pc_pmap = pmap;
	memcpy(pc->pc_map, pc_freemask, sizeof(pc->pc_map));
	TAILQ_INSERT_HEAD(&pmap->pm_pvchunk, pc, pc_list);
	TAILQ_INSERT_TAIL(&pv_chunks, pc, pc_lru);
	pv_stats.pc_chunk_count++;
	pv_stats.pc_chunk_allocs++;
}

/* Take entry idx of pc; a chunk that fills up moves behind the others. */
static struct pv_entry *pv_take(struct pmap *pmap, struct pv_chunk *pc, int idx)
{
	pc->pc_map[idx / 32] &= ~(1u << (idx % 32));
#ifdef RIG_BUG_FULL_AT_HEAD
	if (0) {
#else
	if (pc_first_free(pc) < 0) {
#endif
		TAILQ_REMOVE(&pmap->pm_pvchunk, pc, pc_list);
		TAILQ_INSERT_TAIL(&pmap->pm_pvchunk, pc, pc_list);
	}
	TAILQ_REMOVE(&pv_chunks, pc, pc_lru);
	TAILQ_INSERT_TAIL(&pv_chunks, pc, pc_lru);
	pv_entry_count++;
	pv_stats.pv_entry_allocs++;
	return &pc->pc_pventry[idx];
}

/* Mark entry pv free in its chunk's bitmap, without moving the chunk. */
static void pv_release(struct pv_chunk *pc, struct pv_entry *pv)
{
	int idx = pv - pc->pc_pventry;

#ifndef RIG_BUG_BITMAP_LEAK
	pc->pc_map[idx / 32] |= 1u << (idx % 32);
#else
	(void)idx;
#endif
	pv_entry_count--;
	pv_stats.pv_entry_frees++;
}

/* Unlink pc from its pmap's list and from the LRU. */
static void pv_chunk_unlink(struct pv_chunk *pc)
{
	TAILQ_REMOVE(&pc->pc_pmap->pm_pvchunk, pc, pc_list);
	TAILQ_REMOVE(&pv_chunks, pc, pc_lru);
	pv_stats.pc_chunk_count--;
	pv_stats.pc_chunk_frees++;
}

/* Free an empty chunk: unlink it and give its page back through the policy. */
void free_pv_chunk(struct pv_chunk *pc)
{
	pv_chunk_unlink(pc);
	pc->pc_pmap = NULL;
	pv_chunk_page_put(pc);
}

/* Free a pv entry of pmap; free its chunk if it was the last one in use. */
void free_pv_entry(struct pmap *pmap, struct pv_entry *pv)
{
	struct pv_chunk *pc = pv_to_chunk(pv);

	lock_assert_owned(&pmap->pm_lock);
	pv_release(pc, pv);
#ifndef RIG_BUG_NO_FREE_EMPTY_CHUNK
	if (pc_is_empty(pc)) {
		free_pv_chunk(pc);
		return;
	}
#endif
	TAILQ_REMOVE(&pmap->pm_pvchunk, pc, pc_list);
	TAILQ_INSERT_HEAD(&pmap->pm_pvchunk, pc, pc_list);
}

/*
 * Reclaim: take unwired mappings away from other pmaps, oldest chunk first,
 * until one chunk is empty, and return that chunk (unlinked) for reuse.
 * Kernel mappings and wired ones are never taken. NULL if no chunk could be
 * emptied; the mappings removed on the way stay removed (and counted).
 */
__noinline static struct pv_chunk *pmap_pv_reclaim(struct pmap *locked_pmap)
{
	struct pv_chunk *pc, *npc, *freed = NULL;
	uint32_t removed = 0, n;

	TAILQ_FOREACH_SAFE(pc, &pv_chunks, pc_lru, npc) {
		struct pmap *pmap = pc->pc_pmap;

		if (pmap == locked_pmap || pmap == kernel_pmap)
			continue;
		PMAP_LOCK(pmap);
		removed += n = pmap_reclaim_chunk(pmap, pc);
		if (pc_is_empty(pc)) {
			pv_chunk_unlink(pc);
			freed = pc;
		} else if (n > 0) {	/* it has free entries now: to the head */
			TAILQ_REMOVE(&pmap->pm_pvchunk, pc, pc_list);
			TAILQ_INSERT_HEAD(&pmap->pm_pvchunk, pc, pc_list);
		}
		PMAP_UNLOCK(pmap);
		if (freed != NULL)
			break;
	}
	if (removed > 0) {
		pv_stats.pv_reclaims++;
		pv_stats.pv_reclaimed += removed;
	}
	return freed;
}

/* Remove every unwired mapping whose pv entry is in pc; returns how many. */
static uint32_t pmap_reclaim_chunk(struct pmap *pmap, struct pv_chunk *pc)
{
	uint32_t removed = 0;

	for (int idx = 0; idx < _NPCPV; idx++) {
		struct pv_entry *pv = &pc->pc_pventry[idx];
		pt_entry_t *pte;

		if (pc->pc_map[idx / 32] & (1u << (idx % 32)))
			continue;
		pte = pmap_pte_quick(pmap, pv->pv_va);
		if (*pte & PG_W)
			continue;
		pmap_unmap_pte(pmap, pte, pv->pv_va);
		pv_release(pc, pv);
		removed++;
	}
	return removed;
}

/*
 * Allocate a pv entry for pmap, which must be locked: from its first chunk
 * if that has a free entry, else from a new chunk page, else by reclaiming.
 * NULL when all three fail.
 */
struct pv_entry *get_pv_entry(struct pmap *pmap)
{
	struct pv_chunk *pc;
	int idx;

	lock_assert_owned(&pmap->pm_lock);
	pc = TAILQ_FIRST(&pmap->pm_pvchunk);
	if (pc != NULL && (idx = pc_first_free(pc)) >= 0)
		return pv_take(pmap, pc, idx);
	if ((pc = pv_chunk_page_get()) == NULL) {
		pv_stats.pc_chunk_tryfail++;
		if ((pc = pmap_pv_reclaim(pmap)) == NULL)
			return NULL;
	}
	pv_chunk_init(pmap, pc);
	return pv_take(pmap, pc, 0);
}

/* Put pv, naming (pmap, va), on page m's pv list. */
void pmap_insert_entry(struct pmap *pmap, vm_offset_t va, struct vm_page *m,
    struct pv_entry *pv)
{
	(void)pmap;
	pv->pv_va = va;
	TAILQ_INSERT_TAIL(&m->pv_list, pv, pv_next);
	m->pv_count++;
}

/* Find and unlink from m's pv list the entry for (pmap, va). */
struct pv_entry *pmap_pvh_remove(struct vm_page *m, struct pmap *pmap, vm_offset_t va)
{
	struct pv_entry *pv;

	TAILQ_FOREACH(pv, &m->pv_list, pv_next) {
		if (pv->pv_va == va && PV_PMAP(pv) == pmap) {
			TAILQ_REMOVE(&m->pv_list, pv, pv_next);
			m->pv_count--;
			return pv;
		}
	}
	panic("pmap_pvh_remove: no pv entry for va %x in page %x", va, m->phys_addr);
}
