/*
 * lock.c - a spin lock, for several CPUs.
 *
 * These are real, separate, never-inlined functions: the host's witness hooks
 * lock_acquire and lock_release by symbol to keep its lock-order graph.
 * lk_owned is 0 when free, else the owning CPU's number + 1; it is taken
 * with lock cmpxchg and waited for with `pause`, where the host may run
 * another CPU. Acquiring a lock this CPU holds panics unless the lock
 * allows recursion, as FreeBSD's INVARIANTS kernels do.
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

/* Take a lock, spinning while another CPU holds it; recursion panics unless allowed. */
__noinline void lock_acquire(struct lock *lk)
{
	u_int me = curcpu() + 1;

	if (lk->lk_owned == me) {
		if ((lk->lk_flags & LK_RECURSE) == 0)
			panic("recursing on non-recursive lock %s", lk->lk_name);
		lk->lk_recurse++;
		return;
	}
	while (!atomic_cmpset_int(&lk->lk_owned, 0, me))
		cpu_spinwait();
}

/* Drop a lock (one level, if recursed). */
__noinline void lock_release(struct lock *lk)
{
	KASSERT(lk->lk_owned == curcpu() + 1, ("lock_release: %s not held", lk->lk_name));
	if (lk->lk_recurse > 0) {
		lk->lk_recurse--;
		return;
	}
	__atomic_store_n(&lk->lk_owned, 0, __ATOMIC_RELEASE);
}

/* Panic unless this CPU holds the lock. */
__noinline void lock_assert_owned(struct lock *lk)
{
	KASSERT(lk->lk_owned == curcpu() + 1, ("lock %s not owned", lk->lk_name));
}
