/*
 * attrib.c - owns the block hook and the decoded store candidates of every
 * block that stored into a watched frame. See attrib.h.
 *
 * Why the match is exact: stores of one block happen in program order, so
 * the storing instruction is the first candidate after the last one
 * attributed whose address, from the registers as they are now, is where
 * the bytes landed. TCG writes the guest registers back before every memory
 * access that may leave the fast path, so they are the storing
 * instruction's own. That candidate can be the wrong one only if it ran
 * already and stored elsewhere (no callback), which needs a register of
 * its address to change between it and a later candidate that also
 * matches; only then is the answer a guess, and the block's stores become
 * code sites. A block never spans two functions, so even a guess names the
 * right function and call path.
 */
#include "attrib.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "disasm.h"
#include "fuzzdec.h"
#include "../guest/common/i386.h"

#define BLOCK_MAX_INSNS	256
#define SLOT(ucreg)	((ucreg) - UC_X86_REG_EAX)	/* EAX..ESP are 11 consecutive ids */

/* The 32-bit register (Unicorn id) a Capstone register is part of; 0 if none. */
static int family(unsigned r)
{
	switch (r) {
	case X86_REG_AL: case X86_REG_AH: case X86_REG_AX: case X86_REG_EAX: return UC_X86_REG_EAX;
	case X86_REG_BL: case X86_REG_BH: case X86_REG_BX: case X86_REG_EBX: return UC_X86_REG_EBX;
	case X86_REG_CL: case X86_REG_CH: case X86_REG_CX: case X86_REG_ECX: return UC_X86_REG_ECX;
	case X86_REG_DL: case X86_REG_DH: case X86_REG_DX: case X86_REG_EDX: return UC_X86_REG_EDX;
	case X86_REG_SIL: case X86_REG_SI: case X86_REG_ESI: return UC_X86_REG_ESI;
	case X86_REG_DIL: case X86_REG_DI: case X86_REG_EDI: return UC_X86_REG_EDI;
	case X86_REG_BPL: case X86_REG_BP: case X86_REG_EBP: return UC_X86_REG_EBP;
	case X86_REG_SPL: case X86_REG_SP: case X86_REG_ESP: return UC_X86_REG_ESP;
	default: return 0;
	}
}

/* Does the instruction end a translation block? */
static int ends_block(csh cs, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	if (cs_insn_group(cs, in, CS_GRP_JUMP) || cs_insn_group(cs, in, CS_GRP_CALL) ||
	    cs_insn_group(cs, in, CS_GRP_RET) || cs_insn_group(cs, in, CS_GRP_INT) || cs_insn_group(cs, in, CS_GRP_IRET))
		return 1;
	if (in->id == X86_INS_HLT || in->id == X86_INS_INVLPG || in->id == X86_INS_UD2)
		return 1;
	return in->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
	    x->operands[0].reg >= X86_REG_CR0 && x->operands[0].reg <= X86_REG_CR15;
}

/* The instruction's store, if it makes one; 1 with *c filled. */
static int store_of(const cs_insn *in, struct attrib_cand *c)
{
	const cs_x86 *x = &in->detail->x86;

	memset(c, 0, sizeof(*c));
	c->addr = (uint32_t)in->address;
	if (in->id == X86_INS_PUSH || in->id == X86_INS_CALL || in->id == X86_INS_PUSHFD) {
		c->stack = 1;
		c->size = 4;
		return 1;
	}
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		/* Capstone 4.0.2 marks cmpxchg's and cmpxchg8b's destination read-only. */
		if (op->type != X86_OP_MEM || !((op->access & CS_AC_WRITE) || (i == 0 && (in->id == X86_INS_CMPXCHG ||
		    in->id == X86_INS_CMPXCHG8B || op->access == 0))))
			continue;
		c->size = op->size;
		c->base = disasm_uc_reg(op->mem.base);
		c->index = disasm_uc_reg(op->mem.index);
		c->scale = (uint32_t)op->mem.scale;
		c->disp = (uint32_t)(op->mem.disp & 0xffffffff);
		if (in->id == X86_INS_MOV && i == 0 && x->op_count == 2) {
			if (x->operands[1].type == X86_OP_IMM)
				c->has_value = 1, c->imm = (uint32_t)x->operands[1].imm;
			else if (x->operands[1].type == X86_OP_REG && (c->src = disasm_uc_reg(x->operands[1].reg)) != 0)
				c->has_value = 1;
		}
		return 1;
	}
	return 0;
}

