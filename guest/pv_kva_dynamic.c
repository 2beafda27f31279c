/*
 * pv_kva_dynamic.c - KVA policy "dynamic": the design before the 2006 fix.
 *
 * Each chunk page gets its KVA from the kernel map (kmem_alloc/kmem_free),
 * which takes kernel_map_lock and needs a map-entry record per allocation.
 * Map entries come from a small pool; refilling the pool allocates a page
 * and hooks it into the kernel with a *managed* pmap_enter on kernel_pmap,
 * which needs a pv entry, which may need a new chunk, which needs KVA...
 *
 * So: pmap_enter(user pmap) holds the pmap lock and then takes the kernel
 * map lock (for a chunk), while a refill holds the kernel map lock and then
 * takes kernel_pmap's lock: a lock-order reversal between the classes
 * "pmap" and "kernel map". And when the refill's pv entry needs a chunk,
 * kmem_alloc is entered again with kernel_map_lock held: recursion, and
 * lock_acquire panics. Exactly what peter@ describes; reachable on purpose.
 */
#include "kernel.h"
#include "pmap.h"
#include "pv_kva.h"

#define KMAPENT_BOOT	8	/* map entries available at boot */
#define KMEM_REFILL_PAGES 16	/* KVA for pages that refill the pool */

struct vm_map_entry {
	vm_offset_t	start, end;
	struct vm_map_entry *next;
};

struct lock kernel_map_lock;
static struct vm_map_entry kmapent_boot[KMAPENT_BOOT];
static struct vm_map_entry *kmapent_free;	/* the map-entry pool */
static struct vm_map_entry *kernel_map;		/* allocated ranges, sorted */
static vm_offset_t kmem_refill_va, kmem_refill_end;

/* Reserve the kernel-map arena (the chunk block) and the refill KVA. */
void pv_kva_bootstrap(void)
{
	pv_chunkbase = pmap_steal_kva(pv_maxchunks);
	kmem_refill_va = pmap_steal_kva(KMEM_REFILL_PAGES);
	kmem_refill_end = kmem_refill_va + KMEM_REFILL_PAGES * PAGE_SIZE;
}

/* Put n entries starting at e on the pool. */
static void kmapent_put_many(struct vm_map_entry *e, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		e[i].next = kmapent_free;
		kmapent_free = &e[i];
	}
}

/* Start the kernel map with its boot pool of map entries. */
void pv_kva_init(void)
{
	lock_init(&kernel_map_lock, "kernel map", 0);
	kmapent_put_many(kmapent_boot, KMAPENT_BOOT);
}

/*
 * Refill the pool: a new page, hooked into KVA with a managed mapping of
 * kernel_pmap (this is where pmap is entered with the kernel map locked).
 */
static __noinline boolean_t kmapent_refill(void)
{
	struct vm_page *m;
	vm_offset_t va = kmem_refill_va;

	if (va >= kmem_refill_end || (m = vm_page_alloc(VPS_KMEM)) == NULL)
		return FALSE;
	if (pmap_enter(kernel_pmap, va, m, VM_PROT_READ | VM_PROT_WRITE, FALSE) != KERN_SUCCESS) {
		vm_page_free(m);
		return FALSE;
	}
	kmem_refill_va += PAGE_SIZE;
	kmapent_put_many((struct vm_map_entry *)va, PAGE_SIZE / sizeof(struct vm_map_entry));
	return TRUE;
}

/* A map entry from the pool, refilling it when empty; NULL if impossible. */
static __noinline struct vm_map_entry *kmapent_get(void)
{
	struct vm_map_entry *e;

	if (kmapent_free == NULL && !kmapent_refill())
		return NULL;
	e = kmapent_free;
	kmapent_free = e->next;
	return e;
}

/* First fit: link e for `size` bytes into the sorted map; FALSE if full. */
static boolean_t kernel_map_insert(struct vm_map_entry *e, vm_offset_t size)
{
	vm_offset_t start = pv_chunkbase, end = pv_chunkbase + pv_maxchunks * PAGE_SIZE;
	struct vm_map_entry **link = &kernel_map;

	for (; *link != NULL && (*link)->start < start + size; link = &(*link)->next)
		start = (*link)->end;
	if (start + size > end)
		return FALSE;
	e->start = start;
	e->end = start + size;
	e->next = *link;
	*link = e;
	return TRUE;
}

/* Allocate size bytes of KVA from the kernel map; 0 when it is full. */
static __noinline vm_offset_t kmem_alloc(vm_offset_t size)
{
	struct vm_map_entry *e;
	vm_offset_t va = 0;

	lock_acquire(&kernel_map_lock);
	if ((e = kmapent_get()) != NULL) {
		if (kernel_map_insert(e, size))
			va = e->start;
		else
			kmapent_put_many(e, 1);
	}
	lock_release(&kernel_map_lock);
	return va;
}

/* Give the range starting at va back to the kernel map. */
static __noinline void kmem_free(vm_offset_t va)
{
	struct vm_map_entry **link, *e;

	lock_acquire(&kernel_map_lock);
	for (link = &kernel_map; (e = *link) != NULL; link = &e->next) {
		if (e->start == va) {
			*link = e->next;
			kmapent_put_many(e, 1);
			break;
		}
	}
	lock_release(&kernel_map_lock);
}

/* KVA from the kernel map, backed by a new page; NULL if either fails. */
struct pv_chunk *pv_chunk_page_get(void)
{
	vm_offset_t va = kmem_alloc(PAGE_SIZE);

	if (va == 0)
		return NULL;
	if (!pv_page_map(va)) {
		kmem_free(va);
		return NULL;
	}
	return (struct pv_chunk *)va;
}

/* Unmap an empty chunk, free its page and its KVA. */
void pv_chunk_page_put(struct pv_chunk *pc)
{
	vm_offset_t va = (vm_offset_t)pc;

	pv_page_unmap(va);
	kmem_free(va);
}
