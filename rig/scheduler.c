/*
 * scheduler.c - owns the CPUs' turns: which CPU runs, where it is stopped for
 * another, the IPIs in flight, the switch log and its replay, and the
 * DEADLOCK verdict. See scheduler.h.
 *
 * Mechanics (verified in ../shared/notes/unicorn.md): the guest text has
 * one code hook per engine (sites.c calls the gate around each
 * instruction's sites). A switch stops the engine from the gate after the
 * sites ran, before the instruction; resuming there fires the hook again,
 * so the gate skips that instruction once. Nothing here ever stops an
 * engine from a memory callback. An IPI is taken at the target's next
 * instruction, before its sites, so an interrupted instruction's sites run
 * once, after the handler's iret.
 */
#include "scheduler.h"

#include <capstone/capstone.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "disasm.h"
#include "guestsym.h"
#include "util.h"

#define SCHED_MAX_LOG	(4u << 20)	/* switches kept; past this a run cannot be replayed */
#define SCHED_MAX_FILE	(256 << 20)	/* bytes of a replay file */
#define SPIN_WINDOW	64		/* a CPU that paused this recently is spinning */

enum task { T_IDLE, T_CALL, T_IPI };

/* A store instruction: where it writes. */
struct store {
	uint32_t addr;
	int base, index;	/* Unicorn registers, 0 = none */
	uint32_t scale, disp;
	int edi;		/* a string store: at EDI */
};

struct scpu {
	enum task task;
	uint32_t fn;			/* T_CALL: the function called */
	uint64_t insns;			/* instructions reached (the replay's clock) */
	uint64_t last_pause;		/* insns at its last `pause` + 1; 0 = never */
	int32_t quantum_left;
	int skip;			/* resuming at skip_at: its sites already ran */
	uint32_t skip_at;
	int ipi_pending, in_ipi;
	uint32_t ipi_va;
	uint64_t inv_seq0;		/* its MMU's invalidations when the IPI came */
};

struct sched {
	struct machine *m;
	enum sched_policy policy;
	uint32_t quantum;
	uint64_t rng;
	struct sched_switch *replay;
	int nreplay, ri;
	struct scpu cpu[RIG_MAX_CPUS];
	uint8_t *kind;			/* per text byte: enum point_kind of the instruction there */
	struct store *stores;		/* sorted by address */
	int nstores;
	struct sched_switch *log;
	int nlog, caplog, overflowed;
	int line;
	int next, stopping, deliver, deadlock;
	uint32_t spins;			/* pauses in a row with every runnable CPU spinning */
	struct sched_observer obs;
	int obs_stop;			/* an observer asked to end the run */
};

/* xorshift64*: the random policy's numbers (the same for a seed on every machine). */
static uint64_t rng_next(struct sched *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ull;
}

/* Does CPU cpu have something to run: a call, or an IPI to take? */
static int runnable(const struct sched *s, int cpu)
{
	const struct scpu *c = &s->cpu[cpu];

	return c->task != T_IDLE || (c->ipi_pending && !c->in_ipi);
}

/* The next runnable CPU after cpu, round the ring (cpu itself last); -1 if none. */
static int next_runnable(const struct sched *s, int cpu)
{
	for (int k = 1; k <= s->m->ncpu; k++) {
		int c = (cpu + k) % s->m->ncpu;

		if (runnable(s, c))
			return c;
	}
	return -1;
}

/* A uniformly random runnable CPU. */
static int random_runnable(struct sched *s)
{
	int v[RIG_MAX_CPUS], n = 0;

	for (int c = 0; c < s->m->ncpu; c++)
		if (runnable(s, c))
			v[n++] = c;
	return n == 0 ? -1 : v[rng_next(s) % (uint64_t)n];
}

/* Classify one instruction for the point table (and the store list). */
static enum point_kind classify(const cs_insn *in, struct store *st)
{
	const cs_x86 *x = &in->detail->x86;

