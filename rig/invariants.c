/*
 * invariants.c - owns the full check: one function per catalog ID, each
 * proving its rule from guest memory alone (through the ABI header and the
 * host page walker, never by calling guest code). Garbage pointers, cycles
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

/* The kernel pmap and every pmap on allpmaps (bounded); -1 on a broken list. */
int chk_load_pmaps(struct checker *c, struct violation *v)
{
	struct pmaplist *all = GV(c->m, struct pmaplist, c->gi->gi_allpmaps);
	uint32_t p = c->gi->gi_kernel_pmap;

	c->npmaps = 0;
	for (int i = 0; p != 0; i++) {
		struct pmap *pm = GV(c->m, struct pmap, p);

		if (c->npmaps == CHK_MAX_PMAPS || pm == NULL)
			return vfail(v, "PD-SELFMAP", "allpmaps is broken at struct pmap 0x%08x (%s)", p,
			    pm ? "longer than any run can make it: a cycle?" : "unreadable");
		c->pmaps[c->npmaps].gva = p;
		c->pmaps[c->npmaps].pd = pm->pm_pdir_pa;
		c->pmaps[c->npmaps].pde = phys_ptr(&c->m->pm, pm->pm_pdir_pa & PG_FRAME, PAGE_SIZE);
		if (c->pmaps[c->npmaps].pde == NULL)
			return vfail(v, "PD-SELFMAP", "pmap 0x%08x: directory 0x%08x is outside RAM", p, pm->pm_pdir_pa);
		c->npmaps++;
		p = i == 0 ? (all ? all->tqh_first : 0) : pm->pm_list.tqe_next;
	}
	return 0;
}

/* PD-SELFMAP: every directory maps itself at PTDPTDI, writable. */
int chk_pd_selfmap(struct checker *c, const struct chk_pmap *p, struct violation *v)
{
	uint32_t e = p->pde[PTDPTDI];

	(void)c;
	if ((e & (PG_V | PG_RW)) == (PG_V | PG_RW) && (e & PG_FRAME) == (p->pd & PG_FRAME))
		return 0;
	return vfail(v, "PD-SELFMAP", "pmap 0x%08x: directory 0x%08x has PDE[%u] = 0x%08x, not itself "
	    "(0x%08x | PG_V | PG_RW)", p->gva, p->pd, PTDPTDI, e, p->pd & PG_FRAME);
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
		for (uint32_t pdx = KPTDI; i > 0 && pdx < PTDPTDI; pdx++)
			if (!chk_off(c, INV_PD_KERNEL) && chk_pd_kernel(c, &c->pmaps[i], pdx, v) < 0)
				return -1;
	}
	return 0;
}

/* The vm_page record of physical page pg (NULL if unreadable). */
struct vm_page *chk_page(struct checker *c, uint32_t pg)
{
	if (pg >= c->gi->gi_vm_page_count)
		return NULL;
	return GV(c->m, struct vm_page, c->gi->gi_vm_page_array + pg * (uint32_t)sizeof(struct vm_page));
}

/* PT-COUNT for the user page table at PDE pdx of pmap p. */
int chk_pt_count(struct checker *c, const struct chk_pmap *p, uint32_t pdx, struct violation *v)
{
	uint32_t pde = p->pde[pdx], n = 0;
	const uint32_t *pt = phys_ptr(&c->m->pm, pde & PG_FRAME, PAGE_SIZE);
	struct vm_page *m = chk_page(c, pde >> PAGE_SHIFT);

	if (!(pde & PG_V) || (pde & PG_PS))
		return 0;
	if (pt == NULL || m == NULL)
		return vfail(v, "PT-COUNT", "pmap 0x%08x: PDE[%u] = 0x%08x points outside RAM", p->gva, pdx, pde);
	for (int i = 0; i < NPTEPG; i++)
		n += pt[i] & PG_V;
	if (m->state != VPS_PTP || m->wire_count != n || n == 0)
		return vfail(v, "PT-COUNT", "pmap 0x%08x: page table 0x%08x for va 0x%08x-0x%08x holds %u valid PTEs; "
		    "its vm_page says state %u, wire_count %u%s", p->gva, pde & PG_FRAME, pdx << PDRSHIFT,
		    (pdx << PDRSHIFT) + (NBPDR - 1), n, m->state, m->wire_count,
		    n == 0 ? " (an empty page table must be freed and its PDE cleared)" : "");
	return 0;
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
	/* the array is page-aligned: the word's page offset is its array offset's */
	return (e->pa - e->va * (uint32_t)sizeof(struct vm_page)) & PAGE_MASK;
}

