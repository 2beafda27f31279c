/*
 * mmu.c - owns the translation of every guest access: the fill hook (the
 * page walk an i386 CPU does, with its accessed/dirty updates and page
 * faults), the choice between a frame's RAM and its alias, and the TLB
 * model. See mmu.h.
 *
 * The model is exact because Unicorn's own TLB never holds more than the
 * model: every fill goes through the hook and lands in the model; the
 * guest's INVLPG and CR3 loads drop the same entries from both (the sites
 * call mmu_invlpg/mmu_flush just before the instruction runs). The host
 * may flush Unicorn's TLB at any time (a watched-set change, a CR3 write
 * after a fault): the refills are served from the model, not the tables.
 */
#include "mmu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../guest/common/i386.h"

#define PF_P	0x1	/* page-fault error code: protection (not not-present) */
#define PF_W	0x2	/* a write */
#define PF_U	0x4	/* at CPL 3 */

static uint32_t slot_of(const struct mmu *u, uint32_t vpage)
{
	return (vpage * 2654435761u) & (u->cap - 1);
}

const struct tlb_entry *mmu_lookup(const struct mmu *u, uint32_t va)
{
	uint32_t vp = va >> PAGE_SHIFT;

	if (!u->model)
		return NULL;
	for (uint32_t i = slot_of(u, vp);; i = (i + 1) & (u->cap - 1)) {
		if (!(u->tlb[i].flags & TLB_USED))
			return NULL;
		if (u->tlb[i].vpage == vp)
			return &u->tlb[i];
	}
}

const struct tlb_entry *mmu_next(const struct mmu *u, uint32_t *i)
{
	for (; u->model && *i < u->cap; (*i)++)
		if (u->tlb[*i].flags & TLB_USED)
			return &u->tlb[(*i)++];
	return NULL;
}

static int by_vpage(const void *a, const void *b)
{
	const struct tlb_entry *x = a, *y = b;

	return x->vpage < y->vpage ? -1 : x->vpage > y->vpage;
}

int mmu_sorted(const struct mmu *u, uint64_t lo, uint64_t hi, struct tlb_entry **out)
{
	const struct tlb_entry *x;
	uint32_t i = 0, n = 0;

	if ((*out = calloc(u->n ? u->n : 1, sizeof(**out))) == NULL)
		return -1;
	while ((x = mmu_next(u, &i)) != NULL && n < u->n)
		if (((uint64_t)x->vpage << PAGE_SHIFT) <= hi && ((uint64_t)x->vpage << PAGE_SHIFT) + PAGE_MASK >= lo)
			(*out)[n++] = *x;
	qsort(*out, n, sizeof(**out), by_vpage);
	return (int)n;
}

const char *tlb_flags_text(uint8_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", flags & TLB_RW ? " RW" : "", flags & TLB_U ? " US" : "",
	    flags & TLB_D ? " D" : "", flags & TLB_GLOBAL ? " G" : "", flags & TLB_LARGE ? " 4M" : "");
	return buf;
}

/* Drop the entry in slot i, moving later entries of its probe run back. */
static void drop_slot(struct mmu *u, uint32_t i)
{
	struct tlb_entry *e = &u->tlb[i];

	if (e->frame < u->npages)
		u->frame_refs[e->frame]--;
	u->nlarge -= !!(e->flags & TLB_LARGE);
	u->nglobal -= !!(e->flags & TLB_GLOBAL);
	u->n--;
	e->flags = 0;
	for (uint32_t j = (i + 1) & (u->cap - 1); u->tlb[j].flags & TLB_USED; j = (j + 1) & (u->cap - 1)) {
		struct tlb_entry moved = u->tlb[j];

		u->tlb[j].flags = 0;
		for (uint32_t k = slot_of(u, moved.vpage);; k = (k + 1) & (u->cap - 1))
			if (!(u->tlb[k].flags & TLB_USED)) {
				u->tlb[k] = moved;
				break;
			}
	}
}

static void put(struct mmu *u, const struct tlb_entry *e);

/* Double the table when it is half full. */
static void grow(struct mmu *u)
{
	struct tlb_entry *old = u->tlb;
	uint32_t oldcap = u->cap;
	struct tlb_entry *v = calloc(oldcap * 2, sizeof(*v));

	if (v == NULL)
		return;		/* keep probing the full-ish table */
	u->tlb = v;
	u->cap = oldcap * 2;
	u->n = u->nlarge = u->nglobal = 0;
	for (uint32_t i = 0; i < oldcap; i++)
		if (old[i].flags & TLB_USED) {
			if (old[i].frame < u->npages)
				u->frame_refs[old[i].frame]--;
			put(u, &old[i]);
		}
	free(old);
}

