/*
 * lock.c - a minimal uniprocessor lock.
 *
 * These are real, separate, never-inlined functions: the host's witness hooks
 * lock_acquire and lock_release by symbol to keep its lock-order graph.
 * Acquiring a held lock that does not allow recursion panics, as FreeBSD's
 * INVARIANTS kernels do.
 */
#include "kernel.h"
#include "lock.h"

/* Initialise a lock; name is also its witness class. */
void lock_init(struct lock *lk, const char *name, uint32_t flags)
{
	lk->lk_name = name;
	lk->lk_flags = flags;
	lk->lk_owned = 0;
	lk->lk_recurse = 0;
}

/* Take a lock; a second acquisition of a non-recursive lock panics. */
__noinline void lock_acquire(struct lock *lk)
{
	if (lk->lk_owned) {
		if ((lk->lk_flags & LK_RECURSE) == 0)
			panic("recursing on non-recursive lock %s", lk->lk_name);
		lk->lk_recurse++;
		return;
	}
	lk->lk_owned = 1;
}

/* Drop a lock (one level, if recursed). */
__noinline void lock_release(struct lock *lk)
{
	KASSERT(lk->lk_owned, ("lock_release: %s not held", lk->lk_name));
	if (lk->lk_recurse > 0) {
		lk->lk_recurse--;
		return;
	}
	lk->lk_owned = 0;
}

/* Panic unless the lock is held. */
__noinline void lock_assert_owned(struct lock *lk)
{
	KASSERT(lk->lk_owned, ("lock %s not owned", lk->lk_name));
}
