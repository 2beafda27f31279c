/*
 * runner_model.c - owns the runner's MODEL check (the guest's translations,
 * read with the host walker, against the reference model, over what a step
 * wrote and touched, or everything after a reclaim) and the A/D model: what
 * the CPU's own accesses say each page's referenced and dirty state is,
 * which the AD rules of the checker (invad.c) compare with guest memory.
 */
#include "runner_priv.h"

#include <stdio.h>
#include <stdlib.h>

#include "gview.h"

/* Remember that the step touched [va, eva) of pmap (for the MODEL check). */
void touch_range(struct run *r, int pmap, uint32_t va, uint32_t eva)
{
	if (r->ntouched < (int)(sizeof(r->touched) / sizeof(r->touched[0])))
		r->touched[r->ntouched++] = (typeof(r->touched[0])){ pmap, va, eva };
}

int push_key(struct run *r, uint32_t key)
{
	if (r->nkeys == r->capkeys) {
		uint32_t cap = r->capkeys ? r->capkeys * 2 : 256;
		uint32_t *k = realloc(r->keys, cap * sizeof(*k));

		if (k == NULL)
			return failf(r, OUT_FAIL, "error", NULL, "out of memory");
		r->keys = k;
		r->capkeys = cap;
	}
	r->keys[r->nkeys++] = key;
	return 0;
}

/*
 * The MODEL check: the guest's translation of (pmap, va), read with the
 * host walker, against the model's. An unwired managed user mapping may
 * vanish only in a step during which the guest reclaimed pv entries.
 */
static int model_check_va(struct run *r, int pmap, uint32_t va, int reclaim_ok)
{
	const struct mentry *e = model_get(&r->model, pmap, va);
	uint32_t cr3 = run_pmap_cr3(r, pmap);
	char flags[96], name[80];
	struct walk w;

	if (cr3 == 0)
		return failf(r, OUT_FAIL, "violation", "MODEL", "pmap %s: struct pmap at 0x%08x is unreadable",
		    r->s->pmap_names[pmap], r->pmap_gva[pmap]);
	if (gv_walk(r->m, cr3, va, &w) == WALK_BAD_TABLE)
		return failf(r, OUT_FAIL, "violation", "MODEL", "pmap %s va 0x%08x: PDE 0x%08x points outside RAM",
		    r->s->pmap_names[pmap], va, w.pde);
	if (w.status != WALK_MAPPED) {
		if (e == NULL)
			return 0;
		if (reclaim_ok && e->managed && !e->wired && run_reclaim_took(r, pmap, va)) {
			model_del(&r->model, pmap, va);		/* reclaimed: legal */
			return 0;
		}
		return failf(r, OUT_FAIL, "violation", "MODEL",
		    "pmap %s va 0x%08x: the model maps %s (pa 0x%08x)%s%s; the guest has no mapping (%s 0x%08x)",
		    r->s->pmap_names[pmap], va, page_name(r, e->page, name, sizeof(name)), r->page_pa[e->page],
		    e->writable ? " rw" : " r", e->wired ? " wired" : "",
		    w.status == WALK_NO_PDE ? "PDE" : "PTE", w.status == WALK_NO_PDE ? w.pde : w.pte);
	}
	if (e == NULL)
		return failf(r, OUT_FAIL, "violation", "MODEL",
		    "pmap %s va 0x%08x: the guest maps pa 0x%08x (PTE 0x%08x %s); the model has no mapping",
		    r->s->pmap_names[pmap], va, w.pa & PG_FRAME, w.pte, pte_flags(w.pte, flags, sizeof(flags)));
	if ((w.pte & PG_FRAME) != r->page_pa[e->page] || !!(w.pte & PG_RW) != e->writable ||
	    !!(w.pte & PG_W) != e->wired || !!(w.pte & PG_MANAGED) != e->managed)
		return failf(r, OUT_FAIL, "violation", "MODEL",
		    "pmap %s va 0x%08x: the model maps %s (pa 0x%08x)%s%s; the guest PTE is 0x%08x (%s)",
		    r->s->pmap_names[pmap], va, page_name(r, e->page, name, sizeof(name)), r->page_pa[e->page],
		    e->writable ? " rw" : " r", e->wired ? " wired" : "", w.pte, pte_flags(w.pte, flags, sizeof(flags)));
	return 0;
}

