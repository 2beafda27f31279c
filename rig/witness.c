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

/* The class (by the lock's name) of the lock at gva; -1 if unreadable. */
static int class_by_name(struct witness *w, uint32_t lock)
{
	struct lock *lk = GV(w->m, struct lock, lock);
	char name[32];

	if (lk == NULL || vread_string(&w->m->pm, machine_info(w->m)->gi_boot_cr3, 0, lk->lk_name, name,
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
	machine_format_frames(w->m, frames, n, buf, len);
}

/* Record a violation (the first only, unless ignored) and stop the guest. */
static void violate(struct witness *w, const char *id, const char *detail)
{
	if (w->violated || w->ignored(w->ctx, id))
		return;
	w->violated = 1;
	w->v.id = id;
	w->v.has_cause = 0;
	w->v.nstack = 0;
	snprintf(w->v.detail, sizeof(w->v.detail), "%s", detail);
	machine_request_stop(w->m);
}

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
		snprintf(detail, sizeof(detail), "lock order reversal: \"%s\" acquired while holding \"%s\", at %s; "
		    "the order \"%s\" before \"%s\" was established at line %d, at %s", w->classes[cls],
		    w->classes[h], here, w->classes[cls], w->classes[h], first->seen ? first->line : 0,
		    first->seen ? first->where : "(through other classes)");
		violate(w, "LOCK-ORDER", detail);
	}
	w->order[h][cls].seen = 1;
	w->order[h][cls].line = w->line;
	snprintf(w->order[h][cls].where, sizeof(w->order[h][cls].where), "%s", here);
}

/* Site at lock_acquire's entry: recursion, order, then the lock is held. */
static void site_acquire(void *user, uint32_t address)
{
	struct witness *w = user;
	uint32_t lock, esp = machine_reg(w->m, UC_X86_REG_ESP);
	struct lock *lk;
	char here[512], detail[1024];
	int cls;

	(void)address;
	if (machine_vread(w->m, esp + 4, &lock, 4) < 0 || (lk = GV(w->m, struct lock, lock)) == NULL ||
	    (cls = class_of(w, lock)) < 0)
		return;
	here[0] = '\0';
	if (lk->lk_owned) {
		if (!(lk->lk_flags & LK_RECURSE)) {
			where(w, here, sizeof(here));
			snprintf(detail, sizeof(detail), "recursing on non-recursive lock \"%s\" (struct lock 0x%08x), "
			    "at %s", w->classes[cls], lock, here);
			violate(w, "LOCK-RECURSE", detail);
		}
		return;		/* recursion adds no order */
	}
	for (int i = 0; i < w->nheld; i++)
		add_order(w, w->held[i].cls, cls, here, sizeof(here));
	if (w->nheld < WITNESS_MAX_HELD)
		w->held[w->nheld++] = (typeof(w->held[0])){ lock, cls };
}

/* Site at lock_release's entry: the lock is no longer held once fully released. */
static void site_release(void *user, uint32_t address)
{
	struct witness *w = user;
	uint32_t lock, esp = machine_reg(w->m, UC_X86_REG_ESP);
	struct lock *lk;

	(void)address;
	if (machine_vread(w->m, esp + 4, &lock, 4) < 0 || (lk = GV(w->m, struct lock, lock)) == NULL ||
	    lk->lk_recurse > 0)
		return;
	for (int i = w->nheld - 1; i >= 0; i--)
		if (w->held[i].lock == lock) {
			memmove(&w->held[i], &w->held[i + 1], (w->nheld - i - 1) * sizeof(w->held[0]));
			w->nheld--;
			return;
		}
}

int witness_after_call(struct witness *w)
{
	char detail[256];
	struct lock *lk;

	if (w->nheld == 0 || w->ignored(w->ctx, "LOCK-HELD"))
		return 0;
	lk = GV(w->m, struct lock, w->held[0].lock);
	snprintf(detail, sizeof(detail), "the call returned with lock \"%s\" (struct lock 0x%08x) still held "
	    "(lk_owned %u)", w->classes[w->held[0].cls], w->held[0].lock, lk ? lk->lk_owned : 0);
	w->nheld = 0;
	w->v.id = "LOCK-HELD";
	w->v.has_cause = 0;
	w->v.nstack = 0;
	snprintf(w->v.detail, sizeof(w->v.detail), "%s", detail);
	return -1;
}

static int never(void *ctx, const char *id)
{
	(void)ctx, (void)id;
	return 0;
}

int witness_attach(struct witness *w, struct machine *m)
{
	const struct elf_symbol *a = elf_find(&m->elf, "lock_acquire"), *r = elf_find(&m->elf, "lock_release");

	memset(w, 0, sizeof(*w));
	w->m = m;
	w->ignored = never;
	if (a == NULL || r == NULL)
		return -1;
	w->acquire = a->addr;
	w->release = r->addr;
	if (sites_add(&m->sites, a->addr, site_acquire, w) < 0 || sites_add(&m->sites, r->addr, site_release, w) < 0)
		return -1;
	return 0;
}

void witness_detach(struct witness *w)
{
	if (w->m != NULL)
		sites_remove(&w->m->sites, w);
}
