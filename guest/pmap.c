/*
 * pmap.c - an i386 pmap: two-level page tables, 4 KiB pages, non-PAE.
 *
 * The shape is FreeBSD's i386 pmap.c of 2006, SMP as it was:
 *  - the current address space's page tables are reached through the
 *    recursive slot PTDPTDI (vtopte); any other pmap's through this CPU's
 *    temporary window PADDR1 (pmap_pte_quick);
 *  - pm_active is the set of CPUs with the pmap in CR3; a changed
 *    translation is invalidated here and, by a shootdown IPI, on every
 *    other CPU where the pmap is active (every CPU for the kernel's);
 *  - the kernel part of the directory, [KPTDI, PTDPTDI), is the same in every
 *    pmap: pmap_pinit copies it and pmap_growkernel writes new entries into
 *    every pmap on allpmaps;
 *  - every managed mapping has exactly one pv entry on its page's pv list
 *    (pmap_pv.c); user page-table pages count their valid PTEs in wire_count
 *    and are freed when the count reaches zero.
 */
#include "kernel.h"
#include "pmap.h"

struct pmap kernel_pmap_store;
struct pmaplist allpmaps = TAILQ_HEAD_INITIALIZER(allpmaps);
vm_offset_t kernel_vm_end;		/* end of KVA backed by page tables */
vm_offset_t virtual_avail;		/* next KVA pmap_steal_kva hands out */
vm_paddr_t avail_start;			/* next physical page to steal */
static uint32_t nkpt;			/* kernel page-table pages */

/* This CPU's temporary mapping windows: PADDR1 for pmap_pte_quick, CADDR2 for zeroing. */
#define PMAP1		(PCPU()->pc_pmap1)
#define PADDR1		(PCPU()->pc_paddr1)
#define CMAP2		(PCPU()->pc_cmap2)
#define CADDR2		(PCPU()->pc_caddr2)

/* KVA slots for the page directories of user pmaps. */
static vm_offset_t pdir_kva;
static uint8_t pdir_slot_used[NPMAPS_MAX];

/* Is pmap the one loaded in CR3 (or the kernel pmap, present in all)? */
boolean_t pmap_is_current(struct pmap *pmap)
{
	return pmap == kernel_pmap || (rcr3() & PG_FRAME) == pmap->pm_pdir_pa;
}

/*
 * TLB shootdown (FreeBSD's smp_masked_invlpg). Invariant: when it returns,
 * every CPU in `cpus` has run the IPI handler, which invalidated va (or its
 * whole TLB, for RIG_IPI_ALL) before acknowledging. One shootdown at a time:
 * smp_ipi_lock is taken with the pmap locks held, so it is last in order.
 */
static struct lock smp_ipi_lock;
static volatile vm_offset_t smp_tlb_addr;	/* what the handler invalidates */
static volatile u_int smp_tlb_wait;		/* handlers that acknowledged */
static struct rig_ipi smp_ipi;

/* The number of CPUs in a set. */
static u_int cpuset_count(u_int cpus)
{
	u_int n = 0;

	for (; cpus != 0; cpus &= cpus - 1)
		n++;
	return n;
}

/* Interrupt cpus to invalidate va of pmap; wait until each acknowledged. */
static void smp_masked_invlpg(u_int cpus, vm_offset_t va, struct pmap *pmap)
{
	u_int n = cpuset_count(cpus);

	lock_acquire(&smp_ipi_lock);
	smp_tlb_addr = va;
	smp_tlb_wait = 0;
	smp_ipi.ri_cpus = cpus;
	smp_ipi.ri_va = va;
	smp_ipi.ri_pmap = (uint32_t)pmap;
	outl(RIG_PORT_IPI, (uint32_t)&smp_ipi);
	while (smp_tlb_wait < n)
		cpu_spinwait();
	lock_release(&smp_ipi_lock);
}

/* The IPI handler (from ipi_invlpg_entry): invalidate, then acknowledge. */
void smp_invlpg_handler(void)
{
	vm_offset_t va = smp_tlb_addr;

#ifdef RIG_BUG_SMP_ACK_EARLY
	outl(RIG_PORT_IPI_ACK, curcpu());
	atomic_add_int(&smp_tlb_wait, 1);
#endif
	if (va == RIG_IPI_ALL)
		invltlb();
	else
		invlpg(va);
#ifndef RIG_BUG_SMP_ACK_EARLY
	outl(RIG_PORT_IPI_ACK, curcpu());
	atomic_add_int(&smp_tlb_wait, 1);
#endif
}

/* The IPI's interrupt entry: the host pushed EFLAGS, CS and EIP. */
__asm__(".text\n"
    ".globl ipi_invlpg_entry\n"
    "ipi_invlpg_entry:\n"
    "	pushal\n"
    "	cld\n"
    "	call smp_invlpg_handler\n"
    "	popal\n"
    "	iret\n");

