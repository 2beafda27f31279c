/*
 * invariants.c - owns the full check: one function per catalog ID, each
 * proving its rule from guest memory alone (through the guest's contract,
 * contract.h, and the host page walker, never by calling guest code). Garbage pointers, cycles
 * and out-of-range values are violations, never host crashes or endless
 * loops: every list walk is bounded and every pointer checked.
 */
#include "invariants.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gview.h"
#include "invcheck.h"

int vfail(struct violation *v, const char *id, const char *fmt, ...)
{
	va_list ap;

	v->id = id;
	v->has_cause = 0;
	v->nstack = 0;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
	return -1;
}

const uint8_t *chk_pmap_ptr(struct checker *c, uint32_t va)
{
	return va ? gv_ptr(c->m, va, c->ct->pmap_size) : NULL;
}

const uint8_t *chk_chunk_ptr(struct checker *c, uint32_t va)
{
	return va && !(va & PAGE_MASK) ? gv_ptr(c->m, va, c->ct->chunk_size) : NULL;
}

const uint8_t *chk_entry_ptr(struct checker *c, uint32_t va)
{
	return va ? gv_ptr(c->m, va, c->ct->entry_size) : NULL;
}

int chk_entry_index(const struct checker *c, uint32_t e)
{
	uint32_t off = e & PAGE_MASK;

	if (off < c->ct->pc_entries || (off - c->ct->pc_entries) % c->ct->entry_size != 0 ||
	    (off - c->ct->pc_entries) / c->ct->entry_size >= c->ct->npcpv)
		return -1;
	return (int)((off - c->ct->pc_entries) / c->ct->entry_size);
}

int chk_role(const struct checker *c, const uint8_t *m)
{
	uint32_t v;

	if (!c->ct->has_role)
		return -1;
	v = ct_get(m, c->ct->pg_role);
	for (int r = 0; r < CT_ROLE_COUNT; r++)
		if ((c->ct->roles_declared >> r & 1) && c->ct->role_val[r] == v)
			return r;
	return -1;
}

uint32_t chk_role_raw(const struct checker *c, const uint8_t *m)
{
	return c->ct->has_role ? ct_get(m, c->ct->pg_role) : 0;
}

uint32_t chk_page_pvlen(struct checker *c, const uint8_t *m)
{
	uint32_t e = PG_PVFIRST(c, m), n = 0;
	const uint8_t *pv;

	while (e != 0 && n <= c->entry_bound && (pv = chk_entry_ptr(c, e)) != NULL) {
		n++;
		e = PV_NEXT(c, pv);
	}
	return n;
}

int64_t chk_entry_count(struct checker *c)
{
	return c->ct->entry_count ? (int64_t)gv_u32(c->m, c->ct->entry_count) : -1;
}

/*
 * The kernel pmap, then every pmap on the list of all pmaps (bounded; the
 * kernel pmap is skipped there when the guest lists it too); -1 on a
 * broken list.
 */
int chk_load_pmaps(struct checker *c, struct violation *v)
{
	const uint8_t *all = gv_ptr(c->m, c->ct->allpmaps, 4);
	uint32_t p = c->ct->kernel_pmap;

	c->npmaps = 0;
	for (int i = 0; p != 0; i++) {
		const uint8_t *pm = chk_pmap_ptr(c, p);
		uint32_t next;

		if (c->npmaps == CHK_MAX_PMAPS || pm == NULL || i > CHK_MAX_PMAPS)
			return vfail(v, "PD-SELFMAP", "the list of all pmaps is broken at struct pmap 0x%08x (%s)", p,
			    pm ? "longer than any run can make it: a cycle?" : "unreadable");
		next = i == 0 ? (all ? rd32(all, 0) : 0) : rd32(pm, c->ct->pm_link.off);
		if (i > 0 && p == c->ct->kernel_pmap) {	/* listed too: counted once */
			p = next;
			continue;
		}
		c->pmaps[c->npmaps].gva = p;
		c->pmaps[c->npmaps].pd = PM_CR3(c, pm);
		c->pmaps[c->npmaps].pde = phys_ptr(&c->m->pm, PM_CR3(c, pm) & PG_FRAME, PAGE_SIZE);
		if (c->pmaps[c->npmaps].pde == NULL)
			return vfail(v, "PD-SELFMAP", "pmap 0x%08x: directory 0x%08x is outside RAM", p, PM_CR3(c, pm));
		c->npmaps++;
		p = next;
	}
	return 0;
}

