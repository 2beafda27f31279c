/*
 * test_pmap.c - the guest pmap driven through the host, with exact values
 * read back from guest memory: page tables, vm_page records, pv chunks,
 * statistics, and what the CPU itself sees through the MMU.
 */
#include "pmaptest.h"

#define VA1 0x08048000u

/* Allocate n managed pages into out[]. */
static void pages(struct machine *m, uint32_t *out, int n)
{
	for (int i = 0; i < n; i++) {
		out[i] = CALL(m, "rig_page_alloc");
		ck_assert_uint_ne(out[i], 0);
	}
}

/* Fill a page with a recognisable word. */
static void mark(struct machine *m, uint32_t page, uint32_t word)
{
	uint32_t *p = phys_ptr(&m->pm, page_pa(m, page), PAGE_SIZE);

	for (int i = 0; i < 1024; i++)
		p[i] = word;
}

START_TEST(enter_extract_round_trip)
{
	struct machine m;
	uint32_t p, pg, pa, pde;

	boot(&m);
	p = CALL(&m, "rig_pmap_create");
	pages(&m, &pg, 1);
	pa = page_pa(&m, pg);
	ck_assert_uint_eq(enter(&m, p, VA1, pg, PROT_RW, 0), 0);
	ck_assert_uint_eq(CALL(&m, "pmap_extract", p, VA1 + 0x123), pa + 0x123);
	ck_assert_uint_eq(CALL(&m, "pmap_extract", p, VA1 + PAGE_SIZE), 0);
	ck_assert_uint_eq(pte_of(&m, p, VA1), pa | PG_V | PG_RW | PG_U | PG_MANAGED);
	pde = pde_of(&m, p, VA1);
	ck_assert_uint_eq(pde & (PG_V | PG_RW | PG_U), PG_V | PG_RW | PG_U);
	ck_assert_uint_eq(vmpage(&m, page_of_pa(&m, pde & PG_FRAME))->state, VPS_PTP);
	ck_assert_uint_eq(vmpage(&m, page_of_pa(&m, pde & PG_FRAME))->wire_count, 1);
	ck_assert_uint_eq(pmapv(&m, p)->pm_stats.resident_count, 1);
	ck_assert_uint_eq(pmapv(&m, p)->pm_stats.wired_count, 0);
	ck_assert_uint_eq(vmpage(&m, pg)->pv_count, 1);
	ck_assert_uint_eq(*GPTR_OF(&m, uint32_t, gsym(&m, "pv_entry_count")), 1);
	/* The kernel pmap: an unmanaged kenter is found by pmap_extract too. */
	CALL(&m, "rig_kenter", machine_info(&m)->gi_kva_free, pg);
	ck_assert_uint_eq(CALL(&m, "pmap_extract", kernel_pmap(&m), machine_info(&m)->gi_kva_free + 8), pa + 8);
	machine_close(&m);
}
END_TEST

START_TEST(enter_replaces_same_and_different_page)
{
	struct machine m;
	uint32_t p, pg[2], v;

	boot(&m);
	p = CALL(&m, "rig_pmap_create");
	pages(&m, pg, 2);
	mark(&m, pg[0], 0xaaaa0000);
	mark(&m, pg[1], 0xbbbb1111);
	ck_assert_uint_eq(enter(&m, p, VA1, pg[0], PROT_RW, 0), 0);
	ck_assert_int_eq(store_faults(&m, p, VA1), 0);		/* sets A and M */
	ck_assert_uint_eq(pte_of(&m, p, VA1) & (PG_A | PG_M), PG_A | PG_M);
	/* Same page, read-only and wired: A kept, M folded into the page. */
	ck_assert_uint_eq(enter(&m, p, VA1, pg[0], PROT_R, 1), 0);
	ck_assert_uint_eq(pte_of(&m, p, VA1), page_pa(&m, pg[0]) | PG_V | PG_U | PG_A | PG_W | PG_MANAGED);
	ck_assert_uint_eq(vmpage(&m, pg[0])->aflags, PGA_MODIFIED);
	ck_assert_uint_eq(pmapv(&m, p)->pm_stats.wired_count, 1);
	ck_assert_int_eq(store_faults(&m, p, VA1), 1);		/* no stale writable entry */
	/* A different page: the old pv entry goes, the TLB forgets the old frame. */
	ck_assert_uint_eq(enter(&m, p, VA1, pg[1], PROT_RW, 0), 0);
	ck_assert_uint_eq(pte_of(&m, p, VA1), page_pa(&m, pg[1]) | PG_V | PG_RW | PG_U | PG_MANAGED);
	ck_assert_uint_eq(vmpage(&m, pg[0])->pv_count, 0);
	ck_assert_uint_eq(vmpage(&m, pg[1])->pv_count, 1);
	ck_assert_uint_eq(pmapv(&m, p)->pm_stats.resident_count, 1);
	ck_assert_uint_eq(pmapv(&m, p)->pm_stats.wired_count, 0);
	ck_assert_uint_eq(*GPTR_OF(&m, uint32_t, gsym(&m, "pv_entry_count")), 1);
	ck_assert_uint_eq(GCALL(&m, "rig_touch", &v, p, VA1, 0), STOP_RETURN);
	ck_assert_uint_eq(v, 0xbbbb1111);
	machine_close(&m);
}
END_TEST