void collect_key(const struct mentry *e, void *arg)
{
	struct run *r = arg;

	push_key(r, e->vpn);
}

/* Guest PTEs valid in [va, eva) of pmap that the model does not have. */
static int model_check_guest_side(struct run *r, int pmap, uint32_t va, uint32_t eva)
{
	uint32_t cr3 = run_pmap_cr3(r, pmap);

	for (uint64_t pd = trunc_4mpage(va); pd < eva; pd += NBPDR) {
		uint32_t pde = phys_read32(&r->m->pm, (cr3 & PG_FRAME) + PDX(pd) * 4, NULL);
		uint32_t *pt = (pde & PG_V) ? phys_ptr(&r->m->pm, pde & PG_FRAME, PAGE_SIZE) : NULL;

		if (pt == NULL)
			continue;	/* missing model entries are found from the model side */
		for (uint32_t i = 0; i < NPTEPG; i++) {
			uint32_t a = (uint32_t)pd + i * PAGE_SIZE;

			if (a >= va && a < eva && (pt[i] & PG_V) && model_get(&r->model, pmap, a) == NULL)
				return model_check_va(r, pmap, a, 0);
		}
	}
	return 0;
}

/* Compare every page of [va, eva) in pmap, both ways. */
static int model_check_range(struct run *r, int pmap, uint32_t va, uint32_t eva, int reclaim_ok)
{
	if (r->pmap_gva[pmap] == 0)
		return 0;
	if (((uint64_t)eva - va) / PAGE_SIZE <= 64) {
		for (uint64_t a = va; a < eva; a += PAGE_SIZE)
			if (model_check_va(r, pmap, (uint32_t)a, reclaim_ok) < 0)
				return -1;
		return 0;
	}
	r->nkeys = 0;
	model_foreach(&r->model, pmap, va, eva, collect_key, r);
	for (uint32_t i = 0; i < r->nkeys; i++)
		if (model_check_va(r, pmap, r->keys[i] << PAGE_SHIFT, reclaim_ok) < 0)
			return -1;
	return model_check_guest_side(r, pmap, va, eva);
}

/* The whole space of every live pmap (the kernel's scenario area for the kernel). */
int model_check_all(struct run *r, int reclaim_ok)
{
	for (int p = 0; p < r->s->npmaps; p++) {
		uint32_t va = p == SCN_KERNEL ? r->gi->gi_kva_free : 0;
		uint32_t eva = p == SCN_KERNEL ? gv_u32(r->m, r->gi->gi_kernel_vm_end) : lay_user_end(&r->m->lay);

		if (va < eva && model_check_range(r, p, va, eva, reclaim_ok) < 0)
			return -1;
	}
	return 0;
}

/*
 * Without per-step checks, the model must still learn which mappings a
 * reclaim took (so that destroy, free and later checks are judged right):
 * drop every unwired managed mapping reclaim took that the guest no
 * longer has.
 */
void model_forget_reclaimed(struct run *r)
{
	for (int p = 0; p < r->s->npmaps; p++) {
		uint32_t cr3 = run_pmap_cr3(r, p);

		r->nkeys = 0;
		if (cr3 != 0)
			model_foreach(&r->model, p, 0, 0xffffffffu, collect_key, r);
		for (uint32_t i = 0; i < r->nkeys; i++) {
			uint32_t va = r->keys[i] << PAGE_SHIFT;
			const struct mentry *e = model_get(&r->model, p, va);
			struct walk w;

			if (gv_walk(r->m, cr3, va, &w) != WALK_MAPPED && e->managed && !e->wired && run_reclaim_took(r, p, va))
				model_del(&r->model, p, va);
		}
	}
	r->nkeys = 0;
}

/* The scenario pmap whose directory is at pd (the kernel's for EV_KERNEL_SPACE), or -1. */
static int scenario_pmap_of_pd(struct run *r, uint32_t pd)
{
	if (pd == EV_KERNEL_SPACE)
		return SCN_KERNEL;
	for (int p = 0; p < r->s->npmaps; p++)
		if (r->pmap_gva[p] != 0 && (run_pmap_cr3(r, p) & PG_FRAME) == pd)
			return p;
	return -1;
}

/*
 * Every PTE and PDE the step wrote, wherever it is, against the model: a
 * wrong entry is blamed on the step (and the store) that wrote it, not on
 * a later step that happens to look there.
 */