/* PD-SELFMAP: every directory maps itself at the recursive slot, writable. */
int chk_pd_selfmap(struct checker *c, const struct chk_pmap *p, struct violation *v)
{
	uint32_t e = p->pde[c->lay->self];

	if ((e & (PG_V | PG_RW)) == (PG_V | PG_RW) && (e & PG_FRAME) == (p->pd & PG_FRAME))
		return 0;
	return vfail(v, "PD-SELFMAP", "pmap 0x%08x: directory 0x%08x has PDE[%u] = 0x%08x, not itself "
	    "(0x%08x | PG_V | PG_RW)", p->gva, p->pd, c->lay->self, e, p->pd & PG_FRAME);
}

/* PD-KERNEL: PDE pdx of pmap p equals the kernel pmap's. */
int chk_pd_kernel(struct checker *c, const struct chk_pmap *p, uint32_t pdx, struct violation *v)
{
	/* PG_A and PG_M are the CPU's to set, in each directory separately. */
	if (((p->pde[pdx] ^ c->pmaps[0].pde[pdx]) & ~(uint32_t)(PG_A | PG_M)) == 0)
		return 0;
	return vfail(v, "PD-KERNEL", "pmap 0x%08x: kernel PDE[%u] (va 0x%08x) is 0x%08x; the kernel pmap's is 0x%08x",
	    p->gva, pdx, pdx << PDRSHIFT, p->pde[pdx], c->pmaps[0].pde[pdx]);
}

int chk_directories(struct checker *c, struct violation *v)
{
	for (int i = 0; i < c->npmaps; i++) {
		if (!chk_off(c, INV_PD_SELFMAP) && chk_pd_selfmap(c, &c->pmaps[i], v) < 0)
			return -1;
		for (uint32_t pdx = c->lay->kpdi; i > 0 && pdx < NPDEPG; pdx++)
			if (lay_kernel_pdx(c->lay, pdx) && !chk_off(c, INV_PD_KERNEL) && chk_pd_kernel(c, &c->pmaps[i], pdx, v) < 0)
				return -1;
	}
	return 0;
}

const uint8_t *chk_page(struct checker *c, uint32_t pg)
{
	if (pg >= c->nrecs)
		return NULL;
	return gv_ptr(c->m, c->pages_va + pg * c->ct->page_size, c->ct->page_size);
}

/*
 * PT-COUNT for the user page table at PDE pdx of pmap p: an empty page
 * table is freed (pmap(9) behaviour); its vm_page is in the page-table
 * role and counts its valid PTEs, where the guest declares those fields.
 */
int chk_pt_count(struct checker *c, const struct chk_pmap *p, uint32_t pdx, struct violation *v)
{
	uint32_t pde = p->pde[pdx], n = 0;
	const uint32_t *pt = phys_ptr(&c->m->pm, pde & PG_FRAME, PAGE_SIZE);
	const uint8_t *m = chk_page(c, pde >> PAGE_SHIFT);
	int role_ok, count_ok;

	if (!(pde & PG_V) || (pde & PG_PS))
		return 0;
	if (pt == NULL || m == NULL)
		return vfail(v, "PT-COUNT", "pmap 0x%08x: PDE[%u] = 0x%08x points outside RAM", p->gva, pdx, pde);
	for (int i = 0; i < NPTEPG; i++)
		n += pt[i] & PG_V;
	role_ok = !chk_has_role(c, CT_ROLE_PTP) || chk_role(c, m) == CT_ROLE_PTP;
	count_ok = !c->ct->has_wire_count || ct_get(m, c->ct->pg_wire_count) == n;
	if (role_ok && count_ok && n > 0)
		return 0;
	return vfail(v, "PT-COUNT", "pmap 0x%08x: page table 0x%08x for va 0x%08x-0x%08x holds %u valid PTEs; "
	    "its vm_page says %s %u, wire_count %u%s", p->gva, pde & PG_FRAME, pdx << PDRSHIFT,
	    (pdx << PDRSHIFT) + (NBPDR - 1), n, c->ct->has_role ? "state" : "(no role field)", chk_role_raw(c, m),
	    c->ct->has_wire_count ? ct_get(m, c->ct->pg_wire_count) : 0,
	    n == 0 ? " (an empty page table must be freed and its PDE cleared)" : "");
}

int chk_pmap_of_pd(const struct checker *c, uint32_t pd)
{
	for (int i = 0; i < c->npmaps; i++)
		if ((c->pmaps[i].pd & PG_FRAME) == (pd & PG_FRAME))
			return i;
	return -1;
}

int chk_pmap_of_gva(const struct checker *c, uint32_t gva)
{
	for (int i = 0; i < c->npmaps; i++)
		if (c->pmaps[i].gva == gva)
			return i;
	return -1;
}

uint32_t chk_vmpage_field(const struct event *e)
{
	return e->field;
}

int chk_is_free_bit(const struct checker *c, const uint8_t *pc, int idx)
{
	return (int)((PC_MAP(c, pc, idx / 32) >> (idx % 32)) & 1) == c->ct->map_set_is_free;
}

