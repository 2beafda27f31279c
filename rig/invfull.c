/*
 * invfull.c - the full check: walks every page table, chunk, list and page
 * record once and applies every rule. Its cost grows with the state; it runs
 * at `check`, at the end of each file, at the first checked step (to start
 * the shadow counts), and after every step with --full-checks.
 */
#include <stdlib.h>
#include <string.h>

#include "gview.h"
#include "invcheck.h"

/* What one pass over the page tables found. */
struct scan {
	struct pvset managed;	/* (pmap, va) -> PTE of every valid managed mapping */
	uint8_t *ptref;		/* per page: a PDE points at it */
	uint8_t *adbits;	/* per page: CHK_AD_* of its live managed PTEs */
	uint32_t resident[CHK_MAX_PMAPS], wired[CHK_MAX_PMAPS];
};

/* Count one valid PTE of pmap i at va. */
static int scan_pte(struct checker *c, struct scan *sc, int i, uint32_t va, uint32_t pte, struct violation *v)
{
	uint32_t pg = pte >> PAGE_SHIFT;

	if (pg < c->npages && c->shadow.mapcount[pg] < UINT16_MAX)
		c->shadow.mapcount[pg]++;
	if (pg < c->npages && (pte & PG_MANAGED))
		sc->adbits[pg] |= chk_ad_of_pte(pte);
	if (i > 0 || (pte & PG_MANAGED))
		sc->resident[i]++;
	sc->wired[i] += (pte & PG_W) != 0;
	if ((pte & PG_MANAGED) && pvset_put(&sc->managed, c->pmaps[i].gva, va, pte) != NULL)
		return vfail(v, "PV-MAPPING", "pmap 0x%08x va 0x%08x is mapped twice", c->pmaps[i].gva, va);
	return 0;
}

/* Every PTE under the directory slots [lo, hi) of pmap i. */
static int scan_pmap(struct checker *c, struct scan *sc, int i, uint32_t lo, uint32_t hi, struct violation *v)
{
	const struct chk_pmap *p = &c->pmaps[i];

	for (uint32_t pdx = lo; pdx < hi; pdx++) {
		const uint32_t *pt;

		if (!(p->pde[pdx] & PG_V) || (p->pde[pdx] & PG_PS))
			continue;
		if ((p->pde[pdx] >> PAGE_SHIFT) < c->npages)
			sc->ptref[p->pde[pdx] >> PAGE_SHIFT] = 1;
		if (i > 0 && !chk_off(c, INV_PT_COUNT) && chk_pt_count(c, p, pdx, v) < 0)
			return -1;
		if ((pt = phys_ptr(&c->m->pm, p->pde[pdx] & PG_FRAME, PAGE_SIZE)) == NULL)
			return vfail(v, "PT-COUNT", "pmap 0x%08x: PDE[%u] = 0x%08x points outside RAM", p->gva, pdx, p->pde[pdx]);
		for (uint32_t k = 0; k < NPTEPG; k++)
			if ((pt[k] & PG_V) && scan_pte(c, sc, i, PGADDR(pdx, k), pt[k], v) < 0)
				return -1;
	}
	return 0;
}

/* STATS: the counts each pmap keeps equal what its tables hold. */
static int check_stats(struct checker *c, struct scan *sc, struct violation *v)
{
	for (int i = 0; i < c->npmaps && !chk_off(c, INV_STATS); i++) {
		struct pmap *pm = GV(c->m, struct pmap, c->pmaps[i].gva);

		if (pm->pm_stats.resident_count != sc->resident[i] || pm->pm_stats.wired_count != sc->wired[i])
			return vfail(v, "STATS", "pmap 0x%08x: pm_stats says resident %u wired %u; its page tables hold "
			    "%u %s and %u wired", c->pmaps[i].gva, pm->pm_stats.resident_count, pm->pm_stats.wired_count,
			    sc->resident[i], i ? "valid PTEs" : "managed mappings", sc->wired[i]);
	}
	return 0;
}

