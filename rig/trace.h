/*
 * trace.h - the trace printer: one line (or JSON object) per paging event,
 * with the scenario step, the guest function and instruction, the entry and
 * its old and new value with the flags decoded; filters; and the machine
 * state dump of --break-on-pte. On request (--show) also the stores into
 * vm_page records and pv chunk pages, decoded by field, and the
 * translations the CPU holds (the MMU's TLB model) after each step.
 */
#ifndef RIG_TRACE_H
#define RIG_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "events.h"
#include "machine.h"

struct trace_opts {
	int json;
	int stack;		/* add the guest backtrace */
	int color;		/* ANSI colour (terminals only) */
	uint32_t va_lo, va_hi;	/* --va filter, inclusive */
	const char *pmap;	/* --pmap filter, or NULL */
	int line_lo, line_hi;	/* --step filter */
	int quiet;		/* print nothing but the break dump (rig run) */
	int has_break;		/* --break-on-pte */
	uint32_t break_va;
	uint32_t break_count;	/* --break-count: stop at this matching write (0 or 1: the first) */
	uint32_t break_bits;	/* --break-if: only writes that change one of these entry bits (0: any) */
	int stable;		/* --stable: no eip, no instruction, no +0x offsets */
	unsigned show;		/* --show: TRACE_SHOW_* record stores to print too */
	int cpu;		/* --cpu N: only that CPU's events, plus 1 (0: every CPU's) */
};

#define TRACE_SHOW_VMPAGE	0x1	/* stores into vm_page records */
#define TRACE_SHOW_PV		0x2	/* stores into pv chunk pages */
#define TRACE_SHOW_TLB		0x4	/* the TLB model after each step */

/* What the trace needs from the run: names for directories. */
struct trace_names {
	const char *(*pd_name)(void *ctx, uint32_t pd);
	void *ctx;
};

struct trace {
	struct trace_opts o;
	FILE *out;
	const char *file;	/* scenario path as shown */
	struct machine *m;
	struct trace_names names;
	int broke;		/* the break point was hit */
	uint32_t hits;		/* matching writes so far (--break-count) */
	struct { uint32_t eip; char text[80]; } cache[256];	/* disassembly */
};

void trace_init(struct trace *t, const struct trace_opts *o, FILE *out, const char *file);
/* Bind to a booted machine and its names; print the header. */
void trace_start(struct trace *t, struct machine *m, const struct trace_names *names);
/* The event sink. */
void trace_event(void *arg, const struct event *e);
/* Parse "ADDR" or "ADDR-ADDR" (and "LINE[-LINE]"); 0 or -1. */
int trace_parse_range(const char *s, uint64_t max, uint64_t *lo, uint64_t *hi);
/* The break options of rig run and rig trace: 'b' VA, 'n' COUNT, 'i' BITS; 0, or -1 after an error on stderr. */
int trace_break_opt(int ch, const char *arg, struct trace_opts *o);
/* Parse --show's "vm_page,pv,tlb" into TRACE_SHOW_* bits; NULL, or the first unknown word. */
const char *trace_parse_show(const char *s, unsigned *show, char *bad, size_t badlen);

#endif
