/*
 * recwrite.c - decode a store into a vm_page record or a pv chunk page
 * (recwrite.h). Field names come from the guest's DWARF, the meaning of
 * the fields (roles, summary bits, the bitmap) from its descriptor.
 */
#include "recwrite.h"

#include <stdio.h>
#include <string.h>

#include "contract.h"
#include "dwinfo.h"

#define PAGE_SHIFT	12

static const char *const role_upper[CT_ROLE_COUNT] = {
	"RESERVED", "FREE", "MANAGED", "PTP", "PDIR", "PVCHUNK", "KMEM",
};

/* The role name of a page.role value, or "?". */
static const char *role_name(const struct contract *ct, uint32_t v)
{
	for (int r = 0; r < CT_ROLE_COUNT; r++)
		if ((ct->roles_declared >> r & 1) && ct->role_val[r] == v)
			return role_upper[r];
	return "?";
}

/* "+MODIFIED -REFERENCED": the summary bits that changed, + set and - cleared. */
static void aflags_diff(const struct contract *ct, uint32_t old, uint32_t new, char *buf, size_t len)
{
	const struct { uint32_t bit; const char *name; } bits[] = {
		{ ct->aflag_ref, "REFERENCED" }, { ct->aflag_mod, "MODIFIED" },
	};
	uint32_t other = (old ^ new) & ~(ct->aflag_ref | ct->aflag_mod);
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]) && n < len; i++)
		if ((old ^ new) & bits[i].bit)
			n += snprintf(buf + n, len - n, "%s%c%s", n ? " " : "", new & bits[i].bit ? '+' : '-',
			    bits[i].name);
	if (other && n < len)
		snprintf(buf + n, len - n, "%s%c0x%x", n ? " " : "", new & other ? '+' : '-', other);
}

/* The values as text: a count or flags word in hex, the rest as addresses. */
static void format_values(const char *fmt, uint32_t old, uint32_t new, struct rec_write *r)
{
	snprintf(r->old, sizeof(r->old), fmt, old);
	snprintf(r->new, sizeof(r->new), fmt, new);
	r->decoded[0] = '\0';
	r->paren = 0;
}

void rec_vm_page(const struct contract *ct, uint32_t index, uint32_t off, uint32_t old, uint32_t new,
    struct rec_write *r)
{
	int role = ct->has_role && ct_in_word(ct->pg_role, off, 0) >= 0;
	int aflags = ct->has_aflags && ct_in_word(ct->pg_aflags, off, 0) >= 0;
	int count = (ct->has_pv_count && ct_in_word(ct->pg_pv_count, off, 0) >= 0) ||
	    (ct->has_wire_count && ct_in_word(ct->pg_wire_count, off, 0) >= 0);

	snprintf(r->record, sizeof(r->record), "%s[%u] (pa 0x%08x)", ct->name.page, index, index << PAGE_SHIFT);
	if (dw_name_at(ct->dw, ct->name.page, off, r->field, sizeof(r->field)) < 0)
		snprintf(r->field, sizeof(r->field), "+0x%x", off);
	format_values(role ? "%u" : aflags || count ? "0x%x" : "0x%08x", old, new, r);
	if (role) {
		snprintf(r->decoded, sizeof(r->decoded), "%s -> %s", role_name(ct, (uint32_t)ct_in_word(ct->pg_role, off, old)),
		    role_name(ct, (uint32_t)ct_in_word(ct->pg_role, off, new)));
		r->paren = 1;
	} else if (aflags) {
		aflags_diff(ct, (uint32_t)ct_in_word(ct->pg_aflags, off, old), (uint32_t)ct_in_word(ct->pg_aflags, off, new),
		    r->decoded, sizeof(r->decoded));
	}
}

/* "entry 96" or "entries 0-31, 40": the pv entries of the set bits, word i of the bitmap. */
static size_t entries_text(uint32_t bits, uint32_t i, char *buf, size_t len)
{
	size_t n = snprintf(buf, len, "entr%s", (bits & (bits - 1)) ? "ies" : "y");

	for (uint32_t b = 0; b < 32 && n < len; b++) {
		uint32_t e = b;

		if (!(bits & (1u << b)))
			continue;
		while (e + 1 < 32 && (bits & (1u << (e + 1))))
			e++;
		n += snprintf(buf + n, len - n, "%s %u", b && (bits & ((1u << b) - 1)) ? "," : "", i * 32 + b);
		if (e > b && n < len)
			n += snprintf(buf + n, len - n, "-%u", i * 32 + e);
		b = e;
	}
	return n < len ? n : len - 1;
}

/* "entry 96 taken", "entries 0-31 freed": a bitmap word's change, in the guest's polarity. */
static void map_diff(const struct contract *ct, uint32_t i, uint32_t old, uint32_t new, char *buf, size_t len)
{
	uint32_t npv = ct->npcpv;
	uint32_t valid = i * 32 + 32 <= npv ? ~0u : i * 32 >= npv ? 0 : (1u << (npv - i * 32)) - 1;
	uint32_t fo = ct->map_set_is_free ? old : ~old, fn = ct->map_set_is_free ? new : ~new;
	uint32_t taken = fo & ~fn & valid, freed = ~fo & fn & valid;
	size_t n = 0;

	buf[0] = '\0';
	if (taken) {
		n = entries_text(taken, i, buf, len);
		n += snprintf(buf + n, len - n, " taken");
	}
	if (freed && n + 2 < len) {
		if (n)
			n += snprintf(buf + n, len - n, ", ");
		n += entries_text(freed, i, buf + n, len - n);
		snprintf(buf + n, len - n, " freed");
	}
}

void rec_pv_chunk(const struct contract *ct, uint32_t chunk, uint32_t off, uint32_t old, uint32_t new,
    struct rec_write *r)
{
	int is_map = off >= ct->pc_map && off < ct->pc_map + 4 * ct->npcm;

	snprintf(r->record, sizeof(r->record), "pv chunk 0x%08x", chunk);
	if (dw_name_at(ct->dw, ct->name.chunk, off, r->field, sizeof(r->field)) < 0)
		snprintf(r->field, sizeof(r->field), "+0x%x", off);
	format_values("0x%08x", old, new, r);
	if (is_map)
		map_diff(ct, (off - ct->pc_map) / 4, old, new, r->decoded, sizeof(r->decoded));
	r->paren = is_map;
}

void rec_format(const struct rec_write *r, char *buf, size_t len)
{
	if (r->decoded[0] == '\0')
		snprintf(buf, len, "%s %s %s -> %s", r->record, r->field, r->old, r->new);
	else
		snprintf(buf, len, r->paren ? "%s %s %s -> %s (%s)" : "%s %s %s -> %s %s", r->record, r->field,
		    r->old, r->new, r->decoded);
}
