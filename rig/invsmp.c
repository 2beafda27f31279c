/*
 * invsmp.c - owns TLB-SHOOTDOWN and SHOOTDOWN-SET (see invsmp.h): the
 * entries each CPU's call wrote, checked against the other CPUs' TLB
 * models when the call returns; each IPI's CPU set against the CPUs with
 * the pmap in CR3; each acknowledgement against the invalidations its CPU
 * ran since the IPI came.
 */
#include "invsmp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gview.h"
#include "guestsym.h"
#include "scheduler.h"

#define SMP_MAX_WRITTEN	4096

/* Record the first violation (unless ignored) and stop the run. */
static void violate(struct smpcheck *c, const char *id, const char *detail)
{
	if (c->violated || c->ignored(c->ctx, id))
		return;
	c->violated = 1;
	vfail(&c->v, id, "%s", detail);
	machine_request_stop(c->m);
}

/* Where CPU cpu is: "at f+0x1c (f.c:12) <- g+0x40 ...", or "idle". */
static void cpu_state(struct smpcheck *c, int cpu, int idle, char *buf, size_t len)
{
	struct machine *m = c->m;
	uint32_t frames[RIG_MAX_FRAMES + 1];
	int n, save = m->cur;

	if (idle) {
		snprintf(buf, len, "idle, CR3 0x%08x", machine_cpu_reg(m, cpu, UC_X86_REG_CR3));
		return;
	}
	machine_set_cpu(m, cpu);
	frames[0] = machine_reg(m, UC_X86_REG_EIP);
	n = 1 + machine_backtrace(m, machine_reg(m, UC_X86_REG_EBP), frames + 1, RIG_MAX_FRAMES);
	snprintf(buf, len, "at ");
	guest_format_frames(m, frames, n, 1, m->sym_flags, buf + 3, len - 3);
	machine_set_cpu(m, save);
}

/* The event sink: remember which PTEs and PDEs each CPU's call writes. */
static void on_event(void *arg, const struct event *e)
{
	struct smpcheck *c = arg;
	int cpu = e->cpu;

	if ((e->kind != EV_PTE_WRITE && e->kind != EV_PDE_WRITE) || cpu < 0 || cpu >= RIG_MAX_CPUS || c->overflow[cpu])
		return;
	for (int i = c->nwritten[cpu] - 1; i >= 0 && i >= c->nwritten[cpu] - 8; i--)
		if (c->written[cpu][i] == e->pa)
			return;
	if (c->nwritten[cpu] == c->capwritten[cpu]) {
		int cap = c->capwritten[cpu] ? c->capwritten[cpu] * 2 : 64;
		uint32_t *v = cap <= SMP_MAX_WRITTEN ? realloc(c->written[cpu], cap * sizeof(*v)) : NULL;

		if (v == NULL) {
			c->overflow[cpu] = 1;
			return;
		}
		c->written[cpu] = v;
		c->capwritten[cpu] = cap;
	}
	c->written[cpu][c->nwritten[cpu]++] = e->pa;
}

/* Did CPU cpu's call write the entry at pa? */
static int wrote(const struct smpcheck *c, int cpu, uint32_t pa)
{
	if (c->overflow[cpu])
		return 1;
	for (int i = 0; i < c->nwritten[cpu]; i++)
		if (c->written[cpu][i] == pa)
			return 1;
	return 0;
}

