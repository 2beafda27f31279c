/*
 * witness.c - owns the lock-order graph and the host's view of held locks
 * (see witness.h). Order is kept per class, across the whole run; a lock
 * acquired again while held (recursion) adds no order; two locks of one
 * class held together (a pmap's and, in reclaim, another pmap's) add none
 * either, where FreeBSD's witness would want LOP_DUPOK.
 */
#include "witness.h"

#include <stdio.h>
#include <string.h>

#include "guestsym.h"
#include "gview.h"

static int class_by_name(struct witness *w, uint32_t lock);

/* The class of the lock at gva, remembered after its first acquisition. */
static int class_of(struct witness *w, uint32_t lock)
{
	int cls;

	for (int i = 0; i < w->nknown; i++)
		if (w->known[i].lock == lock)
			return w->known[i].cls;
	cls = class_by_name(w, lock);
	if (cls >= 0 && w->nknown < WITNESS_MAX_KNOWN)
		w->known[w->nknown++] = (typeof(w->known[0])){ lock, cls };
	return cls;
}

/*
 * The class of the lock at gva: the string its name member points to
 * (lock.name in the descriptor), or, for a guest that declares none, the
 * lock itself; -1 if unreadable.
 */
static int class_by_name(struct witness *w, uint32_t lock)
{
	const struct contract *ct = &w->m->ct;
	char name[32];

	if (!ct->has_lock_name)
		snprintf(name, sizeof(name), "lock@0x%08x", lock);
	else if (gv_ptr(w->m, lock + ct->lk_name, 4) == NULL ||
	    vread_string(&w->m->pm, machine_info(w->m)->gi_boot_cr3, 0, gv_u32(w->m, lock + ct->lk_name), name,
	    sizeof(name)) < 0)
		return -1;
	for (int i = 0; i < w->nclasses; i++)
		if (!strcmp(w->classes[i], name))
			return i;
	if (w->nclasses == WITNESS_MAX_CLASSES)
		return -1;
	snprintf(w->classes[w->nclasses], sizeof(w->classes[0]), "%s", name);
	return w->nclasses++;
}

/* "caller+0x1c <- ..." for a hook at a function's entry (EBP is the caller's). */
static void where(struct witness *w, char *buf, size_t len)
{
	uint32_t frames[RIG_MAX_FRAMES + 1], esp = machine_reg(w->m, UC_X86_REG_ESP);
	int n = 0;

	if (machine_vread(w->m, esp, &frames[0], 4) == 0)
		n = 1 + machine_backtrace(w->m, machine_reg(w->m, UC_X86_REG_EBP), frames + 1, RIG_MAX_FRAMES);
	guest_format_frames(w->m, frames, n, 0, w->m->sym_flags, buf, len);
}

/* Record a violation (the first only, unless ignored) and stop the guest. */
static void violate(struct witness *w, const char *id, const char *detail)
{
	if (w->violated || w->ignored(w->ctx, id))
		return;
	w->violated = 1;
	vfail(&w->v, id, "%s", detail);
	machine_request_stop(w->m);
}

/* The current CPU's held locks and their count. */
#define HELD(w)		((w)->held[(w)->m->cur])
#define NHELD(w)	((w)->nheld[(w)->m->cur])

/* Is there an order path from class a to class b (depth-first, bounded)? */
static int reaches(struct witness *w, int a, int b, int depth)
{
	if (a == b)
		return 1;
	for (int k = 0; depth < WITNESS_MAX_CLASSES && k < w->nclasses; k++)
		if (w->order[a][k].seen && reaches(w, k, b, depth + 1))
			return 1;
	return 0;
}

/* Add "held class h before cls", reporting a reversal if cls already precedes h.
 * The backtrace (`here`, made on first use) is only needed for a new edge. */
static void add_order(struct witness *w, int h, int cls, char *here, size_t len)
{
	const struct witness_edge *first = &w->order[cls][h];
	char detail[2048];

	if (h == cls || w->order[h][cls].seen)
		return;
	if (here[0] == '\0')
		where(w, here, len);
	if (reaches(w, cls, h, 0)) {
		char on[16] = "", then[16] = "";

		if (w->m->ncpu > 1) {
			snprintf(on, sizeof(on), " on cpu%d", w->m->cur);
			if (first->seen)
				snprintf(then, sizeof(then), " on cpu%d", first->cpu);
		}
		snprintf(detail, sizeof(detail), "lock order reversal: \"%s\" acquired while holding \"%s\"%s, at %s; "
		    "the order \"%s\" before \"%s\" was established at line %d%s, at %s", w->classes[cls],
		    w->classes[h], on, here, w->classes[cls], w->classes[h], first->seen ? first->line : 0, then,
		    first->seen ? first->where : "(through other classes)");
		violate(w, "LOCK-ORDER", detail);
	}
	w->order[h][cls].seen = 1;
	w->order[h][cls].cpu = w->m->cur;
	w->order[h][cls].line = w->line;
	snprintf(w->order[h][cls].where, sizeof(w->order[h][cls].where), "%s", here);
}

/* The held-lock slot of the lock at gva, or -1. */
static int held_index(const struct witness *w, uint32_t lock)
{
	for (int i = w->nheld[w->m->cur] - 1; i >= 0; i--)
		if (w->held[w->m->cur][i].lock == lock)
			return i;
	return -1;
}

