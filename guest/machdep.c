/*
 * machdep.c - the guest's C entry point and its info block for the host.
 */
#include "kernel.h"
#include "pmap.h"

/*
 * The info block the host finds by symbol. It is initialised data, so the
 * host can fill the "in" fields at its load address before the guest runs.
 */
struct guest_info guest_info = {
	.gi_magic = RIG_INFO_MAGIC,
	.gi_abi_version = RIG_ABI_VERSION,
	.gi_ram_size = 32 << 20,
	.gi_alloc_fail_after = ~0u,
};

struct pcpu __pcpu[MAXCPU];
u_int all_cpus;			/* CPUs that are up */
u_int mp_ncpus = 1;		/* CPUs the host runs */

vm_offset_t cpu_stacks;		/* the other CPUs' stacks (pmap_bootstrap) */

/* Fill CPU cpu's per-CPU data and count it as up. */
static void pcpu_init(u_int cpu)
{
	struct pcpu *pc = &__pcpu[cpu];

	pc->pc_cpuid = cpu;
	pc->pc_cpumask = 1u << cpu;
	pc->pc_curpmap = kernel_pmap;
	atomic_set_int(&all_cpus, pc->pc_cpumask);
}

/* Called by the host on each other CPU once the boot CPU's init is done (gi_ap_init). */
void init_secondary(int cpu)
{
	KASSERT(cpu > 0 && (u_int)cpu < mp_ncpus && (u_int)cpu == curcpu(),
	    ("init_secondary: cpu %d of %u", cpu, mp_ncpus));
	pcpu_init(cpu);
	atomic_set_int(&kernel_pmap->pm_active, __pcpu[cpu].pc_cpumask);
}

/* Publish how the host starts the other CPUs. */
static void mp_publish(struct guest_info *gi)
{
	extern char ipi_invlpg_entry[];

	gi->gi_maxcpu = MAXCPU;
	gi->gi_ap_init = (uint32_t)init_secondary;
	gi->gi_ipi_entry = (uint32_t)ipi_invlpg_entry;
	gi->gi_cpu_stack_size = CPU_STACK_PAGES * PAGE_SIZE;
	gi->gi_cpu_stacks = cpu_stacks;
}

/* Called by locore with paging on, at KERNBASE: bring up the VM system. */
void init386(void)
{
	struct guest_info *gi = &guest_info;
	vm_paddr_t first = round_page((vm_offset_t)_end - KERNBASE);

	if (gi->gi_ncpu > 1)
		mp_ncpus = gi->gi_ncpu > MAXCPU ? MAXCPU : gi->gi_ncpu;
	pcpu_init(0);

	gi->gi_boot_cr3 = rcr3();
	gi->gi_kernbase = KERNBASE;
	gi->gi_ptdptdi = PTDPTDI;
	gi->gi_ptmap = PTMAP_VA;
	gi->gi_kernel_end = (vm_offset_t)_end;
	pmap_bootstrap(first);
	mp_publish(gi);
	vm_page_startup();
	pmap_init();
	gi->gi_booted = 1;
}
