/* walk.h - the host's own page walker over guest physical memory. */
#ifndef RIG_WALK_H
#define RIG_WALK_H

#include <stddef.h>
#include <stdint.h>

/* Guest physical memory as the host sees it. */
struct physmem {
	uint8_t *ram;
	uint64_t size;
	uint8_t *dirty;		/* per frame: written since the snapshot (snapshot.c); NULL: none taken */
};

enum walk_status {
	WALK_MAPPED,		/* translated */
	WALK_NO_PDE,		/* PDE not present */
	WALK_NO_PTE,		/* PTE not present */
	WALK_BAD_TABLE,		/* a table lies outside RAM: garbage entry */
};

struct walk {
	enum walk_status status;
	uint32_t pa;		/* translation, when mapped */
	uint32_t pde, pte;	/* entries read (pte = pde for a 4 MiB page) */
	uint32_t pde_pa, pte_pa; /* where they live */
	int large;		/* a 4 MiB PSE page */
};

/* Pointer to len bytes at physical pa, or NULL if any of them is outside RAM. */
static inline void *phys_ptr(const struct physmem *pm, uint64_t pa, size_t len)
{
	if (pa > pm->size || len > pm->size - pa)
		return NULL;
	return pm->ram + pa;
}

/* The host or the CPU writes [pa, pa + len): a restore must put those frames back. */
static inline void phys_dirty(const struct physmem *pm, uint64_t pa, size_t len)
{
	if (pm->dirty != NULL && len > 0 && pa < pm->size)
		for (uint64_t f = pa >> 12; f <= (pa + len - 1) >> 12 && f < (pm->size >> 12); f++)
			pm->dirty[f] = 1;
}

/* Read a 32-bit word at physical pa; 0 outside RAM (sets *ok to 0). */
uint32_t phys_read32(const struct physmem *pm, uint64_t pa, int *ok);

/* Translate va under cr3 as the CPU would (PSE only when cr4 has it). */
enum walk_status walk_va(const struct physmem *pm, uint32_t cr3, uint32_t cr4, uint32_t va,
    struct walk *w);

/* Copy guest virtual memory; 0 or -1 at the first unmapped byte (*bad = va). */
int vread(const struct physmem *pm, uint32_t cr3, uint32_t cr4, uint32_t va, void *buf,
    size_t len, uint32_t *bad);
int vwrite(const struct physmem *pm, uint32_t cr3, uint32_t cr4, uint32_t va, const void *buf,
    size_t len, uint32_t *bad);
/* Read a NUL-terminated string of at most len - 1 bytes. */
int vread_string(const struct physmem *pm, uint32_t cr3, uint32_t cr4, uint32_t va, char *buf,
    size_t len);

#endif
