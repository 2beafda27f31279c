/*
 * pmap.c - the bsd7 guest's i386 pmap (two levels, 4 KiB pages, non-PAE),
 * written to FreeBSD 7's conventions (see pmap.h for how they differ from
 * the reference guests').
 *  - The current space's page tables are at PTmap, through the recursive
 *    slot PTDPTDI = KPTDI - 1; any other pmap's through the window PADDR1.
 *  - The kernel part of every directory, [KPTDI, NPDEPG), is the same:
 *    pmap_pinit copies it, pmap_growkernel writes each new PDE into every
 *    pmap on allpmaps (the kernel pmap is one of them).
 *  - A user page-table page counts its valid PTEs in wire_count and is
 *    freed when the count drops to zero.
 *  - Every managed mapping has exactly one pv entry on its page's list;
 *    every path that retires a managed PTE folds its PG_A and PG_M into
 *    the page's aflags first, so the VM never loses them.
 */
#include "kernel.h"
#include "pmap.h"

struct pmap kernel_pmap_store;
struct pmaplist allpmaps;
vm_offset_t kernel_vm_end;		/* end of KVA backed by page tables */
static vm_offset_t virtual_avail;	/* next KVA pmap_steal_kva hands out */
static vm_paddr_t avail_start;		/* next physical page to steal */
static struct pmap *curpmap = &kernel_pmap_store;

/* The window for other pmaps' page tables, and one for zeroing pages. */
static pt_entry_t *PMAP1, *PADDR1, *CMAP2;
static void *CADDR2;

/* KVA slots for user page directories. */
static vm_offset_t pdir_kva;
static uint8_t pdir_used[NPMAPS_MAX];

/* Is pmap the space in CR3 (the kernel pmap is in every space)? */
boolean_t pmap_is_current(struct pmap *pmap)
{
	return pmap == kernel_pmap || (rcr3() & PG_FRAME) == pmap->pm_cr3;
}

/* Drop va's translation from the TLB if pmap's may be cached. */
void pmap_invalidate_page(struct pmap *pmap, vm_offset_t va)
{
#ifndef RIG_BUG_FORGET_INVLPG	/* planted bug: the TLB keeps the old translation */
	if (pmap_is_current(pmap))
		invlpg(va);
#else
	(void)pmap, (void)va;
#endif
}

/* Bootstrap: the next physical page after the kernel. */
static vm_paddr_t pmap_steal_page(void)
{
	vm_paddr_t pa = avail_start;

	if (pa + PAGE_SIZE > guest_info.gi_ram_size)
		panic("pmap_bootstrap: out of physical memory");
	avail_start += PAGE_SIZE;
	return pa;
}

/* Bootstrap: npages of KVA with page tables, no pages behind. */
vm_offset_t pmap_steal_kva(uint32_t npages)
{
	vm_offset_t va = virtual_avail;

	for (uint32_t i = 0; i < npages; i++) {
		pd_entry_t *pde = &kernel_pmap->pm_pdir[PDX(va + i * PAGE_SIZE)];

		if ((*pde & PG_V) == 0) {
			*pde = pmap_steal_page() | PG_V | PG_RW | PG_A | PG_M;
			pagezero(vtopte(trunc_4mpage(va + i * PAGE_SIZE)));
		}
	}
	virtual_avail += npages * PAGE_SIZE;
	return va;
}

/*
 * Set up the kernel pmap (on allpmaps, as FreeBSD does) and steal the
 * vm_page array, the windows, directory slots and the pv chunk block.
 */
