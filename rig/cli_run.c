/*
 * cli_run.c - `rig run FILE|DIR ...`: collect the scenario files (a
 * directory means every *.scn below it, sorted), parse them all first
 * (any static error: report all, exit 2), then run each on a fresh machine
 * and report. Exit 0 all passed, 1 a failure, 3 a guest crash.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
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
	struct run_options opts;
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
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int ch;

	optind = 1;
	c->opts.watch = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'W')
			c->opts.watch = 0;
		else if (ch == 'S')
			c->opts.stable = 1;
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
		else if (ch == 'b' && parse_u64(optarg, &v) == 0 && v <= UINT32_MAX) {
			struct trace_opts o = { .quiet = 1, .has_break = 1, .break_va = (uint32_t)v,
						.va_hi = UINT32_MAX, .line_hi = INT32_MAX };

			trace_init(&c->brk, &o, stdout, "");
			c->opts.trace = &c->brk;
		}
		else {
			fprintf(stderr, "usage: rig run [--format text|json] [--junit FILE] [--timeout MS] "
			    "[--full-checks] [--break-on-pte VA] [--kva-map FILE.svg] [--no-watch] [--stable] FILE|DIR...\n");
			return -1;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "rig: error: rig run needs at least one FILE or DIR\n");
		return -1;
	}
	c->opts.progress = !c->json && isatty(STDERR_FILENO);
	return optind;
}

/* Parse every file; returns the number of errors (all printed). */
static int parse_all(struct filelist *files, struct scenario *scn)
{
	int errors = 0;

	for (int i = 0; i < files->n; i++)
		errors += scenario_parse(&scn[i], files->v[i], stderr);
	return errors;
}

/* Run every file, report each, return the exit code. */
static int run_all(struct run_cli *c, struct filelist *files, struct scenario *scn)
{
	struct file_result *res = calloc(files->n, sizeof(*res));
	int passed = 0, failed = 0, crashed = 0;

	if (res == NULL)
		return RIG_EXIT_USAGE;
	for (int i = 0; i < files->n; i++) {
		enum outcome o;

		if (c->opts.trace != NULL) {
			c->brk.file = files->v[i];
			c->brk.broke = 0;
		}
		o = run_file(&scn[i], &c->opts, &res[i]);

		passed += o == OUT_PASS || o == OUT_BREAK;
		failed += o != OUT_PASS && o != OUT_BREAK;
		crashed += o == OUT_CRASH;
		if (c->json)
			report_json(stdout, files->v[i], &res[i]);
		else
			report_text(stdout, files->v[i], &res[i], c->opts.stable);
		fflush(stdout);
	}
	if (c->json)
		printf("{\"summary\":{\"passed\":%d,\"failed\":%d}}\n", passed, failed);
	else
		printf("%d passed, %d failed\n", passed, failed);
	if (c->junit && report_junit(c->junit, (const char *const *)files->v, res, files->n) != 0)
		fprintf(stderr, "rig: error: cannot write %s\n", c->junit);
	free(res);
	return crashed ? RIG_EXIT_GUEST : failed ? RIG_EXIT_FAIL : RIG_EXIT_OK;
}

/* Run the one file while sampling its chunk KVA block; write the SVG. */
static int run_with_kva_map(struct run_cli *c, struct filelist *files, struct scenario *scn)
{
	struct kvamap k;
	FILE *out;
	int rc;

	kvamap_init(&k, scn[0].total_ops);
	c->opts.kvamap = &k;
	rc = run_all(c, files, scn);
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
	int first = parse_run_opts(argc, argv, &c), rc = RIG_EXIT_USAGE;

	if (first < 0 || collect(&files, argv + first, argc - first) < 0)
		goto out;
	if (files.n == 0) {
		fprintf(stderr, "rig: error: no scenario files found\n");
		goto out;
	}
	if ((scn = calloc(files.n, sizeof(*scn))) == NULL)
		goto out;
	if (c.kva_map != NULL && files.n != 1) {
		fprintf(stderr, "rig: error: --kva-map needs exactly one scenario file\n");
		goto out;
	}
	if (parse_all(&files, scn) == 0)
		rc = c.kva_map ? run_with_kva_map(&c, &files, scn) : run_all(&c, &files, scn);
	for (int i = 0; i < files.n; i++)
		scenario_free(&scn[i]);
out:
	for (int i = 0; i < files.n; i++)
		free(files.v[i]);
	free(files.v);
	free(scn);
	return rc;
}
