/*
 * invstep.c - the per-step check. The watch reports every store a step
 * makes into page directories, page tables, pv chunk pages and vm_page
 * records; the checker applies each rule only to what was written, plus
 * shadow counts (mappings per page, pm_stats per pmap, entries per chunk)
 * that it keeps up to date from the same events. The cost follows the size
 * of the step, not of the state. A full check re-synchronises everything.
 */
#include <stdlib.h>
#include <string.h>

#include "gview.h"
#include "invcheck.h"

int checker_init(struct checker *c, struct machine *m)
{
	memset(c, 0, sizeof(*c));
	c->m = m;
	c->gi = machine_info(m);
	c->npages = (uint32_t)(m->pm.size >> PAGE_SHIFT);
	c->shadow.mapcount = calloc(c->npages, sizeof(uint16_t));
	return c->shadow.mapcount ? 0 : -1;
}

void checker_free(struct checker *c)
{
	free(c->shadow.mapcount);
	if (c->shadow.chunk_inuse != NULL)
		pvset_free(c->shadow.chunk_inuse);
	free(c->shadow.chunk_inuse);
	free(c->writes);
	free(c->dirty_chunks);
	free(c->dirty_pages);
	memset(c, 0, sizeof(*c));
}

void checker_begin_step(struct checker *c)
{
	c->nwrites = c->ndirty_chunks = c->ndirty_pages = c->ad.ntouched = c->nstacks = 0;
	c->step_cr3 = machine_reg(c->m, UC_X86_REG_CR3) & PG_FRAME;
}

/* Make room for one more of n elements of size sz; 0, or -1 if memory is short. */
static int grow(void **v, int n, int *cap, size_t sz)
{
	void *nv;

	if (n < *cap)
		return 0;
	if ((nv = realloc(*v, (size_t)(*cap ? *cap * 2 : 64) * sz)) == NULL)
		return -1;
	*v = nv;
	*cap = *cap ? *cap * 2 : 64;
	return 0;
}

/* The shadow counts of the directory pd (NULL if unknown). */
static struct chk_stats *shadow_stats(struct checker *c, uint32_t pd)
{
	for (int i = 0; i < c->shadow.nstats; i++)
		if (c->shadow.stats[i].pd == pd)
			return &c->shadow.stats[i];
	if (c->shadow.nstats == CHK_MAX_PMAPS)
		return NULL;
	c->shadow.stats[c->shadow.nstats] = (struct chk_stats){ pd, 0, 0 };
	return &c->shadow.stats[c->shadow.nstats++];
}

/* Keep mapcount and pm_stats shadows in step with one PTE write. */
static void shadow_pte(struct checker *c, const struct event *e)
{
	uint32_t o = e->old >> PAGE_SHIFT, n = e->new >> PAGE_SHIFT;
	int kernel = e->pd == EV_KERNEL_SPACE;
	struct chk_stats *st = shadow_stats(c, kernel ? c->pmaps[0].pd & PG_FRAME : e->pd);

	if ((e->old & PG_V) && o < c->npages && c->shadow.mapcount[o] > 0)
		c->shadow.mapcount[o]--;
	if ((e->new & PG_V) && n < c->npages && c->shadow.mapcount[n] < UINT16_MAX)
		c->shadow.mapcount[n]++;
	if (st == NULL || (kernel && e->va >= PTMAP_VA))
		return;
	if ((e->old & PG_V) && (!kernel || (e->old & PG_MANAGED)))
		st->resident--;
	if ((e->new & PG_V) && (!kernel || (e->new & PG_MANAGED)))
		st->resident++;
	st->wired += ((e->new & (PG_V | PG_W)) == (PG_V | PG_W)) - ((e->old & (PG_V | PG_W)) == (PG_V | PG_W));
}

/* Keep the free-page and pv_count sums in step with a store into a vm_page record. */
static void shadow_vmpage(struct checker *c, const struct event *e)
{
	uint32_t field = chk_vmpage_field(e);

	if (field == offsetof(struct vm_page, state))
		c->shadow.free_pages += (e->new == VPS_FREE) - (e->old == VPS_FREE);
	else if (field == offsetof(struct vm_page, pv_count))
		c->shadow.pv_counts += (int32_t)(e->new - e->old);
}

