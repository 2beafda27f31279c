/*
 * vm_page.c - one record per physical page and the free queue. A page has
 * no state field: it is free while on vm_page_queue_free, and managed
 * (gets pv entries) unless VPO_UNMANAGED.
 */
#include "kernel.h"
#include "pmap.h"

struct vm_page *vm_page_array;
uint32_t vm_page_array_size;
static struct pglist vm_page_queue_free = TAILQ_HEAD_INITIALIZER(vm_page_queue_free);

/* The record of the page holding physical address pa. */
struct vm_page *PHYS_TO_VM_PAGE(vm_paddr_t pa)
{
	KASSERT((pa >> PAGE_SHIFT) < vm_page_array_size, ("PHYS_TO_VM_PAGE: pa %x beyond RAM", pa));
	return &vm_page_array[pa >> PAGE_SHIFT];
}

/* Fill the array; pages from avail up go on the free queue, lowest first. */
void vm_page_startup(vm_paddr_t avail)
{
	for (uint32_t i = 0; i < vm_page_array_size; i++) {
		struct vm_page *m = &vm_page_array[i];

		memset(m, 0, sizeof(*m));
		m->phys_addr = i << PAGE_SHIFT;
		TAILQ_INIT(&m->md.pv_list);
		m->oflags = VPO_UNMANAGED;
		if (m->phys_addr >= avail)
			TAILQ_INSERT_TAIL(&vm_page_queue_free, m, pageq);
	}
}

/* The rig's fault injection (guest_info.gi_alloc_fail_after): may this allocation succeed? */
static boolean_t vm_page_alloc_allowed(void)
{
	uint32_t *n = &guest_info.gi_alloc_fail_after;

	if (*n == ~0u)
		return TRUE;
	if (*n == 0)
		return FALSE;
	(*n)--;
	return TRUE;
}

/* Take a page off the free queue; NULL when none is left. */
struct vm_page *vm_page_alloc(int unmanaged)
{
	struct vm_page *m = TAILQ_FIRST(&vm_page_queue_free);

	if (m == NULL || !vm_page_alloc_allowed())
		return NULL;
	TAILQ_REMOVE(&vm_page_queue_free, m, pageq);
	m->oflags = unmanaged ? VPO_UNMANAGED : 0;
	m->aflags = 0;
	m->wire_count = 0;
	return m;
}

/* Put a page with no mappings back on the free queue. */
void vm_page_free(struct vm_page *m)
{
	KASSERT(TAILQ_EMPTY(&m->md.pv_list), ("vm_page_free: page %x still mapped", m->phys_addr));
	m->oflags = VPO_UNMANAGED;
	m->aflags = 0;
	m->wire_count = 0;
	TAILQ_INSERT_HEAD(&vm_page_queue_free, m, pageq);
}

/* Wait for free memory (VM_WAIT). One CPU, no pagedaemon: nothing will come. */
__noinline void vm_wait(void)
{
	__asm__ __volatile__("" ::: "memory");
}
