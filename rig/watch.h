/*
 * watch.h - watches the guest change paging state: CR0/CR3/CR4 loads and
 * INVLPG through code hooks on the sites a Capstone scan finds, and stores
 * into the physical pages that are page directories or page tables of a
 * live pmap through a memory-write hook (Unicorn 2.1 hands it physical
 * addresses). Every change becomes an event with the exact instruction.
 */
#ifndef RIG_WATCH_H
#define RIG_WATCH_H

#include <stdint.h>
#include <unicorn/unicorn.h>

#include "events.h"
#include "machine.h"

enum watch_page { WP_NONE, WP_PD, WP_PT, WP_CHUNK, WP_VMPAGE };

#define WATCH_MAX_PDS 128

enum site_kind { SITE_CR, SITE_INVLPG, SITE_SYNC };

/* An instruction the scan found, with what its hook needs to decode. */
struct watch_site {
	uint32_t addr;
	enum site_kind kind;
	int cr;			/* SITE_CR: 0, 3 or 4 */
	int src;		/* SITE_CR: Unicorn register holding the new value */
	int base, index;	/* SITE_INVLPG: Unicorn registers (0 = none) */
	uint32_t scale, disp;
};

struct watch {
	struct machine *m;
	struct events *ev;
	uint32_t npages;
	uint8_t *kind;		/* per physical page: WP_* */
	uint32_t *pd_of;	/* PT page: its directory (pa), or EV_KERNEL_SPACE;
				 * chunk page: the chunk's VA; vm_page array page:
				 * its byte offset in the array */
	uint16_t *pdx_of;	/* PT page: its PDE index */
	uint16_t *refs;		/* PT page: PDEs that point at it */
	struct watch_site *sites;
	int nsites;
	uc_hook *hooks;
	int nhooks;
	uint32_t cr3;		/* last CR3 seen (loads and step boundaries) */
	uint32_t pds[WATCH_MAX_PDS];	/* directories watched */
	int npds;
	uint32_t pv_lo, pv_hi;	/* the chunk KVA block */
};

/* Scan the guest, install the hooks, learn the current tables. 0 or -1. */
int watch_attach(struct watch *w, struct machine *m, struct events *ev, char *err, size_t errlen);
void watch_detach(struct watch *w);
/* At a step boundary: reconcile directories with allpmaps, notice unseen CR3 loads. */
void watch_sync(struct watch *w);
/* Number of sites of a kind (for tests and `rig trace`'s header). */
int watch_count_sites(const struct watch *w, enum site_kind kind);

#endif