/* The other CPUs that may cache pmap's translations. */
static u_int pmap_other_cpus(struct pmap *pmap)
{
	u_int cpus = pmap == kernel_pmap ? all_cpus : pmap->pm_active;

#ifdef RIG_BUG_SMP_WRONG_SET
	cpus &= ~1u;		/* forgets the boot CPU */
#endif
	return cpus & ~PCPU()->pc_cpumask;
}

/* Invalidate the TLB entry for va on every CPU that may cache pmap's translation of it. */
void pmap_invalidate_page(struct pmap *pmap, vm_offset_t va)
{
	u_int other = pmap_other_cpus(pmap);

	if (pmap_is_current(pmap))
		invlpg(va);
#ifndef RIG_BUG_SMP_NO_SHOOTDOWN
	if (other != 0)
		smp_masked_invlpg(other, va, pmap);
#else
	(void)other, (void)smp_masked_invlpg;
#endif
}

/* Bootstrap: take the next physical page after the kernel. */
static vm_paddr_t pmap_steal_page(void)
{
	vm_paddr_t pa = avail_start;

	if (pa + PAGE_SIZE > guest_info.gi_ram_size)
		panic("pmap_bootstrap: out of physical memory");
	avail_start += PAGE_SIZE;
	return pa;
}

/* Bootstrap: give va a kernel page table, stolen and zeroed, if it has none. */
static void pmap_bootstrap_pt(vm_offset_t va)
{
	pd_entry_t *pde = &PTD[PDX(va)];

	if (*pde & PG_V)
		return;
	*pde = pmap_steal_page() | PG_V | PG_RW | PG_A | PG_M;
	pagezero(vtopte(trunc_4mpage(va)));
	nkpt++;
}

/* Bootstrap: reserve npages of KVA, with page tables but no pages behind. */
vm_offset_t pmap_steal_kva(uint32_t npages)
{
	vm_offset_t va = virtual_avail;

	for (uint32_t i = 0; i < npages; i++)
		pmap_bootstrap_pt(va + i * PAGE_SIZE);
	virtual_avail += npages * PAGE_SIZE;
	return va;
}

/* Bootstrap: reserve npages of KVA backed by stolen, zeroed pages. */
static void *pmap_steal_memory(uint32_t npages)
{
	vm_offset_t va = pmap_steal_kva(npages);

	for (uint32_t i = 0; i < npages; i++) {
		*vtopte(va + i * PAGE_SIZE) = pmap_steal_page() | PG_V | PG_RW | PG_A | PG_M;
		pagezero((void *)(va + i * PAGE_SIZE));
	}
	return (void *)va;
}

/* The default pv chunk capacity: one chunk per 64 pages of RAM. */
static uint32_t pv_default_maxchunks(uint32_t npages)
{
	uint32_t n = npages / 64;

	return n < 16 ? 16 : n > 4096 ? 4096 : n;
}

/* Bootstrap: a CPU's own mapping windows. */
static void pmap_bootstrap_windows(struct pcpu *pc)
{
	pc->pc_paddr1 = (pt_entry_t *)pmap_steal_kva(1);
	pc->pc_pmap1 = vtopte(pc->pc_paddr1);
	pc->pc_caddr2 = (void *)pmap_steal_kva(1);
	pc->pc_cmap2 = vtopte(pc->pc_caddr2);
}

/*
 * Set up the kernel pmap and steal what the VM system needs before it can
 * allocate pages: the vm_page array, the mapping windows, KVA for page
 * directories and the pv chunk block. Bootstrap KVA starts right above the
 * page tables locore built.
 */
void pmap_bootstrap(vm_paddr_t firstaddr)
{
	uint32_t npages = guest_info.gi_ram_size >> PAGE_SHIFT;

	avail_start = firstaddr;
	nkpt = NKPT_BOOT;
	virtual_avail = KERNBASE + NKPT_BOOT * NBPDR;
	kernel_pmap->pm_pdir = boot_pd;
	kernel_pmap->pm_pdir_pa = rcr3() & PG_FRAME;
	kernel_pmap->pm_active = PCPU()->pc_cpumask;
	lock_init(&kernel_pmap->pm_lock, "pmap", 0);
	lock_init(&smp_ipi_lock, "smp_ipi", 0);
	TAILQ_INIT(&kernel_pmap->pm_pvchunk);

	vm_page_array_size = npages;
	vm_page_array = pmap_steal_memory(round_page(npages * sizeof(struct vm_page)) >> PAGE_SHIFT);
	pmap_bootstrap_windows(&__pcpu[0]);
	pdir_kva = pmap_steal_kva(NPMAPS_MAX);
	pv_maxchunks = guest_info.gi_pv_maxchunks_req ? guest_info.gi_pv_maxchunks_req
	    : pv_default_maxchunks(npages);
	pv_kva_bootstrap();
	for (u_int cpu = 1; cpu < mp_ncpus; cpu++)
		pmap_bootstrap_windows(&__pcpu[cpu]);
	if (mp_ncpus > 1)
		cpu_stacks = (vm_offset_t)pmap_steal_memory((mp_ncpus - 1) * CPU_STACK_PAGES);
	kernel_vm_end = round_4mpage(virtual_avail);
}

