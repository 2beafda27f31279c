/*
 * test_mmu.c - the host MMU is faithful to an i386 CPU, with the watcher on
 * (the mode every checked run uses). Each test fails if the design breaks:
 * the accessed and dirty bits the CPU sets land in guest memory; a PTE
 * changed without INVLPG keeps translating to the old frame until INVLPG or
 * a CR3 load, whatever the host does to Unicorn's own TLB meanwhile; a page
 * fault is reported with vector, CR2 and EIP, again and again; 4 MiB pages
 * translate; and the TLB model holds exactly what the CPU may use.
 */
#include "disasm.h"
#include "pmaptest.h"
#include "watch.h"

#define VA	0x00400000u	/* a user page of the test pmap */

struct rig {
	struct machine m;
	struct events ev;
	struct watch w;
	uint32_t pmap, pg[2];
};

/* Boot, watch, make a pmap with VA -> pg[0], pg[0] and pg[1] holding 0x1111 and 0x2222, active. */
static void setup(struct rig *r)
{
	char err[256];

	boot(&r->m);
	memset(&r->ev, 0, sizeof(r->ev));
	ck_assert_msg(watch_attach(&r->w, &r->m, &r->ev, err, sizeof(err)) == 0, "%s", err);
	r->pmap = CALL(&r->m, "rig_pmap_create");
	for (int i = 0; i < 2; i++) {
		r->pg[i] = CALL(&r->m, "rig_page_alloc");
		*(uint32_t *)phys_ptr(&r->m.pm, page_pa(&r->m, r->pg[i]), 4) = 0x1111u * (i + 1);
	}
	ck_assert_uint_eq(CALL(&r->m, "rig_enter", r->pmap, VA, r->pg[0], PROT_RW, 0), 0);
	CALL(&r->m, "pmap_activate", r->pmap);
}

static void teardown(struct rig *r)
{
	watch_detach(&r->w);
	machine_close(&r->m);
}

/* A guest load from va. */
static uint32_t load(struct rig *r, uint32_t va)
{
	return CALL(&r->m, "rigtest_load", va);
}

/* Point VA's PTE at pg[1] with a guest store and no INVLPG. */
static void retarget_without_invlpg(struct rig *r)
{
	uint32_t pte = pte_of(&r->m, r->pmap, VA);

	CALL(&r->m, "rigtest_pte_mov", PTMAP_VA + (VA >> PAGE_SHIFT) * 4,
	    (pte & ~PG_FRAME) | page_pa(&r->m, r->pg[1]), 0);
}

START_TEST(accessed_and_dirty_land_in_memory)
{
	static struct rig r;

	setup(&r);
	ck_assert_uint_eq(pte_of(&r.m, r.pmap, VA) & (PG_A | PG_M), 0);	/* pmap_enter set neither */
	ck_assert_uint_eq(load(&r, VA), 0x1111);
	ck_assert_uint_eq(pte_of(&r.m, r.pmap, VA) & (PG_A | PG_M), PG_A);
	ck_assert_uint_eq(pde_of(&r.m, r.pmap, VA) & PG_A, PG_A);
	CALL(&r.m, "rigtest_store", VA + 8, 7);	/* the cached read-only translation refills for the store */
	ck_assert_uint_eq(pte_of(&r.m, r.pmap, VA) & (PG_A | PG_M), PG_A | PG_M);
	ck_assert_uint_eq(*(uint32_t *)phys_ptr(&r.m.pm, page_pa(&r.m, r.pg[0]) + 8, 4), 7);
	teardown(&r);
}
END_TEST

START_TEST(stale_translation_until_invlpg)
{
	static struct rig r;
	uint32_t other;
	uint64_t flushes;

	setup(&r);
	ck_assert_uint_eq(load(&r, VA), 0x1111);	/* now cached */
	retarget_without_invlpg(&r);
	ck_assert_uint_eq(load(&r, VA), 0x1111);	/* the CPU still uses the old frame */
	/* What the host does to Unicorn's TLB changes nothing: a flush, a CR3 write
	 * (as after a fault), a fault, and the watched set growing (a new pmap's
	 * directory and page table). */
	ck_assert_int_eq(uc_ctl_flush_tlb(r.m.uc), UC_ERR_OK);
	ck_assert_uint_eq(load(&r, VA), 0x1111);
	machine_set_reg(&r.m, UC_X86_REG_CR3, machine_reg(&r.m, UC_X86_REG_CR3));
	ck_assert_uint_eq(load(&r, VA), 0x1111);
	ck_assert_int_eq(GCALL(&r.m, "rigtest_load", &other, 0x7ff00000u), STOP_FAULT);
	ck_assert_uint_eq(load(&r, VA), 0x1111);
	other = CALL(&r.m, "rig_pmap_create");
	ck_assert_uint_eq(CALL(&r.m, "rig_enter", other, 0x08000000, r.pg[1], PROT_RW, 0), 0);
	ck_assert_uint_eq(load(&r, VA), 0x1111);
	/* A frame the CPU holds a translation of joining the watched set flushes Unicorn's TLB. */
	flushes = r.m.mmu->flushes;
	mmu_frame_changes(r.m.mmu, page_pa(&r.m, r.pg[0]) >> PAGE_SHIFT);
	ck_assert_uint_eq(r.m.mmu->flushes, flushes + 1);
	ck_assert_uint_eq(load(&r, VA), 0x1111);
	ck_assert_ptr_nonnull(mmu_lookup(r.m.mmu, VA));
	ck_assert_uint_eq(mmu_lookup(r.m.mmu, VA)->frame, page_pa(&r.m, r.pg[0]) >> PAGE_SHIFT);
	/* INVLPG drops it: the new frame. */
	CALL(&r.m, "rigtest_invlpg", VA);
	ck_assert_uint_eq(load(&r, VA), 0x2222);
	teardown(&r);
}
END_TEST

