/* bench.h - `rig bench`: workloads, modes and their measurements. */
#ifndef RIG_BENCH_H
#define RIG_BENCH_H

#include <stdint.h>
#include <stdio.h>

struct bench_mode {
	const char *name;
	int watch;		/* install the watching hooks */
	int no_checks;		/* check off (no invariants, no MODEL) */
	int full_scan;		/* a full check after every step */
};

struct bench_result {
	uint64_t steps;
	double steps_per_sec, ns_per_step;
	long rss_kb;		/* peak RSS of the run's process */
	int outcome;
};

struct bench_workload {
	const char *name;
	uint64_t size;		/* operations, for the scale plot (0: not in the series) */
	int scan;		/* run full-scan too (small workloads only) */
	int cpus;		/* the SMP series: its CPUs (0: not in it) */
	struct bench_result r[4];	/* per mode; steps 0 = not run */
	double insns;		/* guest instructions per step */
};

int cmd_bench(int argc, char **argv);

#endif
