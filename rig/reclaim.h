/*
 * reclaim.h - what the guest's reclaim took, derived from events: the
 * descriptor names the reclaim function (reclaim.function); a code site on
 * its entry and on its return address brackets each call, and every valid
 * managed PTE cleared in between is a mapping reclaim took. The MODEL rule
 * lets exactly those vanish; no counter of the guest's is read.
 */
#ifndef RIG_RECLAIM_H
#define RIG_RECLAIM_H

#include <stdint.h>

#include "events.h"

struct machine;

struct reclaim_take {
	uint32_t pd;		/* directory, or EV_KERNEL_SPACE */
	uint32_t va;
};

struct reclaim {
	struct machine *m;
	uint32_t fn;		/* the function's entry; 0: the guest declares none */
	uint32_t ret, esp;	/* during a call: where it returns, and its frame */
	uint32_t calls;		/* calls begun in this step */
	struct reclaim_take *took;	/* in this step */
	int n, cap, lost;	/* lost: memory ran out, some were not recorded */
};

/* Hook the declared reclaim function (nothing when none is declared). 0 or -1. */
int reclaim_attach(struct reclaim *rc, struct machine *m);
void reclaim_detach(struct reclaim *rc);
/* A step begins: forget the last one's calls and takes. */
void reclaim_begin_step(struct reclaim *rc);
/* The event sink (subscribe it when the machine is watched). */
void reclaim_event(void *arg, const struct event *e);
/* Did reclaim take the mapping of va in directory pd (EV_KERNEL_SPACE for the kernel's) in this step?
 * Without events (unwatched), any mapping may have been taken once reclaim ran. */
int reclaim_took(const struct reclaim *rc, uint32_t pd, uint32_t va, int watched);

#endif
