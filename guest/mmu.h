/*
 * mmu.h - the reference guests' address space: the paging hardware
 * (i386.h) and the fixed parts of their memory map (docs/architecture.md).
 * The host reads the layout from guest_info, never from here.
 */
#ifndef PMAPRIG_MMU_H
#define PMAPRIG_MMU_H

#include "common/i386.h"

/* The memory map (docs/architecture.md). */
#define KERNBASE	0xC0000000	/* kernel virtual base; maps physical 0 */
#define KERNLOAD	0x00100000	/* physical load address of the kernel */
#define KPTDI		768		/* PDE index of KERNBASE */
#define PTDPTDI		1023		/* recursive slot: the PD maps itself here */
#define PTMAP_VA	0xFFC00000	/* PTmap: all PTEs of the current space */
#define PTD_VA		0xFFFFF000	/* PTD: the current page directory itself */
#define NKPT_BOOT	2		/* page tables locore builds for the kernel */
#define VM_MAXUSER_ADDRESS KERNBASE	/* user VAs are [0, KERNBASE) */

#endif /* PMAPRIG_MMU_H */
