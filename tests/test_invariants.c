/*
 * test_invariants.c - each rule of the catalog, against a healthy guest
 * state corrupted in exactly one way by the host (a flipped bitmap bit, a
 * PG_V on a free-list PTE, a cyclic free list, a dropped pv entry, a skipped
 * invlpg patched out of the guest's code, ...): exactly that ID fires, and
 * the report names the structure.
 */
#include <stdlib.h>

#include "pmaptest.h"
#include "invariants.h"
#include "runner.h"
#include "watch.h"

#define VA1 0x08048000u

struct world {
	struct machine m;
	struct checker c;
	uint32_t a, b, pg[8];
};

/* A healthy state: two pmaps, mappings across two page tables, a shared
 * page, a kernel mapping, and a freed chunk slot in the ptelist block. */
static void build(struct world *w)
{
	struct violation v;
	uint32_t tmp;

	boot(&w->m);
	w->a = CALL(&w->m, "rig_pmap_create");
	w->b = CALL(&w->m, "rig_pmap_create");
	tmp = CALL(&w->m, "rig_pmap_create");
	for (int i = 0; i < 8; i++)
		w->pg[i] = CALL(&w->m, "rig_page_alloc");
	for (int i = 0; i < 6; i++)
		ck_assert_uint_eq(enter(&w->m, w->a, 0x003fe000 + i * PAGE_SIZE, w->pg[i], PROT_RW, i == 2), 0);
	ck_assert_uint_eq(enter(&w->m, tmp, VA1, w->pg[7], PROT_RW, 0), 0);
	ck_assert_uint_eq(enter(&w->m, w->b, VA1, w->pg[0], PROT_R, 0), 0);
	CALL(&w->m, "pmap_remove", tmp, VA1, VA1 + PAGE_SIZE);	/* its chunk goes back: a hole */
	CALL(&w->m, "rig_kenter", machine_info(&w->m)->gi_kva_free, w->pg[6]);
	ck_assert_int_eq(checker_init(&w->c, &w->m), 0);
	ck_assert_msg(checker_full(&w->c, &v) == 0, "healthy state: %s %s", v.id, v.detail);
}

/* After the corruption: exactly `id` fires and the report mentions `what`. */
static void expect_violation(struct world *w, const char *id, const char *what)
{
	struct violation v;

	ck_assert_int_eq(checker_full(&w->c, &v), -1);
	ck_assert_str_eq(v.id, id);
	ck_assert_msg(strstr(v.detail, what) != NULL, "%s: '%s' not in: %s", id, what, v.detail);
	checker_free(&w->c);
	machine_close(&w->m);
}

static uint32_t *pd_of(struct world *w, uint32_t pmap)
{
	return phys_ptr(&w->m.pm, pmapv(&w->m, pmap)->pm_pdir_pa, PAGE_SIZE);
}

static char *hex(uint32_t v)
{
	static char buf[4][16];
	static int i;

	snprintf(buf[++i % 4], 16, "0x%08x", v);
	return buf[i % 4];
}

START_TEST(pd_selfmap)
{
	struct world w;

	build(&w);
	pd_of(&w, w.a)[PTDPTDI] = 0;
	expect_violation(&w, "PD-SELFMAP", hex(pmapv(&w.m, w.a)->pm_pdir_pa));
}
END_TEST

START_TEST(pd_kernel)
{
	struct world w;

	build(&w);
	pd_of(&w, w.b)[KPTDI + 1] = 0;
	expect_violation(&w, "PD-KERNEL", "kernel PDE[769]");
}
END_TEST

START_TEST(pt_count)
{
	struct world w;
	uint32_t pde;

	build(&w);
	pde = pd_of(&w, w.a)[0];
	vmpage(&w.m, page_of_pa(&w.m, pde & PG_FRAME))->wire_count++;
	expect_violation(&w, "PT-COUNT", hex(pde & PG_FRAME));
}
END_TEST

START_TEST(pv_mapping_dropped_entry)
{
	struct world w;
	struct vm_page *m;

	build(&w);
	m = vmpage(&w.m, w.pg[3]);	/* one mapping: drop its pv entry from the list */
	m->pv_list.tqh_first = 0;
	m->pv_list.tqh_last = w.pg[3] + (uint32_t)offsetof(struct vm_page, pv_list);
	m->pv_count = 0;
	expect_violation(&w, "PV-MAPPING", "page lists hold");
}
END_TEST

static uint32_t chunk_of(struct world *w, uint32_t pmap)
{
	return pmapv(&w->m, pmap)->pm_pvchunk.tqh_first;
}

