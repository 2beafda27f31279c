/*
 * runner_ops.c - the scenario's operations: each calls the guest's pmap
 * API (or a rig_* wrapper) and brings the reference model up to date.
 */
#include "runner_priv.h"

#include <stdio.h>
#include <stdlib.h>

#include "gview.h"
#include "guestcall.h"

/* A pmap the step may use: created and not destroyed. */
int live_pmap(struct run *r, int pmap)
{
	if (r->pmap_gva[pmap] != 0)
		return 0;
	return failf(r, OUT_FAIL, "misuse", NULL, "pmap %s is not alive (destroyed?)", r->s->pmap_names[pmap]);
}

/* A page the step may map: allocated and not freed. */
int live_page(struct run *r, int32_t page)
{
	char name[80];

	if (r->page_gva[page] != 0 && !r->page_freed[page])
		return 0;
	return failf(r, OUT_FAIL, "misuse", NULL, "page %s has been freed", page_name(r, page, name, sizeof(name)));
}

/*
 * Scenario addresses in the guest's own layout: kernel ones above the
 * guest's own KVA, user ones [va, eva) below the end of user space (the
 * parser knows only i386's KERNBASE; a guest whose recursive slot is below
 * KERNBASE ends user space at PTmap).
 */
int scenario_space(struct run *r, int pmap, uint32_t va, uint32_t eva)
{
	uint32_t end = lay_user_end(&r->m->lay);

	if (pmap != SCN_KERNEL && (va >= end || (eva > va && eva - 1 >= end)))
		return failf(r, OUT_FAIL, "misuse", NULL, "user address 0x%08x is not below this guest's end of user "
		    "space (0x%08x: its recursive mapping PTmap is at 0x%08x)", va >= end ? va : eva - 1, end,
		    r->m->lay.ptmap);
	if (pmap != SCN_KERNEL || va >= r->gi->gi_kva_free)
		return 0;
	return failf(r, OUT_FAIL, "misuse", NULL,
	    "kernel address 0x%08x is below the scenario KVA area (0x%08x and up)", va, r->gi->gi_kva_free);
}

/* pmap NAME */
int op_pmap(struct run *r, const struct step *st)
{
	int rc;

	r->creating = st->pmap;
	rc = gcall(r, r->fn.pmap_create, &r->pmap_gva[st->pmap], 0);
	r->creating = -1;
	if (rc < 0)
		return -1;
	if (r->pmap_gva[st->pmap] == 0)
		return failf(r, OUT_FAIL, "shortage", NULL, "pmap_pinit failed: no page or directory slot left");
	return 0;
}

/* page NAME [N]: allocate each page and learn its physical address. */
int op_page(struct run *r, const struct step *st)
{
	for (uint32_t i = 0; i < ref_count(r, &st->page); i++) {
		int32_t p = flat_page(r, &st->page, i);
		uint32_t array = gv_u32(r->m, r->m->ct.page_array_ptr);

		if (gcall(r, r->fn.page_alloc, &r->page_gva[p], 0) < 0)
			return -1;
		if (r->page_gva[p] == 0 || gv_ptr(r->m, r->page_gva[p], r->m->ct.page_size) == NULL)
			return failf(r, OUT_FAIL, "shortage", NULL, "out of physical pages after %u of %u",
			    i, ref_count(r, &st->page));
		if (r->page_gva[p] < array || (r->page_gva[p] - array) % r->m->ct.page_size != 0)
			return failf(r, OUT_CRASH, "error", NULL, "the guest's page allocator returned 0x%08x, not a "
			    "record of the page array at 0x%08x", r->page_gva[p], array);
		/* the contract: vm_page_array[pa >> PAGE_SHIFT] */
		r->page_pa[p] = (r->page_gva[p] - array) / r->m->ct.page_size << PAGE_SHIFT;
		r->page_freed[p] = 0;	/* (random recycles pages) */
		ad_page_clean(r, p, CHK_AD_REF | CHK_AD_DIRTY);	/* a new page starts clean */
	}
	return 0;
}

/*
 * What the model knows of a mapping's own A/D bits after pmap_enter put
 * page p there. A new mapping is clean; whether PG_A is set at once is the
 * pmap's choice. The same page again keeps PG_A or sets it anew, and PG_M
 * may stay only while it is writable.
 */