	memset(st, 0, sizeof(*st));
	st->addr = (uint32_t)in->address;
	if (in->id == X86_INS_PAUSE)
		return PT_PAUSE;
	if (in->id == X86_INS_INVLPG)
		return PT_INVLPG;
	if (in->id == X86_INS_OUT)
		return PT_OUT;
	if (in->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
	    (x->operands[0].reg == X86_REG_CR0 || x->operands[0].reg == X86_REG_CR3 || x->operands[0].reg == X86_REG_CR4))
		return PT_CR;
	if (x->prefix[0] == X86_PREFIX_LOCK || (in->id == X86_INS_XCHG && x->op_count == 2 &&
	    (x->operands[0].type == X86_OP_MEM || x->operands[1].type == X86_OP_MEM)))
		return PT_ATOMIC;
	if (in->id == X86_INS_STOSB || in->id == X86_INS_STOSW || in->id == X86_INS_STOSD ||
	    in->id == X86_INS_MOVSB || in->id == X86_INS_MOVSW || in->id == X86_INS_MOVSD) {
		st->edi = 1;
		return PT_STORE;
	}
	for (int i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && (x->operands[i].access & CS_AC_WRITE) &&
		    in->id != X86_INS_PUSH && in->id != X86_INS_CALL) {
			st->base = disasm_uc_reg(x->operands[i].mem.base);
			st->index = disasm_uc_reg(x->operands[i].mem.index);
			st->scale = (uint32_t)x->operands[i].mem.scale;
			st->disp = (uint32_t)(x->operands[i].mem.disp & 0xffffffff);
			return (x->operands[i].mem.base == X86_REG_ESP || x->operands[i].mem.base == X86_REG_EBP) ?
			    PT_NONE : PT_STORE;	/* the stack is never a page table */
		}
	return PT_NONE;
}

/* The point table: a linear sweep of the text, plus the lock functions' entries. */
static int scan(struct sched *s)
{
	struct machine *m = s->m;
	const struct elf_image *img = &m->elf;
	const char *locks[] = { m->ct.lock_acquire, m->ct.lock_release, m->ct.lock_trylock };
	struct store st;
	csh cs;
	cs_insn *in;
	int rc = 0, cap = 0;

	if ((s->kind = calloc(m->sites.hi - m->sites.lo, 1)) == NULL || cs_open(CS_ARCH_X86, CS_MODE_32, &cs) != CS_ERR_OK)
		return -1;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(cs);
	for (int i = 0; i < img->nseg && rc == 0; i++) {
		const uint8_t *code = machine_kva_ptr(m, img->seg[i].vaddr, img->seg[i].filesz);
		size_t len = code ? img->seg[i].filesz : 0;
		uint64_t addr = img->seg[i].vaddr;

		if (!(img->seg[i].flags & PF_X))
			continue;
		while (len > 0 && rc == 0) {
			enum point_kind k;

			if (!cs_disasm_iter(cs, &code, &len, &addr, in)) {
				code++, len--, addr++;
				continue;
			}
			if ((k = classify(in, &st)) == PT_NONE || in->address < m->sites.lo || in->address >= m->sites.hi)
				continue;
			s->kind[in->address - m->sites.lo] = (uint8_t)k;
			if (k != PT_STORE)
				continue;
			if (s->nstores == cap) {
				struct store *v = realloc(s->stores, (cap ? cap * 2 : 256) * sizeof(*v));

				if (v == NULL) {
					rc = -1;
					break;
				}
				s->stores = v;
				cap = cap ? cap * 2 : 256;
			}
			s->stores[s->nstores++] = st;
		}
	}
	cs_free(in, 1);
	cs_close(&cs);
	for (size_t i = 0; i < sizeof(locks) / sizeof(locks[0]); i++) {
		const struct elf_symbol *f = locks[i][0] ? elf_find(&m->elf, locks[i]) : NULL;

		if (f != NULL && f->addr >= m->sites.lo && f->addr < m->sites.hi)
			s->kind[f->addr - m->sites.lo] = PT_LOCK;
	}
	return rc;
}