START_TEST(remove_across_page_tables_frees_them)
{
	struct machine m;
	uint32_t p, pg[4], free0, *free_count;

	boot(&m);
	free_count = GPTR_OF(&m, uint32_t, gsym(&m, "vm_free_count"));
	p = CALL(&m, "rig_pmap_create");
	pages(&m, pg, 4);
	free0 = *free_count;
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(enter(&m, p, 0x003fe000 + i * PAGE_SIZE, pg[i], PROT_RW, 0), 0);
	ck_assert_uint_eq(*free_count, free0 - 3);		/* two page tables, a chunk */
	CALL(&m, "pmap_remove", p, 0x003ff000, 0x00401000);
	ck_assert_uint_eq(pmapv(&m, p)->pm_stats.resident_count, 2);
	ck_assert_uint_eq(pde_of(&m, p, 0x003fe000) & PG_V, PG_V);
	ck_assert_uint_eq(pde_of(&m, p, 0x00401000) & PG_V, PG_V);
	ck_assert_uint_eq(pte_of(&m, p, 0x003ff000), 0);
	ck_assert_uint_eq(pte_of(&m, p, 0x00400000), 0);
	CALL(&m, "pmap_remove", p, 0x003fe000, 0x00402000);
	ck_assert_uint_eq(pde_of(&m, p, 0x003fe000), 0);
	ck_assert_uint_eq(pde_of(&m, p, 0x00401000), 0);
	ck_assert_uint_eq(pmapv(&m, p)->pm_stats.resident_count, 0);
	ck_assert_uint_eq(*free_count, free0);			/* all three back */
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(vmpage(&m, pg[i])->pv_count, 0);
	CALL(&m, "rig_pmap_destroy", p);
	ck_assert_uint_eq(*free_count, free0 + 1);		/* + the directory */
	machine_close(&m);
}
END_TEST

