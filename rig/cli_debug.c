/*
 * cli_debug.c - `rig debug FILE [--gdb HOST:PORT] [--step LINE]
 * [--at-violation] [--guest NAME] [--timeout MS]`: run one scenario under
 * a gdb session (gdbstub.c). It listens on 127.0.0.1 unless told
 * otherwise (another address needs --allow-remote: whoever connects can
 * read and write guest memory), holds the guest at the first stop for gdb,
 * and tells gdb how the file ended (exit code as `rig run`'s).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gdbstub.h"
#include "report.h"
#include "runner.h"
#include "scenario.h"
#include "util.h"

struct debug_cli {
	char host[64];
	int port;
	int allow_remote;
	int step_line;		/* --step LINE, or 0 */
	int at_violation;
	const char *guest;
	uint32_t timeout_ms;
};

/* --gdb HOST:PORT (or :PORT); 0 or -1. */
static int parse_endpoint(const char *arg, struct debug_cli *c)
{
	const char *colon = strrchr(arg, ':');
	uint64_t port;

	if (colon == NULL || parse_u64(colon + 1, &port) < 0 || port > 65535 || (size_t)(colon - arg) >= sizeof(c->host))
		return -1;
	if (colon > arg)
		snprintf(c->host, sizeof(c->host), "%.*s", (int)(colon - arg), arg);
	c->port = (int)port;
	return 0;
}

