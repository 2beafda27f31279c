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
	{ "TLB-STALE", "a weakened PTE of the active space was invalidated before the step returned" },
	{ "PAGE-STATE", "every page is in exactly one state; free pages are unmapped" },
	{ "STATS", "each pmap's resident and wired counts match its page tables" },
	{ "MODEL", "the guest's translations equal the reference model's" },
	{ "LOCK-ORDER", "lock classes are always acquired in one order" },
	{ "LOCK-RECURSE", "a non-recursive lock is never acquired while held" },
	{ "LOCK-HELD", "no pmap API call returns with a lock held" },
	{ NULL, NULL },
};

const struct invariant_info *invariant_lookup(const char *id)
{
	for (const struct invariant_info *i = invariant_catalog; i->id != NULL; i++)
		if (strcmp(i->id, id) == 0)
			return i;
	return NULL;
}