/* Zero a physical page through the CADDR2 window (rep stos). */
static void pmap_zero_page(struct vm_page *m)
{
	int n = PAGE_SIZE / 4;
	void *dst = CADDR2;

	*CMAP2 = m->phys_addr | PG_V | PG_RW | PG_A | PG_M;
	invlpg((vm_offset_t)CADDR2);
	__asm__ __volatile__("rep stosl" : "+D"(dst), "+c"(n) : "a"(0) : "memory");
	*CMAP2 = 0;
	invlpg((vm_offset_t)CADDR2);
}

/* Mark the pages the kernel's own tables live in, then start the pv system. */
void pmap_init(void)
{
	struct guest_info *gi = &guest_info;

	PHYS_TO_VM_PAGE(kernel_pmap->pm_pdir_pa)->state = VPS_PDIR;
	for (u_int i = KPTDI; i < PTDPTDI; i++)
		if (kernel_pmap->pm_pdir[i] & PG_V)
			PHYS_TO_VM_PAGE(PTE_ADDR(kernel_pmap->pm_pdir[i]))->state = VPS_PTP;
	pv_init();
	pv_kva_init();
	gi->gi_kernel_vm_end = &kernel_vm_end;
	gi->gi_kva_free = round_4mpage(virtual_avail);
}

/*
 * The PTE for va in pmap, or NULL when no page table covers va. For a pmap
 * other than the current one the page table is mapped at PADDR1; the pointer
 * is good until the next call.
 */
pt_entry_t *pmap_pte_quick(struct pmap *pmap, vm_offset_t va)
{
	pd_entry_t pde = pmap->pm_pdir[PDX(va)];

	if ((pde & PG_V) == 0 || (pde & PG_PS) != 0)
		return NULL;
	if (pmap_is_current(pmap))
		return vtopte(va);
	if ((*PMAP1 & PG_FRAME) != PTE_ADDR(pde)) {
		*PMAP1 = PTE_ADDR(pde) | PG_V | PG_RW | PG_A | PG_M;
		invlpg((vm_offset_t)PADDR1);
	}
	return PADDR1 + PTX(va);
}

/* The physical address va maps to in pmap, or 0. */
vm_paddr_t pmap_extract(struct pmap *pmap, vm_offset_t va)
{
	pd_entry_t pde = pmap->pm_pdir[PDX(va)];
	pt_entry_t *pte;
	vm_paddr_t pa = 0;

	PMAP_LOCK(pmap);
	if ((pde & (PG_V | PG_PS)) == (PG_V | PG_PS))
		pa = (pde & PG_PS_FRAME) | (va & PDRMASK);
	else if ((pte = pmap_pte_quick(pmap, va)) != NULL && (*pte & PG_V))
		pa = PTE_ADDR(*pte) | (va & PAGE_MASK);
	PMAP_UNLOCK(pmap);
	return pa;
}

/*
 * Kernel page tables. pmap_growkernel adds page-table pages until addr is
 * covered and, to keep the kernel part identical everywhere, writes each new
 * PDE into every pmap's directory, the kernel's included.
 */
void pmap_growkernel(vm_offset_t addr)
{
	struct vm_page *m;
	struct pmap *pmap;
	pd_entry_t newpde;

	addr = round_4mpage(addr);
	lock_acquire(&pv_lock);
	while (kernel_vm_end < addr) {
		if (kernel_vm_end >= PTMAP_VA)
			panic("pmap_growkernel: kernel address space exhausted");
		if ((kernel_pmap->pm_pdir[PDX(kernel_vm_end)] & PG_V) == 0) {
			if ((m = vm_page_alloc(VPS_PTP)) == NULL)
				panic("pmap_growkernel: no memory to grow kernel");
			pmap_zero_page(m);
			newpde = m->phys_addr | PG_V | PG_RW | PG_A | PG_M;
			kernel_pmap->pm_pdir[PDX(kernel_vm_end)] = newpde;
#ifndef RIG_BUG_GROWKERNEL_PARTIAL
			TAILQ_FOREACH(pmap, &allpmaps, pm_list)
				pmap->pm_pdir[PDX(kernel_vm_end)] = newpde;
#else
			(void)pmap;
#endif
			nkpt++;
		}
		kernel_vm_end += NBPDR;
	}
	lock_release(&pv_lock);
}

