/*
 * i386.h - names for the i386 paging hardware (non-PAE, two-level, 4 KiB
 * pages): sizes, entry bits, control-register bits, index macros. Facts
 * about the CPU, shared by every guest and the host. PG_W and PG_MANAGED
 * are FreeBSD's software bits (PG_AVAIL1, PG_AVAIL2), part of the guest
 * contract (docs/guest-contract.md).
 */
#ifndef PMAPRIG_I386_H
#define PMAPRIG_I386_H

#define PAGE_SHIFT	12
#define PAGE_SIZE	4096
#define PAGE_MASK	(PAGE_SIZE - 1)
#define PDRSHIFT	22			/* log2(NBPDR) */
#define NBPDR		(1 << PDRSHIFT)		/* bytes mapped by one PDE: 4 MiB */
#define PDRMASK		(NBPDR - 1)
#define NPTEPG		1024			/* PTEs per page-table page */
#define NPDEPG		1024			/* PDEs per page directory */

/* Page-table and page-directory entry bits. */
#define PG_V		0x001	/* valid (present) */
#define PG_RW		0x002	/* writable */
#define PG_U		0x004	/* user accessible */
#define PG_NC_PWT	0x008	/* write-through */
#define PG_NC_PCD	0x010	/* cache disable */
#define PG_A		0x020	/* accessed: set by the CPU */
#define PG_M		0x040	/* modified (dirty): set by the CPU */
#define PG_PS		0x080	/* 4 MiB page (PDE only) */
#define PG_G		0x100	/* global */
#define PG_W		0x200	/* software: wired mapping (PG_AVAIL1) */
#define PG_MANAGED	0x400	/* software: page has a pv entry (PG_AVAIL2) */
#define PG_FRAME	0xfffff000
#define PG_PS_FRAME	0xffc00000

/* Control-register bits. */
#define CR0_PE		0x00000001
#define CR0_WP		0x00010000
#define CR0_PG		0x80000000
#define CR4_PSE		0x00000010
#define CR4_PGE		0x00000080

#ifndef __ASSEMBLER__
/* Page-directory index, page-table index and frame of an address or entry. */
#define PDX(va)		(((unsigned)(va) >> PDRSHIFT) & 0x3ff)
#define PTX(va)		(((unsigned)(va) >> PAGE_SHIFT) & 0x3ff)
#define PTE_ADDR(pte)	((unsigned)(pte) & PG_FRAME)
#define PGADDR(d, t)	(((unsigned)(d) << PDRSHIFT) | ((unsigned)(t) << PAGE_SHIFT))
#define trunc_page(x)	((unsigned)(x) & ~(unsigned)PAGE_MASK)
#define round_page(x)	(((unsigned)(x) + PAGE_MASK) & ~(unsigned)PAGE_MASK)
#define trunc_4mpage(x)	((unsigned)(x) & ~(unsigned)PDRMASK)
#define round_4mpage(x)	(((unsigned)(x) + PDRMASK) & ~(unsigned)PDRMASK)
#endif


#endif /* PMAPRIG_I386_H */
