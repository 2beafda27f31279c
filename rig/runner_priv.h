/*
 * runner_priv.h - the state of one scenario run, shared by the files that
 * make up the runner: runner.c (the step loop, boot, verdicts),
 * runner_ops.c (operations), runner_expect.c (expectations),
 * runner_model.c (the MODEL check and the A/D model) and runner_random.c
 * (the random statement). Nothing outside them includes it.
 */
#ifndef RIG_RUNNER_PRIV_H
#define RIG_RUNNER_PRIV_H

#include <time.h>

#include "runner.h"
#include "invariants.h"
#include "machine.h"
#include "model.h"
#include "reclaim.h"
#include "events.h"
#include "watch.h"
#include "witness.h"
#include "invsmp.h"

#define KERN_RESOURCE_SHORTAGE 6

/* Guest entry points the runner calls, resolved once per file. */
struct guest_fns {
	uint32_t enter, remove, protect, remove_all, kenter, kremove, clear_modify,
	    is_modified, is_referenced, activate, touch, touch_access, pmap_create,
	    pmap_destroy, page_alloc, page_free;
};

/* The access that last gave a page one of its A/D bits in the model. */
struct ad_origin {
	uint64_t op;		/* operation number (1-based) */
	int line;		/* scenario line of the touch */
	int pmap;		/* through this pmap */
	uint32_t va, pte;	/* at this VA; the PTE read back after it */
};

struct run {
	const struct scenario *s;
	const struct run_options *o;
	struct file_result *res;
	struct machine *m;			/* own, or the caller's (run_options.machine) */
	int restored;				/* m is the caller's, restored from its snapshot */
	struct machine own;
	struct model model;
	struct guest_fns fn;
	struct guest_info *gi;			/* the runtime ABI block */
	uint32_t pmap_gva[SCN_MAX_PMAPS];	/* 0: not created, or destroyed */
	uint32_t *page_gva, *page_pa;		/* per flat page; gva 0: none */
	uint8_t *page_freed;
	int active;				/* pmap index in CR3 */
	const struct step *step;		/* being executed */
	char synth[256];			/* text of a random operation (or of the end check) */
	const struct step *rop;			/* the random operation being run, or NULL */
	const char *block;			/* a parallel step's statement, whole (for o->record), or NULL */
	void *fiber_stack[RIG_MAX_CPUS];	/* the parallel operations' host stacks (runner_smp.c) */
	struct reclaim rc;			/* what the guest's reclaim took in this step */
	uint32_t *keys;				/* (pmap << 20 | vpn) scratch list */
	uint32_t nkeys, capkeys;
	struct { int pmap; uint32_t va, eva; } touched[2 * RIG_MAX_CPUS];	/* a parallel step: each operation's */
	int ntouched;
	int failed;
	uint64_t ops;
	int creating;				/* pmap being made by op_pmap, or -1 */
	struct events ev;			/* the paging event stream */
	struct watch w;
	int watching;
	struct checker chk;			/* the invariant checker (needs watching) */
	int checking;
	struct witness wit;			/* the lock witness (with the checker) */
	struct smpcheck smp;			/* TLB-SHOOTDOWN and SHOOTDOWN-SET (several CPUs) */
	uint64_t insns;				/* guest instructions, with count_insns */
	uc_hook insn_hook[RIG_MAX_CPUS];
	struct timespec t0, last_progress;
	uint8_t *ad_want;			/* per physical page: CHK_AD_* the model holds */
	struct ad_origin *ad_from;		/* per flat page, [2p] referenced and [2p+1] dirty */
	uint32_t ad_npages;			/* physical pages of RAM */
};

