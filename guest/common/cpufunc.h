/* cpufunc.h - one inline function per privileged instruction the guest uses. */
#ifndef PMAPRIG_CPUFUNC_H
#define PMAPRIG_CPUFUNC_H

#include "types.h"
#include "rig_abi.h"

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

/* Read a 32-bit value from an I/O port (a hypercall with an answer). */
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

/* The number of the CPU running this (the host answers on RIG_PORT_CPUID). */
static inline u_int curcpu(void)
{
	return inl(RIG_PORT_CPUID);
}

/* One turn of a spin-wait loop (`pause`: the host may run another CPU here). */
static inline void cpu_spinwait(void)
{
	__asm__ __volatile__("pause" : : : "memory");
}

/* Flush every non-global TLB entry (reload CR3). */
static inline void invltlb(void)
{
	load_cr3(rcr3());
}

/* If *p is old, make it new, atomically (lock cmpxchg); non-zero if it was. */
static inline int atomic_cmpset_int(volatile u_int *p, u_int old, u_int new)
{
	return __sync_bool_compare_and_swap(p, old, new);
}

/* *p |= v, *p &= ~v and *p += v, atomically. */
static inline void atomic_set_int(volatile u_int *p, u_int v)
{
	__sync_fetch_and_or(p, v);
}

static inline void atomic_clear_int(volatile u_int *p, u_int v)
{
	__sync_fetch_and_and(p, ~v);
}

static inline void atomic_add_int(volatile u_int *p, u_int v)
{
	__sync_fetch_and_add(p, v);
}

#endif