/* Note that entries of the chunk at va may have changed (a write at pa). */
static void dirty_chunk(struct checker *c, uint32_t va, uint32_t off)
{
	struct chk_dirty_chunk *d = NULL;
	int lo, hi;

	for (int i = c->ndirty_chunks - 1; i >= 0 && i >= c->ndirty_chunks - 4 && d == NULL; i--)
		if (c->dirty_chunks[i].va == va)
			d = &c->dirty_chunks[i];
	if (d == NULL) {
		if (grow((void **)&c->dirty_chunks, c->ndirty_chunks, &c->capdirty_chunks, sizeof(*d)) < 0) {
			c->shadow.valid = 0;	/* lost track: the next check is a full one */
			return;
		}
		d = &c->dirty_chunks[c->ndirty_chunks++];
		memset(d, 0, sizeof(*d));
		d->va = va;
	}
	if (off >= offsetof(struct pv_chunk, pc_pventry))
		lo = hi = (int)(off - offsetof(struct pv_chunk, pc_pventry)) / 12;
	else if (off >= offsetof(struct pv_chunk, pc_map) && off < offsetof(struct pv_chunk, pc_lru))
		lo = (int)((off - offsetof(struct pv_chunk, pc_map)) / 4) * 32, hi = lo + 31;
	else
		return;		/* list links and owner: chk_chunk looks at them anyway */
	for (int i = lo; i <= hi && i < _NPCPV; i++)
		d->mask[i / 32] |= 1u << (i % 32);
}

/*
 * A write that takes PG_A or PG_M out of a managed PTE may be the cause of
 * an A/D rule's violation: remember its callers now, while the guest's
 * frames are live (the report names the path, not just the store).
 */
static void remember_stack(struct checker *c, const struct event *e)
{
	uint32_t had = e->old & (PG_A | PG_M), kept = ((e->new ^ e->old) & PG_FRAME) ? 0 : e->new;
	struct chk_stack *s;

	if ((e->old & (PG_V | PG_MANAGED)) != (PG_V | PG_MANAGED) || (had & ~kept) == 0 ||
	    c->nstacks == CHK_MAX_STACKS)
		return;
	s = &c->stacks[c->nstacks++];
	s->seq = e->seq;
	s->n = machine_backtrace(c->m, machine_reg(c->m, UC_X86_REG_EBP), s->frames, RIG_MAX_FRAMES);
}

void checker_event(void *arg, const struct event *e)
{
	struct checker *c = arg;

	switch (e->kind) {
	case EV_PTE_WRITE:
		if (c->shadow.valid)
			shadow_pte(c, e);
		remember_stack(c, e);
		/* fall through */
	case EV_PDE_WRITE: case EV_INVLPG: case EV_CR_LOAD:
		if (grow((void **)&c->writes, c->nwrites, &c->capwrites, sizeof(*e)) < 0)
			c->shadow.valid = 0;
		else
			c->writes[c->nwrites++] = *e;
		break;
	case EV_PV_WRITE:
		dirty_chunk(c, e->va, e->pa & PAGE_MASK);
		break;
	case EV_VMPAGE_WRITE:
		shadow_vmpage(c, e);
		/* aflags stores are kept: they may be the cause of a lost A/D bit */
		if (chk_vmpage_field(e) == offsetof(struct vm_page, aflags) && e->old != e->new &&
		    grow((void **)&c->writes, c->nwrites, &c->capwrites, sizeof(*e)) == 0)
			c->writes[c->nwrites++] = *e;
		if (c->ndirty_pages == 0 || c->dirty_pages[c->ndirty_pages - 1] != e->va) {
			if (grow((void **)&c->dirty_pages, c->ndirty_pages, &c->capdirty_pages, sizeof(uint32_t)) < 0)
				c->shadow.valid = 0;
			else
				c->dirty_pages[c->ndirty_pages++] = e->va;
		}
		break;
	default:
		break;
	}
}

/* The PTE now at va in directory pd (0 if none). */
static uint32_t current_pte(struct checker *c, uint32_t pd, uint32_t va)
{
	struct walk w;

	gv_walk(c->m, pd, va, &w);
	return w.status == WALK_MAPPED || w.status == WALK_NO_PTE ? w.pte : 0;
}

/* The PTE for va in the space of the pmap whose struct is at pmap (0 if none). */
static uint32_t current_pte_of_pmap(struct checker *c, uint32_t pmap, uint32_t va, int *ok)
{
	struct pmap *pm = GV(c->m, struct pmap, pmap);

	*ok = pm != NULL;
	return pm ? current_pte(c, pm->pm_pdir_pa, va) : 0;
}

