/*
 * pmap.h - the machine-dependent virtual memory interface (FreeBSD names and
 * meanings), the pv allocator, and the KVA policy interface for chunk pages.
 */
#ifndef PMAPRIG_PMAP_H
#define PMAPRIG_PMAP_H

/*
 * Planted bugs: each RIG_BUG_* macro is defined only in one "buggy" guest
 * build (guest/CMakeLists.txt, RIG_GUEST_BUGS) and breaks exactly one rule
 * on purpose, so that the rig's tests and fixtures/errors/ can show each
 * invariant catching a real pmap bug. The normal builds define none.
 */

#include "lock.h"

#define NPMAPS_MAX	64		/* user pmaps alive at once */
#define NPVCHUNK_DEFAULT 64		/* default pv chunk KVA block, in pages */

/* The current space's PTEs and directory, through the recursive slot. */
#define PTmap		((pt_entry_t *)PTMAP_VA)
#define PTD		((pd_entry_t *)PTD_VA)
#define vtopte(va)	(PTmap + ((vm_offset_t)(va) >> PAGE_SHIFT))

#define PMAP_LOCK(pmap)		lock_acquire(&(pmap)->pm_lock)
#define PMAP_UNLOCK(pmap)	lock_release(&(pmap)->pm_lock)

/* The chunk that holds a pv entry, and the pmap that owns it. */
#define pv_to_chunk(pv)	((struct pv_chunk *)((uint32_t)(pv) & ~(uint32_t)PAGE_MASK))
#define PV_PMAP(pv)	(pv_to_chunk(pv)->pc_pmap)

extern struct pmap kernel_pmap_store;
#define kernel_pmap	(&kernel_pmap_store)
extern struct pmaplist allpmaps;
extern struct lock pv_lock;
extern struct pv_chunklist pv_chunks;
extern struct pv_stats pv_stats;
extern uint32_t pv_entry_count, pv_entry_max, pv_entry_high_water;
extern vm_offset_t kernel_vm_end, virtual_avail;
extern vm_paddr_t avail_start;
extern vm_offset_t pv_chunkbase;
extern uint32_t pv_maxchunks;

/* machdep.c: the CPUs (FreeBSD's pcpu, all_cpus, mp_ncpus) */
extern struct pcpu __pcpu[MAXCPU];
extern u_int all_cpus, mp_ncpus;
extern vm_offset_t cpu_stacks;
#define CPU_STACK_PAGES	2		/* each other CPU's stack */
#define PCPU()		(&__pcpu[curcpu()])
void	init_secondary(int cpu);

/* vm_page.c */
extern struct vm_page *vm_page_array;
extern uint32_t vm_page_array_size;
struct vm_page *PHYS_TO_VM_PAGE(vm_paddr_t pa);
void	vm_page_startup(void);
struct vm_page *vm_page_alloc(uint32_t state);
void	vm_page_free(struct vm_page *m);

/* pmap.c */
void	pmap_bootstrap(vm_paddr_t firstaddr);
void	pmap_init(void);
int	pmap_pinit(struct pmap *pmap);
void	pmap_release(struct pmap *pmap);
void	pmap_activate(struct pmap *pmap);
void	smp_invlpg_handler(void);
int	pmap_enter(struct pmap *pmap, vm_offset_t va, struct vm_page *m,
	    vm_prot_t prot, boolean_t wired);
void	pmap_remove(struct pmap *pmap, vm_offset_t sva, vm_offset_t eva);
void	pmap_protect(struct pmap *pmap, vm_offset_t sva, vm_offset_t eva, vm_prot_t prot);
void	pmap_remove_all(struct vm_page *m);
void	pmap_kenter(vm_offset_t va, vm_paddr_t pa);
void	pmap_kremove(vm_offset_t va);
void	pmap_qenter(vm_offset_t va, struct vm_page *m);
void	pmap_qremove(vm_offset_t va);
void	pmap_growkernel(vm_offset_t addr);
vm_paddr_t pmap_extract(struct pmap *pmap, vm_offset_t va);
boolean_t pmap_is_modified(struct vm_page *m);
void	pmap_clear_modify(struct vm_page *m);
boolean_t pmap_is_referenced(struct vm_page *m);
boolean_t pmap_is_current(struct pmap *pmap);
pt_entry_t *pmap_pte_quick(struct pmap *pmap, vm_offset_t va);
void	pmap_invalidate_page(struct pmap *pmap, vm_offset_t va);
void	pmap_remove_pte(struct pmap *pmap, pt_entry_t *ptq, vm_offset_t va);
struct pv_entry *pmap_unmap_pte(struct pmap *pmap, pt_entry_t *ptq, vm_offset_t va);
vm_offset_t pmap_steal_kva(uint32_t npages);

/* pmap_pv.c: pv entries and chunks */
void	pv_init(void);
struct pv_entry *get_pv_entry(struct pmap *pmap);
void	free_pv_entry(struct pmap *pmap, struct pv_entry *pv);
void	free_pv_chunk(struct pv_chunk *pc);
void	pmap_insert_entry(struct pmap *pmap, vm_offset_t va, struct vm_page *m,
	    struct pv_entry *pv);
struct pv_entry *pmap_pvh_remove(struct vm_page *m, struct pmap *pmap, vm_offset_t va);

/*
 * The KVA policy for chunk pages (pv_kva_*.c, one per guest build):
 * pv_kva_bootstrap reserves KVA during pmap_bootstrap, pv_kva_init runs once
 * pages can be allocated, pv_chunk_page_get returns a mapped page for a new
 * chunk (or NULL: no page or no KVA), pv_chunk_page_put takes back an empty one.
 */
void	pv_kva_bootstrap(void);
void	pv_kva_init(void);
struct pv_chunk *pv_chunk_page_get(void);
void	pv_chunk_page_put(struct pv_chunk *pc);

#endif
