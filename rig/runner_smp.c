/*
 * runner_smp.c - the runner's several CPUs: the file's schedule, `on CPU`,
 * parallel steps, random's groups of concurrent operations, the SMP rules'
 * verdicts and the schedule a failure prints.
 *
 * A parallel step runs each operation's host code (the same code as a
 * step of its own: runner_ops.c) as a fiber of its own: an operation runs
 * until its next guest call, which it leaves with the scheduler; once every
 * operation waits (or finished), the scheduler runs the CPUs until one
 * call returns, and that operation's fiber goes on. So the host's state is
 * touched in an order the schedule fixes, Unicorn is driven from one
 * thread, and the guest calls of different CPUs really interleave.
 */
#include "runner_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "guestcall.h"
#include "scheduler.h"

#define REPORT_SWITCHES	6	/* switches a failure's message shows */
#define PAR_STACK	(1u << 20)	/* an operation's host stack (its code is the runner's) */

int smp_start(struct run *r)
{
	static const enum sched_policy policy[] = { SCHED_ROUNDROBIN, SCHED_RANDOM, SCHED_REPLAY };
	const struct scenario *s = r->s;

	if (r->m->sched == NULL)
		return 0;
	if (sched_policy(r->m->sched, policy[s->schedule], s->quantum, s->sched_seed, s->replay, s->nreplay) < 0)
		return failf(r, OUT_FAIL, "error", NULL, "out of memory");
	return 0;
}

/* The CPU a step runs on (the boot CPU unless `on CPU`). */
static void step_cpu(struct run *r, int cpu)
{
	machine_set_cpu(r->m, cpu < r->m->ncpu ? cpu : 0);
	if (r->m->sched != NULL)
		sched_line(r->m->sched, r->step != NULL ? r->step->line : 0);
}

int exec_on(struct run *r, const struct step *st)
{
	int rc;

	step_cpu(r, st->cpu);
	rc = run_op(r, st);
	step_cpu(r, 0);
	return rc;
}

/*
 * Stack switches, told to AddressSanitizer when it is on (its fake stacks
 * and shadow follow the fibers), nothing otherwise.
 */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define FIBER_START(save, bottom, size)	__sanitizer_start_switch_fiber((save), (bottom), (size))
#define FIBER_FINISH(save, bottom, size) __sanitizer_finish_switch_fiber((save), (bottom), (size))
#else
#define FIBER_START(save, bottom, size)	((void)(save), (void)(bottom), (void)(size))
#define FIBER_FINISH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

/*
 * Save the running context in save and continue at to: swapcontext made of
 * getcontext and setcontext (libasan's swapcontext interceptor warns on
 * every process; the switches are told to ASan by the FIBER_* calls).
 */
static void switch_context(ucontext_t *save, const ucontext_t *to)
{
	volatile int resumed = 0;

	getcontext(save);
	if (!resumed) {
		resumed = 1;
		setcontext(to);
	}
}

/* One operation of a parallel step, and where it is. */
struct par_op {
	const struct step *st;
	int cpu, rc;
	enum { P_NEW, P_RUN, P_CALL, P_DONE } state;
	int started;
	uint32_t eip, esp;
	enum stop_kind k;
	ucontext_t ctx;
	void *stack;
	void *fake;			/* ASan's fake stack of this fiber while it is away */
	struct par *p;
};

struct par {
	struct run *r;
	ucontext_t main;		/* the scheduler's side */
	void *main_fake;
	const void *main_bottom;	/* the scheduler's stack (for ASan) */
	size_t main_size;
	int holder;			/* the operation running now */
	int n;
	struct par_op op[RIG_MAX_CPUS];
};

/* From an operation back to the scheduler (done: the operation finished, for good). */
static void to_scheduler(struct par *p, struct par_op *o, int done)
{
	FIBER_START(done ? NULL : &o->fake, p->main_bottom, p->main_size);
	switch_context(&o->ctx, &p->main);
	FIBER_FINISH(o->fake, &p->main_bottom, &p->main_size);
}

/* machine_run during a parallel step: leave the call with the scheduler and wait for its return. */
static enum stop_kind par_call(void *arg, uint32_t eip, uint32_t esp)
{
	struct par *p = arg;
	struct par_op *o = &p->op[p->holder];

	o->eip = eip;
	o->esp = esp;
	o->started = 0;
	o->state = P_CALL;
	to_scheduler(p, o, 0);
	o->state = P_RUN;
	return o->k;
}