/* Insert or replace the entry for e->vpage. */
static void put(struct mmu *u, const struct tlb_entry *e)
{
	uint32_t i;

	if ((u->n + 1) * 2 > u->cap)
		grow(u);
	for (i = slot_of(u, e->vpage); u->tlb[i].flags & TLB_USED; i = (i + 1) & (u->cap - 1))
		if (u->tlb[i].vpage == e->vpage) {
			drop_slot(u, i);
			put(u, e);
			return;
		}
	u->tlb[i] = *e;
	u->tlb[i].flags |= TLB_USED;
	if (e->frame < u->npages)
		u->frame_refs[e->frame]++;
	u->nlarge += !!(e->flags & TLB_LARGE);
	u->nglobal += !!(e->flags & TLB_GLOBAL);
	u->n++;
}

void mmu_invlpg(struct mmu *u, uint32_t va)
{
	const struct tlb_entry *e = mmu_lookup(u, va);

	u->inv_seq++;
	u->inv_va = va & PG_FRAME;
	if (e != NULL)
		drop_slot(u, (uint32_t)(e - u->tlb));
	/* INVLPG of any address in a 4 MiB page drops the whole page. */
	for (uint32_t i = 0; u->nlarge > 0 && i < u->cap; i++)
		if ((u->tlb[i].flags & (TLB_USED | TLB_LARGE)) == (TLB_USED | TLB_LARGE) &&
		    (u->tlb[i].vpage >> (PDRSHIFT - PAGE_SHIFT)) == (va >> PDRSHIFT))
			drop_slot(u, i--);	/* the slot may now hold a moved entry */
}

void mmu_flush(struct mmu *u, int keep_global)
{
	u->inv_seq++;
	u->inv_va = MMU_INV_ALL;
	u->aliased = 0;		/* the CPU's own flush empties Unicorn's TLB too */
	u->alias_loads = 0;
	if (!u->model)
		return;
	if (!keep_global || u->nglobal == 0) {
		for (uint32_t i = 0; i < u->cap && u->n > 0; i++)
			if ((u->tlb[i].flags & TLB_USED) && u->tlb[i].frame < u->npages) {
				u->frame_refs[u->tlb[i].frame]--;
				u->n--;
			}
		memset(u->tlb, 0, u->cap * sizeof(*u->tlb));
		u->n = u->nlarge = u->nglobal = 0;
		return;
	}
	for (uint32_t i = 0; i < u->cap; i++)
		if ((u->tlb[i].flags & TLB_USED) && !(u->tlb[i].flags & TLB_GLOBAL))
			drop_slot(u, i--);
}

/* Empty Unicorn's TLB (the model refills it): no page is reached through the alias any more. */
static void flush_unicorn(struct mmu *u)
{
	u->aliased = 0;
	u->alias_loads = 0;
	u->flushes++;
	uc_ctl_flush_tlb(u->uc);
}

void mmu_frame_changes(struct mmu *u, uint32_t frame)
{
	/* Only the model's entries can be in Unicorn's TLB (see the top). */
	if (u->model && frame < u->npages && u->frame_refs[frame] > 0)
		flush_unicorn(u);
}

void mmu_alias_load(struct mmu *u)
{
	/* Put the pages reached through the alias back on the fast path for loads. */
	if (u->aliased > 0 && ++u->alias_loads >= MMU_UNALIAS_LOADS)
		flush_unicorn(u);
}

void mmu_alias_store(struct mmu *u)
{
	u->alias_loads = 0;	/* stores still come: keep the alias */
}

void mmu_model(struct mmu *u, int on)
{
	mmu_flush(u, 0);
	u->model = on;
}

/* Read-modify-write an entry's accessed/dirty bits, as the CPU's locked update. */
static void set_bits(const struct mmu *u, uint32_t pa, uint32_t *entry, uint32_t bits)
{
	if ((*entry & bits) != bits) {
		*entry |= bits;
		phys_dirty(u->pm, pa, 4);
		memcpy(u->pm->ram + pa, entry, 4);
	}
}

/* A failed walk: the fault the CPU raises. */
static int page_fault(struct mmu *u, uint32_t va, uint32_t err)
{
	u->fault = (struct mmu_fault){ .kind = MMU_PAGE_FAULT, .va = va, .err = err };
	return -1;
}

/* An entry points outside RAM. */
static int bad_frame(struct mmu *u, uint32_t va, uint64_t pa, uint32_t entry)
{
	u->fault = (struct mmu_fault){ .kind = MMU_BAD_FRAME, .va = va, .pa = (uint32_t)pa, .entry = entry };
	return -1;
}

