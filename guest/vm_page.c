/*
 * vm_page.c - one record per physical page, and the free-page allocator.
 *
 * vm_page_array[i] describes physical page i. Every page is in exactly one
 * state (VPS_*): reserved pages (low memory, the kernel image and what
 * pmap_bootstrap stole) never move; every other page is either on
 * vm_page_queue_free with state VPS_FREE, or allocated with the state its
 * user asked for.
 */
#include "kernel.h"
#include "pmap.h"

struct vm_page *vm_page_array;
uint32_t vm_page_array_size;
uint32_t vm_free_count;
static struct pglist vm_page_queue_free = TAILQ_HEAD_INITIALIZER(vm_page_queue_free);
static struct lock vm_page_queue_free_lock;	/* the free list and vm_free_count */

/* The record of the page holding physical address pa. */
struct vm_page *PHYS_TO_VM_PAGE(vm_paddr_t pa)
{
	uint32_t i = pa >> PAGE_SHIFT;

	KASSERT(i < vm_page_array_size, ("PHYS_TO_VM_PAGE: pa %x beyond RAM", pa));
	return &vm_page_array[i];
}

/*
 * Fill the array: pages below avail_start are reserved, the rest go on the
 * free list in ascending order, so allocation order is deterministic.
 */
void vm_page_startup(void)
{
	vm_paddr_t avail = avail_start;

	lock_init(&vm_page_queue_free_lock, "vm page free queue", 0);
	for (uint32_t i = 0; i < vm_page_array_size; i++) {
		struct vm_page *m = &vm_page_array[i];

		memset(m, 0, sizeof(*m));
		m->phys_addr = i << PAGE_SHIFT;
		TAILQ_INIT(&m->pv_list);
		m->state = VPS_RESERVED;
		if (m->phys_addr >= avail) {
			m->state = VPS_FREE;
			TAILQ_INSERT_TAIL(&vm_page_queue_free, m, listq);
			vm_free_count++;
		}
	}
}

/*
 * The fault-injection knob: gi_alloc_fail_after counts down the allocations
 * that may still succeed; at zero every allocation fails until the host
 * turns it off (~0).
 */
static boolean_t vm_page_alloc_injected_failure(void)
{
	uint32_t *n = &guest_info.gi_alloc_fail_after;

	if (*n == ~0u)
		return FALSE;
	if (*n == 0)
		return TRUE;
	(*n)--;
	return FALSE;
}

/* Take a page off the free list and give it `state`; NULL when none. */
struct vm_page *vm_page_alloc(uint32_t state)
{
	struct vm_page *m;

	lock_acquire(&vm_page_queue_free_lock);
	m = TAILQ_FIRST(&vm_page_queue_free);
	if (m == NULL || vm_page_alloc_injected_failure()) {
		lock_release(&vm_page_queue_free_lock);
		return NULL;
	}
	TAILQ_REMOVE(&vm_page_queue_free, m, listq);
	vm_free_count--;
	lock_release(&vm_page_queue_free_lock);
	m->state = state;
	m->aflags = 0;
	m->wire_count = 0;
	return m;
}

/* Return a page to the free list; it must have no mappings left. */
void vm_page_free(struct vm_page *m)
{
	KASSERT(m->state != VPS_FREE && m->state != VPS_RESERVED,
	    ("vm_page_free: page %x in state %u", m->phys_addr, m->state));
	KASSERT(TAILQ_EMPTY(&m->pv_list), ("vm_page_free: page %x still mapped", m->phys_addr));
	m->state = VPS_FREE;
	m->aflags = 0;
	m->wire_count = 0;
	lock_acquire(&vm_page_queue_free_lock);
	TAILQ_INSERT_HEAD(&vm_page_queue_free, m, listq);
	vm_free_count++;
	lock_release(&vm_page_queue_free_lock);
}