/* PV-MAPPING for a page that may have lost the mapping (pmap, va): no entry left for it. */
static int chk_page_lacks(struct checker *c, uint32_t pg, uint32_t pmap, uint32_t va, struct violation *v)
{
	struct vm_page *m = chk_page(c, pg);
	uint32_t e = m ? m->pv_list.tqh_first : 0;

	for (uint32_t n = 0; e != 0 && n <= m->pv_count; n++) {
		struct pv_entry *pv = GV(c->m, struct pv_entry, e);
		struct pv_chunk *pc = GV(c->m, struct pv_chunk, e & PG_FRAME);

		if (pv == NULL || pc == NULL)
			return vfail(v, "PV-MAPPING", "page 0x%08x: pv list reaches unreadable entry 0x%08x", pg << PAGE_SHIFT, e);
		if (pv->pv_va == va && pc->pc_pmap == pmap)
			return vfail(v, "PV-MAPPING", "page 0x%08x still lists pv entry 0x%08x for pmap 0x%08x va 0x%08x, "
			    "which no longer maps it", pg << PAGE_SHIFT, e, pmap, va);
		e = pv->pv_next.tqe_next;
	}
	return 0;
}

static int step_page_list(struct checker *c, uint32_t pg, struct violation *v);

/* The rules for one written PTE (its final value, and the page it used to map). */
static int step_pte(struct checker *c, const struct event *e, struct violation *v, uint32_t *last_pt)
{
	int kernel = e->pd == EV_KERNEL_SPACE, i = kernel ? 0 : chk_pmap_of_pd(c, e->pd);
	uint32_t pd = kernel ? c->pmaps[0].pd : e->pd, pte, pmap;

	if (i < 0)
		return 0;	/* a directory released during the step */
	pmap = c->pmaps[i].gva;
	pte = current_pte(c, pd, e->va);
	/* A page table is counted once per run of writes into it. */
	if (!kernel && !chk_off(c, INV_PT_COUNT) && *last_pt != (pd | PDX(e->va))) {
		*last_pt = pd | PDX(e->va);
		if (chk_pt_count(c, &c->pmaps[i], PDX(e->va), v) < 0)
			return -1;
	}
	if (chk_off(c, INV_PV_MAPPING))
		return 0;
	if ((pte & (PG_V | PG_MANAGED)) == (PG_V | PG_MANAGED) && chk_pte_has_pv(c, pmap, e->va, pte, v) < 0)
		return -1;
	if ((e->old & (PG_V | PG_MANAGED)) == (PG_V | PG_MANAGED) &&
	    ((pte & (PG_V | PG_MANAGED)) != (PG_V | PG_MANAGED) || (pte ^ e->old) & PG_FRAME)) {
		if (chk_page_lacks(c, e->old >> PAGE_SHIFT, pmap, e->va, v) < 0)
			return -1;
		return step_page_list(c, e->old >> PAGE_SHIFT, v);	/* the list it left, whole */
	}
	return 0;
}

/* The rules for one written PDE. */
static int step_pde(struct checker *c, const struct event *e, struct violation *v)
{
	int i = chk_pmap_of_pd(c, e->pd);
	uint32_t pdx = PDX(e->va);

	if (i < 0)
		return 0;
	if (!chk_off(c, INV_PD_SELFMAP) && chk_pd_selfmap(c, &c->pmaps[i], v) < 0)
		return -1;
	if (pdx >= KPTDI && pdx < PTDPTDI) {
		for (int k = 1; k < c->npmaps && !chk_off(c, INV_PD_KERNEL); k++)
			if (chk_pd_kernel(c, &c->pmaps[k], pdx, v) < 0)
				return -1;
		return 0;
	}
	if (pdx < KPTDI && i > 0 && !chk_off(c, INV_PT_COUNT))
		return chk_pt_count(c, &c->pmaps[i], pdx, v);
	return 0;
}

/*
 * Is slot va still on a free list threaded through the slots' PTEs (the
 * ptelist policy: pv_vafree is the head, a free slot's PTE the next node)?
 * Looked at only when a slot becomes mapped, so the walk over the block's
 * PTEs is rare.
 */