/* runner.c */
const char *step_text(struct run *r);
int failf(struct run *r, enum outcome out, const char *kind, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int gcall(struct run *r, uint32_t fn, uint32_t *ret, int argc, ...);
const char *page_name(const struct run *r, int32_t page, char *buf, size_t len);
int32_t flat_page(const struct run *r, const struct pageref *ref, uint32_t i);
uint32_t ref_count(const struct run *r, const struct pageref *ref);
int report_violation(struct run *r, const struct violation *v);
/* Add "caused by" the write e to the failure just recorded; returns -1. */
int blame_write(struct run *r, const struct event *e);
int run_op(struct run *r, const struct step *op);
/* A step's parts: announce it, close it, and the checks after an operation step. */
void step_begin(struct run *r, const struct step *st);
void step_end(struct run *r);
int after_op(struct run *r);

/* runner_smp.c */
int smp_start(struct run *r);
int exec_on(struct run *r, const struct step *st);
int exec_parallel(struct run *r, const struct step *st);
/* ops[i] at once on CPU cpus[i], as one step st (a parallel block, or random's group). */
int parallel_step(struct run *r, const struct step *st, const struct step *const *ops, const int *cpus, int n,
    const char *block);
int smp_verdict(struct run *r);
/* Free what the parallel steps kept (their fibers' stacks). */
void smp_free(struct run *r);
void smp_report(struct run *r);

/* runner_model.c */
void touch_range(struct run *r, int pmap, uint32_t va, uint32_t eva);
int push_key(struct run *r, uint32_t key);
void collect_key(const struct mentry *e, void *arg);
int model_check_all(struct run *r, int reclaim_ok);
void model_forget_reclaimed(struct run *r);
int model_check_step(struct run *r);
/* The A/D model: storage, a page made clean (bits: CHK_AD_*), and a touch's effect
 * read back from the PTE the CPU used. */
int ad_init(struct run *r);
void ad_free(struct run *r);
void ad_page_clean(struct run *r, int32_t page, uint8_t bits);
void ad_after_touch(struct run *r, int pmap, uint32_t va, int write, int faulted);
/* What the model knows page's live managed mappings must answer to pmap_is_modified
 * (bit CHK_AD_DIRTY) or pmap_is_referenced (CHK_AD_REF): 1 yes, 0 no, -1 either. */
int ad_expected_answer(struct run *r, int32_t page, uint8_t bit);
/* CHK_AD_* of the live managed PTEs that map physical page pg, over every live pmap's tables. */
uint8_t page_pte_ad(struct run *r, uint32_t pg);
/* The checker's describer of how a page got an A/D bit (struct chk_ad). */
void ad_describe(void *ctx, uint32_t pg, uint8_t bit, char *buf, size_t len);

/* runner_ops.c */
int live_pmap(struct run *r, int pmap);
int live_page(struct run *r, int32_t page);
int scenario_space(struct run *r, int pmap, uint32_t va, uint32_t eva);
int op_pmap(struct run *r, const struct step *st);
int op_page(struct run *r, const struct step *st);
int exec_op(struct run *r, const struct step *st);

/* runner_expect.c */
int do_expect(struct run *r, const struct step *st);

/* runner_random.c */
int exec_random(struct run *r, const struct step *st);
void random_text(struct run *r, const struct step *op, char *buf, size_t len);
void random_statement(struct run *r, const struct step *op, char *buf, size_t len);

/* The directory (CR3 value) of scenario pmap p; 0 when it has none or is unreadable. */
uint32_t run_pmap_cr3(struct run *r, int p);
/* A 32-bit word at byte off of scenario page p's vm_page record (0 if unreadable). */
uint32_t run_page_word(struct run *r, int32_t p, uint32_t off);
/* Scalar f of scenario page p's vm_page record (0 if unreadable). */
uint32_t run_page_scalar(struct run *r, int32_t p, struct ct_scalar f);
/* The length of page p's pv list (bounded). */
uint32_t run_page_pvlen(struct run *r, int32_t p);
/* May the mapping of va in scenario pmap p have been taken by reclaim in this step? */
int run_reclaim_took(struct run *r, int p, uint32_t va);

#endif
