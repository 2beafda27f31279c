/*
 * events.h - the one typed, sequenced stream of paging events: step
 * boundaries, control-register loads, PDE and PTE writes, INVLPG, guest
 * faults and panics, and warnings. Producers (watch.c, the runner) call
 * events_emit; consumers subscribe (the trace printer, the invariant
 * checker's TLB-staleness rule, --break-on-pte).
 */
#ifndef RIG_EVENTS_H
#define RIG_EVENTS_H

#include <stdint.h>

enum event_kind {
	EV_STEP_BEGIN, EV_STEP_END, EV_CR_LOAD, EV_PDE_WRITE, EV_PTE_WRITE,
	EV_INVLPG, EV_FAULT, EV_PANIC, EV_WARN,
	EV_PV_WRITE,		/* a store into a pv chunk page (va: the chunk; pa, old,
				 * new: the 4-byte word written and its values) */
	EV_VMPAGE_WRITE,	/* a store into a vm_page record (va: its index; pa,
				 * old, new: the 4-byte word written and its values) */
};

#define EV_KERNEL_SPACE	0xffffffffu	/* pd: a kernel page table, in every space */

struct event {
	uint64_t seq;
	enum event_kind kind;
	uint32_t eip;		/* the instruction (0 for step boundaries) */
	int eip_guess;		/* eip is the best of several instructions of one block
				 * (the function is exact; see attrib.h) */
	uint32_t pa;		/* entry's physical address; CR number for EV_CR_LOAD */
	uint32_t old, new;	/* entry or register values */
	uint32_t va;		/* VA the entry maps (PDE: start of its 4 MiB), or INVLPG's */
	uint32_t pd;		/* directory (physical) of the space the entry belongs to */
	uint32_t field;		/* EV_VMPAGE_WRITE: the word's byte offset in its record */
	int line;		/* scenario line of the step (0 outside steps) */
	int cpu;		/* the CPU that made it (0 with one CPU) */
	const char *text;	/* the scenario step's text */
	const char *msg;	/* warnings, faults and panics: what happened */
};

struct event_sink {
	void (*fn)(void *arg, const struct event *e);
	void *arg;
};

#define EVENTS_MAX_SINKS 8
#define EVENTS_MAX_CPUS 8

struct events {
	uint64_t seq;
	struct event_sink sinks[EVENTS_MAX_SINKS];
	int nsinks;
	int line;		/* current step's line */
	const char *text;	/* current step's text */
	int stop;		/* a sink asked to stop the run */
	const int *cpu_of;	/* the CPU running now (machine.cur), or NULL */
	/* In a parallel step: each CPU's own operation (line 0: the step's) */
	int cpu_line[EVENTS_MAX_CPUS];
	const char *cpu_text[EVENTS_MAX_CPUS];
};

/* Number the event, stamp it with the current step, hand it to every sink. */
void events_emit(struct events *ev, struct event *e);
int events_subscribe(struct events *ev, void (*fn)(void *, const struct event *), void *arg);
const char *event_kind_name(enum event_kind k);
/*
 * Is e a store into the PTE of va's page or the PDE of its 4 MiB that
 * changes one of bits (0: any store)? The break points of --break-on-pte
 * and of rig debug's break-pte.
 */
int event_writes_entry(const struct event *e, uint32_t va, uint32_t bits);

#endif