int chk_inuse(const struct checker *c, const uint8_t *pc)
{
	int inuse = 0;

	for (uint32_t i = 0; i < c->ct->npcm && i * 32 < c->ct->npcpv; i++) {
		uint32_t valid = c->ct->npcpv - i * 32 >= 32 ? ~0u : (1u << (c->ct->npcpv - i * 32)) - 1;
		uint32_t w = PC_MAP(c, pc, i), used = c->ct->map_set_is_free ? ~w : w;

		inuse += __builtin_popcount(used & valid);
	}
	return inuse;
}

/* PV-MAPPING, PTE side: the page's pv list holds exactly one entry for (pmap, va). */
int chk_pte_has_pv(struct checker *c, uint32_t pmap, uint32_t va, uint32_t pte, struct violation *v)
{
	return chk_pte_has_this_pv(c, pmap, va, pte, 0, v);
}

/* The same, and (entry != 0) that one entry is the pv entry at address `entry`. */
int chk_pte_has_this_pv(struct checker *c, uint32_t pmap, uint32_t va, uint32_t pte, uint32_t entry,
    struct violation *v)
{
	const uint8_t *m = chk_page(c, pte >> PAGE_SHIFT);
	uint32_t e, n = 0, len = 0;
	int seen = 0;
	char flags[96];

	if (m == NULL)
		return vfail(v, "PV-MAPPING", "pmap 0x%08x va 0x%08x: managed PTE 0x%08x maps a page outside RAM",
		    pmap, va, pte);
	e = PG_PVFIRST(c, m);
	for (; e != 0 && len <= c->entry_bound; len++) {
		const uint8_t *pv = chk_entry_ptr(c, e), *pc = chk_chunk_ptr(c, e & PG_FRAME);

		seen |= e == entry;
		if (pv == NULL || pc == NULL)
			return vfail(v, "PV-MAPPING", "page 0x%08x: pv list reaches unreadable entry 0x%08x",
			    pte & PG_FRAME, e);
		n += PV_VA(c, pv) == va && PC_OWNER(c, pc) == pmap;
		e = PV_NEXT(c, pv);
	}
	if (n == 1 && entry != 0 && !seen)
		return vfail(v, "PV-MAPPING", "pv entry 0x%08x is in use for pmap 0x%08x va 0x%08x, but page 0x%08x's "
		    "list holds another entry for it", entry, pmap, va, pte & PG_FRAME);
	if (n == 1)
		return 0;
	return vfail(v, "PV-MAPPING", "pmap 0x%08x va 0x%08x: managed PTE 0x%08x (%s) has %u pv entries on page "
	    "0x%08x's list (%u entries long), not exactly one", pmap, va, pte, pte_flags(pte, flags, sizeof(flags)),
	    n, pte & PG_FRAME, len);
}

/* The PTE for va in the space of the pmap at gva (0 when absent). */
static uint32_t pte_in(struct checker *c, uint32_t pmap, uint32_t va, int *ok)
{
	const uint8_t *pm = chk_pmap_ptr(c, pmap);
	struct walk w;

	*ok = pm != NULL && gv_walk(c->m, PM_CR3(c, pm), va, &w) != WALK_BAD_TABLE;
	return *ok && (w.status == WALK_MAPPED || w.status == WALK_NO_PTE) ? w.pte : 0;
}

/* PV-MAPPING, entry side: an in-use entry names a valid managed PTE whose page lists it. */
int chk_pv_entry(struct checker *c, uint32_t chunk, int idx, struct violation *v)
{
	const uint8_t *pc = chk_chunk_ptr(c, chunk);
	uint32_t owner = PC_OWNER(c, pc), pva = PC_PV_VA(c, pc, idx);
	int ok;
	uint32_t pte = pte_in(c, owner, pva, &ok);

	if (!ok || (pte & (PG_V | PG_MANAGED)) != (PG_V | PG_MANAGED))
		return vfail(v, "PV-MAPPING", "pv entry %d of chunk 0x%08x (at 0x%08x) names pmap 0x%08x va 0x%08x, "
		    "whose PTE is 0x%08x: not a valid managed mapping", idx, chunk, PC_ENTRY(c, chunk, idx), owner, pva, pte);
	return chk_pte_has_this_pv(c, owner, pva, pte, PC_ENTRY(c, chunk, idx), v);
}

/* Does a chunk's list link (at offset off) hang together with its neighbours? */
static int chk_links(struct checker *c, uint32_t chunk, const struct ct_link *l, const char *list,
    struct violation *v)
{
	uint32_t next = gv_u32(c->m, chunk + l->off), prev = gv_u32(c->m, chunk + l->off + 4);