void pmap_bootstrap(vm_paddr_t firstaddr)
{
	uint32_t npages = guest_info.gi_ram_size >> PAGE_SHIFT, maxchunks;
	vm_offset_t va;

	avail_start = firstaddr;
	virtual_avail = KERNBASE + NKPT_BOOT * NBPDR;
	kernel_pmap->pm_pdir = boot_pd;
	kernel_pmap->pm_cr3 = rcr3() & PG_FRAME;
	kernel_pmap->pm_active = 1;
	mtx_init(&kernel_pmap->pm_mtx, "pmap", MTX_DEF);
	TAILQ_INIT(&kernel_pmap->pm_pvchunk);
	LIST_INSERT_HEAD(&allpmaps, kernel_pmap, pm_list);

	vm_page_array_size = npages;
	va = pmap_steal_kva(round_page(npages * sizeof(struct vm_page)) >> PAGE_SHIFT);
	for (vm_offset_t a = va; a < virtual_avail; a += PAGE_SIZE)
		*vtopte(a) = pmap_steal_page() | PG_V | PG_RW | PG_A | PG_M;
	vm_page_array = (struct vm_page *)va;
	PADDR1 = (pt_entry_t *)pmap_steal_kva(1);
	PMAP1 = vtopte(PADDR1);
	CADDR2 = (void *)pmap_steal_kva(1);
	CMAP2 = vtopte(CADDR2);
	pdir_kva = pmap_steal_kva(NPMAPS_MAX);
	maxchunks = guest_info.gi_pv_maxchunks_req ? guest_info.gi_pv_maxchunks_req
	    : npages / 64 < 16 ? 16 : npages / 64 > 4096 ? 4096 : npages / 64;
	pv_bootstrap(maxchunks);
	kernel_vm_end = round_4mpage(virtual_avail);
}

/* After bootstrap: the page array, the pv system, and what the rig reads. */
void pmap_init(void)
{
	vm_page_startup(avail_start);
	pv_init();
	guest_info.gi_kernel_vm_end = &kernel_vm_end;
	guest_info.gi_kva_free = round_4mpage(virtual_avail);
}

/* Zero a physical page through the CADDR2 window. */
static void pmap_zero_page(struct vm_page *m)
{
	*CMAP2 = m->phys_addr | PG_V | PG_RW | PG_A | PG_M;
	invlpg((vm_offset_t)CADDR2);
	pagezero(CADDR2);
	*CMAP2 = 0;
	invlpg((vm_offset_t)CADDR2);
}

/* The PTE for va in pmap, NULL without a page table; valid until the next call. */
pt_entry_t *pmap_pte(struct pmap *pmap, vm_offset_t va)
{
	pd_entry_t pde = pmap->pm_pdir[PDX(va)];

	if ((pde & PG_V) == 0 || (pde & PG_PS))
		return NULL;
	if (pmap_is_current(pmap))
		return vtopte(va);
	if ((*PMAP1 & PG_FRAME) != PTE_ADDR(pde)) {
		*PMAP1 = PTE_ADDR(pde) | PG_V | PG_RW | PG_A | PG_M;
		invlpg((vm_offset_t)PADDR1);
	}
	return PADDR1 + PTX(va);
}

/* Give the kernel page tables up to addr, in every directory on allpmaps. */
void pmap_growkernel(vm_offset_t addr)
{
	struct vm_page *m;
	struct pmap *pmap;

	addr = round_4mpage(addr);
	while (kernel_vm_end < addr && kernel_vm_end != 0) {
		if ((kernel_pmap->pm_pdir[PDX(kernel_vm_end)] & PG_V) == 0) {
			if ((m = vm_page_alloc(1)) == NULL)
				panic("pmap_growkernel: no memory to grow kernel");
			pmap_zero_page(m);
			LIST_FOREACH(pmap, &allpmaps, pm_list)
				pmap->pm_pdir[PDX(kernel_vm_end)] = m->phys_addr | PG_V | PG_RW | PG_A | PG_M;
		}
		kernel_vm_end += NBPDR;
	}
}

/* An unmanaged kernel mapping va -> pa. */
void pmap_kenter(vm_offset_t va, vm_paddr_t pa)
{
	pt_entry_t opte = *vtopte(va);

	*vtopte(va) = PTE_ADDR(pa) | PG_V | PG_RW | PG_A | PG_M;
	if (opte & PG_V)
		invlpg(va);
}

/* Remove an unmanaged kernel mapping. */
void pmap_kremove(vm_offset_t va)
{
	pt_entry_t opte = *vtopte(va);

	*vtopte(va) = 0;
	if (opte & PG_V)
		invlpg(va);
}

