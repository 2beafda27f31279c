/* disasm.h - Capstone, for naming the instruction at a guest address. */
#ifndef RIG_DISASM_H
#define RIG_DISASM_H

#include <stddef.h>
#include <stdint.h>

struct disasm;

struct disasm *disasm_open(void);
void disasm_close(struct disasm *d);
/* Decode one instruction at addr; its text in out ("??" if undecodable). Returns its length or 0. */
int disasm_one(struct disasm *d, const uint8_t *code, size_t len, uint32_t addr, char *out, size_t outlen);
/* The Capstone version in use ("4.0.2"). */
const char *disasm_version(void);

#endif
