/*
 * mmu.h - the bsd7 guest's address space: the paging hardware (i386.h) and
 * FreeBSD i386's own memory map, whose recursive slot sits just below
 * KERNBASE (PTDPTDI = KPTDI - 1), so user space ends at PTmap.
 */
#ifndef BSD7_MMU_H
#define BSD7_MMU_H

#include "i386.h"

#define KERNBASE	0xC0000000	/* kernel virtual base; maps physical 0 */
#define KERNLOAD	0x00100000	/* physical load address of the kernel */
#define KPTDI		768		/* PDE index of KERNBASE */
#define PTDPTDI		(KPTDI - 1)	/* recursive slot, below KERNBASE */
#define PTMAP_VA	((0u + PTDPTDI) << PDRSHIFT)	/* 0xBFC00000 */
#define PTD_VA		(PTMAP_VA + PTDPTDI * PAGE_SIZE)	/* the directory itself */
#define NKPT_BOOT	2		/* page tables locore builds for the kernel */
#define VM_MAXUSER_ADDRESS PTMAP_VA	/* user VAs are [0, PTmap) */

#endif
