/*
 * rig_abi.h - the runtime ABI the rig owns (docs/guest-contract.md): how
 * the host boots a guest, the hypercall ports, and the guest info block
 * with the inputs the host sets and the layout the guest reports. Nothing
 * about a guest's pmap is here: its structures, lists and counters are
 * declared by its descriptor (section .rig_contract) and read through its
 * DWARF. The guest compiles this with RIG_GUEST defined and sees real
 * pointers; the host sees the same 32-bit slots as uint32_t (GPTR).
 */
#ifndef PMAPRIG_RIG_ABI_H
#define PMAPRIG_RIG_ABI_H

#include <stdint.h>
#include <stddef.h>

#ifdef RIG_GUEST
#define GPTR(T)		T *
#else
#define GPTR(T)		uint32_t
#endif

#define RIG_ABI_VERSION	3
#define RIG_INFO_MAGIC	0x50524947u	/* "PRIG" */

/* Boot: the host puts a flat GDT in this physical page, loads the kernel
 * image at its load addresses and starts it in protected mode, paging off. */
#define GDT_PA		0x00001000

/* Hypercall ports: the guest does `out %eax, (%dx)`; the host hooks OUT. */
#define RIG_PORT_PANIC	0x0510		/* eax = VA of the NUL-terminated message */
#define RIG_PORT_PUTC	0x0511		/* eax = one character for the console */
#define RIG_PORT_CPUID	0x0512		/* IN: the number of the CPU executing it */
#define RIG_PORT_IPI	0x0513		/* eax = VA of a struct rig_ipi: send it */
#define RIG_PORT_IPI_ACK 0x0514		/* the IPI handler acknowledges (eax = its CPU) */

/*
 * A TLB shootdown IPI (RIG_PORT_IPI): the CPUs to interrupt, the VA to
 * invalidate (RIG_IPI_ALL: the whole TLB) and the pmap whose translations
 * it drops (the kernel's for kernel VAs). The host delivers it to each CPU
 * in ri_cpus at that CPU's next scheduling point by an interrupt frame
 * (EFLAGS, CS, EIP) and a jump to gi_ipi_entry; the handler acknowledges
 * through RIG_PORT_IPI_ACK once it invalidated, and returns with iret.
 */
struct rig_ipi {
	uint32_t	ri_cpus;		/* target CPU set, bit n = CPU n */
	uint32_t	ri_va;			/* page to invalidate, or RIG_IPI_ALL */
	uint32_t	ri_pmap;		/* the pmap (guest VA) */
};
#define RIG_IPI_ALL	0xffffffffu
#define RIG_MAX_CPUS	8

/*
 * The guest info block: exported as `guest_info`, found by the host through
 * the ELF symbol table. It is initialised data, so the host fills the "in"
 * fields at its load address before boot; the guest fills the rest during
 * boot (the layout: KERNBASE, the recursive slot, PTmap).
 */
struct guest_info {
	uint32_t	gi_magic;		/* RIG_INFO_MAGIC */
	uint32_t	gi_abi_version;		/* RIG_ABI_VERSION */
	/* in: set by the host before boot */
	uint32_t	gi_ram_size;		/* bytes of guest RAM */
	uint32_t	gi_pv_maxchunks_req;	/* pages of chunk KVA (scenario `pv-chunks`); 0 = default */
	/* knob: set by the host at any time */
	uint32_t	gi_alloc_fail_after;	/* fail after N more page allocations; ~0 = off */
	/* out: filled by the guest during boot */
	uint32_t	gi_booted;		/* 1 once the guest's init finished */
	uint32_t	gi_boot_cr3;		/* CR3 of the kernel's space */
	uint32_t	gi_kernbase;		/* first kernel VA (a multiple of 4 MiB) */
	uint32_t	gi_ptdptdi;		/* the recursive slot: the directory maps itself here */
	uint32_t	gi_ptmap;		/* PTmap VA: gi_ptdptdi << 22 */
	uint32_t	gi_kernel_end;		/* end of the kernel image (VA) */
	uint32_t	gi_kva_free;		/* kernel VA from here up is the scenarios' */
	GPTR(uint32_t)	gi_kernel_vm_end;	/* &kernel_vm_end: the end of kernel page tables */
	/*
	 * Several CPUs. in: how many the host runs (1 to gi_maxcpu), set
	 * before boot. out: a uniprocessor guest leaves gi_maxcpu 0. After
	 * the boot CPU's init, the host starts each other CPU n with the boot
	 * CPU's control registers and calls gi_ap_init(n) on it, on the stack
	 * that ends at gi_cpu_stacks + (n + 1) * gi_cpu_stack_size (CPU 0 runs
	 * on the boot stack).
	 */
	uint32_t	gi_ncpu;		/* in: CPUs the host runs */
	uint32_t	gi_maxcpu;		/* CPUs the guest can run on; 0 = one */
	uint32_t	gi_ap_init;		/* VA of void init_secondary(int cpu) */
	uint32_t	gi_ipi_entry;		/* VA of the IPI's interrupt entry */
	uint32_t	gi_cpu_stacks;		/* VA of the other CPUs' stacks */
	uint32_t	gi_cpu_stack_size;	/* bytes each */
};

_Static_assert(sizeof(struct guest_info) == 76, "guest_info");
_Static_assert(offsetof(struct guest_info, gi_ram_size) == 8, "gi_ram_size");

#endif /* PMAPRIG_RIG_ABI_H */
