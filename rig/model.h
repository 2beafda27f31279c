/*
 * model.h - the reference model: the translation every (pmap, VA) should
 * have, computed from the scenario's operations alone, never from guest code.
 */
#ifndef RIG_MODEL_H
#define RIG_MODEL_H

#include <stdint.h>

#define MODEL_MAX_PMAPS 64

/* One expected mapping. */
struct mentry {
	uint32_t vpn;		/* va >> 12 */
	int32_t page;		/* flat page index; -1 = empty slot */
	uint8_t writable, wired, managed;
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