/* Decode the block at start: its stores, and the registers each instruction writes. */
static struct attrib_block *decode(struct attrib *a, uint32_t start)
{
	struct attrib_block *b = calloc(1, sizeof(*b));
	uint16_t written[BLOCK_MAX_INSNS];
	const uint8_t *code;
	size_t len = 0;
	uint64_t addr = start;

	if (b == NULL)
		return NULL;
	b->start = start;
	code = machine_kva_ptr(a->m, start, 1);
	for (size_t l = 16 * BLOCK_MAX_INSNS; code != NULL && len == 0 && l > 0; l /= 2)
		if (machine_kva_ptr(a->m, start, l) != NULL)
			len = l;
	while (len > 0 && b->ninsn < BLOCK_MAX_INSNS && cs_disasm_iter(a->cs, &code, &len, &addr, a->insn)) {
		cs_regs rr, rw;
		uint8_t nr, nw;
		struct attrib_cand c;

		written[b->ninsn] = 0;
		if (cs_regs_access(a->cs, a->insn, rr, &nr, rw, &nw) == CS_ERR_OK)
			for (int k = 0; k < nw; k++)
				if (family(rw[k]) != 0)
					written[b->ninsn] |= (uint16_t)(1u << SLOT(family(rw[k])));
		if (b->n < ATTRIB_MAX_CANDS && store_of(a->insn, &c)) {
			c.insn = (uint16_t)b->ninsn;
			c.uses = (uint16_t)((c.base ? 1u << SLOT(c.base) : 0) | (c.index ? 1u << SLOT(c.index) : 0) |
			    (c.stack ? 1u << SLOT(UC_X86_REG_ESP) : 0));
			b->c[b->n++] = c;
		}
		b->ninsn++;
		b->end = (uint32_t)addr;
		if (ends_block(a->cs, a->insn))
			break;
	}
	b->written = malloc((b->ninsn ? b->ninsn : 1) * sizeof(*b->written));
	if (b->written == NULL) {
		free(b);
		return NULL;
	}
	memcpy(b->written, written, b->ninsn * sizeof(*b->written));
	return b;
}

/* The decoded block at start (decoding it the first time), or NULL. */
static struct attrib_block *block(struct attrib *a, uint32_t start)
{
	uint32_t i;

	if (a->n * 2 >= a->cap) {
		struct attrib_block **old = a->blocks;
		uint32_t oldcap = a->cap, cap = oldcap ? oldcap * 2 : 256;
		struct attrib_block **v = calloc(cap, sizeof(*v));

		if (v == NULL)
			return NULL;
		a->blocks = v;
		a->cap = cap;
		for (uint32_t k = 0; k < oldcap; k++)
			if (old[k] != NULL) {
				for (i = (old[k]->start * 2654435761u) & (cap - 1); v[i] != NULL; i = (i + 1) & (cap - 1))
					;
				v[i] = old[k];
			}
		free(old);
	}
	for (i = (start * 2654435761u) & (a->cap - 1); a->blocks[i] != NULL; i = (i + 1) & (a->cap - 1))
		if (a->blocks[i]->start == start)
			return a->blocks[i];
	if ((a->blocks[i] = decode(a, start)) != NULL)
		a->n++;
	return a->blocks[i];
}

