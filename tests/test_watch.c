/*
 * test_watch.c - the watchers against guest code at known addresses: CR3
 * loads, INVLPG, PDE and PTE writes, the watched set following the tables,
 * and exact instruction attribution for mov, xchg, lock cmpxchg and rep stos.
 */
#include "pmaptest.h"
#include "watch.h"

struct log {
	struct event ev[4096];
	int n;
};

static void collect(void *arg, const struct event *e)
{
	struct log *l = arg;

	if (l->n < 4096)
		l->ev[l->n++] = *e;
}

/* Boot with watching on; events land in log. */
static void boot_watched(struct machine *m, struct events *ev, struct watch *w, struct log *log)
{
	char err[256];

	boot(m);
	memset(ev, 0, sizeof(*ev));
	log->n = 0;
	events_subscribe(ev, collect, log);
	ck_assert_msg(watch_attach(w, m, ev, err, sizeof(err)) == 0, "%s", err);
}

/* The only event of a kind in the log (the test fails unless exactly one). */
static const struct event *only(struct log *l, enum event_kind k)
{
	const struct event *e = NULL;
	int n = 0;

	for (int i = 0; i < l->n; i++)
		if (l->ev[i].kind == k) {
			e = &l->ev[i];
			n++;
		}
	ck_assert_int_eq(n, 1);
	return e;
}

static int count(struct log *l, enum event_kind k)
{
	int n = 0;

	for (int i = 0; i < l->n; i++)
		n += l->ev[i].kind == k;
	return n;
}

START_TEST(scan_finds_the_sites)
{
	struct machine m;
	struct events ev;
	struct watch w;
	static struct log log;
	uint32_t act;
	int found = 0;

	boot_watched(&m, &ev, &w, &log);
	act = guest_symbol(&m, "pmap_activate");
	for (int i = 0; i < w.nsites; i++)
		if (w.sites[i].kind == SITE_CR && w.sites[i].cr == 3 && w.sites[i].addr - act < 0x40)
			found++;
	ck_assert_int_eq(found, 1);
	ck_assert_int_ge(watch_count_sites(&w, SITE_INVLPG), 5);
	for (int i = 0; i < w.nsites; i++)	/* every atomic store site is synced */
		if (w.sites[i].addr == guest_symbol(&m, "rigtest_pte_xchg_insn") ||
		    w.sites[i].addr == guest_symbol(&m, "rigtest_pte_cmpxchg_insn") ||
		    w.sites[i].addr == guest_symbol(&m, "rigtest_pte_stos_insn"))
			found++;
	ck_assert_int_eq(found, 4);
	watch_detach(&w);
	machine_close(&m);
}
END_TEST

START_TEST(cr3_load_and_pde_pte_writes)
{
	struct machine m;
	struct events ev;
	struct watch w;
	static struct log log;
	uint32_t p, pg, pd, ptp;
	const struct event *e;

	boot_watched(&m, &ev, &w, &log);
	p = CALL(&m, "rig_pmap_create");
	pg = CALL(&m, "rig_page_alloc");
	pd = pmapv(&m, p)->pm_pdir_pa;
	ck_assert_uint_eq(w.kind[pd >> 12], WP_PD);	/* learnt from its self-map store */
	log.n = 0;
	CALL(&m, "pmap_activate", p);
	e = only(&log, EV_CR_LOAD);
	ck_assert_uint_eq(e->pa, 3);
	ck_assert_uint_eq(e->new, pd);
	ck_assert_uint_eq(e->pd, pd);
	ck_assert_uint_eq(e->eip - guest_symbol(&m, "pmap_activate") < 0x40, 1);
	log.n = 0;
	ck_assert_uint_eq(enter(&m, p, 0x00400000, pg, PROT_RW, 0), 0);
	ptp = pde_of(&m, p, 0x00400000) & PG_FRAME;
	e = only(&log, EV_PDE_WRITE);
	ck_assert_uint_eq(e->va, 0x00400000);
	ck_assert_uint_eq(e->pa, pd + 4);
	ck_assert_uint_eq(e->old, 0);
	ck_assert_uint_eq(e->new, ptp | PG_V | PG_RW | PG_U | PG_A | PG_M);
	ck_assert_uint_eq(w.kind[ptp >> 12], WP_PT);
	/* zeroing window set and cleared, chunk slot popped and mapped, the mapping */
	ck_assert_int_eq(count(&log, EV_PTE_WRITE), 5);
	e = &log.ev[log.n - 1];
	ck_assert_int_eq(e->kind, EV_PTE_WRITE);
	ck_assert_uint_eq(e->va, 0x00400000);
	ck_assert_uint_eq(e->pa, ptp);
	ck_assert_uint_eq(e->pd, pd);
	ck_assert_uint_eq(e->new, page_pa(&m, pg) | PG_V | PG_RW | PG_U | PG_MANAGED);
	/* Unmapping frees the page table: its PDE is cleared and it is no longer watched. */
	log.n = 0;
	CALL(&m, "pmap_remove", p, 0x00400000, 0x00401000);
	ck_assert_uint_eq(only(&log, EV_PDE_WRITE)->new, 0);
	ck_assert_uint_eq(w.kind[ptp >> 12], WP_NONE);
	ck_assert_int_ge(count(&log, EV_INVLPG), 2);	/* the page and the PTmap alias */
	watch_detach(&w);
	machine_close(&m);
}
END_TEST

