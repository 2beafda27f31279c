/* gview.c - guest structure views and PTE decoding (see gview.h). */
#include "gview.h"

#include <stdio.h>
#include <string.h>

#include "../guest/common/i386.h"

static const struct { uint32_t bit; const char *name; } pte_bits[] = {
	{ PG_V, "P" }, { PG_RW, "RW" }, { PG_U, "US" }, { PG_NC_PWT, "PWT" }, { PG_NC_PCD, "PCD" },
	{ PG_A, "A" }, { PG_M, "D" }, { PG_PS, "PS" }, { PG_G, "G" }, { PG_W, "W" }, { PG_MANAGED, "MAN" },
};

uint32_t gv_u32(struct machine *m, uint32_t va)
{
	uint32_t *p = gv_ptr(m, va, 4);

	return p ? *p : 0;
}

uint32_t gv_scalar(struct machine *m, uint32_t va, struct ct_scalar f)
{
	const uint8_t *p = gv_ptr(m, va + f.off, f.size);

	return p ? ct_get(p, (struct ct_scalar){ 0, f.size }) : 0;
}

int gv_counter(struct machine *m, enum ct_counter k, uint32_t *v)
{
	*v = m->ct.counter[k] ? gv_u32(m, m->ct.counter[k]) : 0;
	return m->ct.counter[k] ? 0 : -1;
}

uint32_t gv_kva_base(struct machine *m)
{
	return m->ct.kva_base_ptr ? gv_u32(m, m->ct.kva_base_ptr) : 0;
}

uint32_t gv_kva_slots(struct machine *m)
{
	return m->ct.kva_slots_ptr ? gv_u32(m, m->ct.kva_slots_ptr) : 0;
}

uint32_t gv_kva_mapped(struct machine *m)
{
	uint32_t base = gv_kva_base(m), n = 0, kpd = gv_u32(m, m->ct.kernel_pmap + m->ct.pm_dirpa);

	for (uint32_t s = 0; s < gv_kva_slots(m); s++) {
		struct walk w;

		n += gv_walk(m, kpd, base + s * PAGE_SIZE, &w) == WALK_MAPPED;
	}
	return n;
}

enum walk_status gv_walk(struct machine *m, uint32_t pdir_pa, uint32_t va, struct walk *w)
{
	return walk_va(&m->pm, pdir_pa, 0, va, w);
}

/* Append " +NAME" (or -NAME) for each bit in mask, as set in pte. */
static void append_bits(uint32_t pte, uint32_t mask, char *buf, size_t len)
{
	size_t used = strlen(buf);

	for (size_t i = 0; i < sizeof(pte_bits) / sizeof(pte_bits[0]) && used < len; i++)
		if (mask & pte_bits[i].bit)
			used += snprintf(buf + used, len - used, "%s%c%s", used ? " " : "",
			    (pte & pte_bits[i].bit) ? '+' : '-', pte_bits[i].name);
}

int pte_flag_mask(const char *list, uint32_t *mask, char *bad, size_t badlen)
{
	*mask = 0;
	for (const char *p = list;; p++) {
		size_t n = strcspn(p, ",+"), i;
		uint32_t bit = n == 5 && !strncmp(p, "frame", 5) ? PG_FRAME : 0;

		for (i = 0; bit == 0 && i < sizeof(pte_bits) / sizeof(pte_bits[0]); i++)
			if (strlen(pte_bits[i].name) == n && !strncmp(p, pte_bits[i].name, n))
				bit = pte_bits[i].bit;
		if (bit == 0) {
			snprintf(bad, badlen, "%.*s", (int)n, p);
			return -1;
		}
		*mask |= bit;
		p += n;
		if (*p == '\0')
			return 0;
	}
}

const char *pte_flag_names(void)
{
	return "P, RW, US, PWT, PCD, A, D, PS, G, W, MAN, frame";
}

const char *pte_flags(uint32_t pte, char *buf, size_t len)
{
	buf[0] = '\0';
	append_bits(pte, pte & PAGE_MASK, buf, len);
	return buf;
}

const char *pte_flags_diff(uint32_t old, uint32_t new, char *buf, size_t len)
{
	buf[0] = '\0';
	append_bits(new, (old ^ new) & PAGE_MASK, buf, len);
	if (((old ^ new) & PG_FRAME) && (old & PG_V) && (new & PG_V))
		snprintf(buf + strlen(buf), len - strlen(buf), "%sframe 0x%05x->0x%05x", buf[0] ? " " : "",
		    old >> PAGE_SHIFT, new >> PAGE_SHIFT);
	return buf;
}