/* The block hook: a new block starts; nothing of it attributed yet. */
static void on_block(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct attrib *a = user;

	(void)size;
	if (a->m->wd_fired && !a->m->wd_synced) {	/* the watchdog: sample stacks, then stop here */
		if (a->m->ll_nsamples < LIVELOCK_BLOCKS) {
			machine_livelock_sample(a->m);
		} else {
			a->m->wd_synced = 1;
			uc_emu_stop(uc);
		}
	}
	a->tb = (uint32_t)address;
	a->last = -1;
	a->execs++;
	if (fuzz_counters != NULL)	/* rig fuzz: the guest's coverage for libFuzzer */
		fuzz_counters[(address >> 2) & (fuzz_ncounters - 1)]++;
}

int attrib_init(struct attrib *a, struct machine *m)
{
	memset(a, 0, sizeof(*a));
	a->m = m;
	a->last = -1;
	if (cs_open(CS_ARCH_X86, CS_MODE_32, &a->cs) != CS_ERR_OK)
		return -1;
	cs_option(a->cs, CS_OPT_DETAIL, CS_OPT_ON);
	a->insn = cs_malloc(a->cs);
	m->block_hooked = 1;	/* the watchdog may let on_block stop the guest */
	for (int cpu = 0; cpu < m->ncpu; cpu++) {
		if (uc_hook_add(m->cpu[cpu].uc, &a->hook[cpu], UC_HOOK_BLOCK, (void *)on_block, a, m->sites.lo,
		    m->sites.hi - 1) != UC_ERR_OK)
			return -1;
		a->hooked = cpu + 1;
		/* Code translated before the hook existed would not call it. */
		if (uc_ctl_remove_cache(m->cpu[cpu].uc, m->sites.lo, m->sites.hi) != UC_ERR_OK)
			return -1;
	}
	return 0;
}

void attrib_free(struct attrib *a)
{
	if (getenv("RIG_MMU_STATS"))
		fprintf(stderr, "attrib: %llu exact, %llu guessed, %llu unknown, %u blocks\n", (unsigned long long)a->exact,
		    (unsigned long long)a->guessed, (unsigned long long)a->unknown, a->n);
	for (int cpu = 0; cpu < a->hooked; cpu++)
		uc_hook_del(a->m->cpu[cpu].uc, a->hook[cpu]);
	for (uint32_t i = 0; i < a->cap; i++)
		if (a->blocks[i] != NULL) {
			free(a->blocks[i]->written);
			free(a->blocks[i]);
		}
	free(a->blocks);
	if (a->insn != NULL)
		cs_free(a->insn, 1);
	if (a->cs)
		cs_close(&a->cs);
	memset(a, 0, sizeof(*a));
}

void attrib_restart(struct attrib *a)
{
	for (uint32_t i = 0; i < a->cap; i++)
		if (a->blocks[i] != NULL)
			a->blocks[i]->sited = 0, a->blocks[i]->sited_exec = 0;
	a->tb = 0;
	a->execs = 0;
	a->last = -1;
	a->exact = a->guessed = a->unknown = 0;
}

/* The physical address of va as the CPU translates it now; 0 or -1. */
static int phys_of(struct attrib *a, uint32_t va, uint64_t *pa)
{
	const struct tlb_entry *e = mmu_lookup(a->m->mmu, va);
	struct walk w;

	if (e != NULL)
		return *pa = ((uint64_t)e->frame << PAGE_SHIFT) | (va & PAGE_MASK), 0;
	if (walk_va(&a->m->pm, machine_reg(a->m, UC_X86_REG_CR3), machine_reg(a->m, UC_X86_REG_CR4), va, &w) !=
	    WALK_MAPPED)
		return -1;
	return *pa = w.pa, 0;
}

/* The live registers, read when first needed. */
struct regs {
	uc_engine *uc;
	uint32_t v[16];
	uint16_t have;
};

static uint32_t reg(struct regs *r, int ucreg)
{
	if (!(r->have & (1u << SLOT(ucreg)))) {
		uc_reg_read(r->uc, ucreg, &r->v[SLOT(ucreg)]);
		r->have |= (uint16_t)(1u << SLOT(ucreg));
	}
	return r->v[SLOT(ucreg)];
}