/* Walk the page tables of every pmap (the kernel's part once, in the kernel pmap). */
static int scan_tables(struct checker *c, struct scan *sc, struct violation *v)
{
	memset(c->shadow.mapcount, 0, c->npages * sizeof(uint16_t));
	for (int i = 0; i < c->npmaps; i++)
		if (scan_pmap(c, sc, i, i ? 0 : KPTDI, i ? KPTDI : PTDPTDI, v) < 0)
			return -1;
	return check_stats(c, sc, v);
}

/* The global LRU: each chunk once (no cycle), each passing the local rules. */
static int walk_lru(struct checker *c, struct pvset *chunks, uint32_t *entries, struct violation *v)
{
	struct pv_chunklist *lru = GV(c->m, struct pv_chunklist, c->gi->gi_pv_chunks);
	uint32_t pc = lru ? lru->tqh_first : 0;

	*entries = 0;
	for (uint32_t n = 0; pc != 0; n++) {
		struct pv_chunk *p = GV(c->m, struct pv_chunk, pc);

		if (p == NULL || (pc & PAGE_MASK))
			return vfail(v, "PV-CHUNK-LISTS", "pv_chunks reaches 0x%08x, which is not a mapped chunk", pc);
		if (pvset_put(chunks, 0, pc, (uint32_t)chk_inuse(p)) != NULL || n > c->gi->gi_pv_maxchunks)
			return vfail(v, "PV-CHUNK-LISTS", "chunk 0x%08x is on pv_chunks twice (a cycle)", pc);
		if (chk_chunk(c, pc, v) < 0)
			return -1;
		*entries += chk_inuse(p);
		pc = p->pc_lru.tqe_next;
	}
	return 0;
}

/* Every pmap's chunk list: chunks of that pmap, all on the LRU, each on one list. */
static int walk_pmap_lists(struct checker *c, struct pvset *chunks, struct violation *v)
{
	uint32_t listed = 0;

	for (int i = 0; i < c->npmaps; i++) {
		struct pmap *pm = GV(c->m, struct pmap, c->pmaps[i].gva);
		uint32_t pc = pm->pm_pvchunk.tqh_first;

		for (uint32_t n = 0; pc != 0; n++, listed++) {
			struct pvkey *k = pvset_get(chunks, 0, pc);
			struct pv_chunk *p = GV(c->m, struct pv_chunk, pc);

			if (k == NULL || p == NULL || p->pc_pmap != c->pmaps[i].gva || k->seen || n > chunks->n)
				return vfail(v, "PV-CHUNK-LISTS", "pmap 0x%08x lists chunk 0x%08x, which %s", c->pmaps[i].gva,
				    pc, k == NULL || p == NULL ? "is not on pv_chunks" : k->seen ? "is listed twice" :
				    "belongs to another pmap (pc_pmap)");
			k->seen = 1;
			pc = p->pc_list.tqe_next;
		}
	}
	if (listed != chunks->n)
		return vfail(v, "PV-CHUNK-LISTS", "%u chunks are on pv_chunks but %u on pmaps' lists", chunks->n, listed);
	return 0;
}

/* Entries of chunk pc in use: (pmap, va) -> entry address, no duplicates. */
static int collect_entries(struct checker *c, uint32_t pc, struct pvset *pvs, struct violation *v)
{
	struct pv_chunk *p = GV(c->m, struct pv_chunk, pc);

	for (int i = 0; i < _NPCPV; i++) {
		uint32_t ea = pc + (uint32_t)offsetof(struct pv_chunk, pc_pventry) + i * 12;

		if (chk_is_free_bit(p, i))
			continue;
		if (pvset_put(pvs, p->pc_pmap, p->pc_pventry[i].pv_va, ea) != NULL)
			return vfail(v, "PV-MAPPING", "two pv entries name pmap 0x%08x va 0x%08x (one at 0x%08x)",
			    p->pc_pmap, p->pc_pventry[i].pv_va, ea);
	}
	return 0;
}

