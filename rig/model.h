/*
 * model.h - the reference model: the translation every (pmap, VA) should
 * have, computed from the scenario's operations alone, never from guest code.
 */
#ifndef RIG_MODEL_H
#define RIG_MODEL_H

#include <stdint.h>

#define MODEL_MAX_PMAPS 64

/*
 * What the model knows of one mapping's own PG_A/PG_M: each bit is known
 * set, known clear, or unknown (a pmap may legitimately do either, e.g. set
 * PG_A when it enters a mapping, as modern FreeBSD does).
 */
#define MAD_REF		0x1	/* PG_A known set */
#define MAD_DIRTY	0x2	/* PG_M known set */
#define MAD_REF_UNKNOWN	0x4
#define MAD_DIRTY_UNKNOWN 0x8

/* One expected mapping. */
struct mentry {
	uint32_t vpn;		/* va >> 12 */
	int32_t page;		/* flat page index; -1 = empty slot */
	uint8_t writable, wired, managed;
	uint8_t ad;		/* MAD_* */
};

/* Open-addressing table of one pmap's expected mappings. */
struct mtable {
	struct mentry *v;
	uint32_t cap, n;
};

/* Reverse map: the (pmap, vpn) keys that map one page. */
struct mrev {
	uint32_t *keys;		/* pmap << 20 | vpn */
	uint32_t n, cap;
};

struct model {
	struct mtable pmaps[MODEL_MAX_PMAPS];
	struct mrev *pages;	/* per flat page */
	uint32_t npages;
};

int model_init(struct model *m, uint32_t npages);
void model_free(struct model *m);
/* The expected mapping of va in pmap, or NULL. */
const struct mentry *model_get(const struct model *m, int pmap, uint32_t va);
/* Expect va -> page in pmap (replacing whatever was there). */
int model_set(struct model *m, int pmap, uint32_t va, int32_t page, int writable, int wired, int managed);
/* The same, for updating its A/D knowledge. */
struct mentry *model_find(struct model *m, int pmap, uint32_t va);
/* Expect nothing at va in pmap. */
void model_del(struct model *m, int pmap, uint32_t va);
/* Number of expected mappings in a pmap, and of a page (managed ones only if managed_only). */
uint32_t model_count_pmap(const struct model *m, int pmap);
uint32_t model_count_page(const struct model *m, int32_t page, int managed_only);
/* The i-th key (pmap << 20 | vpn) mapping page. */
static inline uint32_t model_page_key(const struct model *m, int32_t page, uint32_t i)
{
	return m->pages[page].keys[i];
}
/* Call fn for every expected mapping of pmap in [va, eva). */
void model_foreach(const struct model *m, int pmap, uint32_t va, uint32_t eva,
    void (*fn)(const struct mentry *e, void *arg), void *arg);

#endif
