/*
 * cli_run.c - `rig run FILE|DIR ...`: collect the scenario files (a
 * directory means every *.scn below it, sorted), parse them all first,
 * then run each that parsed on a fresh machine and report every file in
 * order (one that did not parse is an ERROR with its error lines). Exit 2
 * if a file did not parse, else 3 if a guest crashed, else 1 if a file
 * failed, else 0 (report_exit_code).
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "guests.h"
#include "kvamap.h"
#include "report.h"
#include "runner.h"
#include "scenario.h"
#include "trace.h"
#include "util.h"

struct filelist {
	char **v;
	int n, cap;
};

static int add_file(struct filelist *l, const char *path)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 32;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	return (l->v[l->n++] = strdup(path)) ? 0 : -1;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.scn below dir (depth-limited), appended to l. */
static int collect_dir(struct filelist *l, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL || depth > 32) {
		if (d)
			closedir(d);
		fprintf(stderr, "rig: error: cannot read directory %s\n", dir);
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = collect_dir(l, path, depth + 1);
		else if (len > 4 && !strcmp(e->d_name + len - 4, ".scn"))
			rc = add_file(l, path);
	}
	closedir(d);
	return rc;
}

/* Expand the arguments: files as given, directories sorted. */
static int collect(struct filelist *l, char **args, int n)
{
	for (int i = 0; i < n; i++) {
		struct stat st;
		int first = l->n;

		if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (collect_dir(l, args[i], 0) < 0)
				return -1;
			qsort(l->v + first, l->n - first, sizeof(char *), cmpstr);
		} else if (add_file(l, args[i]) < 0) {
			return -1;
		}
	}
	return 0;
}

struct run_cli {
	int json;
	const char *junit;
	const char *kva_map;	/* --kva-map FILE.svg */
	const char *guest;	/* --guest NAME: the build for files without a guest statement */
	struct run_options opts;
	struct trace_opts bo;	/* --break-on-pte, --break-count, --break-if */
	struct trace brk;	/* --break-on-pte: a quiet trace */
};

/* Options of rig run; returns the index of the first file, or -1. */
static int parse_run_opts(int argc, char **argv, struct run_cli *c)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' }, { "junit", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' }, { "full-checks", no_argument, NULL, 'F' },
		{ "break-on-pte", required_argument, NULL, 'b' }, { "no-watch", no_argument, NULL, 'W' },
		{ "kva-map", required_argument, NULL, 'k' }, { "stable", no_argument, NULL, 'S' },
		{ "guest", required_argument, NULL, 'g' }, { "break-count", required_argument, NULL, 'n' },
		{ "break-if", required_argument, NULL, 'i' }, { "save-schedule", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int ch;

	optind = 1;
	c->opts.watch = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'W')
			c->opts.watch = 0;
		else if (ch == 'g' && guests_exists(optarg))
			c->guest = optarg;
		else if (ch == 'g') {
			fprintf(stderr, "rig: error: --guest %s: there is no build guest-%s.elf (rig doctor lists them)\n",
			    optarg, optarg);
			return -1;
		}
		else if (ch == 'S')
			c->opts.stable = 1;
		else if (ch == 'R')
			c->opts.save_schedule = optarg;
		else if (ch == 'k')
			c->kva_map = optarg;
		else if (ch == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "text")))
			c->json = !strcmp(optarg, "json");
		else if (ch == 'j')
			c->junit = optarg;
		else if (ch == 't' && parse_u64(optarg, &v) == 0 && v > 0 && v < 3600000)
			c->opts.timeout_ms = (uint32_t)v;
		else if (ch == 'F')
			c->opts.full_checks = 1;
		else if (ch == 'b' || ch == 'n' || ch == 'i') {
			if (trace_break_opt(ch, optarg, &c->bo) < 0) {
				cli_usage("run", stderr);
				return -1;
			}
		} else {
			if (ch != '?')
				fprintf(stderr, "rig: error: bad argument '%s'\n", optarg);
			cli_usage("run", stderr);
			return -1;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "rig: error: rig run needs at least one FILE or DIR\n");
		cli_usage("run", stderr);
		return -1;
	}
	if (!c->bo.has_break && (c->bo.break_count || c->bo.break_bits)) {
		fprintf(stderr, "rig: error: --break-count and --break-if go with --break-on-pte VA\n");
		cli_usage("run", stderr);
		return -1;
	}
	if (c->bo.has_break) {
		c->bo.quiet = 1;
		c->bo.va_hi = UINT32_MAX;
		c->bo.line_hi = INT32_MAX;
		trace_init(&c->brk, &c->bo, stdout, "");
		c->opts.trace = &c->brk;
	}
	c->opts.progress = !c->json && isatty(STDERR_FILENO);
	return optind;
}

