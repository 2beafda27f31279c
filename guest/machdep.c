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

/* Called by locore with paging on, at KERNBASE: bring up the VM system. */
void init386(void)
{
	struct guest_info *gi = &guest_info;
	vm_paddr_t first = round_page((vm_offset_t)_end - KERNBASE);

	gi->gi_boot_cr3 = rcr3();
	gi->gi_kernbase = KERNBASE;
	gi->gi_ptdptdi = PTDPTDI;
	gi->gi_ptmap = PTMAP_VA;
	gi->gi_kernel_end = (vm_offset_t)_end;
	pmap_bootstrap(first);
	vm_page_startup();
	pmap_init();
	gi->gi_booted = 1;
}
