/*
 * dwinfo.c - owns the guest's DWARF: finds each complete struct definition
 * once (its name and DIE offset), then answers sizes and member offsets by
 * walking member paths through nested structs, typedefs and arrays.
 */
#include "dwinfo.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dw_struct {
	char *name;
	Dwarf_Off off;
};

struct dwinfo {
	int fd;
	Dwarf *dbg;
	struct dw_struct *structs;	/* complete struct definitions */
	size_t n, cap;
	struct dw_struct *vars;		/* global variables with a type */
	size_t nvars, capvars;
};

/* Remember a named DIE in one of the indexes (the first of each name wins). */
static int note(struct dw_struct **v, size_t *n, size_t *cap, Dwarf_Die *die)
{
	const char *name = dwarf_diename(die);

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].name, name))
			return 0;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct dw_struct *s = realloc(*v, ncap * sizeof(*s));

		if (s == NULL)
			return -1;
		*v = s;
		*cap = ncap;
	}
	if (((*v)[*n].name = strdup(name)) == NULL)
		return -1;
	(*v)[(*n)++].off = dwarf_dieoffset(die);
	return 0;
}

/* Index one top-level DIE: a complete struct, or a variable with a type. */
static int note_die(struct dwinfo *d, Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	if (dwarf_diename(die) == NULL)
		return 0;
	if (tag == DW_TAG_structure_type && !dwarf_hasattr(die, DW_AT_declaration))
		return note(&d->structs, &d->n, &d->cap, die);
	if (tag == DW_TAG_variable && dwarf_hasattr(die, DW_AT_type))
		return note(&d->vars, &d->nvars, &d->capvars, die);
	return 0;
}

/* Every struct at the top level of every compilation unit. */
static int index_structs(struct dwinfo *d)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	while (dwarf_nextcu(d->dbg, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(d->dbg, off + hsize, &cu) != NULL && dwarf_child(&cu, &die) == 0) {
			do {
				if (note_die(d, &die) < 0)
					return -1;
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	return 0;
}

struct dwinfo *dw_open(const char *path, char *err, size_t errlen)
{
	struct dwinfo *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((d->fd = open(path, O_RDONLY)) < 0) {
		snprintf(err, errlen, "%s: cannot open", path);
		free(d);
		return NULL;
	}
	if ((d->dbg = dwarf_begin(d->fd, DWARF_C_READ)) == NULL || index_structs(d) < 0 || d->n == 0) {
		snprintf(err, errlen, "%s: no DWARF struct definitions (build the guest with -g): %s", path,
		    d->dbg ? "no structs" : dwarf_errmsg(-1));
		dw_close(d);
		return NULL;
	}
	return d;
}

struct Dwarf *dw_dwarf(struct dwinfo *d)
{
	return d ? d->dbg : NULL;
}

void dw_close(struct dwinfo *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->structs[i].name);
	for (size_t i = 0; i < d->nvars; i++)
		free(d->vars[i].name);
	free(d->structs);
	free(d->vars);
	if (d->dbg != NULL)
		dwarf_end(d->dbg);
	close(d->fd);
	free(d);
}

/* The DIE of struct name, or NULL. */
static Dwarf_Die *find_struct(struct dwinfo *d, const char *name, Dwarf_Die *die)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->structs[i].name, name))
			return dwarf_offdie(d->dbg, d->structs[i].off, die);
	return NULL;
}

/* The type of die with typedefs and qualifiers peeled off; NULL for none. */
static Dwarf_Die *type_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;

	if (dwarf_attr_integrate(die, DW_AT_type, &a) == NULL || dwarf_formref_die(&a, out) == NULL)
		return NULL;
	for (;;) {
		int tag = dwarf_tag(out);

		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type)
			return out;
		if (dwarf_attr_integrate(out, DW_AT_type, &a) == NULL || dwarf_formref_die(&a, out) == NULL)
			return NULL;
	}
}

int dw_struct_size(struct dwinfo *d, const char *name, uint32_t *size)
{
	Dwarf_Die die;
	Dwarf_Word sz;

	*size = 0;
	if (find_struct(d, name, &die) == NULL || dwarf_aggregate_size(&die, &sz) != 0)
		return -1;
	*size = (uint32_t)sz;
	return 0;
}

/* The member called name directly inside struct die (anonymous members searched too). */
static int find_member(Dwarf_Die *sdie, const char *name, Dwarf_Die *out, uint32_t *off)
{
	Dwarf_Die m;

	if (dwarf_child(sdie, &m) != 0)
		return -1;
	do {
		Dwarf_Attribute a;
		Dwarf_Word loc = 0;
		const char *mn;

		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		if (dwarf_attr(&m, DW_AT_data_member_location, &a) != NULL && dwarf_formudata(&a, &loc) != 0)
			continue;	/* a location expression: not a plain struct */
		mn = dwarf_diename(&m);
		if (mn != NULL && !strcmp(mn, name)) {
			*out = m;
			*off = (uint32_t)loc;
			return 0;
		}
		if (mn == NULL) {	/* an anonymous struct or union member */
			Dwarf_Die t;
			uint32_t inner;

			if (type_of(&m, &t) != NULL && find_member(&t, name, out, &inner) == 0) {
				*off = (uint32_t)loc + inner;
				return 0;
			}
		}
	} while (dwarf_siblingof(&m, &m) == 0);
	return -1;
}