static uint8_t enter_ad(const struct mentry *old, int32_t p, int writable)
{
	if (old == NULL || old->page != p)
		return MAD_REF_UNKNOWN;
	return MAD_REF_UNKNOWN | (writable && (old->ad & (MAD_DIRTY | MAD_DIRTY_UNKNOWN)) ? MAD_DIRTY_UNKNOWN : 0);
}

/* map PMAP VA PAGE [PROT] [wired] [shortage] */
static int op_map(struct run *r, const struct step *st)
{
	int want_shortage = (st->flag & 2) != 0, wired = st->flag & 1;

	if (live_pmap(r, st->pmap) < 0 ||
	    scenario_space(r, st->pmap, st->va, st->va + ref_count(r, &st->page) * PAGE_SIZE) < 0)
		return -1;
	for (uint32_t i = 0; i < ref_count(r, &st->page); i++) {
		int32_t p = flat_page(r, &st->page, i);
		uint32_t va = st->va + i * PAGE_SIZE, rv;

		if (live_page(r, p) < 0 || gcall(r, r->fn.enter, &rv, 5, r->pmap_gva[st->pmap], va,
		    r->page_gva[p], st->prot, wired) < 0)
			return -1;
		if (rv == KERN_RESOURCE_SHORTAGE && !want_shortage && !(st->flag & 4))
			return failf(r, OUT_FAIL, "shortage", NULL,
			    "pmap_enter returned KERN_RESOURCE_SHORTAGE for va 0x%08x", va);
		if (rv == KERN_RESOURCE_SHORTAGE)
			continue;
		if (want_shortage)
			return failf(r, OUT_FAIL, "expectation", NULL,
			    "expected KERN_RESOURCE_SHORTAGE for va 0x%08x; pmap_enter returned %u", va, rv);
		const struct mentry *old = model_get(&r->model, st->pmap, va);
		uint8_t ad = enter_ad(old, p, (st->prot & SCN_PROT_W) != 0);

		if (model_set(&r->model, st->pmap, va, p, (st->prot & SCN_PROT_W) != 0, wired, 1) < 0)
			return failf(r, OUT_FAIL, "error", NULL, "out of memory");
		model_find(&r->model, st->pmap, va)->ad = ad;
	}
	touch_range(r, st->pmap, st->va, st->eva);
	return 0;
}

/* unmap PMAP RANGE */
static int op_unmap(struct run *r, const struct step *st)
{
	if (scenario_space(r, st->pmap, st->va, st->eva) < 0 || live_pmap(r, st->pmap) < 0 ||
	    gcall(r, r->fn.remove, NULL, 3, r->pmap_gva[st->pmap], st->va, st->eva) < 0)
		return -1;
	r->nkeys = 0;
	model_foreach(&r->model, st->pmap, st->va, st->eva, collect_key, r);
	for (uint32_t i = 0; i < r->nkeys; i++)
		model_del(&r->model, st->pmap, r->keys[i] << PAGE_SHIFT);
	r->nkeys = 0;
	touch_range(r, st->pmap, st->va, st->eva);
	return 0;
}

/* protect PMAP RANGE PROT: no read removes, read-only clears write. */
static int op_protect(struct run *r, const struct step *st)
{
	if (!(st->prot & SCN_PROT_R))
		return op_unmap(r, st);
	if (scenario_space(r, st->pmap, st->va, st->eva) < 0 || live_pmap(r, st->pmap) < 0 ||
	    gcall(r, r->fn.protect, NULL, 4, r->pmap_gva[st->pmap], st->va, st->eva, st->prot) < 0)
		return -1;
	r->nkeys = 0;
	if (!(st->prot & SCN_PROT_W))
		model_foreach(&r->model, st->pmap, st->va, st->eva, collect_key, r);
	for (uint32_t i = 0; i < r->nkeys; i++) {
		const struct mentry *e = model_get(&r->model, st->pmap, r->keys[i] << PAGE_SHIFT);

		/* FreeBSD's rule: read-only clears PG_M (after saving it in the page) and keeps PG_A */
		uint8_t ad = e->ad & (uint8_t)~(MAD_DIRTY | MAD_DIRTY_UNKNOWN);

		model_set(&r->model, st->pmap, r->keys[i] << PAGE_SHIFT, e->page, 0, e->wired, e->managed);
		model_find(&r->model, st->pmap, r->keys[i] << PAGE_SHIFT)->ad = ad;
	}
	r->nkeys = 0;
	touch_range(r, st->pmap, st->va, st->eva);
	return 0;
}