START_TEST(protect_downgrades)
{
	struct machine m;
	uint32_t p, pg[3];

	boot(&m);
	p = CALL(&m, "rig_pmap_create");
	pages(&m, pg, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(enter(&m, p, VA1 + i * PAGE_SIZE, pg[i], PROT_RW, 0), 0);
	ck_assert_int_eq(store_faults(&m, p, VA1), 0);
	CALL(&m, "pmap_protect", p, VA1, VA1 + 3 * PAGE_SIZE, PROT_RW);	/* no change */
	ck_assert_uint_eq(pte_of(&m, p, VA1) & PG_RW, PG_RW);
	CALL(&m, "pmap_protect", p, VA1, VA1 + 3 * PAGE_SIZE, PROT_R);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(pte_of(&m, p, VA1 + i * PAGE_SIZE) & (PG_V | PG_RW | PG_M), PG_V);
	ck_assert_uint_eq(vmpage(&m, pg[0])->aflags & PGA_MODIFIED, PGA_MODIFIED);
	ck_assert_int_eq(store_faults(&m, p, VA1), 1);
	ck_assert_int_eq(load_faults(&m, p, VA1), 0);
	CALL(&m, "pmap_protect", p, VA1, VA1 + PAGE_SIZE, 0);		/* none: removed */
	ck_assert_uint_eq(pte_of(&m, p, VA1), 0);
	ck_assert_uint_eq(pmapv(&m, p)->pm_stats.resident_count, 2);
	ck_assert_int_eq(load_faults(&m, p, VA1), 1);
	machine_close(&m);
}
END_TEST

START_TEST(remove_all_in_three_pmaps)
{
	struct machine m;
	uint32_t p[3], pg[2];

	boot(&m);
	pages(&m, pg, 2);
	for (int i = 0; i < 3; i++) {
		p[i] = CALL(&m, "rig_pmap_create");
		ck_assert_uint_eq(enter(&m, p[i], VA1 + i * 0x10000000, pg[0], PROT_RW, 0), 0);
		ck_assert_int_eq(load_faults(&m, p[i], VA1 + i * 0x10000000), 0);
	}
	ck_assert_uint_eq(enter(&m, p[0], VA1 + PAGE_SIZE, pg[1], PROT_RW, 0), 0);
	ck_assert_uint_eq(vmpage(&m, pg[0])->pv_count, 3);
	CALL(&m, "pmap_remove_all", pg[0]);
	ck_assert_uint_eq(vmpage(&m, pg[0])->pv_count, 0);
	ck_assert_uint_eq(vmpage(&m, pg[0])->pv_list.tqh_first, 0);
	ck_assert_uint_eq(vmpage(&m, pg[0])->aflags, PGA_REFERENCED);
	ck_assert_uint_eq(pmapv(&m, p[0])->pm_stats.resident_count, 1);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(pte_of(&m, p[i], VA1 + i * 0x10000000), 0);
		ck_assert_int_eq(load_faults(&m, p[i], VA1 + i * 0x10000000), 1);
	}
	ck_assert_uint_eq(pde_of(&m, p[1], VA1 + 0x10000000), 0);	/* page table freed */
	ck_assert_uint_eq(*GPTR_OF(&m, uint32_t, gsym(&m, "pv_entry_count")), 1);
	machine_close(&m);
}
END_TEST

/* The chunk at the head of pmap p's list, and the one after it. */
static struct pv_chunk *chunk(struct machine *m, uint32_t va)
{
	return GPTR_OF(m, struct pv_chunk, va);
}

START_TEST(entry_337_opens_a_second_chunk)
{
	struct machine m;
	static uint32_t pg[337];
	uint32_t p, c1, c2;

	boot(&m);
	p = CALL(&m, "rig_pmap_create");
	pages(&m, pg, 337);
	for (int i = 0; i < 336; i++)
		ck_assert_uint_eq(enter(&m, p, VA1 + i * PAGE_SIZE, pg[i], PROT_RW, 0), 0);
	c1 = pmapv(&m, p)->pm_pvchunk.tqh_first;
	for (int i = 0; i < _NPCM; i++)
		ck_assert_uint_eq(chunk(&m, c1)->pc_map[i], 0);		/* full */
	ck_assert_uint_eq(pvstats(&m)->pc_chunk_count, 1);
	ck_assert_uint_eq(enter(&m, p, VA1 + 336 * PAGE_SIZE, pg[336], PROT_RW, 0), 0);
	ck_assert_uint_eq(pvstats(&m)->pc_chunk_count, 2);
	c2 = pmapv(&m, p)->pm_pvchunk.tqh_first;		/* new chunk first ... */
	ck_assert_uint_ne(c2, c1);
	ck_assert_uint_eq(chunk(&m, c2)->pc_list.tqe_next, c1);	/* ... the full one behind */
	ck_assert_uint_eq(chunk(&m, c2)->pc_map[0], 0xfffffffe);
	ck_assert_uint_eq(chunk(&m, c2)->pc_map[1], 0xffffffff);
	ck_assert_uint_eq(chunk(&m, c2)->pc_map[_NPCM - 1], PC_FREE_LAST);
	ck_assert_uint_eq(chunk(&m, c2)->pc_pmap, p);
	ck_assert_uint_eq(chunk(&m, c2)->pc_pventry[0].pv_va, VA1 + 336 * PAGE_SIZE);
	ck_assert_uint_eq(c2, gword(&m, "pv_chunkbase") + PAGE_SIZE);
	ck_assert_uint_eq(*GPTR_OF(&m, uint32_t, gsym(&m, "pv_entry_count")), 337);
	machine_close(&m);
}
END_TEST