/* Is the store at addr about to write a frame the watcher watches? */
static int store_watched(struct sched *s, uint32_t addr)
{
	struct machine *m = s->m;
	const struct store *st = NULL;
	int lo = 0, hi = s->nstores - 1;
	uint32_t ea;
	struct walk w;

	if (m->mmu->watched == NULL)
		return 0;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (s->stores[mid].addr == addr) {
			st = &s->stores[mid];
			break;
		}
		if (s->stores[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	if (st == NULL)
		return 0;
	ea = st->edi ? machine_reg(m, UC_X86_REG_EDI) : st->disp + (st->base ? machine_reg(m, st->base) : 0) +
	    (st->index ? machine_reg(m, st->index) * st->scale : 0);
	if (walk_va(&m->pm, machine_reg(m, UC_X86_REG_CR3), machine_reg(m, UC_X86_REG_CR4), ea, &w) != WALK_MAPPED)
		return 0;
	return (w.pa >> PAGE_SHIFT) < m->mmu->npages && m->mmu->watched[w.pa >> PAGE_SHIFT];
}

/* Append a switch to the log. */
static void log_switch(struct sched *s, int from, int to, uint32_t eip, enum point_kind why)
{
	if (s->nlog == s->caplog) {
		struct sched_switch *v;

		if (s->caplog >= (int)SCHED_MAX_LOG || (v = realloc(s->log, (s->caplog ? s->caplog * 2 : 256) *
		    sizeof(*v))) == NULL) {
			s->overflowed = 1;
			return;
		}
		s->log = v;
		s->caplog = s->caplog ? s->caplog * 2 : 256;
	}
	s->log[s->nlog++] = (struct sched_switch){ .from = from, .to = to, .insns = s->cpu[from].insns, .eip = eip,
		.why = why, .line = s->line };
}

/* The policy's pick at a point of kind k on the current CPU. */
static int decide(struct sched *s, enum point_kind k)
{
	int cur = s->m->cur;

	switch (s->policy) {
	case SCHED_ROUNDROBIN:
		return k == PT_QUANTUM || k == PT_PAUSE ? next_runnable(s, cur) : cur;
	case SCHED_RANDOM:
		return random_runnable(s);
	case SCHED_REPLAY:
		if (s->ri < s->nreplay && s->replay[s->ri].from == cur && s->replay[s->ri].insns == s->cpu[cur].insns) {
			int to = s->replay[s->ri++].to;

			return to >= 0 && to < s->m->ncpu && runnable(s, to) ? to : cur;
		}
		return cur;
	}
	return cur;
}

/* A `pause`: is every CPU with work spinning? Enough turns of that is a deadlock. */
static int spin_deadlock(struct sched *s)
{
	for (int c = 0; c < s->m->ncpu; c++) {
		const struct scpu *p = &s->cpu[c];

		if (!runnable(s, c))
			continue;
		if (p->task == T_IDLE || p->last_pause == 0 || p->insns + 1 - p->last_pause > SPIN_WINDOW) {
			s->spins = 0;
			return 0;
		}
	}
	return ++s->spins > SCHED_DEADLOCK_SPINS;
}

/* Stop the engine before this instruction; it runs again after the switch. */
static void stop_here(struct sched *s, struct scpu *c, uint32_t addr, int skip)
{
	c->skip = skip;
	c->skip_at = addr;
	s->stopping = 1;
	uc_emu_stop(s->m->uc);
}

/* The gate around every instruction of the text (sites.h). */
static int gate(void *arg, uint32_t addr, enum gate_phase phase)
{
	struct sched *s = arg;
	struct machine *m = s->m;
	struct scpu *c = &s->cpu[m->cur];
	enum point_kind k;
	int next;

	if (phase == GATE_BEFORE) {
		if (c->skip) {
			c->skip = 0;
			if (c->skip_at == addr)
				return 1;
		}
		if (c->ipi_pending && !c->in_ipi && c->task != T_IDLE && !s->stopping) {
			s->deliver = 1;
			stop_here(s, c, addr, 0);
			return 1;
		}
		return 0;
	}
	c->insns++;
	if (s->stopping || m->break_requested)
		return 0;
	k = (enum point_kind)s->kind[addr - m->sites.lo];
	if (k == PT_STORE && !store_watched(s, addr))
		k = PT_NONE;
	if (k == PT_NONE) {
		if (--c->quantum_left > 0)
			return 0;
		k = PT_QUANTUM;
	}
	c->quantum_left = (int32_t)s->quantum;
	if (k == PT_PAUSE) {
		c->last_pause = c->insns;
		if (spin_deadlock(s)) {
			s->deadlock = 1;
			stop_here(s, c, addr, 1);
			return 0;
		}
	}
	if ((next = decide(s, k)) < 0 || next == m->cur)
		return 0;
	log_switch(s, m->cur, next, addr, k);
	s->next = next;
	stop_here(s, c, addr, 1);
	return 0;
}

int sched_open(struct machine *m)
{
	struct sched *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	s->m = m;
	m->sched = s;
	s->policy = SCHED_ROUNDROBIN;
	s->quantum = SCHED_DEFAULT_QUANTUM;
	s->rng = 1;
	for (int c = 0; c < m->ncpu; c++)
		s->cpu[c].quantum_left = (int32_t)s->quantum;
	if (scan(s) < 0)
		return -1;
	sites_gate(&m->sites, gate, s);
	return 0;
}

void sched_close(struct machine *m)
{
	struct sched *s = m->sched;

	if (s == NULL)
		return;
	sites_gate(&m->sites, NULL, NULL);
	free(s->kind);
	free(s->stores);
	free(s->log);
	free(s->replay);
	free(s);
	m->sched = NULL;
}

int sched_policy(struct sched *s, enum sched_policy p, uint32_t quantum, uint64_t seed,
    const struct sched_switch *replay, int nreplay)
{
	s->policy = p;
	s->quantum = quantum ? quantum : SCHED_DEFAULT_QUANTUM;
	s->rng = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	if (s->rng == 0)
		s->rng = 1;
	free(s->replay);
	s->replay = NULL;
	s->nreplay = s->ri = 0;
	if (nreplay > 0) {
		if ((s->replay = malloc(nreplay * sizeof(*replay))) == NULL)
			return -1;
		memcpy(s->replay, replay, nreplay * sizeof(*replay));
		s->nreplay = nreplay;
	}
	for (int c = 0; c < s->m->ncpu; c++)
		s->cpu[c].quantum_left = (int32_t)s->quantum;
	return 0;
}

void sched_observe(struct sched *s, const struct sched_observer *o)
{
	if (o != NULL)
		s->obs = *o;
	else
		memset(&s->obs, 0, sizeof(s->obs));
}

void sched_line(struct sched *s, int line)
{
	s->line = line;
}

/* Write n words at guest kernel VA va (a CPU's stack). 0 or -1. */
static int push_words(struct machine *m, uint32_t va, const uint32_t *w, int n)
{
	void *p = machine_gptr(m, va, n * sizeof(uint32_t));

	if (p == NULL)
		return -1;
	memcpy(p, w, n * sizeof(uint32_t));
	machine_wrote(m, p, n * sizeof(uint32_t));
	return 0;
}

/* Take the pending IPI: an interrupt frame (EFLAGS, CS, EIP) below ESP, then the guest's entry. */
static int take_ipi(struct sched *s, int cpu, uint32_t esp, uint32_t ret)
{
	struct machine *m = s->m;
	struct scpu *c = &s->cpu[cpu];
	uint32_t frame[3] = { ret, machine_reg(m, UC_X86_REG_CS), machine_reg(m, UC_X86_REG_EFLAGS) };

	esp -= sizeof(frame);
	if (push_words(m, esp, frame, 3) < 0) {
		m->stop.kind = STOP_ERROR;
		snprintf(m->stop.message, sizeof(m->stop.message), "CPU %d's stack at 0x%08x is not mapped for an IPI",
		    cpu, esp);
		return -1;
	}
	machine_set_reg(m, UC_X86_REG_ESP, esp);
	machine_set_reg(m, UC_X86_REG_EIP, machine_info(m)->gi_ipi_entry);
	c->ipi_pending = 0;
	c->in_ipi = 1;
	c->skip = 0;
	c->inv_seq0 = m->mmu->inv_seq;
	return 0;
}

/* A CPU's call returned: its value, and the observers. */
static void call_done(struct sched *s, int cpu)
{
	struct scpu *c = &s->cpu[cpu];

	if (c->task == T_CALL && s->obs.returned != NULL) {
		s->obs.returned(s->obs.arg, cpu, c->fn);
		if (s->m->break_requested)
			s->obs_stop = 1;
	}
	c->task = T_IDLE;
}

/* "cpu0 at f+0x1c (f.c:12) <- g+0x40 ...": where CPU cpu is, for a DEADLOCK. */
static int cpu_where(struct machine *m, int cpu, char *buf, size_t len)
{
	uint32_t frames[RIG_MAX_FRAMES + 1];
	int n, save = m->cur;

	machine_set_cpu(m, cpu);
	frames[0] = machine_reg(m, UC_X86_REG_EIP);
	n = 1 + machine_backtrace(m, machine_reg(m, UC_X86_REG_EBP), frames + 1, RIG_MAX_FRAMES);
	guest_format_frames(m, frames, n, 1, m->sym_flags, buf, len);
	machine_set_cpu(m, save);
	return 0;
}

/* The DEADLOCK stop: every CPU, and where each with work spins. */
static void deadlock_stop(struct sched *s)
{
	struct machine *m = s->m;
	char where[1024];
	size_t used;

	m->stop.kind = STOP_DEADLOCK;
	m->stop.eip = machine_reg(m, UC_X86_REG_EIP);
	m->stop.cpu = m->cur;
	used = (size_t)snprintf(m->stop.message, sizeof(m->stop.message), "every CPU with work spins (%u turns)",
	    SCHED_DEADLOCK_SPINS);
	(void)used;
	m->deadlock_text[0] = '\0';
	for (int c = 0, off = 0; c < m->ncpu && off < (int)sizeof(m->deadlock_text); c++) {
		if (s->cpu[c].task == T_IDLE)	/* it holds what it holds, and will not run again */
			snprintf(where, sizeof(where), "idle (no call: it never runs again in this step)");
		else
			cpu_where(m, c, where, sizeof(where));
		off += snprintf(m->deadlock_text + off, sizeof(m->deadlock_text) - off, "\n  cpu%d: %s", c, where);
	}
}

/* Forget every CPU's work after an abnormal stop; the CPUs that were in a call go back as they came up. */
static void abandon(struct sched *s)
{
	struct machine *m = s->m;
	int save = m->cur;

	for (int c = 0; c < m->ncpu; c++) {
		struct scpu *p = &s->cpu[c];

		if (c != save && p->task != T_IDLE && m->cpu[c].boot_ctx != NULL) {
			uint32_t cr3 = machine_cpu_reg(m, c, UC_X86_REG_CR3);

			uc_context_restore(m->cpu[c].uc, m->cpu[c].boot_ctx);
			uc_reg_write(m->cpu[c].uc, UC_X86_REG_CR3, &cr3);
		}
		p->task = T_IDLE;
		p->ipi_pending = p->in_ipi = p->skip = 0;
	}
}

/* What one stretch of the current CPU came to. */
enum stretch_end { GO_ON, RUN_ENDS, CALL_FAILED };

/* The current CPU's halt: its call (or IPI handler) is done. RUN_ENDS when a rule stopped the run or,
 * with done, a call returned. */
static enum stretch_end halted(struct sched *s, int cur, int *done)
{
	struct machine *m = s->m;
	int was_call = s->cpu[cur].task == T_CALL;

	call_done(s, cur);
	if (s->obs_stop) {
		m->stop.kind = STOP_BREAK;
		m->stop.cpu = cur;
		snprintf(m->stop.message, sizeof(m->stop.message), "stopped by a rule");
		return RUN_ENDS;
	}
	if (was_call && done != NULL) {
		*done = cur;
		return RUN_ENDS;
	}
	return GO_ON;
}

/* Run the current CPU until it stops, and act on why. */
static enum stretch_end stretch(struct sched *s, int *done)
{
	struct machine *m = s->m;
	int cur = m->cur;
	struct scpu *c = &s->cpu[cur];

	s->stopping = s->deliver = 0;
	s->next = -1;
	if (machine_run_stretch(m, machine_reg(m, UC_X86_REG_EIP)) != STOP_RETURN) {
		/* A fault or panic ends that CPU's call only: the others go on at the next run. */
		if (done != NULL && c->task == T_CALL && (m->stop.kind == STOP_FAULT || m->stop.kind == STOP_PANIC)) {
			c->task = T_IDLE;
			c->skip = 0;
			*done = cur;
			return CALL_FAILED;
		}
		return RUN_ENDS;
	}
	if (s->deadlock) {
		deadlock_stop(s);
		return RUN_ENDS;
	}
	if (s->deliver)
		return take_ipi(s, cur, machine_reg(m, UC_X86_REG_ESP), machine_reg(m, UC_X86_REG_EIP)) < 0 ? RUN_ENDS : GO_ON;
	if (s->next >= 0) {
		machine_set_cpu(m, s->next);
		return GO_ON;
	}
	if (machine_reg(m, UC_X86_REG_EIP) == m->rig_return + 1)
		return halted(s, cur, done);
	m->stop.kind = STOP_ERROR;
	m->stop.eip = machine_reg(m, UC_X86_REG_EIP);
	snprintf(m->stop.message, sizeof(m->stop.message), "guest halted outside rig_return");
	return RUN_ENDS;
}

/* Run until every CPU's work is done (or, with done, until one CPU's call returns) or something stops the run. */
static enum stop_kind run(struct sched *s, int home, int *done)
{
	struct machine *m = s->m;
	enum stretch_end how = GO_ON;

	s->deadlock = s->obs_stop = 0;
	s->spins = 0;
	machine_run_begin(m);
	while (how == GO_ON) {
		int cur = m->cur, next;

		if (!runnable(s, cur)) {
			if ((next = next_runnable(s, cur)) < 0)
				break;
			machine_set_cpu(m, next);
			continue;
		}
		if (s->cpu[cur].task == T_IDLE) {	/* runnable for an IPI alone: the handler is its call */
			s->cpu[cur].task = T_IPI;
			if (take_ipi(s, cur, machine_stack_top(m) - 64, m->rig_return) < 0)
				break;
		}
		how = stretch(s, done);
	}
	if (how == CALL_FAILED) {
		machine_run_end(m);
		return m->stop.kind;
	}
	if (m->stop.kind != STOP_RETURN)
		abandon(s);
	machine_run_end(m);
	if (m->stop.kind == STOP_RETURN)
		machine_set_cpu(m, done != NULL && *done >= 0 ? *done : home);
	return m->stop.kind;
}

/* Start a call on the current CPU: registers, a fresh quantum. */
static void start_task(struct sched *s, uint32_t eip, uint32_t esp)
{
	struct scpu *c = &s->cpu[s->m->cur];

	machine_set_reg(s->m, UC_X86_REG_ESP, esp);
	machine_set_reg(s->m, UC_X86_REG_EBP, 0);
	machine_set_reg(s->m, UC_X86_REG_EIP, eip);
	c->task = T_CALL;
	c->fn = eip;
	c->skip = 0;
	c->quantum_left = (int32_t)s->quantum;
}

enum stop_kind sched_run_call(struct sched *s, uint32_t eip, uint32_t esp)
{
	int home = s->m->cur;

	start_task(s, eip, esp);
	return run(s, home, NULL);
}

void sched_start(struct sched *s, int cpu, uint32_t eip, uint32_t esp)
{
	int home = s->m->cur;

	machine_set_cpu(s->m, cpu);
	start_task(s, eip, esp);
	machine_set_cpu(s->m, home);
}

enum stop_kind sched_run_some(struct sched *s, int *done)
{
	*done = -1;
	return run(s, s->m->cur, done);
}

void sched_hypercall(struct sched *s, uint32_t port, uint32_t value)
{
	struct machine *m = s->m;
	struct scpu *c = &s->cpu[m->cur];

	if (port == RIG_PORT_IPI) {
		const uint32_t *ipi = machine_gptr(m, value, 12);	/* struct rig_ipi */

		if (ipi == NULL)
			return;
		for (int t = 0; t < m->ncpu; t++)
			if (ipi[0] & (1u << t)) {
				s->cpu[t].ipi_pending = 1;
				s->cpu[t].ipi_va = ipi[1];
			}
		if (s->obs.ipi != NULL)
			s->obs.ipi(s->obs.arg, m->cur, ipi[0], ipi[1], ipi[2]);
		return;
	}
	if (!c->in_ipi)
		return;
	c->in_ipi = 0;
	if (s->obs.ack != NULL) {
		const struct mmu *u = m->mmu;
		int done = u->inv_seq != c->inv_seq0 && (u->inv_va == MMU_INV_ALL ||
		    (c->ipi_va != RIG_IPI_ALL && u->inv_va == (c->ipi_va & PG_FRAME)));

		s->obs.ack(s->obs.arg, m->cur, done, c->ipi_va);
	}
}

const struct sched_switch *sched_switches(const struct sched *s, int *n)
{
	*n = s->nlog;
	return s->log;
}

int sched_busy(const struct sched *s, int cpu)
{
	return s->cpu[cpu].task != T_IDLE;
}

const char *sched_point_name(enum point_kind k)
{
	static const char *names[PT_KINDS] = { "anywhere", "at the end of its quantum", "at a lock function",
		"before a locked instruction", "at a pause (spinning)", "before a store into a watched page",
		"before an INVLPG", "before a CR load", "before an OUT (IPI)" };

	return k < PT_KINDS ? names[k] : "?";
}

void sched_format_switch(struct machine *m, const struct sched_switch *w, char *buf, size_t len)
{
	char where[512];

	snprintf(buf, len, "cpu%d@%llu -> cpu%d\t# line %d, %s at %s", w->from, (unsigned long long)w->insns, w->to,
	    w->line, sched_point_name(w->why), guest_addr_name(m, w->eip, m->sym_flags, where, sizeof(where)));
}

int sched_write_replay(struct machine *m, FILE *f)
{
	char line[1024];

	if (m->sched == NULL)
		return -1;
	fprintf(f, "# pmaprig schedule: %d switch%s, replay with `schedule replay FILE`\n", m->sched->nlog,
	    m->sched->nlog == 1 ? "" : "es");
	for (int i = 0; i < m->sched->nlog; i++) {
		sched_format_switch(m, &m->sched->log[i], line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	return m->sched->overflowed ? -1 : 0;
}

/* Parse "cpuN@I -> cpuM" (then blanks or a # comment). 0, or the column of the error. */
static int parse_switch(const char *p, struct sched_switch *w)
{
	const char *start = p;
	char *end;
	unsigned long long v;

	memset(w, 0, sizeof(*w));
	if (strncmp(p, "cpu", 3) != 0)
		return (int)(p - start) + 1;
	p += 3;
	v = strtoull(p, &end, 10);
	if (end == p || v >= RIG_MAX_CPUS || *end != '@')
		return (int)(p - start) + 1;
	w->from = (int)v;
	p = end + 1;
	w->insns = strtoull(p, &end, 10);
	if (end == p)
		return (int)(p - start) + 1;
	p = end;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "-> cpu", 6) != 0)
		return (int)(p - start) + 1;
	p += 6;
	v = strtoull(p, &end, 10);
	if (end == p || v >= RIG_MAX_CPUS)
		return (int)(p - start) + 1;
	w->to = (int)v;
	p = end;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return *p == '\0' || *p == '#' ? 0 : (int)(p - start) + 1;
}

int sched_read_replay(const char *path, struct sched_switch **out, int *n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	int lineno = 0, cap = 0, col;
	struct stat st;

	*out = NULL;
	*n = 0;
	if (f == NULL)
		return errorf(err, errlen, "%s:1:1: error: cannot open the schedule", path);
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SCHED_MAX_FILE) {
		fclose(f);	/* not /dev/zero, a FIFO or a huge file: the parser must end */
		return errorf(err, errlen, "%s:1:1: error: a schedule is a regular file of at most %d MiB", path,
		    SCHED_MAX_FILE >> 20);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p = line;
		struct sched_switch w;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		if ((col = parse_switch(p, &w)) != 0) {
			fclose(f);
			free(*out);
			*out = NULL;
			return errorf(err, errlen, "%s:%d:%d: error: expected a switch \"cpuN@INSTRUCTION -> cpuM\"", path,
			    lineno, (int)(p - line) + col);
		}
		if (*n == (int)SCHED_MAX_LOG) {
			fclose(f);
			free(*out);
			*out = NULL;
			return errorf(err, errlen, "%s:%d:1: error: more than %u switches", path, lineno, SCHED_MAX_LOG);
		}
		if (*n == cap) {
			struct sched_switch *v = realloc(*out, (cap ? cap * 2 : 64) * sizeof(*v));

			if (v == NULL) {
				fclose(f);
				return errorf(err, errlen, "%s: out of memory", path);
			}
			*out = v;
			cap = cap ? cap * 2 : 64;
		}
		(*out)[(*n)++] = w;
	}
	fclose(f);
	return 0;
}
