/*
 * reclaim.c - owns the reclaim bracket (reclaim.h): the entry site, the
 * return site while a call runs, and the step's list of mappings taken.
 */
#include "reclaim.h"

#include <stdlib.h>
#include <string.h>

#include "machine.h"

/* Site: the call's return address; it is over once ESP is above its frame. */
static void on_return(void *arg, uint32_t addr)
{
	struct reclaim *rc = arg;

	if (addr == rc->ret && machine_reg(rc->m, UC_X86_REG_ESP) > rc->esp) {
		sites_del(&rc->m->sites, addr, on_return, rc);
		rc->ret = rc->esp = 0;
	}
}

/* Site: the function's entry; bracket the call (a recursive call stays in the outer bracket). */
static void on_entry(void *arg, uint32_t addr)
{
	struct reclaim *rc = arg;
	uint32_t esp = machine_reg(rc->m, UC_X86_REG_ESP), *ret = machine_gptr(rc->m, esp, 4);

	(void)addr;
	rc->calls++;
	if (ret == NULL || rc->ret != 0)
		return;
	rc->esp = esp;
	rc->ret = *ret;
	sites_add(&rc->m->sites, rc->ret, on_return, rc);
}

int reclaim_attach(struct reclaim *rc, struct machine *m)
{
	const struct elf_symbol *s;

	memset(rc, 0, sizeof(*rc));
	rc->m = m;
	if (m->ct.reclaim_fn[0] == '\0')
		return 0;
	if ((s = elf_find(&m->elf, m->ct.reclaim_fn)) == NULL)
		return -1;
	rc->fn = s->addr;
	return sites_add(&m->sites, rc->fn, on_entry, rc);
}

void reclaim_detach(struct reclaim *rc)
{
	if (rc->m != NULL)
		sites_remove(&rc->m->sites, rc);
	free(rc->took);
	memset(rc, 0, sizeof(*rc));
}

void reclaim_begin_step(struct reclaim *rc)
{
	if (rc->ret != 0) {	/* a call that never returned (a fault, a panic) */
		sites_del(&rc->m->sites, rc->ret, on_return, rc);
		rc->ret = rc->esp = 0;
	}
	rc->calls = 0;
	rc->n = 0;
	rc->lost = 0;
}

void reclaim_event(void *arg, const struct event *e)
{
	struct reclaim *rc = arg;
	const uint32_t live = PG_V | PG_MANAGED;

	if (rc->ret == 0 || e->kind != EV_PTE_WRITE || (e->old & live) != live ||
	    ((e->new & live) == live && !((e->old ^ e->new) & PG_FRAME)))
		return;
	if (rc->n == rc->cap) {
		int cap = rc->cap ? rc->cap * 2 : 64;
		struct reclaim_take *t = realloc(rc->took, (size_t)cap * sizeof(*t));

		if (t == NULL) {
			rc->lost = 1;
			return;
		}
		rc->took = t;
		rc->cap = cap;
	}
	rc->took[rc->n++] = (struct reclaim_take){ e->pd, e->va };
}

int reclaim_took(const struct reclaim *rc, uint32_t pd, uint32_t va, int watched)
{
	if (rc->calls == 0)
		return 0;
	if (!watched || rc->lost)
		return 1;
	for (int i = 0; i < rc->n; i++)
		if (rc->took[i].pd == pd && rc->took[i].va == va)
			return 1;
	return 0;
}