/* Three pmaps, one page each: chunks in slots 0, 1, 2; then P1 lets go. */
static void three_chunks_free_middle(struct machine *m, uint32_t *p, uint32_t *pg)
{
	pages(m, pg, 4);
	for (int i = 0; i < 4; i++)
		p[i] = CALL(m, "rig_pmap_create");
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(enter(m, p[i], VA1, pg[i], PROT_RW, 0), 0);
	ck_assert_uint_eq(pvstats(m)->pv_pages_held, 3);
	CALL(m, "pmap_remove", p[1], VA1, VA1 + PAGE_SIZE);
}

START_TEST(ptelist_reuses_a_hole)
{
	struct machine m;
	uint32_t p[4], pg[4], base;

	boot(&m);
	base = gword(&m, "pv_chunkbase");
	three_chunks_free_middle(&m, p, pg);
	/* The hole: slot 1 unmapped, its page freed, at the head of pv_vafree,
	 * its PTE holding the next free slot (3) with PG_V clear. */
	ck_assert_uint_eq(pvstats(&m)->pv_pages_held, 2);
	ck_assert_uint_eq(*GPTR_OF(&m, uint32_t, gsym(&m, "pv_vafree")), base + PAGE_SIZE);
	ck_assert_uint_eq(pte_of(&m, kernel_pmap(&m), base + PAGE_SIZE), base + 3 * PAGE_SIZE);
	ck_assert_uint_eq(pte_of(&m, kernel_pmap(&m), base) & PG_V, PG_V);
	/* The next chunk goes into the hole. */
	ck_assert_uint_eq(enter(&m, p[3], VA1, pg[3], PROT_RW, 0), 0);
	ck_assert_uint_eq(pmapv(&m, p[3])->pm_pvchunk.tqh_first, base + PAGE_SIZE);
	ck_assert_uint_eq(*GPTR_OF(&m, uint32_t, gsym(&m, "pv_vafree")), base + 3 * PAGE_SIZE);
	ck_assert_uint_eq(pvstats(&m)->pv_pages_held, 3);
	ck_assert_uint_eq(pvstats(&m)->pc_chunk_frees, 1);
	machine_close(&m);
}
END_TEST

START_TEST(nofree_never_frees)
{
	struct machine m;
	uint32_t p[4], pg[4], base;

	boot_policy(&m, "nofree", 0, 0);
	base = gword(&m, "pv_chunkbase");
	three_chunks_free_middle(&m, p, pg);
	/* The empty chunk stays mapped and held, kept on pv_spare. */
	ck_assert_uint_eq(pvstats(&m)->pv_pages_held, 3);
	ck_assert_uint_eq(pte_of(&m, kernel_pmap(&m), base + PAGE_SIZE) & PG_V, PG_V);
	ck_assert_uint_eq(GPTR_OF(&m, struct pv_chunklist, gsym(&m, "pv_spare"))->tqh_first, base + PAGE_SIZE);
	ck_assert_uint_eq(*GPTR_OF(&m, uint32_t, gsym(&m, "pv_nextindex")), 3);
	ck_assert_uint_eq(enter(&m, p[3], VA1, pg[3], PROT_RW, 0), 0);
	ck_assert_uint_eq(pmapv(&m, p[3])->pm_pvchunk.tqh_first, base + PAGE_SIZE);
	ck_assert_uint_eq(*GPTR_OF(&m, uint32_t, gsym(&m, "pv_nextindex")), 3);
	/* Unmapping everything gives nothing back. */
	for (int i = 0; i < 4; i++)
		CALL(&m, "pmap_remove", p[i], 0, 0xc0000000);
	ck_assert_uint_eq(pvstats(&m)->pv_pages_held, 3);
	ck_assert_uint_eq(pvstats(&m)->pc_chunk_count, 0);
	machine_close(&m);
}
END_TEST