static int model_check_writes(struct run *r)
{
	uint32_t kva_end = gv_u32(r->m, r->gi->gi_kernel_vm_end);

	for (int i = 0; r->checking && i < r->chk.nwrites; i++) {
		const struct event *e = &r->chk.writes[i];
		int p = e->kind == EV_PTE_WRITE || e->kind == EV_PDE_WRITE ? scenario_pmap_of_pd(r, e->pd) : -1;
		uint64_t va = e->va, eva = va + (e->kind == EV_PDE_WRITE ? NBPDR : PAGE_SIZE);
		uint64_t lo = p == SCN_KERNEL ? r->gi->gi_kva_free : 0, hi = p == SCN_KERNEL ? kva_end : lay_user_end(&r->m->lay);

		if (p < 0 || va < lo || va >= hi)
			continue;
		if (model_check_range(r, p, (uint32_t)va, (uint32_t)(eva < hi ? eva : hi), 0) < 0)
			return blame_write(r, e);
	}
	return 0;
}

/* The MODEL check after a step: what it wrote and touched, or everything after a reclaim. */
int model_check_step(struct run *r)
{
	int reclaimed = r->rc.calls > 0;

	if (scenario_ignores(r->s, "MODEL"))
		return 0;
	if (reclaimed || r->o->full_checks)
		return model_check_all(r, reclaimed);
	for (uint32_t i = 0; i < r->nkeys; i++)	/* unmap-all: the page's old mappings */
		if (model_check_va(r, r->keys[i] >> 20, (r->keys[i] & 0xfffff) << PAGE_SHIFT, 0) < 0)
			return -1;
	if (model_check_writes(r) < 0)	/* (uses r->keys as scratch) */
		return -1;
	for (int i = 0; i < r->ntouched; i++)
		if (model_check_range(r, r->touched[i].pmap, r->touched[i].va, r->touched[i].eva, 0) < 0)
			return -1;
	return 0;
}

/*
 * The A/D model. A page's bits come from what the CPU did, never from
 * guest code: a load or store that completed through a managed mapping
 * makes the page referenced (and, a store, dirty), and so does a PG_A/PG_M
 * the CPU left in the PTE it used (read back after the touch). clear-modify
 * makes the page clean; a page allocated or freed starts with nothing. The
 * checker (invad.c) then requires every bit the model holds to be findable
 * by the VM.
 */

int ad_init(struct run *r)
{
	uint32_t n = r->s->npages_total ? r->s->npages_total : 1;

	r->ad_npages = (uint32_t)(r->m->pm.size >> PAGE_SHIFT);
	r->ad_want = calloc(r->ad_npages, 1);
	r->ad_from = calloc((size_t)n * 2, sizeof(*r->ad_from));
	return r->ad_want && r->ad_from ? 0 : -1;
}

void ad_free(struct run *r)
{
	free(r->ad_want);
	free(r->ad_from);
	r->ad_want = NULL;
	r->ad_from = NULL;
}

void ad_page_clean(struct run *r, int32_t page, uint8_t bits)
{
	uint32_t pg = r->page_pa[page] >> PAGE_SHIFT;

	if (r->page_gva[page] != 0 && pg < r->ad_npages)
		r->ad_want[pg] &= (uint8_t)~bits;
	if (!(bits & CHK_AD_DIRTY))
		return;
	for (uint32_t k = 0; k < r->model.pages[page].n; k++) {	/* and every mapping's PG_M */
		uint32_t key = model_page_key(&r->model, page, k);
		struct mentry *e = model_find(&r->model, key >> 20, (key & 0xfffff) << PAGE_SHIFT);

		e->ad &= (uint8_t)~(MAD_DIRTY | MAD_DIRTY_UNKNOWN);
	}
}

/* Give page the bits `got` (CHK_AD_*), remembering the access behind them. */
static void ad_page_set(struct run *r, int32_t page, uint8_t got, int pmap, uint32_t va, uint32_t pte)
{
	uint32_t pg = r->page_pa[page] >> PAGE_SHIFT;
	struct ad_origin o = { r->ops + 1, r->step ? r->step->line : 0, pmap, va, pte };

	if (pg >= r->ad_npages)
		return;
	r->ad_want[pg] |= got;
	if (got & CHK_AD_REF)
		r->ad_from[2 * page] = o;
	if (got & CHK_AD_DIRTY)
		r->ad_from[2 * page + 1] = o;
	if (r->checking)
		checker_ad_touched(&r->chk, pg);
}

