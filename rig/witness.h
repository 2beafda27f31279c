/*
 * witness.h - a host-side witness for the guest's locks, as FreeBSD's
 * witness(4): code sites on the lock functions the descriptor names
 * (acquire, release, trylock) keep each lock's state and a lock-order graph over lock classes (the lock's name: every
 * pmap lock is class "pmap") for the whole run, learned on every CPU (each
 * holds its own locks), and report LOCK-ORDER (an
 * acquisition that closes a cycle), LOCK-RECURSE (a held non-recursive lock
 * acquired again, before the guest panics) and LOCK-HELD (an API call
 * returning with a lock held).
 */
#ifndef RIG_WITNESS_H
#define RIG_WITNESS_H

#include <stdint.h>
#include <unicorn/unicorn.h>

#include "invariants.h"
#include "machine.h"

#define WITNESS_MAX_CLASSES	16
#define WITNESS_MAX_HELD	16
#define WITNESS_MAX_KNOWN	128

/* An edge "from is taken before to", with where it was first seen. */
struct witness_edge {
	int seen;
	int cpu;		/* the CPU that took them in this order */
	char where[512];	/* guest backtrace at the acquisition */
	int line;		/* scenario line */
};

struct witness {
	struct machine *m;
	uint32_t acquire, release;	/* guest function addresses */
	uint32_t try_lock, try_ret, try_esp;	/* during a trylock call: its lock, return address, frame */
	char classes[WITNESS_MAX_CLASSES][32];
	int nclasses;
	struct witness_edge order[WITNESS_MAX_CLASSES][WITNESS_MAX_CLASSES];
	/* per CPU: the locks it holds (depth: acquisitions) */
	struct { uint32_t lock; int cls, depth; } held[RIG_MAX_CPUS][WITNESS_MAX_HELD];
	int nheld[RIG_MAX_CPUS];
	struct { uint32_t lock; int cls; } known[WITNESS_MAX_KNOWN];	/* lock -> class */
	int nknown;
	int (*ignored)(void *ctx, const char *id);
	void *ctx;
	int line;			/* current scenario line, for reports */
	struct violation v;		/* the first violation seen */
	int violated;
};

int witness_attach(struct witness *w, struct machine *m);
void witness_detach(struct witness *w);
/* After an API call returned: LOCK-HELD if a lock is still held. 0 or -1 (w->v). */
int witness_after_call(struct witness *w);

#endif
