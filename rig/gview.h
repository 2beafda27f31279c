/*
 * gview.h - read-only views of guest structures through the ABI header:
 * host pointers to guest objects by kernel VA, page-table lookups for any
 * pmap, and PTE flag decoding for reports.
 */
#ifndef RIG_GVIEW_H
#define RIG_GVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "machine.h"

/* A host pointer to a guest object at kernel VA va, or NULL if unmapped. */
static inline void *gv_ptr(struct machine *m, uint32_t va, size_t len)
{
	return machine_gptr(m, va, len);
}
#define GV(m, type, va)	((type *)gv_ptr((m), (va), sizeof(type)))

/* A 32-bit guest word at kernel VA va (0 if unmapped). */
uint32_t gv_u32(struct machine *m, uint32_t va);
/* Scalar f of the guest object at kernel VA va (0 if unreadable). */
uint32_t gv_scalar(struct machine *m, uint32_t va, struct ct_scalar f);
/* Counter k of the guest (contract.h); 0, or -1 (and *v = 0) when the guest keeps none. */
int gv_counter(struct machine *m, enum ct_counter k, uint32_t *v);
/* The chunk KVA block: first VA, slots (0 when the guest declares none), slots mapped now. */
uint32_t gv_kva_base(struct machine *m);
uint32_t gv_kva_slots(struct machine *m);
uint32_t gv_kva_mapped(struct machine *m);
/* Translate va under a pmap's directory (physical address pdir_pa). */
enum walk_status gv_walk(struct machine *m, uint32_t pdir_pa, uint32_t va, struct walk *w);
/* "+P +RW +US +A +D" for the flags of an entry (frame not included). */
const char *pte_flags(uint32_t pte, char *buf, size_t len);
/* "RW,D" (or "RW+D"; "frame" for the frame bits) into a mask of entry bits; 0, or -1 with the unknown word in bad. */
int pte_flag_mask(const char *list, uint32_t *mask, char *bad, size_t badlen);
/* The names pte_flag_mask knows, for messages. */
const char *pte_flag_names(void);
/* "+RW -A" for the flags that differ between two entries. */
const char *pte_flags_diff(uint32_t old, uint32_t new, char *buf, size_t len);

#endif
