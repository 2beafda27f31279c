/*
 * scheduler.h - several CPUs, one at a time: a deterministic scheduler over
 * one Unicorn engine per CPU. A CPU runs until a preemption point (a lock
 * function's entry, a locked instruction, `pause`, a store into a frame the
 * watcher watches, INVLPG, a CR load, OUT) or the end of its quantum, and
 * the policy says which CPU runs next: round robin, a seeded random pick,
 * or the switches of an earlier run, replayed. Every switch is logged as
 * "cpuN@I -> cpuM", I being the number of guest instructions CPU N had
 * reached, which is all a replay needs. TLB shootdown IPIs (RIG_PORT_IPI)
 * are delivered to each target at its next instruction, by an interrupt
 * frame and a jump to the guest's IPI entry. A run in which every CPU with
 * work only spins is a DEADLOCK.
 */
#ifndef RIG_SCHEDULER_H
#define RIG_SCHEDULER_H

#include <stdint.h>
#include <stdio.h>

#include "machine.h"

enum sched_policy { SCHED_ROUNDROBIN, SCHED_RANDOM, SCHED_REPLAY };

#define SCHED_DEFAULT_QUANTUM	1000	/* instructions */
#define SCHED_DEADLOCK_SPINS	20000	/* turns of a spin loop with every CPU spinning */

/* What made a CPU stop for a scheduling decision. */
enum point_kind {
	PT_NONE, PT_QUANTUM, PT_LOCK, PT_ATOMIC, PT_PAUSE, PT_STORE, PT_INVLPG, PT_CR, PT_OUT, PT_KINDS
};

/* One switch: CPU `from` had reached instruction `insns` (before running it) at eip. */
struct sched_switch {
	int from, to;
	uint64_t insns;
	uint32_t eip;
	enum point_kind why;
	int line;		/* the scenario line being run */
};

/* Who hears of what the CPUs do (the SMP rules, invsmp.c). */
struct sched_observer {
	void (*returned)(void *arg, int cpu, uint32_t fn);	/* CPU cpu's call of fn returned */
	void (*ipi)(void *arg, int from, uint32_t cpus, uint32_t va, uint32_t pmap);
	void (*ack)(void *arg, int cpu, int invalidated, uint32_t va);
	void *arg;
};

int sched_open(struct machine *m);
void sched_close(struct machine *m);
/* The policy; replay takes a copy of the switches. 0 or -1. */
int sched_policy(struct sched *s, enum sched_policy p, uint32_t quantum, uint64_t seed,
    const struct sched_switch *replay, int nreplay);
void sched_observe(struct sched *s, const struct sched_observer *o);
/* The scenario line the switches are made for. */
void sched_line(struct sched *s, int line);
/* A host call on the current CPU (machine_run with several CPUs); the others take IPIs meanwhile. */
enum stop_kind sched_run_call(struct sched *s, uint32_t eip, uint32_t esp);
/*
 * Calls on several CPUs at once: start each (its frame is on that CPU's
 * stack), then run until one of them returns (*done: its CPU, which is
 * current) or the run stops abnormally (m->stop; *done -1).
 */
void sched_start(struct sched *s, int cpu, uint32_t eip, uint32_t esp);
enum stop_kind sched_run_some(struct sched *s, int *done);
/* OUT to RIG_PORT_IPI or RIG_PORT_IPI_ACK (machine.c's hook). */
void sched_hypercall(struct sched *s, uint32_t port, uint32_t value);
/* The switches so far. */
const struct sched_switch *sched_switches(const struct sched *s, int *n);
/* Is CPU cpu in a call (or an IPI handler)? */
int sched_busy(const struct sched *s, int cpu);
/* "before a PTE store": what a point is, in words. */
const char *sched_point_name(enum point_kind k);
/* One switch as a replay line ("cpu0@1234 -> cpu1"), with where it was as a comment. */
void sched_format_switch(struct machine *m, const struct sched_switch *w, char *buf, size_t len);
/* Read a replay file; 0, or -1 with "FILE:LINE:COL: error: ..." in err. *out is malloc'd. */
int sched_read_replay(const char *path, struct sched_switch **out, int *n, char *err, size_t errlen);
/* Write every switch so far as a replay file. 0 or -1. */
int sched_write_replay(struct machine *m, FILE *f);

#endif
