/*
 * runner.c - owns one scenario run: the machine booted for the file, the
 * runtime objects (pmaps and pages by name), the reference model, and the
 * step loop. Operations call the guest API; expectations and the MODEL
 * check read guest memory through gview. The first failure stops the file.
 */
#include "runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "disasm.h"
#include "gview.h"
#include "guestcall.h"
#include "invariants.h"
#include "kvamap.h"
#include "model.h"
#include "trace.h"
#include "watch.h"
#include "witness.h"

#define KERN_RESOURCE_SHORTAGE 6

/* Guest entry points the runner calls, resolved once per file. */
struct guest_fns {
	uint32_t enter, remove, protect, remove_all, kenter, kremove, clear_modify,
	    is_modified, is_referenced, activate, touch, touch_access, pmap_create,
	    pmap_destroy, page_alloc, page_free;
};

struct run {
	const struct scenario *s;
	const struct run_options *o;
	struct file_result *res;
	struct machine m;
	struct model model;
	struct guest_fns fn;
	struct guest_info *gi;
	struct pv_stats *stats;
	uint32_t pmap_gva[SCN_MAX_PMAPS];	/* 0: not created, or destroyed */
	uint32_t *page_gva, *page_pa;		/* per flat page; gva 0: none */
	uint8_t *page_freed;
	int active;				/* pmap index in CR3 */
	const struct step *step;		/* being executed */
	char synth[256];			/* text of a random operation (or of the end check) */
	const struct step *rop;			/* the random operation being run, or NULL */
	uint32_t reclaimed0;			/* pv_reclaimed when the step began */
	uint32_t *keys;				/* (pmap << 20 | vpn) scratch list */
	uint32_t nkeys, capkeys;
	struct { int pmap; uint32_t va, eva; } touched[2];
	int ntouched;
	int failed;
	uint64_t ops;
	int creating;				/* pmap being made by op_pmap, or -1 */
	struct events ev;			/* the paging event stream */
	struct watch w;
	int watching;
	struct checker chk;			/* the invariant checker (needs watching) */
	int checking;
	struct witness wit;			/* the lock witness (with the checker) */
	uint64_t insns;				/* guest instructions, with count_insns */
	uc_hook insn_hook;
	struct timespec t0, last_progress;
};

static double elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void random_text(struct run *r, const struct step *op, char *buf, size_t len);

/* The current step as written (a random operation's text is made on demand). */
static const char *step_text(struct run *r)
{
	if (r->rop != NULL && r->synth[0] == '\0')
		random_text(r, r->rop, r->synth, sizeof(r->synth));
	return r->synth[0] ? r->synth : r->step ? r->step->text : "";
}

/* Record the file's failure at the current step; returns -1. */
static int failf(struct run *r, enum outcome out, const char *kind, const char *id, const char *fmt, ...)
{
	struct file_result *res = r->res;
	va_list ap;

	if (r->failed)
		return -1;
	r->failed = 1;
	res->outcome = out;
	res->line = r->step ? r->step->line : 0;
	snprintf(res->text, sizeof(res->text), "%s", step_text(r));
	snprintf(res->kind, sizeof(res->kind), "%s", kind);
	snprintf(res->id, sizeof(res->id), "%s", id ? id : "");
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* A guest fault or panic is an event too. */
static void stop_event(struct run *r)
{
	struct event e = { .eip = r->m.stop.eip, .pd = r->m.stop.cr3 & PG_FRAME, .new = r->m.stop.cr2,
			   .old = (uint32_t)r->m.stop.vector, .msg = r->m.stop.message };

	if (!r->watching || (r->m.stop.kind != STOP_FAULT && r->m.stop.kind != STOP_PANIC))
		return;
	e.kind = r->m.stop.kind == STOP_FAULT ? EV_FAULT : EV_PANIC;
	events_emit(&r->ev, &e);
}

static int report_violation(struct run *r, const struct violation *v);

/* The witness's verdict on the call just made: a violation it stopped, or a lock left held. */
static int witness_verdict(struct run *r, enum stop_kind k)
{
	if (!r->checking)
		return 0;
	if (r->wit.violated)
		return report_violation(r, &r->wit.v);
	if (k == STOP_RETURN && witness_after_call(&r->wit) < 0)
		return report_violation(r, &r->wit.v);
	return 0;
}

/* Call a guest function; an unexpected stop fails the file as a crash. */
static int gcall(struct run *r, uint32_t fn, uint32_t *ret, int argc, ...)
{
	uint32_t argv[GUESTCALL_MAX_ARGS];
	char why[512];
	enum stop_kind k;
	va_list ap;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, uint32_t);
	va_end(ap);
	if (r->checking)
		r->wit.line = r->step ? r->step->line : 0;
	k = guest_call(&r->m, fn, argc, argv, ret);
	if (witness_verdict(r, k) < 0)
		return -1;
	if (k == STOP_RETURN)
		return 0;
	machine_describe_stop(&r->m, why, sizeof(why));
	stop_event(r);
	if (r->m.stop.kind == STOP_BREAK)
		return failf(r, OUT_BREAK, "break", NULL, "%s", why);
	return failf(r, OUT_CRASH, r->m.stop.kind == STOP_PANIC ? "panic" : "crash", NULL, "%s", why);
}

