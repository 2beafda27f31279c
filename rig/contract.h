/*
 * contract.h - what the rig knows of a guest pmap: its descriptor (a text
 * the guest ships in its ELF section .rig_contract, docs/guest-contract.md)
 * resolved against the guest's symbols and DWARF into offsets, sizes and
 * addresses. Every structure the checker reads is read through this; a
 * rule whose inputs the descriptor does not declare is "not checked".
 */
#ifndef RIG_CONTRACT_H
#define RIG_CONTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "elfload.h"

#define CONTRACT_SECTION	".rig_contract"
#define CONTRACT_VERSION	1
#define CT_NAME_MAX		64
#define CT_MAX_COUNTERS		16
#define CT_MAX_FEATURES		16

/* How a list is linked (sys/queue.h): the next pointer is the link's first word. */
enum ct_link_kind {
	CT_LINK_NONE,
	CT_LINK_TAILQ,		/* next, then the address of the previous next (tqe_prev) */
	CT_LINK_LIST,		/* the same layout (le_next, le_prev) */
	CT_LINK_SLIST,		/* next only */
};

struct ct_link {
	uint32_t off;		/* of the link in its element */
	enum ct_link_kind kind;
};

/*
 * A scalar member of 1, 2 or 4 bytes (a count, a flags word, a role), within
 * one aligned 32-bit word: FreeBSD's wire_count is a u_short, its aflags a
 * uint8_t.
 */
struct ct_scalar {
	uint32_t off;
	uint8_t size;
};

/* The value of scalar f of the object at host pointer p (little-endian). */
static inline uint32_t ct_get(const uint8_t *p, struct ct_scalar f)
{
	uint32_t v = 0;

	for (int i = f.size - 1; i >= 0; i--)
		v = v << 8 | p[f.off + (uint32_t)i];
	return v;
}

/* The value of scalar f in the aligned word at byte word_off that holds it; -1 if it is not there. */
static inline int64_t ct_in_word(struct ct_scalar f, uint32_t word_off, uint32_t word)
{
	if ((f.off & ~3u) != word_off)
		return -1;
	word >>= 8 * (f.off & 3);
	return f.size == 4 ? word : word & ((1u << (8 * f.size)) - 1);
}

/* Page roles a guest may record per vm_page (page.role). */
enum ct_role {
	CT_ROLE_RESERVED,	/* never allocated: low memory, kernel image */
	CT_ROLE_FREE,		/* on the free list */
	CT_ROLE_MANAGED,	/* allocated for mapping; has pv entries */
	CT_ROLE_PTP,		/* a page-table page */
	CT_ROLE_PDIR,		/* a page directory */
	CT_ROLE_PVCHUNK,	/* holds a pv chunk */
	CT_ROLE_KMEM,		/* other kernel memory */
	CT_ROLE_COUNT,
};

/* How the chunk KVA block's free slots are tracked (kva.free). */
enum ct_kva_kind {
	CT_KVA_NONE,		/* not declared: only "a mapped slot holds a chunk page" */
	CT_KVA_PTELIST,		/* a free slot's PTE holds the next free slot; head symbol */
	CT_KVA_INDEX,		/* slots below an index are used and never given back */
};

/* Counters a guest may keep; each declared one is read, none is required. */
enum ct_counter {
	CT_CNT_CHUNKS,		/* chunks allocated now */
	CT_CNT_CHUNK_ALLOCS,
	CT_CNT_CHUNK_FREES,
	CT_CNT_RECLAIMED,	/* mappings removed by reclaim, ever */
	CT_CNT_PAGES_HELD,	/* pages owned by the pv allocator now */
	CT_CNT_PAGES_PEAK,	/* the most it ever held */
	CT_CNT_KVA_INUSE,	/* chunk KVA slots in use now */
	CT_CNT_KVA_PEAK,
	CT_CNT_KVA_USED_EVER,	/* slots ever handed out (a high-water index) */
	CT_CNT_COUNT,
};

/* The guest's own names of what the rig reads, for messages and traces. */
struct ct_names {
	char pmap[CT_NAME_MAX], page[CT_NAME_MAX], chunk[CT_NAME_MAX], entry[CT_NAME_MAX];
	char all[CT_NAME_MAX];		/* list of all pmaps (symbol) */
	char pv_list[CT_NAME_MAX], pv_count[CT_NAME_MAX], wire_count[CT_NAME_MAX];
	char aflags[CT_NAME_MAX], role[CT_NAME_MAX], free_count[CT_NAME_MAX];
	char pv_va[CT_NAME_MAX], pv_link[CT_NAME_MAX];
	char owner[CT_NAME_MAX], map[CT_NAME_MAX], entries[CT_NAME_MAX];
	char link[CT_NAME_MAX], global[CT_NAME_MAX], global_head[CT_NAME_MAX], spare[CT_NAME_MAX];
	char entry_count[CT_NAME_MAX], kva_head[CT_NAME_MAX];
};