/* May the lock at gva be acquired again while held (lock.recursable in the descriptor)? */
static int recursable(struct witness *w, uint32_t lock)
{
	const struct contract *ct = &w->m->ct;

	return ct->has_lock_recurse && (gv_scalar(w->m, lock, ct->lk_flags) & ct->lk_recurse_bit);
}

/* The lock argument of a lock function, at its entry. 0 or -1. */
static int lock_arg(struct witness *w, uint32_t *lock)
{
	return machine_vread(w->m, machine_reg(w->m, UC_X86_REG_ESP) + 4, lock, 4);
}

/* The lock at gva is now held (ordered: after the locks held, as a blocking acquire is). */
static void acquired(struct witness *w, uint32_t lock, int cls, int ordered)
{
	char here[512] = "";
	int i = held_index(w, lock);

	if (i >= 0) {
		HELD(w)[i].depth++;	/* recursion adds no order */
		return;
	}
	for (int k = 0; ordered && k < NHELD(w); k++)
		add_order(w, HELD(w)[k].cls, cls, here, sizeof(here));
	if (NHELD(w) < WITNESS_MAX_HELD)
		HELD(w)[NHELD(w)++] = (typeof(w->held[0][0])){ lock, cls, 1 };
}

/* Site at the acquire function's entry: recursion, order, then the lock is held. */
static void site_acquire(void *user, uint32_t address)
{
	struct witness *w = user;
	uint32_t lock;
	char here[512], detail[1024];
	int cls;

	(void)address;
	if (lock_arg(w, &lock) < 0 || (cls = class_of(w, lock)) < 0)
		return;
	if (held_index(w, lock) >= 0 && !recursable(w, lock)) {
		where(w, here, sizeof(here));
		snprintf(detail, sizeof(detail), "recursing on non-recursive lock \"%s\" (struct lock 0x%08x), "
		    "at %s", w->classes[cls], lock, here);
		violate(w, "LOCK-RECURSE", detail);
		return;
	}
	acquired(w, lock, cls, 1);
}

/* Site at the trylock's return: held if it succeeded (non-zero), with no order, as WITNESS does. */
static void site_try_return(void *user, uint32_t address)
{
	struct witness *w = user;
	int cls;

	if (address != w->try_ret || machine_reg(w->m, UC_X86_REG_ESP) <= w->try_esp)
		return;
	sites_del(&w->m->sites, address, site_try_return, w);
	w->try_ret = 0;
	if (machine_reg(w->m, UC_X86_REG_EAX) != 0 && (cls = class_of(w, w->try_lock)) >= 0)
		acquired(w, w->try_lock, cls, 0);
}

/* Site at the trylock's entry: learn the lock and where the call returns. */
static void site_try(void *user, uint32_t address)
{
	struct witness *w = user;
	uint32_t esp = machine_reg(w->m, UC_X86_REG_ESP), ret;

	(void)address;
	if (w->try_ret != 0 || lock_arg(w, &w->try_lock) < 0 || machine_vread(w->m, esp, &ret, 4) < 0)
		return;
	w->try_ret = ret;
	w->try_esp = esp;
	sites_add(&w->m->sites, ret, site_try_return, w);
}

/* Site at the release function's entry: the lock is no longer held once fully released. */
static void site_release(void *user, uint32_t address)
{
	struct witness *w = user;
	uint32_t lock;
	int i;

	(void)address;
	if (lock_arg(w, &lock) < 0 || (i = held_index(w, lock)) < 0 || --HELD(w)[i].depth > 0)
		return;
	memmove(&HELD(w)[i], &HELD(w)[i + 1], (NHELD(w) - i - 1) * sizeof(HELD(w)[0]));
	NHELD(w)--;
}

int witness_after_call(struct witness *w)
{
	char detail[256];

	if (NHELD(w) == 0 || w->ignored(w->ctx, "LOCK-HELD"))
		return 0;
	snprintf(detail, sizeof(detail), "the call returned with lock \"%s\" (struct lock 0x%08x) still held "
	    "(acquired %d time%s)", w->classes[HELD(w)[0].cls], HELD(w)[0].lock, HELD(w)[0].depth,
	    HELD(w)[0].depth == 1 ? "" : "s");
	NHELD(w) = 0;
	return vfail(&w->v, "LOCK-HELD", "%s", detail);
}

static int never(void *ctx, const char *id)
{
	(void)ctx, (void)id;
	return 0;
}

int witness_attach(struct witness *w, struct machine *m)
{
	const struct contract *ct = &m->ct;
	const struct elf_symbol *a = elf_find(&m->elf, ct->lock_acquire), *r = elf_find(&m->elf, ct->lock_release);
	const struct elf_symbol *t = ct->lock_trylock[0] ? elf_find(&m->elf, ct->lock_trylock) : NULL;

	memset(w, 0, sizeof(*w));
	w->m = m;
	w->ignored = never;
	if (ct->lock_acquire[0] == '\0')
		return 0;	/* no lock functions declared: nothing to witness */
	if (a == NULL || r == NULL)
		return -1;
	w->acquire = a->addr;
	w->release = r->addr;
	if (sites_add(&m->sites, a->addr, site_acquire, w) < 0 || sites_add(&m->sites, r->addr, site_release, w) < 0 ||
	    (t != NULL && sites_add(&m->sites, t->addr, site_try, w) < 0))
		return -1;
	return 0;
}

void witness_detach(struct witness *w)
{
	if (w->m != NULL)
		sites_remove(&w->m->sites, w);
}
