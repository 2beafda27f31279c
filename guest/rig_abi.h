/*
 * rig_abi.h - the one contract between the guest kernel and the host rig.
 *
 * Every structure the host reads from guest memory is declared here, once.
 * The guest compiles it with RIG_GUEST defined and sees real pointers; the host
 * sees the same 32-bit slots as uint32_t guest addresses (GPTR). Sizes and
 * offsets are pinned by static asserts below, checked by both compilers, so a
 * change on one side that the other does not know about fails to build.
 */
#ifndef PMAPRIG_RIG_ABI_H
#define PMAPRIG_RIG_ABI_H

#include <stdint.h>
#include <stddef.h>
#include "mmu.h"

#ifdef RIG_GUEST
#define GPTR(T)		T *
#else
#define GPTR(T)		uint32_t
#endif

#define RIG_ABI_VERSION	1
#define RIG_INFO_MAGIC	0x50524947u	/* "PRIG" */

/* Hypercall ports: the guest does `out %eax, (%dx)`; the host hooks OUT. */
#define RIG_PORT_PANIC	0x0510		/* eax = VA of the NUL-terminated message */
#define RIG_PORT_PUTC	0x0511		/* eax = one character for the console */

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

/* A uniprocessor lock; the host's witness hooks lock_acquire/lock_release. */
#define LK_RECURSE	0x1		/* recursion allowed */
struct lock {
	GPTR(const char) lk_name;	/* also the witness class */
	uint32_t	lk_flags;	/* LK_* */
	uint32_t	lk_owned;	/* 0 free, 1 held */
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
	uint32_t	pm_active;	/* 1 while loaded in CR3 */
	uint32_t	pm_id;		/* 0 = kernel_pmap */
};
ABI_TAILQ_HEAD(pmaplist, pmap);

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

/*
 * The guest info block: exported as `guest_info`, found by the host through the
 * ELF symbol table. The host fills the "in" fields before boot (they are in
 * .data, so the host writes them at their load address); the guest fills the
 * rest during boot.
 */
struct guest_info {
	uint32_t	gi_magic;		/* RIG_INFO_MAGIC */
	uint32_t	gi_abi_version;		/* RIG_ABI_VERSION */
	char		gi_policy[16];		/* "ptelist", "nofree", "dynamic" */
	/* in: set by the host before boot */
	uint32_t	gi_ram_size;		/* bytes of guest RAM */
	uint32_t	gi_pv_maxchunks_req;	/* 0 = default */
	/* knob: set by the host at any time */
	uint32_t	gi_alloc_fail_after;	/* fail after N more allocations; ~0 = off */
	/* out: filled by the guest during boot */
	uint32_t	gi_booted;		/* 1 once init386 finished */
	uint32_t	gi_boot_cr3;		/* CR3 loaded by locore */
	uint32_t	gi_kernbase;
	uint32_t	gi_ptdptdi;		/* recursive slot */
	uint32_t	gi_ptmap;		/* PTmap VA */
	uint32_t	gi_kernel_end;		/* end of the kernel image (VA) */
	uint32_t	gi_avail_start;		/* first physical page not reserved */
	uint32_t	gi_kva_free;		/* KVA above this is for scenarios */
	GPTR(uint32_t)	gi_kernel_vm_end;	/* &kernel_vm_end */
	GPTR(struct pmap) gi_kernel_pmap;	/* &kernel_pmap */
	GPTR(struct pmaplist) gi_allpmaps;	/* &allpmaps */
	GPTR(struct vm_page) gi_vm_page_array;
	uint32_t	gi_vm_page_count;
	uint32_t	gi_free_count_va;	/* &vm_free_count */
	uint32_t	gi_pv_kva_base;		/* first VA of the chunk KVA block */
	uint32_t	gi_pv_maxchunks;	/* its capacity, in chunks */
	uint32_t	gi_pv_vafree;		/* &pv_vafree (ptelist) */
	uint32_t	gi_pv_nextindex;	/* &pv_nextindex (nofree) */
	GPTR(struct pv_chunklist) gi_pv_spare;	/* &pv_spare: kept empty chunks (nofree) */
	GPTR(struct pv_chunklist) gi_pv_chunks;	/* &pv_chunks (global LRU) */
	GPTR(uint32_t)	gi_pv_entry_count;	/* &pv_entry_count */
	GPTR(struct pv_stats) gi_pv_stats;	/* &pv_stats */
	uint32_t	gi_kmem_base;		/* dynamic policy: KVA of map-entry refill pages */
	uint32_t	gi_kmem_size;		/* (the kernel-map arena is the chunk block) */
	uint32_t	gi_pdir_kva_base;	/* KVA slots for page directories */
	uint32_t	gi_pdir_kva_slots;
	uint32_t	gi_cmap_kva;		/* temporary mapping windows */
	uint32_t	gi_npmaps_max;		/* pmaps (besides kernel) at once */
	GPTR(struct lock) gi_pv_lock;		/* &pv_lock */
	GPTR(struct lock) gi_kernel_map_lock;	/* &kernel_map_lock */
};

/* Sizes and offsets the host relies on. */
_Static_assert(sizeof(struct lock) == 16, "lock");
_Static_assert(sizeof(struct pv_entry) == 12, "pv_entry");
_Static_assert(_NPCPV == 336 && _NPCM == 11, "FreeBSD i386 chunk geometry");
_Static_assert(sizeof(struct pv_chunk) == PAGE_SIZE, "a pv chunk is one page");
_Static_assert(offsetof(struct pv_chunk, pc_map) == 12, "pc_map");
_Static_assert(offsetof(struct pv_chunk, pc_lru) == 56, "pc_lru");
_Static_assert(offsetof(struct pv_chunk, pc_pventry) == 64, "pc_pventry");
_Static_assert(sizeof(struct vm_page) == 36, "vm_page");
_Static_assert(offsetof(struct vm_page, pv_list) == 20, "vm_page.pv_list");
_Static_assert(sizeof(struct pmap) == 56, "pmap");
_Static_assert(offsetof(struct pmap, pm_pdir) == 16, "pm_pdir");
_Static_assert(offsetof(struct pmap, pm_pvchunk) == 24, "pm_pvchunk");
_Static_assert(offsetof(struct pmap, pm_stats) == 32, "pm_stats");
_Static_assert(offsetof(struct pmap, pm_list) == 40, "pm_list");
_Static_assert(sizeof(struct pv_stats) == 52, "pv_stats");
_Static_assert(offsetof(struct guest_info, gi_ram_size) == 24, "gi_ram_size");
_Static_assert(offsetof(struct guest_info, gi_booted) == 36, "gi_booted");
_Static_assert(sizeof(struct guest_info) == 156, "guest_info");

#endif /* PMAPRIG_RIG_ABI_H */
