/*
 * pmap_types.h - the reference guests' pmap structures (FreeBSD names and
 * layouts): struct pmap, vm_page, pv_entry, pv_chunk, lock and the pv
 * counters. The rig does not include this: it learns them from the
 * guests' descriptor (pmap.contract) and DWARF. The Check tests that look
 * inside the reference guests include it with the host's view of pointers
 * (GPTR, rig_abi.h).
 */
#ifndef PMAPRIG_PMAP_TYPES_H
#define PMAPRIG_PMAP_TYPES_H

#include "mmu.h"
#include "common/rig_abi.h"

/* TAILQ layouts (FreeBSD sys/queue.h): the guest's macros use these fields. */
#define ABI_TAILQ_HEAD(name, type)					\
struct name {								\
	GPTR(struct type) tqh_first;	/* first element */		\
	GPTR(GPTR(struct type)) tqh_last; /* addr of last next element */ \
}
#define ABI_TAILQ_ENTRY(type)						\
struct {								\
	GPTR(struct type) tqe_next;	/* next element */		\
	GPTR(GPTR(struct type)) tqe_prev; /* address of previous next */ \
}

/* A spin lock; the host's witness hooks lock_acquire/lock_release. */
#define LK_RECURSE	0x1		/* recursion allowed */
struct lock {
	GPTR(const char) lk_name;	/* also the witness class */
	uint32_t	lk_flags;	/* LK_* */
	uint32_t	lk_owned;	/* 0 free, else the owner CPU + 1 */
	uint32_t	lk_recurse;	/* extra acquisitions while held */
};

/* pv entries: one per managed mapping, grouped in page-sized chunks. */
struct pv_entry {
	uint32_t	pv_va;		/* virtual address of the mapping */
	ABI_TAILQ_ENTRY(pv_entry) pv_next; /* on the page's pv list */
};

#define _NPCM		11		/* words in pc_map */
#define _NPCPV		336		/* pv entries per chunk */
#define PC_FREE_LAST	0x0000ffffu	/* valid bits of pc_map[_NPCM - 1] */

/*
 * A pv chunk is exactly one page: header, free bitmap (bit set = entry free),
 * then the entries. Chunks with free entries sit at the head of their pmap's
 * pm_pvchunk list, full ones at the tail; every chunk is also on pv_chunks,
 * the global LRU list used by reclaim.
 */
struct pv_chunk {
	GPTR(struct pmap) pc_pmap;	/* owner */
	ABI_TAILQ_ENTRY(pv_chunk) pc_list; /* on pc_pmap->pm_pvchunk */
	uint32_t	pc_map[_NPCM];	/* bitmap; 1 = free */
	ABI_TAILQ_ENTRY(pv_chunk) pc_lru; /* on pv_chunks */
	struct pv_entry	pc_pventry[_NPCPV];
};

ABI_TAILQ_HEAD(pvlist, pv_entry);
ABI_TAILQ_HEAD(pv_chunklist, pv_chunk);

/* Physical page states: every page is in exactly one. */
#define VPS_RESERVED	1	/* low memory, kernel image, boot data */
#define VPS_FREE	2	/* on the free list */
#define VPS_MANAGED	3	/* allocated for mapping (has pv entries) */
#define VPS_PTP		4	/* a user or kernel page-table page */
#define VPS_PDIR	5	/* a pmap's page directory */
#define VPS_PVCHUNK	6	/* holds a pv chunk */
#define VPS_KMEM	7	/* kernel-map memory (dynamic policy) */

/* vm_page aflags: A/D summary bits gathered from removed mappings. */
#define PGA_REFERENCED	0x1
#define PGA_MODIFIED	0x2

/* One record per physical page of guest RAM: vm_page_array[pa >> PAGE_SHIFT]. */
struct vm_page {
	uint32_t	phys_addr;
	uint32_t	state;		/* VPS_* */
	uint32_t	aflags;		/* PGA_* */
	uint32_t	wire_count;	/* page-table page: valid PTEs it holds */
	uint32_t	pv_count;	/* entries on pv_list */
	struct pvlist	pv_list;	/* pv entries of this page's mappings */
	ABI_TAILQ_ENTRY(vm_page) listq;	/* on the free list */
};
ABI_TAILQ_HEAD(pglist, vm_page);

struct pmap_statistics {
	uint32_t	resident_count;	/* user pmap: valid PTEs; kernel pmap: managed ones */
	uint32_t	wired_count;	/* valid PTEs with PG_W */
};

struct pmap {
	struct lock	pm_lock;
	GPTR(uint32_t)	pm_pdir;	/* KVA of the page directory */
	uint32_t	pm_pdir_pa;	/* its physical address (CR3 value) */
	struct pv_chunklist pm_pvchunk;	/* chunks of this pmap's pv entries */
	struct pmap_statistics pm_stats;
	ABI_TAILQ_ENTRY(pmap) pm_list;	/* on allpmaps */
	uint32_t	pm_active;	/* CPUs with it in CR3 (bit n: CPU n) */
	uint32_t	pm_id;		/* 0 = kernel_pmap */
};
ABI_TAILQ_HEAD(pmaplist, pmap);

/*
 * Per-CPU data (FreeBSD's struct pcpu), __pcpu[n] for CPU n: who it is,
 * the pmap in its CR3, and its own temporary mapping windows, which only
 * it uses and invalidates (so no other CPU ever caches their translations).
 */
struct pcpu {
	uint32_t	pc_cpuid;
	uint32_t	pc_cpumask;		/* 1 << pc_cpuid */
	GPTR(struct pmap) pc_curpmap;
	GPTR(uint32_t)	pc_pmap1;		/* the PTE of PADDR1 */
	GPTR(uint32_t)	pc_paddr1;		/* pmap_pte_quick's window */
	GPTR(uint32_t)	pc_cmap2;		/* the PTE of CADDR2 */
	GPTR(void)	pc_caddr2;		/* pmap_zero_page's window */
};
#define MAXCPU		RIG_MAX_CPUS

/* Counters of the pv allocator, read by the host (FreeBSD's pc_chunk_* etc.). */
struct pv_stats {
	uint32_t	pc_chunk_count;		/* chunks allocated now */
	uint32_t	pc_chunk_allocs;
	uint32_t	pc_chunk_frees;
	uint32_t	pc_chunk_tryfail;	/* chunk allocations that failed */
	uint32_t	pv_entry_allocs;
	uint32_t	pv_entry_frees;
	uint32_t	pv_reclaims;		/* reclaim passes that removed something */
	uint32_t	pv_reclaimed;		/* mappings removed by reclaim */
	uint32_t	pv_pages_held;		/* pages owned by the pv allocator */
	uint32_t	pv_pages_peak;
	uint32_t	pv_kva_inuse;		/* chunk KVA slots in use */
	uint32_t	pv_kva_peak;
	uint32_t	pv_kva_used_ever;	/* slots ever handed out (high index) */
};

/* The chunk geometry of FreeBSD's i386 pmap: one page per chunk. */
_Static_assert(_NPCPV == 336 && _NPCM == 11, "FreeBSD i386 chunk geometry");
_Static_assert(sizeof(struct pv_chunk) == PAGE_SIZE, "a pv chunk is one page");

#endif /* PMAPRIG_PMAP_TYPES_H */
