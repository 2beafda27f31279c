/* guestcall.h - call guest functions by ELF symbol, 32-bit cdecl. */
#ifndef RIG_GUESTCALL_H
#define RIG_GUESTCALL_H

#include "machine.h"

#define GUESTCALL_MAX_ARGS 8

/* The address of a guest function; 0 if the symbol does not exist. */
uint32_t guest_symbol(struct machine *m, const char *name);
/* Call fn(argv[0..argc-1]); EAX in *ret. STOP_RETURN on a normal return. */
enum stop_kind guest_call(struct machine *m, uint32_t fn, int argc, const uint32_t *argv, uint32_t *ret);
/* The same by name; an unknown name is STOP_ERROR with a message. */
enum stop_kind guest_call_name(struct machine *m, const char *name, int argc, const uint32_t *argv,
    uint32_t *ret);

/* GCALL(m, "fn", &ret, args...): call by name with literal arguments. */
#define GCALL(m, name, ret, ...)					\
	guest_call_name((m), (name),					\
	    (int)(sizeof((uint32_t[]){ 0, ##__VA_ARGS__ }) / sizeof(uint32_t)) - 1, \
	    ((uint32_t[]){ 0, ##__VA_ARGS__ }) + 1, (ret))

#endif