static int slot_on_free_list(struct checker *c, uint32_t va)
{
	uint32_t base = c->gi->gi_pv_kva_base;

	if (c->gi->gi_pv_vafree == 0)
		return 0;
	if (gv_u32(c->m, c->gi->gi_pv_vafree) == va)
		return 1;
	for (uint32_t s = 0; s < c->gi->gi_pv_maxchunks; s++) {
		uint32_t sva = base + s * PAGE_SIZE, pde = c->pmaps[0].pde[PDX(sva)];
		const uint32_t *pt = (pde & (PG_V | PG_PS)) == PG_V ? phys_ptr(&c->m->pm, pde & PG_FRAME, PAGE_SIZE) : NULL;

		if (pt != NULL && pt[PTX(sva)] == va)	/* (va is page-aligned: PG_V is clear) */
			return 1;
	}
	return 0;
}

/* Is the chunk at va on pv_chunks or on any pmap's chunk list (bounded walks)? */
static int chunk_listed(struct checker *c, uint32_t va)
{
	struct pv_chunklist *lru = GV(c->m, struct pv_chunklist, c->gi->gi_pv_chunks);
	uint32_t pc = lru ? lru->tqh_first : 0;

	for (uint32_t n = 0; pc != 0 && n <= c->gi->gi_pv_maxchunks; n++) {
		if (pc == va)
			return 1;
		pc = gv_u32(c->m, pc + offsetof(struct pv_chunk, pc_lru));
	}
	for (int i = 0; i < c->npmaps; i++) {
		struct pmap *pm = GV(c->m, struct pmap, c->pmaps[i].gva);

		pc = pm ? pm->pm_pvchunk.tqh_first : 0;
		for (uint32_t n = 0; pc != 0 && n <= c->gi->gi_pv_maxchunks; n++) {
			if (pc == va)
				return 1;
			pc = gv_u32(c->m, pc + offsetof(struct pv_chunk, pc_list));
		}
	}
	return 0;
}

/*
 * PV-KVA for a chunk slot whose PTE was written (e): a chunk page, or a
 * free-list node; a page is never swapped for another in place; below
 * pv_nextindex (nofree). A slot that lost its page must not hold a chunk
 * that is still listed (PV-CHUNK-LISTS: the next walk of the list would
 * read an unmapped page).
 */
static int step_kva_slot(struct checker *c, const struct event *e, struct violation *v)
{
	uint32_t va = e->va, base = c->gi->gi_pv_kva_base, end = base + c->gi->gi_pv_maxchunks * PAGE_SIZE;
	uint32_t pte = current_pte(c, c->pmaps[0].pd, va);
	struct vm_page *m = (pte & PG_V) ? chk_page(c, pte >> PAGE_SHIFT) : NULL;

	if (va < base || va >= end)
		return 0;
	if (!(pte & PG_V) && (e->old & PG_V) && !chk_off(c, INV_PV_CHUNK_LISTS) && chunk_listed(c, va))
		return vfail(v, "PV-CHUNK-LISTS", "chunk 0x%08x lost its page (slot PTE 0x%08x -> 0x%08x) but is still on "
		    "pv_chunks or a pmap's chunk list", va, e->old, pte);
	if (chk_off(c, INV_PV_KVA))
		return 0;
	if ((e->old & e->new & PG_V) && ((e->old ^ e->new) & PG_FRAME))
		return vfail(v, "PV-KVA", "slot va 0x%08x: its PTE went from page 0x%08x to page 0x%08x without being "
		    "freed (the first page is lost)", va, e->old & PG_FRAME, e->new & PG_FRAME);
	if ((pte & PG_V) && c->gi->gi_pv_nextindex != 0 &&
	    (va - base) >> PAGE_SHIFT >= gv_u32(c->m, c->gi->gi_pv_nextindex))
		return vfail(v, "PV-KVA", "slot %u (va 0x%08x) is mapped but at or above pv_nextindex (%u): a slot is "
		    "handed out only by advancing pv_nextindex", (va - base) >> PAGE_SHIFT, va,
		    gv_u32(c->m, c->gi->gi_pv_nextindex));
	if ((pte & PG_V) && (m == NULL || m->state != VPS_PVCHUNK))
		return vfail(v, "PV-KVA", "slot va 0x%08x: PTE 0x%08x maps a page that is not a chunk page (state %u)",
		    va, pte, m ? m->state : 0);
	if (!(pte & PG_V) && pte != 0 && ((pte & PAGE_MASK) || pte < base || pte >= end))
		return vfail(v, "PV-KVA", "slot va 0x%08x: free-list PTE 0x%08x is not a slot of the block", va, pte);
	if ((pte & PG_V) && slot_on_free_list(c, va))
		return vfail(v, "PV-KVA", "slot va 0x%08x is mapped (PTE 0x%08x) but still on the free list "
		    "(pv_vafree or a free slot's PTE names it)", va, pte);
	return 0;
}

