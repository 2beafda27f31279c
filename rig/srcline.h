/*
 * srcline.h - guest code addresses to source lines, inlined frames
 * included, from the guest ELF's DWARF (line table and inlined-subroutine
 * scopes) through elfutils' libdw.
 */
#ifndef RIG_SRCLINE_H
#define RIG_SRCLINE_H

#include <stdint.h>

#define SRC_MAX_FRAMES	8	/* inlined calls deeper than this are cut */

struct srcline;
struct dwinfo;

/* One source frame: a function at a line; inlined: it was inlined into the next frame. */
struct src_frame {
	char fn[64];
	char file[64];		/* the file's base name, as gdb's backtraces show it */
	int line;		/* 0 when the DWARF has none */
	int inlined;
};

/* Lookups in dw's line table (dw stays the caller's, open while this lives); NULL without DWARF. */
struct srcline *srcline_open(struct dwinfo *dw);
void srcline_close(struct srcline *s);

/*
 * The source frames at the code address addr, innermost first: the
 * functions inlined at addr, then the function that holds it. Returns how
 * many (0 when the DWARF does not cover addr). A return address should be
 * looked up one byte back, at its call.
 */
int srcline_frames(struct srcline *s, uint32_t addr, struct src_frame *out, int max);

#endif