/* Enter an unmanaged kernel mapping va -> pa (pmap_kenter). */
void pmap_kenter(vm_offset_t va, vm_paddr_t pa)
{
	pt_entry_t *pte = vtopte(va);
	pt_entry_t opte = *pte;

	KASSERT(va >= KERNBASE && va < PTMAP_VA, ("pmap_kenter: bad va %x", va));
	*pte = PTE_ADDR(pa) | PG_V | PG_RW | PG_A | PG_M;
	if (opte & PG_V)
		pmap_invalidate_page(kernel_pmap, va);
}

/* Remove an unmanaged kernel mapping (pmap_kremove). */
void pmap_kremove(vm_offset_t va)
{
	pt_entry_t *pte = vtopte(va);
	pt_entry_t opte;

	KASSERT(va >= KERNBASE && va < PTMAP_VA, ("pmap_kremove: bad va %x", va));
	opte = *pte;
	*pte = 0;
	if (opte & PG_V)
		pmap_invalidate_page(kernel_pmap, va);
}

/* Map one page at a kernel VA, unmanaged (pmap_qenter of one page). */
void pmap_qenter(vm_offset_t va, struct vm_page *m)
{
	pmap_kenter(va, m->phys_addr);
}

/* Undo pmap_qenter. */
void pmap_qremove(vm_offset_t va)
{
	pmap_kremove(va);
}

/* Take a free KVA slot for a page directory; -1 when all are in use. */
static int pdir_slot_alloc(void)
{
	for (int i = 0; i < NPMAPS_MAX; i++) {
		if (!pdir_slot_used[i]) {
			pdir_slot_used[i] = 1;
			return i;
		}
	}
	return -1;
}

/*
 * Initialise a new user pmap: a zeroed directory holding the kernel's PDEs
 * and its own recursive slot. Returns 0 when no page or slot is left.
 */
int pmap_pinit(struct pmap *pmap)
{
	struct vm_page *m;
	int slot = pdir_slot_alloc();

	if (slot < 0)
		return 0;
	if ((m = vm_page_alloc(VPS_PDIR)) == NULL) {
		pdir_slot_used[slot] = 0;
		return 0;
	}
	memset(pmap, 0, sizeof(*pmap));
	pmap->pm_pdir = (pd_entry_t *)(pdir_kva + slot * PAGE_SIZE);
	pmap->pm_pdir_pa = m->phys_addr;
	pmap_kenter((vm_offset_t)pmap->pm_pdir, m->phys_addr);
	pagezero(pmap->pm_pdir);
	for (u_int i = KPTDI; i < PTDPTDI; i++)
		pmap->pm_pdir[i] = kernel_pmap->pm_pdir[i];
#ifndef RIG_BUG_SELFMAP_RO
	pmap->pm_pdir[PTDPTDI] = m->phys_addr | PG_V | PG_RW | PG_A | PG_M;
#else
	pmap->pm_pdir[PTDPTDI] = m->phys_addr | PG_V | PG_A | PG_M;
#endif
	lock_init(&pmap->pm_lock, "pmap", 0);
	TAILQ_INIT(&pmap->pm_pvchunk);
	pmap->pm_id = slot + 1;
	TAILQ_INSERT_TAIL(&allpmaps, pmap, pm_list);
	return 1;
}

/* Free the resources of an empty, inactive pmap (pmap_release). */
void pmap_release(struct pmap *pmap)
{
	struct vm_page *m = PHYS_TO_VM_PAGE(pmap->pm_pdir_pa);

	KASSERT(pmap->pm_stats.resident_count == 0,
	    ("pmap_release: pmap resident count %d != 0", pmap->pm_stats.resident_count));
	KASSERT(TAILQ_EMPTY(&pmap->pm_pvchunk), ("pmap_release: pmap has pv chunks"));
	KASSERT(!pmap_is_current(pmap), ("pmap_release: pmap is active"));
	for (u_int i = 0; i < KPTDI; i++)
		KASSERT(pmap->pm_pdir[i] == 0, ("pmap_release: page table %u left", i));
	TAILQ_REMOVE(&allpmaps, pmap, pm_list);
#ifndef RIG_BUG_RELEASE_KEEPS_KVA
	pmap_kremove((vm_offset_t)pmap->pm_pdir);
#endif
	pdir_slot_used[pmap->pm_id - 1] = 0;
	vm_page_free(m);
	pmap->pm_pdir = NULL;
}

/*
 * Make pmap this CPU's address space. Invariant: while a CPU's CR3 holds a
 * pmap's directory, its bit is in that pmap's pm_active (so a shootdown
 * that reads pm_active after changing a PTE reaches every CPU that may
 * cache it): the bit is set before the CR3 load and the old pmap's cleared
 * only after it, the order Linux's switch_mm keeps.
 */
