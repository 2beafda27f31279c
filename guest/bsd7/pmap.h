/*
 * pmap.h - the bsd7 guest: a pmap with the conventions of FreeBSD 7's i386
 * pmap rather than the reference guests' (docs/guest-contract.md):
 *  - the kernel pmap is on allpmaps, a LIST, like every other pmap;
 *  - the recursive slot is KPTDI - 1, below KERNBASE (mmu.h);
 *  - a vm_page has no state field and no pv count: a page is managed
 *    unless VPO_UNMANAGED, and its pv list is as long as it is;
 *  - there is no global chunk list: chunks stay on their pmap's list in
 *    the order they were made, and reclaim walks the pmaps;
 *  - pmap_enter returns nothing: when no pv entry can be had it waits for
 *    memory and tries again, for ever if nothing frees any;
 *  - locks are mutexes with a trylock, which reclaim uses.
 */
#ifndef BSD7_PMAP_H
#define BSD7_PMAP_H

/* Mutexes (mutex.c): the witness knows them through the descriptor. */
#define MTX_DEF		0x0
#define MTX_RECURSE	0x4		/* may be acquired again while held */

struct mtx {
	const char	*mtx_name;	/* the witness class */
	u_int		mtx_opts;	/* MTX_* */
	u_int		mtx_lock;	/* 0 free, 1 owned */
	u_int		mtx_recurse;	/* extra acquisitions */
};

void	mtx_init(struct mtx *m, const char *name, u_int opts);
void	mtx_lock(struct mtx *m);
void	mtx_unlock(struct mtx *m);
int	mtx_trylock(struct mtx *m);
void	mtx_assert_owned(struct mtx *m);

/* Pages: vm_page_array[pa >> PAGE_SHIFT]. */
struct pv_entry;

struct md_page {
	TAILQ_HEAD(, pv_entry) pv_list;	/* the mappings of this page */
};

#define VPO_UNMANAGED	0x04		/* oflags: no pv entries (page tables, chunks) */
#define PGA_REFERENCED	0x02		/* aflags: accessed through a retired mapping */
#define PGA_DIRTY	0x08		/* aflags: written through one (FreeBSD's m->dirty) */

struct vm_page {
	TAILQ_ENTRY(vm_page) pageq;	/* on the free queue */
	vm_paddr_t	phys_addr;
	struct md_page	md;
	u_short		wire_count;	/* page-table page: valid PTEs */
	uint8_t		oflags;		/* VPO_* */
	uint8_t		aflags;		/* PGA_* */
};
TAILQ_HEAD(pglist, vm_page);

extern struct vm_page *vm_page_array;
extern uint32_t vm_page_array_size;
struct vm_page *PHYS_TO_VM_PAGE(vm_paddr_t pa);
void	vm_page_startup(vm_paddr_t avail);
struct vm_page *vm_page_alloc(int unmanaged);
void	vm_page_free(struct vm_page *m);
void	vm_wait(void);

/* pv entries, in page-sized chunks with a free bitmap (1 = free), FreeBSD 7's layout. */
struct pv_entry {
	vm_offset_t	pv_va;
	TAILQ_ENTRY(pv_entry) pv_list;	/* on md.pv_list */
};

#define _NPCM		11
#define _NPCPV		336

struct pv_chunk {
	struct pmap	*pc_pmap;
	TAILQ_ENTRY(pv_chunk) pc_list;	/* on pc_pmap->pm_pvchunk, oldest first */
	uint32_t	pc_map[_NPCM];
	uint32_t	pc_spare[2];
	struct pv_entry	pc_pventry[_NPCPV];
};
_Static_assert(sizeof(struct pv_chunk) == PAGE_SIZE, "a pv chunk is one page");

#define pv_to_chunk(pv)	((struct pv_chunk *)((vm_offset_t)(pv) & ~(vm_offset_t)PAGE_MASK))
#define PV_PMAP(pv)	(pv_to_chunk(pv)->pc_pmap)

struct pmap_statistics {
	long		resident_count;	/* valid user PTEs; managed kernel ones */
	long		wired_count;
};

struct pmap {
	struct mtx	pm_mtx;
	pd_entry_t	*pm_pdir;	/* KVA of the directory */
	vm_paddr_t	pm_cr3;		/* its physical address */
	TAILQ_HEAD(, pv_chunk) pm_pvchunk;
	LIST_ENTRY(pmap) pm_list;	/* on allpmaps, the kernel pmap too */
	u_int		pm_active;
	struct pmap_statistics pm_stats;
};
LIST_HEAD(pmaplist, pmap);

#define PMAP_LOCK(pmap)		mtx_lock(&(pmap)->pm_mtx)
#define PMAP_TRYLOCK(pmap)	mtx_trylock(&(pmap)->pm_mtx)
#define PMAP_UNLOCK(pmap)	mtx_unlock(&(pmap)->pm_mtx)

#define NPMAPS_MAX	64

extern struct pmap kernel_pmap_store;
#define kernel_pmap	(&kernel_pmap_store)
extern struct pmaplist allpmaps;
extern struct mtx vm_page_queue_mtx;
extern vm_offset_t kernel_vm_end;

/* The current space's PTEs through the recursive slot. */
#define PTmap		((pt_entry_t *)PTMAP_VA)
#define vtopte(va)	(PTmap + ((vm_offset_t)(va) >> PAGE_SHIFT))

/* pmap.c */
void	pmap_bootstrap(vm_paddr_t firstaddr);
void	pmap_init(void);
int	pmap_pinit(struct pmap *pmap);
void	pmap_release(struct pmap *pmap);
void	pmap_activate(struct pmap *pmap);
void	pmap_enter(struct pmap *pmap, vm_offset_t va, struct vm_page *m, vm_prot_t prot, boolean_t wired);
void	pmap_remove(struct pmap *pmap, vm_offset_t sva, vm_offset_t eva);
void	pmap_protect(struct pmap *pmap, vm_offset_t sva, vm_offset_t eva, vm_prot_t prot);
void	pmap_remove_all(struct vm_page *m);
void	pmap_kenter(vm_offset_t va, vm_paddr_t pa);
void	pmap_kremove(vm_offset_t va);
void	pmap_growkernel(vm_offset_t addr);
boolean_t pmap_is_modified(struct vm_page *m);
boolean_t pmap_is_referenced(struct vm_page *m);
void	pmap_clear_modify(struct vm_page *m);
boolean_t pmap_is_current(struct pmap *pmap);
pt_entry_t *pmap_pte(struct pmap *pmap, vm_offset_t va);
void	pmap_invalidate_page(struct pmap *pmap, vm_offset_t va);
vm_offset_t pmap_steal_kva(uint32_t npages);
boolean_t pmap_unmap_one(struct pmap *pmap, vm_offset_t va, struct pv_entry **pvp);

/* pv.c */
void	pv_bootstrap(uint32_t maxchunks);
void	pv_init(void);
struct pv_entry *get_pv_entry(struct pmap *pmap);
void	free_pv_entry(struct pmap *pmap, struct pv_entry *pv);
void	pmap_insert_entry(struct pmap *pmap, vm_offset_t va, struct vm_page *m, struct pv_entry *pv);
struct pv_entry *pmap_pvh_remove(struct vm_page *m, struct pmap *pmap, vm_offset_t va);

#endif
