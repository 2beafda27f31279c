/*
 * mutex.c - uniprocessor mutexes in FreeBSD's names. Separate, never-inlined
 * functions: the rig's witness hooks them by the names the descriptor gives.
 */
#include "kernel.h"
#include "pmap.h"

/* Initialise a mutex; name is also its witness class. */
void mtx_init(struct mtx *m, const char *name, u_int opts)
{
	m->mtx_name = name;
	m->mtx_opts = opts;
	m->mtx_lock = 0;
	m->mtx_recurse = 0;
}

/* Acquire m; acquiring a held mutex that may not recurse panics. */
__noinline void mtx_lock(struct mtx *m)
{
	if (m->mtx_lock) {
		if ((m->mtx_opts & MTX_RECURSE) == 0)
			panic("mtx_lock: recursed on non-recursive mutex %s", m->mtx_name);
		m->mtx_recurse++;
		return;
	}
	m->mtx_lock = 1;
}

/* Try to acquire m without waiting: 1 if acquired, 0 if it is held. */
__noinline int mtx_trylock(struct mtx *m)
{
	if (m->mtx_lock)
		return 0;
	m->mtx_lock = 1;
	return 1;
}

/* Release m (one level, if recursed). */
__noinline void mtx_unlock(struct mtx *m)
{
	KASSERT(m->mtx_lock, ("mtx_unlock: %s not owned", m->mtx_name));
	if (m->mtx_recurse > 0) {
		m->mtx_recurse--;
		return;
	}
	m->mtx_lock = 0;
}

/* Panic unless m is held. */
__noinline void mtx_assert_owned(struct mtx *m)
{
	KASSERT(m->mtx_lock, ("mutex %s not owned", m->mtx_name));
}
