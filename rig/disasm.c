/*
 * disasm.c - owns the Capstone handle (32-bit x86, Intel syntax) and turns
 * guest instruction bytes into text for reports and traces.
 */
#include "disasm.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>

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