/*
 * The walk of an i386 CPU without PAE: PDE, then PTE unless the PDE maps a
 * 4 MiB page. Rights combine over both levels; a supervisor write ignores
 * RW unless CR0.WP. The PDE's accessed bit is set once it is used; the
 * final entry's accessed (and, for a write, dirty) bit only if the access
 * is allowed. 0, or -1 with u->fault set.
 */
static int walk(struct mmu *u, uint32_t va, const uint32_t cr[3], int write, int user, struct tlb_entry *e)
{
	uint32_t pde_pa = (cr[1] & PG_FRAME) + PDX(va) * 4, pde, pte, pte_pa, frame, rights;
	int wp = (cr[0] & CR0_WP) != 0, large;

	u->walks++;
	if ((uint64_t)pde_pa + 4 > u->pm->size)
		return bad_frame(u, va, pde_pa, cr[1]);
	memcpy(&pde, u->pm->ram + pde_pa, 4);
	if (!(pde & PG_V))
		return page_fault(u, va, (write ? PF_W : 0) | (user ? PF_U : 0));
	large = (pde & PG_PS) && (cr[2] & CR4_PSE);
	if (large) {
		pte_pa = pde_pa;
		pte = pde;
		frame = ((pde & PG_PS_FRAME) | (va & PDRMASK)) >> PAGE_SHIFT;
	} else {
		set_bits(u, pde_pa, &pde, PG_A);
		pte_pa = (pde & PG_FRAME) + PTX(va) * 4;
		if ((uint64_t)pte_pa + 4 > u->pm->size)
			return bad_frame(u, va, pte_pa, pde);
		memcpy(&pte, u->pm->ram + pte_pa, 4);
		if (!(pte & PG_V))
			return page_fault(u, va, (write ? PF_W : 0) | (user ? PF_U : 0));
		frame = pte >> PAGE_SHIFT;
	}
	rights = large ? pde : pde & pte;
	if ((user && !(rights & PG_U)) || (write && !(rights & PG_RW) && (user || wp)))
		return page_fault(u, va, PF_P | (write ? PF_W : 0) | (user ? PF_U : 0));
	if (frame >= u->npages)
		return bad_frame(u, va, (uint64_t)frame << PAGE_SHIFT, pte);
	set_bits(u, pte_pa, &pte, write ? PG_A | PG_M : PG_A);
	*e = (struct tlb_entry){ .vpage = va >> PAGE_SHIFT, .frame = frame, .pte = pte, .pte_pa = pte_pa,
		.pde_pa = pde_pa };
	e->flags = (rights & PG_RW ? TLB_RW : 0) | (rights & PG_U ? TLB_U : 0) | (pte & PG_M ? TLB_D : 0) |
	    (large ? TLB_LARGE : 0) | ((pte & PG_G) && (cr[2] & CR4_PGE) ? TLB_GLOBAL : 0);
	return 0;
}

/* May the CPU use e for this access without walking? */
static int allows(const struct tlb_entry *e, int write, int user, int wp)
{
	if (user && !(e->flags & TLB_U))
		return 0;
	return !write || ((e->flags & TLB_D) && ((e->flags & TLB_RW) || (!user && !wp)));
}

/*
 * Hand e to Unicorn. A watched frame is handed out read-only at its RAM
 * address for a load, so loads stay on the fast path, and at its alias for
 * a store, so the store is seen; the alias then serves loads too, until the
 * next flush of Unicorn's TLB. Write permission only once dirty.
 */
static void hand_out(struct mmu *u, const struct tlb_entry *e, int write, int user, int wp, uc_tlb_entry *res)
{
	int watched = u->watched != NULL && u->watched[e->frame];

	res->paddr = (uint64_t)e->frame << PAGE_SHIFT;
	res->perms = UC_PROT_READ | UC_PROT_EXEC;
	if (watched && !write)
		return;
	if (watched) {
		res->paddr += ALIAS_BASE;
		u->aliased++;
	}
	if (allows(e, 1, user, wp)) {
		res->perms |= UC_PROT_WRITE;
		phys_dirty(u->pm, res->paddr & ~ALIAS_BASE, PAGE_SIZE);	/* the CPU may write it from now on */
	}
}

/* The control registers and CPL a translation depends on. */
struct cpu_mode {
	uint32_t cr[3];		/* CR0, CR3, CR4 */
	int user, wp;
};

