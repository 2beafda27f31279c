/*
 * runner_random.c - the random statement: a deterministic generator
 * (splitmix64) picks operations over the pmaps rand0.. and the page array
 * randpg, each run as a step of its own and judged by the model.
 */
#include "runner_priv.h"

#include <stdio.h>
#include <string.h>

/* splitmix64: the random statement's generator, the same on every machine. */
static uint64_t rng_next(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The objects of a random statement: pmaps rand0.. and pages randpg[]. */
struct random_ctx {
	int pmaps[32];
	int npmaps;
	int32_t first_page;
	uint32_t npages, span;	/* span: VA pages per pmap */
	uint64_t rng;
};

/* Run op as a step of its own, named "random: ..." in reports. */
static int random_step(struct run *r, struct step *op)
{
	r->rop = op;
	r->synth[0] = '\0';
	if (run_op(r, op) < 0) {
		step_text(r);	/* keep the text: op goes out of scope */
		r->rop = NULL;
		return -1;
	}
	r->rop = NULL;
	r->synth[0] = '\0';
	return 0;
}

/* Create random's pmaps and pages the first time they are used, each creation a step. */
static int random_setup(struct run *r, const struct step *st, struct random_ctx *c)
{
	int a = scenario_find_array(r->s, "randpg");

	c->npmaps = (int)st->npmaps;
	c->npages = st->npages;
	c->first_page = r->s->arrays[a].first;
	c->span = st->npages * 4 < 64 ? 64 : st->npages * 4;
	c->rng = st->n;
	for (int i = 0; i < c->npmaps; i++) {
		char name[16];
		struct step ps = { .kind = ST_PMAP };

		snprintf(name, sizeof(name), "rand%d", i);
		c->pmaps[i] = ps.pmap = scenario_find_pmap(r->s, name);
		if (r->pmap_gva[ps.pmap] == 0 && random_step(r, &ps) < 0)
			return -1;
	}
	if (r->page_gva[c->first_page] == 0) {
		struct step pg = { .kind = ST_PAGE, .page = { a, -1 } };

		return random_step(r, &pg);
	}
	return 0;
}

/* A range of 1..16 pages inside a random pmap's span. */
static void random_range(struct random_ctx *c, struct step *op)
{
	uint32_t len = 1 + (uint32_t)(rng_next(&c->rng) % 16);
	uint32_t start = (uint32_t)(rng_next(&c->rng) % c->span);

	op->va = 0x10000000u + start * PAGE_SIZE;
	op->eva = op->va + len * PAGE_SIZE;
}

/* A random load or store; the model says whether it must fault. */
static void random_touch(struct run *r, struct random_ctx *c, struct step *op)
{
	const struct mentry *e = model_get(&r->model, op->pmap, op->va);

	op->kind = ST_TOUCH;
	op->flag = (int)(rng_next(&c->rng) & 1) | 2;
	op->n = e == NULL || ((op->flag & 1) && !e->writable);
}

/* A kernel VA for random: window 0 for kenter (its first 64 pages of scenario KVA), window 1 for managed
 * kernel mappings (64 pages in each of the three 4 MiB spans above, so the kernel grows by steps). */
static uint32_t random_kva(struct run *r, struct random_ctx *c, int window)
{
	uint32_t page = (uint32_t)(rng_next(&c->rng) % 64);
	uint32_t span = window ? 1 + (uint32_t)(rng_next(&c->rng) % 3) : 0;

	return r->gi->gi_kva_free + span * NBPDR + page * PAGE_SIZE;
}

/* A map of one page, or (rarely) of the whole of randpg at consecutive VAs. */
static void random_map(struct random_ctx *c, struct step *op, int burst)
{
	op->kind = ST_MAP;
	op->prot = rng_next(&c->rng) % 4 ? SCN_PROT_R | SCN_PROT_W : SCN_PROT_R;
	op->flag = (rng_next(&c->rng) % 16 == 0) | 4;	/* wired 1/16; a shortage is an outcome */
	if (burst) {
		op->page.index = -1;
		op->va = 0x10000000u + (uint32_t)(rng_next(&c->rng) % (c->span - c->npages + 1)) * PAGE_SIZE;
		op->flag &= ~1;
	}
	op->eva = op->va + (burst ? c->npages : 1) * PAGE_SIZE;
}

/* A map of the page already mapped at op's VA again, with a new protection or wiring (pmap_enter's
 * change-in-place path); a plain map where nothing of randpg is mapped. */
static void random_remap(struct run *r, struct random_ctx *c, struct step *op)
{
	const struct mentry *e = model_get(&r->model, op->pmap, op->va);

	random_map(c, op, 0);
	if (e == NULL || e->page < c->first_page || e->page >= c->first_page + (int32_t)c->npages)
		return;
	op->page.index = e->page - c->first_page;
	op->flag = (rng_next(&c->rng) % 4 == 0) | 4;	/* wired 1/4: wired_count moves both ways */
}

/* The kernel's operations: kenter/kremove in window 0, managed map/unmap and touches in window 1. */
static void random_kernel(struct run *r, struct random_ctx *c, struct step *op, uint32_t roll)
{
	op->pmap = SCN_KERNEL;
	op->va = random_kva(r, c, roll >= 35);
	op->eva = op->va + PAGE_SIZE;
	if (roll < 35)	/* kremove only what kenter made (a kernel VA without a page table faults) */
		op->kind = roll < 20 || model_get(&r->model, SCN_KERNEL, op->va) == NULL ? ST_KENTER : ST_KREMOVE;
	else if (roll < 60) {
		random_map(c, op, 0);
		op->flag &= ~1;		/* kernel mappings are never wired here */
	} else if (roll < 75)
		op->kind = ST_UNMAP;
	else
		random_touch(r, c, op);
}

/*
 * The objects' life cycle (roll 940..999): free and reallocate a page (a
 * query while it is mapped), activate, destroy a pmap (an unmap of its whole
 * span while it has mappings). Nothing is freed or destroyed while the file
 * makes allocations fail: it could not be had again.
 */
static void random_lifecycle(struct run *r, struct random_ctx *c, struct step *op, uint32_t roll)
{
	int failing = r->gi->gi_alloc_fail_after != ~0u;

	if (roll < 960)
		op->kind = model_count_page(&r->model, flat_page(r, &op->page, 0), 0) || failing ? ST_QUERY : ST_RECYCLE;
	else if (roll < 990)
		op->kind = ST_ACTIVATE;
	else if (!failing && model_count_pmap(&r->model, op->pmap) == 0)
		op->kind = ST_DESTROY;		/* made again when next picked */
	else {
		op->kind = ST_UNMAP;		/* empty it first, in a step of its own */
		op->va = 0x10000000u, op->eva = op->va + c->span * PAGE_SIZE;
	}
}

/*
 * Pick one random operation into op. The mix, in thousandths
 * (docs/scenarios.md): map 250, map of all of randpg 10, map of the page
 * already mapped there again with a new protection or wiring 30, unmap 130,
 * unmap of a pmap's whole span 10, protect 80, unmap-all 50, touch 220,
 * clear-modify 30, query 40 (pmap_is_modified and pmap_is_referenced
 * against the model), kernel operations 90 (kenter 20, kremove 15, map 25,
 * unmap 15, touch 15; a kremove where nothing was kentered is a kenter),
 * free and reallocate a page 20, activate 30, destroy a pmap 10. A
 * destroyed pmap is made again, by `pmap`, as the next operation that
 * picks it.
 */
static void random_pick(struct run *r, struct random_ctx *c, struct step *op)
{
	uint32_t roll = (uint32_t)(rng_next(&c->rng) % 1000);

	op->pmap = c->pmaps[rng_next(&c->rng) % c->npmaps];
	op->page = (struct pageref){ scenario_find_array(r->s, "randpg"), (int)(rng_next(&c->rng) % c->npages) };
	op->va = 0x10000000u + (uint32_t)(rng_next(&c->rng) % c->span) * PAGE_SIZE;
	if (roll < 260)
		random_map(c, op, roll >= 250 && c->npages <= 1024);	/* a burst stays one chunk or three */
	else if (roll < 290)
		random_remap(r, c, op);
	else if (roll < 430) {
		op->kind = ST_UNMAP;
		random_range(c, op);
		if (roll >= 420)
			op->va = 0x10000000u, op->eva = op->va + c->span * PAGE_SIZE;
	} else if (roll < 510) {
		op->kind = ST_PROTECT;
		op->prot = rng_next(&c->rng) % 4 ? SCN_PROT_R : SCN_PROT_R | SCN_PROT_W;
		random_range(c, op);
	} else if (roll < 560)
		op->kind = ST_UNMAP_ALL;
	else if (roll < 780)
		random_touch(r, c, op);
	else if (roll < 810)
		op->kind = ST_CLEAR_MODIFY;
	else if (roll < 850)
		op->kind = ST_QUERY;
	else if (roll < 940)
		random_kernel(r, c, op, roll - 850);
	else
		random_lifecycle(r, c, op, roll);
	if (r->pmap_gva[op->pmap] == 0)		/* destroyed: make it again first */
		op->kind = r->gi->gi_alloc_fail_after == ~0u ? ST_PMAP : ST_QUERY;
}

/*
 * A random operation as text: for reports, "random: map ..." (stmt 0); as
 * a statement that does exactly the same when written in a file (stmt 1:
 * `or-shortage`, `touch ... model`, `query`, `recycle`), for rig shrink.
 */
static void random_format(struct run *r, const struct step *op, int stmt, char *buf, size_t len)
{
	const char *pm = r->s->pmap_names[op->pmap], *pre = stmt ? "" : "random: ";
	char name[80], on[32];

	if (op->cpu != 0 && op->kind != ST_PMAP && op->kind != ST_PAGE && op->kind != ST_DESTROY &&
	    op->kind != ST_RECYCLE) {	/* with several CPUs: where it ran (what `on` takes) */
		snprintf(on, sizeof(on), "%son %d ", pre, op->cpu);
		pre = on;
	}
	if (op->page.index < 0)
		snprintf(name, sizeof(name), "%s", r->s->arrays[op->page.array].name);
	else
		page_name(r, flat_page(r, &op->page, 0), name, sizeof(name));
	switch (op->kind) {
	case ST_MAP:
		snprintf(buf, len, "%smap %s 0x%08x %s %s%s%s", pre, pm, op->va, name, op->prot & SCN_PROT_W ? "rw" : "r",
		    op->flag & 1 ? " wired" : "", stmt && (op->flag & 4) ? " or-shortage" : "");
		break;
	case ST_UNMAP: case ST_PROTECT:
		snprintf(buf, len, "%s%s %s 0x%08x 0x%08x%s", pre, op->kind == ST_UNMAP ? "unmap" : "protect", pm,
		    op->va, op->eva, op->kind == ST_UNMAP ? "" : op->prot & SCN_PROT_W ? " rw" : " r");
		break;
	case ST_UNMAP_ALL: case ST_CLEAR_MODIFY: case ST_QUERY: case ST_RECYCLE:
		snprintf(buf, len, "%s%s %s", pre, op->kind == ST_UNMAP_ALL ? "unmap-all" : op->kind == ST_CLEAR_MODIFY ?
		    "clear-modify" : op->kind == ST_QUERY ? "query" : stmt ? "recycle" : "free and reallocate", name);
		break;
	case ST_TOUCH:
		snprintf(buf, len, "%stouch %s 0x%08x %s%s", pre, pm, op->va, op->flag & 1 ? "w" : "r",
		    stmt ? " model" : op->n ? " faults" : "");
		break;
	case ST_KENTER:
		snprintf(buf, len, "%skenter 0x%08x %s", pre, op->va, name);
		break;
	case ST_KREMOVE:
		snprintf(buf, len, "%skremove 0x%08x", pre, op->va);
		break;
	case ST_DESTROY: case ST_PMAP:
		snprintf(buf, len, "%s%s %s", pre, op->kind == ST_DESTROY ? "destroy" : "pmap", pm);
		break;
	case ST_PAGE:
		if (stmt)
			snprintf(buf, len, "page %s %u", name, r->s->arrays[op->page.array].count);
		else
			snprintf(buf, len, "random: page %s", name);
		break;
	default:
		snprintf(buf, len, "%sactivate %s", pre, pm);
	}
}

/* The text of a random operation in reports, formatted only when someone reads it. */
void random_text(struct run *r, const struct step *op, char *buf, size_t len)
{
	random_format(r, op, 0, buf, len);
}

/* The statement a random operation is, written out (rig shrink). */
void random_statement(struct run *r, const struct step *op, char *buf, size_t len)
{
	random_format(r, op, 1, buf, len);
}

/*
 * With several CPUs, random runs groups: consecutive operations of one
 * pmap each (a map, unmap, protect, touch or activation of a user pmap, on
 * pmaps no other operation of the group uses) run at once, one per CPU, as
 * one parallel step; the model's answer for each is its pmap's alone, so
 * the order in which they end does not matter. Every other operation runs
 * alone, on a CPU the generator picks.
 */
struct random_group {
	struct step ops[RIG_MAX_CPUS];
	int cpus[RIG_MAX_CPUS];
	int n;
	char text[4096];	/* the group as a parallel block, for rig shrink */
	struct step st;		/* the parallel step (its one-line text: r->synth) */
};

/* May op run alongside the group's operations? */
static int joins(const struct random_group *g, const struct step *op)
{
	if (op->pmap == SCN_KERNEL || (op->kind != ST_MAP && op->kind != ST_UNMAP && op->kind != ST_PROTECT &&
	    op->kind != ST_TOUCH && op->kind != ST_ACTIVATE))
		return 0;
	for (int i = 0; i < g->n; i++)
		if (g->ops[i].pmap == op->pmap)
			return 0;
	return 1;
}

/* Run the group (one operation: a step of its own on its CPU). 0 or -1. */
static int flush_group(struct run *r, const struct step *st, struct random_group *g, uint64_t *rng)
{
	const struct step *ops[RIG_MAX_CPUS];
	size_t used, sused;
	int rc, base = (int)(rng_next(rng) % (uint64_t)r->m->ncpu);

	if (g->n == 0)
		return 0;
	for (int i = 0; i < g->n; i++)
		g->cpus[i] = (base + i) % r->m->ncpu;
	if (g->n == 1) {
		g->ops[0].cpu = g->cpus[0];
		machine_set_cpu(r->m, g->cpus[0]);
		rc = random_step(r, &g->ops[0]);
		machine_set_cpu(r->m, 0);
		g->n = 0;
		return rc;
	}
	used = (size_t)snprintf(g->text, sizeof(g->text), "parallel {");
	sused = (size_t)snprintf(r->synth, sizeof(r->synth), "random: parallel {");
	for (int i = 0; i < g->n; i++) {
		char one[256];

		ops[i] = &g->ops[i];
		g->ops[i].cpu = 0;	/* formatted without its `on`: the block's line gives it */
		random_statement(r, &g->ops[i], one, sizeof(one));
		if (used < sizeof(g->text))
			used += (size_t)snprintf(g->text + used, sizeof(g->text) - used, "\n  on %d %s", g->cpus[i], one);
		random_text(r, &g->ops[i], one, sizeof(one));
		if (sused < sizeof(r->synth))
			sused += (size_t)snprintf(r->synth + sused, sizeof(r->synth) - sused, "%s on %d %s", i ? ";" : "",
			    g->cpus[i], one + strlen("random: "));
		g->ops[i].cpu = g->cpus[i];
	}
	if (used < sizeof(g->text))
		snprintf(g->text + used, sizeof(g->text) - used, "\n}");
	if (sused < sizeof(r->synth))
		snprintf(r->synth + sused, sizeof(r->synth) - sused, " }");
	g->st = (struct step){ .kind = ST_PARALLEL, .line = st->line, .col = st->col, .text = r->synth };
	rc = parallel_step(r, &g->st, ops, g->cpus, g->n, g->text);
	if (rc == 0)
		r->synth[0] = '\0';
	g->n = 0;
	return rc;
}

/* random over several CPUs: its operations, in groups (struct random_group). */
static int exec_random_smp(struct run *r, const struct step *st, struct random_ctx *c)
{
	struct random_group g = { .n = 0 };

	for (uint32_t i = 0; i < st->ops; i++) {
		struct step op = { 0 };
		uint64_t before = c->rng;

		random_pick(r, c, &op);
		if (!joins(&g, &op) || g.n == r->m->ncpu) {
			if (g.n > 0) {	/* the model moves with the group: pick again after it */
				if (flush_group(r, st, &g, &c->rng) < 0)
					return -1;
				c->rng = before;
				memset(&op, 0, sizeof(op));
				random_pick(r, c, &op);
			}
			if (!joins(&g, &op)) {
				g.ops[g.n++] = op;
				if (flush_group(r, st, &g, &c->rng) < 0)
					return -1;
				continue;
			}
		}
		g.ops[g.n++] = op;
	}
	return flush_group(r, st, &g, &c->rng);
}

/* random seed=S ops=N ...: N operations, each a step. *//* random seed=S ops=N ...: N operations, each a step. */
int exec_random(struct run *r, const struct step *st)
{
	struct random_ctx c;

	if (random_setup(r, st, &c) < 0)
		return -1;
	if (r->m->ncpu > 1)
		return exec_random_smp(r, st, &c);
	for (uint32_t i = 0; i < st->ops; i++) {
		struct step op = { 0 };

		random_pick(r, &c, &op);
		if (random_step(r, &op) < 0)
			return -1;
	}
	return 0;
}

