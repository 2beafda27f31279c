/*
 * gdbstub.h - `rig debug`: a scenario run under gdb's remote serial
 * protocol. gdb sees the guest's one CPU: registers (CR0/CR2/CR3/CR4 too),
 * memory by guest virtual address through the host walker, software
 * breakpoints, single steps, continue, Ctrl-C, and `monitor` commands that
 * know what a pmap is (gdbmon.c). The guest is held inside a code hook
 * while gdb has it stopped, so the run goes on exactly where it was.
 */
#ifndef RIG_GDBSTUB_H
#define RIG_GDBSTUB_H

#include <stdint.h>
#include <unicorn/unicorn.h>

#include "rsp.h"

#define GDB_MAX_BREAKS	64
#define GDB_MAX_PTE_BREAKS	8

struct run;
struct machine;
struct event;

struct gdbstub {
	struct rsp c;			/* the connection, accepted at the first stop */
	int lfd;			/* where gdb connects */
	struct run *r;			/* the run gdb is looking at, while it lasts */
	struct machine *m;
	uc_hook hook;
	int hooked;
	uint32_t breaks[GDB_MAX_BREAKS];	/* software breakpoints (Z0, and Z1 alike) */
	int nbreaks;
	struct { uint32_t va, bits; uint32_t count, hits; } pte[GDB_MAX_PTE_BREAKS];	/* monitor break-pte */
	int npte;
	int running;			/* gdb sent c or s: the next stop is reported unasked */
	int stepping;			/* stop at the next guest instruction */
	int next_step;			/* stop when the next scenario step begins */
	int stop_line;			/* --step LINE: stop when the step on that line begins (0: none) */
	int pte_hit;			/* a break-pte store landed: stop at the next instruction */
	char pte_note[512];		/* what it stored, for gdb's console */
	int gone;			/* detached, killed or the connection lost: no more stops */
	int killed;			/* gdb asked for k */
	uint64_t insns;			/* guest instructions that reached the hook in this run */
	uint64_t stop_at;		/* hold at the hook of instruction number stop_at (0: no such stop) */
	int hold_start;			/* stop before the first step (no --step, no --at-violation) */
	uint32_t pc;			/* where the guest is held */
	int in_hook;			/* held at an instruction's hook (not between steps) */
	/* Time travel: a replay of the file from boot to an instruction number. */
	int silent;			/* a first pass: no stops, no gdb; event positions recorded */
	uint64_t *evpos;		/* silent: event number -> instruction number */
	size_t nevpos;
	uint64_t *bphits;		/* instruction numbers at which a breakpoint was passed */
	size_t nbphits, capbphits;
	int restart;			/* gdb went back: end this run, replay to replay_to */
	uint64_t replay_to;
	int replaying;			/* on the way to stop_at: no other stop */
	int scanning;			/* reverse-continue's first replay: where were the breakpoints passed? */
	const char *arrive;		/* the stop reply when the replay arrives */
	char blamed[768];		/* --at-violation: the violation and the store held before */
	uint64_t blamed_at;		/* the instruction number of that store */
};

/* A session that takes gdb's connection on lfd at the first stop. */
void gdbstub_init(struct gdbstub *g, int lfd);
/* The runner: the run r is up (its machine booted and watched); install the hooks, hold if asked. */
void gdbstub_attach(struct gdbstub *g, struct run *r);
/* The runner: the run is over; remove the hooks. */
void gdbstub_detach(struct gdbstub *g);
/* The event sink (break-pte, step starts). */
void gdbstub_event(void *arg, const struct event *e);
/* The run ended with exit code code: tell gdb (W) and wait for it to go. */
void gdbstub_finish(struct gdbstub *g, int code);
/* After a run: did gdb ask to go back? Then set up the replay (the caller runs the file again). */
int gdbstub_replay(struct gdbstub *g);
/* Free what a session keeps. */
void gdbstub_free(struct gdbstub *g);

/* gdbmon.c: a monitor command line; its output appended to out (text). */
void gdbmon_run(struct gdbstub *g, const char *cmd, char *out, size_t len);

#endif