void pmap_activate(struct pmap *pmap)
{
	struct pcpu *pc = PCPU();
	struct pmap *old = pc->pc_curpmap;

	atomic_set_int(&pmap->pm_active, pc->pc_cpumask);
	load_cr3(pmap->pm_pdir_pa);
	pc->pc_curpmap = pmap;
	if (old != pmap)
		atomic_clear_int(&old->pm_active, pc->pc_cpumask);
}

/*
 * User page-table pages. Invariant: a user page-table page's wire_count is
 * the number of valid PTEs in it; a page table whose count drops to zero is
 * unhooked from the directory (and the TLB) and freed at once.
 */

/* Make sure a page table covers va; NULL when a page cannot be had. */
static pt_entry_t *pmap_allocpte(struct pmap *pmap, vm_offset_t va)
{
	struct vm_page *m;

	if ((pmap->pm_pdir[PDX(va)] & PG_V) == 0) {
		KASSERT(pmap != kernel_pmap, ("pmap_allocpte: kernel va %x has no page table", va));
		if ((m = vm_page_alloc(VPS_PTP)) == NULL)
			return NULL;
		pmap_zero_page(m);
		pmap->pm_pdir[PDX(va)] = m->phys_addr | PG_V | PG_RW | PG_U | PG_A | PG_M;
	}
	return pmap_pte_quick(pmap, va);
}

/* No CPU's PADDR1 window may keep mapping page m once it is freed. */
static void pmap_unwindow(struct vm_page *m)
{
	for (u_int cpu = 0; cpu < mp_ncpus; cpu++) {
		struct pcpu *pc = &__pcpu[cpu];

		if ((*pc->pc_pmap1 & PG_FRAME) == m->phys_addr) {
			*pc->pc_pmap1 = 0;
			pmap_invalidate_page(kernel_pmap, (vm_offset_t)pc->pc_paddr1);
		}
	}
}

/* Unhook the empty user page table m covering va from pmap and free it. */
static void pmap_free_ptp(struct pmap *pmap, vm_offset_t va, struct vm_page *m)
{
	pmap->pm_pdir[PDX(va)] = 0;
	/* The page table was visible in PTmap through the PDE just cleared. */
	pmap_invalidate_page(pmap, (vm_offset_t)vtopte(trunc_4mpage(va)));
	pmap_unwindow(m);
	vm_page_free(m);
}

/* The page-table page covering user va in pmap. */
static struct vm_page *pmap_ptp(struct pmap *pmap, vm_offset_t va)
{
	return PHYS_TO_VM_PAGE(PTE_ADDR(pmap->pm_pdir[PDX(va)]));
}

/* Count one more valid PTE in the user page table covering va. */
static void pmap_use_pt(struct pmap *pmap, vm_offset_t va)
{
	if (va < VM_MAXUSER_ADDRESS)
		pmap_ptp(pmap, va)->wire_count++;
}

/* Count one valid PTE less; free the page table when it holds none. */
static void pmap_unuse_pt(struct pmap *pmap, vm_offset_t va)
{
	struct vm_page *m;

	if (va >= VM_MAXUSER_ADDRESS)
		return;
	m = pmap_ptp(pmap, va);
	if (--m->wire_count == 0) {
#ifndef RIG_BUG_LEAK_PTP
		pmap_free_ptp(pmap, va, m);
#endif
	}
}

/*
 * Accessed and modified bits. Invariant: the VM's view of a managed page,
 * "PG_A/PG_M in some live PTE of the page, or PGA_REFERENCED/PGA_MODIFIED
 * in its summary", only grows until the VM itself clears it
 * (pmap_clear_modify). So every path that takes PG_A or PG_M out of a
 * managed PTE (remove, remove_all, replacement in enter, protect, reclaim)
 * folds the bits into the page's aflags first, as vm_page_dirty and
 * vm_page_aflag_set(PGA_REFERENCED) do in FreeBSD.
 */

/* Fold a PTE's accessed and modified bits into its page's summary. */
static void pmap_save_ad(struct vm_page *m, pt_entry_t pte)
{
	if (pte & PG_A)
		m->aflags |= PGA_REFERENCED;
	if (pte & PG_M)
		m->aflags |= PGA_MODIFIED;
}

/* The same for a retired PTE, if it was a managed one. */
static void pmap_save_ad_pte(pt_entry_t pte)
{
	if (pte & PG_MANAGED)
		pmap_save_ad(PHYS_TO_VM_PAGE(PTE_ADDR(pte)), pte);
}

/*
 * Clear the mapping at ptq (which maps va in pmap) and return its pv entry,
 * detached from the page's list but not yet freed (NULL if unmanaged).
 * Statistics and the TLB are brought up to date; the old PTE goes to *opte
 * for the caller to save its A/D bits, and the page table's count is left
 * to the caller, since a replacement keeps it.
 */
