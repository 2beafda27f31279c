/*
 * invsmp.h - the rules only several CPUs can break, judged from the
 * scheduler's view (scheduler.h) and every CPU's TLB model:
 *
 *   TLB-SHOOTDOWN  when a CPU's call returns, no other CPU still caches a
 *                  translation through a PTE or PDE that call changed;
 *   SHOOTDOWN-SET  a shootdown IPI goes to every other CPU on which the
 *                  pmap is active (its directory in CR3; every CPU for the
 *                  kernel's), and a CPU acknowledges only once it ran the
 *                  invalidation (an INVLPG of the page, or a CR3 load).
 *
 * Each violation names both CPUs and what each was doing.
 */
#ifndef RIG_INVSMP_H
#define RIG_INVSMP_H

#include "events.h"
#include "invariants.h"
#include "machine.h"

struct smpcheck {
	struct machine *m;
	uint32_t *written[RIG_MAX_CPUS];	/* entry PAs each CPU's current call wrote */
	int nwritten[RIG_MAX_CPUS], capwritten[RIG_MAX_CPUS];
	int overflow[RIG_MAX_CPUS];		/* too many to list: compare every entry */
	int (*ignored)(void *ctx, const char *id);
	void *ctx;
	struct violation v;			/* the first violation */
	int violated;
};

/* Watch ev's entry writes and hear the scheduler. 0 or -1. */
int smpcheck_attach(struct smpcheck *c, struct machine *m, struct events *ev);
void smpcheck_detach(struct smpcheck *c);

#endif