/* A new user pmap: a directory with the kernel's PDEs and its own recursive slot; 0 if none. */
int pmap_pinit(struct pmap *pmap)
{
	struct vm_page *m;
	int slot = -1;

	for (int i = 0; i < NPMAPS_MAX && slot < 0; i++)
		if (!pdir_used[i])
			slot = i;
	if (slot < 0 || (m = vm_page_alloc(1)) == NULL)
		return 0;
	pdir_used[slot] = 1;
	memset(pmap, 0, sizeof(*pmap));
	pmap->pm_pdir = (pd_entry_t *)(pdir_kva + slot * PAGE_SIZE);
	pmap->pm_cr3 = m->phys_addr;
	pmap_kenter((vm_offset_t)pmap->pm_pdir, m->phys_addr);
	pagezero(pmap->pm_pdir);
	for (u_int i = KPTDI; i < NPDEPG; i++)
		pmap->pm_pdir[i] = kernel_pmap->pm_pdir[i];
	pmap->pm_pdir[PTDPTDI] = m->phys_addr | PG_V | PG_RW | PG_A | PG_M;
	mtx_init(&pmap->pm_mtx, "pmap", MTX_DEF);
	TAILQ_INIT(&pmap->pm_pvchunk);
	LIST_INSERT_HEAD(&allpmaps, pmap, pm_list);
	return 1;
}

/* Free an empty pmap's directory and slot. */
void pmap_release(struct pmap *pmap)
{
	struct vm_page *m = PHYS_TO_VM_PAGE(pmap->pm_cr3);

	KASSERT(pmap->pm_stats.resident_count == 0, ("pmap_release: resident count %ld", pmap->pm_stats.resident_count));
	KASSERT(TAILQ_EMPTY(&pmap->pm_pvchunk), ("pmap_release: pmap has pv chunks"));
	LIST_REMOVE(pmap, pm_list);
	pmap_kremove((vm_offset_t)pmap->pm_pdir);
	pdir_used[((vm_offset_t)pmap->pm_pdir - pdir_kva) / PAGE_SIZE] = 0;
	vm_page_free(m);
}

/* Load pmap's directory into CR3. */
void pmap_activate(struct pmap *pmap)
{
	curpmap->pm_active = 0;
	pmap->pm_active = 1;
	curpmap = pmap;
	load_cr3(pmap->pm_cr3);
}

/* The page-table page covering user va. */
static struct vm_page *pmap_ptp(struct pmap *pmap, vm_offset_t va)
{
	return PHYS_TO_VM_PAGE(PTE_ADDR(pmap->pm_pdir[PDX(va)]));
}

/* One valid PTE less in the user page table at va; free it at zero. */
static void pmap_unuse_pt(struct pmap *pmap, vm_offset_t va)
{
	struct vm_page *m;

	if (va >= VM_MAXUSER_ADDRESS || --(m = pmap_ptp(pmap, va))->wire_count > 0)
		return;
	pmap->pm_pdir[PDX(va)] = 0;
	pmap_invalidate_page(pmap, (vm_offset_t)vtopte(trunc_4mpage(va)));
	if ((*PMAP1 & PG_FRAME) == m->phys_addr) {
		*PMAP1 = 0;
		invlpg((vm_offset_t)PADDR1);
	}
	vm_page_free(m);
}

/* Fold a retired PTE's accessed and modified bits into its page. */
static void pmap_save_ad(struct vm_page *m, pt_entry_t pte)
{
	if (pte & PG_A)
		m->aflags |= PGA_REFERENCED;
	if (pte & PG_M)
		m->aflags |= PGA_DIRTY;
}

/*
 * Clear the mapping of va in pmap (locked) unless it is wired and pvp is
 * NULL (reclaim takes only unwired mappings). Its A/D bits go to the page,
 * its pv entry off the page's list (to *pvp, or left for the caller to
 * free in its chunk). TRUE if it was removed.
 */
boolean_t pmap_unmap_one(struct pmap *pmap, vm_offset_t va, struct pv_entry **pvp)
{
	pt_entry_t *pte = pmap_pte(pmap, va), opte;
	struct pv_entry *pv = NULL;

	if (pte == NULL || (*pte & PG_V) == 0 || (pvp == NULL && (*pte & PG_W)))
		return FALSE;
	opte = __atomic_exchange_n(pte, 0, __ATOMIC_SEQ_CST);
	pmap_invalidate_page(pmap, va);
	if (opte & PG_W)
		pmap->pm_stats.wired_count--;
	if ((opte & PG_MANAGED) || va < VM_MAXUSER_ADDRESS)
		pmap->pm_stats.resident_count--;
	if (opte & PG_MANAGED) {
		pmap_save_ad(PHYS_TO_VM_PAGE(PTE_ADDR(opte)), opte);
		pv = pmap_pvh_remove(PHYS_TO_VM_PAGE(PTE_ADDR(opte)), pmap, va);
	}
	pmap_unuse_pt(pmap, va);
	if (pvp != NULL)
		*pvp = pv;
	return TRUE;
}