START_TEST(pv_chunk_bitmap)
{
	struct world w;
	uint32_t pc;

	build(&w);
	pc = chunk_of(&w, w.a);
	GPTR_OF(&w.m, struct pv_chunk, pc)->pc_map[_NPCM - 1] |= 0x00010000;	/* entry 336 */
	expect_violation(&w, "PV-CHUNK-BITMAP", hex(pc));
}
END_TEST

START_TEST(pv_chunk_bitmap_count)
{
	struct world w;

	build(&w);
	(*GPTR_OF(&w.m, uint32_t, gsym(&w.m, "pv_entry_count")))++;
	expect_violation(&w, "PV-CHUNK-BITMAP", "pv_entry_count says 8");
}
END_TEST

START_TEST(pv_chunk_lists)
{
	struct world w;
	uint32_t pc;

	build(&w);
	pc = chunk_of(&w, w.a);
	GPTR_OF(&w.m, struct pv_chunk, pc)->pc_pmap = w.b;
	expect_violation(&w, "PV-CHUNK-LISTS", hex(pc));
}
END_TEST

START_TEST(pv_chunk_empty)
{
	struct world w;
	uint32_t pc;

	build(&w);
	pc = chunk_of(&w, w.b);
	memset(GPTR_OF(&w.m, struct pv_chunk, pc)->pc_map, 0xff, 4 * (_NPCM - 1));
	GPTR_OF(&w.m, struct pv_chunk, pc)->pc_map[_NPCM - 1] = PC_FREE_LAST;
	expect_violation(&w, "PV-CHUNK-EMPTY", hex(pc));
}
END_TEST

/* The ptelist free list's head node and the PTE that holds its link. */
static uint32_t *free_node_pte(struct world *w, uint32_t *node)
{
	struct walk wk;

	*node = *GPTR_OF(&w->m, uint32_t, gsym(&w->m, "pv_vafree"));
	walk_va(&w->m.pm, pmapv(&w->m, kernel_pmap(&w->m))->pm_pdir_pa, 0, *node, &wk);
	return phys_ptr(&w->m.pm, wk.pte_pa, 4);
}

START_TEST(pv_kva_valid_free_pte)
{
	struct world w;
	uint32_t node;

	build(&w);
	*free_node_pte(&w, &node) |= PG_V;
	expect_violation(&w, "PV-KVA", hex(node));
}
END_TEST

START_TEST(pv_kva_cycle)
{
	struct world w;
	uint32_t node;

	build(&w);
	*free_node_pte(&w, &node) = node;	/* the head points at itself */
	expect_violation(&w, "PV-KVA", "twice (a cycle)");
}
END_TEST

/* nofree: a kept chunk on pv_spare that still names a pmap. */
START_TEST(pv_kva_nofree_spare)
{
	struct machine m;
	struct checker c;
	struct violation v;
	uint32_t p, pg, spare;

	boot_policy(&m, "nofree", 0, 0);
	p = CALL(&m, "rig_pmap_create");
	pg = CALL(&m, "rig_page_alloc");
	ck_assert_uint_eq(enter(&m, p, VA1, pg, PROT_RW, 0), 0);
	CALL(&m, "pmap_remove", p, VA1, VA1 + PAGE_SIZE);	/* the chunk goes to pv_spare */
	ck_assert_int_eq(checker_init(&c, &m), 0);
	ck_assert_int_eq(checker_full(&c, &v), 0);
	spare = GPTR_OF(&m, struct pv_chunklist, gsym(&m, "pv_spare"))->tqh_first;
	ck_assert_uint_ne(spare, 0);
	GPTR_OF(&m, struct pv_chunk, spare)->pc_pmap = p;
	ck_assert_int_eq(checker_full(&c, &v), -1);
	ck_assert_str_eq(v.id, "PV-KVA");
	ck_assert_msg(strstr(v.detail, "pv_spare holds") && strstr(v.detail, "still names a pmap"), "%s", v.detail);
	checker_free(&c);
	machine_close(&m);
}
END_TEST

START_TEST(page_state)
{
	struct world w;

	build(&w);
	vmpage(&w.m, w.pg[4])->state = VPS_FREE;	/* a mapped page claimed free */
	expect_violation(&w, "PAGE-STATE", hex(page_pa(&w.m, w.pg[4])));
}
END_TEST

START_TEST(stats)
{
	struct world w;

	build(&w);
	pmapv(&w.m, w.a)->pm_stats.wired_count++;
	expect_violation(&w, "STATS", "wired 2");
}
END_TEST