START_TEST(invlpg_and_unobserved_cr3)
{
	struct machine m;
	struct events ev;
	struct watch w;
	static struct log log;
	uint32_t pg[2], va;
	const struct event *e;

	boot_watched(&m, &ev, &w, &log);
	va = machine_info(&m)->gi_kva_free + 0x3000;
	pg[0] = CALL(&m, "rig_page_alloc");
	pg[1] = CALL(&m, "rig_page_alloc");
	CALL(&m, "rig_kenter", va, pg[0]);
	log.n = 0;
	CALL(&m, "rig_kenter", va, pg[1]);	/* a frame change: must be invalidated */
	e = only(&log, EV_INVLPG);
	ck_assert_uint_eq(e->va, va);
	ck_assert_uint_eq(e->eip - guest_symbol(&m, "pmap_kenter") < 0x40, 1);
	e = only(&log, EV_PTE_WRITE);
	ck_assert_uint_eq(e->pd, EV_KERNEL_SPACE);
	ck_assert_uint_eq(e->old & PG_FRAME, page_pa(&m, pg[0]));
	ck_assert_uint_eq(e->new & PG_FRAME, page_pa(&m, pg[1]));
	log.n = 0;
	machine_set_reg(&m, UC_X86_REG_CR3, machine_reg(&m, UC_X86_REG_CR3));	/* seen */
	watch_sync(&w);
	ck_assert_int_eq(log.n, 0);
	machine_set_reg(&m, UC_X86_REG_CR3, pmapv(&m, CALL(&m, "rig_pmap_create"))->pm_pdir_pa);
	watch_sync(&w);
	ck_assert_str_eq(only(&log, EV_WARN)->msg, "CR3 changed without an observed load (a site the scan missed?)");
	watch_detach(&w);
	machine_close(&m);
}
END_TEST

/* One PTE store by the instruction at label: exactly one event, attributed to it. */
static void attribution(const char *fn, const char *label, int stos)
{
	struct machine m;
	struct events ev;
	struct watch w;
	static struct log log;
	uint32_t pg, va, ptep, old;
	struct walk wk;

	boot_watched(&m, &ev, &w, &log);
	va = machine_info(&m)->gi_kva_free;
	pg = CALL(&m, "rig_page_alloc");
	CALL(&m, "rig_kenter", va, pg);
	ptep = PTMAP_VA + (va >> PAGE_SHIFT) * 4;	/* through the recursive map */
	walk_va(&m.pm, machine_reg(&m, UC_X86_REG_CR3), 0, ptep, &wk);
	old = pte_of(&m, kernel_pmap(&m), va);
	log.n = 0;
	CALL(&m, fn, ptep, 0x00777003, stos ? 3 : 0);
	ck_assert_int_eq(count(&log, EV_PTE_WRITE), stos ? 3 : 1);
	for (int i = 0; i < log.n; i++) {
		ck_assert_uint_eq(log.ev[i].eip, guest_symbol(&m, label));
		ck_assert_uint_eq(log.ev[i].va, va + i * PAGE_SIZE);
		ck_assert_uint_eq(log.ev[i].pa, wk.pa + i * 4);	/* the physical target */
		ck_assert_uint_eq(log.ev[i].old, i == 0 ? old : 0);
		ck_assert_uint_eq(log.ev[i].new, 0x00777003);
	}
	watch_detach(&w);
	machine_close(&m);
}

START_TEST(attribution_mov) { attribution("rigtest_pte_mov", "rigtest_pte_mov_insn", 0); }
END_TEST
START_TEST(attribution_xchg) { attribution("rigtest_pte_xchg", "rigtest_pte_xchg_insn", 0); }
END_TEST
START_TEST(attribution_lock_cmpxchg) { attribution("rigtest_pte_cmpxchg", "rigtest_pte_cmpxchg_insn", 0); }
END_TEST
START_TEST(attribution_rep_stos) { attribution("rigtest_pte_stos", "rigtest_pte_stos_insn", 1); }
END_TEST

int main(void)
{
	Suite *s = suite_create("watch");
	TCase *tc = tcase_create("watch");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, scan_finds_the_sites);
	tcase_add_test(tc, cr3_load_and_pde_pte_writes);
	tcase_add_test(tc, invlpg_and_unobserved_cr3);
	tcase_add_test(tc, attribution_mov);
	tcase_add_test(tc, attribution_xchg);
	tcase_add_test(tc, attribution_lock_cmpxchg);
	tcase_add_test(tc, attribution_rep_stos);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
