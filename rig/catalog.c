/*
 * catalog.c - the invariant catalog: every rule the rig checks, by stable ID.
 * docs/invariants.md explains each one; `rig invariants` lists them.
 */
#include "invariants.h"

#include <string.h>

const struct invariant_info invariant_catalog[] = {
	{ "PD-SELFMAP", "every page directory maps itself at the recursive slot" },
	{ "PD-KERNEL", "the kernel part of every pmap's directory equals the kernel pmap's" },
	{ "PT-COUNT", "a user page-table page counts its valid PTEs; an empty one is freed" },
	{ "PV-MAPPING", "every valid managed PTE has exactly one pv entry, and every pv entry a PTE" },
	{ "PV-CHUNK-BITMAP", "chunk bitmaps match the entries in use and pv_entry_count" },
	{ "PV-CHUNK-LISTS", "every chunk is on its pmap's list and the LRU once, full ones last" },
	{ "PV-CHUNK-EMPTY", "no chunk with zero entries in use survives a step" },
	{ "PV-KVA", "every chunk KVA slot is allocated or on the free list, never both" },
	{ "TLB-STALE", "no translation the CPU still caches differs from the tables when a step returns" },
	{ "PAGE-STATE", "every page is in exactly one state; free pages are unmapped" },
	{ "STATS", "each pmap's resident and wired counts match its page tables" },
	{ "MODEL", "the guest's translations equal the reference model's" },
	{ "LOCK-ORDER", "lock classes are always acquired in one order" },
	{ "LOCK-RECURSE", "a non-recursive lock is never acquired while held" },
	{ "LOCK-HELD", "no pmap API call returns with a lock held" },
	{ "AD-DIRTY-LOST", "a page the model holds dirty has PG_M in a live managed PTE or PGA_MODIFIED" },
	{ "AD-REF-LOST", "a page the model holds referenced has PG_A in a live managed PTE or PGA_REFERENCED" },
	{ "TLB-SHOOTDOWN", "when a call returns, no other CPU caches a translation through an entry it changed" },
	{ "SHOOTDOWN-SET", "a shootdown IPI reaches every CPU with the pmap active, each acknowledging after it invalidated" },
	{ NULL, NULL },
};

const struct invariant_info *invariant_lookup(const char *id)
{
	for (const struct invariant_info *i = invariant_catalog; i->id != NULL; i++)
		if (strcmp(i->id, id) == 0)
			return i;
	return NULL;
}

/* The planted bugs of the buggy guest builds (guest/CMakeLists.txt). */
const struct planted_bug planted_bugs[] = {
	{ "forget-invlpg", "TLB-STALE", "pmap_remove and friends clear a PTE without invlpg" },
	{ "protect-noop", "MODEL", "pmap_protect to read-only leaves PG_RW set" },
	{ "leak-ptp", "PT-COUNT", "an emptied page-table page is not freed" },
	{ "stats-skew", "STATS", "removing a mapping does not decrement resident_count" },
	{ "pv-leak", "PV-MAPPING", "removing a managed mapping leaves its pv entry behind" },
	{ "growkernel-partial", "PD-KERNEL", "pmap_growkernel updates only the kernel pmap" },
	{ "release-keeps-kva", "PAGE-STATE", "pmap_release frees the directory page but keeps it mapped" },
	{ "selfmap-ro", "PD-SELFMAP", "pmap_pinit installs the recursive slot read-only" },
	{ "no-free-empty-chunk", "PV-CHUNK-EMPTY", "a chunk whose last entry is freed is kept" },
	{ "bitmap-leak", "PV-CHUNK-BITMAP", "free_pv_entry does not set the entry's bit" },
	{ "full-at-head", "PV-CHUNK-LISTS", "a chunk that fills up stays at the head of its pmap's list" },
	{ "vafree-pgv", "PV-KVA", "pmap_ptelist_free leaves PG_V set in the free slot's PTE" },
	{ "lock-held", "LOCK-HELD", "pmap_protect returns from its no-op case with the pmap locked" },
	{ "protect-drops-dirty", "AD-DIRTY-LOST", "pmap_protect clears PG_M without setting PGA_MODIFIED" },
	{ "remove-drops-dirty", "AD-DIRTY-LOST", "pmap_remove retires a PTE without saving its PG_M" },
	{ "enter-drops-ref", "AD-REF-LOST", "pmap_enter replaces a mapping without saving its PG_A" },
	{ "remove-all-drops-ref", "AD-REF-LOST", "pmap_remove_all retires PTEs without saving their PG_A" },
	{ "remove-past-end", "MODEL", "pmap_remove removes one page past the end of its range" },
	{ "ptelist-keeps-head", "PV-KVA", "pmap_ptelist_alloc hands out a slot but leaves it at the head of the free list" },
	{ NULL, NULL, NULL },
};

/* The planted SMP bugs (guest-smp-NAME.elf): only several CPUs show them. */
const struct planted_bug smp_bugs[] = {
	{ "no-shootdown", "TLB-SHOOTDOWN", "pmap_invalidate_page invalidates only on its own CPU" },
	{ "wrong-set", "SHOOTDOWN-SET", "the shootdown's CPU set leaves out CPU 0" },
	{ "ack-early", "SHOOTDOWN-SET", "the IPI handler acknowledges before it invalidates" },
	{ "unlocked-remove", "PV-MAPPING", "pmap_remove leaves out pv_lock: its pv list updates race with pmap_enter" },
	{ "lock-order", "LOCK-ORDER", "pmap_protect takes the pmap lock before pv_lock, the reverse of pmap_enter" },
	{ NULL, NULL, NULL },
};

const struct planted_bug *planted_bug_lookup(const char *name)
{
	for (const struct planted_bug *b = planted_bugs; b->name != NULL; b++)
		if (strcmp(b->name, name) == 0)
			return b;
	return NULL;
}