struct dwinfo;

struct contract {
	struct dwinfo *dw;		/* the guest's DWARF, open for naming fields */
	struct ct_names name;
	/* struct sizes, from DWARF */
	uint32_t pmap_size, page_size, chunk_size, entry_size;
	/* struct pmap */
	uint32_t pm_dirpa;		/* the directory's physical address */
	uint32_t pm_chunks;		/* head of its chunk list (first pointer) */
	int has_stats;
	struct ct_scalar pm_resident, pm_wired;
	struct ct_link pm_link;		/* on the list of all pmaps */
	uint32_t kernel_pmap;		/* VA of the kernel's struct pmap */
	uint32_t allpmaps;		/* VA of the list head */
	/* struct vm_page */
	uint32_t page_array_ptr;	/* VA of the pointer to the array */
	uint32_t page_count_ptr;	/* VA of the number of records */
	uint32_t pg_pv_list;		/* head of its pv list (first pointer) */
	int has_pv_count, has_wire_count, has_aflags, has_role;
	struct ct_scalar pg_pv_count, pg_wire_count, pg_aflags, pg_role;
	uint32_t aflag_ref, aflag_mod;
	uint32_t role_val[CT_ROLE_COUNT];
	uint32_t roles_declared;	/* bit CT_ROLE_* */
	uint32_t free_count;		/* VA of the free-page count; 0: none */
	/* struct pv_entry */
	uint32_t pv_va;
	struct ct_link pv_link;		/* on its page's pv list */
	/* struct pv_chunk */
	uint32_t pc_owner, pc_map, npcm, pc_entries, npcpv;
	int map_set_is_free;		/* bitmap polarity: 1 = a set bit is a free entry */
	struct ct_link pc_link;		/* on its pmap's chunk list */
	int order_free_first;		/* chunks with free entries ahead of full ones */
	int has_global;
	struct ct_link pc_global;	/* on one list of all chunks */
	uint32_t global_head;
	uint32_t spare_head;		/* parked empty chunks (on pc_link); 0: none */
	uint32_t entry_count;		/* VA of the in-use entry count; 0: none */
	/* KVA block of chunk pages */
	uint32_t kva_base_ptr, kva_slots_ptr;	/* VAs of the values; 0: no block */
	enum ct_kva_kind kva_kind;
	uint32_t kva_head;		/* VA of the free-list head or the index */
	/* reclaim */
	char reclaim_fn[CT_NAME_MAX];	/* "" = the guest never reclaims */
	int reclaim_kernel;		/* unwired kernel mappings may be reclaimed */
	/* locks */
	char lock_acquire[CT_NAME_MAX], lock_release[CT_NAME_MAX], lock_trylock[CT_NAME_MAX];
	int has_lock_name, has_lock_recurse;
	uint32_t lk_name;		/* member pointing to the lock's name, its class */
	struct ct_scalar lk_flags;	/* a lock may recurse when lk_recurse_bit is set here */
	uint32_t lk_recurse_bit;
	/* what pmap_enter returns on a shortage: 1 KERN_* codes, 0 nothing (void) */
	int enter_returns;
	/* optional counters (VA of each; 0 = not kept) */
	uint32_t counter[CT_CNT_COUNT];
	/* behaviour the guest declares (`requires` in scenarios) */
	char features[CT_MAX_FEATURES][32];
	int nfeatures;
	uint64_t keys_declared;		/* bit i: the descriptor has key i of the key table */
};

/*
 * Read the descriptor from the ELF at path and resolve it against img's
 * symbols and path's DWARF. 0, or -1 with "WHERE:LINE:COL: error: ..." in err.
 */
int contract_load(struct contract *ct, const char *path, const struct elf_image *img, char *err, size_t errlen);
/* Resolve a descriptor text (name for messages); the same. */
int contract_parse(struct contract *ct, const char *name, const char *text, size_t len, const char *path,
    const struct elf_image *img, char *err, size_t errlen);
/* Close what contract_load opened. */
void contract_free(struct contract *ct);
/* Does the guest declare feature (a `feature` line or a descriptor key such as page.pv_count)? */
int contract_has(const struct contract *ct, const char *feature);
/* Is name a feature of the vocabulary, or a descriptor key (it has a dot)? Else *near: the nearest, or NULL. */
int contract_feature_known(const char *name, const char **near);
/* Feature i of the vocabulary (NULL past the end), and what it means. */
const char *contract_feature(int i, const char **meaning);
/* The descriptor's keys, in table order (NULL-terminated), with their arguments. */
const char *contract_key(int i, const char **args, int *required);
/* The name of counter k in descriptors. */
const char *contract_counter_name(enum ct_counter k);

#endif
