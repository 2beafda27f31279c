/* invset.c - the checker's hash set of (pmap, va) keys (see invcheck.h). */
#include "invcheck.h"

#include <stdlib.h>
#include <string.h>

static uint32_t pvhash(uint32_t pmap, uint32_t va)
{
	return (pmap * 0x9e3779b1u) ^ ((va >> 12) * 2654435761u);
}

int pvset_init(struct pvset *s, uint32_t n)
{
	uint32_t cap = 64;

	while (cap < n * 2 + 2)
		cap *= 2;
	s->v = calloc(cap, sizeof(*s->v));
	s->cap = cap;
	s->n = 0;
	return s->v ? 0 : -1;
}

void pvset_free(struct pvset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* The slot of (pmap, va), or the empty one where it would go. */
static struct pvkey *slot(const struct pvset *s, uint32_t pmap, uint32_t va)
{
	uint32_t mask = s->cap - 1;

	for (uint32_t i = pvhash(pmap, va) & mask;; i = (i + 1) & mask)
		if (!s->v[i].used || (s->v[i].pmap == pmap && s->v[i].va == va))
			return &s->v[i];
}

struct pvkey *pvset_get(const struct pvset *s, uint32_t pmap, uint32_t va)
{
	struct pvkey *k = slot(s, pmap, va);

	return k->used ? k : NULL;
}

struct pvkey *pvset_put(struct pvset *s, uint32_t pmap, uint32_t va, uint32_t val)
{
	struct pvkey *k;

	if ((s->n + 1) * 2 > s->cap) {	/* grow */
		struct pvset ns;

		if (pvset_init(&ns, s->cap) < 0)
			return NULL;
		for (uint32_t i = 0; i < s->cap; i++)
			if (s->v[i].used)
				*slot(&ns, s->v[i].pmap, s->v[i].va) = s->v[i];
		ns.n = s->n;
		free(s->v);
		*s = ns;
	}
	k = slot(s, pmap, va);
	if (k->used)
		return k;
	*k = (struct pvkey){ pmap, va, val, 1, 0 };
	s->n++;
	return NULL;
}