/* One page's pv list: in-use entries of its own mappings, pv_count long. */
static int walk_page_list(struct checker *c, uint32_t pg, struct pvset *pvs, struct scan *sc,
    uint32_t *total, struct violation *v)
{
	struct vm_page *m = chk_page(c, pg);
	uint32_t e = m ? m->pv_list.tqh_first : 0, n = 0;

	if (m == NULL)
		return vfail(v, "PAGE-STATE", "vm_page %u (page 0x%08x) is unreadable", pg, pg << PAGE_SHIFT);
	for (; e != 0; n++) {
		struct pv_entry *pv = GV(c->m, struct pv_entry, e);
		struct pv_chunk *pc = GV(c->m, struct pv_chunk, e & PG_FRAME);
		int idx = (int)((e & PAGE_MASK) - offsetof(struct pv_chunk, pc_pventry)) / 12;
		struct pvkey *k = pv && pc ? pvset_get(pvs, pc->pc_pmap, pv->pv_va) : NULL;
		struct pvkey *pte = pv && pc ? pvset_get(&sc->managed, pc->pc_pmap, pv->pv_va) : NULL;

		if (pv && pc && idx >= 0 && idx < _NPCPV && chk_is_free_bit(pc, idx) &&
		    !chk_off(c, INV_PV_CHUNK_BITMAP))
			return vfail(v, "PV-CHUNK-BITMAP", "page 0x%08x lists pv entry 0x%08x, whose bit in chunk 0x%08x "
			    "says free (pc_map[%d] = 0x%08x)", pg << PAGE_SHIFT, e, e & PG_FRAME, idx / 32, pc->pc_map[idx / 32]);
		if (k == NULL || k->val != e || pte == NULL || (pte->val >> PAGE_SHIFT) != pg || n > pvs->n)
			return vfail(v, "PV-MAPPING", "page 0x%08x lists pv entry 0x%08x (va 0x%08x), which %s", pg << PAGE_SHIFT,
			    e, pv ? pv->pv_va : 0, n > pvs->n ? "repeats (a cycle)" :
			    pte == NULL ? "names no valid managed PTE" : "names a PTE of another page");
		e = pv->pv_next.tqe_next;
	}
	if (n != m->pv_count)
		return vfail(v, "PV-MAPPING", "page 0x%08x: pv_count %u, but its list has %u entries", pg << PAGE_SHIFT,
		    m->pv_count, n);
	*total += n;
	return 0;
}

/* PV-MAPPING over everything: PTEs <-> entries <-> page lists. */
static int check_pv_full(struct checker *c, struct pvset *chunks, struct scan *sc, struct violation *v)
{
	struct pvset pvs;
	uint32_t total = 0;
	int rc = 0;

	if (pvset_init(&pvs, sc->managed.n + 16) < 0)
		return vfail(v, "PV-MAPPING", "out of memory");
	for (uint32_t i = 0; i < chunks->cap && rc == 0; i++)
		if (chunks->v[i].used)
			rc = collect_entries(c, chunks->v[i].va, &pvs, v);
	for (uint32_t i = 0; i < sc->managed.cap && rc == 0; i++) {
		struct pvkey *k = &sc->managed.v[i];

		if (k->used && pvset_get(&pvs, k->pmap, k->va) == NULL)
			rc = chk_pte_has_pv(c, k->pmap, k->va, k->val, v);
	}
	for (uint32_t pg = 0; pg < c->gi->gi_vm_page_count && rc == 0; pg++)
		rc = walk_page_list(c, pg, &pvs, sc, &total, v);
	if (rc == 0 && total != pvs.n)
		rc = vfail(v, "PV-MAPPING", "%u pv entries are in use in chunks, but page lists hold %u", pvs.n, total);
	pvset_free(&pvs);
	return rc;
}