START_TEST(dynamic_frees_through_the_kernel_map)
{
	struct machine m;
	uint32_t p[4], pg[4], base;

	boot_policy(&m, "dynamic", 0, 0);
	base = gword(&m, "pv_chunkbase");
	three_chunks_free_middle(&m, p, pg);
	ck_assert_uint_eq(pvstats(&m)->pv_pages_held, 2);
	ck_assert_uint_eq(pte_of(&m, kernel_pmap(&m), base + PAGE_SIZE), 0);
	ck_assert_uint_eq(enter(&m, p[3], VA1, pg[3], PROT_RW, 0), 0);	/* first fit */
	ck_assert_uint_eq(pmapv(&m, p[3])->pm_pvchunk.tqh_first, base + PAGE_SIZE);
	machine_close(&m);
}
END_TEST

/*
 * A two-chunk block: the third pmap's entry must reclaim the oldest chunk
 * of another pmap; with only wired mappings around, it gets a shortage and
 * nothing changes.
 */
static void exhaust(const char *policy)
{
	struct machine m;
	uint32_t p[3], pg[3], entries;

	boot_policy(&m, policy, 0, 2);
	ck_assert_uint_eq(gword(&m, "pv_maxchunks"), 2);
	pages(&m, pg, 3);
	for (int i = 0; i < 3; i++)
		p[i] = CALL(&m, "rig_pmap_create");
	ck_assert_uint_eq(enter(&m, p[0], VA1, pg[0], PROT_RW, 1), 0);	/* wired */
	ck_assert_uint_eq(enter(&m, p[1], VA1, pg[1], PROT_RW, 1), 0);
	entries = *GPTR_OF(&m, uint32_t, gsym(&m, "pv_entry_count"));
	ck_assert_uint_eq(enter(&m, p[2], VA1, pg[2], PROT_RW, 0), 6);	/* KERN_RESOURCE_SHORTAGE */
	ck_assert_uint_eq(pte_of(&m, p[2], VA1), 0);
	ck_assert_uint_eq(pde_of(&m, p[2], VA1), 0);
	ck_assert_uint_eq(pmapv(&m, p[2])->pm_stats.resident_count, 0);
	ck_assert_uint_eq(*GPTR_OF(&m, uint32_t, gsym(&m, "pv_entry_count")), entries);
	ck_assert_uint_eq(pvstats(&m)->pv_reclaimed, 0);
	/* Unwire p[1]'s mapping: now it can be reclaimed. */
	ck_assert_uint_eq(enter(&m, p[1], VA1, pg[1], PROT_RW, 0), 0);
	ck_assert_uint_eq(enter(&m, p[2], VA1, pg[2], PROT_RW, 0), 0);
	ck_assert_uint_eq(pvstats(&m)->pv_reclaims, 1);
	ck_assert_uint_eq(pvstats(&m)->pv_reclaimed, 1);
	ck_assert_uint_eq(pte_of(&m, p[1], VA1), 0);
	ck_assert_uint_eq(pmapv(&m, p[1])->pm_stats.resident_count, 0);
	ck_assert_uint_eq(pmapv(&m, p[1])->pm_pvchunk.tqh_first, 0);
	ck_assert_uint_eq(vmpage(&m, pg[1])->pv_count, 0);
	ck_assert_uint_eq(pte_of(&m, p[0], VA1) & PG_V, PG_V);		/* wired survives */
	ck_assert_int_eq(load_faults(&m, p[1], VA1), 1);
	ck_assert_int_eq(load_faults(&m, p[2], VA1), 0);
	machine_close(&m);
}

START_TEST(kva_exhaustion_ptelist) { exhaust("ptelist"); }
END_TEST
START_TEST(kva_exhaustion_nofree) { exhaust("nofree"); }
END_TEST
START_TEST(kva_exhaustion_dynamic) { exhaust("dynamic"); }
END_TEST