/* An operation's fiber: its host code, which runs until each guest call. */
static void par_main(unsigned lo, unsigned hi)
{
	struct par_op *o = (struct par_op *)(((uintptr_t)hi << 16 << 16) | lo);
	struct par *p = o->p;

	FIBER_FINISH(NULL, &p->main_bottom, &p->main_size);
	o->state = P_RUN;
	o->rc = exec_op(p->r, o->st);
	o->state = P_DONE;
	to_scheduler(p, o, 1);
}

/* The fiber of operation o, to start at par_main on stack (PAR_STACK bytes). 0 or -1. */
static int make_fiber(struct par_op *o, void *stack)
{
	uintptr_t self = (uintptr_t)o;

	if ((o->stack = stack) == NULL || getcontext(&o->ctx) < 0)
		return -1;
	o->ctx.uc_stack.ss_sp = o->stack;
	o->ctx.uc_stack.ss_size = PAR_STACK;
	o->ctx.uc_link = NULL;
	makecontext(&o->ctx, (void (*)(void))par_main, 2, (unsigned)(self & 0xffffffffu), (unsigned)(self >> 16 >> 16));
	return 0;
}

/* Run operation i on its CPU until its next call or its end, with its call's outcome k. */
static void resume(struct par *p, int i, enum stop_kind k)
{
	struct par_op *o = &p->op[i];

	o->k = k;
	p->holder = i;
	if (o->st->line != 0)	/* a file's parallel block: failures name the operation's line */
		p->r->step = o->st;
	machine_set_cpu(p->r->m, o->cpu);
	FIBER_START(&p->main_fake, o->stack, PAR_STACK);
	switch_context(&p->main, &o->ctx);
	FIBER_FINISH(p->main_fake, NULL, NULL);
}

/* Start every call left with the scheduler; how many calls are in flight. */
static int start_calls(struct par *p)
{
	int flying = 0;

	for (int i = 0; i < p->n; i++) {
		struct par_op *o = &p->op[i];

		if (o->state == P_CALL && !o->started) {
			sched_start(p->r->m->sched, o->cpu, o->eip, o->esp);
			o->started = 1;
		}
		flying += o->state == P_CALL;
	}
	return flying;
}

/* Run until every operation finished. */
static void par_loop(struct par *p)
{
	struct machine *m = p->r->m;

	for (int i = 0; i < p->n; i++)
		resume(p, i, STOP_RETURN);	/* each runs to its first call */
	while (start_calls(p) > 0) {
		int done;
		enum stop_kind k = sched_run_some(m->sched, &done);

		if (k == STOP_RETURN || done >= 0) {	/* a call returned, or faulted or panicked alone */
			for (int i = 0; i < p->n; i++)
				if (p->op[i].state == P_CALL && p->op[i].cpu == done) {
					resume(p, i, k);
					break;
				}
			continue;
		}
		/* Every call in flight died with the machine's stop; the stopped CPU's operation reports it. */
		for (int pass_no = 0; pass_no < 2; pass_no++)
			for (int i = 0; i < p->n; i++)
				if (p->op[i].state == P_CALL && (p->op[i].cpu == m->stop.cpu) == (pass_no == 0))
					resume(p, i, k);
	}
}

/*
 * Run the operations ops[0..n-1] at once, each on its own CPU (cpus[i]),
 * each as a fiber (ucontext) of this thread: Unicorn is only ever driven
 * from here, and a switch costs no system call but the signal mask's.
 */
int run_concurrently(struct run *r, const struct step *const *ops, const int *cpus, int n)
{
	struct par *p = calloc(1, sizeof(*p));
	const struct step *home = r->step;
	int rc = 0;

	if (p == NULL)
		return failf(r, OUT_FAIL, "error", NULL, "out of memory");
	p->r = r;
	p->n = n;
	for (int i = 0; i < n && rc == 0; i++) {
		p->op[i] = (struct par_op){ .st = ops[i], .cpu = cpus[i], .p = p, .state = P_NEW };
		if (r->fiber_stack[i] == NULL)	/* made once per file, for the operation in slot i */
			r->fiber_stack[i] = malloc(PAR_STACK);
		if (make_fiber(&p->op[i], r->fiber_stack[i]) < 0)
			rc = failf(r, OUT_FAIL, "error", NULL, "cannot make a fiber for a parallel operation");
	}
	r->m->run_hook = par_call;
	r->m->run_arg = p;
	if (rc == 0)
		par_loop(p);
	r->m->run_hook = NULL;
	for (int i = 0; i < n; i++)
		if (p->op[i].rc < 0)
			rc = -1;
	free(p);
	r->step = home;
	step_cpu(r, 0);
	return rc;
}