/* Elements of an array type (one dimension), or 0. */
static uint32_t array_count(Dwarf_Die *arr)
{
	Dwarf_Die sub;
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (dwarf_child(arr, &sub) != 0 || dwarf_tag(&sub) != DW_TAG_subrange_type)
		return 0;
	if (dwarf_attr(&sub, DW_AT_count, &a) != NULL && dwarf_formudata(&a, &w) == 0)
		return (uint32_t)w;
	if (dwarf_attr(&sub, DW_AT_upper_bound, &a) != NULL && dwarf_formudata(&a, &w) == 0)
		return (uint32_t)w + 1;
	return 0;
}

/* Walk member path from the struct type sdie, adding offsets into f. */
static int walk_path(Dwarf_Die *sdie, const char *what, const char *path, struct dw_field *f, char *err,
    size_t errlen)
{
	Dwarf_Die mdie, tdie = *sdie;
	char buf[256], *part, *save = NULL;
	Dwarf_Word sz;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part != NULL; part = strtok_r(NULL, ".", &save)) {
		uint32_t off;

		if (find_member(sdie, part, &mdie, &off) < 0) {
			snprintf(err, errlen, "%s has no member %s", what, path);
			return -1;
		}
		f->off += off;
		if (type_of(&mdie, &tdie) == NULL) {
			snprintf(err, errlen, "%s member %s has no type", what, path);
			return -1;
		}
		*sdie = tdie;
	}
	if (dwarf_aggregate_size(&tdie, &sz) != 0) {
		snprintf(err, errlen, "%s member %s has no size", what, path);
		return -1;
	}
	f->size = (uint32_t)sz;
	if (dwarf_tag(&tdie) == DW_TAG_array_type) {
		f->count = array_count(&tdie);
		f->elem_size = f->count ? f->size / f->count : 0;
	}
	return 0;
}

int dw_member(struct dwinfo *d, const char *sname, const char *path, struct dw_field *f, char *err,
    size_t errlen)
{
	Dwarf_Die sdie;
	char what[128];

	memset(f, 0, sizeof(*f));
	if (find_struct(d, sname, &sdie) == NULL) {
		snprintf(err, errlen, "the guest's DWARF has no struct %s", sname);
		return -1;
	}
	snprintf(what, sizeof(what), "struct %s", sname);
	return walk_path(&sdie, what, path, f, err, errlen);
}

int dw_var_member(struct dwinfo *d, const char *var, const char *path, struct dw_field *f, char *err,
    size_t errlen)
{
	Dwarf_Die vdie, tdie;
	char what[128];

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < d->nvars; i++) {
		if (strcmp(d->vars[i].name, var) || dwarf_offdie(d->dbg, d->vars[i].off, &vdie) == NULL ||
		    type_of(&vdie, &tdie) == NULL)
			continue;
		snprintf(what, sizeof(what), "variable %s", var);
		return walk_path(&tdie, what, path, f, err, errlen);
	}
	snprintf(err, errlen, "the guest's DWARF has no variable %s", var);
	return -1;
}

/* Append ".name" or "[i]" parts for byte off inside type tdie (a struct, an array or a scalar). */
static void name_inside(Dwarf_Die *tdie, uint32_t off, char *buf, size_t len, size_t n)
{
	Dwarf_Die m, t;

	for (int depth = 0; depth < 8 && n + 1 < len; depth++) {
		int tag = dwarf_tag(tdie), found = 0;

		if (tag == DW_TAG_array_type) {
			uint32_t count = array_count(tdie);
			Dwarf_Word sz;

			if (count == 0 || dwarf_aggregate_size(tdie, &sz) != 0 || sz / count == 0)
				return;
			n += snprintf(buf + n, len - n, "[%u]", off / (uint32_t)(sz / count));
			off %= (uint32_t)(sz / count);
			if (type_of(tdie, &t) == NULL)
				return;
			*tdie = t;
			continue;
		}
		if ((tag != DW_TAG_structure_type && tag != DW_TAG_union_type) || dwarf_child(tdie, &m) != 0)
			return;
		do {
			Dwarf_Attribute a;
			Dwarf_Word loc = 0, sz;

			if (dwarf_tag(&m) != DW_TAG_member || type_of(&m, &t) == NULL || dwarf_aggregate_size(&t, &sz) != 0)
				continue;
			if (dwarf_attr(&m, DW_AT_data_member_location, &a) != NULL && dwarf_formudata(&a, &loc) != 0)
				continue;
			if (off < loc || off >= loc + sz)
				continue;
			if (dwarf_diename(&m) != NULL)
				n += snprintf(buf + n, len - n, "%s%s", n ? "." : "", dwarf_diename(&m));
			off -= (uint32_t)loc;
			*tdie = t;
			found = 1;
			break;
		} while (dwarf_siblingof(&m, &m) == 0);
		if (!found)
			return;
	}
}

int dw_name_at(struct dwinfo *d, const char *sname, uint32_t off, char *buf, size_t len)
{
	Dwarf_Die sdie;

	buf[0] = '\0';
	if (d == NULL || find_struct(d, sname, &sdie) == NULL)
		return -1;
	name_inside(&sdie, off, buf, len, 0);
	return buf[0] ? 0 : -1;
}
