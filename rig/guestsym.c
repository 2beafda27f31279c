/*
 * guestsym.c - owns the naming of guest code addresses for reports,
 * traces, stacks and breaks; opens the guest's line table (srcline.c) the
 * first time a name asks for it. See guestsym.h.
 */
#include "guestsym.h"

#include <stdio.h>
#include <string.h>

#include "machine.h"

int guest_src_frames(struct machine *m, uint32_t addr, int flags, struct src_frame *f, int max)
{
	if (!m->src_tried) {
		m->src_tried = 1;
		m->src = srcline_open(m->ct.dw);
	}
	return srcline_frames(m->src, (flags & SYM_RETURN) ? addr - 1 : addr, f, max);
}

/* "(pmap.c:210, inlined)" for a source frame; line left out under SYM_STABLE. */
static int frame_where(const struct src_frame *f, int flags, char *buf, size_t len)
{
	char line[16] = "";

	if (f->line > 0 && !(flags & SYM_STABLE))
		snprintf(line, sizeof(line), ":%d", f->line);
	return snprintf(buf, len, " (%s%s%s)", f->file, line, f->inlined ? ", inlined" : "");
}

const char *guest_addr_name(struct machine *m, uint32_t addr, int flags, char *buf, size_t len)
{
	struct src_frame f[SRC_MAX_FRAMES];
	int n = guest_src_frames(m, addr, flags, f, SRC_MAX_FRAMES);
	uint32_t off;
	const struct elf_symbol *s = elf_symbolize(&m->elf, addr, &off);
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && f[i].inlined && !(flags & SYM_STABLE) && used < len; i++) {
		used += (size_t)snprintf(buf + used, len - used, "%s", f[i].fn);
		if (used < len)
			used += (size_t)frame_where(&f[i], flags, buf + used, len - used);
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, " <- ");
	}
	if (used >= len)
		return buf;
	if (s == NULL)
		used += (size_t)snprintf(buf + used, len - used, "0x%08x", addr);
	else if (off == 0 || (flags & SYM_STABLE))	/* kmem_alloc.constprop.0 reads as kmem_alloc */
		used += (size_t)snprintf(buf + used, len - used, "%.*s", (int)strcspn(s->name, "."), s->name);
	else
		used += (size_t)snprintf(buf + used, len - used, "%.*s+0x%x", (int)strcspn(s->name, "."), s->name, off);
	if (n > 0 && !f[n - 1].inlined && used < len)
		frame_where(&f[n - 1], flags, buf + used, len - used);
	return buf;
}

void guest_format_frames(struct machine *m, const uint32_t *frames, int n, int first_is_pc, int flags, char *buf,
    size_t len)
{
	size_t used = 0;
	char name[512];

	buf[0] = '\0';
	for (int i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " <- " : "",
		    guest_addr_name(m, frames[i], flags | (i > 0 || !first_is_pc ? SYM_RETURN : 0), name, sizeof(name)));
}
