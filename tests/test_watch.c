/*
 * test_watch.c - the watchers against the guest: CR3 loads, INVLPG, PDE and
 * PTE writes, the watched set following the tables, and exact instruction
 * attribution for mov, xchg, lock cmpxchg, lock or and rep stos (on test stubs with
 * labels). Guest pmap code is judged by behaviour (what the entries end up
 * holding, which function's call path made the write), never by its code
 * addresses, register choice or number of stores.
 */
#include "disasm.h"
#include "pmaptest.h"
#include "watch.h"

struct log {
	struct machine *m;
	struct event ev[4096];
	uint32_t frames[4096][RIG_MAX_FRAMES + 1];	/* the guest call path at each event */
	int nframes[4096];
	int n;
};

/* The sink: the event, and the guest call path read live inside the hook. */
static void collect(void *arg, const struct event *e)
{
	struct log *l = arg;
	uint32_t *f;

	if (l->n == 4096)
		return;
	f = l->frames[l->n];
	f[0] = e->eip;
	l->nframes[l->n] = e->eip == 0 ? 0 :
	    1 + machine_backtrace(l->m, machine_reg(l->m, UC_X86_REG_EBP), f + 1, RIG_MAX_FRAMES);
	l->ev[l->n++] = *e;
}

/* Boot with watching on; events land in log. */
static void boot_watched(struct machine *m, struct events *ev, struct watch *w, struct log *log)
{
	char err[256];

	boot(m);
	memset(ev, 0, sizeof(*ev));
	log->m = m;
	log->n = 0;
	events_subscribe(ev, collect, log);
	ck_assert_msg(watch_attach(w, m, ev, err, sizeof(err)) == 0, "%s", err);
}

/* The guest function containing addr, by symbol name ("" if none). */
static const char *fn_at(struct machine *m, uint32_t addr, char *buf, size_t len)
{
	uint32_t off;
	const struct elf_symbol *s = elf_symbolize(&m->elf, addr, &off);

	snprintf(buf, len, "%.*s", s ? (int)strcspn(s->name, ".") : 0, s ? s->name : "");
	return buf;
}

/* Did event i happen in function fn or in something fn called (its call path names fn)? */
static int within(struct log *l, int i, const char *fn)
{
	char name[128];

	for (int f = 0; f < l->nframes[i]; f++)
		if (!strcmp(fn_at(l->m, l->frames[i][f], name, sizeof(name)), fn))
			return 1;
	return 0;
}

/* The index of the last event of kind k for va (any space), or -1. */
static int last_of(struct log *l, enum event_kind k, uint32_t va)
{
	int last = -1;

	for (int i = 0; i < l->n; i++)
		if (l->ev[i].kind == k && l->ev[i].va == va)
			last = i;
	return last;
}

/* The number of events of kind k. */
static int count(struct log *l, enum event_kind k)
{
	int n = 0;

	for (int i = 0; i < l->n; i++)
		n += l->ev[i].kind == k;
	return n;
}

/* Is there an event of kind k for va after event i? */
static int any_after(struct log *l, int i, enum event_kind k, uint32_t va)
{
	for (int j = i + 1; j < l->n; j++)
		if (l->ev[j].kind == k && l->ev[j].va == va)
			return 1;
	return 0;
}

/*
 * The PDE and PTE writes agree with memory: each write's old value is the
 * previous write's new value for the same entry, and the last write's new
 * value is what the entry holds now.
 */
static void writes_agree_with_memory(struct machine *m, struct log *l)
{
	for (int i = 0; i < l->n; i++) {
		const struct event *e = &l->ev[i];
		int next = i + 1;

		if (e->kind != EV_PTE_WRITE && e->kind != EV_PDE_WRITE)
			continue;
		while (next < l->n && !((l->ev[next].kind == EV_PTE_WRITE || l->ev[next].kind == EV_PDE_WRITE) &&
		    l->ev[next].pa == e->pa))
			next++;
		if (next < l->n)
			ck_assert_msg(l->ev[next].old == e->new, "event #%llu: old 0x%08x, but #%llu stored 0x%08x",
			    (unsigned long long)l->ev[next].seq, l->ev[next].old, (unsigned long long)e->seq, e->new);
		else
			ck_assert_msg(*(uint32_t *)phys_ptr(&m->pm, e->pa, 4) == e->new,
			    "event #%llu stored 0x%08x at pa 0x%08x, memory holds 0x%08x", (unsigned long long)e->seq,
			    e->new, e->pa, *(uint32_t *)phys_ptr(&m->pm, e->pa, 4));
	}
}

/* The site of kind k at addr, or NULL. */
static const struct watch_site *site_at(const struct watch *w, uint32_t addr)
{
	for (int i = 0; i < w->nsites; i++)
		if (w->sites[i].addr == addr)
			return &w->sites[i];
	return NULL;
}

/* Does the instruction at addr disassemble to text starting with prefix? */
static int insn_is(struct machine *m, uint32_t addr, const char *prefix)
{
	char text[96];
	uint8_t *code = machine_kva_ptr(m, addr, 16);

	return code && disasm_one(m->dis, code, 16, addr, text, sizeof(text)) > 0 &&
	    !strncmp(text, prefix, strlen(prefix));
}

