/*
 * rig_touch.S - the one load and the one store the host may see fault on
 * purpose (scenario `touch`). uint32_t rig_touch_access(va, write)
 */
	.text
	.globl	rig_touch_access
rig_touch_access:
	movl	4(%esp), %edx
	cmpl	$0, 8(%esp)
	jne	1f
	.globl	rig_touch_load
rig_touch_load:
	movl	(%edx), %eax
	ret
1:	movl	$0x70ac4ed, %eax
	.globl	rig_touch_store
rig_touch_store:
	movl	%eax, (%edx)
	ret
