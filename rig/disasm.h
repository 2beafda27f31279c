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
/* Unicorn's id of a 32-bit general register named by Capstone; 0 for any other. */
int disasm_uc_reg(unsigned cs_reg);
/*
 * The byte in page (page-aligned) that the instruction at addr accesses,
 * given its registers (reg(ctx, Unicorn id)): a memory operand, the stack of
 * a push/pop/call/ret, or the instruction itself; page when the access only
 * reaches into it from the page before. For a page fault's CR2.
 */
uint32_t disasm_access(struct disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t page,
    uint32_t (*reg)(void *ctx, int uc_reg), void *ctx);
/* The Capstone version in use ("4.0.2"). */
const char *disasm_version(void);

#endif
