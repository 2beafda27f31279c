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
	struct walk w;
	char flags[96], name[80];

	gv_walk(r->m, run_pmap_cr3(r, st->pmap), va, &w);
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
	const struct contract *ct = &r->m->ct;
	uint32_t pc = r->pmap_gva[pmap] ? gv_u32(r->m, r->pmap_gva[pmap] + ct->pm_chunks) : 0;
	uint64_t n = 0;

	while (pc != 0 && n <= (r->m->pm.size >> PAGE_SHIFT) && gv_ptr(r->m, pc, ct->chunk_size) != NULL) {
		n++;
		pc = gv_u32(r->m, pc + ct->pc_link.off);
	}
	return n;
}

/*
 * Free chunk KVA slots, from the kind of free list the guest declares:
 * the length of a list threaded through free slots' PTEs, the slots above
 * an index, or the slots not mapped now.
 */
static uint64_t pv_free_kva(struct run *r)
{
	const struct contract *ct = &r->m->ct;
	uint32_t kpd = run_pmap_cr3(r, SCN_KERNEL), slots = gv_kva_slots(r->m);
	uint64_t n = 0;

	if (ct->kva_kind == CT_KVA_INDEX)
		return slots - gv_u32(r->m, ct->kva_head);
	if (ct->kva_kind != CT_KVA_PTELIST)
		return slots - gv_kva_mapped(r->m);
	for (uint32_t va = gv_u32(r->m, ct->kva_head); va != 0 && n <= slots; n++) {
		struct walk w;

		gv_walk(r->m, kpd, va, &w);
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
	const struct contract *ct = &r->m->ct;
	uint32_t aflags;
	int ptes, summary;
	char name[80];

	if (live_page(r, p) < 0)
		return -1;
	aflags = ct->has_aflags ? run_page_scalar(r, p, ct->pg_aflags) : 0;
	ptes = (page_pte_ad(r, r->page_pa[p] >> PAGE_SHIFT) & CHK_AD_DIRTY) != 0;
	summary = (aflags & ct->aflag_mod) != 0;
	if ((ptes || summary) == st->flag)
		return 0;
	return failf(r, OUT_FAIL, "expectation", NULL, "expected page %s %s; %s (PG_M in a live managed PTE: %s; "
	    "vm_page %s 0x%x: modified bit %s)", page_name(r, p, name, sizeof(name)), st->flag ? "dirty" : "clean",
	    st->flag ? "the VM would take it for clean" : "the VM would take it for dirty", ptes ? "yes" : "no",
	    ct->has_aflags ? ct->name.aflags : "(no summary word)", aflags, summary ? "set" : "clear");
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
	struct walk w;
	uint32_t pte, wrong_set, wrong_clear;
	char want[64], got[128], flags[96];

	if (live_pmap(r, st->pmap) < 0)
		return -1;
	gv_walk(r->m, run_pmap_cr3(r, st->pmap), st->va, &w);
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
	uint32_t pde;
	int present;

	if (live_pmap(r, st->pmap) < 0)
		return -1;
	pde = phys_read32(&r->m->pm, (run_pmap_cr3(r, st->pmap) & PG_FRAME) + PDX(st->va) * 4, NULL);
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
	const struct contract *ct = &r->m->ct;
	uint32_t gva = st->pmap >= 0 ? r->pmap_gva[st->pmap] : 0;
	char what[96];

	switch (st->kind) {
	case ST_EXPECT_MAPPED: case ST_EXPECT_UNMAPPED:
		return expect_mapping(r, st);
	case ST_EXPECT_PV:
		if (live_page(r, flat_page(r, &st->page, 0)) < 0)
			return -1;
		page_name(r, flat_page(r, &st->page, 0), what + 9, sizeof(what) - 9);
		memcpy(what, "pv count ", 9);
		return expect_eq(r, run_page_pvlen(r, flat_page(r, &st->page, 0)), st->n, what);
	case ST_EXPECT_RESIDENT: case ST_EXPECT_WIRED: case ST_EXPECT_CHUNKS:
		if (live_pmap(r, st->pmap) < 0)
			return -1;
		snprintf(what, sizeof(what), "%s of pmap %s", st->kind == ST_EXPECT_RESIDENT ? "resident count" :
		    st->kind == ST_EXPECT_WIRED ? "wired count" : "chunks", r->s->pmap_names[st->pmap]);
		if (st->kind != ST_EXPECT_CHUNKS && !ct->has_stats)
			return failf(r, OUT_FAIL, "expectation", NULL, "expected %s %llu; the guest keeps no pm_stats "
			    "(pmap.resident and pmap.wired are not in its descriptor)", what, (unsigned long long)st->n);
		return expect_eq(r, st->kind == ST_EXPECT_RESIDENT ? gv_scalar(r->m, gva, ct->pm_resident) :
		    st->kind == ST_EXPECT_WIRED ? gv_scalar(r->m, gva, ct->pm_wired) : chunk_count(r, st->pmap), st->n, what);
	case ST_EXPECT_PV_FREE_KVA:
		return expect_eq(r, pv_free_kva(r), st->n, "free pv chunk KVA slots");
	case ST_EXPECT_PV_PAGES_HELD:
		return expect_eq(r, gv_kva_mapped(r->m), st->n, "pages held by the pv allocator");
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

