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
	c->ct = &m->ct;
	c->lay = &m->lay;
	c->npages = (uint32_t)(m->pm.size >> PAGE_SHIFT);
	c->pages_va = gv_u32(m, c->ct->page_array_ptr);
	c->nrecs = gv_u32(m, c->ct->page_count_ptr);
	if (c->ct->kva_slots_ptr != 0) {
		c->kva_base = gv_u32(m, c->ct->kva_base_ptr);
		c->kva_slots = gv_u32(m, c->ct->kva_slots_ptr);
	}
	/* every chunk page of RAM full of entries: more than any list can honestly hold */
	c->entry_bound = c->npages * c->ct->npcpv;
	c->shadow.mapcount = calloc(c->npages, sizeof(uint16_t));
	return c->shadow.mapcount ? 0 : -1;
}

struct chk_saved {
	struct chk_pmap pmaps[CHK_MAX_PMAPS];
	int npmaps;
	uint32_t known[CHK_MAX_PMAPS];
	int nknown;
	struct chk_shadow shadow;	/* its mapcount and chunk_inuse: copies owned here */
	uint32_t npages;
};

void checker_saved_free(void *arg)
{
	struct chk_saved *s = arg;

	if (s == NULL)
		return;
	free(s->shadow.mapcount);
	if (s->shadow.chunk_inuse != NULL)
		pvset_free(s->shadow.chunk_inuse);
	free(s->shadow.chunk_inuse);
	free(s);
}

/* dst: a copy of the set src; 0 or -1. */
static int pvset_copy(struct pvset **dst, const struct pvset *src)
{
	if ((*dst = malloc(sizeof(**dst))) == NULL)
		return -1;
	**dst = *src;
	if (((*dst)->v = malloc(src->cap * sizeof(*src->v))) == NULL) {
		free(*dst);
		*dst = NULL;
		return -1;
	}
	memcpy((*dst)->v, src->v, src->cap * sizeof(*src->v));
	return 0;
}

struct chk_saved *checker_save(const struct checker *c)
{
	struct chk_saved *s;

