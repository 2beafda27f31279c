/*
 * runner.h - runs a parsed scenario against a fresh guest machine: each
 * step calls the guest pmap API, keeps the reference model, checks
 * expectations and, at the file's cadence, the invariants.
 */
#ifndef RIG_RUNNER_H
#define RIG_RUNNER_H

#include <stdint.h>

#include "scenario.h"
#include "contract.h"

enum outcome {
	OUT_PASS,	/* ran to the end, or failed exactly as it expected */
	OUT_FAIL,	/* an expectation, invariant or misuse stopped it */
	OUT_CRASH,	/* the guest faulted, panicked or hung unexpectedly */
	OUT_BREAK,	/* stopped at --break-on-pte */
	OUT_SKIP,	/* the guest does not declare a feature the file requires */
};

struct trace;
struct machine;
struct gdbstub;

struct run_options {
	uint32_t timeout_ms;	/* per guest call; 0 = default */
	int progress;		/* show a progress line on stderr */
	int full_checks;	/* a full check after every step (not incremental) */
	int watch;		/* install the watching hooks (the event stream) */
	struct trace *trace;	/* print the events there, or NULL */
	/* Called after each operation step, before its checks (tests corrupt
	 * guest memory here); NULL for none. */
	void (*after_step)(void *ctx, struct machine *m, int line);
	void *after_ctx;
	struct kvamap *kvamap;	/* sample the chunk KVA block for --kva-map, or NULL */
	int count_insns;	/* count guest instructions (slow: a code hook on all text) */
	int stable;		/* reports without what changes with the guest's code layout or
				 * the clock: event numbers, code offsets, instructions, times */
	/* Hear every statement as it runs (a random operation written out as the
	 * statement it is; repeat bodies once per turn): rig shrink; NULL for none. */
	void (*record)(void *ctx, const char *stmt);
	void *record_ctx;
	/* A booted machine with a snapshot (machine_snapshot) to run on instead of
	 * booting one: restored before the run, kept after it (the fuzzer). Used
	 * only if it fits the file's guest and set-up and count_insns is off;
	 * NULL for none. */
	struct machine *machine;
	/* rig debug: the gdb session that watches this run (gdbstub.h), or NULL. */
	struct gdbstub *debug;
	/* Several CPUs: write a failing file's whole schedule here (a replay file), or NULL. */
	const char *save_schedule;
};

struct kvamap;

struct file_result {
	enum outcome outcome;
	uint64_t ops;		/* operations executed */
	double ms;		/* wall time */
	double run_ms;		/* time in the steps (no boot, no end-of-file check) */
	uint64_t insns;		/* guest instructions executed, with count_insns */
	int line;		/* of the failing step (0 if none) */
	char text[256];		/* the failing step as written */
	char kind[24];		/* expectation, violation, misuse, shortage, crash, expected-failure */
	char id[24];		/* invariant ID of a violation */
	char message[4096];	/* what was expected and what was found */
	char expected[128];	/* the file's declared failure, if any */
	char spin[64];		/* a LIVELOCK: the function that spins */
	char cause_path[256];	/* a violation's cause: " store's-function caller ... " (functions only), or "" */
	uint64_t cause_seq;	/* the event number of a violation's cause (the store it blames), or 0 */
	uint32_t counters[CT_CNT_COUNT];	/* the guest's counters at the end of the run */
	uint32_t counters_kept;	/* bit k: the guest keeps counter k (contract.h) */
	const char *static_errors;	/* set by the caller for a file that did not parse: its error
				 * lines ("PATH:LINE:COL: error: ..."), each ending in '\n';
				 * the file did not run and outcome means nothing; NULL otherwise */
};

/* Run s; fills res and returns its outcome. */
enum outcome run_file(const struct scenario *s, const struct run_options *o, struct file_result *res);

#endif