/* Could candidate c have stored size bytes of value at pa, given the registers? */
static int matches(struct attrib *a, const struct attrib_cand *c, struct regs *r, uint64_t pa, unsigned size,
    uint64_t value)
{
	uint32_t ea = c->stack ? reg(r, UC_X86_REG_ESP) - c->size :
	    c->disp + (c->base ? reg(r, c->base) : 0) + (c->index ? reg(r, c->index) * c->scale : 0);
	uint64_t first, last;
	uint32_t off, src;

	if (phys_of(a, ea, &first) < 0)
		return 0;
	if (pa >= first && pa + size <= first + c->size && ((first ^ pa) >> PAGE_SHIFT) == 0)
		off = (uint32_t)(pa - first);
	else if (((ea + c->size - 1) & ~PAGE_MASK) != (ea & ~PAGE_MASK) &&	/* the part in the next page */
	    phys_of(a, (ea + c->size - 1) & ~PAGE_MASK, &last) == 0 && pa >= last &&
	    pa + size <= last + ((ea + c->size) & PAGE_MASK))
		off = (uint32_t)(pa - last) + (PAGE_SIZE - (ea & PAGE_MASK));
	else
		return 0;
	if (!c->has_value)
		return 1;
	src = c->src ? reg(r, c->src) : c->imm;
	for (unsigned k = 0; k < size; k++)
		if (off + k >= 4 || (uint8_t)(src >> (8 * (off + k))) != (uint8_t)(value >> (8 * k)))
			return 0;
	return 1;
}

/* From now on, every store of the block is a code site (EIP exact from its next execution). */
static void site_block(struct attrib *a, struct attrib_block *b);

/* Could c have executed before the store at candidate j and stored elsewhere? (a register of its address changed in between) */
static int could_have_run(const struct attrib_block *b, const struct attrib_cand *c, const struct attrib_cand *j)
{
	uint16_t w = 0;

	for (int k = c->insn; k < j->insn; k++)
		w |= b->written[k];
	return (w & c->uses) != 0;
}

int attrib_store(struct attrib *a, uint64_t pa, unsigned size, uint64_t value, uint32_t *eip)
{
	struct attrib_block *b = block(a, a->tb);
	struct regs r = { .uc = a->m->uc };
	int best = -1, guess = 0;

	if (b == NULL)
		return *eip = a->tb, a->unknown++, -1;
	if (b->sited && a->execs > b->sited_exec)	/* retranslated with its sites since */
		return *eip = machine_reg(a->m, UC_X86_REG_EIP), a->exact++, 0;
	/* The first candidate after the last one attributed; failing that, the same one again (a split store). */
	for (int i = a->last + 1; i < b->n && best < 0; i++)
		if (matches(a, &b->c[i], &r, pa, size, value))
			best = i;
	if (best < 0 && a->last >= 0 && matches(a, &b->c[a->last], &r, pa, size, value))
		best = a->last;
	if (best < 0) {
		site_block(a, b);
		return *eip = a->tb, a->unknown++, -1;
	}
	for (int j = best + 1; j < b->n && !guess; j++)
		guess = could_have_run(b, &b->c[best], &b->c[j]) && matches(a, &b->c[j], &r, pa, size, value);
	a->last = best;
	*eip = b->c[best].addr;
	if (guess) {
		site_block(a, b);
		return a->guessed++, 1;
	}
	return a->exact++, 0;
}

static void nothing(void *arg, uint32_t addr)
{
	(void)arg, (void)addr;	/* the hook itself makes Unicorn sync EIP */
}

static void site_block(struct attrib *a, struct attrib_block *b)
{
	if (b->sited)
		return;
	b->sited = 1;
	b->sited_exec = a->execs;
	for (int i = 0; i < b->n; i++)
		sites_add(&a->m->sites, b->c[i].addr, nothing, a);
}