static void read_mode(uc_engine *uc, struct cpu_mode *c)
{
	uint32_t cs = 0;
	int regs[4] = { UC_X86_REG_CR0, UC_X86_REG_CR3, UC_X86_REG_CR4, UC_X86_REG_CS };
	void *vals[4] = { &c->cr[0], &c->cr[1], &c->cr[2], &cs };

	uc_reg_read_batch(uc, regs, vals, 4);
	c->user = (cs & 3) == 3;
	c->wp = (c->cr[0] & CR0_WP) != 0;
}

/*
 * The translation the CPU uses for this access: the model's, if it allows
 * it, else a fresh walk (which the model keeps). NULL with u->fault set.
 */
static const struct tlb_entry *translate(struct mmu *u, uint32_t va, int write, const struct cpu_mode *c,
    struct tlb_entry *tmp)
{
	const struct tlb_entry *hit = mmu_lookup(u, va);

	if (hit != NULL && allows(hit, write, c->user, c->wp)) {
		u->served++;
		return hit;
	}
	if (walk(u, va, c->cr, write, c->user, tmp) < 0)
		return NULL;
	if (u->model)
		put(u, tmp);
	return tmp;
}

/* The fill hook: the CPU needs a translation for vaddr. */
static bool fill(uc_engine *uc, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *res, void *arg)
{
	struct mmu *u = arg;
	uint32_t va = (uint32_t)vaddr;
	int write = type == UC_MEM_WRITE;
	const struct tlb_entry *t;
	struct cpu_mode c;
	struct tlb_entry e;

	u->fills++;
	read_mode(uc, &c);
	if (!(c.cr[0] & CR0_PG)) {	/* paging off: identity */
		e = (struct tlb_entry){ .vpage = va >> PAGE_SHIFT, .frame = va >> PAGE_SHIFT, .flags = TLB_RW | TLB_D };
		if (e.frame >= u->npages)
			return bad_frame(u, va, va, 0), false;
		hand_out(u, &e, write, 0, 0, res);
		return true;
	}
	if ((t = translate(u, va, write, &c, &e)) == NULL)
		return false;
	hand_out(u, t, write, c.user, c.wp, res);
	return true;
}

int mmu_access(struct mmu *u, uint32_t va, int write, uint32_t *frame)
{
	struct cpu_mode c;
	struct tlb_entry e;
	const struct tlb_entry *t;

	read_mode(u->uc, &c);
	if (!(c.cr[0] & CR0_PG))
		return *frame = va >> PAGE_SHIFT, *frame < u->npages ? 0 : -1;
	if ((t = translate(u, va, write, &c, &e)) == NULL) {
		u->fault.kind = MMU_OK;		/* the CPU will raise it itself */
		return -1;
	}
	*frame = t->frame;
	if (write)
		phys_dirty(u->pm, (uint64_t)t->frame << PAGE_SHIFT, PAGE_SIZE);
	return 0;
}

int mmu_init(struct mmu *u, uc_engine *uc, const struct physmem *pm)
{
	uc_hook h;

	memset(u, 0, sizeof(*u));
	u->uc = uc;
	u->pm = pm;
	u->npages = (uint32_t)(pm->size >> PAGE_SHIFT);
	u->cap = 256;
	u->tlb = calloc(u->cap, sizeof(*u->tlb));
	u->frame_refs = calloc(u->npages, sizeof(*u->frame_refs));
	if (u->tlb == NULL || u->frame_refs == NULL)
		return -1;
	if (uc_ctl_tlb_mode(uc, UC_TLB_VIRTUAL) != UC_ERR_OK ||
	    uc_hook_add(uc, &h, UC_HOOK_TLB_FILL, (void *)fill, u, 1, 0) != UC_ERR_OK)
		return -1;
	return 0;
}

void mmu_free(struct mmu *u)
{
	free(u->tlb);
	free(u->frame_refs);
	memset(u, 0, sizeof(*u));
}

const char *mmu_entry_stale(const struct mmu *u, const struct tlb_entry *e, uint32_t cr3, uint32_t cr4,
    struct walk *now)
{
	uint32_t rights;

	if (walk_va(u->pm, cr3, cr4, e->vpage << PAGE_SHIFT, now) != WALK_MAPPED)
		return "the tables no longer map it";
	if ((now->pa >> PAGE_SHIFT) != e->frame)
		return "the tables map another frame";
	rights = now->large ? now->pde : now->pde & now->pte;
	if ((e->flags & TLB_RW) && !(rights & PG_RW))
		return "the tables took write permission away";
	if ((e->flags & TLB_U) && !(rights & PG_U))
		return "the tables took user access away";
	if ((e->flags & TLB_D) && !(now->pte & PG_M))
		return "the tables cleared the dirty bit the CPU would not set again";
	if (!(now->pte & PG_A))
		return "the tables cleared the accessed bit the CPU would not set again";
	return NULL;
}
