/*
 * rigtest_stores.S - one page-table store of each instruction kind, at a
 * global label the host's attribution tests compare event EIPs with.
 * Each takes (pte address, value[, count]) in cdecl.
 */
	.text

/* void rigtest_pte_mov(uint32_t *pte, uint32_t v) */
	.globl	rigtest_pte_mov, rigtest_pte_mov_insn
rigtest_pte_mov:
	movl	4(%esp), %edx
	movl	8(%esp), %eax
rigtest_pte_mov_insn:
	movl	%eax, (%edx)
	ret

/* uint32_t rigtest_pte_xchg(uint32_t *pte, uint32_t v): returns the old entry */
	.globl	rigtest_pte_xchg, rigtest_pte_xchg_insn
rigtest_pte_xchg:
	movl	4(%esp), %edx
	movl	8(%esp), %eax
	nop
rigtest_pte_xchg_insn:
	xchgl	%eax, (%edx)
	ret

/* uint32_t rigtest_pte_cmpxchg(uint32_t *pte, uint32_t v): old entry */
	.globl	rigtest_pte_cmpxchg, rigtest_pte_cmpxchg_insn
rigtest_pte_cmpxchg:
	pushl	%ebx
	movl	8(%esp), %edx
	movl	12(%esp), %ebx
	movl	(%edx), %eax
rigtest_pte_cmpxchg_insn:
	lock cmpxchgl %ebx, (%edx)
	popl	%ebx
	ret

/* void rigtest_pte_or(uint32_t *pte, uint32_t v): a locked read-modify-write */
	.globl	rigtest_pte_or, rigtest_pte_or_insn
rigtest_pte_or:
	movl	4(%esp), %edx
	movl	8(%esp), %eax
rigtest_pte_or_insn:
	lock orl %eax, (%edx)
	ret

/* void rigtest_pte_stos(uint32_t *pte, uint32_t v, uint32_t count) */
	.globl	rigtest_pte_stos, rigtest_pte_stos_insn
rigtest_pte_stos:
	pushl	%edi
	movl	8(%esp), %edi
	movl	12(%esp), %eax
	movl	16(%esp), %ecx
	cld
rigtest_pte_stos_insn:
	rep stosl
	popl	%edi
	ret

	.section .note.GNU-stack, "", @progbits
