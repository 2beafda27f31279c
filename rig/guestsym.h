/*
 * guestsym.h - how a guest code address reads to people: the ELF symbol
 * and offset, and the source frames from the DWARF (srcline.h), inlined
 * calls included: "pmap_pte_clear (pmap.c:210, inlined) <-
 * pmap_remove_pte+0x1c (pmap.c:488)".
 */
#ifndef RIG_GUESTSYM_H
#define RIG_GUESTSYM_H

#include <stddef.h>
#include <stdint.h>

#include "srcline.h"

struct machine;

#define SYM_RETURN	1	/* a return address: its line is its call's (one byte back) */
/*
 * No code offsets, line numbers or inlined frames, which move with every
 * edit of the guest and every compiler's inlining (--stable: goldens,
 * docs): the function and its file remain.
 */
#define SYM_STABLE	2

/* The name of the code at addr, with its source frames; buf. */
const char *guest_addr_name(struct machine *m, uint32_t addr, int flags, char *buf, size_t len);
/* Its source frames, innermost first (srcline_frames); 0 when the DWARF has none. */
int guest_src_frames(struct machine *m, uint32_t addr, int flags, struct src_frame *f, int max);
/* Frames as "a <- b <- ...": frames[0] is a pc when first_is_pc, the rest return addresses. */
void guest_format_frames(struct machine *m, const uint32_t *frames, int n, int first_is_pc, int flags, char *buf,
    size_t len);

#endif