START_TEST(reclaim_under_injected_failure)
{
	struct machine m;
	static uint32_t pg[338];
	uint32_t p[2];

	boot(&m);
	pages(&m, pg, 338);
	p[0] = CALL(&m, "rig_pmap_create");
	p[1] = CALL(&m, "rig_pmap_create");
	ck_assert_uint_eq(enter(&m, p[0], VA1, pg[0], PROT_RW, 0), 0);
	for (int i = 1; i < 337; i++)		/* p[1]'s chunk is full */
		ck_assert_uint_eq(enter(&m, p[1], VA1 + i * PAGE_SIZE, pg[i], PROT_RW, 0), 0);
	machine_info(&m)->gi_alloc_fail_after = 0;	/* every allocation fails now */
	ck_assert_uint_eq(enter(&m, p[1], VA1 + 337 * PAGE_SIZE, pg[337], PROT_RW, 0), 0);
	ck_assert_uint_eq(pvstats(&m)->pc_chunk_tryfail, 1);
	ck_assert_uint_eq(pvstats(&m)->pv_reclaims, 1);
	ck_assert_uint_eq(pvstats(&m)->pv_reclaimed, 1);
	ck_assert_uint_eq(pmapv(&m, p[0])->pm_stats.resident_count, 0);
	ck_assert_uint_eq(pde_of(&m, p[0], VA1), 0);		/* its page table went too */
	ck_assert_uint_eq(pmapv(&m, p[1])->pm_stats.resident_count, 337);
	ck_assert_uint_eq(pvstats(&m)->pc_chunk_count, 2);
	/* p[0] needs a page table first: a shortage before any reclaim, p[1] unchanged. */
	ck_assert_uint_eq(enter(&m, p[0], VA1, pg[0], PROT_RW, 0), 6);
	ck_assert_uint_eq(pvstats(&m)->pv_reclaimed, 1);
	ck_assert_uint_eq(pmapv(&m, p[1])->pm_stats.resident_count, 337);
	machine_info(&m)->gi_alloc_fail_after = ~0u;
	ck_assert_uint_eq(enter(&m, p[0], VA1, pg[0], PROT_RW, 0), 0);
	machine_close(&m);
}
END_TEST

/* A same-page enter over an unmanaged kernel mapping replaces it: no pv-less managed PTE. */
START_TEST(enter_over_kenter_replaces)
{
	struct machine m;
	uint32_t pg, va;

	boot(&m);
	pages(&m, &pg, 1);
	va = machine_info(&m)->gi_kva_free;
	CALL(&m, "rig_kenter", va, pg);
	ck_assert_uint_eq(enter(&m, kernel_pmap(&m), va, pg, PROT_RW, 0), 0);
	ck_assert_uint_eq(pte_of(&m, kernel_pmap(&m), va), page_pa(&m, pg) | PG_V | PG_RW | PG_MANAGED);
	ck_assert_uint_eq(vmpage(&m, pg)->pv_count, 1);
	ck_assert_uint_eq(pmapv(&m, kernel_pmap(&m))->pm_stats.resident_count, 1);
	CALL(&m, "pmap_remove", kernel_pmap(&m), va, va + PAGE_SIZE);
	ck_assert_uint_eq(vmpage(&m, pg)->pv_count, 0);
	ck_assert_uint_eq(pmapv(&m, kernel_pmap(&m))->pm_stats.resident_count, 0);
	machine_close(&m);
}
END_TEST

/* A reclaim that empties nothing must not put a full chunk at the head. */
START_TEST(reclaim_keeps_full_chunks_behind)
{
	struct machine m;
	static uint32_t pg[674];
	uint32_t p[2];

	boot_policy(&m, "ptelist", 0, 2);
	pages(&m, pg, 674);
	p[0] = CALL(&m, "rig_pmap_create");
	p[1] = CALL(&m, "rig_pmap_create");
	for (int i = 0; i < 672; i++)	/* two full chunks of wired mappings */
		ck_assert_uint_eq(enter(&m, p[0], VA1 + i * PAGE_SIZE, pg[i], PROT_RW, 1), 0);
	CALL(&m, "pmap_remove", p[0], VA1, VA1 + PAGE_SIZE);	/* a free entry in the older chunk */
	ck_assert_uint_eq(enter(&m, p[1], VA1, pg[672], PROT_RW, 0), 6);	/* nothing to reclaim */
	ck_assert_uint_eq(enter(&m, p[0], VA1, pg[673], PROT_RW, 1), 0);	/* the free entry is found */
	ck_assert_uint_eq(pmapv(&m, p[0])->pm_stats.resident_count, 672);
	machine_close(&m);
}
END_TEST

