/*
 * recwrite.c - decode a store into a vm_page record or a pv chunk page
 * (recwrite.h). Field names and offsets come from guest/rig_abi.h.
 */
#include "recwrite.h"

#include <stdio.h>
#include <string.h>

#include "../guest/rig_abi.h"

enum rec_fmt { RF_COUNT, RF_ADDR, RF_STATE, RF_AFLAGS };

struct rec_field {
	uint32_t off;
	const char *name;
	enum rec_fmt fmt;
};

static const struct rec_field vm_page_fields[] = {
	{ offsetof(struct vm_page, phys_addr), "phys_addr", RF_ADDR },
	{ offsetof(struct vm_page, state), "state", RF_STATE },
	{ offsetof(struct vm_page, aflags), "aflags", RF_AFLAGS },
	{ offsetof(struct vm_page, wire_count), "wire_count", RF_COUNT },
	{ offsetof(struct vm_page, pv_count), "pv_count", RF_COUNT },
	{ offsetof(struct vm_page, pv_list.tqh_first), "pv_list.tqh_first", RF_ADDR },
	{ offsetof(struct vm_page, pv_list.tqh_last), "pv_list.tqh_last", RF_ADDR },
	{ offsetof(struct vm_page, listq.tqe_next), "listq.tqe_next", RF_ADDR },
	{ offsetof(struct vm_page, listq.tqe_prev), "listq.tqe_prev", RF_ADDR },
};
_Static_assert(sizeof(vm_page_fields) / sizeof(vm_page_fields[0]) * 4 == sizeof(struct vm_page),
    "vm_page_fields names every word of struct vm_page");

/* The VPS_* name of a page state, or "?". */
static const char *state_name(uint32_t s)
{
	static const char *names[] = { "?", "RESERVED", "FREE", "MANAGED", "PTP", "PDIR", "PVCHUNK", "KMEM" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* "+MODIFIED -REFERENCED": the PGA_* bits that changed, + set and - cleared. */
static void aflags_diff(uint32_t old, uint32_t new, char *buf, size_t len)
{
	static const struct { uint32_t bit; const char *name; } bits[] = {
		{ PGA_REFERENCED, "REFERENCED" }, { PGA_MODIFIED, "MODIFIED" },
	};
	uint32_t other = (old ^ new) & ~(uint32_t)(PGA_REFERENCED | PGA_MODIFIED);
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]) && n < len; i++)
		if ((old ^ new) & bits[i].bit)
			n += snprintf(buf + n, len - n, "%s%c%s", n ? " " : "", new & bits[i].bit ? '+' : '-',
			    bits[i].name);
	if (other && n < len)
		snprintf(buf + n, len - n, "%s%c0x%x", n ? " " : "", new & other ? '+' : '-', other);
}

/* old and new as text shows a field of format f; the decoding into r too. */
static void format_values(enum rec_fmt f, uint32_t old, uint32_t new, struct rec_write *r)
{
	const char *fmt = f == RF_ADDR ? "0x%08x" : f == RF_STATE ? "%u" : "0x%x";

	snprintf(r->old, sizeof(r->old), fmt, old);
	snprintf(r->new, sizeof(r->new), fmt, new);
	r->decoded[0] = '\0';
	r->paren = f == RF_STATE;
	if (f == RF_STATE)
		snprintf(r->decoded, sizeof(r->decoded), "%s -> %s", state_name(old), state_name(new));
	else if (f == RF_AFLAGS)
		aflags_diff(old, new, r->decoded, sizeof(r->decoded));
}

void rec_vm_page(uint32_t index, uint32_t off, uint32_t old, uint32_t new, struct rec_write *r)
{
	const struct rec_field *f = NULL;

	for (size_t i = 0; i < sizeof(vm_page_fields) / sizeof(vm_page_fields[0]); i++)
		if (vm_page_fields[i].off == off)
			f = &vm_page_fields[i];
	snprintf(r->record, sizeof(r->record), "vm_page[%u] (pa 0x%08x)", index, index << PAGE_SHIFT);
	if (f)
		snprintf(r->field, sizeof(r->field), "%s", f->name);
	else
		snprintf(r->field, sizeof(r->field), "+0x%x", off);
	format_values(f ? f->fmt : RF_ADDR, old, new, r);
}

/* The name of the link at byte off of a TAILQ_ENTRY. */
static const char *link_name(uint32_t off)
{
	return off == 0 ? "tqe_next" : "tqe_prev";
}

/* The name of the word at byte off of a pc_pventry element. */
static const char *pv_entry_field(uint32_t off)
{
	if (off == offsetof(struct pv_entry, pv_va))
		return "pv_va";
	return off == offsetof(struct pv_entry, pv_next.tqe_next) ? "pv_next.tqe_next" : "pv_next.tqe_prev";
}

/* The name of the word at byte off of a pv chunk. */
static void pv_field(uint32_t off, char *buf, size_t len)
{
	const uint32_t list = offsetof(struct pv_chunk, pc_list), map = offsetof(struct pv_chunk, pc_map);
	const uint32_t lru = offsetof(struct pv_chunk, pc_lru), pv = offsetof(struct pv_chunk, pc_pventry);
	const uint32_t esz = sizeof(struct pv_entry);

	if (off < list)
		snprintf(buf, len, "pc_pmap");
	else if (off < map)
		snprintf(buf, len, "pc_list.%s", link_name(off - list));
	else if (off < lru)
		snprintf(buf, len, "pc_map[%u]", (off - map) / 4);
	else if (off < pv)
		snprintf(buf, len, "pc_lru.%s", link_name(off - lru));
	else
		snprintf(buf, len, "pc_pventry[%u].%s", (off - pv) / esz, pv_entry_field((off - pv) % esz));
}

/* "entry 96" or "entries 0-31, 40": the pv entries of the set bits, word i of pc_map. */
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

/* "entry 96 taken", "entries 0-31 freed": a pc_map word's change (bit set = free). */
static void map_diff(uint32_t i, uint32_t old, uint32_t new, char *buf, size_t len)
{
	uint32_t valid = i * 32 + 32 <= _NPCPV ? ~0u : i * 32 >= _NPCPV ? 0 : (1u << (_NPCPV - i * 32)) - 1;
	uint32_t taken = old & ~new & valid, freed = ~old & new & valid;
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

void rec_pv_chunk(uint32_t chunk, uint32_t off, uint32_t old, uint32_t new, struct rec_write *r)
{
	const uint32_t map = offsetof(struct pv_chunk, pc_map), lru = offsetof(struct pv_chunk, pc_lru);
	int is_map = off >= map && off < lru;

	snprintf(r->record, sizeof(r->record), "pv chunk 0x%08x", chunk);
	pv_field(off, r->field, sizeof(r->field));
	format_values(RF_ADDR, old, new, r);
	if (is_map)
		map_diff((off - map) / 4, old, new, r->decoded, sizeof(r->decoded));
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