/* The raw PTE of a kernel address (0 if no page table). */
static uint32_t kpte(struct checker *c, uint32_t va)
{
	struct walk w;

	gv_walk(c->m, c->pmaps[0].pd, va, &w);
	return w.status == WALK_MAPPED || w.status == WALK_NO_PTE ? w.pte : 0;
}

/* ptelist: walk pv_vafree; returns the free slots marked in free[], or -1. */
static int walk_vafree(struct checker *c, uint8_t *free, uint32_t *nfree, struct violation *v)
{
	uint32_t base = c->gi->gi_pv_kva_base, max = c->gi->gi_pv_maxchunks;
	uint32_t va = gv_u32(c->m, c->gi->gi_pv_vafree), prev = 0;

	for (*nfree = 0; va != 0; (*nfree)++) {
		uint32_t pte = kpte(c, va), slot = (va - base) >> PAGE_SHIFT;

		if ((va & PAGE_MASK) || va < base || slot >= max || free[slot] || (pte & PG_V))
			return vfail(v, "PV-KVA", "pv_vafree: node 0x%08x (after 0x%08x) %s", va, prev,
			    (va & PAGE_MASK) ? "is not page-aligned" : va < base || slot >= max ? "is outside the block" :
			    free[slot] ? "is on the list twice (a cycle)" : "has PG_V set in its PTE");
		free[slot] = 1;
		prev = va;
		va = pte;	/* a free slot's PTE holds the next node */
	}
	return 0;
}

/* nofree's pv_spare: kept empty chunks in used slots, owned by nobody, not on pv_chunks. */
static int walk_spare(struct checker *c, struct pvset *chunks, uint32_t next, struct violation *v)
{
	struct pv_chunklist *spare = GV(c->m, struct pv_chunklist, c->gi->gi_pv_spare);
	uint32_t base = c->gi->gi_pv_kva_base, pc = spare ? spare->tqh_first : 0;

	for (uint32_t n = 0; pc != 0; n++) {
		struct pv_chunk *p = GV(c->m, struct pv_chunk, pc);

		if (p == NULL || (pc & PAGE_MASK) || pc < base || ((pc - base) >> PAGE_SHIFT) >= next ||
		    p->pc_pmap != 0 || pvset_get(chunks, 0, pc) != NULL || n >= next)
			return vfail(v, "PV-KVA", "pv_spare holds 0x%08x, which %s", pc, p == NULL ? "is not mapped" :
			    n >= next ? "repeats (a cycle)" : p->pc_pmap ? "still names a pmap" :
			    pvset_get(chunks, 0, pc) ? "is also on pv_chunks" : "is not a used slot of the block");
		pc = p->pc_list.tqe_next;
	}
	return 0;
}

