/*
 * gdbmon.c - owns gdb's `monitor` commands in a `rig debug` session, in
 * ddb's spirit: where the scenario is, a walk of a VA with decoded flags,
 * a page's pv list, a pv chunk's bitmap and entries, the TLB model, the
 * checker run now, and stops at the next step or at stores into an entry.
 * The structures are read through the guest's contract (contract.h), never
 * through one guest's headers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub.h"
#include "guestsym.h"
#include "gview.h"
#include "invariants.h"
#include "machine.h"
#include "runner_priv.h"
#include "trace.h"
#include "util.h"

#define MON_MAX_WORDS	8

struct mon {
	struct gdbstub *g;
	char *out;
	size_t len, used;
};

__attribute__((format(printf, 2, 3))) static void say(struct mon *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->used >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->out + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used += (size_t)n < o->len - o->used ? (size_t)n : o->len - o->used - 1;
}

/* A number (decimal or 0x-hex) that fits in 32 bits; 0 or -1. */
static int num32(const char *s, uint32_t *v)
{
	uint64_t x;

	if (s == NULL || parse_u64(s, &x) < 0 || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* The directory of a scenario pmap name ("kernel" included), or -1 with a message. */
static int64_t pmap_dir(struct mon *o, const char *name)
{
	struct run *r = o->g->r;
	int p = scenario_find_pmap(r->s, name);
	uint32_t dir;

	if (p < 0) {
		say(o, "no pmap '%s' in %s (its pmaps:", name, r->s->path);
		for (int i = 0; i < r->s->npmaps; i++)
			say(o, "%s %s", i ? "," : "", r->s->pmap_names[i]);
		say(o, ")\n");
		return -1;
	}
	if ((dir = run_pmap_cr3(r, p) & PG_FRAME) == 0) {
		say(o, "pmap %s does not exist at this point of the run\n", name);
		return -1;
	}
	return dir;
}

/* where: the scenario step, and the guest code if it is held inside a call. */
static void mon_where(struct mon *o)
{
	struct run *r = o->g->r;
	uint32_t frames[RIG_MAX_FRAMES + 1], off;
	char buf[2048];
	int n;

	if (r->step == NULL)
		say(o, "%s: before the first step (after boot)\n", r->s->path);
	else
		say(o, "%s:%d: %s (operation %llu)\n", r->s->path, r->step->line, step_text(r),
		    (unsigned long long)r->ops + 1);
	say(o, "guest instruction %llu of this run\n", (unsigned long long)o->g->insns);
	if (o->g->blamed[0] && o->g->in_hook && o->g->insns == o->g->blamed_at)
		say(o, "held before the store the checker blames: %s\n", o->g->blamed);
	frames[0] = o->g->pc;
	n = 1;
	/* at a function's first instruction its frame is not made yet: the caller's return address is at ESP */
	if (elf_symbolize(&r->m->elf, o->g->pc, &off) != NULL && off == 0 &&
	    machine_vread(r->m, machine_reg(r->m, UC_X86_REG_ESP), &frames[1], 4) == 0)
		n = 2;
	n += machine_backtrace(r->m, machine_reg(r->m, UC_X86_REG_EBP), frames + n, RIG_MAX_FRAMES - 1);
	guest_format_frames(r->m, frames, n, 1, 0, buf, sizeof(buf));
	say(o, "at %s\n", buf);
}

/* regs: the control registers, and which pmap CR3 holds. */
static void mon_regs(struct mon *o)
{
	struct run *r = o->g->r;
	uint32_t cr3 = machine_reg(r->m, UC_X86_REG_CR3);
	const char *owner = "no scenario pmap";

	for (int p = 0; p < r->s->npmaps; p++)
		if (r->pmap_gva[p] && (run_pmap_cr3(r, p) & PG_FRAME) == (cr3 & PG_FRAME))
			owner = r->s->pmap_names[p];
	say(o, "eip 0x%08x  cr0 0x%08x  cr2 0x%08x  cr3 0x%08x (%s)  cr4 0x%08x\n", o->g->pc,
	    machine_reg(r->m, UC_X86_REG_CR0), machine_reg(r->m, UC_X86_REG_CR2), cr3, owner,
	    machine_reg(r->m, UC_X86_REG_CR4));
}

/* pte VA [PMAP]: the walk, entry by entry, flags decoded. */
static void mon_pte(struct mon *o, char **w, int n)
{
	struct run *r = o->g->r;
	int64_t dir = n > 2 ? pmap_dir(o, w[2]) : machine_reg(r->m, UC_X86_REG_CR3) & PG_FRAME;
	uint32_t va;
	struct walk wk;
	char f[128];

	if (n < 2 || n > 3 || num32(w[1], &va) < 0) {
		say(o, "usage: monitor pte VA [PMAP]\n");
		return;
	}
	if (dir < 0)
		return;
	gv_walk(r->m, (uint32_t)dir, va, &wk);
	say(o, "va 0x%08x in the directory at 0x%08x (%s)\n", va, (uint32_t)dir, n > 2 ? w[2] : "CR3");
	say(o, "  PDE[%u] at pa 0x%08x = 0x%08x%s%s\n", va >> PDRSHIFT, wk.pde_pa, wk.pde, wk.pde ? " " : "",
	    pte_flags(wk.pde, f, sizeof(f)));
	if (!(wk.pde & PG_V)) {
		say(o, "  not mapped (no page table)\n");
		return;
	}
	if (!wk.large)
		say(o, "  PTE[%u] at pa 0x%08x = 0x%08x%s%s\n", (va >> PAGE_SHIFT) & (NPTEPG - 1), wk.pte_pa, wk.pte,
		    wk.pte ? " " : "", pte_flags(wk.pte, f, sizeof(f)));
	if (wk.status == WALK_MAPPED)
		say(o, "  -> pa 0x%08x%s\n", wk.pa, wk.large ? " (a 4 MiB page)" : "");
	else
		say(o, "  not mapped\n");
}

/* A page argument: NAME[i] or NAME (its first page) of the scenario, or a physical address. */
static int page_pa(struct mon *o, const char *arg, uint32_t *pa)
{
	struct run *r = o->g->r;
	char name[64];
	uint32_t i = 0;
	const char *br = strchr(arg, '[');
	int a, end = 0;

	if (num32(arg, pa) == 0)
		return 0;
	snprintf(name, sizeof(name), "%.*s", br ? (int)(br - arg) : (int)strlen(arg), arg);
	if ((a = scenario_find_array(r->s, name)) < 0 ||
	    (br && (sscanf(br, "[%u]%n", &i, &end) != 1 || end == 0 || br[end] != '\0' || i >= r->s->arrays[a].count))) {
		say(o, "'%s' is neither a page of %s (NAME or NAME[i]) nor a physical address\n", arg, r->s->path);
		return -1;
	}
	if ((*pa = r->page_pa[r->s->arrays[a].first + i]) == 0) {
		say(o, "page %s is not allocated at this point of the run\n", arg);
		return -1;
	}
	return 0;
}

/* pv PAGE: the page's pv list, entry by entry: the owning pmap (through its chunk) and the VA. */
static void mon_pv(struct mon *o, char **w, int n)
{
	struct run *r = o->g->r;
	const struct contract *ct = &r->m->ct;
	uint32_t pa, rec, e, count = 0, base = gv_u32(r->m, ct->page_array_ptr);

	if (n != 2) {
		say(o, "usage: monitor pv PAGE (a scenario page, p[3], or a physical address)\n");
		return;
	}
	if (page_pa(o, w[1], &pa) < 0)
		return;
	rec = base + (pa >> PAGE_SHIFT) * ct->page_size;
	e = gv_u32(r->m, rec + ct->pg_pv_list);
	say(o, "page 0x%08x (%s at 0x%08x): pv list\n", pa & PG_FRAME, ct->name.page, rec);
	while (e != 0 && count < 4096 && machine_gptr(r->m, e, ct->entry_size) != NULL) {
		uint32_t chunk = e & PG_FRAME, owner = gv_u32(r->m, chunk + ct->pc_owner);
		const char *name = "?";

		for (int p = 0; p < r->s->npmaps; p++)
			if (r->pmap_gva[p] == owner)
				name = r->s->pmap_names[p];
		say(o, "  %s 0x%08x: va 0x%08x, pmap 0x%08x (%s)\n", ct->name.entry, e, gv_u32(r->m, e + ct->pv_va),
		    owner, name);
		e = gv_u32(r->m, e + ct->pv_link.off);
		count++;
	}
	say(o, "  %u entr%s\n", count, count == 1 ? "y" : "ies");
}

/* chunk ADDR: a pv chunk's owner, bitmap and the entries in use. */
static void mon_chunk(struct mon *o, char **w, int n)
{
	struct run *r = o->g->r;
	const struct contract *ct = &r->m->ct;
	uint32_t va, used = 0;

	if (n != 2 || num32(w[1], &va) < 0) {
		say(o, "usage: monitor chunk ADDR (the chunk's kernel VA)\n");
		return;
	}
	va &= PG_FRAME;
	if (machine_gptr(r->m, va, ct->chunk_size) == NULL) {
		say(o, "0x%08x is not mapped in the kernel\n", va);
		return;
	}
	say(o, "%s 0x%08x: pmap 0x%08x, bitmap", ct->name.chunk, va, gv_u32(r->m, va + ct->pc_owner));
	for (uint32_t k = 0; k < ct->npcm; k++)
		say(o, " %08x", gv_u32(r->m, va + ct->pc_map + 4 * k));
	say(o, " (a set bit is %s)\n", ct->map_set_is_free ? "free" : "in use");
	for (uint32_t i = 0; i < ct->npcpv; i++) {
		int set = (gv_u32(r->m, va + ct->pc_map + 4 * (i / 32)) >> (i % 32)) & 1;
		uint32_t e = va + ct->pc_entries + i * ct->entry_size;

		if (set == ct->map_set_is_free)
			continue;
		say(o, "  [%u] 0x%08x: va 0x%08x\n", i, e, gv_u32(r->m, e + ct->pv_va));
		used++;
	}
	say(o, "  %u of %u entries in use\n", used, ct->npcpv);
}

/* tlb [VA[-VA]]: the translations the CPU holds (the MMU's model), in VA order. */
static void mon_tlb(struct mon *o, char **w, int n)
{
	const struct mmu *u = o->g->m->mmu;
	struct tlb_entry *v;
	uint64_t lo = 0, hi = UINT32_MAX;
	int k;
	char f[32];

	if (n > 2 || (n == 2 && trace_parse_range(w[1], UINT32_MAX, &lo, &hi) < 0)) {
		say(o, "usage: monitor tlb [VA[-VA]]\n");
		return;
	}
	if ((k = mmu_sorted(u, lo, hi, &v)) < 0)
		return;
	for (int i = 0; i < k; i++)
		say(o, "va 0x%08x -> pa 0x%08x%s (PTE 0x%08x when cached)\n", v[i].vpage << PAGE_SHIFT,
		    v[i].frame << PAGE_SHIFT, tlb_flags_text(v[i].flags, f, sizeof(f)), v[i].pte);
	say(o, "%d translation%s in the range (%u cached in all)\n", k, k == 1 ? "" : "s", u->n);
	free(v);
}

/* check: the full checks on the state as it is now (inside a call too: then mid-operation). */
static void mon_check(struct mon *o)
{
	struct run *r = o->g->r;
	struct violation v;

	if (!r->checking) {
		say(o, "the checker is off in this file (check off)\n");
		return;
	}
	if (checker_full(&r->chk, &v) == 0)
		say(o, "every rule holds\n");
	else
		say(o, "violation %s: %s\n", v.id, v.detail);
}

/* break-pte VA [if BITS] [count N]: stop after a store into VA's PTE or PDE (that changes BITS). */
static void mon_break_pte(struct mon *o, char **w, int n)
{
	struct gdbstub *g = o->g;
	uint32_t va, bits = 0, count = 1;
	char bad[32];
	int k = 2;

	if (n < 2 || num32(w[1], &va) < 0)
		goto usage;
	if (k + 1 < n && !strcmp(w[k], "if")) {
		if (pte_flag_mask(w[k + 1], &bits, bad, sizeof(bad)) < 0) {
			say(o, "unknown entry bit '%s' (known: %s)\n", bad, pte_flag_names());
			return;
		}
		k += 2;
	}
	if (k + 1 < n && !strcmp(w[k], "count")) {
		if (num32(w[k + 1], &count) < 0 || count == 0)
			goto usage;
		k += 2;
	}
	if (k != n)
		goto usage;
	if (g->npte == GDB_MAX_PTE_BREAKS) {
		say(o, "at most %d break-pte points\n", GDB_MAX_PTE_BREAKS);
		return;
	}
	g->pte[g->npte++] = (typeof(g->pte[0])){ va, bits, count, 0 };
	say(o, "break-pte %d: stop after the %u%s store into the PTE or PDE of 0x%08x%s%s (then: continue)\n",
	    g->npte, count, count == 1 ? "st" : count == 2 ? "nd" : count == 3 ? "rd" : "th", va,
	    bits ? " that changes " : "", bits ? w[3] : "");
	return;
usage:
	say(o, "usage: monitor break-pte VA [if BITS] [count N]\n");
}

static void mon_help(struct mon *o)
{
	say(o, "monitor commands of rig debug:\n"
	    "  where                     the scenario step, the guest instruction count, the guest stack\n"
	    "  regs                      EIP and the control registers (CR3's pmap by name)\n"
	    "  pte VA [PMAP]             walk VA (in PMAP, a scenario pmap or kernel; default CR3)\n"
	    "  pv PAGE                   a page's pv entries (PAGE: p[3] of the scenario, or a physical address)\n"
	    "  chunk ADDR                a pv chunk's bitmap and entries in use\n"
	    "  tlb [VA[-VA]]             the translations the CPU caches (the MMU's model)\n"
	    "  check                     run the full checks on the state as it is now\n"
	    "  next-step                 stop when the next scenario step begins (then: continue)\n"
	    "  break-pte VA [if BITS] [count N]  stop after a store into VA's PTE or PDE\n"
	    "                            (BITS: P,RW,US,A,D,...,frame: only stores that change one)\n");
}

void gdbmon_run(struct gdbstub *g, const char *cmd, char *out, size_t len)
{
	struct mon o = { g, out, len, strlen(out) };
	char buf[512], *w[MON_MAX_WORDS + 1], *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", cmd);
	for (char *t = strtok_r(buf, " \t", &save); t != NULL && n <= MON_MAX_WORDS; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (n == 0 || !strcmp(w[0], "help"))
		mon_help(&o);
	else if (g->r == NULL)
		say(&o, "the run is over\n");
	else if (!strcmp(w[0], "where"))
		mon_where(&o);
	else if (!strcmp(w[0], "regs"))
		mon_regs(&o);
	else if (!strcmp(w[0], "pte"))
		mon_pte(&o, w, n);
	else if (!strcmp(w[0], "pv"))
		mon_pv(&o, w, n);
	else if (!strcmp(w[0], "chunk"))
		mon_chunk(&o, w, n);
	else if (!strcmp(w[0], "tlb"))
		mon_tlb(&o, w, n);
	else if (!strcmp(w[0], "check"))
		mon_check(&o);
	else if (!strcmp(w[0], "next-step")) {
		g->next_step = 1;
		say(&o, "the guest stops when the next step begins (continue)\n");
	} else if (!strcmp(w[0], "break-pte"))
		mon_break_pte(&o, w, n);
	else
		say(&o, "unknown monitor command '%s' (monitor help lists them)\n", w[0]);
}