/*
 * PV-MAPPING from a written vm_page's side: its pv list holds in-use entries
 * (PV-CHUNK-BITMAP otherwise) of valid managed mappings of this page, and is
 * pv_count long.
 */
static int step_page_list(struct checker *c, uint32_t pg, struct violation *v)
{
	struct vm_page *m = chk_page(c, pg);
	uint32_t e = m ? m->pv_list.tqh_first : 0, n = 0;

	for (; e != 0 && n <= m->pv_count; n++) {
		struct pv_entry *pv = GV(c->m, struct pv_entry, e);
		struct pv_chunk *pc = GV(c->m, struct pv_chunk, e & PG_FRAME);
		int idx = (int)((e & PAGE_MASK) - offsetof(struct pv_chunk, pc_pventry)) / 12, ok;
		uint32_t pte;

		if (pv == NULL || pc == NULL || idx < 0 || idx >= _NPCPV)
			return vfail(v, "PV-MAPPING", "page 0x%08x: pv list reaches 0x%08x, not a pv entry", pg << PAGE_SHIFT, e);
		if (chk_is_free_bit(pc, idx) && !chk_off(c, INV_PV_CHUNK_BITMAP))
			return vfail(v, "PV-CHUNK-BITMAP", "page 0x%08x lists pv entry 0x%08x, whose bit in chunk 0x%08x "
			    "says free (pc_map[%d] = 0x%08x)", pg << PAGE_SHIFT, e, e & PG_FRAME, idx / 32, pc->pc_map[idx / 32]);
		pte = current_pte_of_pmap(c, pc->pc_pmap, pv->pv_va, &ok);
		if (!ok || (pte & (PG_V | PG_MANAGED)) != (PG_V | PG_MANAGED) || (pte >> PAGE_SHIFT) != pg)
			return vfail(v, "PV-MAPPING", "page 0x%08x lists pv entry 0x%08x for pmap 0x%08x va 0x%08x, whose "
			    "PTE 0x%08x is not a managed mapping of this page", pg << PAGE_SHIFT, e, pc->pc_pmap, pv->pv_va, pte);
		e = pv->pv_next.tqe_next;
	}
	if (m != NULL && n != m->pv_count)
		return vfail(v, "PV-MAPPING", "page 0x%08x: pv_count %u, but its list has %u%s entries", pg << PAGE_SHIFT,
		    m->pv_count, n, e ? " or more" : "");
	return 0;
}

/* Chunks written in this step: local rules, changed entries, and the global count. */
static int step_chunks(struct checker *c, struct violation *v)
{
	for (int k = 0; k < c->ndirty_chunks; k++) {
		struct chk_dirty_chunk *d = &c->dirty_chunks[k];
		struct pv_chunk *pc = GV(c->m, struct pv_chunk, d->va);
		int live = pc != NULL && pc->pc_pmap != 0, now = live ? chk_inuse(pc) : 0;
		struct pvkey *key = pvset_get(c->shadow.chunk_inuse, 0, d->va);

		c->shadow.entries += now - (key ? (int32_t)key->val : 0);
		if (key != NULL)
			key->val = (uint32_t)now;
		else
			pvset_put(c->shadow.chunk_inuse, 0, d->va, (uint32_t)now);
		if (!live && pc != NULL && !chk_off(c, INV_PV_CHUNK_LISTS) && chunk_listed(c, d->va))
			return vfail(v, "PV-CHUNK-LISTS", "chunk 0x%08x belongs to no pmap (pc_pmap 0: freed or parked) but "
			    "is still on pv_chunks or a pmap's chunk list", d->va);
		if (!live)
			continue;
		if (chk_chunk(c, d->va, v) < 0)
			return -1;
		for (int i = 0; i < _NPCPV && !chk_off(c, INV_PV_MAPPING); i++)
			if ((d->mask[i / 32] >> (i % 32) & 1) && !chk_is_free_bit(pc, i) && chk_pv_entry(c, d->va, i, v) < 0)
				return -1;
	}
	if (!chk_off(c, INV_PV_CHUNK_BITMAP) && c->shadow.entries != (int32_t)gv_u32(c->m, c->gi->gi_pv_entry_count))
		return vfail(v, "PV-CHUNK-BITMAP", "chunks have %d entries in use; pv_entry_count says %u",
		    c->shadow.entries, gv_u32(c->m, c->gi->gi_pv_entry_count));
	return 0;
}

