/*
 * locore.S - boot: build the initial page tables, turn paging on, enter C.
 *
 * The host starts us at _start's physical address with flat 32-bit segments
 * and paging off. Like FreeBSD's locore we map the kernel image both at its
 * physical address (a temporary identity map, so the instruction after the
 * CR0 write still has a translation) and at KERNBASE, install the recursive
 * slot PTDPTDI so every page table of the current space appears in PTmap,
 * jump high, drop the identity map and call init386().
 */
#define __ASSEMBLER__ 1
#include "mmu.h"

#define PA(sym)	((sym) - KERNBASE)

	.section .text.locore, "ax"
	.code32
	.globl	_start
_start:
	cld
	/* PTEs for every page of [0, _end): kernel RW, at boot_pt[pa >> 12]. */
	movl	$PA(boot_pt), %edi
	movl	$PA(_end), %ecx
	shrl	$PAGE_SHIFT, %ecx
	movl	$(PG_V | PG_RW), %eax
1:	movl	%eax, (%edi)
	addl	$4, %edi
	addl	$PAGE_SIZE, %eax
	loop	1b

	/* PDEs: boot_pt[i] at slot i (identity) and KPTDI + i (KERNBASE). */
	movl	$PA(boot_pd), %edi
	movl	$(PA(boot_pt) + PG_V + PG_RW), %eax
	xorl	%ecx, %ecx
2:	movl	%eax, (%edi, %ecx, 4)
	movl	%eax, (KPTDI * 4)(%edi, %ecx, 4)
	addl	$PAGE_SIZE, %eax
	incl	%ecx
	cmpl	$NKPT_BOOT, %ecx
	jb	2b

	/* The recursive slot: the directory is its own page table there. */
	movl	$(PA(boot_pd) + PG_V + PG_RW), (PTDPTDI * 4)(%edi)

	/* Paging on, with write protection honoured in supervisor mode. */
	movl	$PA(boot_pd), %eax
	movl	%eax, %cr3
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_WP), %eax
	movl	%eax, %cr0
	movl	$begin_high, %eax
	jmp	*%eax

begin_high:
	/* Now at KERNBASE: drop the identity map and flush it from the TLB. */
	xorl	%ecx, %ecx
3:	movl	$0, boot_pd(, %ecx, 4)
	incl	%ecx
	cmpl	$NKPT_BOOT, %ecx
	jb	3b
	movl	%cr3, %eax
	movl	%eax, %cr3

	movl	$bootstack_top, %esp
	xorl	%ebp, %ebp
	call	init386

/*
 * Every host-to-guest call returns here: the host pushes rig_return as the
 * return address, and the hlt stops the emulator.
 */
	.globl	rig_return
rig_return:
	hlt
	jmp	rig_return

	.bss
	.p2align PAGE_SHIFT
	.globl	boot_pd, boot_pt, bootstack, bootstack_top
boot_pd:
	.space	PAGE_SIZE
boot_pt:
	.space	NKPT_BOOT * PAGE_SIZE
bootstack:
	.space	4 * PAGE_SIZE
bootstack_top:
