/*
 * scenario.h - the scenario language (docs/scenarios.md): parsed into a
 * typed step list with source positions, before anything runs.
 */
#ifndef RIG_SCENARIO_H
#define RIG_SCENARIO_H

#include <stdint.h>
#include <stdio.h>

struct sched_switch;

#define SCN_MAX_PMAPS		64	/* including the kernel pmap, index 0 */
#define SCN_MAX_PAGE_ARRAYS	256
#define SCN_MAX_DEPTH		16	/* repeat nesting */
#define SCN_MAX_OPS		100000000ull	/* total expanded operations */
#define SCN_MAX_IGNORES		16
#define SCN_MAX_REQUIRES	8
#define SCN_KERNEL		0	/* pmap index of "kernel" */

enum step_kind {
	ST_PMAP, ST_DESTROY, ST_ACTIVATE, ST_PAGE, ST_FREE,
	ST_MAP, ST_UNMAP, ST_PROTECT, ST_UNMAP_ALL, ST_KENTER, ST_KREMOVE,
	ST_CLEAR_MODIFY, ST_TOUCH, ST_REPEAT, ST_RANDOM, ST_FAIL_ALLOC,
	ST_QUERY, ST_RECYCLE,	/* made only by random (runner_random.c) */
	ST_CHECK,
	ST_PARALLEL,		/* parallel { on CPU OP ... }: the body's operations at once */
	ST_EXPECT_MAPPED, ST_EXPECT_UNMAPPED, ST_EXPECT_PV, ST_EXPECT_RESIDENT,
	ST_EXPECT_WIRED, ST_EXPECT_CHUNKS, ST_EXPECT_PV_FREE_KVA,
	ST_EXPECT_PV_PAGES_HELD, ST_EXPECT_MODIFIED, ST_EXPECT_REFERENCED,
	ST_EXPECT_DIRTY, ST_EXPECT_PTE, ST_EXPECT_PTP,
};

/* Protections, as VM_PROT_* bits. */
#define SCN_PROT_R	1
#define SCN_PROT_W	2
#define SCN_PROT_X	4

/* A page, or a whole page array (index -1). */
struct pageref {
	int array;		/* index into scenario.arrays */
	int index;		/* element, or -1 for the whole array */
};

struct step {
	enum step_kind kind;
	int line, col;
	const char *text;	/* the statement as written (trimmed) */
	int pmap;		/* pmap index (SCN_KERNEL = kernel) */
	struct pageref page;
	uint32_t va, eva;	/* address or range [va, eva) */
	uint32_t prot;
	uint64_t n;		/* count, expected number, repeat count, seed */
	uint32_t ops, npmaps, npages;	/* random */
	int flag;		/* wired / faults / write / yes / shortage / alloc on / present */
	uint32_t pte_set, pte_clear;	/* expect pte: PTE bits that must be set, must be clear */
	struct step *body;	/* repeat, parallel */
	int nbody;
	int cpu;		/* on CPU: where it runs (-1: the default, CPU 0) */
};

/* The scheduler a file asks for (`schedule`). */
enum scn_schedule { SCN_ROUNDROBIN, SCN_RANDOM, SCN_REPLAY };
#define SCN_MAX_CPUS		8

struct page_array {
	char name[64];
	uint32_t count;		/* 1 for a single page */
	int is_array;
	uint32_t first;		/* index of element 0 among all pages */
};

struct scenario {
	char *path;
	char *source;			/* whole file, lines NUL-terminated in place */
	/* set-up */
	char policy[40];		/* guest build: a KVA policy or buggy-NAME */
	int guest_named;		/* the file has a `guest` statement (else policy is the default) */
	char requires[SCN_MAX_REQUIRES][48];	/* features or descriptor keys the file needs */
	int requires_line[SCN_MAX_REQUIRES];
	int nrequires;
	uint64_t memory;
	uint32_t pv_chunks;
	int ncpu;			/* `cpus N`; 0 = one */
	enum scn_schedule schedule;	/* `schedule ...` */
	uint32_t quantum;		/* instructions between switches; 0 = the scheduler's default */
	uint64_t sched_seed;		/* schedule random seed=S */
	char *replay_path;		/* schedule replay FILE (relative to the scenario's directory) */
	struct sched_switch *replay;	/* its switches, read at parse time */
	int nreplay;
	int schedule_line, schedule_col;
	enum { CHECK_EVERY, CHECK_END, CHECK_OFF } cadence;
	const char *ignore[SCN_MAX_IGNORES];
	int nignore;
	const char *expect_violation;	/* invariant ID, or NULL */
	char expect_in[64];		/* ... in FUNCTION: the function of the write that caused it, or "" */
	char *expect_panic;		/* text, or NULL */
	int expect_livelock;		/* expect livelock in FUNCTION (the function in expect_in) */
	int expect_line;
	/* symbols */
	char pmap_names[SCN_MAX_PMAPS][64];
	int npmaps;
	struct page_array arrays[SCN_MAX_PAGE_ARRAYS];
	int narrays;
	uint32_t npages_total;
	/* the program */
	struct step *steps;
	int nsteps;
	uint64_t total_ops;		/* operations once repeats and randoms expand */
};

/* The PTE flags `expect pte` names (V RW U A M W MAN) and their bits. */
#define SCN_NPTE_FLAGS	7
struct scn_pte_flag {
	const char *name;
	uint32_t bit;
};
extern const struct scn_pte_flag scn_pte_flags[SCN_NPTE_FLAGS];

/* Parse path; 0 on success, else the number of errors (each printed to err). */
int scenario_parse(struct scenario *s, const char *path, FILE *err);
/* Parse text (as if read from path). */
int scenario_parse_text(struct scenario *s, const char *path, const char *text, size_t len, FILE *err);
void scenario_free(struct scenario *s);
/* Is this invariant ignored by the file's `ignore` statements? */
int scenario_ignores(const struct scenario *s, const char *id);
/* The page-array index for a name, or -1. */
int scenario_find_array(const struct scenario *s, const char *name);
int scenario_find_pmap(const struct scenario *s, const char *name);

#endif