static struct pv_entry *pmap_unmap_pte_keep_pt(struct pmap *pmap, pt_entry_t *ptq,
    vm_offset_t va, pt_entry_t *opte)
{
	pt_entry_t oldpte = __atomic_exchange_n(ptq, 0, __ATOMIC_SEQ_CST);
	struct pv_entry *pv = NULL;
	struct vm_page *m;

	*opte = oldpte;
	if (oldpte & PG_W)
		pmap->pm_stats.wired_count--;
#ifndef RIG_BUG_STATS_SKEW
	if ((oldpte & PG_MANAGED) || va < VM_MAXUSER_ADDRESS)
		pmap->pm_stats.resident_count--;
#endif
	if (oldpte & PG_MANAGED) {
		m = PHYS_TO_VM_PAGE(PTE_ADDR(oldpte));
#ifndef RIG_BUG_PV_LEAK
		pv = pmap_pvh_remove(m, pmap, va);
#else
		(void)m;
#endif
	}
#ifndef RIG_BUG_FORGET_INVLPG
	pmap_invalidate_page(pmap, va);
#endif
	return pv;
}

/*
 * Clear one mapping, saving its A/D bits, and free its page table if it was
 * the last PTE in it (reclaim's path).
 */
struct pv_entry *pmap_unmap_pte(struct pmap *pmap, pt_entry_t *ptq, vm_offset_t va)
{
	pt_entry_t opte;
	struct pv_entry *pv = pmap_unmap_pte_keep_pt(pmap, ptq, va, &opte);

	pmap_save_ad_pte(opte);
	pmap_unuse_pt(pmap, va);
	return pv;
}

/* Remove one mapping and free its pv entry (pmap_remove's path). */
void pmap_remove_pte(struct pmap *pmap, pt_entry_t *ptq, vm_offset_t va)
{
	pt_entry_t opte;
	struct pv_entry *pv = pmap_unmap_pte_keep_pt(pmap, ptq, va, &opte);

#ifndef RIG_BUG_REMOVE_DROPS_DIRTY
	pmap_save_ad_pte(opte);
#else
	pmap_save_ad_pte(opte & ~(pt_entry_t)PG_M);	/* the dirty bit is forgotten */
#endif
	pmap_unuse_pt(pmap, va);
	if (pv != NULL)
		free_pv_entry(pmap, pv);
}

/* The PTE bits for a new mapping of m at va with prot and wiring. */
static pt_entry_t pmap_newpte(struct pmap *pmap, vm_offset_t va, struct vm_page *m,
    vm_prot_t prot, boolean_t wired)
{
	pt_entry_t pte = m->phys_addr | PG_V;

	if (prot & VM_PROT_WRITE)
		pte |= PG_RW;
	if (wired)
		pte |= PG_W;
	if (va < VM_MAXUSER_ADDRESS)
		pte |= PG_U;
	if (m->state == VPS_MANAGED || m->state == VPS_KMEM)
		pte |= PG_MANAGED;
	(void)pmap;
	return pte;
}

/* Same page, new protection or wiring: update in place, keep A and M. */
static void pmap_enter_change(struct pmap *pmap, pt_entry_t *pte, vm_offset_t va,
    pt_entry_t newpte)
{
	pt_entry_t origpte = *pte;

	if ((origpte & PG_W) && !(newpte & PG_W))
		pmap->pm_stats.wired_count--;
	else if (!(origpte & PG_W) && (newpte & PG_W))
		pmap->pm_stats.wired_count++;
	newpte |= origpte & PG_A;
	if (origpte & PG_M) {
		if (newpte & PG_RW)
			newpte |= PG_M;
		else if (origpte & PG_MANAGED)
			pmap_save_ad(PHYS_TO_VM_PAGE(PTE_ADDR(origpte)), PG_M);
	}
	if (newpte != origpte) {
		*pte = newpte;
		pmap_invalidate_page(pmap, va);
	}
}

/*
 * Install newpte where no valid mapping was, or replace the mapping of a
 * different page (whose pv entry is released). The page table comes first,
 * then the pv entry (which may reclaim); if either cannot be had, nothing
 * is left changed in this pmap: a page table allocated for the purpose is
 * freed again.
 */