/* "p[3]" or "p" for a flat page index. */
static const char *page_name(const struct run *r, int32_t page, char *buf, size_t len)
{
	for (int a = 0; a < r->s->narrays; a++) {
		const struct page_array *pa = &r->s->arrays[a];

		if ((uint32_t)page >= pa->first && (uint32_t)page < pa->first + pa->count) {
			if (pa->is_array)
				snprintf(buf, len, "%s[%u]", pa->name, page - pa->first);
			else
				snprintf(buf, len, "%s", pa->name);
			return buf;
		}
	}
	snprintf(buf, len, "page#%d", page);
	return buf;
}

/* The flat index of the i-th page a reference names. */
static int32_t flat_page(const struct run *r, const struct pageref *ref, uint32_t i)
{
	return r->s->arrays[ref->array].first + (ref->index < 0 ? i : (uint32_t)ref->index);
}

static uint32_t ref_count(const struct run *r, const struct pageref *ref)
{
	return ref->index < 0 ? r->s->arrays[ref->array].count : 1;
}

/* Remember that the step touched [va, eva) of pmap (for the MODEL check). */
static void touch_range(struct run *r, int pmap, uint32_t va, uint32_t eva)
{
	if (r->ntouched < 2)
		r->touched[r->ntouched++] = (typeof(r->touched[0])){ pmap, va, eva };
}

