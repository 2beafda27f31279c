/* machdep.c - the bsd7 guest's C entry point and its info block for the rig. */
#include "kernel.h"
#include "pmap.h"

/* Initialised data: the rig fills the "in" fields at its load address. */
struct guest_info guest_info = {
	.gi_magic = RIG_INFO_MAGIC,
	.gi_abi_version = RIG_ABI_VERSION,
	.gi_ram_size = 32 << 20,
	.gi_alloc_fail_after = ~0u,
};

/* Called by locore with paging on: bring up the VM system, report the layout. */
void init386(void)
{
	struct guest_info *gi = &guest_info;

	gi->gi_boot_cr3 = rcr3();
	gi->gi_kernbase = KERNBASE;
	gi->gi_ptdptdi = PTDPTDI;
	gi->gi_ptmap = PTMAP_VA;
	gi->gi_kernel_end = (vm_offset_t)_end;
	pmap_bootstrap(round_page((vm_offset_t)_end - KERNBASE));
	pmap_init();
	gi->gi_booted = 1;
}
