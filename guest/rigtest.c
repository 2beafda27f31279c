/*
 * rigtest.c - small guest functions the host's tests call: calling
 * convention, loads and stores through the MMU, faults, panics, a runaway
 * loop, a 4 MiB page, and the two ways to drop translations.
 */
#include "kernel.h"
#include "pmap.h"

/* Return a weighted sum, so argument order and count both show. */
uint32_t rigtest_args(uint32_t a, uint32_t b, uint32_t c, uint32_t d,
    uint32_t e, uint32_t f, uint32_t g, uint32_t h)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}

/* Load a word through the MMU. */
uint32_t rigtest_load(vm_offset_t va)
{
	return *(volatile uint32_t *)va;
}

/* Store a word through the MMU. */
void rigtest_store(vm_offset_t va, uint32_t v)
{
	*(volatile uint32_t *)va = v;
}

/* Never return. */
void rigtest_spin(void)
{
	for (;;)
		__asm__ __volatile__("" ::: "memory");
}

/* Panic with a number in the message. */
void rigtest_panic(int n)
{
	panic("rigtest panic %d", n);
}

/* Execute an invalid opcode. */
void rigtest_ud2(void)
{
	__asm__ __volatile__("ud2");
}

/* An invalid opcode in a function inlined twice over (source-line tests). */
static volatile int rigtest_depth;

static inline __attribute__((always_inline)) void rigtest_inner_ud2(void)
{
	rigtest_depth = 2;
	__asm__ __volatile__("ud2");
}

static inline __attribute__((always_inline)) void rigtest_middle_ud2(void)
{
	rigtest_depth = 1;
	rigtest_inner_ud2();
}

void rigtest_inlined_ud2(void)
{
	rigtest_depth = 0;
	rigtest_middle_ud2();
}

/* Map a 4 MiB PSE page va -> pa in the current directory (tests only). */
void rigtest_map_pse(vm_offset_t va, vm_paddr_t pa)
{
	load_cr4(rcr4() | CR4_PSE);
	PTD[PDX(va)] = (pa & PG_PS_FRAME) | PG_V | PG_RW | PG_PS;
	invlpg(va);
}

/* Remove a PSE mapping made by rigtest_map_pse. */
void rigtest_unmap_pse(vm_offset_t va)
{
	PTD[PDX(va)] = 0;
	invlpg(va);
}

/* Invalidate one page's translation. */
void rigtest_invlpg(vm_offset_t va)
{
	invlpg(va);
}

/* Reload CR3 with its own value: every non-global translation goes. */
void rigtest_reload_cr3(void)
{
	load_cr3(rcr3());
}