static int parse_debug_opts(int argc, char **argv, struct debug_cli *c)
{
	static const struct option longopts[] = {
		{ "gdb", required_argument, NULL, 'g' }, { "step", required_argument, NULL, 's' },
		{ "at-violation", no_argument, NULL, 'a' }, { "allow-remote", no_argument, NULL, 'R' },
		{ "guest", required_argument, NULL, 'G' }, { "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'g' && parse_endpoint(optarg, c) == 0)
			continue;
		if (ch == 's' && parse_u64(optarg, &v) == 0 && v > 0 && v <= INT_MAX)
			c->step_line = (int)v;
		else if (ch == 'a')
			c->at_violation = 1;
		else if (ch == 'R')
			c->allow_remote = 1;
		else if (ch == 'G')
			c->guest = optarg;
		else if (ch == 't' && parse_u64(optarg, &v) == 0 && v > 0 && v < 3600000)
			c->timeout_ms = (uint32_t)v;
		else {
			if (ch != '?')
				fprintf(stderr, "rig: error: bad argument '%s'\n", optarg);
			cli_usage("debug", stderr);
			return -1;
		}
	}
	if (optind != argc - 1 || (c->step_line && c->at_violation)) {
		fprintf(stderr, "rig: error: rig debug takes one FILE%s\n",
		    c->step_line && c->at_violation ? ", and --step or --at-violation, not both" : "");
		cli_usage("debug", stderr);
		return -1;
	}
	if (strcmp(c->host, "127.0.0.1") && !c->allow_remote) {
		fprintf(stderr, "rig: error: --gdb %s: only 127.0.0.1 unless --allow-remote (a debugger can read and "
		    "write all guest memory)\n", c->host);
		return -1;
	}
	return optind;
}

/* Is there a statement on line (at any depth)? */
static int has_step(const struct step *v, int n, int line)
{
	for (int i = 0; i < n; i++)
		if (v[i].line == line || has_step(v[i].body, v[i].nbody, line))
			return 1;
	return 0;
}

/* The exit code rig run would give for one file's result. */
static int exit_code(const struct file_result *res)
{
	struct report_totals t = { 0 };

	report_count(&t, res);
	return report_exit_code(&t);
}

/*
 * --at-violation: a first run, without gdb, finds the file's first
 * violation and the store it blames, and at which guest instruction that
 * store ran; the run gdb sees is the same run again (it is deterministic),
 * held at that instruction's hook, before it executes. 0, or -1 after an error.
 */
static int find_blamed(struct gdbstub *g, const struct scenario *s, const struct run_options *o,
    struct file_result *res)
{
	g->silent = 1;
	run_file(s, o, res);
	g->silent = 0;
	/* an expected failure too: the violation happened, as the file declares */
	if (strcmp(res->kind, "violation") || res->cause_seq == 0 ||
	    res->cause_seq >= g->nevpos || g->evpos[res->cause_seq] == 0) {
		fprintf(stderr, "rig: error: --at-violation: %s has no violation that blames a store (it ends: %s%s%s%s%.*s)\n",
		    s->path, res->outcome == OUT_PASS ? "PASS" : res->kind, res->id[0] ? " " : "", res->id,
		    res->message[0] ? ": " : "", (int)strcspn(res->message, "\n"), res->message);
		return -1;
	}
	g->stop_at = g->blamed_at = g->evpos[res->cause_seq];
	snprintf(g->blamed, sizeof(g->blamed), "violation %s at line %d (event #%llu)", res->id, res->line,
	    (unsigned long long)res->cause_seq);
	fprintf(stderr, "rig debug: %s:%d: violation %s; gdb gets the guest before the store it blames (event #%llu, "
	    "guest instruction %llu of the run)\n", s->path, res->line, res->id, (unsigned long long)res->cause_seq,
	    (unsigned long long)g->stop_at);
	return 0;
}

int cmd_debug(int argc, char **argv)
{
	struct debug_cli c = { .host = "127.0.0.1", .port = 1234 };
	struct scenario s;
	struct file_result res;
	struct gdbstub g;
	struct run_options o = { .watch = 1 };
	char err[256], path[512];
	int first = parse_debug_opts(argc, argv, &c), lfd, code;

	if (first < 0)
		return RIG_EXIT_USAGE;
	if (scenario_parse(&s, argv[first], stderr) != 0)
		return RIG_EXIT_USAGE;
	if (c.guest != NULL && !s.guest_named)
		snprintf(s.policy, sizeof(s.policy), "%s", c.guest);
	if (s.ncpu > 1) {	/* gdb would see one CPU of several: not supported */
		fprintf(stderr, "rig: error: %s runs %d CPUs (cpus %d); rig debug runs one (use rig trace --cpu N, "
		    "and --save-schedule to replay a failure)\n", s.path, s.ncpu, s.ncpu);
		scenario_free(&s);
		return RIG_EXIT_USAGE;
	}
	if (c.step_line && !has_step(s.steps, s.nsteps, c.step_line)) {
		fprintf(stderr, "rig: error: --step %d: %s has no statement on line %d\n", c.step_line, s.path, c.step_line);
		scenario_free(&s);
		return RIG_EXIT_USAGE;
	}
	if ((lfd = rsp_listen(c.host, &c.port, err, sizeof(err))) < 0) {
		fprintf(stderr, "rig: error: --gdb: %s\n", err);
		scenario_free(&s);
		return RIG_EXIT_USAGE;
	}
	gdbstub_init(&g, lfd);
	g.hold_start = !c.step_line && !c.at_violation;
	g.stop_line = c.step_line;
	o.debug = &g;
	o.timeout_ms = c.timeout_ms;
	if (c.at_violation && find_blamed(&g, &s, &o, &res) < 0) {
		close(lfd);
		gdbstub_free(&g);
		scenario_free(&s);
		return RIG_EXIT_USAGE;
	}
	fprintf(stderr, "rig debug: %s: waiting for gdb on %s:%d\n  gdb %s -ex 'target remote %s:%d'\n", s.path, c.host,
	    c.port, cli_guest_path(s.policy, path, sizeof(path)), c.host, c.port);
	do	/* again from boot each time gdb goes back (reverse-stepi, reverse-continue) */
		run_file(&s, &o, &res);
	while (gdbstub_replay(&g));
	report_text(stderr, s.path, &res, 0);
	code = exit_code(&res);
	gdbstub_finish(&g, code);
	close(lfd);
	gdbstub_free(&g);
	scenario_free(&s);
	return code;
}