void ad_after_touch(struct run *r, int pmap, uint32_t va, int write, int faulted)
{
	struct mentry *e = model_find(&r->model, pmap, va);
	uint32_t cr3 = run_pmap_cr3(r, pmap);
	uint8_t got = faulted ? 0 : write ? CHK_AD_REF | CHK_AD_DIRTY : CHK_AD_REF;
	struct walk w;

	if (e == NULL || !e->managed || cr3 == 0)
		return;
	gv_walk(r->m, cr3, va, &w);
	if (w.status == WALK_MAPPED && (w.pte & PG_FRAME) == r->page_pa[e->page]) {
		/* the PTE the CPU used: its A/D bits are now exactly known */
		e->ad = (w.pte & PG_A ? MAD_REF : 0) | (w.pte & PG_M ? MAD_DIRTY : 0);
		got |= chk_ad_of_pte(w.pte);
	} else if (got) {
		e->ad |= (got & CHK_AD_REF ? MAD_REF : 0) | (got & CHK_AD_DIRTY ? MAD_DIRTY : 0);
	}
	if (got)
		ad_page_set(r, e->page, got, pmap, va, w.status == WALK_MAPPED ? w.pte : 0);
}

int ad_expected_answer(struct run *r, int32_t page, uint8_t bit)
{
	uint8_t set = bit == CHK_AD_DIRTY ? MAD_DIRTY : MAD_REF;
	uint8_t unknown = bit == CHK_AD_DIRTY ? MAD_DIRTY_UNKNOWN : MAD_REF_UNKNOWN;
	int answer = 0;

	for (uint32_t k = 0; k < r->model.pages[page].n; k++) {
		uint32_t key = model_page_key(&r->model, page, k);
		const struct mentry *e = model_get(&r->model, key >> 20, (key & 0xfffff) << PAGE_SHIFT);

		if (!e->managed)
			continue;
		if (e->ad & set)
			return 1;
		if (e->ad & unknown)
			answer = -1;
	}
	return answer;
}

/* CHK_AD_* of the live managed PTEs that map physical page pg, over every live pmap's tables. */
uint8_t page_pte_ad(struct run *r, uint32_t pg)
{
	uint8_t have = 0;

	for (int p = 0; p < r->s->npmaps; p++) {
		uint32_t cr3 = run_pmap_cr3(r, p);
		const uint32_t *pd = cr3 ? phys_ptr(&r->m->pm, cr3 & PG_FRAME, PAGE_SIZE) : NULL;
		const struct glayout *l = &r->m->lay;

		for (uint32_t pdx = 0; pd != NULL && pdx < NPDEPG; pdx++) {
			if (p == SCN_KERNEL ? !lay_kernel_pdx(l, pdx) : !lay_user_pdx(l, pdx))
				continue;
			const uint32_t *pt = (pd[pdx] & (PG_V | PG_PS)) == PG_V ?
			    phys_ptr(&r->m->pm, pd[pdx] & PG_FRAME, PAGE_SIZE) : NULL;

			for (uint32_t i = 0; pt != NULL && i < NPTEPG; i++)
				if ((pt[i] & (PG_V | PG_MANAGED)) == (PG_V | PG_MANAGED) && pt[i] >> PAGE_SHIFT == pg)
					have |= chk_ad_of_pte(pt[i]);
		}
	}
	return have;
}

/* The checker's describer: "p[3], written by operation #N at line L through pmap a va V (PTE then P),". */
void ad_describe(void *ctx, uint32_t pg, uint8_t bit, char *buf, size_t len)
{
	struct run *r = ctx;
	char name[80];

	for (uint32_t p = 0; p < r->s->npages_total; p++) {
		const struct ad_origin *o = &r->ad_from[2 * p + (bit == CHK_AD_DIRTY)];

		if (r->page_gva[p] == 0 || r->page_freed[p] || r->page_pa[p] >> PAGE_SHIFT != pg)
			continue;
		snprintf(buf, len, "(%s, %s by operation #%llu at line %d through pmap %s va 0x%08x, PTE then 0x%08x)",
		    page_name(r, (int32_t)p, name, sizeof(name)), bit == CHK_AD_DIRTY ? "written" : "accessed",
		    (unsigned long long)o->op, o->line, r->s->pmap_names[o->pmap], o->va, o->pte);
		return;
	}
}
