/*
 * model.c - owns the reference model's storage: per pmap an open-addressing
 * hash table keyed by virtual page number, and per page the list of keys
 * that map it (for unmap-all and for "is this page still mapped?").
 */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#define KEY(pmap, vpn)	((uint32_t)(pmap) << 20 | (vpn))

static uint32_t hash(uint32_t vpn)
{
	return vpn * 2654435761u;
}

int model_init(struct model *m, uint32_t npages)
{
	memset(m, 0, sizeof(*m));
	m->npages = npages;
	m->pages = calloc(npages ? npages : 1, sizeof(*m->pages));
	return m->pages ? 0 : -1;
}

void model_free(struct model *m)
{
	for (int i = 0; i < MODEL_MAX_PMAPS; i++)
		free(m->pmaps[i].v);
	for (uint32_t i = 0; i < m->npages; i++)
		free(m->pages[i].keys);
	free(m->pages);
	memset(m, 0, sizeof(*m));
}

/* The slot holding vpn, or the empty slot where it would go. */
static struct mentry *slot(const struct mtable *t, uint32_t vpn)
{
	uint32_t mask = t->cap - 1;

	for (uint32_t i = hash(vpn) & mask;; i = (i + 1) & mask)
		if (t->v[i].page < 0 || t->v[i].vpn == vpn)
			return &t->v[i];
}

const struct mentry *model_get(const struct model *m, int pmap, uint32_t va)
{
	const struct mtable *t = &m->pmaps[pmap];
	const struct mentry *e;

	if (t->cap == 0)
		return NULL;
	e = slot(t, va >> 12);
	return e->page >= 0 ? e : NULL;
}

struct mentry *model_find(struct model *m, int pmap, uint32_t va)
{
	return (struct mentry *)model_get(m, pmap, va);
}

/* Double the table (or create it). */
static int grow(struct mtable *t)
{
	struct mtable nt = { calloc(t->cap ? t->cap * 2 : 64, sizeof(struct mentry)), t->cap ? t->cap * 2 : 64, t->n };

	if (nt.v == NULL)
		return -1;
	for (uint32_t i = 0; i < nt.cap; i++)
		nt.v[i].page = -1;
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->v[i].page >= 0)
			*slot(&nt, t->v[i].vpn) = t->v[i];
	free(t->v);
	*t = nt;
	return 0;
}

static int rev_add(struct mrev *r, uint32_t key)
{
	if (r->n == r->cap) {
		uint32_t cap = r->cap ? r->cap * 2 : 4;
		uint32_t *k = realloc(r->keys, cap * sizeof(*k));

		if (k == NULL)
			return -1;
		r->keys = k;
		r->cap = cap;
	}
	r->keys[r->n++] = key;
	return 0;
}

static void rev_del(struct mrev *r, uint32_t key)
{
	for (uint32_t i = 0; i < r->n; i++)
		if (r->keys[i] == key) {
			r->keys[i] = r->keys[--r->n];
			return;
		}
}

int model_set(struct model *m, int pmap, uint32_t va, int32_t page, int writable, int wired, int managed)
{
	struct mtable *t = &m->pmaps[pmap];
	struct mentry *e;

	model_del(m, pmap, va);
	if ((t->n + 1) * 2 > t->cap && grow(t) < 0)
		return -1;
	e = slot(t, va >> 12);
	*e = (struct mentry){ va >> 12, page, (uint8_t)writable, (uint8_t)wired, (uint8_t)managed, MAD_REF_UNKNOWN };
	t->n++;
	return rev_add(&m->pages[page], KEY(pmap, va >> 12));
}

/* Remove the entry at slot i and close the gap (backward-shift deletion). */
static void erase(struct mtable *t, uint32_t i)
{
	uint32_t mask = t->cap - 1, j = i;

	t->v[i].page = -1;
	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (t->v[j].page < 0)
			return;
		home = hash(t->v[j].vpn) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->v[i] = t->v[j];
			t->v[j].page = -1;
			i = j;
		}
	}
}

void model_del(struct model *m, int pmap, uint32_t va)
{
	struct mtable *t = &m->pmaps[pmap];
	struct mentry *e;

	if (t->cap == 0)
		return;
	e = slot(t, va >> 12);
	if (e->page < 0)
		return;
	rev_del(&m->pages[e->page], KEY(pmap, va >> 12));
	erase(t, (uint32_t)(e - t->v));
	t->n--;
}

uint32_t model_count_pmap(const struct model *m, int pmap)
{
	return m->pmaps[pmap].n;
}

uint32_t model_count_page(const struct model *m, int32_t page, int managed_only)
{
	uint32_t n = 0;

	if (!managed_only)
		return m->pages[page].n;
	for (uint32_t i = 0; i < m->pages[page].n; i++) {
		uint32_t key = m->pages[page].keys[i];

		if (model_get(m, key >> 20, (key & 0xfffff) << 12)->managed)
			n++;
	}
	return n;
}

void model_foreach(const struct model *m, int pmap, uint32_t va, uint32_t eva,
    void (*fn)(const struct mentry *e, void *arg), void *arg)
{
	const struct mtable *t = &m->pmaps[pmap];
	uint64_t npages = ((uint64_t)eva - va) >> 12;

	if (npages <= t->n) {		/* probe each page of a small range */
		for (uint64_t i = 0; i < npages; i++) {
			const struct mentry *e = model_get(m, pmap, va + (uint32_t)(i << 12));

			if (e != NULL)
				fn(e, arg);
		}
		return;
	}
	for (uint32_t i = 0; i < t->cap; i++)	/* else scan the table */
		if (t->v[i].page >= 0 && t->v[i].vpn >= (va >> 12) && t->v[i].vpn < (uint32_t)(((uint64_t)eva) >> 12))
			fn(&t->v[i], arg);
}
