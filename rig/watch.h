/*
 * watch.h - watches the guest change paging state. CR0/CR3/CR4 loads and
 * INVLPG are code sites a Capstone scan finds (they also keep the MMU's TLB
 * model exact); stores into the watched frames (page directories and page
 * tables of live pmaps, the vm_page array, the pv chunk pages) arrive
 * through the MMU's alias window. Every change becomes an event with the
 * instruction that made it (attrib.h: exact but for a rare first guess
 * within one block, which the event marks).
 */
#ifndef RIG_WATCH_H
#define RIG_WATCH_H

#include <stdint.h>
#include <unicorn/unicorn.h>

#include "attrib.h"
#include "events.h"
#include "machine.h"

/*
 * What a watched frame is. WP_FRESH: mapped into the kernel while
 * pmap_pinit runs, watched only until it returns, so that the store of a
 * new directory's self-map entry is seen (and the directory with it).
 * The guest's pmap_pinit is found by name, as FreeBSD calls it.
 */
enum watch_page { WP_NONE, WP_PD, WP_PT, WP_CHUNK, WP_VMPAGE, WP_FRESH };

#define WATCH_MAX_PDS	128
#define WATCH_MAX_FRESH	16

enum site_kind { SITE_CR, SITE_INVLPG, SITE_STRING };

/* An instruction the scan found, with what its site needs to decode. */
struct watch_site {
	uint32_t addr;
	enum site_kind kind;
	int cr;			/* SITE_CR: 0, 3 or 4 */
	int src;		/* SITE_CR: Unicorn register holding the new value */
	int base, index;	/* SITE_INVLPG: Unicorn registers (0 = none) */
	uint32_t scale, disp;
	uint32_t size;		/* SITE_STRING: bytes per element of a rep stos/movs */
	int movs;		/* SITE_STRING: movs (else stos) */
};

struct watch {
	struct machine *m;
	struct events *ev;
	uint32_t npages;
	uint8_t *kind;		/* per physical page: WP_* */
	uint8_t *alias;		/* per physical page: the MMU hands out its alias */
	uint32_t *pd_of;	/* PT page: its directory (pa), or EV_KERNEL_SPACE;
				 * chunk page: the chunk's VA; vm_page array page:
				 * its byte offset in the array */
	uint16_t *pdx_of;	/* PT page: its PDE index */
	uint16_t *refs;		/* PT page: PDEs that point at it */
	struct watch_site *sites;	/* sorted by address */
	int nsites;
	uint32_t pds[WATCH_MAX_PDS];	/* directories watched */
	int npds;
	uint32_t pv_lo, pv_hi;	/* the chunk KVA block */
	uint32_t pinit;		/* pmap_pinit's entry (0: the guest has none) */
	uint32_t pinit_ret, pinit_esp;	/* while pmap_pinit runs: where it returns */
	uint32_t fresh[WATCH_MAX_FRESH];	/* WP_FRESH frames */
	int nfresh;
	struct attrib *attrib;	/* which instruction made a store through the window: */
	struct attrib own_attrib;	/* this, or the machine's kept one (snapshot.c) */
	int guess;		/* the store being reported was attributed by a guess */
};

/* Scan the guest, add the sites, learn the current tables. 0 or -1. */
int watch_attach(struct watch *w, struct machine *m, struct events *ev, char *err, size_t errlen);
void watch_detach(struct watch *w);
/* At a step boundary: reconcile directories with allpmaps, notice unseen CR3 loads. */
void watch_sync(struct watch *w);
/* Number of sites of a kind (for tests and `rig trace`'s header). */
int watch_count_sites(const struct watch *w, enum site_kind kind);

#endif
