/*
 * disasm.c - owns the Capstone handle (32-bit x86, Intel syntax) and turns
 * guest instruction bytes into text for reports and traces.
 */
#include "disasm.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <unicorn/unicorn.h>

#define PAGE_OF(a)	((a) & ~0xfffu)

struct disasm {
	csh handle;
	cs_insn *insn;
};

struct disasm *disasm_open(void)
{
	struct disasm *d = calloc(1, sizeof(*d));

	if (d == NULL || cs_open(CS_ARCH_X86, CS_MODE_32, &d->handle) != CS_ERR_OK) {
		free(d);
		return NULL;
	}
	cs_option(d->handle, CS_OPT_DETAIL, CS_OPT_ON);
	d->insn = cs_malloc(d->handle);
	return d;
}

void disasm_close(struct disasm *d)
{
	if (d == NULL)
		return;
	cs_free(d->insn, 1);
	cs_close(&d->handle);
	free(d);
}

int disasm_one(struct disasm *d, const uint8_t *code, size_t len, uint32_t addr, char *out, size_t outlen)
{
	uint64_t a = addr;

	if (d == NULL || !cs_disasm_iter(d->handle, &code, &len, &a, d->insn)) {
		snprintf(out, outlen, "??");
		return 0;
	}
	if (d->insn->op_str[0])
		snprintf(out, outlen, "%s %s", d->insn->mnemonic, d->insn->op_str);
	else
		snprintf(out, outlen, "%s", d->insn->mnemonic);
	return d->insn->size;
}

int disasm_uc_reg(unsigned r)
{
	switch (r) {
	case X86_REG_EAX: return UC_X86_REG_EAX;
	case X86_REG_EBX: return UC_X86_REG_EBX;
	case X86_REG_ECX: return UC_X86_REG_ECX;
	case X86_REG_EDX: return UC_X86_REG_EDX;
	case X86_REG_ESI: return UC_X86_REG_ESI;
	case X86_REG_EDI: return UC_X86_REG_EDI;
	case X86_REG_EBP: return UC_X86_REG_EBP;
	case X86_REG_ESP: return UC_X86_REG_ESP;
	default: return 0;
	}
}

/* Does [a, a + size) touch page? Sets *at to the first such byte. */
static int touches(uint32_t a, uint32_t size, uint32_t page, uint32_t *at)
{
	if (PAGE_OF(a) == page)
		return *at = a, 1;
	if (size > 0 && PAGE_OF(a + size - 1) == page)
		return *at = page, 1;
	return 0;
}

uint32_t disasm_access(struct disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t page,
    uint32_t (*reg)(void *ctx, int uc_reg), void *ctx)
{
	uint64_t a = addr;
	uint32_t at, esp;
	const cs_x86 *x;

	if (touches(addr, 1, page, &at))
		return at;	/* the fetch of the instruction's first byte */
	if (d == NULL || !cs_disasm_iter(d->handle, &code, &len, &a, d->insn))
		return page;
	if (touches(addr, d->insn->size, page, &at))
		return at;
	x = &d->insn->detail->x86;
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		int base = disasm_uc_reg(op->mem.base), index = disasm_uc_reg(op->mem.index);
		uint32_t ea;

		if (op->type != X86_OP_MEM)
			continue;
		ea = (uint32_t)(op->mem.disp & 0xffffffff) + (base ? reg(ctx, base) : 0) +
		    (index ? reg(ctx, index) * (uint32_t)op->mem.scale : 0);
		if (touches(ea, op->size, page, &at))
			return at;
	}
	esp = reg(ctx, UC_X86_REG_ESP);
	switch (d->insn->id) {
	case X86_INS_PUSH: case X86_INS_CALL: case X86_INS_PUSHAL: case X86_INS_PUSHFD:
		return touches(esp - 4, 4, page, &at) ? at : page;
	case X86_INS_POP: case X86_INS_RET: case X86_INS_POPAL: case X86_INS_POPFD: case X86_INS_LEAVE:
		return touches(esp, 4, page, &at) ? at : page;
	default:
		return page;
	}
}

const char *disasm_version(void)
{
	static char buf[32];
	int major, minor;

	cs_version(&major, &minor);
	if (major == CS_VERSION_MAJOR && minor == CS_VERSION_MINOR)
		snprintf(buf, sizeof(buf), "%d.%d.%d", major, minor, CS_VERSION_EXTRA);
	else
		snprintf(buf, sizeof(buf), "%d.%d", major, minor);
	return buf;
}
