/*
 * srcline.c - owns the lookups in the guest's line table, through the
 * DWARF handle the contract already holds (dwinfo.c): code addresses to
 * "function (file:line)" frames, inlined calls unfolded the way gdb's
 * backtraces show them. See srcline.h.
 *
 * How a frame list is built: the line table gives the file and line of the
 * address itself; that line belongs to the innermost scope that holds the
 * address (dwarf_getscopes stops at the innermost inlined copy, and
 * dwarf_getscopes_die goes on out from there). Each
 * DW_TAG_inlined_subroutine scope, innermost first, is one frame, and its
 * DW_AT_call_file/DW_AT_call_line is where the next frame out stands; the
 * DW_TAG_subprogram around them all is the last frame.
 */
#include "srcline.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwinfo.h"

#define CACHE_SLOTS	128	/* traces ask for the same few addresses again and again */

struct cached {
	uint32_t addr;
	int used, n;
	struct src_frame f[SRC_MAX_FRAMES];
};

struct srcline {
	Dwarf *dbg;		/* the contract's (dwinfo.c): not ours to close */
	struct cached cache[CACHE_SLOTS];
};

struct srcline *srcline_open(struct dwinfo *dw)
{
	struct srcline *s;

	if (dw_dwarf(dw) == NULL || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->dbg = dw_dwarf(dw);
	return s;
}

void srcline_close(struct srcline *s)
{
	free(s);
}

/* A path's last component. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* A scope's function name, through DW_AT_abstract_origin for an inlined or out-of-line copy. */
static const char *scope_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));

	return name ? name : "??";
}

/* Where the inlined scope was called from: its DW_AT_call_file and DW_AT_call_line. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *inl, const char **file, int *line)
{
	Dwarf_Attribute a;
	Dwarf_Word idx = 0, ln = 0;
	Dwarf_Files *files;
	size_t nfiles;
	const char *f = NULL;

	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &a), &idx) == 0 &&
	    dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && idx < nfiles)
		f = dwarf_filesrc(files, idx, NULL, NULL);
	dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &a), &ln);
	*file = f ? f : "??";
	*line = (int)ln;
}

static void set_frame(struct src_frame *f, const char *fn, const char *file, int line, int inlined)
{
	snprintf(f->fn, sizeof(f->fn), "%s", fn);
	snprintf(f->file, sizeof(f->file), "%s", base_name(file));
	f->line = line;
	f->inlined = inlined;
}

/* The frames at addr, from the DWARF (no cache). */
static int lookup(struct srcline *s, uint32_t addr, struct src_frame *out, int max)
{
	Dwarf_Die cu, *scopes = NULL;
	Dwarf_Line *ln;
	const char *file = "??";
	int line = 0, n = 0, nscopes;

	if (dwarf_addrdie(s->dbg, addr, &cu) == NULL)
		return 0;
	if ((ln = dwarf_getsrc_die(&cu, addr)) != NULL) {
		file = dwarf_linesrc(ln, NULL, NULL) ? dwarf_linesrc(ln, NULL, NULL) : "??";
		dwarf_lineno(ln, &line);
	}
	/* The scopes at addr stop at the innermost inlined copy; the scopes around that DIE go on out. */
	if ((nscopes = dwarf_getscopes(&cu, addr, &scopes)) > 0) {
		Dwarf_Die *chain = NULL, inner = scopes[0];

		free(scopes);
		scopes = NULL;
		nscopes = dwarf_getscopes_die(&inner, &chain);
		scopes = chain;
	}
	for (int i = 0; i < nscopes && n < max; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_inlined_subroutine) {
			set_frame(&out[n++], scope_name(&scopes[i]), file, line, 1);
			call_site(&cu, &scopes[i], &file, &line);
		} else if (tag == DW_TAG_subprogram) {
			set_frame(&out[n++], scope_name(&scopes[i]), file, line, 0);
			free(scopes);
			return n;
		}
	}
	free(scopes);
	/* Assembly has lines but no function scope: the line alone (the ELF symbol names the function). */
	if (n < max && line > 0)
		set_frame(&out[n++], "", file, line, 0);
	return n;
}

int srcline_frames(struct srcline *s, uint32_t addr, struct src_frame *out, int max)
{
	struct cached *c;
	int n;

	if (s == NULL || max <= 0)
		return 0;
	c = &s->cache[(addr * 2654435761u) >> 25 & (CACHE_SLOTS - 1)];
	if (!c->used || c->addr != addr) {
		c->used = 1;
		c->addr = addr;
		c->n = lookup(s, addr, c->f, SRC_MAX_FRAMES);
	}
	n = c->n < max ? c->n : max;
	memcpy(out, c->f, (size_t)n * sizeof(*out));
	return n;
}