int chk_is_free_bit(const struct pv_chunk *pc, int idx)
{
	return (pc->pc_map[idx / 32] >> (idx % 32)) & 1;
}

int chk_inuse(const struct pv_chunk *pc)
{
	int free = 0;

	for (int i = 0; i < _NPCM - 1; i++)
		free += __builtin_popcount(pc->pc_map[i]);
	free += __builtin_popcount(pc->pc_map[_NPCM - 1] & PC_FREE_LAST);
	return _NPCPV - free;
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
	struct vm_page *m = chk_page(c, pte >> PAGE_SHIFT);
	uint32_t e, n = 0, limit;
	int seen = 0;
	char flags[96];

	if (m == NULL)
		return vfail(v, "PV-MAPPING", "pmap 0x%08x va 0x%08x: managed PTE 0x%08x maps a page outside RAM",
		    pmap, va, pte);
	limit = gv_u32(c->m, c->gi->gi_pv_entry_count) + 1;
	e = m->pv_list.tqh_first;
	for (uint32_t i = 0; e != 0 && i <= limit; i++) {
		seen |= e == entry;
		struct pv_entry *pv = GV(c->m, struct pv_entry, e);
		struct pv_chunk *pc = GV(c->m, struct pv_chunk, e & PG_FRAME);

		if (pv == NULL || pc == NULL)
			return vfail(v, "PV-MAPPING", "page 0x%08x: pv list reaches unreadable entry 0x%08x",
			    pte & PG_FRAME, e);
		n += pv->pv_va == va && pc->pc_pmap == pmap;
		e = pv->pv_next.tqe_next;
	}
	if (n == 1 && entry != 0 && !seen)
		return vfail(v, "PV-MAPPING", "pv entry 0x%08x is in use for pmap 0x%08x va 0x%08x, but page 0x%08x's "
		    "list holds another entry for it", entry, pmap, va, pte & PG_FRAME);
	if (n == 1)
		return 0;
	return vfail(v, "PV-MAPPING", "pmap 0x%08x va 0x%08x: managed PTE 0x%08x (%s) has %u pv entries on page "
	    "0x%08x's list (pv_count %u), not exactly one", pmap, va, pte, pte_flags(pte, flags, sizeof(flags)),
	    n, pte & PG_FRAME, m->pv_count);
}

/* The PTE for va in the space of the pmap at gva (0 when absent). */
static uint32_t pte_in(struct checker *c, uint32_t pmap, uint32_t va, int *ok)
{
	struct pmap *pm = GV(c->m, struct pmap, pmap);
	struct walk w;

	*ok = pm != NULL && gv_walk(c->m, pm->pm_pdir_pa, va, &w) != WALK_BAD_TABLE;
	return *ok && (w.status == WALK_MAPPED || w.status == WALK_NO_PTE) ? w.pte : 0;
}

/* PV-MAPPING, entry side: an in-use entry names a valid managed PTE whose page lists it. */
int chk_pv_entry(struct checker *c, uint32_t chunk, int idx, struct violation *v)
{
	struct pv_chunk *pc = GV(c->m, struct pv_chunk, chunk);
	struct pv_entry *pv = &pc->pc_pventry[idx];
	int ok;
	uint32_t pte = pte_in(c, pc->pc_pmap, pv->pv_va, &ok);

	if (!ok || (pte & (PG_V | PG_MANAGED)) != (PG_V | PG_MANAGED))
		return vfail(v, "PV-MAPPING", "pv entry %d of chunk 0x%08x (at 0x%08x) names pmap 0x%08x va 0x%08x, "
		    "whose PTE is 0x%08x: not a valid managed mapping", idx, chunk,
		    chunk + (uint32_t)offsetof(struct pv_chunk, pc_pventry) + idx * 12, pc->pc_pmap, pv->pv_va, pte);
	return chk_pte_has_this_pv(c, pc->pc_pmap, pv->pv_va, pte,
	    chunk + (uint32_t)offsetof(struct pv_chunk, pc_pventry) + (uint32_t)idx * 12, v);
}