/*
 * The global counts the step's vm_page stores must keep: every entry in use
 * is on exactly one page list (pv_count summed over pages = pv_entry_count),
 * and vm_free_count counts the pages in state VPS_FREE.
 */
static int step_counts(struct checker *c, struct violation *v)
{
	uint32_t entries = gv_u32(c->m, c->gi->gi_pv_entry_count), nfree = gv_u32(c->m, c->gi->gi_free_count_va);

	if (!chk_off(c, INV_PV_MAPPING) && c->shadow.pv_counts != (int32_t)entries)
		return vfail(v, "PV-MAPPING", "the pages' pv_count add up to %d pv entries; pv_entry_count says %u",
		    c->shadow.pv_counts, entries);
	if (!chk_off(c, INV_PAGE_STATE) && c->shadow.free_pages != (int32_t)nfree)
		return vfail(v, "PAGE-STATE", "%d pages are free, vm_free_count says %u", c->shadow.free_pages, nfree);
	return 0;
}

/* STATS: pm_stats of every pmap against the shadow counts. */
static int step_stats(struct checker *c, struct violation *v)
{
	for (int i = 0; i < c->npmaps && !chk_off(c, INV_STATS); i++) {
		struct pmap *pm = GV(c->m, struct pmap, c->pmaps[i].gva);
		struct chk_stats *st = shadow_stats(c, c->pmaps[i].pd & PG_FRAME);

		if (st != NULL && (pm->pm_stats.resident_count != st->resident || pm->pm_stats.wired_count != st->wired))
			return vfail(v, "STATS", "pmap 0x%08x: pm_stats says resident %u wired %u; its page tables hold "
			    "%u %s and %u wired", c->pmaps[i].gva, pm->pm_stats.resident_count, pm->pm_stats.wired_count,
			    st->resident, i ? "valid PTEs" : "managed mappings", st->wired);
	}
	return 0;
}