START_TEST(growkernel_reaches_every_pmap)
{
	struct machine m;
	uint32_t p[2], p3, pg, end0, end1, *kvm_end;

	boot(&m);
	kvm_end = GPTR_OF(&m, uint32_t, machine_info(&m)->gi_kernel_vm_end);
	pages(&m, &pg, 1);
	mark(&m, pg, 0x600df00d);
	p[0] = CALL(&m, "rig_pmap_create");
	p[1] = CALL(&m, "rig_pmap_create");
	end0 = *kvm_end;
	CALL(&m, "rig_kenter", end0 + 2 * NBPDR + 0x3000, pg);
	end1 = *kvm_end;
	ck_assert_uint_eq(end1, end0 + 3 * NBPDR);
	p3 = CALL(&m, "rig_pmap_create");
	for (uint32_t va = end0; va < end1; va += NBPDR) {
		uint32_t kpde = pde_of(&m, kernel_pmap(&m), va);

		ck_assert_uint_eq(kpde & PG_V, PG_V);
		ck_assert_uint_eq(pde_of(&m, p[0], va), kpde);
		ck_assert_uint_eq(pde_of(&m, p[1], va), kpde);
		ck_assert_uint_eq(pde_of(&m, p3, va), kpde);
	}
	ck_assert_uint_eq(CALL(&m, "rig_touch", p[1], end0 + 2 * NBPDR + 0x3000, 0), 0x600df00d);
	machine_close(&m);
}
END_TEST

START_TEST(cpu_sets_accessed_and_modified)
{
	struct machine m;
	uint32_t p, pg;

	boot(&m);
	p = CALL(&m, "rig_pmap_create");
	pages(&m, &pg, 1);
	ck_assert_uint_eq(enter(&m, p, VA1, pg, PROT_RW, 0), 0);
	ck_assert_uint_eq(CALL(&m, "pmap_is_referenced", pg), 0);
	ck_assert_uint_eq(CALL(&m, "pmap_is_modified", pg), 0);
	ck_assert_int_eq(load_faults(&m, p, VA1), 0);
	ck_assert_uint_eq(CALL(&m, "pmap_is_referenced", pg), 1);
	ck_assert_uint_eq(CALL(&m, "pmap_is_modified", pg), 0);
	ck_assert_uint_eq(pte_of(&m, p, VA1) & (PG_A | PG_M), PG_A);
	ck_assert_int_eq(store_faults(&m, p, VA1), 0);
	ck_assert_uint_eq(CALL(&m, "pmap_is_modified", pg), 1);
	CALL(&m, "pmap_clear_modify", pg);
	ck_assert_uint_eq(CALL(&m, "pmap_is_modified", pg), 0);
	ck_assert_uint_eq(pte_of(&m, p, VA1) & PG_M, 0);
	/* Only because clear_modify invalidated the TLB does the CPU set M again. */
	ck_assert_int_eq(store_faults(&m, p, VA1), 0);
	ck_assert_uint_eq(CALL(&m, "pmap_is_modified", pg), 1);
	machine_close(&m);
}
END_TEST

START_TEST(no_stale_tlb_entry_after_any_call)
{
	struct machine m;
	uint32_t p, pg[2];

	boot(&m);
	p = CALL(&m, "rig_pmap_create");
	pages(&m, pg, 2);
	ck_assert_uint_eq(enter(&m, p, VA1, pg[0], PROT_RW, 0), 0);
	ck_assert_int_eq(store_faults(&m, p, VA1), 0);		/* cached, writable */
	CALL(&m, "pmap_protect", p, VA1, VA1 + PAGE_SIZE, PROT_R);
	ck_assert_int_eq(store_faults(&m, p, VA1), 1);
	ck_assert_int_eq(load_faults(&m, p, VA1), 0);		/* cached again */
	CALL(&m, "pmap_remove", p, VA1, VA1 + PAGE_SIZE);
	ck_assert_int_eq(load_faults(&m, p, VA1), 1);
	ck_assert_uint_eq(enter(&m, p, VA1, pg[1], PROT_RW, 0), 0);
	ck_assert_int_eq(load_faults(&m, p, VA1), 0);
	CALL(&m, "pmap_remove_all", pg[1]);
	ck_assert_int_eq(load_faults(&m, p, VA1), 1);
	ck_assert_uint_eq(enter(&m, p, VA1, pg[0], PROT_RW, 0), 0);
	ck_assert_int_eq(load_faults(&m, p, VA1), 0);
	CALL(&m, "pmap_remove", p, 0, 0xc0000000);
	ck_assert_int_eq(load_faults(&m, p, VA1), 1);
	machine_close(&m);
}
END_TEST