START_TEST(scan_finds_the_sites)
{
	struct machine m;
	struct events ev;
	struct watch w;
	static struct log log;
	static const char *atomic[] = { "rigtest_pte_xchg_insn", "rigtest_pte_cmpxchg_insn", "rigtest_pte_stos_insn" };
	char name[128];
	int cr3_in_activate = 0;

	boot_watched(&m, &ev, &w, &log);
	for (int i = 0; i < w.nsites; i++) {
		const struct watch_site *s = &w.sites[i];

		if (s->kind == SITE_CR) {
			ck_assert_msg(insn_is(&m, s->addr, "mov cr"), "CR site 0x%08x", s->addr);
			cr3_in_activate |= s->cr == 3 && !strcmp(fn_at(&m, s->addr, name, sizeof(name)), "pmap_activate");
		} else if (s->kind == SITE_INVLPG) {
			ck_assert_msg(insn_is(&m, s->addr, "invlpg"), "INVLPG site 0x%08x", s->addr);
		} else {
			ck_assert_msg(insn_is(&m, s->addr, "rep stos") || insn_is(&m, s->addr, "rep movs"),
			    "string site 0x%08x", s->addr);
		}
	}
	ck_assert_msg(cr3_in_activate, "no CR3 load found in pmap_activate");
	ck_assert_int_gt(watch_count_sites(&w, SITE_INVLPG), 0);
	/* Only a string store is a site of its own (the host runs it); the others are attributed by block. */
	for (size_t i = 0; i < sizeof(atomic) / sizeof(atomic[0]); i++) {
		uint32_t a = guest_symbol(&m, atomic[i]);

		if (strstr(atomic[i], "stos"))
			ck_assert_int_eq(site_at(&w, a)->kind, SITE_STRING);
		else
			ck_assert_ptr_null(site_at(&w, a));
	}
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
	uint32_t p, pg, pd, ptp, want;
	const struct event *e;
	int i;

	boot_watched(&m, &ev, &w, &log);
	p = CALL(&m, "rig_pmap_create");
	pg = CALL(&m, "rig_page_alloc");
	pd = pmapv(&m, p)->pm_pdir_pa;
	ck_assert_uint_eq(w.kind[pd >> 12], WP_PD);	/* learnt from its self-map store */
	log.n = 0;
	CALL(&m, "pmap_activate", p);
	ck_assert_int_ge(i = last_of(&log, EV_CR_LOAD, 0), 0);
	e = &log.ev[i];
	ck_assert_uint_eq(e->pa, 3);
	ck_assert_uint_eq(e->new, pd);
	ck_assert_uint_eq(e->pd, pd);
	ck_assert(within(&log, i, "pmap_activate"));
	/* pmap_enter makes a page table: the PDE points at it and it is watched from then on. */
	log.n = 0;
	ck_assert_uint_eq(enter(&m, p, 0x00400000, pg, PROT_RW, 0), 0);
	ptp = pde_of(&m, p, 0x00400000) & PG_FRAME;
	ck_assert_int_ge(i = last_of(&log, EV_PDE_WRITE, 0x00400000), 0);
	e = &log.ev[i];
	ck_assert_uint_eq(e->pa, pd + 4);
	ck_assert_uint_eq(e->pd, pd);
	ck_assert_uint_eq(e->new & PG_FRAME, ptp);
	ck_assert_uint_eq(e->new & (PG_V | PG_RW | PG_U), PG_V | PG_RW | PG_U);
	ck_assert_uint_eq(w.kind[ptp >> 12], WP_PT);
	/* The last write to the VA's PTE maps the page, in A's space, from within pmap_enter. */
	want = page_pa(&m, pg) | PG_V | PG_RW | PG_U | PG_MANAGED;
	ck_assert_uint_eq(pte_of(&m, p, 0x00400000), want);
	ck_assert_int_ge(i = last_of(&log, EV_PTE_WRITE, 0x00400000), 0);
	e = &log.ev[i];
	ck_assert_uint_eq(e->pa, ptp);
	ck_assert_uint_eq(e->pd, pd);
	ck_assert_uint_eq(e->new, want);
	ck_assert_msg(within(&log, i, "pmap_enter"), "PTE write at 0x%08x not under pmap_enter", e->eip);
	writes_agree_with_memory(&m, &log);
	/* Unmapping frees the page table: its PDE is cleared and it is no longer watched. */
	log.n = 0;
	CALL(&m, "pmap_remove", p, 0x00400000, 0x00401000);
	ck_assert_uint_eq(pde_of(&m, p, 0x00400000), 0);
	ck_assert_int_ge(i = last_of(&log, EV_PDE_WRITE, 0x00400000), 0);
	ck_assert_uint_eq(log.ev[i].new, 0);
	ck_assert_uint_eq(w.kind[ptp >> 12], WP_NONE);
	/* A is loaded: the page and the page table's PTmap alias are invalidated. */
	ck_assert(any_after(&log, last_of(&log, EV_PTE_WRITE, 0x00400000), EV_INVLPG, 0x00400000));
	ck_assert(any_after(&log, i, EV_INVLPG, PTMAP_VA + (0x00400000 >> PDRSHIFT) * PAGE_SIZE));
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
	int first = -1, last;

	boot_watched(&m, &ev, &w, &log);
	va = machine_info(&m)->gi_kva_free + 0x3000;
	pg[0] = CALL(&m, "rig_page_alloc");
	pg[1] = CALL(&m, "rig_page_alloc");
	CALL(&m, "rig_kenter", va, pg[0]);
	log.n = 0;
	CALL(&m, "rig_kenter", va, pg[1]);	/* a frame change: must be invalidated */
	for (int i = 0; i < log.n && first < 0; i++)
		if (log.ev[i].kind == EV_PTE_WRITE && log.ev[i].va == va)
			first = i;
	ck_assert_int_ge(first, 0);
	last = last_of(&log, EV_PTE_WRITE, va);
	ck_assert_uint_eq(log.ev[first].pd, EV_KERNEL_SPACE);
	ck_assert_uint_eq(log.ev[first].old & PG_FRAME, page_pa(&m, pg[0]));
	ck_assert_uint_eq(log.ev[last].new & PG_FRAME, page_pa(&m, pg[1]));
	ck_assert(within(&log, last, "pmap_kenter"));
	writes_agree_with_memory(&m, &log);
	/* The old translation is flushed after the frame went, by pmap_kenter. */
	ck_assert(any_after(&log, first, EV_INVLPG, va));
	ck_assert(within(&log, last_of(&log, EV_INVLPG, va), "pmap_kenter"));
	log.n = 0;
	machine_set_reg(&m, UC_X86_REG_CR3, machine_reg(&m, UC_X86_REG_CR3));	/* seen */
	watch_sync(&w);
	ck_assert_int_eq(log.n, 0);
	machine_set_reg(&m, UC_X86_REG_CR3, pmapv(&m, CALL(&m, "rig_pmap_create"))->pm_pdir_pa);
	log.n = 0;
	watch_sync(&w);
	ck_assert_int_eq(count(&log, EV_WARN), 1);
	ck_assert_int_ge(last = last_of(&log, EV_WARN, 0), 0);
	ck_assert_str_eq(log.ev[last].msg, "CR3 changed without an observed load (a site the scan missed?)");
	watch_detach(&w);
	machine_close(&m);
}
END_TEST