/* Patch out every invlpg of pmap_unmap_pte_keep_pt and of what it calls to invalidate (the guest's own code). */
static void patch_out_invlpg(struct world *w)
{
	static const char *fns[] = { "pmap_unmap_pte_keep_pt", "pmap_invalidate_page" };
	struct events ev = { 0 };
	struct watch scan;
	char err[128];
	int patched = 0;

	ck_assert_int_eq(watch_attach(&scan, &w->m, &ev, err, sizeof(err)), 0);
	for (size_t k = 0; k < sizeof(fns) / sizeof(fns[0]); k++) {
		uint32_t fn = guest_symbol(&w->m, fns[k]), off;
		const struct elf_symbol *s = fn ? elf_symbolize(&w->m.elf, fn, &off) : NULL;

		for (int i = 0; s != NULL && i < scan.nsites; i++) {
			uint32_t site = scan.sites[i].addr;

			if (scan.sites[i].kind != SITE_INVLPG || site - fn >= s->size)
				continue;
			memset(machine_kva_ptr(&w->m, site, 3), 0x90, 3);	/* invlpg (%reg): 0f 01 /7 */
			ck_assert_int_eq(uc_ctl_remove_cache(w->m.uc, site, site + 3), UC_ERR_OK);
			patched++;
		}
	}
	watch_detach(&scan);
	ck_assert_int_ge(patched, 1);
}

START_TEST(tlb_stale)
{
	struct world w;
	struct events ev = { 0 };
	struct watch wt;
	struct violation v;
	char err[128];
	uint32_t got;

	build(&w);
	patch_out_invlpg(&w);
	ck_assert_int_eq(watch_attach(&wt, &w.m, &ev, err, sizeof(err)), 0);
	events_subscribe(&ev, checker_event, &w.c);
	CALL(&w.m, "pmap_activate", w.a);
	/* A page the CPU never used is not cached: removing it without INVLPG is not stale. */
	checker_begin_step(&w.c);
	CALL(&w.m, "pmap_remove", w.a, 0x003fe000 + 5 * PAGE_SIZE, 0x003fe000 + 6 * PAGE_SIZE);
	ck_assert_int_eq(checker_step(&w.c, &v), 0);
	/* One it loaded from is. */
	ck_assert_int_eq(GCALL(&w.m, "rigtest_load", &got, 0x00402000), STOP_RETURN);
	checker_begin_step(&w.c);
	CALL(&w.m, "pmap_remove", w.a, 0x003fe000 + 4 * PAGE_SIZE, 0x003fe000 + 5 * PAGE_SIZE);
	ck_assert_int_eq(checker_step(&w.c, &v), -1);
	ck_assert_str_eq(v.id, "TLB-STALE");
	ck_assert_msg(strstr(v.detail, "va 0x00402000: the CPU still caches its translation") != NULL, "%s", v.detail);
	ck_assert_int_eq(v.has_cause, 1);
	ck_assert_uint_eq(v.cause.va, 0x00402000);
	ck_assert_uint_eq(v.cause.new, 0);
	watch_detach(&wt);
	checker_free(&w.c);
	machine_close(&w.m);
}
END_TEST

/* MODEL: between two steps the host takes write permission away from a PTE. */
static void drop_rw(void *ctx, struct machine *m, int line)
{
	struct pmaplist *all = machine_gptr(m, gsym(m, "allpmaps"), sizeof(*all));
	struct pmap *pm = machine_gptr(m, all->tqh_first, sizeof(*pm));
	struct walk w;

	(void)ctx;
	if (line != 3 || walk_va(&m->pm, pm->pm_pdir_pa, 0, VA1, &w) != WALK_MAPPED)
		return;
	*(uint32_t *)phys_ptr(&m->pm, w.pte_pa, 4) &= ~PG_RW;
}

START_TEST(model)
{
	static const char text[] = "pmap A\npage p\nmap A 0x08048000 p rw\ncheck\n";
	struct scenario s;
	struct run_options o = { .watch = 1, .after_step = drop_rw };
	struct file_result res;

	ck_assert_int_eq(scenario_parse_text(&s, "t.scn", text, strlen(text), stderr), 0);
	ck_assert_int_eq(run_file(&s, &o, &res), OUT_FAIL);
	ck_assert_str_eq(res.kind, "violation");
	ck_assert_str_eq(res.id, "MODEL");
	ck_assert_int_eq(res.line, 3);
	ck_assert_msg(strstr(res.message, "pmap A va 0x08048000: the model maps p (pa ") != NULL, "%s", res.message);
	ck_assert_msg(strstr(res.message, " rw; the guest PTE is ") != NULL, "%s", res.message);
	scenario_free(&s);
}
END_TEST