/* Remove the mapping of va in pmap (locked) and free its pv entry. */
static void pmap_remove_one(struct pmap *pmap, vm_offset_t va)
{
	struct pv_entry *pv = NULL;

	if (pmap_unmap_one(pmap, va, &pv) && pv != NULL)
		free_pv_entry(pmap, pv);
}

/*
 * A page table for user va, waiting for memory as FreeBSD 7's
 * pmap_allocpte(M_WAITOK) does: with nothing to free memory, for ever.
 */
static void pmap_allocpte(struct pmap *pmap, vm_offset_t va)
{
	struct vm_page *m;

	if (va >= VM_MAXUSER_ADDRESS || (pmap->pm_pdir[PDX(va)] & PG_V))
		return;
	while ((m = vm_page_alloc(1)) == NULL)
		vm_wait();
	pmap_zero_page(m);
	pmap->pm_pdir[PDX(va)] = m->phys_addr | PG_V | PG_RW | PG_U | PG_A | PG_M;
}

/*
 * Map m at va (pmap_enter). Nothing to return: a page table or pv entry
 * that cannot be had is waited for, as FreeBSD 7 does (VM_WAIT), and the
 * call does not return until it can be. The same page again changes
 * protection and wiring in place; another page is replaced.
 */
void pmap_enter(struct pmap *pmap, vm_offset_t va, struct vm_page *m, vm_prot_t prot, boolean_t wired)
{
	pt_entry_t newpte = m->phys_addr | PG_V, *pte;
	struct pv_entry *pv = NULL;

	va = trunc_page(va);
	if (prot & VM_PROT_WRITE)
		newpte |= PG_RW;
	if (wired)
		newpte |= PG_W;
	if (va < VM_MAXUSER_ADDRESS)
		newpte |= PG_U;
	if ((m->oflags & VPO_UNMANAGED) == 0)
		newpte |= PG_MANAGED;
	mtx_lock(&vm_page_queue_mtx);
	PMAP_LOCK(pmap);
	pmap_allocpte(pmap, va);
	pte = pmap_pte(pmap, va);
	if ((*pte & PG_V) && PTE_ADDR(*pte) == m->phys_addr && (*pte & PG_MANAGED) == (newpte & PG_MANAGED)) {
		pt_entry_t opte = *pte;

		pmap->pm_stats.wired_count += (newpte & PG_W ? 1 : 0) - (opte & PG_W ? 1 : 0);
		newpte |= opte & (PG_A | ((newpte & PG_RW) ? PG_M : 0));
		if ((opte & PG_M) && !(newpte & PG_RW) && (opte & PG_MANAGED))
			pmap_save_ad(m, PG_M);
		if (newpte != opte) {
			*pte = newpte;
			pmap_invalidate_page(pmap, va);
		}
	} else {
		if (newpte & PG_MANAGED)
			while ((pv = get_pv_entry(pmap)) == NULL)
				vm_wait();
		pmap_allocpte(pmap, va);	/* reclaim may have freed it */
		pmap_remove_one(pmap, va);
		pmap_allocpte(pmap, va);
		if (pv != NULL)
			pmap_insert_entry(pmap, va, m, pv);
		if (newpte & PG_W)
			pmap->pm_stats.wired_count++;
		if ((newpte & PG_MANAGED) || va < VM_MAXUSER_ADDRESS)
			pmap->pm_stats.resident_count++;
		if (va < VM_MAXUSER_ADDRESS)
			pmap_ptp(pmap, va)->wire_count++;
		*pmap_pte(pmap, va) = newpte;
	}
	PMAP_UNLOCK(pmap);
	mtx_unlock(&vm_page_queue_mtx);
}

