/*
 * cli_trace.c - `rig trace FILE [filters] [--stack] [--format text|json]
 * [--stable] [--show vm_page,pv,tlb] [--break-on-pte VA]`: run one scenario with
 * watching on and print every paging event the filters let through. The
 * file's result goes to stderr so that stdout is the trace alone. A --pmap
 * that names no address space of FILE is a usage error (exit 2).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"
#include "runner.h"
#include "scenario.h"
#include "trace.h"
#include "util.h"

/* --show's list into o->show; 0, or -1 after naming the unknown word. */
static int show_opt(const char *arg, struct trace_opts *o)
{
	char bad[64];

	if (trace_parse_show(arg, &o->show, bad, sizeof(bad)) == NULL)
		return 0;
	if (bad[0] == '\0')
		fprintf(stderr, "rig: error: --show: empty word in '%s' (known: vm_page, pv, tlb)\n", arg);
	else
		fprintf(stderr, "rig: error: --show: unknown word '%s' (known: vm_page, pv, tlb)\n", bad);
	cli_usage("trace", stderr);
	return -1;
}

/* Parse one trace option into o; 0, or -1 after printing an error. */
static int trace_opt(int ch, const char *arg, struct trace_opts *o, struct run_options *ro)
{
	uint64_t lo, hi;

	switch (ch) {
	case 'v':
		if (trace_parse_range(arg, UINT32_MAX, &lo, &hi) < 0)
			break;
		if (lo == hi)	/* one address: its page */
			lo &= ~0xfffull, hi = lo | 0xfff;
		o->va_lo = (uint32_t)lo, o->va_hi = (uint32_t)hi;
		return 0;
	case 's':
		if (trace_parse_range(arg, INT_MAX, &lo, &hi) < 0)
			break;
		o->line_lo = (int)lo, o->line_hi = (int)hi;
		return 0;
	case 'b': case 'n': case 'i':
		if (trace_break_opt(ch, arg, o) == 0)
			return 0;
		cli_usage("trace", stderr);
		return -1;
	case 't':
		if (parse_u64(arg, &lo) < 0 || lo == 0 || lo > 3600000)
			break;
		ro->timeout_ms = (uint32_t)lo;
		return 0;
	case 'f':
		if (strcmp(arg, "json") && strcmp(arg, "text"))
			break;
		o->json = !strcmp(arg, "json");
		return 0;
	case 'w':
		return show_opt(arg, o);
	}
	fprintf(stderr, "rig: error: bad argument '%s'\n", arg ? arg : "");
	cli_usage("trace", stderr);
	return -1;
}

/* Parse rig trace's options; returns the index of FILE or -1. */
static int parse_trace_opts(int argc, char **argv, struct trace_opts *o, struct run_options *ro)
{
	static const struct option longopts[] = {
		{ "va", required_argument, NULL, 'v' }, { "pmap", required_argument, NULL, 'p' },
		{ "step", required_argument, NULL, 's' }, { "stack", no_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'f' }, { "break-on-pte", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' }, { "stable", no_argument, NULL, 'A' },
		{ "show", required_argument, NULL, 'w' }, { "break-count", required_argument, NULL, 'n' },
		{ "break-if", required_argument, NULL, 'i' }, { "cpu", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int ch;

	*o = (struct trace_opts){ .va_lo = 0, .va_hi = UINT32_MAX, .line_lo = 0, .line_hi = INT_MAX };
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'p')
			o->pmap = optarg;
		else if (ch == 'S')
			o->stack = 1;
		else if (ch == 'A')
			o->stable = 1;
		else if (ch == 'c') {
			if (parse_u64(optarg, &v) < 0 || v >= RIG_MAX_CPUS) {
				fprintf(stderr, "rig: error: --cpu %s: a CPU number, 0 to %d\n", optarg, RIG_MAX_CPUS - 1);
				return -1;
			}
			o->cpu = (int)v + 1;
		} else if (ch == '?') {
			cli_usage("trace", stderr);
			return -1;
		} else if (trace_opt(ch, optarg, o, ro) < 0)
			return -1;
	}
	if (optind != argc - 1) {
		cli_usage("trace", stderr);
		return -1;
	}
	if (!o->has_break && (o->break_count || o->break_bits)) {
		fprintf(stderr, "rig: error: --break-count and --break-if go with --break-on-pte VA\n");
		cli_usage("trace", stderr);
		return -1;
	}
	o->color = !o->json && isatty(STDOUT_FILENO);
	return optind;
}

/* Does --pmap name an address space of s: kernel, one of its pmaps, or pd@0x...? 0, or -1 after an error. */
static int check_pmap(const struct scenario *s, const char *name, const char *file)
{
	if (name == NULL || scenario_find_pmap(s, name) >= 0 || !strncmp(name, "pd@0x", 5))
		return 0;
	fprintf(stderr, "rig: error: --pmap %s: %s declares no pmap '%s' (its pmaps:", name, file, name);
	for (int i = 0; i < s->npmaps; i++)
		fprintf(stderr, "%s %s", i ? "," : "", s->pmap_names[i]);
	fputs("; or pd@0xADDR for a directory no pmap owns)\n", stderr);
	return -1;
}

/* rig trace FILE [OPTIONS]: exit 0, 1 (the file failed), 2 (usage), 3 (crash) or 4 (stopped at a break). */
int cmd_trace(int argc, char **argv)
{
	struct trace_opts o;
	struct run_options ro = { .watch = 1 };
	struct trace t;
	struct scenario s;
	struct file_result res;
	int first = parse_trace_opts(argc, argv, &o, &ro);
	enum outcome out;

	if (first < 0)
		return RIG_EXIT_USAGE;
	if (scenario_parse(&s, argv[first], stderr) != 0 || check_pmap(&s, o.pmap, argv[first]) < 0) {
		scenario_free(&s);
		return RIG_EXIT_USAGE;
	}
	if (o.cpu > (s.ncpu ? s.ncpu : 1)) {
		fprintf(stderr, "rig: error: --cpu %d: %s runs %d CPU%s (`cpus N`)\n", o.cpu - 1, argv[first],
		    s.ncpu ? s.ncpu : 1, s.ncpu > 1 ? "s" : "");
		scenario_free(&s);
		return RIG_EXIT_USAGE;
	}
	trace_init(&t, &o, stdout, argv[first]);
	ro.trace = &t;
	out = run_file(&s, &ro, &res);
	report_text(stderr, argv[first], &res, 0);
	scenario_free(&s);
	return out == OUT_CRASH ? RIG_EXIT_GUEST : out == OUT_FAIL ? RIG_EXIT_FAIL : out == OUT_BREAK ? RIG_EXIT_BREAK :
	    RIG_EXIT_OK;
}