START_TEST(stale_translation_until_cr3_load)
{
	static struct rig r;
	uint32_t pte;

	setup(&r);
	ck_assert_uint_eq(load(&r, VA), 0x1111);
	retarget_without_invlpg(&r);
	ck_assert_int_eq(uc_ctl_flush_tlb(r.m.uc), UC_ERR_OK);
	ck_assert_uint_eq(load(&r, VA), 0x1111);
	CALL(&r.m, "rigtest_reload_cr3");
	ck_assert_uint_eq(load(&r, VA), 0x2222);
	/* A write-protect without INVLPG: the cached writable translation still takes the store. */
	pte = pte_of(&r.m, r.pmap, VA);
	CALL(&r.m, "rigtest_store", VA, 5);	/* cached dirty and writable */
	CALL(&r.m, "rigtest_pte_mov", PTMAP_VA + (VA >> PAGE_SHIFT) * 4, (pte | PG_M) & ~PG_RW, 0);
	ck_assert_int_eq(GCALL(&r.m, "rigtest_store", NULL, VA, 6), STOP_RETURN);
	CALL(&r.m, "rigtest_reload_cr3");
	ck_assert_int_eq(GCALL(&r.m, "rigtest_store", NULL, VA, 7), STOP_FAULT);
	ck_assert_uint_eq(r.m.stop.err, 0x3);	/* protection, write, supervisor */
	ck_assert_uint_eq(*(uint32_t *)phys_ptr(&r.m.pm, page_pa(&r.m, r.pg[1]), 4), 6);
	teardown(&r);
}
END_TEST

START_TEST(fault_reported_every_time)
{
	static struct rig r;
	char name[64], text[96];
	uint32_t got, off;
	uint8_t *code;

	setup(&r);
	for (int i = 0; i < 3; i++) {
		uint32_t va = 0x7ff00000u + 0x123u * 4 + (uint32_t)i * 4;
		const struct elf_symbol *s;

		ck_assert_int_eq(GCALL(&r.m, "rigtest_load", &got, va), STOP_FAULT);
		ck_assert_int_eq(r.m.stop.vector, 14);
		ck_assert_uint_eq(r.m.stop.cr2, va);
		ck_assert_uint_eq(r.m.stop.err, 0);	/* not present, read, supervisor */
		s = elf_symbolize(&r.m.elf, r.m.stop.eip, &off);
		snprintf(name, sizeof(name), "%s", s ? s->name : "?");
		ck_assert_str_eq(name, "rigtest_load");
		code = machine_kva_ptr(&r.m, r.m.stop.eip, 16);
		disasm_one(r.m.dis, code, 16, r.m.stop.eip, text, sizeof(text));
		ck_assert_msg(strncmp(text, "mov eax, dword ptr [", 20) == 0, "EIP at %s", text);
	}
	ck_assert_uint_eq(load(&r, VA), 0x1111);	/* and the machine goes on */
	teardown(&r);
}
END_TEST

START_TEST(large_pages_translate)
{
	static struct rig r;
	uint32_t pa = 0x00800000, pde;

	setup(&r);
	*(uint32_t *)phys_ptr(&r.m.pm, pa + 0x123000 + 0x40, 4) = 0xfeed;
	CALL(&r.m, "rigtest_map_pse", 0x80000000u, pa);
	ck_assert_uint_eq(load(&r, 0x80123040u), 0xfeed);
	CALL(&r.m, "rigtest_store", 0x803ff000u, 0xbeef);
	ck_assert_uint_eq(*(uint32_t *)phys_ptr(&r.m.pm, pa + 0x3ff000, 4), 0xbeef);
	pde = pde_of(&r.m, r.pmap, 0x80000000u);
	ck_assert_uint_eq(pde & (PG_PS | PG_A | PG_M), PG_PS | PG_A | PG_M);
	ck_assert_ptr_nonnull(mmu_lookup(r.m.mmu, 0x80123040u));
	ck_assert(mmu_lookup(r.m.mmu, 0x80123040u)->flags & TLB_LARGE);
	/* INVLPG of any address in the 4 MiB page drops every cached page of it. */
	CALL(&r.m, "rigtest_invlpg", 0x80000000u);
	ck_assert_ptr_null(mmu_lookup(r.m.mmu, 0x80123040u));
	ck_assert_ptr_null(mmu_lookup(r.m.mmu, 0x803ff000u));
	CALL(&r.m, "rigtest_unmap_pse", 0x80000000u);
	teardown(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mmu");
	TCase *tc = tcase_create("mmu");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, accessed_and_dirty_land_in_memory);
	tcase_add_test(tc, stale_translation_until_invlpg);
	tcase_add_test(tc, stale_translation_until_cr3_load);
	tcase_add_test(tc, fault_reported_every_time);
	tcase_add_test(tc, large_pages_translate);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
