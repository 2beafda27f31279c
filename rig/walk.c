/*
 * walk.c - translate guest virtual addresses by walking the guest's own page
 * tables in host memory (Unicorn 2.1.1 has no uc_vmem_read). Two levels,
 * 4 KiB pages and 4 MiB PSE pages; a table outside RAM is reported, never
 * dereferenced, so garbage tables cannot crash the host.
 */
#include "walk.h"

#include <string.h>

#include "../guest/common/i386.h"

uint32_t phys_read32(const struct physmem *pm, uint64_t pa, int *ok)
{
	const void *p = phys_ptr(pm, pa, 4);
	uint32_t v = 0;

	if (p != NULL)
		memcpy(&v, p, 4);
	if (ok != NULL)
		*ok = p != NULL;
	return v;
}

enum walk_status walk_va(const struct physmem *pm, uint32_t cr3, uint32_t cr4, uint32_t va,
    struct walk *w)
{
	int ok;

	memset(w, 0, sizeof(*w));
	w->pde_pa = (cr3 & PG_FRAME) + PDX(va) * 4;
	w->pde = phys_read32(pm, w->pde_pa, &ok);
	if (!ok)
		return w->status = WALK_BAD_TABLE;
	if (!(w->pde & PG_V))
		return w->status = WALK_NO_PDE;
	if ((w->pde & PG_PS) && (cr4 & CR4_PSE)) {
		w->large = 1;
		w->pte = w->pde;
		w->pte_pa = w->pde_pa;
		w->pa = (w->pde & PG_PS_FRAME) | (va & PDRMASK);
		return w->status = WALK_MAPPED;
	}
	w->pte_pa = PTE_ADDR(w->pde) + PTX(va) * 4;
	w->pte = phys_read32(pm, w->pte_pa, &ok);
	if (!ok)
		return w->status = WALK_BAD_TABLE;
	if (!(w->pte & PG_V))
		return w->status = WALK_NO_PTE;
	w->pa = PTE_ADDR(w->pte) | (va & PAGE_MASK);
	return w->status = WALK_MAPPED;
}

/* Copy len bytes between buf and guest VA, page by page. */
static int vcopy(const struct physmem *pm, uint32_t cr3, uint32_t cr4, uint32_t va, void *buf,
    size_t len, uint32_t *bad, int to_guest)
{
	uint8_t *b = buf;

	while (len > 0) {
		struct walk w;
		size_t n = PAGE_SIZE - (va & PAGE_MASK);
		uint8_t *p;

		if (n > len)
			n = len;
		if (walk_va(pm, cr3, cr4, va, &w) != WALK_MAPPED || (p = phys_ptr(pm, w.pa, n)) == NULL) {
			if (bad != NULL)
				*bad = va;
			return -1;
		}
		if (to_guest) {
			phys_dirty(pm, w.pa, n);
			memcpy(p, b, n);
		} else
			memcpy(b, p, n);
		b += n;
		va += n;
		len -= n;
	}
	return 0;
}

int vread(const struct physmem *pm, uint32_t cr3, uint32_t cr4, uint32_t va, void *buf,
    size_t len, uint32_t *bad)
{
	return vcopy(pm, cr3, cr4, va, buf, len, bad, 0);
}

int vwrite(const struct physmem *pm, uint32_t cr3, uint32_t cr4, uint32_t va, const void *buf,
    size_t len, uint32_t *bad)
{
	return vcopy(pm, cr3, cr4, va, (void *)buf, len, bad, 1);
}

int vread_string(const struct physmem *pm, uint32_t cr3, uint32_t cr4, uint32_t va, char *buf,
    size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (vread(pm, cr3, cr4, va + i, &buf[i], 1, NULL) < 0)
			break;
		if (buf[i] == '\0')
			return 0;
	}
	buf[i] = '\0';
	return i + 1 < len ? -1 : 0;
}