/* One PTE store by the instruction at label: exactly one event, attributed to it (or: an or into the entry). */
static void attribution_of(const char *fn, const char *label, int stos, int or)
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
		ck_assert_uint_eq(log.ev[i].new, or ? old | 0x00777003 : 0x00777003);
	}
	watch_detach(&w);
	machine_close(&m);
}

static void attribution(const char *fn, const char *label, int stos)
{
	attribution_of(fn, label, stos, 0);
}

START_TEST(attribution_mov) { attribution("rigtest_pte_mov", "rigtest_pte_mov_insn", 0); }
END_TEST
START_TEST(attribution_xchg) { attribution("rigtest_pte_xchg", "rigtest_pte_xchg_insn", 0); }
END_TEST
START_TEST(attribution_lock_cmpxchg) { attribution("rigtest_pte_cmpxchg", "rigtest_pte_cmpxchg_insn", 0); }
END_TEST
START_TEST(attribution_rep_stos) { attribution("rigtest_pte_stos", "rigtest_pte_stos_insn", 1); }
END_TEST
START_TEST(attribution_lock_or) { attribution_of("rigtest_pte_or", "rigtest_pte_or_insn", 0, 1); }
END_TEST

/* A rep stos into a watched page reports the entries it changed, in store order. */
START_TEST(rep_stos_reports_changed_entries)
{
	struct machine m;
	struct events ev;
	struct watch w;
	static struct log log;
	uint32_t pg, va, ptep, old;

	boot_watched(&m, &ev, &w, &log);
	va = machine_info(&m)->gi_kva_free;
	pg = CALL(&m, "rig_page_alloc");
	CALL(&m, "rig_kenter", va, pg);		/* the next two PTEs are 0 */
	ptep = PTMAP_VA + (va >> PAGE_SHIFT) * 4;
	old = pte_of(&m, kernel_pmap(&m), va);
	log.n = 0;
	CALL(&m, "rigtest_pte_stos", ptep, 0, 3);
	ck_assert_int_eq(count(&log, EV_PTE_WRITE), 1);
	ck_assert_uint_eq(log.ev[0].va, va);
	ck_assert_uint_eq(log.ev[0].old, old);
	ck_assert_uint_eq(log.ev[0].new, 0);
	ck_assert_uint_eq(log.ev[0].eip, guest_symbol(&m, "rigtest_pte_stos_insn"));
	ck_assert_uint_eq(pte_of(&m, kernel_pmap(&m), va), 0);
	watch_detach(&w);
	machine_close(&m);
}
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
	tcase_add_test(tc, attribution_lock_or);
	tcase_add_test(tc, rep_stos_reports_changed_entries);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