/* Remove the mappings of [sva, eva) (pmap_remove). */
void pmap_remove(struct pmap *pmap, vm_offset_t sva, vm_offset_t eva)
{
	mtx_lock(&vm_page_queue_mtx);
	PMAP_LOCK(pmap);
	for (vm_offset_t va = trunc_page(sva); va < eva && va >= trunc_page(sva); va += PAGE_SIZE) {
		if ((pmap->pm_pdir[PDX(va)] & PG_V) == 0) {
			va = trunc_4mpage(va) + NBPDR - PAGE_SIZE;	/* no page table: skip its 4 MiB */
			continue;
		}
		pmap_remove_one(pmap, va);
	}
	PMAP_UNLOCK(pmap);
	mtx_unlock(&vm_page_queue_mtx);
}

/* Reduce [sva, eva) to prot: no read removes, no write clears PG_RW (saving PG_M). */
void pmap_protect(struct pmap *pmap, vm_offset_t sva, vm_offset_t eva, vm_prot_t prot)
{
	pt_entry_t *pte, obits;

	if ((prot & VM_PROT_READ) == 0) {
		pmap_remove(pmap, sva, eva);
		return;
	}
	if (prot & VM_PROT_WRITE)
		return;
	mtx_lock(&vm_page_queue_mtx);
	PMAP_LOCK(pmap);
	for (vm_offset_t va = trunc_page(sva); va < eva && va >= trunc_page(sva); va += PAGE_SIZE) {
		if ((pte = pmap_pte(pmap, va)) == NULL) {
			va = trunc_4mpage(va) + NBPDR - PAGE_SIZE;
			continue;
		}
		if ((*pte & (PG_V | PG_RW)) != (PG_V | PG_RW))
			continue;
		obits = __atomic_fetch_and(pte, ~(pt_entry_t)(PG_RW | PG_M), __ATOMIC_SEQ_CST);
		if ((obits & PG_M) && (obits & PG_MANAGED))
			pmap_save_ad(PHYS_TO_VM_PAGE(PTE_ADDR(obits)), PG_M);
		pmap_invalidate_page(pmap, va);
	}
	PMAP_UNLOCK(pmap);
	mtx_unlock(&vm_page_queue_mtx);
}

/* Remove every mapping of m (pmap_remove_all). */
void pmap_remove_all(struct vm_page *m)
{
	struct pv_entry *pv;

	mtx_lock(&vm_page_queue_mtx);
	while ((pv = TAILQ_FIRST(&m->md.pv_list)) != NULL) {
		struct pmap *pmap = PV_PMAP(pv);

		PMAP_LOCK(pmap);
		pmap_remove_one(pmap, pv->pv_va);
		PMAP_UNLOCK(pmap);
	}
	mtx_unlock(&vm_page_queue_mtx);
}

/* Does some mapping of m have every bit of `bits`? */
static boolean_t pmap_test_bits(struct vm_page *m, pt_entry_t bits)
{
	struct pv_entry *pv;
	boolean_t rv = FALSE;

	mtx_lock(&vm_page_queue_mtx);
	TAILQ_FOREACH(pv, &m->md.pv_list, pv_list) {
		struct pmap *pmap = PV_PMAP(pv);

		PMAP_LOCK(pmap);
		rv = (*pmap_pte(pmap, pv->pv_va) & bits) == bits;
		PMAP_UNLOCK(pmap);
		if (rv)
			break;
	}
	mtx_unlock(&vm_page_queue_mtx);
	return rv;
}

/* Has some mapping of m been written through? */
boolean_t pmap_is_modified(struct vm_page *m)
{
	return pmap_test_bits(m, PG_M);
}

/* Has some mapping of m been used? */
boolean_t pmap_is_referenced(struct vm_page *m)
{
	return pmap_test_bits(m, PG_A);
}

/* Clear PG_M in every mapping of m, and its dirty summary. */
void pmap_clear_modify(struct vm_page *m)
{
	struct pv_entry *pv;

	mtx_lock(&vm_page_queue_mtx);
	TAILQ_FOREACH(pv, &m->md.pv_list, pv_list) {
		struct pmap *pmap = PV_PMAP(pv);
		pt_entry_t *pte;

		PMAP_LOCK(pmap);
		pte = pmap_pte(pmap, pv->pv_va);
		if (*pte & PG_M) {
			__atomic_and_fetch(pte, ~(pt_entry_t)PG_M, __ATOMIC_SEQ_CST);
			pmap_invalidate_page(pmap, pv->pv_va);
		}
		PMAP_UNLOCK(pmap);
	}
	m->aflags &= ~PGA_DIRTY;
	mtx_unlock(&vm_page_queue_mtx);
}
