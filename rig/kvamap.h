/*
 * kvamap.h - a picture of the pv chunk KVA block over a run (--kva-map):
 * one column per step (or bucket of steps), one row per slot, coloured as
 * allocated, free after use (a hole, on the free list) or never used.
 */
#ifndef RIG_KVAMAP_H
#define RIG_KVAMAP_H

#include <stdint.h>
#include <stdio.h>

#include "machine.h"

enum kva_cell { KVA_NEVER, KVA_ALLOC, KVA_FREE };

struct kvamap {
	uint32_t slots;		/* rows */
	uint64_t bucket;	/* steps per column */
	uint32_t ncols, capcols;
	uint8_t *cells;		/* ncols x slots, column-major */
	uint8_t *ever;		/* per slot: ever allocated */
};

/* Prepare for a run of about total_ops steps (at most ~600 columns). */
void kvamap_init(struct kvamap *k, uint64_t total_ops);
void kvamap_free(struct kvamap *k);
/* After step `op` (0: the final state, always sampled): one column per bucket. */
void kvamap_sample(struct kvamap *k, struct machine *m, uint64_t op);
/* Write the SVG; returns 0 or -1. */
int kvamap_write_svg(const struct kvamap *k, FILE *out, const char *title);

#endif
