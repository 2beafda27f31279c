/*
 * pv.c - pv entries in page-sized chunks, FreeBSD 7 style.
 *
 * Invariants (the rig checks them through bsd7.contract):
 *  - a chunk's in-use entries are the clear bits of pc_map, and
 *    pv_entry_count is their sum over all chunks;
 *  - every chunk is on its own pmap's pm_pvchunk exactly once, in the
 *    order the chunks were made; no chunk is on any other list;
 *  - a chunk with no entry in use is freed at once: its page is unmapped
 *    and freed and its slot goes back on pv_vafree;
 *  - every slot of the chunk KVA block is mapped (a chunk) or on
 *    pv_vafree, threaded through the free slots' own PTEs.
 */
#include "kernel.h"
#include "pmap.h"

struct mtx vm_page_queue_mtx;		/* the pv lists' lock (the page queues lock of FreeBSD 7) */
uint32_t pv_entry_count;		/* entries in use */
vm_offset_t pv_chunkbase;		/* the chunk KVA block */
uint32_t pv_maxchunks;
vm_offset_t pv_vafree;			/* its free slots, through their PTEs */

static const uint32_t pc_freemask[_NPCM] = {
	~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, 0x0000ffffu
};

/* Pop a free slot (its PTE holds the next one); 0 when none is left. */
static vm_offset_t pmap_ptelist_alloc(vm_offset_t *head)
{
	vm_offset_t va = *head;

	if (va == 0)
		return 0;
	*head = *vtopte(va);
	if (*head & PG_V)
		panic("pmap_ptelist_alloc: va with PG_V set!");
	*vtopte(va) = 0;
	return va;
}

/* Push slot va: its invalid PTE holds the old head. */
static void pmap_ptelist_free(vm_offset_t *head, vm_offset_t va)
{
	*vtopte(va) = *head;
	*head = va;
}

/* Reserve the chunk KVA block while bootstrapping. */
void pv_bootstrap(uint32_t maxchunks)
{
	pv_maxchunks = maxchunks;
	pv_chunkbase = pmap_steal_kva(maxchunks);
}

/* The lock, and every slot on the free list, lowest address first. */
void pv_init(void)
{
	mtx_init(&vm_page_queue_mtx, "vm page queue", MTX_RECURSE);
	for (int i = (int)pv_maxchunks - 1; i >= 0; i--)
		pmap_ptelist_free(&pv_vafree, pv_chunkbase + i * PAGE_SIZE);
}

/* A new chunk for pmap in a fresh slot and page, at the tail of its list; NULL if none. */
static struct pv_chunk *pv_chunk_alloc(struct pmap *pmap)
{
	vm_offset_t va = pmap_ptelist_alloc(&pv_vafree);
	struct vm_page *m;
	struct pv_chunk *pc = (struct pv_chunk *)va;

	if (va == 0)
		return NULL;
	if ((m = vm_page_alloc(1)) == NULL) {
		pmap_ptelist_free(&pv_vafree, va);
		return NULL;
	}
	pmap_kenter(va, m->phys_addr);
	pagezero(pc);
	pc->pc_pmap = pmap;
	memcpy(pc->pc_map, pc_freemask, sizeof(pc->pc_map));
	TAILQ_INSERT_TAIL(&pmap->pm_pvchunk, pc, pc_list);
	return pc;
}

/* Free an empty chunk: off its pmap's list, its page freed, its slot back on the list. */
static void free_pv_chunk(struct pv_chunk *pc)
{
	vm_offset_t va = (vm_offset_t)pc;
	struct vm_page *m = PHYS_TO_VM_PAGE(PTE_ADDR(*vtopte(va)));

	TAILQ_REMOVE(&pc->pc_pmap->pm_pvchunk, pc, pc_list);
	pmap_kremove(va);
	vm_page_free(m);
	pmap_ptelist_free(&pv_vafree, va);
}

/* Is every entry of pc free? */
static boolean_t pc_is_empty(struct pv_chunk *pc)
{
	for (int i = 0; i < _NPCM; i++)
		if (pc->pc_map[i] != pc_freemask[i])
			return FALSE;
	return TRUE;
}