/* unmap-all PAGE: every managed mapping of each page goes. */
static int op_unmap_all(struct run *r, const struct step *st)
{
	r->nkeys = 0;
	for (uint32_t i = 0; i < ref_count(r, &st->page); i++) {
		int32_t p = flat_page(r, &st->page, i);
		uint32_t first = r->nkeys;

		if (live_page(r, p) < 0 || gcall(r, r->fn.remove_all, NULL, 1, r->page_gva[p]) < 0)
			return -1;
		for (uint32_t k = 0; k < r->model.pages[p].n; k++) {
			uint32_t key = model_page_key(&r->model, p, k);

			if (model_get(&r->model, key >> 20, (key & 0xfffff) << PAGE_SHIFT)->managed)
				push_key(r, key);
		}
		for (uint32_t k = first; k < r->nkeys; k++)
			model_del(&r->model, r->keys[k] >> 20, (r->keys[k] & 0xfffff) << PAGE_SHIFT);
	}
	return 0;	/* r->keys now lists what to check */
}

/* kenter VA PAGE | kremove VA: unmanaged kernel mappings. */
static int op_kernel(struct run *r, const struct step *st)
{
	int32_t p = st->kind == ST_KENTER ? flat_page(r, &st->page, 0) : -1;

	if (scenario_space(r, SCN_KERNEL, st->va, st->va + PAGE_SIZE) < 0 || (p >= 0 && live_page(r, p) < 0))
		return -1;
	if (p >= 0) {
		if (gcall(r, r->fn.kenter, NULL, 2, st->va, r->page_gva[p]) < 0)
			return -1;
		model_set(&r->model, SCN_KERNEL, st->va, p, 1, 0, 0);
	} else {
		if (gcall(r, r->fn.kremove, NULL, 1, st->va) < 0)
			return -1;
		model_del(&r->model, SCN_KERNEL, st->va);
	}
	touch_range(r, SCN_KERNEL, st->va, st->va + PAGE_SIZE);
	return 0;
}

/*
 * After pmap_clear_modify the VM takes the page for clean: no live managed
 * PTE of it may keep PG_M, and its summary no PGA_MODIFIED (a MODEL
 * violation otherwise: the page would be written back forever).
 */
static int clean_now(struct run *r, int32_t p)
{
	const struct contract *ct = &r->m->ct;
	uint32_t aflags = ct->has_aflags ? run_page_scalar(r, p, ct->pg_aflags) : 0;
	int ptes = (page_pte_ad(r, r->page_pa[p] >> PAGE_SHIFT) & CHK_AD_DIRTY) != 0;
	char name[80];

	if (scenario_ignores(r->s, "MODEL") || (!ptes && !(aflags & ct->aflag_mod)))
		return 0;
	return failf(r, OUT_FAIL, "violation", "MODEL", "pmap_clear_modify(%s) left the page dirty: %s",
	    page_name(r, p, name, sizeof(name)), ptes ? "a live managed PTE of it still has PG_M" :
	    "its vm_page's summary bits still have the modified bit");
}

/* clear-modify PAGE */
static int op_clear_modify(struct run *r, const struct step *st)
{
	for (uint32_t i = 0; i < ref_count(r, &st->page); i++) {
		int32_t p = flat_page(r, &st->page, i);

		if (live_page(r, p) < 0 || gcall(r, r->fn.clear_modify, NULL, 1, r->page_gva[p]) < 0 ||
		    clean_now(r, p) < 0)
			return -1;
		ad_page_clean(r, p, CHK_AD_DIRTY);
	}
	return 0;
}