/* PV-KVA: every slot of the block holds an allocated chunk or is free, never both. */
static int check_kva_full(struct checker *c, struct pvset *chunks, struct violation *v)
{
	uint32_t base = c->gi->gi_pv_kva_base, max = c->gi->gi_pv_maxchunks, nfree = 0, next = max;
	int ptelist = !strcmp(c->gi->gi_policy, "ptelist"), nofree = !strcmp(c->gi->gi_policy, "nofree"), rc = 0;
	uint8_t *isfree = calloc(max ? max : 1, 1);

	if (nofree)
		next = gv_u32(c->m, c->gi->gi_pv_nextindex);
	if (isfree == NULL || (ptelist && walk_vafree(c, isfree, &nfree, v) < 0)) {
		free(isfree);
		return isfree ? -1 : vfail(v, "PV-KVA", "out of memory");
	}
	for (uint32_t s = 0; s < max && rc == 0; s++) {
		uint32_t va = base + s * PAGE_SIZE, pte = kpte(c, va);
		struct vm_page *m = (pte & PG_V) ? chk_page(c, pte >> PAGE_SHIFT) : NULL;
		int used = s < next && (pte & PG_V);

		if ((pte & PG_V) && (m == NULL || m->state != VPS_PVCHUNK))
			rc = vfail(v, "PV-KVA", "slot %u (va 0x%08x): PTE 0x%08x maps a page that is not a chunk page "
			    "(state %u)", s, va, pte, m ? m->state : 0);
		else if (!(pte & PG_V) && nofree && s < next)
			rc = vfail(v, "PV-KVA", "slot %u (va 0x%08x) is below pv_nextindex (%u) but not mapped: "
			    "a nofree slot, once used, keeps its page", s, va, next);
		else if ((pte & PG_V) ? isfree[s] || s >= next : ptelist && !isfree[s])
			rc = vfail(v, "PV-KVA", "slot %u (va 0x%08x): PTE 0x%08x is %s", s, va, pte,
			    (pte & PG_V) ? "valid but the slot is free" : "neither valid nor on pv_vafree (a lost slot)");
		else if (used && strcmp(c->gi->gi_policy, "nofree") && pvset_get(chunks, 0, va) == NULL)
			rc = vfail(v, "PV-KVA", "slot %u (va 0x%08x) is mapped but holds no chunk on pv_chunks", s, va);
	}
	free(isfree);
	if (rc == 0 && nofree)
		rc = walk_spare(c, chunks, next, v);
	return rc;
}

/* PAGE-STATE for one page, given what the table scan found. */
int chk_page_state(struct checker *c, uint32_t pg, struct violation *v)
{
	struct vm_page *m = chk_page(c, pg);
	uint16_t maps = pg < c->npages ? c->shadow.mapcount[pg] : 0;
	const char *why = NULL;

	if (m == NULL)
		return vfail(v, "PAGE-STATE", "vm_page %u is unreadable", pg);
	if (m->state < VPS_RESERVED || m->state > VPS_KMEM)
		why = "has no valid state";
	else if (m->state == VPS_FREE && (m->pv_list.tqh_first || m->pv_count || maps))
		why = maps ? "is free but still mapped" : "is free but has pv entries";
	else if (m->state == VPS_FREE && (chk_pmap_of_pd(c, pg << PAGE_SHIFT) >= 0))
		why = "is free but is a live pmap's page directory";
	else if (m->state == VPS_PVCHUNK && maps == 0)
		why = "is a chunk page that nothing maps";
	if (why == NULL)
		return 0;
	return vfail(v, "PAGE-STATE", "page 0x%08x %s (vm_page 0x%08x: state %u, pv_count %u, %u mapping%s)",
	    pg << PAGE_SHIFT, why, c->gi->gi_vm_page_array + pg * (uint32_t)sizeof(struct vm_page), m->state,
	    m->pv_count, maps, maps == 1 ? "" : "s");
}

/* PAGE-STATE over all pages, with the page-table references the scan saw. */
static int check_pages_full(struct checker *c, struct scan *sc, struct violation *v)
{
	uint32_t nfree = 0;

	for (uint32_t pg = 0; pg < c->gi->gi_vm_page_count; pg++) {
		struct vm_page *m = chk_page(c, pg);

		if (chk_page_state(c, pg, v) < 0)
			return -1;
		nfree += m->state == VPS_FREE;
		if (m->state == VPS_FREE && sc->ptref[pg])
			return vfail(v, "PAGE-STATE", "page 0x%08x is free but a PDE points at it", pg << PAGE_SHIFT);
		if (m->state == VPS_PTP && !sc->ptref[pg])
			return vfail(v, "PAGE-STATE", "page 0x%08x is a page-table page that no PDE points at",
			    pg << PAGE_SHIFT);
	}
	if (nfree != gv_u32(c->m, c->gi->gi_free_count_va))
		return vfail(v, "PAGE-STATE", "%u pages are free, vm_free_count says %u", nfree,
		    gv_u32(c->m, c->gi->gi_free_count_va));
	return 0;
}