static int pmap_enter_new(struct pmap *pmap, vm_offset_t va, struct vm_page *m, pt_entry_t newpte)
{
	pt_entry_t *pte = pmap_allocpte(pmap, va);
	struct pv_entry *pv = NULL, *oldpv = NULL;
	pt_entry_t origpte;

	if (pte == NULL)
		return KERN_RESOURCE_SHORTAGE;
	if ((newpte & PG_MANAGED) && (pv = get_pv_entry(pmap)) == NULL) {
		if (va < VM_MAXUSER_ADDRESS && pmap_ptp(pmap, va)->wire_count == 0)
			pmap_free_ptp(pmap, va, pmap_ptp(pmap, va));
		return KERN_RESOURCE_SHORTAGE;
	}
	pte = pmap_pte_quick(pmap, va);		/* reclaim may have moved PADDR1 */
	origpte = *pte;
	if (origpte & PG_V) {
		oldpv = pmap_unmap_pte_keep_pt(pmap, pte, va, &origpte);
#ifndef RIG_BUG_ENTER_DROPS_REF
		pmap_save_ad_pte(origpte);
#else
		pmap_save_ad_pte(origpte & ~(pt_entry_t)PG_A);	/* the referenced bit is forgotten */
#endif
		pte = pmap_pte_quick(pmap, va);
	}
	if (pv != NULL)
		pmap_insert_entry(pmap, va, m, pv);
	if (newpte & PG_W)
		pmap->pm_stats.wired_count++;
	if ((newpte & PG_MANAGED) || va < VM_MAXUSER_ADDRESS)
		pmap->pm_stats.resident_count++;
	if ((origpte & PG_V) == 0)
		pmap_use_pt(pmap, va);
	*pte = newpte;
	if (oldpv != NULL)
		free_pv_entry(pmap, oldpv);
	return KERN_SUCCESS;
}

/*
 * Map m at va in pmap with protection prot (pmap_enter). Page tables are
 * allocated on demand; an existing mapping of the same page changes its
 * protection or wiring, one of another page is replaced. Returns
 * KERN_RESOURCE_SHORTAGE, with nothing changed, when no page-table page or
 * pv entry can be had even after reclaiming.
 */
int pmap_enter(struct pmap *pmap, vm_offset_t va, struct vm_page *m,
    vm_prot_t prot, boolean_t wired)
{
	pt_entry_t newpte, *pte;
	int rv = KERN_SUCCESS;

	va = trunc_page(va);
	KASSERT(pmap == kernel_pmap ? va >= KERNBASE && va < PTMAP_VA : va < VM_MAXUSER_ADDRESS,
	    ("pmap_enter: va %x out of range", va));
	lock_acquire(&pv_lock);
	PMAP_LOCK(pmap);
	newpte = pmap_newpte(pmap, va, m, prot, wired);
	pte = pmap_pte_quick(pmap, va);
	/* Same page, same management: a protection or wiring change. */
	if (pte != NULL && (*pte & PG_V) && PTE_ADDR(*pte) == m->phys_addr &&
	    (*pte & PG_MANAGED) == (newpte & PG_MANAGED))
		pmap_enter_change(pmap, pte, va, newpte);
	else
		rv = pmap_enter_new(pmap, va, m, newpte);
	PMAP_UNLOCK(pmap);
	lock_release(&pv_lock);
	return rv;
}

/* The end of the 4 MiB page-table span holding va, clipped to eva. */
static vm_offset_t pmap_pde_end(vm_offset_t va, vm_offset_t eva)
{
	vm_offset_t next = trunc_4mpage(va) + NBPDR;

	return next < eva && next != 0 ? next : eva;
}

/* Remove every mapping in [sva, eva) from pmap (pmap_remove). */
void pmap_remove(struct pmap *pmap, vm_offset_t sva, vm_offset_t eva)
{
	pt_entry_t *pte;

#ifdef RIG_BUG_REMOVE_PAST_END
	eva += PAGE_SIZE;	/* one page too many */
#endif
#ifndef RIG_BUG_SMP_UNLOCKED_REMOVE
	lock_acquire(&pv_lock);		/* the bug leaves it out: pv lists race with pmap_enter elsewhere */
#endif
	PMAP_LOCK(pmap);
	for (vm_offset_t va = trunc_page(sva), end; va < eva; va = end) {
		end = pmap_pde_end(va, eva);
		for (; va < end; va += PAGE_SIZE) {
			if ((pte = pmap_pte_quick(pmap, va)) == NULL)
				break;		/* no page table (any more) */
			if (*pte & PG_V)
				pmap_remove_pte(pmap, pte, va);
		}
	}
	PMAP_UNLOCK(pmap);
#ifndef RIG_BUG_SMP_UNLOCKED_REMOVE
	lock_release(&pv_lock);
#endif
}

/* Drop write permission from one PTE (atomically, as FreeBSD does). */
static void pmap_protect_pte(struct pmap *pmap, pt_entry_t *pte, vm_offset_t va)
{
	pt_entry_t obits, nbits;

	do {
		obits = *pte;
		nbits = obits & ~(PG_RW | PG_M);
#ifdef RIG_BUG_PROTECT_NOOP
		nbits |= obits & PG_RW;
#endif
	} while (!__sync_bool_compare_and_swap(pte, obits, nbits));
#ifndef RIG_BUG_PROTECT_DROPS_DIRTY
	if ((obits & PG_M) && (obits & PG_MANAGED))
		pmap_save_ad(PHYS_TO_VM_PAGE(PTE_ADDR(obits)), PG_M);
#endif
	if (obits != nbits)
		pmap_invalidate_page(pmap, va);
}

