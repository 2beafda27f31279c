/*
 * dwinfo.h - struct sizes and member offsets from a guest ELF's DWARF, read
 * with elfutils' libdw. The host learns a guest's structures from here and
 * never from a header compiled into it.
 */
#ifndef RIG_DWINFO_H
#define RIG_DWINFO_H

#include <stddef.h>
#include <stdint.h>

struct dwinfo;

/* One member (or member path "a.b.c") of a struct. */
struct dw_field {
	uint32_t off;		/* from the start of the outer struct */
	uint32_t size;		/* bytes of the member (the whole array for an array) */
	uint32_t count;		/* elements, for an array member; 0 otherwise */
	uint32_t elem_size;	/* bytes of one element, for an array member */
};

/* Open path's DWARF; NULL with a message in err when it has none. */
struct dwinfo *dw_open(const char *path, char *err, size_t errlen);
void dw_close(struct dwinfo *d);
/* libdw's handle of it, for the line table (srcline.c); valid until dw_close. */
struct Dwarf *dw_dwarf(struct dwinfo *d);
/* The byte size of struct name; 0 and -1 when the DWARF has no such struct. */
int dw_struct_size(struct dwinfo *d, const char *name, uint32_t *size);
/* Member path (dot-separated) of struct sname; -1 with a message when absent. */
int dw_member(struct dwinfo *d, const char *sname, const char *path, struct dw_field *f, char *err,
    size_t errlen);

/* Member path of a global variable's type (counters inside a stats struct); the same. */
int dw_var_member(struct dwinfo *d, const char *var, const char *path, struct dw_field *f, char *err,
    size_t errlen);

/* The member path at byte off of struct sname ("pv_list.tqh_last", "pc_pventry[5].pv_va"); -1 if none. */
int dw_name_at(struct dwinfo *d, const char *sname, uint32_t off, char *buf, size_t len);

#endif