/*
 * touch PMAP VA r|w [faults]: one load or store through the MMU with the
 * pmap active. A page fault at rig_touch_access is an outcome; st->n says
 * whether one is expected. (flag bit 1: store; bit 2: from random, where a
 * disagreement is the model's business.)
 */
static int op_touch(struct run *r, const struct step *stmt)
{
	struct step copy = *stmt;
	const struct step *st = &copy;
	int write = st->flag & 1, faulted;
	uint32_t v;
	enum stop_kind k;

	if (copy.flag & 8) {	/* touch ... model: the model says whether it must fault, as random's do */
		const struct mentry *e = model_get(&r->model, copy.pmap, copy.va);

		copy.flag |= 2;
		copy.n = e == NULL || ((copy.flag & 1) && !e->writable);
	}

	if (live_pmap(r, st->pmap) < 0 || scenario_space(r, st->pmap, st->va, st->va + 4) < 0)
		return -1;
	k = guest_call(r->m, r->fn.touch, 3, (uint32_t[]){ r->pmap_gva[st->pmap], st->va, write }, &v);
	faulted = k == STOP_FAULT && r->m->stop.vector == 14 && r->m->stop.eip >= r->fn.touch_access &&
	    r->m->stop.eip < r->fn.touch_access + 32;
	if (k != STOP_RETURN && !faulted)
		return gcall(r, r->fn.touch, NULL, 0);	/* report the crash */
	r->active = st->pmap;
	ad_after_touch(r, st->pmap, st->va, write, faulted);
	if (faulted == (int)st->n || ((st->flag & 2) && scenario_ignores(r->s, "MODEL")))
		return 0;
	return failf(r, OUT_FAIL, (st->flag & 2) ? "violation" : "expectation", (st->flag & 2) ? "MODEL" : NULL,
	    "%s of pmap %s va 0x%08x %s; %s", write ? "a store" : "a load", r->s->pmap_names[st->pmap], st->va,
	    st->n ? "should fault" : "should succeed",
	    faulted ? "it faulted" : "the CPU completed it (a stale TLB entry or a wrong PTE)");
}

/* activate PMAP */
static int op_activate(struct run *r, const struct step *st)
{
	if (live_pmap(r, st->pmap) < 0 || gcall(r, r->fn.activate, NULL, 1, r->pmap_gva[st->pmap]) < 0)
		return -1;
	r->active = st->pmap;
	return 0;
}

/*
 * A pmap is destroyed only when no CPU runs on it: as an exiting process's
 * address space is, every other CPU with its directory in CR3 switches to
 * the kernel's first (the destroying CPU does so in rig_pmap_destroy).
 */
static int unload_elsewhere(struct run *r, int pmap)
{
	uint32_t dir = run_pmap_cr3(r, pmap);
	int home = r->m->cur, rc = 0;

	for (int cpu = 0; cpu < r->m->ncpu && rc == 0; cpu++) {
		if (cpu == home || (machine_cpu_reg(r->m, cpu, UC_X86_REG_CR3) & PG_FRAME) != dir)
			continue;
		machine_set_cpu(r->m, cpu);
		rc = gcall(r, r->fn.activate, NULL, 1, r->pmap_gva[SCN_KERNEL]);
		machine_set_cpu(r->m, home);
	}
	return rc;
}

/* destroy PMAP: only an empty one. */
static int op_destroy(struct run *r, const struct step *st)
{
	uint32_t n = model_count_pmap(&r->model, st->pmap);

	if (live_pmap(r, st->pmap) < 0)
		return -1;
	if (n > 0)
		return failf(r, OUT_FAIL, "misuse", NULL, "destroying pmap %s, which still has %u mapping%s",
		    r->s->pmap_names[st->pmap], n, n == 1 ? "" : "s");
	if (unload_elsewhere(r, st->pmap) < 0 || gcall(r, r->fn.pmap_destroy, NULL, 1, r->pmap_gva[st->pmap]) < 0)
		return -1;
	r->pmap_gva[st->pmap] = 0;
	if (r->active == st->pmap)
		r->active = SCN_KERNEL;
	return 0;
}

