/*
 * recwrite.h - what a store into a vm_page record or a pv chunk page means:
 * the field it hits (named from the guest's DWARF), its old and new value
 * as a person reads them, and a decoding from its descriptor (page roles,
 * summary bits, pv entries taken or freed).
 */
#ifndef RIG_RECWRITE_H
#define RIG_RECWRITE_H

#include <stddef.h>
#include <stdint.h>

struct rec_write {
	char record[96];	/* "vm_page[347] (pa 0x0015b000)" or "pv chunk 0xc088a000" */
	char field[64];		/* "aflags", "pc_map[3]", "pc_pventry[5].pv_va" */
	char old[16], new[16];	/* the values as text shows them */
	char decoded[160];	/* "+MODIFIED", "FREE -> MANAGED", "entry 96 taken" or "" */
	int paren;		/* text puts decoded in parentheses */
};

struct contract;

/* A store into vm_page_array[index]: off is the word's byte offset in the record. */
void rec_vm_page(const struct contract *ct, uint32_t index, uint32_t off, uint32_t old, uint32_t new,
    struct rec_write *r);
/* A store into the pv chunk at VA chunk: off is the word's byte offset in the chunk. */
void rec_pv_chunk(const struct contract *ct, uint32_t chunk, uint32_t off, uint32_t old, uint32_t new,
    struct rec_write *r);
/* "RECORD FIELD OLD -> NEW[ DECODED | (DECODED)]" into buf. */
void rec_format(const struct rec_write *r, char *buf, size_t len);

#endif