/* Parse one file; its error lines in a malloc'd string (NULL if it parsed), or -1. */
static int parse_one(struct scenario *s, const char *path, char **errors)
{
	size_t len = 0;
	FILE *err = open_memstream(errors, &len);
	int n;

	if (err == NULL)
		return -1;
	n = scenario_parse(s, path, err);
	fclose(err);
	if (n == 0) {
		free(*errors);
		*errors = NULL;
	} else if ((*errors)[0] == '\0') {	/* an error the parser did not word */
		free(*errors);
		if ((*errors = strdup("rig: error: the file did not parse\n")) == NULL)
			return -1;
	}
	return 0;
}

/* Parse every file, keeping each one's errors (errors[i], NULL when it parsed); 0 or -1. */
static int parse_all(struct filelist *files, struct scenario *scn, char **errors)
{
	for (int i = 0; i < files->n; i++)
		if (parse_one(&scn[i], files->v[i], &errors[i]) < 0)
			return -1;
	return 0;
}

/* Run file i (or, if it did not parse, make its result an ERROR) into res. */
static void run_one(struct run_cli *c, struct filelist *files, int i, struct scenario *s, char *errors,
    struct file_result *res)
{
	if (errors != NULL) {
		*res = (struct file_result){ .outcome = OUT_FAIL, .static_errors = errors };
		return;
	}
	if (c->guest != NULL && !s->guest_named)
		snprintf(s->policy, sizeof(s->policy), "%s", c->guest);
	if (c->opts.trace != NULL)
		c->brk.file = files->v[i];
	run_file(s, &c->opts, res);
}

/* Run every file that parsed, report each, return the exit code. */
static int run_all(struct run_cli *c, struct filelist *files, struct scenario *scn, char **errors)
{
	struct file_result *res = calloc(files->n, sizeof(*res));
	struct report_totals t = { 0 };

	if (res == NULL)
		return RIG_EXIT_USAGE;
	for (int i = 0; i < files->n; i++) {
		run_one(c, files, i, &scn[i], errors[i], &res[i]);
		report_count(&t, &res[i]);
		if (c->json)
			report_json(stdout, files->v[i], &res[i]);
		else
			report_text(stdout, files->v[i], &res[i], c->opts.stable);
		fflush(stdout);
	}
	report_summary(stdout, &t, c->json);
	if (c->junit && report_junit(c->junit, (const char *const *)files->v, res, files->n) != 0)
		fprintf(stderr, "rig: error: cannot write %s\n", c->junit);
	free(res);
	return report_exit_code(&t);
}

/* Run the one file while sampling its chunk KVA block; write the SVG. */
static int run_with_kva_map(struct run_cli *c, struct filelist *files, struct scenario *scn, char **errors)
{
	struct kvamap k;
	FILE *out;
	int rc;

	if (errors[0] != NULL)	/* it did not parse: report it, draw nothing */
		return run_all(c, files, scn, errors);
	kvamap_init(&k, scn[0].total_ops);
	c->opts.kvamap = &k;
	rc = run_all(c, files, scn, errors);
	if ((out = fopen(c->kva_map, "w")) == NULL || kvamap_write_svg(&k, out, files->v[0]) < 0) {
		fprintf(stderr, "rig: error: cannot write %s\n", c->kva_map);
		rc = rc ? rc : RIG_EXIT_USAGE;
	}
	if (out != NULL)
		fclose(out);
	kvamap_free(&k);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_cli c = { 0 };
	struct filelist files = { 0 };
	struct scenario *scn = NULL;
	char **errors = NULL;
	int first = parse_run_opts(argc, argv, &c), rc = RIG_EXIT_USAGE;

	if (first < 0 || collect(&files, argv + first, argc - first) < 0)
		goto out;
	if (files.n == 0) {
		fprintf(stderr, "rig: error: no scenario files found\n");
		goto out;
	}
	if ((scn = calloc(files.n, sizeof(*scn))) == NULL || (errors = calloc(files.n, sizeof(*errors))) == NULL)
		goto out;
	if (c.kva_map != NULL && files.n != 1) {
		fprintf(stderr, "rig: error: --kva-map needs exactly one scenario file\n");
		goto out;
	}
	if (parse_all(&files, scn, errors) == 0)
		rc = c.kva_map ? run_with_kva_map(&c, &files, scn, errors) : run_all(&c, &files, scn, errors);
out:
	for (int i = 0; i < files.n; i++) {
		if (scn != NULL)
			scenario_free(&scn[i]);
		if (errors != NULL)
			free(errors[i]);
		free(files.v[i]);
	}
	free(files.v);
	free(errors);
	free(scn);
	return rc;
}