/* TLB-STALE on every CPU that ran an operation of the step but the current one. */
static int tlb_others(struct run *r, const int *cpus, int n)
{
	struct violation v;
	int home = r->m->cur, rc = 0;

	for (int i = 0; i < n && rc == 0 && r->checking; i++) {
		if (cpus[i] == home)
			continue;
		machine_set_cpu(r->m, cpus[i]);
		if (checker_tlb(&r->chk, &v) != 0)
			rc = report_violation(r, &v);
	}
	machine_set_cpu(r->m, home);
	return rc;
}

/* A parallel step of ops already chosen: one step on the event stream, then the checks. */
int parallel_step(struct run *r, const struct step *st, const struct step *const *ops, const int *cpus, int n,
    const char *block)
{
	int rc;

	r->block = block;
	step_begin(r, st);
	r->block = NULL;
	if (r->m->sched != NULL)
		sched_line(r->m->sched, st->line);
	for (int i = 0; i < n; i++) {	/* each CPU's events name its own operation */
		r->ev.cpu_line[cpus[i]] = ops[i]->line;
		r->ev.cpu_text[cpus[i]] = ops[i]->text;
	}
	rc = run_concurrently(r, ops, cpus, n);
	memset(r->ev.cpu_line, 0, sizeof(r->ev.cpu_line));
	step_end(r);
	if (rc == 0)
		rc = tlb_others(r, cpus, n);
	r->ops += (uint64_t)n - 1;	/* steps count operations: after_op counts one */
	return rc < 0 ? -1 : after_op(r);
}

int exec_parallel(struct run *r, const struct step *st)
{
	const struct step *ops[RIG_MAX_CPUS];
	int cpus[RIG_MAX_CPUS], n = st->nbody < RIG_MAX_CPUS ? st->nbody : RIG_MAX_CPUS;
	char block[4096];
	size_t used = (size_t)snprintf(block, sizeof(block), "parallel {");

	for (int i = 0; i < n; i++) {
		ops[i] = &st->body[i];
		cpus[i] = st->body[i].cpu;
		if (used < sizeof(block))
			used += (size_t)snprintf(block + used, sizeof(block) - used, "\n  %s", st->body[i].text);
	}
	if (used < sizeof(block))
		snprintf(block + used, sizeof(block) - used, "\n}");
	return parallel_step(r, st, ops, cpus, n, block);
}

void smp_free(struct run *r)
{
	for (int i = 0; i < RIG_MAX_CPUS; i++) {
		free(r->fiber_stack[i]);
		r->fiber_stack[i] = NULL;
	}
}

/* The SMP rules' verdict on the run just stopped: a violation they found, reported. */
int smp_verdict(struct run *r)
{
	return r->checking && r->smp.violated ? report_violation(r, &r->smp.v) : 0;
}

/* A failed file with several CPUs: the schedule's last switches in the message, and all of them saved. */
void smp_report(struct run *r)
{
	struct file_result *res = r->res;
	const struct sched_switch *v;
	char line[1024];
	int n;
	size_t used;
	FILE *f;

	if (r->m == NULL || r->m->sched == NULL || res->outcome == OUT_PASS || res->outcome == OUT_SKIP)
		return;
	v = sched_switches(r->m->sched, &n);
	if (n == 0)
		return;		/* one CPU ran at a time: the file itself is the schedule */
	used = strlen(res->message);
	used += (size_t)snprintf(res->message + used, sizeof(res->message) - used, "\n  schedule: %d switch%s%s", n,
	    n == 1 ? "" : "es", n > REPORT_SWITCHES ? ", the last ones:" : ":");
	for (int i = n > REPORT_SWITCHES ? n - REPORT_SWITCHES : 0; i < n && used < sizeof(res->message); i++) {
		sched_format_switch(r->m, &v[i], line, sizeof(line));
		used += (size_t)snprintf(res->message + used, sizeof(res->message) - used, "\n    %s", line);
	}
	if (r->o->save_schedule == NULL || (f = fopen(r->o->save_schedule, "w")) == NULL)
		return;
	sched_write_replay(r->m, f);
	fclose(f);
}