/* Does a chunk's list link (at offset off) hang together with its neighbours? */
static int chk_links(struct checker *c, uint32_t chunk, uint32_t off, const char *list, struct violation *v)
{
	uint32_t next = gv_u32(c->m, chunk + off), prev = gv_u32(c->m, chunk + off + 4);

	if (prev == 0 || gv_u32(c->m, prev) != chunk)
		return vfail(v, "PV-CHUNK-LISTS", "chunk 0x%08x: %s.tqe_prev = 0x%08x does not point back at it",
		    chunk, list, prev);
	if (next != 0 && gv_u32(c->m, next + off + 4) != chunk + off)
		return vfail(v, "PV-CHUNK-LISTS", "chunk 0x%08x: its %s successor 0x%08x does not point back at it",
		    chunk, list, next);
	return 0;
}

/* Full chunks sit behind chunks with free entries on the pmap's list (both neighbours). */
static int chk_order(struct checker *c, uint32_t chunk, const struct pv_chunk *pc, struct violation *v)
{
	uint32_t next = pc->pc_list.tqe_next, prevnext = pc->pc_list.tqe_prev;
	struct pv_chunk *npc = next ? GV(c->m, struct pv_chunk, next) : NULL;
	/* tqe_prev points into the previous chunk, unless it is the list head in struct pmap */
	uint32_t prev = (prevnext & PAGE_MASK) == offsetof(struct pv_chunk, pc_list) ? prevnext & PG_FRAME : 0;
	struct pv_chunk *ppc = prev ? GV(c->m, struct pv_chunk, prev) : NULL;

	if (npc != NULL && chk_inuse(pc) == _NPCPV && chk_inuse(npc) < _NPCPV)
		return vfail(v, "PV-CHUNK-LISTS", "pmap 0x%08x: full chunk 0x%08x sits ahead of chunk 0x%08x, "
		    "which has %d free entries", pc->pc_pmap, chunk, next, _NPCPV - chk_inuse(npc));
	if (ppc != NULL && ppc->pc_pmap == pc->pc_pmap && chk_inuse(ppc) == _NPCPV && chk_inuse(pc) < _NPCPV)
		return vfail(v, "PV-CHUNK-LISTS", "pmap 0x%08x: full chunk 0x%08x sits ahead of chunk 0x%08x, "
		    "which has %d free entries", pc->pc_pmap, prev, chunk, _NPCPV - chk_inuse(pc));
	return 0;
}

/* The local chunk rules for one allocated chunk. */
int chk_chunk(struct checker *c, uint32_t chunk, struct violation *v)
{
	struct pv_chunk *pc = GV(c->m, struct pv_chunk, chunk);
	int spare = pc != NULL && pc->pc_pmap == 0 && !strcmp(c->gi->gi_policy, "nofree");

	if (pc == NULL)
		return vfail(v, "PV-KVA", "chunk 0x%08x is not mapped", chunk);
	if ((pc->pc_map[_NPCM - 1] & ~PC_FREE_LAST) && !chk_off(c, INV_PV_CHUNK_BITMAP))
		return vfail(v, "PV-CHUNK-BITMAP", "chunk 0x%08x: pc_map[%d] = 0x%08x has bits beyond entry %d set",
		    chunk, _NPCM - 1, pc->pc_map[_NPCM - 1], _NPCPV);
	if (spare)
		return 0;
	if (!chk_off(c, INV_PV_CHUNK_LISTS) && chk_pmap_of_gva(c, pc->pc_pmap) < 0)
		return vfail(v, "PV-CHUNK-LISTS", "chunk 0x%08x: pc_pmap 0x%08x is not a live pmap", chunk, pc->pc_pmap);
	if (!chk_off(c, INV_PV_CHUNK_EMPTY) && chk_inuse(pc) == 0)
		return vfail(v, "PV-CHUNK-EMPTY", "chunk 0x%08x of pmap 0x%08x has no entry in use "
		    "(pc_map %08x %08x ... %08x) but was not freed", chunk, pc->pc_pmap, pc->pc_map[0], pc->pc_map[1],
		    pc->pc_map[_NPCM - 1]);
	if (chk_off(c, INV_PV_CHUNK_LISTS))
		return 0;
	if (chk_links(c, chunk, offsetof(struct pv_chunk, pc_list), "pc_list", v) < 0 ||
	    chk_links(c, chunk, offsetof(struct pv_chunk, pc_lru), "pc_lru", v) < 0)
		return -1;
	return chk_order(c, chunk, pc, v);
}