/* The rules over chunks, lists, KVA and pv entries; the chunks found stay in *chunks. */
static int check_pv_side(struct checker *c, struct scan *sc, struct pvset *chunks_out, struct violation *v)
{
	struct pvset chunks;
	uint32_t entries = 0;
	int rc;

	if (pvset_init(&chunks, c->gi->gi_pv_maxchunks + 8) < 0)
		return vfail(v, "PV-CHUNK-LISTS", "out of memory");
	rc = walk_lru(c, &chunks, &entries, v);
	if (rc == 0 && !chk_off(c, INV_PV_CHUNK_BITMAP) && entries != gv_u32(c->m, c->gi->gi_pv_entry_count))
		rc = vfail(v, "PV-CHUNK-BITMAP", "chunks have %u entries in use; pv_entry_count says %u", entries,
		    gv_u32(c->m, c->gi->gi_pv_entry_count));
	if (rc == 0 && !chk_off(c, INV_PV_CHUNK_LISTS))
		rc = walk_pmap_lists(c, &chunks, v);
	if (rc == 0 && !chk_off(c, INV_PV_KVA))
		rc = check_kva_full(c, &chunks, v);
	if (rc == 0 && !chk_off(c, INV_PV_MAPPING))
		rc = check_pv_full(c, &chunks, sc, v);
	c->shadow.entries = (int32_t)entries;
	*chunks_out = chunks;
	return rc;
}

/* Start the per-step shadow counts from what a full check found. */
static void shadow_reset(struct checker *c, struct scan *sc, struct pvset *chunks)
{
	c->shadow.free_pages = c->shadow.pv_counts = 0;
	for (uint32_t pg = 0; pg < c->gi->gi_vm_page_count; pg++) {
		struct vm_page *m = chk_page(c, pg);

		c->shadow.free_pages += m != NULL && m->state == VPS_FREE;
		c->shadow.pv_counts += m != NULL ? (int32_t)m->pv_count : 0;
	}
	c->shadow.nstats = c->npmaps;
	for (int i = 0; i < c->npmaps; i++)
		c->shadow.stats[i] = (struct chk_stats){ c->pmaps[i].pd & PG_FRAME, sc->resident[i], sc->wired[i] };
	if (c->shadow.chunk_inuse != NULL)
		pvset_free(c->shadow.chunk_inuse);
	else
		c->shadow.chunk_inuse = malloc(sizeof(struct pvset));
	if (c->shadow.chunk_inuse != NULL)
		*c->shadow.chunk_inuse = *chunks;
	else
		pvset_free(chunks);
}

int checker_full(struct checker *c, struct violation *v)
{
	struct scan sc = { 0 };
	struct pvset chunks = { 0 };
	int rc;

	c->shadow.valid = 0;
	if (chk_load_pmaps(c, v) < 0 || chk_directories(c, v) < 0)
		return -1;
	sc.ptref = calloc(c->npages, 1);
	sc.adbits = calloc(c->npages, 1);
	if (sc.ptref == NULL || sc.adbits == NULL || pvset_init(&sc.managed, 1024) < 0) {
		free(sc.ptref);
		free(sc.adbits);
		return vfail(v, "PAGE-STATE", "out of memory");
	}
	rc = scan_tables(c, &sc, v);
	if (rc == 0)
		rc = check_pv_side(c, &sc, &chunks, v);
	if (rc == 0 && !chk_off(c, INV_PAGE_STATE))
		rc = check_pages_full(c, &sc, v);
	if (rc == 0)
		rc = chk_ad_full(c, sc.adbits, v);
	if (chunks.v != NULL)
		shadow_reset(c, &sc, &chunks);
	c->shadow.valid = rc == 0 && c->shadow.chunk_inuse != NULL;
	c->nknown = c->npmaps;
	for (int i = 0; i < c->npmaps; i++)
		c->known[i] = c->pmaps[i].pd;
	free(sc.ptref);
	free(sc.adbits);
	pvset_free(&sc.managed);
	return rc;
}
