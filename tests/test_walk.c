/*
 * test_walk.c - the host page walker agrees with the CPU. The guest builds
 * many random mappings (user pages with pmap_enter, kernel pages with
 * pmap_kenter, one 4 MiB PSE page); then for mapped and unmapped addresses
 * alike, a guest load and the host walker must agree: same value from the
 * same physical address, or a page fault exactly where the walker finds no
 * translation.
 */
#include "harness.h"
#include <stdlib.h>
#include "walk.h"

static uint32_t rng_state;

/* xorshift32: the same sequence on every machine. */
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Compare one address: the guest's load against the host's walk. */
static void check_va(struct machine *m, uint32_t va, int *mapped, int *unmapped)
{
	struct walk w;
	uint32_t got = 0;
	enum walk_status st = walk_va(&m->pm, machine_reg(m, UC_X86_REG_CR3),
	    machine_reg(m, UC_X86_REG_CR4), va, &w);
	enum stop_kind k = GCALL(m, "rigtest_load", &got, va);

	if (st == WALK_MAPPED) {
		ck_assert_msg(k == STOP_RETURN, "va 0x%08x: walker maps it to 0x%08x, guest load stopped %d",
		    va, w.pa, k);
		ck_assert_msg(got == phys_read32(&m->pm, w.pa, NULL), "va 0x%08x: guest read 0x%x, host 0x%x",
		    va, got, phys_read32(&m->pm, w.pa, NULL));
		(*mapped)++;
	} else {
		ck_assert_msg(k == STOP_FAULT && m->stop.vector == 14 && m->stop.cr2 == va,
		    "va 0x%08x: walker says unmapped (%d), guest stop %d vector %d", va, st, k, m->stop.vector);
		(*unmapped)++;
	}
}

START_TEST(walker_agrees_with_cpu)
{
	struct machine m;
	struct guest_info *gi;
	uint32_t pmap, pages[64], uvas[300], kvas[40];
	int mapped = 0, unmapped = 0;

	rng_state = 0x2006u;
	boot(&m);
	gi = machine_info(&m);
	pmap = CALL(&m, "rig_pmap_create");
	CALL(&m, "pmap_activate", pmap);
	for (int i = 0; i < 64; i++) {
		uint32_t pa;

		pages[i] = CALL(&m, "rig_page_alloc");
		pa = (pages[i] - gword(&m, "vm_page_array")) / m.ct.page_size << PAGE_SHIFT;
		for (int k = 0; k < 1024; k++)	/* distinguishable contents */
			((uint32_t *)phys_ptr(&m.pm, pa, PAGE_SIZE))[k] = rng();
	}
	for (int i = 0; i < 300; i++) {
		uvas[i] = 0x00400000 + (rng() % 0x3f000) * PAGE_SIZE;
		ck_assert_uint_eq(CALL(&m, "rig_enter", pmap, uvas[i], pages[i % 64], 1 | (i & 2), 0), 0);
	}
	for (int i = 0; i < 40; i++) {
		kvas[i] = gi->gi_kva_free + (rng() % 4096) * PAGE_SIZE;
		CALL(&m, "rig_kenter", kvas[i], pages[(i * 7) % 64]);
	}
	CALL(&m, "rigtest_map_pse", 0x80000000, 0x00400000);
	for (int i = 0; i < 300; i++)
		check_va(&m, uvas[i] + (rng() % 1024) * 4, &mapped, &unmapped);
	for (int i = 0; i < 40; i++)
		check_va(&m, kvas[i] + (rng() % 1024) * 4, &mapped, &unmapped);
	for (int i = 0; i < 200; i++)
		check_va(&m, rng() & ~3u, &mapped, &unmapped);
	for (int i = 0; i < 50; i++)	/* the recursive map and the 4 MiB page */
		check_va(&m, (i & 1 ? 0xffc00000 : 0x80000000) + (rng() % 0x100000) * 4, &mapped, &unmapped);
	ck_assert_int_gt(mapped, 350);
	ck_assert_int_gt(unmapped, 50);
	machine_close(&m);
}
END_TEST

START_TEST(walker_survives_garbage_tables)
{
	struct physmem pm = { .ram = calloc(1, 1 << 20), .size = 1 << 20 };
	struct walk w;
	uint32_t *pd = (uint32_t *)pm.ram;

	pd[0] = 0xfff00000 | PG_V;		/* page table far outside RAM */
	pd[1] = 0x00002000 | PG_V;		/* page table at 8K ... */
	((uint32_t *)(pm.ram + 0x2000))[0] = 0xffff0000 | PG_V; /* ... mapping outside RAM */
	pd[2] = 0xff800000 | PG_V | PG_PS;	/* PSE ignored without CR4.PSE */
	ck_assert_int_eq(walk_va(&pm, 0, 0, 0x00001000, &w), WALK_BAD_TABLE);
	ck_assert_int_eq(walk_va(&pm, 0, 0, 0x00400000, &w), WALK_MAPPED);
	ck_assert_uint_eq(w.pa, 0xffff0000);
	ck_assert_ptr_null(phys_ptr(&pm, w.pa, 4));
	ck_assert_int_eq(walk_va(&pm, 0, 0, 0x00800000, &w), WALK_BAD_TABLE);
	ck_assert_int_eq(walk_va(&pm, 0, CR4_PSE, 0x00812345, &w), WALK_MAPPED);
	ck_assert_uint_eq(w.pa, 0xff812345);
	ck_assert_int_eq(walk_va(&pm, 0, 0, 0x00c00000, &w), WALK_NO_PDE);
	ck_assert_int_eq(walk_va(&pm, 0xfffff000, 0, 0, &w), WALK_BAD_TABLE);
	free(pm.ram);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("walk");
	TCase *tc = tcase_create("walk");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, walker_agrees_with_cpu);
	tcase_add_test(tc, walker_survives_garbage_tables);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
