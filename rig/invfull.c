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
		if (pdx == c->lay->self)
			continue;	/* the directory itself, as a page table */
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
	for (int i = 0; i < c->npmaps && !chk_off(c, INV_STATS) && c->ct->has_stats; i++) {
		const uint8_t *pm = chk_pmap_ptr(c, c->pmaps[i].gva);
		uint32_t res = ct_get(pm, c->ct->pm_resident), wired = ct_get(pm, c->ct->pm_wired);

		if (res != sc->resident[i] || wired != sc->wired[i])
			return vfail(v, "STATS", "pmap 0x%08x: pm_stats says resident %u wired %u; its page tables hold "
			    "%u %s and %u wired", c->pmaps[i].gva, res, wired, sc->resident[i],
			    i ? "valid PTEs" : "managed mappings", sc->wired[i]);
	}
	return 0;
}

/* Walk the page tables of every pmap (the kernel's part once, in the kernel pmap). */
static int scan_tables(struct checker *c, struct scan *sc, struct violation *v)
{
	memset(c->shadow.mapcount, 0, c->npages * sizeof(uint16_t));
	for (int i = 0; i < c->npmaps; i++)
		if (scan_pmap(c, sc, i, i ? 0 : c->lay->kpdi, i ? c->lay->kpdi : NPDEPG, v) < 0)
			return -1;
	return check_stats(c, sc, v);
}

/* One chunk found on a list: mapped, page-aligned, not seen before, passing the local rules. */
static int add_chunk(struct checker *c, struct pvset *chunks, uint32_t pc, const char *list, uint32_t n,
    uint32_t *entries, struct violation *v)
{
	const uint8_t *p = chk_chunk_ptr(c, pc);

	if (p == NULL)
		return vfail(v, "PV-CHUNK-LISTS", "%s reaches 0x%08x, which is not a mapped chunk", list, pc);
	if (pvset_put(chunks, 0, pc, (uint32_t)chk_inuse(c, p)) != NULL || n > c->nrecs)
		return vfail(v, "PV-CHUNK-LISTS", "chunk 0x%08x is on %s twice (a cycle)", pc, list);
	if (chk_chunk(c, pc, v) < 0)
		return -1;
	*entries += chk_inuse(c, p);
	return 0;
}

/* The global list of all chunks (where the guest keeps one): each chunk once, each passing the local rules. */
static int walk_global(struct checker *c, struct pvset *chunks, uint32_t *entries, struct violation *v)
{
	uint32_t pc = gv_u32(c->m, c->ct->global_head);

	for (uint32_t n = 0; pc != 0; n++) {
		if (add_chunk(c, chunks, pc, c->ct->name.global_head, n, entries, v) < 0)
			return -1;
		pc = PC_GNEXT(c, chk_chunk_ptr(c, pc));
	}
	return 0;
}

/*
 * Every pmap's chunk list: chunks of that pmap, each on one list. With a
 * global list, every listed chunk is on it and the counts agree; without
 * one, the pmaps' lists are where the chunks are found.
 */
static int walk_pmap_lists(struct checker *c, struct pvset *chunks, uint32_t *entries, struct violation *v)
{
	uint32_t listed = 0;

	for (int i = 0; i < c->npmaps; i++) {
		uint32_t pc = PM_CHUNKS(c, chk_pmap_ptr(c, c->pmaps[i].gva));

		for (uint32_t n = 0; pc != 0; n++, listed++) {
			struct pvkey *k;
			const uint8_t *p = chk_chunk_ptr(c, pc);

			if (!c->ct->has_global && (p == NULL || pvset_get(chunks, 0, pc) == NULL) &&
			    add_chunk(c, chunks, pc, "a pmap's chunk list", n, entries, v) < 0)
				return -1;
			k = pvset_get(chunks, 0, pc);
			if (k == NULL || p == NULL || PC_OWNER(c, p) != c->pmaps[i].gva || k->seen || n > chunks->n)
				return vfail(v, "PV-CHUNK-LISTS", "pmap 0x%08x lists chunk 0x%08x, which %s", c->pmaps[i].gva,
				    pc, k == NULL || p == NULL ? "is not on the global chunk list" : k->seen ? "is listed twice" :
				    "belongs to another pmap (its owner field)");
			k->seen = 1;
			pc = PC_NEXT(c, p);
		}
	}
	if (listed != chunks->n)
		return vfail(v, "PV-CHUNK-LISTS", "%u chunks are on %s but %u on pmaps' lists", chunks->n,
		    c->ct->name.global_head, listed);
	return 0;
}