/* TLB-SHOOTDOWN: CPU cpu's call returned; no other CPU may cache what it changed. */
static void on_returned(void *arg, int cpu, uint32_t fn)
{
	struct smpcheck *c = arg;
	struct machine *m = c->m;
	char detail[2048], here[512], there[512], flags[32];
	struct walk now;

	for (int d = 0; d < m->ncpu && !c->violated; d++) {
		const struct mmu *u = &m->cpu[d].mmu;
		const struct tlb_entry *e, *worst = NULL;
		const char *why = NULL, *r;
		uint32_t i = 0, cr3 = machine_cpu_reg(m, d, UC_X86_REG_CR3), cr4 = machine_cpu_reg(m, d, UC_X86_REG_CR4);

		if (d == cpu)
			continue;
		while ((e = mmu_next(u, &i)) != NULL)
			if ((wrote(c, cpu, e->pte_pa) || wrote(c, cpu, e->pde_pa)) &&
			    (r = mmu_entry_stale(u, e, cr3, cr4, &now)) != NULL && (worst == NULL || e->vpage < worst->vpage))
				worst = e, why = r;
		if (worst == NULL)
			continue;
		cpu_state(c, d, !sched_busy(m->sched, d), there, sizeof(there));
		guest_addr_name(m, fn, m->sym_flags | SYM_STABLE, here, sizeof(here));
		snprintf(detail, sizeof(detail), "va 0x%08x: cpu%d still caches its translation to frame 0x%05x (PTE "
		    "0x%08x when filled,%s) after a call on cpu%d changed it (%s) and returned: no shootdown reached cpu%d"
		    "; cpu%d returned from %s; cpu%d is %s", worst->vpage << PAGE_SHIFT, d, worst->frame, worst->pte,
		    tlb_flags_text(worst->flags, flags, sizeof(flags)), cpu, why, d, cpu, here, d, there);
		violate(c, "TLB-SHOOTDOWN", detail);
	}
	c->nwritten[cpu] = 0;
	c->overflow[cpu] = 0;
}

/* SHOOTDOWN-SET, at the send: every other CPU with the pmap in CR3 must be in the set. */
static void on_ipi(void *arg, int from, uint32_t cpus, uint32_t va, uint32_t pmap)
{
	struct smpcheck *c = arg;
	struct machine *m = c->m;
	const struct contract *ct = &m->ct;
	int kernel = pmap == ct->kernel_pmap;
	uint32_t dir = kernel ? 0 : gv_u32(m, pmap + ct->pm_dirpa) & PG_FRAME;
	char detail[2048], here[512], there[512], what[64];

	for (int d = 0; d < m->ncpu; d++) {
		uint32_t cr3 = machine_cpu_reg(m, d, UC_X86_REG_CR3) & PG_FRAME;

		if (d == from || (cpus & (1u << d)) || (!kernel && cr3 != dir))
			continue;
		cpu_state(c, from, 0, here, sizeof(here));
		cpu_state(c, d, !sched_busy(m->sched, d), there, sizeof(there));
		if (va == RIG_IPI_ALL)
			snprintf(what, sizeof(what), "a whole-TLB shootdown");
		else
			snprintf(what, sizeof(what), "the shootdown of va 0x%08x", va);
		snprintf(detail, sizeof(detail), "cpu%d sent %s in %s pmap 0x%08x to CPU set 0x%x, without cpu%d, where "
		    "the pmap is active (CR3 0x%08x); cpu%d is %s; cpu%d is %s", from, what, kernel ? "the kernel" : "the",
		    pmap, cpus, d, cr3, from, here, d, there);
		violate(c, "SHOOTDOWN-SET", detail);
		return;
	}
}

/* SHOOTDOWN-SET, at an acknowledgement: the invalidation must have run. */
static void on_ack(void *arg, int cpu, int invalidated, uint32_t va)
{
	struct smpcheck *c = arg;
	char detail[1024], here[512];

	if (invalidated)
		return;
	cpu_state(c, cpu, 0, here, sizeof(here));
	snprintf(detail, sizeof(detail), "cpu%d acknowledged the shootdown of va 0x%08x before invalidating it (no "
	    "INVLPG of that page or CR3 load since the IPI came): the sender may go on while cpu%d still uses the "
	    "old translation; cpu%d is %s", cpu, va, cpu, cpu, here);
	violate(c, "SHOOTDOWN-SET", detail);
}

static int never(void *ctx, const char *id)
{
	(void)ctx, (void)id;
	return 0;
}

int smpcheck_attach(struct smpcheck *c, struct machine *m, struct events *ev)
{
	struct sched_observer o = { on_returned, on_ipi, on_ack, c };

	memset(c, 0, sizeof(*c));
	c->m = m;
	c->ignored = never;
	if (m->sched == NULL)
		return 0;
	if (events_subscribe(ev, on_event, c) < 0)
		return -1;
	sched_observe(m->sched, &o);
	return 0;
}

void smpcheck_detach(struct smpcheck *c)
{
	if (c->m != NULL && c->m->sched != NULL)
		sched_observe(c->m->sched, NULL);
	for (int i = 0; i < RIG_MAX_CPUS; i++)
		free(c->written[i]);
	memset(c, 0, sizeof(*c));
}