/* Directories of pmaps created in this step get the full directory rules. */
static int step_new_pmaps(struct checker *c, struct violation *v)
{
	for (int i = 1; i < c->npmaps; i++) {
		int known = 0;

		for (int k = 0; k < c->nknown && !known; k++)
			known = c->known[k] == c->pmaps[i].pd;
		if (known)
			continue;
		if (!chk_off(c, INV_PD_SELFMAP) && chk_pd_selfmap(c, &c->pmaps[i], v) < 0)
			return -1;
		for (uint32_t pdx = KPTDI; pdx < PTDPTDI && !chk_off(c, INV_PD_KERNEL); pdx++)
			if (chk_pd_kernel(c, &c->pmaps[i], pdx, v) < 0)
				return -1;
		shadow_stats(c, c->pmaps[i].pd & PG_FRAME);	/* starts at zero */
	}
	c->nknown = c->npmaps;
	for (int i = 0; i < c->npmaps; i++)
		c->known[i] = c->pmaps[i].pd;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The step's last PTE/PDE write to the entry at pa, or NULL. */
static const struct event *last_write_at(const struct checker *c, uint32_t pa)
{
	for (int i = c->nwrites - 1; i >= 0; i--)
		if ((c->writes[i].kind == EV_PTE_WRITE || c->writes[i].kind == EV_PDE_WRITE) && c->writes[i].pa == pa)
			return &c->writes[i];
	return NULL;
}

/*
 * TLB-STALE, from the MMU's TLB model: a translation the CPU still holds
 * when the step returns (none was dropped by an INVLPG of its page or a
 * CR3 load) whose PTE or PDE the step rewrote so that the tables now say
 * otherwise: gone, another frame, less permission, or an accessed or dirty
 * bit cleared that the CPU would not set again through the cached entry.
 * Exact: a translation the CPU never cached (its accessed bit was clear)
 * is not stale, and one it did cache is until it is dropped.
 */
int checker_tlb(struct checker *c, struct violation *v)
{
	const struct mmu *u = &c->m->mmu;
	uint32_t cr3 = machine_reg(c->m, UC_X86_REG_CR3), cr4 = machine_reg(c->m, UC_X86_REG_CR4), i = 0;
	const struct tlb_entry *e, *worst = NULL;
	const struct event *cause;
	const char *why = NULL, *r;
	uint32_t *written;
	size_t n = 0;
	struct walk now;

	if (chk_off(c, INV_TLB_STALE) || c->nwrites == 0 || (written = malloc(c->nwrites * sizeof(*written))) == NULL)
		return 0;
	for (int k = 0; k < c->nwrites; k++)	/* the entries the step wrote, sorted once */
		if (c->writes[k].kind == EV_PTE_WRITE || c->writes[k].kind == EV_PDE_WRITE)
			written[n++] = c->writes[k].pa;
	qsort(written, n, sizeof(*written), cmp_u32);
	while ((e = mmu_next(u, &i)) != NULL) {
		if (!bsearch(&e->pte_pa, written, n, sizeof(*written), cmp_u32) &&
		    !bsearch(&e->pde_pa, written, n, sizeof(*written), cmp_u32))
			continue;	/* the step did not touch its entries */
		if ((r = mmu_entry_stale(u, e, cr3, cr4, &now)) != NULL && (worst == NULL || e->vpage < worst->vpage))
			worst = e, why = r;
	}
	free(written);
	if (worst == NULL)
		return 0;
	if ((cause = last_write_at(c, worst->pte_pa)) == NULL)
		cause = last_write_at(c, worst->pde_pa);
	vfail(v, "TLB-STALE", "va 0x%08x: the CPU still caches its translation to frame 0x%05x (PTE 0x%08x when "
	    "cached), but %s (its %s is 0x%08x in the active address space, CR3 0x%08x) and no INVLPG of it or CR3 "
	    "reload followed before the step returned", worst->vpage << PAGE_SHIFT, worst->frame, worst->pte, why,
	    cause->kind == EV_PDE_WRITE ? "PDE" : "PTE", phys_read32(&c->m->pm, cause->pa, NULL), cr3 & PG_FRAME);
	v->cause = *cause;
	v->has_cause = 1;
	return -1;
}

int checker_step(struct checker *c, struct violation *v)
{
	/* A missing invalidation first: a stale translation can corrupt the rest. */
	if (checker_tlb(c, v) < 0)
		return -1;
	if (!c->shadow.valid)
		return checker_full(c, v);
	if (chk_load_pmaps(c, v) < 0 || step_new_pmaps(c, v) < 0)
		return -1;
	uint32_t last_pt = ~0u;		/* directory | PDE index last counted */

	for (int i = 0; i < c->nwrites; i++) {
		const struct event *e = &c->writes[i];
		int rc = e->kind == EV_PTE_WRITE ? step_pte(c, e, v, &last_pt) : e->kind == EV_PDE_WRITE ? step_pde(c, e, v) : 0;

		if (rc == 0 && e->kind == EV_PTE_WRITE && e->pd == EV_KERNEL_SPACE)
			rc = step_kva_slot(c, e, v);
		/* the page a PTE stopped mapping: e.g. a chunk page that nothing maps any more */
		if (rc == 0 && e->kind == EV_PTE_WRITE && (e->old & PG_V) && !chk_off(c, INV_PAGE_STATE) &&
		    (e->old >> PAGE_SHIFT) < c->gi->gi_vm_page_count)
			rc = chk_page_state(c, e->old >> PAGE_SHIFT, v);
		if (rc < 0) {
			v->cause = *e;
			v->has_cause = 1;
			return -1;
		}
	}
	if (step_chunks(c, v) < 0 || step_stats(c, v) < 0 || step_counts(c, v) < 0)
		return -1;
	for (int i = 0; i < c->ndirty_pages; i++) {
		if (!chk_off(c, INV_PAGE_STATE) && chk_page_state(c, c->dirty_pages[i], v) < 0)
			return -1;
		if (!chk_off(c, INV_PV_MAPPING) && step_page_list(c, c->dirty_pages[i], v) < 0)
			return -1;
	}
	return chk_ad_step(c, v);
}