static int push_key(struct run *r, uint32_t key)
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
	struct pmap *pm = GV(&r->m, struct pmap, r->pmap_gva[pmap]);
	char flags[96], name[80];
	struct walk w;

	if (pm == NULL)
		return failf(r, OUT_FAIL, "violation", "MODEL", "pmap %s: struct pmap at 0x%08x is unreadable",
		    r->s->pmap_names[pmap], r->pmap_gva[pmap]);
	if (gv_walk(&r->m, pm->pm_pdir_pa, va, &w) == WALK_BAD_TABLE)
		return failf(r, OUT_FAIL, "violation", "MODEL", "pmap %s va 0x%08x: PDE 0x%08x points outside RAM",
		    r->s->pmap_names[pmap], va, w.pde);
	if (w.status != WALK_MAPPED) {
		if (e == NULL)
			return 0;
		if (reclaim_ok && e->managed && !e->wired && pmap != SCN_KERNEL) {
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

static void collect_key(const struct mentry *e, void *arg)
{
	struct run *r = arg;

	push_key(r, e->vpn);
}

/* Guest PTEs valid in [va, eva) of pmap that the model does not have. */
static int model_check_guest_side(struct run *r, int pmap, uint32_t va, uint32_t eva)
{
	struct pmap *pm = GV(&r->m, struct pmap, r->pmap_gva[pmap]);

	for (uint64_t pd = trunc_4mpage(va); pd < eva; pd += NBPDR) {
		uint32_t pde = phys_read32(&r->m.pm, (pm->pm_pdir_pa & PG_FRAME) + PDX(pd) * 4, NULL);
		uint32_t *pt = (pde & PG_V) ? phys_ptr(&r->m.pm, pde & PG_FRAME, PAGE_SIZE) : NULL;

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
static int model_check_all(struct run *r, int reclaim_ok)
{
	for (int p = 0; p < r->s->npmaps; p++) {
		uint32_t va = p == SCN_KERNEL ? r->gi->gi_kva_free : 0;
		uint32_t eva = p == SCN_KERNEL ? gv_u32(&r->m, r->gi->gi_kernel_vm_end) : KERNBASE;

		if (va < eva && model_check_range(r, p, va, eva, reclaim_ok) < 0)
			return -1;
	}
	return 0;
}

/*
 * Without per-step checks, the model must still learn which mappings a
 * reclaim took (so that destroy, free and later checks are judged right):
 * drop every unwired managed user mapping the guest no longer has.
 */
static void model_forget_reclaimed(struct run *r)
{
	for (int p = 1; p < r->s->npmaps; p++) {
		struct pmap *pm = r->pmap_gva[p] ? GV(&r->m, struct pmap, r->pmap_gva[p]) : NULL;

		r->nkeys = 0;
		if (pm != NULL)
			model_foreach(&r->model, p, 0, KERNBASE, collect_key, r);
		for (uint32_t i = 0; i < r->nkeys; i++) {
			uint32_t va = r->keys[i] << PAGE_SHIFT;
			const struct mentry *e = model_get(&r->model, p, va);
			struct walk w;

			if (gv_walk(&r->m, pm->pm_pdir_pa, va, &w) != WALK_MAPPED && e->managed && !e->wired)
				model_del(&r->model, p, va);
		}
	}
	r->nkeys = 0;
}

/* The MODEL check after a step: what it touched, or everything after a reclaim. */
static int model_check_step(struct run *r)
{
	int reclaimed = r->stats->pv_reclaimed != r->reclaimed0;

	if (scenario_ignores(r->s, "MODEL"))
		return 0;
	if (reclaimed || r->o->full_checks)
		return model_check_all(r, reclaimed);
	for (int i = 0; i < r->ntouched; i++)
		if (model_check_range(r, r->touched[i].pmap, r->touched[i].va, r->touched[i].eva, 0) < 0)
			return -1;
	for (uint32_t i = 0; i < r->nkeys; i++)	/* unmap-all: the page's old mappings */
		if (model_check_va(r, r->keys[i] >> 20, (r->keys[i] & 0xfffff) << PAGE_SHIFT, 0) < 0)
			return -1;
	return 0;
}

/* A pmap the step may use: created and not destroyed. */
static int live_pmap(struct run *r, int pmap)
{
	if (r->pmap_gva[pmap] != 0)
		return 0;
	return failf(r, OUT_FAIL, "misuse", NULL, "pmap %s is not alive (destroyed?)", r->s->pmap_names[pmap]);
}

/* A page the step may map: allocated and not freed. */
static int live_page(struct run *r, int32_t page)
{
	char name[80];

	if (r->page_gva[page] != 0 && !r->page_freed[page])
		return 0;
	return failf(r, OUT_FAIL, "misuse", NULL, "page %s has been freed", page_name(r, page, name, sizeof(name)));
}

/* Kernel scenario addresses must be above the guest's own KVA. */
static int scenario_kva(struct run *r, uint32_t va)
{
	if (va >= r->gi->gi_kva_free)
		return 0;
	return failf(r, OUT_FAIL, "misuse", NULL,
	    "kernel address 0x%08x is below the scenario KVA area (0x%08x and up)", va, r->gi->gi_kva_free);
}

/* pmap NAME */
static int op_pmap(struct run *r, const struct step *st)
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
static int op_page(struct run *r, const struct step *st)
{
	for (uint32_t i = 0; i < ref_count(r, &st->page); i++) {
		int32_t p = flat_page(r, &st->page, i);
		struct vm_page *vp;

		if (gcall(r, r->fn.page_alloc, &r->page_gva[p], 0) < 0)
			return -1;
		if (r->page_gva[p] == 0 || (vp = GV(&r->m, struct vm_page, r->page_gva[p])) == NULL)
			return failf(r, OUT_FAIL, "shortage", NULL, "out of physical pages after %u of %u",
			    i, ref_count(r, &st->page));
		r->page_pa[p] = vp->phys_addr;
	}
	return 0;
}

/* map PMAP VA PAGE [PROT] [wired] [shortage] */
static int op_map(struct run *r, const struct step *st)
{
	int want_shortage = (st->flag & 2) != 0, wired = st->flag & 1;

	if (live_pmap(r, st->pmap) < 0 || (st->pmap == SCN_KERNEL && scenario_kva(r, st->va) < 0))
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
		if (model_set(&r->model, st->pmap, va, p, (st->prot & SCN_PROT_W) != 0, wired, 1) < 0)
			return failf(r, OUT_FAIL, "error", NULL, "out of memory");
	}
	touch_range(r, st->pmap, st->va, st->eva);
	return 0;
}

/* unmap PMAP RANGE */
static int op_unmap(struct run *r, const struct step *st)
{
	if ((st->pmap == SCN_KERNEL && scenario_kva(r, st->va) < 0) || live_pmap(r, st->pmap) < 0 ||
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
	if ((st->pmap == SCN_KERNEL && scenario_kva(r, st->va) < 0) || live_pmap(r, st->pmap) < 0 ||
	    gcall(r, r->fn.protect, NULL, 4, r->pmap_gva[st->pmap], st->va, st->eva, st->prot) < 0)
		return -1;
	r->nkeys = 0;
	if (!(st->prot & SCN_PROT_W))
		model_foreach(&r->model, st->pmap, st->va, st->eva, collect_key, r);
	for (uint32_t i = 0; i < r->nkeys; i++) {
		const struct mentry *e = model_get(&r->model, st->pmap, r->keys[i] << PAGE_SHIFT);

		model_set(&r->model, st->pmap, r->keys[i] << PAGE_SHIFT, e->page, 0, e->wired, e->managed);
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

	if (scenario_kva(r, st->va) < 0 || (p >= 0 && live_page(r, p) < 0))
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

/* clear-modify PAGE */
static int op_clear_modify(struct run *r, const struct step *st)
{
	for (uint32_t i = 0; i < ref_count(r, &st->page); i++) {
		int32_t p = flat_page(r, &st->page, i);

		if (live_page(r, p) < 0 || gcall(r, r->fn.clear_modify, NULL, 1, r->page_gva[p]) < 0)
			return -1;
	}
	return 0;
}

/*
 * touch PMAP VA r|w [faults]: one load or store through the MMU with the
 * pmap active. A page fault at rig_touch_access is an outcome; st->n says
 * whether one is expected. (flag bit 1: store; bit 2: from random, where a
 * disagreement is the model's business.)
 */
static int op_touch(struct run *r, const struct step *st)
{
	int write = st->flag & 1, faulted;
	uint32_t v;
	enum stop_kind k;

	if (live_pmap(r, st->pmap) < 0 || (st->pmap == SCN_KERNEL && scenario_kva(r, st->va) < 0))
		return -1;
	k = guest_call(&r->m, r->fn.touch, 3, (uint32_t[]){ r->pmap_gva[st->pmap], st->va, write }, &v);
	faulted = k == STOP_FAULT && r->m.stop.vector == 14 && r->m.stop.eip >= r->fn.touch_access &&
	    r->m.stop.eip < r->fn.touch_access + 32;
	if (k != STOP_RETURN && !faulted)
		return gcall(r, r->fn.touch, NULL, 0);	/* report the crash */
	r->active = st->pmap;
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

/* destroy PMAP: only an empty one. */
static int op_destroy(struct run *r, const struct step *st)
{
	uint32_t n = model_count_pmap(&r->model, st->pmap);

	if (live_pmap(r, st->pmap) < 0)
		return -1;
	if (n > 0)
		return failf(r, OUT_FAIL, "misuse", NULL, "destroying pmap %s, which still has %u mapping%s",
		    r->s->pmap_names[st->pmap], n, n == 1 ? "" : "s");
	if (gcall(r, r->fn.pmap_destroy, NULL, 1, r->pmap_gva[st->pmap]) < 0)
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
			    "page %s has no mapping in the model, but the guest refuses to free it (pv_count %u)",
			    page_name(r, p, name, sizeof(name)), GV(&r->m, struct vm_page, r->page_gva[p])->pv_count);
		r->page_freed[p] = 1;
	}
	return 0;
}

/* fail alloc after N | fail alloc off: the guest's fault-injection knob. */
static int op_fail_alloc(struct run *r, const struct step *st)
{
	r->gi->gi_alloc_fail_after = st->flag ? (uint32_t)st->n : ~0u;
	return 0;
}

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
static int do_expect(struct run *r, const struct step *st)
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

/* splitmix64: the random statement's generator, the same on every machine. */
static uint64_t rng_next(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The objects of a random statement: pmaps rand0.. and pages randpg[]. */
struct random_ctx {
	int pmaps[32];
	int npmaps;
	int32_t first_page;
	uint32_t npages, span;	/* span: VA pages per pmap */
	uint64_t rng;
};

/* Create random's pmaps and pages the first time they are used. */
static int random_setup(struct run *r, const struct step *st, struct random_ctx *c)
{
	int a = scenario_find_array(r->s, "randpg");

	c->npmaps = (int)st->npmaps;
	c->npages = st->npages;
	c->first_page = r->s->arrays[a].first;
	c->span = st->npages * 4 < 64 ? 64 : st->npages * 4;
	c->rng = st->n;
	for (int i = 0; i < c->npmaps; i++) {
		char name[16];
		struct step ps = { .kind = ST_PMAP };

		snprintf(name, sizeof(name), "rand%d", i);
		c->pmaps[i] = ps.pmap = scenario_find_pmap(r->s, name);
		if (r->pmap_gva[ps.pmap] == 0 && op_pmap(r, &ps) < 0)
			return -1;
	}
	if (r->page_gva[c->first_page] == 0) {
		struct step pg = { .kind = ST_PAGE, .page = { a, -1 } };

		return op_page(r, &pg);
	}
	return 0;
}

/* A range of 1..16 pages inside a random pmap's span. */
static void random_range(struct random_ctx *c, struct step *op)
{
	uint32_t len = 1 + (uint32_t)(rng_next(&c->rng) % 16);
	uint32_t start = (uint32_t)(rng_next(&c->rng) % c->span);

	op->va = 0x10000000u + start * PAGE_SIZE;
	op->eva = op->va + len * PAGE_SIZE;
}

/* A random load or store; the model says whether it must fault. */
static void random_touch(struct run *r, struct random_ctx *c, struct step *op)
{
	const struct mentry *e = model_get(&r->model, op->pmap, op->va);

	op->kind = ST_TOUCH;
	op->flag = (int)(rng_next(&c->rng) & 1) | 2;
	op->n = e == NULL || ((op->flag & 1) && !e->writable);
}

/*
 * Pick one random operation into op (and its text into r->synth). The mix:
 * map 40%, unmap 20%, protect 10%, unmap-all 5%, touch 20%, activate 5%
 * (docs/scenarios.md).
 */
static void random_pick(struct run *r, struct random_ctx *c, struct step *op)
{
	uint32_t roll = (uint32_t)(rng_next(&c->rng) % 100);

	op->pmap = c->pmaps[rng_next(&c->rng) % c->npmaps];
	op->page = (struct pageref){ scenario_find_array(r->s, "randpg"), (int)(rng_next(&c->rng) % c->npages) };
	op->va = 0x10000000u + (uint32_t)(rng_next(&c->rng) % c->span) * PAGE_SIZE;
	if (roll < 40) {
		op->kind = ST_MAP;
		op->prot = rng_next(&c->rng) % 4 ? SCN_PROT_R | SCN_PROT_W : SCN_PROT_R;
		op->flag = (rng_next(&c->rng) % 16 == 0) | 4;	/* wired 1/16; a shortage is an outcome */
		op->eva = op->va + PAGE_SIZE;
		return;
	}
	if (roll < 70) {
		op->kind = roll < 60 ? ST_UNMAP : ST_PROTECT;
		op->prot = rng_next(&c->rng) % 4 ? SCN_PROT_R : SCN_PROT_R | SCN_PROT_W;
		random_range(c, op);
	} else if (roll < 75) {
		op->kind = ST_UNMAP_ALL;
	} else if (roll < 95) {
		random_touch(r, c, op);
	} else {
		op->kind = ST_ACTIVATE;
	}
}

/* The text of a random operation, formatted only when someone reads it. */
static void random_text(struct run *r, const struct step *op, char *buf, size_t len)
{
	const char *pm = r->s->pmap_names[op->pmap];
	char name[80];

	page_name(r, flat_page(r, &op->page, 0), name, sizeof(name));
	switch (op->kind) {
	case ST_MAP:
		snprintf(buf, len, "random: map %s 0x%08x %s %s%s", pm, op->va, name,
		    op->prot & SCN_PROT_W ? "rw" : "r", op->flag & 1 ? " wired" : "");
		break;
	case ST_UNMAP: case ST_PROTECT:
		snprintf(buf, len, "random: %s %s 0x%08x 0x%08x%s", op->kind == ST_UNMAP ? "unmap" : "protect", pm,
		    op->va, op->eva, op->kind == ST_UNMAP ? "" : op->prot & SCN_PROT_W ? " rw" : " r");
		break;
	case ST_UNMAP_ALL:
		snprintf(buf, len, "random: unmap-all %s", name);
		break;
	case ST_TOUCH:
		snprintf(buf, len, "random: touch %s 0x%08x %s%s", pm, op->va, op->flag & 1 ? "w" : "r",
		    op->n ? " faults" : "");
		break;
	default:
		snprintf(buf, len, "random: activate %s", pm);
	}
}

/* Show progress on a terminal, at most every quarter second. */
static void progress(struct run *r)
{
	double ms;

	if (!r->o->progress || (r->ops & 1023) != 0 || elapsed_ms(&r->last_progress) < 250)
		return;
	clock_gettime(CLOCK_MONOTONIC, &r->last_progress);
	ms = elapsed_ms(&r->t0);
	fprintf(stderr, "\r%s: %llu/%llu steps, %.0f steps/s   ", r->s->path, (unsigned long long)r->ops,
	    (unsigned long long)r->s->total_ops, ms > 0 ? r->ops * 1000.0 / ms : 0.0);
}

/* Report a violation, with the write that caused it when there is one. */
static int report_violation(struct run *r, const struct violation *v)
{
	char sym[128], insn[96], flags[128];
	uint8_t *code;

	if (!v->has_cause)
		return failf(r, OUT_FAIL, "violation", v->id, "%s", v->detail);
	code = machine_kva_ptr(&r->m, v->cause.eip, 16);
	if (code == NULL || disasm_one(r->m.dis, code, 16, v->cause.eip, insn, sizeof(insn)) == 0)
		snprintf(insn, sizeof(insn), "??");
	return failf(r, OUT_FAIL, "violation", v->id, "%s\n  caused by event #%llu: %s: %s: %s va=0x%08x pa=0x%08x: "
	    "0x%08x -> 0x%08x %s", v->detail, (unsigned long long)v->cause.seq,
	    elf_addr_name(&r->m.elf, v->cause.eip, sym, sizeof(sym)), insn,
	    v->cause.kind == EV_PDE_WRITE ? "PDE" : "PTE", v->cause.va, v->cause.pa, v->cause.old, v->cause.new,
	    pte_flags_diff(v->cause.old, v->cause.new, flags, sizeof(flags)));
}

/* The invariant checker after a step (incremental, or full if asked). */
static int invariants_step(struct run *r)
{
	struct violation v;

	if (!r->checking)
		return 0;
	if (r->o->full_checks ? checker_full(&r->chk, &v) == 0 && checker_tlb(&r->chk, &v) == 0 :
	    checker_step(&r->chk, &v) == 0)
		return 0;
	return report_violation(r, &v);
}

/* TLB-STALE alone, for cadences that check the rest later. */
static int tlb_step(struct run *r)
{
	struct violation v;

	return checker_tlb(&r->chk, &v) == 0 ? 0 : report_violation(r, &v);
}

/* Checks after an operation step, at the file's cadence. */
static int after_op(struct run *r)
{
	int rc = 0;

	r->ops++;
	progress(r);
	if (r->o->after_step != NULL)
		r->o->after_step(r->o->after_ctx, &r->m, r->step ? r->step->line : 0);
	if (r->o->kvamap != NULL)
		kvamap_sample(r->o->kvamap, &r->m, r->ops);
	if (r->s->cadence == CHECK_EVERY)
		rc = model_check_step(r);
	else if (r->stats->pv_reclaimed != r->reclaimed0)
		model_forget_reclaimed(r);
	if (rc == 0 && r->s->cadence == CHECK_EVERY)
		rc = invariants_step(r);
	else if (rc == 0 && r->checking)
		rc = tlb_step(r);	/* judged from the step's own events: it cannot wait */
	r->ntouched = 0;
	r->nkeys = 0;
	r->reclaimed0 = r->stats->pv_reclaimed;
	return rc;
}

/* Full checks (the `check` statement and the end of the file). */
static int full_check(struct run *r)
{
	int reclaimed = r->stats->pv_reclaimed != r->reclaimed0;

	struct violation v;

	r->reclaimed0 = r->stats->pv_reclaimed;
	if (!scenario_ignores(r->s, "MODEL") && model_check_all(r, reclaimed) < 0)
		return -1;
	if (r->checking && checker_full(&r->chk, &v) < 0)
		return report_violation(r, &v);
	return 0;
}

static int exec_steps(struct run *r, const struct step *v, int n);
static int exec_op(struct run *r, const struct step *st);

/* Announce a step on the event stream (its text: the statement or r->synth). */
static void step_begin(struct run *r, const struct step *st)
{
	struct event e = { .kind = EV_STEP_BEGIN, .line = r->step->line };

	if (!r->watching)
		return;
	if (r->checking)
		checker_begin_step(&r->chk);
	r->ev.line = r->step->line;
	/* Events carry the step's text; format a random one only for a trace. */
	r->ev.text = e.text = r->rop == NULL ? st->text : r->o->trace ? step_text(r) : "random";
	events_emit(&r->ev, &e);
}

/* Close a step: reconcile the watched tables, announce the end. */
static void step_end(struct run *r)
{
	struct event e = { .kind = EV_STEP_END, .line = r->ev.line, .text = r->ev.text };

	if (!r->watching)
		return;
	watch_sync(&r->w);
	events_emit(&r->ev, &e);
	r->ev.line = 0;
	r->ev.text = NULL;
}

/* One operation as a step: begin, execute, end, then the checks. */
static int run_op(struct run *r, const struct step *op)
{
	int rc;

	step_begin(r, op);
	rc = exec_op(r, op);
	step_end(r);
	return rc < 0 ? -1 : after_op(r);
}

/* random seed=S ops=N ...: N operations, each a step. */
static int exec_random(struct run *r, const struct step *st)
{
	struct random_ctx c;

	if (random_setup(r, st, &c) < 0)
		return -1;
	for (uint32_t i = 0; i < st->ops; i++) {
		struct step op = { 0 };

		random_pick(r, &c, &op);
		r->rop = &op;
		r->synth[0] = '\0';
		if (run_op(r, &op) < 0) {
			step_text(r);	/* keep the text: op goes out of scope */
			r->rop = NULL;
			return -1;
		}
	}
	r->rop = NULL;
	r->synth[0] = '\0';
	return 0;
}

/* One operation statement. */
static int exec_op(struct run *r, const struct step *st)
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
	default: return failf(r, OUT_FAIL, "error", NULL, "internal: step kind %d", st->kind);
	}
}

/* One statement of any kind. */
static int exec_step(struct run *r, const struct step *st)
{
	r->step = st;
	switch (st->kind) {
	case ST_REPEAT:
		for (uint64_t i = 0; i < st->n; i++)
			if (exec_steps(r, st->body, st->nbody) < 0)
				return -1;
		return 0;
	case ST_RANDOM:
		return exec_random(r, st);
	case ST_CHECK:
		r->ops++;
		return full_check(r);
	default:
		if (st->kind >= ST_EXPECT_MAPPED) {
			int rc;

			r->ops++;
			step_begin(r, st);
			rc = do_expect(r, st);
			step_end(r);
			return rc;
		}
		return run_op(r, st);
	}
}

static int exec_steps(struct run *r, const struct step *v, int n)
{
	for (int i = 0; i < n; i++)
		if (exec_step(r, &v[i]) < 0)
			return -1;
	return 0;
}

/* Find every guest entry point the runner calls. */
static int resolve(struct run *r)
{
	static const char *names[] = { "rig_enter", "pmap_remove", "pmap_protect", "pmap_remove_all",
		"rig_kenter", "pmap_kremove", "pmap_clear_modify", "pmap_is_modified", "pmap_is_referenced",
		"pmap_activate", "rig_touch", "rig_touch_access", "rig_pmap_create", "rig_pmap_destroy",
		"rig_page_alloc", "rig_page_free" };
	uint32_t *slot = &r->fn.enter;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((slot[i] = guest_symbol(&r->m, names[i])) == 0)
			return failf(r, OUT_CRASH, "boot", NULL, "the guest has no function %s", names[i]);
	return 0;
}

/* The scenario name of the pmap whose directory is at pd (for traces). */
static const char *pd_name(void *ctx, uint32_t pd)
{
	struct run *r = ctx;
	static char buf[32];

	for (int p = 0; p < r->s->npmaps; p++) {
		struct pmap *pm = r->pmap_gva[p] ? GV(&r->m, struct pmap, r->pmap_gva[p]) : NULL;

		if (pm != NULL && pm->pm_pdir_pa == pd)
			return r->s->pmap_names[p];
	}
	if (r->creating >= 0)	/* a directory being built by pmap_pinit */
		return r->s->pmap_names[r->creating];
	snprintf(buf, sizeof(buf), "pd@0x%08x", pd);
	return buf;
}

/* The checker consults the file's `ignore` statements. */
static int ignored(void *ctx, const char *id)
{
	return scenario_ignores(ctx, id);
}

/* Watch the machine; check invariants from the events; trace them if asked. */
static int start_watching(struct run *r)
{
	char err[256];

	if (watch_attach(&r->w, &r->m, &r->ev, err, sizeof(err)) < 0)
		return failf(r, OUT_CRASH, "boot", NULL, "%s", err);
	r->watching = 1;
	if (r->s->cadence != CHECK_OFF && checker_init(&r->chk, &r->m) == 0) {
		r->checking = 1;
		for (int i = 0; invariant_catalog[i].id != NULL; i++)
			r->chk.ignore_mask |= (uint32_t)scenario_ignores(r->s, invariant_catalog[i].id) << i;
		events_subscribe(&r->ev, checker_event, &r->chk);
		if (witness_attach(&r->wit, &r->m) < 0)
			return failf(r, OUT_CRASH, "boot", NULL, "cannot hook the guest's lock functions");
		r->wit.ignored = ignored;
		r->wit.ctx = (void *)r->s;
	}
	if (r->o->trace != NULL) {
		struct trace_names names = { pd_name, r };

		events_subscribe(&r->ev, trace_event, r->o->trace);
		trace_start(r->o->trace, &r->m, &names);
	}
	return 0;
}

static void count_insn(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	(void)uc, (void)address, (void)size;
	(*(uint64_t *)user)++;
}

/* A code hook over the guest's text that counts instructions (benchmarks). */
static void count_instructions(struct run *r)
{
	for (int i = 0; i < r->m.elf.nseg; i++) {
		const struct elf_segment *sg = &r->m.elf.seg[i];

		if (!(sg->flags & 1))	/* PF_X */
			continue;
		uc_hook_add(r->m.uc, &r->insn_hook, UC_HOOK_CODE, (void *)count_insn, &r->insns, (uint64_t)sg->vaddr,
		    (uint64_t)sg->vaddr + sg->memsz - 1);
		uc_ctl_remove_cache(r->m.uc, sg->vaddr, (uint64_t)sg->vaddr + sg->memsz);
	}
}

/* Boot the file's guest and set up the runtime state. */
static int start(struct run *r)
{
	char path[512], err[512];
	struct machine_config cfg = { cli_guest_path(r->s->policy, path, sizeof(path)), r->s->memory,
				      r->s->pv_chunks, r->o->timeout_ms };
	uint32_t n = r->s->npages_total ? r->s->npages_total : 1;

	if (machine_open(&r->m, &cfg, err, sizeof(err)) < 0)
		return failf(r, OUT_CRASH, "boot", NULL, "%s", err);
	r->gi = machine_info(&r->m);
	r->stats = GV(&r->m, struct pv_stats, r->gi->gi_pv_stats);
	r->pmap_gva[SCN_KERNEL] = r->gi->gi_kernel_pmap;
	r->page_gva = calloc(n, sizeof(uint32_t));
	r->page_pa = calloc(n, sizeof(uint32_t));
	r->page_freed = calloc(n, 1);
	if (r->page_gva == NULL || r->page_pa == NULL || r->page_freed == NULL ||
	    model_init(&r->model, r->s->npages_total) < 0)
		return failf(r, OUT_FAIL, "error", NULL, "out of memory");
	if (resolve(r) < 0)
		return -1;
	if (r->o->count_insns)
		count_instructions(r);
	return r->o->watch || r->o->trace ? start_watching(r) : 0;
}

/* An expected failure passes only when exactly it happened. */
static void settle_expected(const struct scenario *s, struct file_result *res)
{
	int matched;

	if (s->expect_violation == NULL && s->expect_panic == NULL)
		return;
	if (s->expect_violation)
		snprintf(res->expected, sizeof(res->expected), "violation %s", s->expect_violation);
	else
		snprintf(res->expected, sizeof(res->expected), "panic \"%.50s\"", s->expect_panic);
	matched = s->expect_violation ?
	    res->outcome == OUT_FAIL && !strcmp(res->kind, "violation") && !strcmp(res->id, s->expect_violation) :
	    res->outcome == OUT_CRASH && !strcmp(res->kind, "panic") && strstr(res->message, s->expect_panic);
	if (matched) {
		res->outcome = OUT_PASS;
		return;
	}
	if (res->outcome == OUT_PASS) {
		res->outcome = OUT_FAIL;
		res->line = s->expect_line;
		snprintf(res->kind, sizeof(res->kind), "expected-failure");
		snprintf(res->text, sizeof(res->text), "expect %s", res->expected);
		snprintf(res->message, sizeof(res->message), "the file ran to the end without the expected %s",
		    res->expected);
	}
}

enum outcome run_file(const struct scenario *s, const struct run_options *o, struct file_result *res)
{
	struct run r = { .s = s, .o = o, .res = res, .creating = -1 };

	memset(res, 0, sizeof(*res));
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	r.last_progress = r.t0;
	if (start(&r) == 0) {
		struct timespec t1;
		int rc;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		rc = exec_steps(&r, s->steps, s->nsteps);
		res->run_ms = elapsed_ms(&t1);
		if (rc == 0 && s->cadence != CHECK_OFF) {
			r.step = NULL;
			snprintf(r.synth, sizeof(r.synth), "(end of file: full check)");
			full_check(&r);
		}
	}
	res->insns = r.insns;
	if (o->progress)
		fprintf(stderr, "\r\033[K");
	res->ops = r.ops;
	res->ms = elapsed_ms(&r.t0);
	if (r.stats != NULL)
		res->pv = *r.stats;
	if (o->kvamap != NULL && r.stats != NULL)
		kvamap_sample(o->kvamap, &r.m, 0);	/* the final state */
	settle_expected(s, res);
	model_free(&r.model);
	free(r.page_gva);
	free(r.page_pa);
	free(r.page_freed);
	free(r.keys);
	if (r.checking) {
		witness_detach(&r.wit);
		checker_free(&r.chk);
	}
	if (r.watching)
		watch_detach(&r.w);
	if (r.m.uc != NULL)
		machine_close(&r.m);
	return res->outcome;
}
