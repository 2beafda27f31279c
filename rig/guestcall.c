/*
 * guestcall.c - host-to-guest calls. The arguments and a return address of
 * rig_return (a hlt) are pushed on the guest's boot stack, EIP is set to the
 * function, and the guest runs until the hlt stops the emulator: the cheap
 * way to stop (uc_emu_start with an `until` address costs ~13 us a call).
 */
#include "guestcall.h"

#include <stdio.h>
#include <string.h>

uint32_t guest_symbol(struct machine *m, const char *name)
{
	const struct elf_symbol *s = elf_find(&m->elf, name);

	return s != NULL ? s->addr : 0;
}

enum stop_kind guest_call(struct machine *m, uint32_t fn, int argc, const uint32_t *argv, uint32_t *ret)
{
	uint32_t frame[1 + GUESTCALL_MAX_ARGS];
	uint32_t esp = (machine_stack_top(m) - 64 - 4 * (1 + GUESTCALL_MAX_ARGS)) & ~15u;
	void *stack;

	if (argc < 0 || argc > GUESTCALL_MAX_ARGS || (stack = machine_gptr(m, esp, sizeof(frame))) == NULL) {
		m->stop.kind = STOP_ERROR;
		snprintf(m->stop.message, sizeof(m->stop.message), "bad guest call (%d arguments)", argc);
		return STOP_ERROR;
	}
	frame[0] = m->rig_return;
	memcpy(&frame[1], argv, argc * sizeof(uint32_t));
	memcpy(stack, frame, (1 + argc) * sizeof(uint32_t));
	machine_wrote(m, stack, (1 + argc) * sizeof(uint32_t));
	if (machine_run(m, fn, esp) == STOP_RETURN && ret != NULL)
		*ret = machine_reg(m, UC_X86_REG_EAX);
	return m->stop.kind;
}

enum stop_kind guest_call_name(struct machine *m, const char *name, int argc, const uint32_t *argv,
    uint32_t *ret)
{
	uint32_t fn = guest_symbol(m, name);

	if (fn == 0) {
		memset(&m->stop, 0, sizeof(m->stop));
		m->stop.kind = STOP_ERROR;
		snprintf(m->stop.message, sizeof(m->stop.message), "no guest function %s", name);
		return STOP_ERROR;
	}
	return guest_call(m, fn, argc, argv, ret);
}
