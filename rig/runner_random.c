/*
 * runner_random.c - the random statement: a deterministic generator
 * (splitmix64) picks operations over the pmaps rand0.. and the page array
 * randpg, each run as a step of its own and judged by the model.
 */
#include "runner_priv.h"

#include <stdio.h>

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

/* Create random's pmaps and pages the first time they are used. */
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
		if (r->pmap_gva[ps.pmap] == 0 && op_pmap(r, &ps) < 0)
			return -1;
	}
	if (r->page_gva[c->first_page] == 0) {
		struct step pg = { .kind = ST_PAGE, .page = { a, -1 } };

		return op_page(r, &pg);
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

/*
 * Pick one random operation into op (and its text into r->synth). The mix:
 * map 40%, unmap 20%, protect 10%, unmap-all 5%, touch 20%, activate 5%
 * (docs/scenarios.md).
 */
static void random_pick(struct run *r, struct random_ctx *c, struct step *op)
{
	uint32_t roll = (uint32_t)(rng_next(&c->rng) % 100);

	op->pmap = c->pmaps[rng_next(&c->rng) % c->npmaps];
	op->page = (struct pageref){ scenario_find_array(r->s, "randpg"), (int)(rng_next(&c->rng) % c->npages) };
	op->va = 0x10000000u + (uint32_t)(rng_next(&c->rng) % c->span) * PAGE_SIZE;
	if (roll < 40) {
		op->kind = ST_MAP;
		op->prot = rng_next(&c->rng) % 4 ? SCN_PROT_R | SCN_PROT_W : SCN_PROT_R;
		op->flag = (rng_next(&c->rng) % 16 == 0) | 4;	/* wired 1/16; a shortage is an outcome */
		op->eva = op->va + PAGE_SIZE;
		return;
	}
	if (roll < 70) {
		op->kind = roll < 60 ? ST_UNMAP : ST_PROTECT;
		op->prot = rng_next(&c->rng) % 4 ? SCN_PROT_R : SCN_PROT_R | SCN_PROT_W;
		random_range(c, op);
	} else if (roll < 75) {
		op->kind = ST_UNMAP_ALL;
	} else if (roll < 95) {
		random_touch(r, c, op);
	} else {
		op->kind = ST_ACTIVATE;
	}
}

/* The text of a random operation, formatted only when someone reads it. */
void random_text(struct run *r, const struct step *op, char *buf, size_t len)
{
	const char *pm = r->s->pmap_names[op->pmap];
	char name[80];

	page_name(r, flat_page(r, &op->page, 0), name, sizeof(name));
	switch (op->kind) {
	case ST_MAP:
		snprintf(buf, len, "random: map %s 0x%08x %s %s%s", pm, op->va, name,
		    op->prot & SCN_PROT_W ? "rw" : "r", op->flag & 1 ? " wired" : "");
		break;
	case ST_UNMAP: case ST_PROTECT:
		snprintf(buf, len, "random: %s %s 0x%08x 0x%08x%s", op->kind == ST_UNMAP ? "unmap" : "protect", pm,
		    op->va, op->eva, op->kind == ST_UNMAP ? "" : op->prot & SCN_PROT_W ? " rw" : " r");
		break;
	case ST_UNMAP_ALL:
		snprintf(buf, len, "random: unmap-all %s", name);
		break;
	case ST_TOUCH:
		snprintf(buf, len, "random: touch %s 0x%08x %s%s", pm, op->va, op->flag & 1 ? "w" : "r",
		    op->n ? " faults" : "");
		break;
	default:
		snprintf(buf, len, "random: activate %s", pm);
	}
}


/* random seed=S ops=N ...: N operations, each a step. */
int exec_random(struct run *r, const struct step *st)
{
	struct random_ctx c;

	if (random_setup(r, st, &c) < 0)
		return -1;
	for (uint32_t i = 0; i < st->ops; i++) {
		struct step op = { 0 };

		random_pick(r, &c, &op);
		r->rop = &op;
		r->synth[0] = '\0';
		if (run_op(r, &op) < 0) {
			step_text(r);	/* keep the text: op goes out of scope */
			r->rop = NULL;
			return -1;
		}
	}
	r->rop = NULL;
	r->synth[0] = '\0';
	return 0;
}