	if (!c->shadow.valid || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(s->pmaps, c->pmaps, sizeof(s->pmaps));
	s->npmaps = c->npmaps;
	memcpy(s->known, c->known, sizeof(s->known));
	s->nknown = c->nknown;
	s->shadow = c->shadow;
	s->npages = c->npages;
	s->shadow.chunk_inuse = NULL;
	if ((s->shadow.mapcount = malloc(c->npages * sizeof(uint16_t))) == NULL ||
	    pvset_copy(&s->shadow.chunk_inuse, c->shadow.chunk_inuse) < 0) {
		checker_saved_free(s);
		return NULL;
	}
	memcpy(s->shadow.mapcount, c->shadow.mapcount, c->npages * sizeof(uint16_t));
	return s;
}

int checker_load(struct checker *c, const struct chk_saved *s)
{
	uint16_t *mapcount = c->shadow.mapcount;
	struct pvset *inuse = NULL;

	if (s->npages != c->npages || pvset_copy(&inuse, s->shadow.chunk_inuse) < 0)
		return -1;
	if (c->shadow.chunk_inuse != NULL) {
		pvset_free(c->shadow.chunk_inuse);
		free(c->shadow.chunk_inuse);
	}
	memcpy(c->pmaps, s->pmaps, sizeof(c->pmaps));
	c->npmaps = s->npmaps;
	memcpy(c->known, s->known, sizeof(c->known));
	c->nknown = s->nknown;
	c->shadow = s->shadow;
	c->shadow.mapcount = mapcount;
	c->shadow.chunk_inuse = inuse;
	memcpy(mapcount, s->shadow.mapcount, c->npages * sizeof(uint16_t));
	return 0;
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
	if (st == NULL || (kernel && PDX(e->va) == c->lay->self))
		return;
	if ((e->old & PG_V) && (!kernel || (e->old & PG_MANAGED)))
		st->resident--;
	if ((e->new & PG_V) && (!kernel || (e->new & PG_MANAGED)))
		st->resident++;
	st->wired += ((e->new & (PG_V | PG_W)) == (PG_V | PG_W)) - ((e->old & (PG_V | PG_W)) == (PG_V | PG_W));
}

/* Keep the free-page and pv-count sums in step with a store into a vm_page record. */
static void shadow_vmpage(struct checker *c, const struct event *e)
{
	uint32_t field = chk_vmpage_field(e), free = c->ct->role_val[CT_ROLE_FREE];
	int64_t o, n;

	if (c->ct->has_role && (o = ct_in_word(c->ct->pg_role, field, e->old)) >= 0) {
		n = ct_in_word(c->ct->pg_role, field, e->new);
		c->shadow.free_pages += (n == free) - (o == free);
	}
	if (c->ct->has_pv_count && (o = ct_in_word(c->ct->pg_pv_count, field, e->old)) >= 0)
		c->shadow.pv_counts += (int32_t)(ct_in_word(c->ct->pg_pv_count, field, e->new) - o);
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
	if (off >= c->ct->pc_entries && off < c->ct->pc_entries + c->ct->npcpv * c->ct->entry_size)
		lo = hi = (int)((off - c->ct->pc_entries) / c->ct->entry_size);
	else if (off >= c->ct->pc_map && off < c->ct->pc_map + 4 * c->ct->npcm)
		lo = (int)((off - c->ct->pc_map) / 4) * 32, hi = lo + 31;
	else
		return;		/* list links and owner: chk_chunk looks at them anyway */
	for (int i = lo; i <= hi && i < (int)c->ct->npcpv; i++)
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
		if (c->ct->has_aflags && ct_in_word(c->ct->pg_aflags, chk_vmpage_field(e), e->old) !=
		    ct_in_word(c->ct->pg_aflags, chk_vmpage_field(e), e->new) &&
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
	const uint8_t *pm = chk_pmap_ptr(c, pmap);

	*ok = pm != NULL;
	return pm ? current_pte(c, PM_CR3(c, pm), va) : 0;
}

/* PV-MAPPING for a page that may have lost the mapping (pmap, va): no entry left for it. */
static int chk_page_lacks(struct checker *c, uint32_t pg, uint32_t pmap, uint32_t va, struct violation *v)
{
	const uint8_t *m = chk_page(c, pg);
	uint32_t e = m ? PG_PVFIRST(c, m) : 0;

	for (uint32_t n = 0; e != 0 && n <= c->entry_bound; n++) {
		const uint8_t *pv = chk_entry_ptr(c, e), *pc = chk_chunk_ptr(c, e & PG_FRAME);

		if (pv == NULL || pc == NULL)
			return vfail(v, "PV-MAPPING", "page 0x%08x: pv list reaches unreadable entry 0x%08x", pg << PAGE_SHIFT, e);
		if (PV_VA(c, pv) == va && PC_OWNER(c, pc) == pmap)
			return vfail(v, "PV-MAPPING", "page 0x%08x still lists pv entry 0x%08x for pmap 0x%08x va 0x%08x, "
			    "which no longer maps it", pg << PAGE_SHIFT, e, pmap, va);
		e = PV_NEXT(c, pv);
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
	if (lay_kernel_pdx(c->lay, pdx)) {
		for (int k = 1; k < c->npmaps && !chk_off(c, INV_PD_KERNEL); k++)
			if (chk_pd_kernel(c, &c->pmaps[k], pdx, v) < 0)
				return -1;
		return 0;
	}
	if (lay_user_pdx(c->lay, pdx) && i > 0 && !chk_off(c, INV_PT_COUNT))
		return chk_pt_count(c, &c->pmaps[i], pdx, v);
	return 0;
}

/*
 * Is slot va still on a free list threaded through the slots' PTEs (the
 * ptelist kind: the head symbol, then a free slot's PTE is the next node)?
 * Looked at only when a slot becomes mapped, so the walk over the block's
 * PTEs is rare.
 */
static int slot_on_free_list(struct checker *c, uint32_t va)
{
	if (c->ct->kva_kind != CT_KVA_PTELIST)
		return 0;
	if (gv_u32(c->m, c->ct->kva_head) == va)
		return 1;
	for (uint32_t s = 0; s < c->kva_slots; s++) {
		uint32_t sva = c->kva_base + s * PAGE_SIZE, pde = c->pmaps[0].pde[PDX(sva)];
		const uint32_t *pt = (pde & (PG_V | PG_PS)) == PG_V ? phys_ptr(&c->m->pm, pde & PG_FRAME, PAGE_SIZE) : NULL;

		if (pt != NULL && pt[PTX(sva)] == va)	/* (va is page-aligned: PG_V is clear) */
			return 1;
	}
	return 0;
}

/* Is the chunk at va on the global chunk list or on any pmap's chunk list (bounded walks)? */
static int chunk_listed(struct checker *c, uint32_t va)
{
	uint32_t pc = c->ct->has_global ? gv_u32(c->m, c->ct->global_head) : 0, bound = c->nrecs;

	for (uint32_t n = 0; pc != 0 && n <= bound; n++) {
		if (pc == va)
			return 1;
		pc = gv_u32(c->m, pc + c->ct->pc_global.off);
	}
	for (int i = 0; i < c->npmaps; i++) {
		const uint8_t *pm = chk_pmap_ptr(c, c->pmaps[i].gva);

		pc = pm ? PM_CHUNKS(c, pm) : 0;
		for (uint32_t n = 0; pc != 0 && n <= bound; n++) {
			if (pc == va)
				return 1;
			pc = gv_u32(c->m, pc + c->ct->pc_link.off);
		}
	}
	return 0;
}

/*
 * PV-KVA for a chunk slot whose PTE was written (e): a chunk page, or a
 * free-list node; a page is never swapped for another in place; below the
 * index (index kind). A slot that lost its page must not hold a chunk
 * that is still listed (PV-CHUNK-LISTS: the next walk of the list would
 * read an unmapped page).
 */
static int step_kva_slot(struct checker *c, const struct event *e, struct violation *v)
{
	uint32_t va = e->va, base = c->kva_base, end = base + c->kva_slots * PAGE_SIZE;
	uint32_t pte = current_pte(c, c->pmaps[0].pd, va), next;
	const uint8_t *m = (pte & PG_V) ? chk_page(c, pte >> PAGE_SHIFT) : NULL;

	if (va < base || va >= end)
		return 0;
	if (!(pte & PG_V) && (e->old & PG_V) && !chk_off(c, INV_PV_CHUNK_LISTS) && chunk_listed(c, va))
		return vfail(v, "PV-CHUNK-LISTS", "chunk 0x%08x lost its page (slot PTE 0x%08x -> 0x%08x) but is still on "
		    "a chunk list", va, e->old, pte);
	if (chk_off(c, INV_PV_KVA))
		return 0;
	if ((e->old & e->new & PG_V) && ((e->old ^ e->new) & PG_FRAME))
		return vfail(v, "PV-KVA", "slot va 0x%08x: its PTE went from page 0x%08x to page 0x%08x without being "
		    "freed (the first page is lost)", va, e->old & PG_FRAME, e->new & PG_FRAME);
	if ((pte & PG_V) && c->ct->kva_kind == CT_KVA_INDEX &&
	    (va - base) >> PAGE_SHIFT >= (next = gv_u32(c->m, c->ct->kva_head)))
		return vfail(v, "PV-KVA", "slot %u (va 0x%08x) is mapped but at or above %s (%u): a slot is "
		    "handed out only by advancing the index", (va - base) >> PAGE_SHIFT, va, c->ct->name.kva_head, next);
	if ((pte & PG_V) && (m == NULL || (chk_has_role(c, CT_ROLE_PVCHUNK) && chk_role(c, m) != CT_ROLE_PVCHUNK)))
		return vfail(v, "PV-KVA", "slot va 0x%08x: PTE 0x%08x maps a page that is not a chunk page (state %u)",
		    va, pte, m ? chk_role_raw(c, m) : 0);
	if (!(pte & PG_V) && pte != 0 && c->ct->kva_kind == CT_KVA_PTELIST &&
	    ((pte & PAGE_MASK) || pte < base || pte >= end))
		return vfail(v, "PV-KVA", "slot va 0x%08x: free-list PTE 0x%08x is not a slot of the block", va, pte);
	if ((pte & PG_V) && slot_on_free_list(c, va))
		return vfail(v, "PV-KVA", "slot va 0x%08x is mapped (PTE 0x%08x) but still on the free list "
		    "(%s or a free slot's PTE names it)", va, pte, c->ct->name.kva_head);
	return 0;
}

/*
 * PV-MAPPING from a written vm_page's side: its pv list holds in-use entries
 * (PV-CHUNK-BITMAP otherwise) of valid managed mappings of this page, and is
 * as long as its pv count, where the guest keeps one.
 */
static int step_page_list(struct checker *c, uint32_t pg, struct violation *v)
{
	const uint8_t *m = chk_page(c, pg);
	uint32_t e = m ? PG_PVFIRST(c, m) : 0, n = 0;
	uint32_t bound = m && c->ct->has_pv_count ? ct_get(m, c->ct->pg_pv_count) : c->entry_bound;

	for (; e != 0 && n <= bound; n++) {
		const uint8_t *pv = chk_entry_ptr(c, e), *pc = chk_chunk_ptr(c, e & PG_FRAME);
		int idx = chk_entry_index(c, e), ok;
		uint32_t pte;

		if (pv == NULL || pc == NULL || idx < 0)
			return vfail(v, "PV-MAPPING", "page 0x%08x: pv list reaches 0x%08x, not a pv entry", pg << PAGE_SHIFT, e);
		if (chk_is_free_bit(c, pc, idx) && !chk_off(c, INV_PV_CHUNK_BITMAP))
			return vfail(v, "PV-CHUNK-BITMAP", "page 0x%08x lists pv entry 0x%08x, whose bit in chunk 0x%08x "
			    "says free (%s[%d] = 0x%08x)", pg << PAGE_SHIFT, e, e & PG_FRAME, c->ct->name.map, idx / 32,
			    PC_MAP(c, pc, idx / 32));
		pte = current_pte_of_pmap(c, PC_OWNER(c, pc), PV_VA(c, pv), &ok);
		if (!ok || (pte & (PG_V | PG_MANAGED)) != (PG_V | PG_MANAGED) || (pte >> PAGE_SHIFT) != pg)
			return vfail(v, "PV-MAPPING", "page 0x%08x lists pv entry 0x%08x for pmap 0x%08x va 0x%08x, whose "
			    "PTE 0x%08x is not a managed mapping of this page", pg << PAGE_SHIFT, e, PC_OWNER(c, pc),
			    PV_VA(c, pv), pte);
		e = PV_NEXT(c, pv);
	}
	if (m != NULL && c->ct->has_pv_count && n != ct_get(m, c->ct->pg_pv_count))
		return vfail(v, "PV-MAPPING", "page 0x%08x: %s %u, but its list has %u%s entries", pg << PAGE_SHIFT,
		    c->ct->name.pv_count, ct_get(m, c->ct->pg_pv_count), n, e ? " or more" : "");
	if (e != 0)
		return vfail(v, "PV-MAPPING", "page 0x%08x: its pv list is longer than any run can make it (a cycle)",
		    pg << PAGE_SHIFT);
	return 0;
}

/* Chunks written in this step: local rules, changed entries, and the global count. */
static int step_chunks(struct checker *c, struct violation *v)
{
	int64_t count;

	for (int k = 0; k < c->ndirty_chunks; k++) {
		struct chk_dirty_chunk *d = &c->dirty_chunks[k];
		const uint8_t *pc = chk_chunk_ptr(c, d->va);
		int live = pc != NULL && PC_OWNER(c, pc) != 0, now = live ? chk_inuse(c, pc) : 0;
		struct pvkey *key = pvset_get(c->shadow.chunk_inuse, 0, d->va);

		c->shadow.entries += now - (key ? (int32_t)key->val : 0);
		if (key != NULL)
			key->val = (uint32_t)now;
		else
			pvset_put(c->shadow.chunk_inuse, 0, d->va, (uint32_t)now);
		if (!live && pc != NULL && !chk_off(c, INV_PV_CHUNK_LISTS) && chunk_listed(c, d->va))
			return vfail(v, "PV-CHUNK-LISTS", "chunk 0x%08x belongs to no pmap (%s 0: freed or parked) but "
			    "is still on a chunk list", d->va, c->ct->name.owner);
		if (!live)
			continue;
		if (chk_chunk(c, d->va, v) < 0)
			return -1;
		for (int i = 0; i < (int)c->ct->npcpv && !chk_off(c, INV_PV_MAPPING); i++)
			if ((d->mask[i / 32] >> (i % 32) & 1) && !chk_is_free_bit(c, pc, i) && chk_pv_entry(c, d->va, i, v) < 0)
				return -1;
	}
	count = chk_entry_count(c);
	if (!chk_off(c, INV_PV_CHUNK_BITMAP) && count >= 0 && c->shadow.entries != (int32_t)count)
		return vfail(v, "PV-CHUNK-BITMAP", "chunks have %d entries in use; %s says %u",
		    c->shadow.entries, c->ct->name.entry_count, (uint32_t)count);
	return 0;
}

/*
 * The global counts the step's vm_page stores must keep, where the guest
 * keeps them: every entry in use is on exactly one page list (the pages'
 * pv counts add up to the entry count), and the free-page count counts the
 * pages in the free role.
 */
static int step_counts(struct checker *c, struct violation *v)
{
	int64_t entries = chk_entry_count(c);

	if (!chk_off(c, INV_PV_MAPPING) && c->ct->has_pv_count && entries >= 0 && c->shadow.pv_counts != (int32_t)entries)
		return vfail(v, "PV-MAPPING", "the pages' %s add up to %d pv entries; %s says %u", c->ct->name.pv_count,
		    c->shadow.pv_counts, c->ct->name.entry_count, (uint32_t)entries);
	if (!chk_off(c, INV_PAGE_STATE) && c->ct->has_role && c->ct->free_count &&
	    c->shadow.free_pages != (int32_t)gv_u32(c->m, c->ct->free_count))
		return vfail(v, "PAGE-STATE", "%d pages are free, %s says %u", c->shadow.free_pages, c->ct->name.free_count,
		    gv_u32(c->m, c->ct->free_count));
	return 0;
}

/* STATS: pm_stats of every pmap against the shadow counts. */
static int step_stats(struct checker *c, struct violation *v)
{
	for (int i = 0; i < c->npmaps && !chk_off(c, INV_STATS) && c->ct->has_stats; i++) {
		const uint8_t *pm = chk_pmap_ptr(c, c->pmaps[i].gva);
		struct chk_stats *st = shadow_stats(c, c->pmaps[i].pd & PG_FRAME);
		uint32_t res = ct_get(pm, c->ct->pm_resident), wired = ct_get(pm, c->ct->pm_wired);

		if (st != NULL && (res != st->resident || wired != st->wired))
			return vfail(v, "STATS", "pmap 0x%08x: pm_stats says resident %u wired %u; its page tables hold "
			    "%u %s and %u wired", c->pmaps[i].gva, res, wired, st->resident,
			    i ? "valid PTEs" : "managed mappings", st->wired);
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
		for (uint32_t pdx = c->lay->kpdi; pdx < NPDEPG && !chk_off(c, INV_PD_KERNEL); pdx++)
			if (lay_kernel_pdx(c->lay, pdx) && chk_pd_kernel(c, &c->pmaps[i], pdx, v) < 0)
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
	const struct mmu *u = c->m->mmu;
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
		    (e->old >> PAGE_SHIFT) < c->nrecs)
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
