/*
 * runner.c - owns one scenario run: the machine booted for the file, the
 * runtime objects (pmaps and pages by name), the reference model, and the
 * step loop. Operations call the guest API; expectations and the MODEL
 * check read guest memory through gview. The first failure stops the file.
 */
#include "runner_priv.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "disasm.h"
#include "gdbstub.h"
#include "gview.h"
#include "guestcall.h"
#include "guestsym.h"
#include "invariants.h"
#include "kvamap.h"
#include "model.h"
#include "trace.h"
#include "watch.h"
#include "witness.h"


static double elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The current step as written (a random operation's text is made on demand). */
const char *step_text(struct run *r)
{
	if (r->rop != NULL && r->synth[0] == '\0')
		random_text(r, r->rop, r->synth, sizeof(r->synth));
	return r->synth[0] ? r->synth : r->step ? r->step->text : "";
}

/* Is s ":123)" or ":123, " after a source file's name ("pmap.c:123)")? The end of the number, or NULL. */
static const char *source_line(const char *s, const char *start, const char *out)
{
	const char *d = s + 1;

	if (s[0] != ':' || !isdigit((unsigned char)*d) || out - start < 3 || out[-2] != '.' ||
	    !isalpha((unsigned char)out[-1]))
		return NULL;
	while (isdigit((unsigned char)*d))
		d++;
	return *d == ')' || (d[0] == ',' && d[1] == ' ') ? d : NULL;
}

/*
 * "f+0x1c (pmap.c:12) <- g+0x8 (pmap.c:40)" -> "f (pmap.c) <- g (pmap.c)":
 * drop the code offsets after symbol names and the line numbers after
 * source files (in place).
 */
static void strip_offsets(char *s)
{
	char *start = s, *out = s;

	while (*s) {
		const char *hex = s + 3, *line = source_line(s, start, out);

		if (line != NULL) {
			s = (char *)line;
		} else if (s[0] == '+' && s[1] == '0' && s[2] == 'x' && isxdigit((unsigned char)*hex) && out > start &&
		    (isalnum((unsigned char)out[-1]) || out[-1] == '_')) {
			while (isxdigit((unsigned char)*hex))
				hex++;
			s = (char *)hex;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* Record the file's failure at the current step; returns -1. */
int failf(struct run *r, enum outcome out, const char *kind, const char *id, const char *fmt, ...)
{
	struct file_result *res = r->res;
	va_list ap;

	if (r->failed)
		return -1;
	r->failed = 1;
	res->outcome = out;
	res->line = r->step ? r->step->line : 0;
	snprintf(res->text, sizeof(res->text), "%s", step_text(r));
	snprintf(res->kind, sizeof(res->kind), "%s", kind);
	snprintf(res->id, sizeof(res->id), "%s", id ? id : "");
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	if (r->o->stable)
		strip_offsets(res->message);
	return -1;
}

/* A guest fault or panic is an event too. */
static void stop_event(struct run *r)
{
	struct event e = { .eip = r->m->stop.eip, .pd = r->m->stop.cr3 & PG_FRAME, .new = r->m->stop.cr2,
			   .old = (uint32_t)r->m->stop.vector, .msg = r->m->stop.message };

	if (!r->watching || (r->m->stop.kind != STOP_FAULT && r->m->stop.kind != STOP_PANIC))
		return;
	e.kind = r->m->stop.kind == STOP_FAULT ? EV_FAULT : EV_PANIC;
	events_emit(&r->ev, &e);
}

/* The witness's verdict on the call just made: a violation it stopped, or a lock left held. */
static int witness_verdict(struct run *r, enum stop_kind k)
{
	if (!r->checking)
		return 0;
	if (r->wit.violated)
		return report_violation(r, &r->wit.v);
	if (smp_verdict(r) < 0)
		return -1;
	if (k == STOP_RETURN && witness_after_call(&r->wit) < 0)
		return report_violation(r, &r->wit.v);
	return 0;
}

/* Call a guest function; an unexpected stop fails the file as a crash. */
int gcall(struct run *r, uint32_t fn, uint32_t *ret, int argc, ...)
{
	uint32_t argv[GUESTCALL_MAX_ARGS];
	char why[2048];
	enum stop_kind k;
	va_list ap;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, uint32_t);
	va_end(ap);
	if (r->checking)
		r->wit.line = r->step ? r->step->line : 0;
	k = guest_call(r->m, fn, argc, argv, ret);
	if (witness_verdict(r, k) < 0)
		return -1;
	if (k == STOP_RETURN)
		return 0;
	machine_describe_stop(r->m, why, sizeof(why));
	stop_event(r);
	if (r->m->stop.kind == STOP_BREAK)
		return failf(r, OUT_BREAK, "break", NULL, "%s", why);
	if (r->m->stop.kind == STOP_DEADLOCK)
		return failf(r, OUT_CRASH, "deadlock", "DEADLOCK", "%s", why);
	if (r->m->stop.kind == STOP_LIVELOCK) {
		snprintf(r->res->spin, sizeof(r->res->spin), "%s", r->m->stop.spin);
		return failf(r, OUT_CRASH, "livelock", "LIVELOCK", "%s", why);
	}
	return failf(r, OUT_CRASH, r->m->stop.kind == STOP_PANIC ? "panic" : "crash", NULL, "%s", why);
}

/* "p[3]" or "p" for a flat page index. */
const char *page_name(const struct run *r, int32_t page, char *buf, size_t len)
{
	for (int a = 0; a < r->s->narrays; a++) {
		const struct page_array *pa = &r->s->arrays[a];

		if ((uint32_t)page >= pa->first && (uint32_t)page < pa->first + pa->count) {
			if (pa->is_array)
				snprintf(buf, len, "%s[%u]", pa->name, page - pa->first);
			else
				snprintf(buf, len, "%s", pa->name);
			return buf;
		}
	}
	snprintf(buf, len, "page#%d", page);
	return buf;
}

/* The flat index of the i-th page a reference names. */
int32_t flat_page(const struct run *r, const struct pageref *ref, uint32_t i)
{
	return r->s->arrays[ref->array].first + (ref->index < 0 ? i : (uint32_t)ref->index);
}

uint32_t ref_count(const struct run *r, const struct pageref *ref)
{
	return ref->index < 0 ? r->s->arrays[ref->array].count : 1;
}

/* Show progress on a terminal, at most every quarter second. */
static void progress(struct run *r)
{
	double ms;

	if (!r->o->progress || (r->ops & 1023) != 0 || elapsed_ms(&r->last_progress) < 250)
		return;
	clock_gettime(CLOCK_MONOTONIC, &r->last_progress);
	ms = elapsed_ms(&r->t0);
	fprintf(stderr, "\r%s: %llu/%llu steps, %.0f steps/s   ", r->s->path, (unsigned long long)r->ops,
	    (unsigned long long)r->s->total_ops, ms > 0 ? r->ops * 1000.0 / ms : 0.0);
}

/* "event #N: pmap_protect+0x178: lock cmpxchg ...: PTE va=... pa=...: old -> new +flags" for a cause. */
static void format_cause(struct run *r, const struct event *e, char *buf, size_t len)
{
	char sym[512], insn[96], flags[128], cpu[16] = "";
	uint8_t *code;
	int n;

	guest_addr_name(r->m, e->eip, r->o->stable ? SYM_STABLE : 0, sym, sizeof(sym));
	if (r->m->ncpu > 1)	/* which CPU stored it */
		snprintf(cpu, sizeof(cpu), "cpu%d ", e->cpu);
	if (r->o->stable) {
		n = snprintf(buf, len, "%s%s: ", cpu, sym);
	} else {
		code = machine_kva_ptr(r->m, e->eip, 16);
		if (code == NULL || disasm_one(r->m->dis, code, 16, e->eip, insn, sizeof(insn)) == 0)
			snprintf(insn, sizeof(insn), "??");
		n = snprintf(buf, len, "event #%llu: %s%s: %s: ", (unsigned long long)e->seq, cpu, sym, insn);
	}
	if (n < 0 || (size_t)n >= len)
		return;
	if (e->kind == EV_VMPAGE_WRITE)
		snprintf(buf + n, len - (size_t)n, "vm_page %u (pa 0x%08x) aflags 0x%x -> 0x%x", e->va,
		    e->va << PAGE_SHIFT, e->old, e->new);
	else
		snprintf(buf + n, len - (size_t)n, "%s va=0x%08x pa=0x%08x: 0x%08x -> 0x%08x %s",
		    e->kind == EV_PDE_WRITE ? "PDE" : "PTE", e->va, e->pa, e->old, e->new,
		    pte_flags_diff(e->old, e->new, flags, sizeof(flags)));
}

/*
 * Remember the functions on a violation's cause path, " f g h " (for
 * `expect violation ID in FUNCTION`), the functions inlined there included.
 */
static void cause_functions(struct run *r, uint32_t eip, const uint32_t *stack, int n)
{
	char *path = r->res->cause_path;
	size_t used = (size_t)snprintf(path, sizeof(r->res->cause_path), " "), size = sizeof(r->res->cause_path);
	struct src_frame f[SRC_MAX_FRAMES];

	for (int i = -1; i < n && used < size; i++) {
		uint32_t a = i < 0 ? eip : stack[i], off;
		int flags = i < 0 ? 0 : SYM_RETURN, nf = guest_src_frames(r->m, a, flags, f, SRC_MAX_FRAMES);
		const struct elf_symbol *s = elf_symbolize(&r->m->elf, a, &off);

		for (int k = 0; k < nf && f[k].inlined && used < size; k++)
			used += (size_t)snprintf(path + used, size - used, "%s ", f[k].fn);
		if (used < size)	/* the function, without the offset */
			used += (size_t)snprintf(path + used, size - used, "%.*s ", s ? (int)strcspn(s->name, ".") : 1,
			    s ? s->name : "?");
	}
}

/* Report a violation, with the write that caused it when there is one. */
int report_violation(struct run *r, const struct violation *v)
{
	char cause[1024], callers[2048] = "";

	if (!v->has_cause)
		return failf(r, OUT_FAIL, "violation", v->id, "%s", v->detail);
	format_cause(r, &v->cause, cause, sizeof(cause));
	if (!r->failed) {
		cause_functions(r, v->cause.eip, v->stack, v->nstack);
		r->res->cause_seq = v->cause.seq;
	}
	if (v->nstack > 0)
		guest_format_frames(r->m, v->stack, v->nstack, 0, r->o->stable ? SYM_STABLE : 0, callers, sizeof(callers));
	return failf(r, OUT_FAIL, "violation", v->id, "%s\n  caused by %s%s%s", v->detail, cause,
	    callers[0] ? "\n    called from " : "", callers);
}

int blame_write(struct run *r, const struct event *e)
{
	size_t n = strlen(r->res->message);
	char cause[1024];

	format_cause(r, e, cause, sizeof(cause));
	cause_functions(r, e->eip, NULL, 0);
	r->res->cause_seq = e->seq;
	snprintf(r->res->message + n, sizeof(r->res->message) - n, "\n  caused by %s", cause);
	return -1;
}

/* The invariant checker after a step (incremental, or full if asked). */
static int invariants_step(struct run *r)
{
	struct violation v;

	if (!r->checking)
		return 0;
	if (r->o->full_checks ? checker_tlb(&r->chk, &v) == 0 && checker_full(&r->chk, &v) == 0 :
	    checker_step(&r->chk, &v) == 0)
		return 0;
	return report_violation(r, &v);
}

/* TLB-STALE alone, for cadences that check the rest later. */
static int tlb_step(struct run *r)
{
	struct violation v;

	return checker_tlb(&r->chk, &v) == 0 ? 0 : report_violation(r, &v);
}

/* Checks after an operation step, at the file's cadence. */
int after_op(struct run *r)
{
	int rc = 0;

	r->ops++;
	progress(r);
	if (r->o->after_step != NULL)
		r->o->after_step(r->o->after_ctx, r->m, r->step ? r->step->line : 0);
	if (r->o->kvamap != NULL)
		kvamap_sample(r->o->kvamap, r->m, r->ops);
	/*
	 * The invariants before MODEL: a structural rule (or a missing
	 * invalidation, checked first of all) names the cause, where MODEL
	 * would only see a translation that came out wrong.
	 */
	if (r->s->cadence == CHECK_EVERY) {
		rc = invariants_step(r);
		if (rc == 0)
			rc = model_check_step(r);
	} else {
		if (r->rc.calls > 0)
			model_forget_reclaimed(r);
		if (r->checking)
			rc = tlb_step(r);	/* judged from the step's own events: it cannot wait */
	}
	r->ntouched = 0;
	r->nkeys = 0;
	return rc;
}

/* Full checks (the `check` statement and the end of the file). */
static int full_check(struct run *r)
{
	int reclaimed = r->rc.calls > 0;
	struct violation v;

	if (r->checking && checker_full(&r->chk, &v) < 0)
		return report_violation(r, &v);
	if (!scenario_ignores(r->s, "MODEL") && model_check_all(r, reclaimed) < 0)
		return -1;
	return 0;
}

static int exec_steps(struct run *r, const struct step *v, int n);

/* Tell o->record the statement that runs now. */
static void record(struct run *r, const struct step *st)
{
	char buf[256];

	if (r->o->record == NULL)
		return;
	if (r->block != NULL) {		/* a parallel step: the whole block */
		r->o->record(r->o->record_ctx, r->block);
		return;
	}
	if (r->rop != NULL)
		random_statement(r, r->rop, buf, sizeof(buf));
	r->o->record(r->o->record_ctx, r->rop != NULL ? buf : st->text);
}

/* Announce a step on the event stream (its text: the statement or r->synth). */
void step_begin(struct run *r, const struct step *st)
{
	struct event e = { .kind = EV_STEP_BEGIN, .line = r->step->line };

	record(r, st);
	reclaim_begin_step(&r->rc);
	if (!r->watching)
		return;
	if (r->checking)
		checker_begin_step(&r->chk);
	r->ev.line = r->step->line;
	/* Events carry the step's text; format a random one only for a trace. */
	r->ev.text = e.text = r->rop == NULL ? st->text : r->o->trace ? step_text(r) : "random";
	events_emit(&r->ev, &e);
}

/* Close a step: reconcile the watched tables, announce the end. */
void step_end(struct run *r)
{
	struct event e = { .kind = EV_STEP_END, .line = r->ev.line, .text = r->ev.text };

	if (!r->watching)
		return;
	watch_sync(&r->w);
	events_emit(&r->ev, &e);
	r->ev.line = 0;
	r->ev.text = NULL;
}

/* One operation as a step: begin, execute, end, then the checks. */
int run_op(struct run *r, const struct step *op)
{
	int rc;

	step_begin(r, op);
	rc = exec_op(r, op);
	step_end(r);
	return rc < 0 ? -1 : after_op(r);
}

/* One statement of any kind. */
static int exec_step(struct run *r, const struct step *st)
{
	r->step = st;
	switch (st->kind) {
	case ST_REPEAT:
		for (uint64_t i = 0; i < st->n; i++)
			if (exec_steps(r, st->body, st->nbody) < 0)
				return -1;
		return 0;
	case ST_RANDOM:
		return exec_random(r, st);
	case ST_CHECK:
		r->ops++;
		record(r, st);
		return full_check(r);
	case ST_PARALLEL:
		return exec_parallel(r, st);
	default:
		if (st->kind >= ST_EXPECT_MAPPED) {
			int rc;

			r->ops++;
			step_begin(r, st);
			rc = do_expect(r, st);
			step_end(r);
			return rc;
		}
		return r->m->sched != NULL ? exec_on(r, st) : run_op(r, st);
	}
}

static int exec_steps(struct run *r, const struct step *v, int n)
{
	for (int i = 0; i < n; i++)
		if (exec_step(r, &v[i]) < 0)
			return -1;
	return 0;
}

/* Find every guest entry point the runner calls. */
static int resolve(struct run *r)
{
	static const char *names[] = { "rig_enter", "pmap_remove", "pmap_protect", "pmap_remove_all",
		"rig_kenter", "pmap_kremove", "pmap_clear_modify", "pmap_is_modified", "pmap_is_referenced",
		"pmap_activate", "rig_touch", "rig_touch_access", "rig_pmap_create", "rig_pmap_destroy",
		"rig_page_alloc", "rig_page_free" };
	uint32_t *slot = &r->fn.enter;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((slot[i] = guest_symbol(r->m, names[i])) == 0)
			return failf(r, OUT_CRASH, "boot", NULL, "the guest has no function %s", names[i]);
	return 0;
}

uint32_t run_pmap_cr3(struct run *r, int p)
{
	uint32_t gva = r->pmap_gva[p];

	return gva && gv_ptr(r->m, gva, r->m->ct.pmap_size) ? gv_u32(r->m, gva + r->m->ct.pm_dirpa) : 0;
}

uint32_t run_page_word(struct run *r, int32_t p, uint32_t off)
{
	return r->page_gva[p] ? gv_u32(r->m, r->page_gva[p] + off) : 0;
}

uint32_t run_page_scalar(struct run *r, int32_t p, struct ct_scalar f)
{
	return r->page_gva[p] ? gv_scalar(r->m, r->page_gva[p], f) : 0;
}

uint32_t run_page_pvlen(struct run *r, int32_t p)
{
	const struct contract *ct = &r->m->ct;
	uint32_t e = run_page_word(r, p, ct->pg_pv_list), n = 0;

	while (e != 0 && n < (r->m->pm.size >> PAGE_SHIFT) * ct->npcpv && gv_ptr(r->m, e, ct->entry_size)) {
		n++;
		e = gv_u32(r->m, e + ct->pv_link.off);
	}
	return n;
}

int run_reclaim_took(struct run *r, int p, uint32_t va)
{
	if (p == SCN_KERNEL && !r->m->ct.reclaim_kernel)
		return 0;	/* the guest declares that reclaim leaves kernel mappings alone */
	return reclaim_took(&r->rc, p == SCN_KERNEL ? EV_KERNEL_SPACE : run_pmap_cr3(r, p) & PG_FRAME, va, r->watching);
}

/* The scenario name of the pmap whose directory is at pd (for traces). */
static const char *pd_name(void *ctx, uint32_t pd)
{
	struct run *r = ctx;
	static char buf[32];

	for (int p = 0; p < r->s->npmaps; p++) {
		if (r->pmap_gva[p] != 0 && run_pmap_cr3(r, p) == pd)
			return r->s->pmap_names[p];
	}
	if (r->creating >= 0)	/* a directory being built by pmap_pinit */
		return r->s->pmap_names[r->creating];
	snprintf(buf, sizeof(buf), "pd@0x%08x", pd);
	return buf;
}

/* The checker consults the file's `ignore` statements. */
static int ignored(void *ctx, const char *id)
{
	return scenario_ignores(ctx, id);
}

/* Watch the machine; check invariants from the events; trace them if asked. */
static int start_watching(struct run *r)
{
	char err[256];

	r->ev.cpu_of = &r->m->cur;
	if (watch_attach(&r->w, r->m, &r->ev, err, sizeof(err)) < 0)
		return failf(r, OUT_CRASH, "boot", NULL, "%s", err);
	r->watching = 1;
	events_subscribe(&r->ev, reclaim_event, &r->rc);
	if (r->s->cadence != CHECK_OFF && checker_init(&r->chk, r->m) == 0) {
		r->checking = 1;
		for (int i = 0; invariant_catalog[i].id != NULL; i++)
			r->chk.ignore_mask |= (uint32_t)scenario_ignores(r->s, invariant_catalog[i].id) << i;
		events_subscribe(&r->ev, checker_event, &r->chk);
		r->chk.ad = (struct chk_ad){ .want = r->ad_want, .describe = ad_describe, .ctx = r };
		if (witness_attach(&r->wit, r->m) < 0)
			return failf(r, OUT_CRASH, "boot", NULL, "cannot hook the guest's lock functions");
		r->wit.ignored = ignored;
		r->wit.ctx = (void *)r->s;
		if (smpcheck_attach(&r->smp, r->m, &r->ev) < 0)
			return failf(r, OUT_CRASH, "boot", NULL, "cannot watch the CPUs' shootdowns");
		r->smp.ignored = ignored;
		r->smp.ctx = (void *)r->s;
	}
	if (r->o->trace != NULL) {
		struct trace_names names = { pd_name, r };

		events_subscribe(&r->ev, trace_event, r->o->trace);
		trace_start(r->o->trace, r->m, &names);
	}
	return 0;
}

static void count_insn(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	(void)uc, (void)address, (void)size;
	(*(uint64_t *)user)++;
}

/* A code hook over the guest's text that counts instructions (benchmarks). */
static void count_instructions(struct run *r)
{
	for (int i = 0; i < r->m->elf.nseg; i++) {
		const struct elf_segment *sg = &r->m->elf.seg[i];

		if (!(sg->flags & 1))	/* PF_X */
			continue;
		for (int cpu = 0; cpu < r->m->ncpu; cpu++) {
			uc_hook_add(r->m->cpu[cpu].uc, &r->insn_hook[cpu], UC_HOOK_CODE, (void *)count_insn, &r->insns,
			    (uint64_t)sg->vaddr, (uint64_t)sg->vaddr + sg->memsz - 1);
			uc_ctl_remove_cache(r->m->cpu[cpu].uc, sg->vaddr, (uint64_t)sg->vaddr + sg->memsz);
		}
	}
}

/* Boot the file's guest and set up the runtime state. */
static int start(struct run *r)
{
	char path[512], err[512];
	struct machine_config cfg = { cli_guest_path(r->s->policy, path, sizeof(path)), r->s->memory,
				      r->s->pv_chunks, r->o->timeout_ms, r->s->ncpu ? r->s->ncpu : 1 };
	uint32_t n = r->s->npages_total ? r->s->npages_total : 1;

	if (r->o->machine != NULL && !r->o->count_insns && machine_fits(r->o->machine, &cfg)) {
		r->m = r->o->machine;
		if (machine_restore(r->m) < 0)
			return failf(r, OUT_CRASH, "boot", NULL, "cannot restore the machine's snapshot");
		r->restored = 1;
	} else if (machine_open(r->m, &cfg, err, sizeof(err)) < 0)
		return failf(r, OUT_CRASH, "boot", NULL, "%s", err);
	if (smp_start(r) < 0)
		return -1;
	for (int i = 0; i < r->s->nrequires; i++)
		if (!contract_has(&r->m->ct, r->s->requires[i])) {
			snprintf(r->synth, sizeof(r->synth), "requires %s", r->s->requires[i]);
			failf(r, OUT_SKIP, "skip", NULL, "guest %s does not declare %s", r->s->policy, r->s->requires[i]);
			r->res->line = r->s->requires_line[i];
			return -1;
		}
	if (r->m->cpus_error[0] != '\0')
		return failf(r, OUT_CRASH, "boot", NULL, "%s", r->m->cpus_error);
	r->gi = machine_info(r->m);
	r->m->sym_flags = r->o->stable ? SYM_STABLE : 0;
	r->pmap_gva[SCN_KERNEL] = r->m->ct.kernel_pmap;
	if (reclaim_attach(&r->rc, r->m) < 0)
		return failf(r, OUT_CRASH, "boot", NULL, "cannot hook the guest's reclaim function %s", r->m->ct.reclaim_fn);
	r->page_gva = calloc(n, sizeof(uint32_t));
	r->page_pa = calloc(n, sizeof(uint32_t));
	r->page_freed = calloc(n, 1);
	if (r->page_gva == NULL || r->page_pa == NULL || r->page_freed == NULL ||
	    model_init(&r->model, r->s->npages_total) < 0 || ad_init(r) < 0)
		return failf(r, OUT_FAIL, "error", NULL, "out of memory");
	if (resolve(r) < 0)
		return -1;
	if (r->o->count_insns)
		count_instructions(r);
	if ((r->o->watch || r->o->trace) && start_watching(r) < 0)
		return -1;
	if (r->o->debug != NULL)
		gdbstub_attach(r->o->debug, r);
	return 0;
}

/*
 * A full check of what boot left, before step 1: a boot-time corruption is
 * a rule, not a later panic. On a machine restored from its snapshot the
 * state is the snapshot's, byte for byte, every time: the first run checks
 * it and leaves the checker's state with the machine (keyed by the rules
 * the file ignores), and later runs start from that instead of checking
 * the same bytes again (snapshot:restore-is-boot compares the outcomes).
 */
static int boot_check(struct run *r)
{
	uint32_t key = r->chk.ignore_mask;

	if (r->s->cadence == CHECK_OFF)
		return 0;
	if (r->restored && r->checking && r->m->memo != NULL && r->m->memo_key == key &&
	    checker_load(&r->chk, r->m->memo) == 0)
		return 0;
	snprintf(r->synth, sizeof(r->synth), "(after boot: full check)");
	if (full_check(r) < 0)
		return -1;
	r->synth[0] = '\0';
	if (r->restored && r->checking) {
		if (r->m->memo != NULL && r->m->memo_free != NULL)
			r->m->memo_free(r->m->memo);
		r->m->memo = checker_save(&r->chk);
		r->m->memo_free = checker_saved_free;
		r->m->memo_key = key;
	}
	return 0;
}

/* Is fn the function of a violation's cause or one of its callers? */
static int on_cause_path(const struct file_result *res, const char *fn)
{
	char word[80];

	snprintf(word, sizeof(word), " %s ", fn);
	return strstr(res->cause_path, word) != NULL;
}

/* An expected failure passes only when exactly it happened. */
static void settle_expected(const struct scenario *s, struct file_result *res)
{
	int matched;

	if ((s->expect_violation == NULL && s->expect_panic == NULL && !s->expect_livelock) || res->outcome == OUT_SKIP)
		return;
	if (s->expect_livelock)
		snprintf(res->expected, sizeof(res->expected), "livelock in %s", s->expect_in);
	else if (s->expect_violation)
		snprintf(res->expected, sizeof(res->expected), "violation %s%s%s", s->expect_violation,
		    s->expect_in[0] ? " in " : "", s->expect_in);
	else
		snprintf(res->expected, sizeof(res->expected), "panic \"%.50s\"", s->expect_panic);
	matched = s->expect_livelock ? res->outcome == OUT_CRASH && !strcmp(res->kind, "livelock") &&
	    !strcmp(res->spin, s->expect_in) : s->expect_violation ?
	    res->outcome == OUT_FAIL && !strcmp(res->kind, "violation") && !strcmp(res->id, s->expect_violation) &&
	    (s->expect_in[0] == '\0' || on_cause_path(res, s->expect_in)) :
	    res->outcome == OUT_CRASH && !strcmp(res->kind, "panic") && strstr(res->message, s->expect_panic);
	if (matched) {
		res->outcome = OUT_PASS;
		return;
	}
	if (res->outcome == OUT_PASS) {
		res->outcome = OUT_FAIL;
		res->line = s->expect_line;
		snprintf(res->kind, sizeof(res->kind), "expected-failure");
		snprintf(res->text, sizeof(res->text), "expect %s", res->expected);
		snprintf(res->message, sizeof(res->message), "the file ran to the end without the expected %s",
		    res->expected);
	}
}

enum outcome run_file(const struct scenario *s, const struct run_options *o, struct file_result *res)
{
	struct run r = { .s = s, .o = o, .res = res, .creating = -1 };

	memset(res, 0, sizeof(*res));
	r.m = &r.own;
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	r.last_progress = r.t0;
	if (start(&r) == 0) {
		struct timespec t1;
		int rc;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		rc = boot_check(&r);
		if (rc == 0)
			rc = exec_steps(&r, s->steps, s->nsteps);
		res->run_ms = elapsed_ms(&t1);
		if (rc == 0 && s->cadence != CHECK_OFF) {
			r.step = NULL;
			snprintf(r.synth, sizeof(r.synth), "(end of file: full check)");
			full_check(&r);
		}
	}
	res->insns = r.insns;
	if (o->progress)
		fprintf(stderr, "\r\033[K");
	res->ops = r.ops;
	res->ms = elapsed_ms(&r.t0);
	for (int k = 0; r.m->uc != NULL && k < CT_CNT_COUNT; k++)
		if (gv_counter(r.m, (enum ct_counter)k, &res->counters[k]) == 0)
			res->counters_kept |= 1u << k;
	if (o->kvamap != NULL && r.m->uc != NULL)
		kvamap_sample(o->kvamap, r.m, 0);	/* the final state */
	settle_expected(s, res);
	smp_report(&r);
	smp_free(&r);
	model_free(&r.model);
	ad_free(&r);
	free(r.page_gva);
	free(r.page_pa);
	free(r.page_freed);
	free(r.keys);
	if (r.checking) {
		smpcheck_detach(&r.smp);
		witness_detach(&r.wit);
		checker_free(&r.chk);
	}
	if (o->debug != NULL)
		gdbstub_detach(o->debug);
	if (r.watching)
		watch_detach(&r.w);
	reclaim_detach(&r.rc);
	if (r.m == &r.own && r.m->uc != NULL)
		machine_close(r.m);
	return res->outcome;
}