	if (l->kind != CT_LINK_TAILQ && l->kind != CT_LINK_LIST)
		return 0;	/* singly linked: nothing points back */
	if (prev == 0 || gv_u32(c->m, prev) != chunk)
		return vfail(v, "PV-CHUNK-LISTS", "chunk 0x%08x: its %s link's prev = 0x%08x does not point back at it",
		    chunk, list, prev);
	if (next != 0 && gv_u32(c->m, next + l->off + 4) != chunk + l->off)
		return vfail(v, "PV-CHUNK-LISTS", "chunk 0x%08x: its %s successor 0x%08x does not point back at it",
		    chunk, list, next);
	return 0;
}

/* Full chunks sit behind chunks with free entries on the pmap's list (both neighbours). */
static int chk_order(struct checker *c, uint32_t chunk, const uint8_t *pc, struct violation *v)
{
	uint32_t next = PC_NEXT(c, pc), prevnext = rd32(pc, c->ct->pc_link.off + 4);
	const uint8_t *npc = next ? chk_chunk_ptr(c, next) : NULL;
	/* prev points into the previous chunk, unless it is the list head in struct pmap */
	uint32_t prev = (prevnext & PAGE_MASK) == c->ct->pc_link.off ? prevnext & PG_FRAME : 0;
	const uint8_t *ppc = prev ? chk_chunk_ptr(c, prev) : NULL;
	int full = (int)c->ct->npcpv;

	if (npc != NULL && chk_inuse(c, pc) == full && chk_inuse(c, npc) < full)
		return vfail(v, "PV-CHUNK-LISTS", "pmap 0x%08x: full chunk 0x%08x sits ahead of chunk 0x%08x, "
		    "which has %d free entries", PC_OWNER(c, pc), chunk, next, full - chk_inuse(c, npc));
	if (ppc != NULL && PC_OWNER(c, ppc) == PC_OWNER(c, pc) && chk_inuse(c, ppc) == full && chk_inuse(c, pc) < full)
		return vfail(v, "PV-CHUNK-LISTS", "pmap 0x%08x: full chunk 0x%08x sits ahead of chunk 0x%08x, "
		    "which has %d free entries", PC_OWNER(c, pc), prev, chunk, full - chk_inuse(c, pc));
	return 0;
}

/* The local chunk rules for one allocated chunk. */
int chk_chunk(struct checker *c, uint32_t chunk, struct violation *v)
{
	const uint8_t *pc = chk_chunk_ptr(c, chunk);
	uint32_t last = c->ct->npcpv % 32 ? (c->ct->npcpv - 1) / 32 : c->ct->npcm, w;
	int spare = pc != NULL && PC_OWNER(c, pc) == 0 && c->ct->spare_head != 0;

	if (pc == NULL)
		return vfail(v, "PV-KVA", "chunk 0x%08x is not mapped", chunk);
	/* the bits past the last entry keep the "in use" value: they are never handed out */
	if (last < c->ct->npcm && !chk_off(c, INV_PV_CHUNK_BITMAP)) {
		uint32_t beyond = ~((1u << (c->ct->npcpv % 32)) - 1);

		w = PC_MAP(c, pc, last);
		if ((c->ct->map_set_is_free ? w : ~w) & beyond)
			return vfail(v, "PV-CHUNK-BITMAP", "chunk 0x%08x: bitmap word %u = 0x%08x marks entries beyond "
			    "entry %u free", chunk, last, w, c->ct->npcpv);
	}
	if (spare)
		return 0;
	if (!chk_off(c, INV_PV_CHUNK_LISTS) && chk_pmap_of_gva(c, PC_OWNER(c, pc)) < 0)
		return vfail(v, "PV-CHUNK-LISTS", "chunk 0x%08x: its owner 0x%08x is not a live pmap", chunk, PC_OWNER(c, pc));
	if (!chk_off(c, INV_PV_CHUNK_EMPTY) && chk_inuse(c, pc) == 0)
		return vfail(v, "PV-CHUNK-EMPTY", "chunk 0x%08x of pmap 0x%08x has no entry in use "
		    "(%s %08x %08x ... %08x) but was not freed", chunk, PC_OWNER(c, pc), c->ct->name.map, PC_MAP(c, pc, 0),
		    PC_MAP(c, pc, 1), PC_MAP(c, pc, c->ct->npcm - 1));
	if (chk_off(c, INV_PV_CHUNK_LISTS))
		return 0;
	if (chk_links(c, chunk, &c->ct->pc_link, "pmap list", v) < 0 ||
	    (c->ct->has_global && chk_links(c, chunk, &c->ct->pc_global, "global list", v) < 0))
		return -1;
	return c->ct->order_free_first ? chk_order(c, chunk, pc, v) : 0;
}