/* free PAGE: only pages with no mappings. */
static int op_free(struct run *r, const struct step *st)
{
	char name[80];
	uint32_t rv;

	for (uint32_t i = 0; i < ref_count(r, &st->page); i++) {
		int32_t p = flat_page(r, &st->page, i);
		uint32_t n = model_count_page(&r->model, p, 0);

		if (live_page(r, p) < 0)
			return -1;
		if (n > 0)
			return failf(r, OUT_FAIL, "misuse", NULL, "freeing page %s while it has %u mapping%s",
			    page_name(r, p, name, sizeof(name)), n, n == 1 ? "" : "s");
		if (gcall(r, r->fn.page_free, &rv, 1, r->page_gva[p]) < 0)
			return -1;
		if (rv != 0 && scenario_ignores(r->s, "MODEL"))
			continue;	/* the guest kept the page; so do we */
		if (rv != 0)
			return failf(r, OUT_FAIL, "violation", "MODEL",
			    "page %s has no mapping in the model, but the guest refuses to free it (%u pv entries)",
			    page_name(r, p, name, sizeof(name)), run_page_pvlen(r, p));
		ad_page_clean(r, p, CHK_AD_REF | CHK_AD_DIRTY);
		r->page_freed[p] = 1;
	}
	return 0;
}

/* fail alloc after N | fail alloc off: the guest's fault-injection knob. */
static int op_fail_alloc(struct run *r, const struct step *st)
{
	r->gi->gi_alloc_fail_after = st->flag ? (uint32_t)st->n : ~0u;
	machine_wrote(r->m, &r->gi->gi_alloc_fail_after, sizeof(r->gi->gi_alloc_fail_after));
	return 0;
}


/* One of pmap_is_modified / pmap_is_referenced on page p against the model (CHK_AD_* bit). */
static int query_one(struct run *r, int32_t p, uint8_t bit)
{
	int modified = bit == CHK_AD_DIRTY, want = ad_expected_answer(r, p, bit);
	char name[80];
	uint32_t rv;

	if (gcall(r, modified ? r->fn.is_modified : r->fn.is_referenced, &rv, 1, r->page_gva[p]) < 0)
		return -1;
	if (want < 0 || !!rv == want || scenario_ignores(r->s, "MODEL"))
		return 0;
	return failf(r, OUT_FAIL, "violation", "MODEL", "pmap_is_%s(%s) says %s; the model says %s (%s)",
	    modified ? "modified" : "referenced", page_name(r, p, name, sizeof(name)), rv ? "yes" : "no",
	    want ? "yes" : "no", want ? (modified ? "a live managed mapping was written through and not cleaned since" :
	    "a live managed mapping was used") : (modified ? "no live managed mapping has been written through since it "
	    "was made or cleaned" : "no live managed mapping has been used"));
}

/* query PAGE (random only): pmap_is_modified and pmap_is_referenced against the model. */
static int op_query(struct run *r, const struct step *st)
{
	int32_t p = flat_page(r, &st->page, 0);

	if (live_page(r, p) < 0 || query_one(r, p, CHK_AD_DIRTY) < 0)
		return -1;
	return query_one(r, p, CHK_AD_REF);
}

/* One operation statement. */
int exec_op(struct run *r, const struct step *st)
{
	switch (st->kind) {
	case ST_PMAP: return op_pmap(r, st);
	case ST_DESTROY: return op_destroy(r, st);
	case ST_ACTIVATE: return op_activate(r, st);
	case ST_PAGE: return op_page(r, st);
	case ST_FREE: return op_free(r, st);
	case ST_MAP: return op_map(r, st);
	case ST_UNMAP: return op_unmap(r, st);
	case ST_PROTECT: return op_protect(r, st);
	case ST_UNMAP_ALL: return op_unmap_all(r, st);
	case ST_KENTER: case ST_KREMOVE: return op_kernel(r, st);
	case ST_CLEAR_MODIFY: return op_clear_modify(r, st);
	case ST_TOUCH: return op_touch(r, st);
	case ST_FAIL_ALLOC: return op_fail_alloc(r, st);
	case ST_QUERY: return op_query(r, st);
	case ST_RECYCLE: return op_free(r, st) < 0 ? -1 : op_page(r, st);
	default: return failf(r, OUT_FAIL, "error", NULL, "internal: step kind %d", st->kind);
	}
}