/* Entries of chunk pc in use: (pmap, va) -> entry address, no duplicates. */
static int collect_entries(struct checker *c, uint32_t pc, struct pvset *pvs, struct violation *v)
{
	const uint8_t *p = chk_chunk_ptr(c, pc);

	for (int i = 0; i < (int)c->ct->npcpv; i++) {
		uint32_t ea = PC_ENTRY(c, pc, i);

		if (chk_is_free_bit(c, p, i))
			continue;
		if (pvset_put(pvs, PC_OWNER(c, p), PC_PV_VA(c, p, i), ea) != NULL)
			return vfail(v, "PV-MAPPING", "two pv entries name pmap 0x%08x va 0x%08x (one at 0x%08x)",
			    PC_OWNER(c, p), PC_PV_VA(c, p, i), ea);
	}
	return 0;
}

/* One page's pv list: in-use entries of its own mappings (and as long as its pv count, if it keeps one). */
static int walk_page_list(struct checker *c, uint32_t pg, struct pvset *pvs, struct scan *sc,
    uint32_t *total, struct violation *v)
{
	const uint8_t *m = chk_page(c, pg);
	uint32_t e = m ? PG_PVFIRST(c, m) : 0, n = 0;

	if (m == NULL)
		return vfail(v, "PAGE-STATE", "vm_page %u (page 0x%08x) is unreadable", pg, pg << PAGE_SHIFT);
	for (; e != 0; n++) {
		const uint8_t *pv = chk_entry_ptr(c, e), *pc = chk_chunk_ptr(c, e & PG_FRAME);
		int idx = chk_entry_index(c, e);
		struct pvkey *k = pv && pc ? pvset_get(pvs, PC_OWNER(c, pc), PV_VA(c, pv)) : NULL;
		struct pvkey *pte = pv && pc ? pvset_get(&sc->managed, PC_OWNER(c, pc), PV_VA(c, pv)) : NULL;

		if (pv && pc && idx >= 0 && chk_is_free_bit(c, pc, idx) && !chk_off(c, INV_PV_CHUNK_BITMAP))
			return vfail(v, "PV-CHUNK-BITMAP", "page 0x%08x lists pv entry 0x%08x, whose bit in chunk 0x%08x "
			    "says free (%s[%d] = 0x%08x)", pg << PAGE_SHIFT, e, e & PG_FRAME, c->ct->name.map, idx / 32,
			    PC_MAP(c, pc, idx / 32));
		if (k == NULL || k->val != e || pte == NULL || (pte->val >> PAGE_SHIFT) != pg || n > pvs->n)
			return vfail(v, "PV-MAPPING", "page 0x%08x lists pv entry 0x%08x (va 0x%08x), which %s", pg << PAGE_SHIFT,
			    e, pv ? PV_VA(c, pv) : 0, n > pvs->n ? "repeats (a cycle)" :
			    pte == NULL ? "names no valid managed PTE" : "names a PTE of another page");
		e = PV_NEXT(c, pv);
	}
	if (c->ct->has_pv_count && n != ct_get(m, c->ct->pg_pv_count))
		return vfail(v, "PV-MAPPING", "page 0x%08x: %s %u, but its list has %u entries", pg << PAGE_SHIFT,
		    c->ct->name.pv_count, ct_get(m, c->ct->pg_pv_count), n);
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
	for (uint32_t pg = 0; pg < c->nrecs && rc == 0; pg++)
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

/* ptelist: walk the free list threaded through the free slots' PTEs; marks them in free[], or -1. */
static int walk_vafree(struct checker *c, uint8_t *free, uint32_t *nfree, struct violation *v)
{
	uint32_t base = c->kva_base, max = c->kva_slots;
	uint32_t va = gv_u32(c->m, c->ct->kva_head), prev = 0;

	for (*nfree = 0; va != 0; (*nfree)++) {
		uint32_t pte = kpte(c, va), slot = (va - base) >> PAGE_SHIFT;

		if ((va & PAGE_MASK) || va < base || slot >= max || free[slot] || (pte & PG_V))
			return vfail(v, "PV-KVA", "%s: node 0x%08x (after 0x%08x) %s", c->ct->name.kva_head, va, prev,
			    (va & PAGE_MASK) ? "is not page-aligned" : va < base || slot >= max ? "is outside the block" :
			    free[slot] ? "is on the list twice (a cycle)" : "has PG_V set in its PTE");
		free[slot] = 1;
		prev = va;
		va = pte;	/* a free slot's PTE holds the next node */
	}
	return 0;
}

/* The parked empty chunks (chunk.spare): in used slots, owned by nobody, on no other list. */
static int walk_spare(struct checker *c, struct pvset *chunks, struct pvset *spares, uint32_t next,
    struct violation *v)
{
	uint32_t base = c->kva_base, pc = gv_u32(c->m, c->ct->spare_head);

	for (uint32_t n = 0; pc != 0; n++) {
		const uint8_t *p = chk_chunk_ptr(c, pc);

		if (p == NULL || pc < base || ((pc - base) >> PAGE_SHIFT) >= next || PC_OWNER(c, p) != 0 ||
		    pvset_get(chunks, 0, pc) != NULL || n >= next || pvset_put(spares, 0, pc, 0) != NULL)
			return vfail(v, "PV-KVA", "%s holds 0x%08x, which %s", c->ct->name.spare, pc, p == NULL ? "is not mapped" :
			    n >= next || pvset_get(spares, 0, pc) ? "repeats (a cycle)" : PC_OWNER(c, p) ? "still names a pmap" :
			    pvset_get(chunks, 0, pc) ? "is also on a chunk list" : "is not a used slot of the block");
		pc = PC_NEXT(c, p);
	}
	return 0;
}

/* PV-KVA for slot s (mapped or not), given the free slots and the index. */
static int kva_slot_full(struct checker *c, uint32_t s, const uint8_t *isfree, uint32_t next, struct pvset *chunks,
    struct pvset *spares, struct violation *v)
{
	uint32_t va = c->kva_base + s * PAGE_SIZE, pte = kpte(c, va);
	const uint8_t *m = (pte & PG_V) ? chk_page(c, pte >> PAGE_SHIFT) : NULL;
	int ptelist = c->ct->kva_kind == CT_KVA_PTELIST, index = c->ct->kva_kind == CT_KVA_INDEX;

	if ((pte & PG_V) && (m == NULL || (chk_has_role(c, CT_ROLE_PVCHUNK) && chk_role(c, m) != CT_ROLE_PVCHUNK)))
		return vfail(v, "PV-KVA", "slot %u (va 0x%08x): PTE 0x%08x maps a page that is not a chunk page "
		    "(state %u)", s, va, pte, m ? chk_role_raw(c, m) : 0);
	if (!(pte & PG_V) && index && s < next)
		return vfail(v, "PV-KVA", "slot %u (va 0x%08x) is below %s (%u) but not mapped: "
		    "a slot below the index, once used, keeps its page", s, va, c->ct->name.kva_head, next);
	if ((pte & PG_V) ? isfree[s] || s >= next : ptelist && !isfree[s])
		return vfail(v, "PV-KVA", "slot %u (va 0x%08x): PTE 0x%08x is %s", s, va, pte,
		    (pte & PG_V) ? "valid but the slot is free" : "neither valid nor on the free list (a lost slot)");
	if ((pte & PG_V) && pvset_get(chunks, 0, va) == NULL && pvset_get(spares, 0, va) == NULL)
		return vfail(v, "PV-KVA", "slot %u (va 0x%08x) is mapped but holds no listed chunk", s, va);
	return 0;
}

/* PV-KVA: every slot of the block holds a listed chunk or is free, never both. */
static int check_kva_full(struct checker *c, struct pvset *chunks, struct violation *v)
{
	uint32_t max = c->kva_slots, nfree = 0, next = max;
	struct pvset spares;
	uint8_t *isfree = calloc(max ? max : 1, 1);
	int rc = 0;

	if (max == 0) {
		free(isfree);
		return 0;	/* no block declared: not checked */
	}
	if (c->ct->kva_kind == CT_KVA_INDEX)
		next = gv_u32(c->m, c->ct->kva_head);
	if (isfree == NULL || pvset_init(&spares, 64) < 0) {
		free(isfree);
		return vfail(v, "PV-KVA", "out of memory");
	}
	if (c->ct->kva_kind == CT_KVA_PTELIST)
		rc = walk_vafree(c, isfree, &nfree, v);
	if (rc == 0 && c->ct->spare_head != 0)
		rc = walk_spare(c, chunks, &spares, next, v);
	for (uint32_t s = 0; s < max && rc == 0; s++)
		rc = kva_slot_full(c, s, isfree, next, chunks, &spares, v);
	free(isfree);
	pvset_free(&spares);
	return rc;
}

/*
 * PAGE-STATE for one page, given what the table scan found. Judged from the
 * role the guest records (page.role); a guest that records none has the
 * role-free parts checked only: a free page is neither mapped nor listed.
 */
int chk_page_state(struct checker *c, uint32_t pg, struct violation *v)
{
	const uint8_t *m = chk_page(c, pg);
	uint16_t maps = pg < c->npages ? c->shadow.mapcount[pg] : 0;
	const char *why = NULL;
	int role;

	if (m == NULL)
		return vfail(v, "PAGE-STATE", "vm_page %u is unreadable", pg);
	if (!c->ct->has_role)
		return 0;
	role = chk_role(c, m);
	if (role < 0)
		why = "has no valid state";
	else if (role == CT_ROLE_FREE && (PG_PVFIRST(c, m) || (c->ct->has_pv_count && ct_get(m, c->ct->pg_pv_count)) || maps))
		why = maps ? "is free but still mapped" : "is free but has pv entries";
	else if (role == CT_ROLE_FREE && (chk_pmap_of_pd(c, pg << PAGE_SHIFT) >= 0))
		why = "is free but is a live pmap's page directory";
	else if (role == CT_ROLE_PVCHUNK && maps == 0)
		why = "is a chunk page that nothing maps";
	if (why == NULL)
		return 0;
	return vfail(v, "PAGE-STATE", "page 0x%08x %s (%s 0x%08x: %s %u, %u pv entr%s, %u mapping%s)",
	    pg << PAGE_SHIFT, why, c->ct->name.page, c->pages_va + pg * c->ct->page_size, c->ct->name.role,
	    chk_role_raw(c, m), chk_page_pvlen(c, m), chk_page_pvlen(c, m) == 1 ? "y" : "ies", maps, maps == 1 ? "" : "s");
}

/* PAGE-STATE over all pages, with the page-table references the scan saw. */
static int check_pages_full(struct checker *c, struct scan *sc, struct violation *v)
{
	uint32_t nfree = 0;

	if (!c->ct->has_role)
		return 0;
	for (uint32_t pg = 0; pg < c->nrecs; pg++) {
		const uint8_t *m = chk_page(c, pg);
		int role;

		if (chk_page_state(c, pg, v) < 0)
			return -1;
		role = chk_role(c, m);
		nfree += role == CT_ROLE_FREE;
		if (role == CT_ROLE_FREE && sc->ptref[pg])
			return vfail(v, "PAGE-STATE", "page 0x%08x is free but a PDE points at it", pg << PAGE_SHIFT);
		if (role == CT_ROLE_PTP && !sc->ptref[pg])
			return vfail(v, "PAGE-STATE", "page 0x%08x is a page-table page that no PDE points at",
			    pg << PAGE_SHIFT);
	}
	if (c->ct->free_count && nfree != gv_u32(c->m, c->ct->free_count))
		return vfail(v, "PAGE-STATE", "%u pages are free, %s says %u", nfree, c->ct->name.free_count,
		    gv_u32(c->m, c->ct->free_count));
	return 0;
}

/* The rules over chunks, lists, KVA and pv entries; the chunks found stay in *chunks. */
static int check_pv_side(struct checker *c, struct scan *sc, struct pvset *chunks_out, struct violation *v)
{
	struct pvset chunks;
	uint32_t entries = 0;
	int64_t count;
	int rc = 0;

	if (pvset_init(&chunks, (c->kva_slots ? c->kva_slots : 256) + 8) < 0)
		return vfail(v, "PV-CHUNK-LISTS", "out of memory");
	if (c->ct->has_global)
		rc = walk_global(c, &chunks, &entries, v);
	if (rc == 0 && (!chk_off(c, INV_PV_CHUNK_LISTS) || !c->ct->has_global))
		rc = walk_pmap_lists(c, &chunks, &entries, v);
	count = chk_entry_count(c);
	if (rc == 0 && !chk_off(c, INV_PV_CHUNK_BITMAP) && count >= 0 && entries != (uint32_t)count)
		rc = vfail(v, "PV-CHUNK-BITMAP", "chunks have %u entries in use; %s says %u", entries,
		    c->ct->name.entry_count, (uint32_t)count);
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
	for (uint32_t pg = 0; pg < c->nrecs; pg++) {
		const uint8_t *m = chk_page(c, pg);

		c->shadow.free_pages += m != NULL && chk_role(c, m) == CT_ROLE_FREE;
		c->shadow.pv_counts += m != NULL && c->ct->has_pv_count ? (int32_t)ct_get(m, c->ct->pg_pv_count) : 0;
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