/* Take the first free entry of pc, or NULL if it is full. */
static struct pv_entry *pc_take(struct pv_chunk *pc)
{
	for (int i = 0; i < _NPCM; i++) {
		if (pc->pc_map[i] != 0) {
			int bit = __builtin_ctz(pc->pc_map[i]);

			pc->pc_map[i] &= ~(1u << bit);
			pv_entry_count++;
			return &pc->pc_pventry[i * 32 + bit];
		}
	}
	return NULL;
}

/* Mark pv free in its chunk; free the chunk if it was the last in use. */
static void pc_release(struct pv_chunk *pc, struct pv_entry *pv)
{
	int idx = pv - pc->pc_pventry;

	pc->pc_map[idx / 32] |= 1u << (idx % 32);
	pv_entry_count--;
	if (pc_is_empty(pc))
		free_pv_chunk(pc);
}

/*
 * Reclaim: walk the pmaps (the kernel's included) and their chunks, oldest
 * first, removing unwired mappings until one chunk is freed. A pmap whose
 * lock is taken is skipped (trylock: no lock order between two pmaps).
 * Returns TRUE once a chunk page went back.
 */
__noinline static boolean_t pmap_pv_reclaim(struct pmap *locked_pmap)
{
	struct pmap *pmap;
	struct pv_chunk *pc, *npc;

	LIST_FOREACH(pmap, &allpmaps, pm_list) {
		if (pmap == locked_pmap || !PMAP_TRYLOCK(pmap))
			continue;
		TAILQ_FOREACH_SAFE(pc, &pmap->pm_pvchunk, pc_list, npc) {
			for (int idx = 0; idx < _NPCPV; idx++) {
				struct pv_entry *pv = &pc->pc_pventry[idx];

				if (pc->pc_map[idx / 32] & (1u << (idx % 32)))
					continue;
				if (pmap_unmap_one(pmap, pv->pv_va, NULL)) {
					pc->pc_map[idx / 32] |= 1u << (idx % 32);
					pv_entry_count--;
				}
			}
			if (pc_is_empty(pc)) {
				free_pv_chunk(pc);
				PMAP_UNLOCK(pmap);
				return TRUE;
			}
		}
		PMAP_UNLOCK(pmap);
	}
	return FALSE;
}

/*
 * A pv entry for pmap (locked): from the first of its chunks with room,
 * else from a new chunk, else after a reclaim; NULL when all fail.
 */
struct pv_entry *get_pv_entry(struct pmap *pmap)
{
	struct pv_chunk *pc;
	struct pv_entry *pv;

	mtx_assert_owned(&pmap->pm_mtx);
	TAILQ_FOREACH(pc, &pmap->pm_pvchunk, pc_list)
		if ((pv = pc_take(pc)) != NULL)
			return pv;
	if ((pc = pv_chunk_alloc(pmap)) == NULL && pmap_pv_reclaim(pmap))
		pc = pv_chunk_alloc(pmap);
	return pc != NULL ? pc_take(pc) : NULL;
}

/* Free a pv entry of pmap. */
void free_pv_entry(struct pmap *pmap, struct pv_entry *pv)
{
	mtx_assert_owned(&pmap->pm_mtx);
	pc_release(pv_to_chunk(pv), pv);
}

/* Put pv, naming (pmap, va), on page m's list. */
void pmap_insert_entry(struct pmap *pmap, vm_offset_t va, struct vm_page *m, struct pv_entry *pv)
{
	(void)pmap;
	pv->pv_va = va;
	TAILQ_INSERT_TAIL(&m->md.pv_list, pv, pv_list);
}

/* Find and unlink from m's list the entry for (pmap, va). */
struct pv_entry *pmap_pvh_remove(struct vm_page *m, struct pmap *pmap, vm_offset_t va)
{
	struct pv_entry *pv;

	TAILQ_FOREACH(pv, &m->md.pv_list, pv_list) {
		if (pv->pv_va == va && PV_PMAP(pv) == pmap) {
			TAILQ_REMOVE(&m->md.pv_list, pv, pv_list);
			return pv;
		}
	}
	panic("pmap_pvh_remove: no pv entry for va %x in page %x", va, m->phys_addr);
}
