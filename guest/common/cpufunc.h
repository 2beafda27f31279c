/* cpufunc.h - one inline function per privileged instruction the guest uses. */
#ifndef PMAPRIG_CPUFUNC_H
#define PMAPRIG_CPUFUNC_H

#include "types.h"

/* Invalidate the TLB entry of one virtual address. */
static inline void invlpg(vm_offset_t va)
{
	__asm__ __volatile__("invlpg (%0)" : : "r"(va) : "memory");
}

/* Load CR3: switch address space and flush the TLB. */
static inline void load_cr3(uint32_t cr3)
{
	__asm__ __volatile__("movl %0, %%cr3" : : "r"(cr3) : "memory");
}

/* Read CR3. */
static inline uint32_t rcr3(void)
{
	uint32_t v;
	__asm__ __volatile__("movl %%cr3, %0" : "=r"(v));
	return v;
}

/* Read CR4. */
static inline uint32_t rcr4(void)
{
	uint32_t v;
	__asm__ __volatile__("movl %%cr4, %0" : "=r"(v));
	return v;
}

/* Load CR4. */
static inline void load_cr4(uint32_t v)
{
	__asm__ __volatile__("movl %0, %%cr4" : : "r"(v) : "memory");
}

/* Write a 32-bit value to an I/O port: the host's hypercall channel. */
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

#endif
