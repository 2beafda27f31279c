/*
 * runner_expect.c - the scenario's expectations: each reads guest memory
 * (through gview and the host walker) or asks a guest query function, and
 * fails the file with what it expected and what it found.
 */
#include "runner_priv.h"

#include <stdio.h>
#include <string.h>

#include "gview.h"

/* Fail an expectation unless got == want. */
static int expect_eq(struct run *r, uint64_t got, uint64_t want, const char *what)
{
	if (got == want)
		return 0;
	return failf(r, OUT_FAIL, "expectation", NULL, "expected %s %llu, found %llu", what,
	    (unsigned long long)want, (unsigned long long)got);
}

/* expect mapped PMAP VA PAGE [PROT] | expect unmapped PMAP VA */
static int expect_mapping(struct run *r, const struct step *st)
{
	int32_t p = st->kind == ST_EXPECT_MAPPED ? flat_page(r, &st->page, 0) : -1;
	struct pmap *pm;
	struct walk w;
	char flags[96], name[80];

	if (live_pmap(r, st->pmap) < 0)
		return -1;
	pm = GV(&r->m, struct pmap, r->pmap_gva[st->pmap]);
	gv_walk(&r->m, pm->pm_pdir_pa, st->va, &w);
	if (p < 0 && w.status != WALK_MAPPED)
		return 0;
	if (p < 0)
		return failf(r, OUT_FAIL, "expectation", NULL, "expected pmap %s va 0x%08x unmapped; "
		    "found PTE 0x%08x (pa 0x%08x %s)", r->s->pmap_names[st->pmap], st->va, w.pte,
		    w.pa, pte_flags(w.pte, flags, sizeof(flags)));
	if (w.status == WALK_MAPPED && (w.pte & PG_FRAME) == r->page_pa[p] &&
	    (st->prot == 0 || !!(w.pte & PG_RW) == !!(st->prot & SCN_PROT_W)))
		return 0;
	if (w.status != WALK_MAPPED)
		return failf(r, OUT_FAIL, "expectation", NULL, "expected pmap %s va 0x%08x -> %s (pa 0x%08x); "
		    "found no mapping (%s 0x%08x)", r->s->pmap_names[st->pmap], st->va,
		    page_name(r, p, name, sizeof(name)), r->page_pa[p],
		    w.status == WALK_NO_PDE ? "PDE" : "PTE", w.status == WALK_NO_PDE ? w.pde : w.pte);
	return failf(r, OUT_FAIL, "expectation", NULL, "expected pmap %s va 0x%08x -> %s (pa 0x%08x)%s; "
	    "found PTE 0x%08x (pa 0x%08x %s)", r->s->pmap_names[st->pmap], st->va,
	    page_name(r, p, name, sizeof(name)), r->page_pa[p],
	    st->prot == 0 ? "" : (st->prot & SCN_PROT_W) ? " rw" : " read-only",
	    w.pte, w.pte & PG_FRAME, pte_flags(w.pte, flags, sizeof(flags)));
}

/* Length of a pmap's chunk list (bounded: a cycle cannot hang us). */
static uint64_t chunk_count(struct run *r, int pmap)
{
	struct pmap *pm = GV(&r->m, struct pmap, r->pmap_gva[pmap]);
	uint32_t pc = pm ? pm->pm_pvchunk.tqh_first : 0;
	uint64_t n = 0;

	while (pc != 0 && n <= r->gi->gi_pv_maxchunks) {
		struct pv_chunk *c = GV(&r->m, struct pv_chunk, pc);

		if (c == NULL)
			break;
		n++;
		pc = c->pc_list.tqe_next;
	}
	return n;
}

/* Free chunk KVA slots: the ptelist free list's length, or never-used slots. */
static uint64_t pv_free_kva(struct run *r)
{
	struct guest_info *gi = r->gi;
	uint32_t kpd = GV(&r->m, struct pmap, gi->gi_kernel_pmap)->pm_pdir_pa;
	uint64_t n = 0;

	if (!strcmp(gi->gi_policy, "nofree"))
		return gi->gi_pv_maxchunks - gv_u32(&r->m, gi->gi_pv_nextindex);
	if (strcmp(gi->gi_policy, "ptelist"))
		return gi->gi_pv_maxchunks - r->stats->pv_kva_inuse;
	for (uint32_t va = gv_u32(&r->m, gi->gi_pv_vafree); va != 0 && n <= gi->gi_pv_maxchunks; n++) {
		struct walk w;

		gv_walk(&r->m, kpd, va, &w);
		va = w.pte;
	}
	return n;
}

/* A boolean guest query on one page (pmap_is_modified, pmap_is_referenced). */
static int expect_page_bit(struct run *r, const struct step *st)
{
	int32_t p = flat_page(r, &st->page, 0);
	int modified = st->kind == ST_EXPECT_MODIFIED;
	char name[80];
	uint32_t rv;

	if (live_page(r, p) < 0 ||
	    gcall(r, modified ? r->fn.is_modified : r->fn.is_referenced, &rv, 1, r->page_gva[p]) < 0)
		return -1;
	if (!!rv == st->flag)
		return 0;
	return failf(r, OUT_FAIL, "expectation", NULL, "expected page %s %s%s; pmap_is_%s says %s",
	    page_name(r, p, name, sizeof(name)), st->flag ? "" : "not ", modified ? "modified" : "referenced",
	    modified ? "modified" : "referenced", rv ? "yes" : "no");
}

/* Every expect statement. */
int do_expect(struct run *r, const struct step *st)
{
	struct pmap *pm = st->pmap >= 0 && r->pmap_gva[st->pmap] ? GV(&r->m, struct pmap, r->pmap_gva[st->pmap]) : NULL;
	char what[96];

	switch (st->kind) {
	case ST_EXPECT_MAPPED: case ST_EXPECT_UNMAPPED:
		return expect_mapping(r, st);
	case ST_EXPECT_PV:
		if (live_page(r, flat_page(r, &st->page, 0)) < 0)
			return -1;
		page_name(r, flat_page(r, &st->page, 0), what + 9, sizeof(what) - 9);
		memcpy(what, "pv count ", 9);
		return expect_eq(r, GV(&r->m, struct vm_page, r->page_gva[flat_page(r, &st->page, 0)])->pv_count,
		    st->n, what);
	case ST_EXPECT_RESIDENT: case ST_EXPECT_WIRED: case ST_EXPECT_CHUNKS:
		if (live_pmap(r, st->pmap) < 0)
			return -1;
		snprintf(what, sizeof(what), "%s of pmap %s", st->kind == ST_EXPECT_RESIDENT ? "resident count" :
		    st->kind == ST_EXPECT_WIRED ? "wired count" : "chunks", r->s->pmap_names[st->pmap]);
		return expect_eq(r, st->kind == ST_EXPECT_RESIDENT ? pm->pm_stats.resident_count :
		    st->kind == ST_EXPECT_WIRED ? pm->pm_stats.wired_count : chunk_count(r, st->pmap), st->n, what);
	case ST_EXPECT_PV_FREE_KVA:
		return expect_eq(r, pv_free_kva(r), st->n, "free pv chunk KVA slots");
	case ST_EXPECT_PV_PAGES_HELD:
		return expect_eq(r, r->stats->pv_pages_held, st->n, "pages held by the pv allocator");
	default:
		return expect_page_bit(r, st);
	}
}