/*
 * The dynamic policy's flaw, reachable: eight chunk allocations use up the
 * boot map entries; the ninth refills the pool with a managed kernel
 * mapping, whose pv entry needs a chunk, whose KVA needs the kernel map,
 * whose lock is held: the guest panics on the recursion.
 */
START_TEST(dynamic_refill_recurses)
{
	struct machine m;
	uint32_t p[9], pg[9];

	boot_policy(&m, "dynamic", 0, 0);
	pages(&m, pg, 9);
	for (int i = 0; i < 9; i++)
		p[i] = CALL(&m, "rig_pmap_create");
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(enter(&m, p[i], VA1, pg[i], PROT_RW, 0), 0);
	ck_assert_int_eq(GCALL(&m, "rig_enter", NULL, p[8], VA1, pg[8], PROT_RW, 0), STOP_PANIC);
	ck_assert_str_eq(m.stop.message, "recursing on non-recursive lock kernel map");
	machine_close(&m);
}
END_TEST

/*
 * vm_page_free's own assertion, reached directly: freeing a page that a
 * pmap still maps panics with the page's address; an unmapped one is freed.
 */
START_TEST(vm_page_free_of_a_mapped_page_panics)
{
	struct machine m;
	uint32_t p, pg[2], free_before;
	char want[64];

	boot(&m);
	p = CALL(&m, "rig_pmap_create");
	pages(&m, pg, 2);
	free_before = *GPTR_OF(&m, uint32_t, gsym(&m, "vm_free_count"));
	CALL(&m, "vm_page_free", pg[1]);	/* no mappings: freed */
	ck_assert_uint_eq(vmpage(&m, pg[1])->state, VPS_FREE);
	ck_assert_uint_eq(*GPTR_OF(&m, uint32_t, gsym(&m, "vm_free_count")), free_before + 1);
	ck_assert_uint_eq(enter(&m, p, VA1, pg[0], PROT_RW, 0), 0);
	ck_assert_int_eq(GCALL(&m, "vm_page_free", NULL, pg[0]), STOP_PANIC);
	snprintf(want, sizeof(want), "vm_page_free: page %x still mapped", page_pa(&m, pg[0]));
	ck_assert_str_eq(m.stop.message, want);
	machine_close(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pmap");
	TCase *tc = tcase_create("pmap");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, enter_extract_round_trip);
	tcase_add_test(tc, enter_replaces_same_and_different_page);
	tcase_add_test(tc, remove_across_page_tables_frees_them);
	tcase_add_test(tc, protect_downgrades);
	tcase_add_test(tc, remove_all_in_three_pmaps);
	tcase_add_test(tc, entry_337_opens_a_second_chunk);
	tcase_add_test(tc, ptelist_reuses_a_hole);
	tcase_add_test(tc, nofree_never_frees);
	tcase_add_test(tc, dynamic_frees_through_the_kernel_map);
	tcase_add_test(tc, kva_exhaustion_ptelist);
	tcase_add_test(tc, kva_exhaustion_nofree);
	tcase_add_test(tc, kva_exhaustion_dynamic);
	tcase_add_test(tc, reclaim_under_injected_failure);
	tcase_add_test(tc, enter_over_kenter_replaces);
	tcase_add_test(tc, reclaim_keeps_full_chunks_behind);
	tcase_add_test(tc, growkernel_reaches_every_pmap);
	tcase_add_test(tc, cpu_sets_accessed_and_modified);
	tcase_add_test(tc, no_stale_tlb_entry_after_any_call);
	tcase_add_test(tc, dynamic_refill_recurses);
	tcase_add_test(tc, vm_page_free_of_a_mapped_page_panics);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