/*
 * Reduce the protection of [sva, eva) to prot (pmap_protect): no read
 * access removes the mappings; without write access PG_RW is cleared; a
 * request that keeps write access changes nothing.
 */
void pmap_protect(struct pmap *pmap, vm_offset_t sva, vm_offset_t eva, vm_prot_t prot)
{
	pt_entry_t *pte;

	if ((prot & VM_PROT_READ) == 0) {
		pmap_remove(pmap, sva, eva);
		return;
	}
#ifdef RIG_BUG_LOCK_HELD
	PMAP_LOCK(pmap);	/* taken too early: the no-op return below keeps it */
#endif
	if (prot & VM_PROT_WRITE)
		return;
#ifdef RIG_BUG_SMP_LOCK_ORDER
	PMAP_LOCK(pmap);	/* the pmap before pv_lock: the reverse of pmap_enter's order */
#endif
	lock_acquire(&pv_lock);
#if !defined(RIG_BUG_LOCK_HELD) && !defined(RIG_BUG_SMP_LOCK_ORDER)
	PMAP_LOCK(pmap);
#endif
	for (vm_offset_t va = trunc_page(sva), end; va < eva; va = end) {
		end = pmap_pde_end(va, eva);
		for (; va < end; va += PAGE_SIZE) {
			if ((pte = pmap_pte_quick(pmap, va)) == NULL)
				break;
			if ((*pte & (PG_V | PG_RW)) == (PG_V | PG_RW))
				pmap_protect_pte(pmap, pte, va);
		}
	}
	PMAP_UNLOCK(pmap);
	lock_release(&pv_lock);
}

/* Remove every mapping of page m, in every pmap (pmap_remove_all). */
void pmap_remove_all(struct vm_page *m)
{
	struct pv_entry *pv;
	struct pmap *pmap;
	vm_offset_t va;
	pt_entry_t opte;

	lock_acquire(&pv_lock);
	while ((pv = TAILQ_FIRST(&m->pv_list)) != NULL) {
		pmap = PV_PMAP(pv);
		va = pv->pv_va;
		PMAP_LOCK(pmap);
		pv = pmap_unmap_pte_keep_pt(pmap, pmap_pte_quick(pmap, va), va, &opte);
#ifndef RIG_BUG_REMOVE_ALL_DROPS_REF
		pmap_save_ad(m, opte);
#else
		pmap_save_ad(m, opte & ~(pt_entry_t)PG_A);	/* the referenced bit is forgotten */
#endif
		pmap_unuse_pt(pmap, va);
		if (pv != NULL)
			free_pv_entry(pmap, pv);
		PMAP_UNLOCK(pmap);
	}
	lock_release(&pv_lock);
}

/* Does any mapping of m have all of `bits` set in its PTE? */
static boolean_t pmap_page_test_bits(struct vm_page *m, pt_entry_t bits)
{
	struct pv_entry *pv;
	boolean_t rv = FALSE;

	lock_acquire(&pv_lock);
	TAILQ_FOREACH(pv, &m->pv_list, pv_next) {
		struct pmap *pmap = PV_PMAP(pv);

		PMAP_LOCK(pmap);
		rv = (*pmap_pte_quick(pmap, pv->pv_va) & bits) == bits;
		PMAP_UNLOCK(pmap);
		if (rv)
			break;
	}
	lock_release(&pv_lock);
	return rv;
}

/* Has any mapping of m been written through (PG_M)? */
boolean_t pmap_is_modified(struct vm_page *m)
{
	return pmap_page_test_bits(m, PG_M);
}

/* Has any mapping of m been used (PG_A)? */
boolean_t pmap_is_referenced(struct vm_page *m)
{
	return pmap_page_test_bits(m, PG_A);
}

/* Clear the modified bit in every mapping of m and in its summary. */
void pmap_clear_modify(struct vm_page *m)
{
	struct pv_entry *pv;

	lock_acquire(&pv_lock);
	TAILQ_FOREACH(pv, &m->pv_list, pv_next) {
		struct pmap *pmap = PV_PMAP(pv);
		pt_entry_t *pte;

		PMAP_LOCK(pmap);
		pte = pmap_pte_quick(pmap, pv->pv_va);
		if (*pte & PG_M) {
			__atomic_and_fetch(pte, ~(pt_entry_t)PG_M, __ATOMIC_SEQ_CST);
			pmap_invalidate_page(pmap, pv->pv_va);
		}
		PMAP_UNLOCK(pmap);
	}
	m->aflags &= ~PGA_MODIFIED;
	lock_release(&pv_lock);
}