/* AD-*: between two steps the host clears an A/D bit of the first pmap's PTE at VA1 (at line `line`). */
static void clear_pte_bit(struct machine *m, uint32_t bit)
{
	struct pmaplist *all = machine_gptr(m, gsym(m, "allpmaps"), sizeof(*all));
	struct pmap *pm = machine_gptr(m, all->tqh_first, sizeof(*pm));
	struct walk w;

	if (walk_va(&m->pm, pm->pm_pdir_pa, 0, VA1, &w) == WALK_MAPPED)
		*(uint32_t *)phys_ptr(&m->pm, w.pte_pa, 4) &= ~bit;
}

static void drop_pg_a(void *ctx, struct machine *m, int line)
{
	(void)ctx;
	if (line == 4)
		clear_pte_bit(m, PG_A);
}

/* AD-DIRTY-LOST: after the unmap saved PG_M in the page, the host clears every PGA_MODIFIED. */
static void drop_pga_modified(void *ctx, struct machine *m, int line)
{
	(void)ctx;
	for (uint32_t i = 0; line == 5 && i < gword(m, "vm_page_array_size"); i++)
		GPTR_OF(m, struct vm_page, gword(m, "vm_page_array") + i * (uint32_t)sizeof(struct vm_page))->aflags &=
		    ~PGA_MODIFIED;
}

/* Run text with an after-step corruption; it must fail with id at line. */
static void expect_file_violation(const char *text, struct run_options *o, const char *id, int line,
    const char *what)
{
	struct scenario s;
	struct file_result res;

	ck_assert_int_eq(scenario_parse_text(&s, "t.scn", text, strlen(text), stderr), 0);
	ck_assert_int_eq(run_file(&s, o, &res), OUT_FAIL);
	ck_assert_str_eq(res.kind, "violation");
	ck_assert_str_eq(res.id, id);
	ck_assert_int_eq(res.line, line);
	ck_assert_msg(strstr(res.message, what) != NULL, "'%s' not in: %s", what, res.message);
	scenario_free(&s);
}

START_TEST(ad_ref_lost)
{
	static const char text[] = "pmap A\npage p\nmap A 0x08048000 p r\ntouch A 0x08048000 r\ncheck\n";
	struct run_options o = { .watch = 1, .after_step = drop_pg_a };

	expect_file_violation(text, &o, "AD-REF-LOST", 4, "(p, accessed by operation #4 at line 4 through pmap A "
	    "va 0x08048000, PTE then ");
}
END_TEST

START_TEST(ad_dirty_lost)
{
	static const char text[] = "pmap A\npage p\nmap A 0x08048000 p rw\ntouch A 0x08048000 w\n"
	    "unmap A 0x08048000 +1\ncheck\n";
	struct run_options o = { .watch = 1, .after_step = drop_pga_modified };

	expect_file_violation(text, &o, "AD-DIRTY-LOST", 5, "is dirty in the model, but no live managed PTE of it has "
	    "PG_M and its vm_page's aflags (0x1) lack the modified bit (0x2)");
}
END_TEST

/* Garbage pointers are violations, never host crashes: a wild pv list. */
START_TEST(garbage_is_reported)
{
	struct world w;

	build(&w);
	vmpage(&w.m, w.pg[5])->pv_list.tqh_first = 0xdeadbeef;
	expect_violation(&w, "PV-MAPPING", "0xdeadbeef");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("invariants");
	TCase *tc = tcase_create("corruption");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pd_selfmap);
	tcase_add_test(tc, pd_kernel);
	tcase_add_test(tc, pt_count);
	tcase_add_test(tc, pv_mapping_dropped_entry);
	tcase_add_test(tc, pv_chunk_bitmap);
	tcase_add_test(tc, pv_chunk_bitmap_count);
	tcase_add_test(tc, pv_chunk_lists);
	tcase_add_test(tc, pv_chunk_empty);
	tcase_add_test(tc, pv_kva_valid_free_pte);
	tcase_add_test(tc, pv_kva_cycle);
	tcase_add_test(tc, tlb_stale);
	tcase_add_test(tc, pv_kva_nofree_spare);
	tcase_add_test(tc, page_state);
	tcase_add_test(tc, stats);
	tcase_add_test(tc, model);
	tcase_add_test(tc, ad_ref_lost);
	tcase_add_test(tc, ad_dirty_lost);
	tcase_add_test(tc, garbage_is_reported);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
