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

/* One page of expect mapped (p: the flat page) or expect unmapped (p < 0) at va. */
static int expect_one_mapping(struct run *r, const struct step *st, uint32_t va, int32_t p)
{
	struct pmap *pm = GV(&r->m, struct pmap, r->pmap_gva[st->pmap]);
	struct walk w;
	char flags[96], name[80];

	gv_walk(&r->m, pm->pm_pdir_pa, va, &w);
	if (p < 0 && w.status != WALK_MAPPED)
		return 0;
	if (p < 0)
		return failf(r, OUT_FAIL, "expectation", NULL, "expected pmap %s va 0x%08x unmapped; "
		    "found PTE 0x%08x (pa 0x%08x %s)", r->s->pmap_names[st->pmap], va, w.pte,
		    w.pa, pte_flags(w.pte, flags, sizeof(flags)));
	if (w.status == WALK_MAPPED && (w.pte & PG_FRAME) == r->page_pa[p] &&
	    (st->prot == 0 || !!(w.pte & PG_RW) == !!(st->prot & SCN_PROT_W)))
		return 0;
	if (w.status != WALK_MAPPED)
		return failf(r, OUT_FAIL, "expectation", NULL, "expected pmap %s va 0x%08x -> %s (pa 0x%08x); "
		    "found no mapping (%s 0x%08x)", r->s->pmap_names[st->pmap], va,
		    page_name(r, p, name, sizeof(name)), r->page_pa[p],
		    w.status == WALK_NO_PDE ? "PDE" : "PTE", w.status == WALK_NO_PDE ? w.pde : w.pte);
	return failf(r, OUT_FAIL, "expectation", NULL, "expected pmap %s va 0x%08x -> %s (pa 0x%08x)%s; "
	    "found PTE 0x%08x (pa 0x%08x %s)", r->s->pmap_names[st->pmap], va,
	    page_name(r, p, name, sizeof(name)), r->page_pa[p],
	    st->prot == 0 ? "" : (st->prot & SCN_PROT_W) ? " rw" : " read-only",
	    w.pte, w.pte & PG_FRAME, pte_flags(w.pte, flags, sizeof(flags)));
}

/* expect mapped PMAP VA PAGE|ARRAY [PROT] (an array: at consecutive pages, as map) | expect unmapped PMAP VA */
static int expect_mapping(struct run *r, const struct step *st)
{
	uint32_t n = st->kind == ST_EXPECT_MAPPED ? ref_count(r, &st->page) : 1;

	if (live_pmap(r, st->pmap) < 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (expect_one_mapping(r, st, st->va + i * PAGE_SIZE,
		    st->kind == ST_EXPECT_MAPPED ? flat_page(r, &st->page, i) : -1) < 0)
			return -1;
	return 0;
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

/* expect dirty PAGE yes|no: what the VM would conclude (PG_M in a live managed PTE, or PGA_MODIFIED). */
static int expect_dirty(struct run *r, const struct step *st)
{
	int32_t p = flat_page(r, &st->page, 0);
	struct vm_page *m;
	int ptes, summary;
	char name[80];

	if (live_page(r, p) < 0)
		return -1;
	m = GV(&r->m, struct vm_page, r->page_gva[p]);
	ptes = (page_pte_ad(r, r->page_pa[p] >> PAGE_SHIFT) & CHK_AD_DIRTY) != 0;
	summary = m != NULL && (m->aflags & PGA_MODIFIED) != 0;
	if ((ptes || summary) == st->flag)
		return 0;
	return failf(r, OUT_FAIL, "expectation", NULL, "expected page %s %s; %s (PG_M in a live managed PTE: %s; "
	    "vm_page aflags 0x%x: PGA_MODIFIED %s)", page_name(r, p, name, sizeof(name)), st->flag ? "dirty" : "clean",
	    st->flag ? "the VM would take it for clean" : "the VM would take it for dirty", ptes ? "yes" : "no",
	    m ? m->aflags : 0, summary ? "set" : "clear");
}

/*
 * The flags of an `expect pte`, in catalog order: as written ("V -RW A":
 * set, and -clear), or as found wrong ("M is clear, RW is set": set holds
 * the flags found clear, clear those found set).
 */
static const char *pte_flags_text(uint32_t set, uint32_t clear, int wrong, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < SCN_NPTE_FLAGS && n < len; i++) {
		uint32_t bit = scn_pte_flags[i].bit;

		if (!((set | clear) & bit))
			continue;
		if (wrong)
			n += (size_t)snprintf(buf + n, len - n, "%s%s is %s", n ? ", " : "", scn_pte_flags[i].name,
			    set & bit ? "clear" : "set");
		else
			n += (size_t)snprintf(buf + n, len - n, "%s%s%s", n ? " " : "", clear & bit ? "-" : "",
			    scn_pte_flags[i].name);
	}
	return buf;
}

/* expect pte PMAP VA FLAG...: the named flags of the PTE (0 where no page table is). */
static int expect_pte(struct run *r, const struct step *st)
{
	struct pmap *pm;
	struct walk w;
	uint32_t pte, wrong_set, wrong_clear;
	char want[64], got[128], flags[96];

	if (live_pmap(r, st->pmap) < 0)
		return -1;
	pm = GV(&r->m, struct pmap, r->pmap_gva[st->pmap]);
	gv_walk(&r->m, pm->pm_pdir_pa, st->va, &w);
	pte = w.status == WALK_MAPPED || w.status == WALK_NO_PTE ? w.pte : 0;
	wrong_set = st->pte_set & ~pte;
	wrong_clear = st->pte_clear & pte;
	if (wrong_set == 0 && wrong_clear == 0)
		return 0;
	return failf(r, OUT_FAIL, "expectation", NULL, "expected pmap %s va 0x%08x PTE with %s; found %s0x%08x "
	    "(%s): %s", r->s->pmap_names[st->pmap], st->va,
	    pte_flags_text(st->pte_set, st->pte_clear, 0, want, sizeof(want)),
	    w.status == WALK_NO_PDE ? "no page table, PTE " : "", pte, pte_flags(pte, flags, sizeof(flags)),
	    pte_flags_text(wrong_set, wrong_clear, 1, got, sizeof(got)));
}

/* expect ptp PMAP VA present|absent: a page-table page backs VA's 4 MiB. */
static int expect_ptp(struct run *r, const struct step *st)
{
	struct pmap *pm;
	uint32_t pde;
	int present;

	if (live_pmap(r, st->pmap) < 0)
		return -1;
	pm = GV(&r->m, struct pmap, r->pmap_gva[st->pmap]);
	pde = phys_read32(&r->m.pm, (pm->pm_pdir_pa & PG_FRAME) + PDX(st->va) * 4, NULL);
	present = (pde & (PG_V | PG_PS)) == PG_V;
	if (present == st->flag)
		return 0;
	return failf(r, OUT_FAIL, "expectation", NULL, "expected a page table %s for pmap %s va 0x%08x-0x%08x; "
	    "PDE[%u] is 0x%08x", st->flag ? "present" : "absent", r->s->pmap_names[st->pmap], trunc_4mpage(st->va),
	    trunc_4mpage(st->va) + NBPDR - 1, PDX(st->va), pde);
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
	case ST_EXPECT_DIRTY:
		return expect_dirty(r, st);
	case ST_EXPECT_PTE:
		return expect_pte(r, st);
	case ST_EXPECT_PTP:
		return expect_ptp(r, st);
	default:
		return expect_page_bit(r, st);
	}
}

