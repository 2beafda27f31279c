/*
 * snapshot_equiv.c - a restored machine is a booted one: every file given
 * runs once on a fresh boot and then, in order, on machines reused through
 * their snapshots (one per guest and set-up, as the fuzzer reuses its
 * machine), with RIG_SNAPSHOT_VERIFY on so that a frame the restore missed
 * aborts. Each file must end exactly as it did on the fresh boot (outcome,
 * kind, ID, line, message). Prints one line per mismatch; exit 1 if any.
 *   usage: snapshot_equiv FILE...   (twice over the list)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "machine.h"
#include "runner.h"
#include "scenario.h"

#define MAX_MACHINES 64

static struct machine machines[MAX_MACHINES];
static int nmachines;

/* A snapshotted machine booted as s sets up, or NULL. */
static struct machine *machine_for(const struct scenario *s)
{
	char path[512], err[512];
	struct machine_config cfg = { cli_guest_path(s->policy, path, sizeof(path)), s->memory, s->pv_chunks, 0, 1 };

	for (int i = 0; i < nmachines; i++)
		if (machine_fits(&machines[i], &cfg))
			return &machines[i];
	if (nmachines == MAX_MACHINES || machine_open(&machines[nmachines], &cfg, err, sizeof(err)) < 0 ||
	    machine_snapshot(&machines[nmachines]) < 0)
		return NULL;
	return &machines[nmachines++];
}

/* Does b end as a does? */
static int same(const struct file_result *a, const struct file_result *b)
{
	return a->outcome == b->outcome && !strcmp(a->kind, b->kind) && !strcmp(a->id, b->id) && a->line == b->line &&
	    !strcmp(a->message, b->message);
}

int main(int argc, char **argv)
{
	static struct file_result fresh, reused;
	struct scenario s;
	int bad = 0, reuses = 0;

	setenv("RIG_SNAPSHOT_VERIFY", "1", 1);
	for (int turn = 0; turn < 2; turn++)
		for (int i = 1; i < argc; i++) {
			struct run_options o = { .watch = 1, .stable = 1 };

			if (scenario_parse(&s, argv[i], stderr) != 0)
				return 2;
			run_file(&s, &o, &fresh);
			o.machine = machine_for(&s);
			reuses += o.machine != NULL;
			run_file(&s, &o, &reused);
			if (!same(&fresh, &reused)) {
				printf("%s: fresh boot: %s %s line %d: %s\n%s: restored:   %s %s line %d: %s\n", argv[i],
				    fresh.kind, fresh.id, fresh.line, fresh.message, argv[i], reused.kind, reused.id,
				    reused.line, reused.message);
				bad = 1;
			}
			scenario_free(&s);
		}
	for (int i = 0; i < nmachines; i++)
		machine_close(&machines[i]);
	printf("%d runs on %d restored machines, %s\n", reuses, nmachines, bad ? "MISMATCHES" : "all as on a fresh boot");
	return bad || reuses == 0;
}
