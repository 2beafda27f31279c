/*
 * bench.c - `rig bench`: how fast the rig runs scenarios in each mode.
 * Modes: engine (no hooks, no checks: the emulator's own limit for this
 * guest), watch (every event produced), full (watch + per-step invariants:
 * what users get), full-scan (a full check after every step). Every run is
 * a forked child, so peak RSS is that run's alone; the report takes the
 * median of several runs. Guest instructions per step come from a separate
 * counting pass, so counting does not distort the timings. Nothing here is
 * asserted against the clock: budgets are reported, not tested.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "runner.h"
#include "scenario.h"
#include "util.h"

static const struct bench_mode modes[] = {
	{ "engine", 0, 1, 0 }, { "watch", 1, 1, 0 }, { "full", 1, 0, 0 }, { "full-scan", 1, 0, 1 },
};

/* What a child reports back through its pipe. */
struct sample {
	uint64_t ops, insns;
	double run_ms;
	int outcome;
};

/* Run one workload in one mode in this process. */
static int run_once(const char *file, const struct bench_mode *md, int count, struct sample *out)
{
	struct scenario s;
	struct run_options o = { .watch = md->watch, .full_checks = md->full_scan, .count_insns = count };
	struct file_result res;

	if (scenario_parse(&s, file, stderr) != 0) {
		scenario_free(&s);
		return -1;
	}
	if (md->no_checks)
		s.cadence = CHECK_OFF;
	out->outcome = run_file(&s, &o, &res);
	out->ops = res.ops;
	out->insns = res.insns;
	out->run_ms = res.run_ms;
	scenario_free(&s);
	return 0;
}

/* Run it in a forked child; its peak RSS (KiB) in *rss. */
static int run_child(const char *file, const struct bench_mode *md, int count, struct sample *out, long *rss)
{
	int fd[2], status;
	struct rusage ru;
	pid_t pid;

	if (pipe(fd) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		struct sample smp = { 0 };

		close(fd[0]);
		if (run_once(file, md, count, &smp) < 0 || write(fd[1], &smp, sizeof(smp)) != sizeof(smp))
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	if (read(fd[0], out, sizeof(*out)) != sizeof(*out))
		out->ops = 0;
	close(fd[0]);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || out->ops == 0)
		return -1;
	*rss = ru.ru_maxrss;
	return 0;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of `runs` runs: steps per second and ns per step; max RSS. */
static int measure(const char *file, const struct bench_mode *md, int runs, struct bench_result *r)
{
	double ns[32];
	int n = 0;

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < runs && i < 32; i++) {
		struct sample smp;
		long rss = 0;

		if (run_child(file, md, 0, &smp, &rss) < 0)
			return -1;
		ns[n++] = smp.run_ms * 1e6 / (double)smp.ops;
		r->steps = smp.ops;
		r->rss_kb = rss > r->rss_kb ? rss : r->rss_kb;
		r->outcome = smp.outcome;
	}
	qsort(ns, n, sizeof(double), cmpd);
	r->ns_per_step = n % 2 ? ns[n / 2] : (ns[n / 2 - 1] + ns[n / 2]) / 2;
	r->steps_per_sec = 1e9 / r->ns_per_step;
	return 0;
}

/* Guest instructions per step, from a separate counting pass. */
static double insns_per_step(const char *file)
{
	struct sample smp;
	long rss;

	if (run_child(file, &modes[0], 1, &smp, &rss) < 0)
		return 0;
	return (double)smp.insns / (double)smp.ops;
}

/* The table, one row per workload and mode. */
static void print_table(FILE *out, struct bench_workload *w, int n)
{
	fprintf(out, "%-12s %-10s %9s %12s %10s %11s %12s %10s\n", "workload", "mode", "steps", "steps/s",
	    "ns/step", "insns/step", "full/engine", "peak RSS");
	for (int i = 0; i < n; i++)
		for (int m = 0; m < 4; m++) {
			const struct bench_result *r = &w[i].r[m];

			if (r->steps == 0)
				continue;
			fprintf(out, "%-12s %-10s %9llu %12.0f %10.0f %11.0f ", w[i].name, modes[m].name,
			    (unsigned long long)r->steps, r->steps_per_sec, r->ns_per_step, w[i].insns);
			if (m == 2 && w[i].r[0].steps)
				fprintf(out, "%12.2f", r->steps_per_sec / w[i].r[0].steps_per_sec);
			else
				fprintf(out, "%12s", "");
			fprintf(out, " %7.1f MB%s\n", r->rss_kb / 1024.0, r->outcome ? "  (run did not pass!)" : "");
		}
}

static struct bench_workload *find(struct bench_workload *w, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(w[i].name, name) && w[i].r[0].steps)
			return &w[i];
	return NULL;
}

/* One budget line: what, the value, the bound (at least it, or below it); 1 if met. */
static int budget_line(FILE *out, const char *what, double value, double bound, const char *fmt, int below)
{
	char v[32];
	int ok = below ? value < bound : value >= bound;

	snprintf(v, sizeof(v), fmt, value);
	fprintf(out, "  %-50s %10s  %s\n", what, v, ok ? "met" : "MISSED");
	return ok;
}

/* Several CPUs: operations per second against one CPU, per mode (the scheduler's overhead and the shootdowns). */
static void print_smp(FILE *out, struct bench_workload *w, int n)
{
	struct bench_workload *one = find(w, n, "smp-1");

	if (one == NULL || one->r[2].steps == 0)
		return;
	fprintf(out, "\nseveral CPUs (operations per second, against smp-1 in the same mode):\n");
	for (int i = 0; i < n; i++) {
		if (w[i].cpus < 2 || w[i].r[2].steps == 0)
			continue;
		fprintf(out, "  %-8s %d CPUs:", w[i].name, w[i].cpus);
		for (int m = 0; m < 3; m++)
			fprintf(out, "  %s %.0f/s (%.2fx)", modes[m].name, w[i].r[m].steps_per_sec,
			    w[i].r[m].steps_per_sec / one->r[m].steps_per_sec);
		fputc('\n', out);
	}
}

/* The budget of docs/performance.md, line by line; returns how many were met. */
static int print_budget(FILE *out, struct bench_workload *w, int n)
{
	struct bench_workload *c = find(w, n, "churn-100k"), *pt = find(w, n, "pt-churn"),
	    *s10 = find(w, n, "scale-10k"), *s1m = find(w, n, "scale-1m");
	const char *worst = NULL;
	double worst_ratio = 1e9;
	int met = 0;

	fprintf(out, "\nbudget (2-core reference machine):\n");
	if (c) {
		met += budget_line(out, "full on churn-100k >= 200000 steps/s:", c->r[2].steps_per_sec, 200000, "%.0f", 0);
		met += budget_line(out, "full/engine on churn-100k >= 0.5:", c->r[2].steps_per_sec / c->r[0].steps_per_sec,
		    0.5, "%.2f", 0);
	}
	if (pt)
		met += budget_line(out, "full/engine on pt-churn >= 0.5:", pt->r[2].steps_per_sec / pt->r[0].steps_per_sec,
		    0.5, "%.2f", 0);
	for (int i = 0; i < n; i++)	/* the budget predates the SMP series, which print_smp reports */
		if (w[i].cpus == 0 && w[i].r[0].steps && w[i].r[1].steps &&
		    w[i].r[1].steps_per_sec / w[i].r[0].steps_per_sec < worst_ratio) {
			worst_ratio = w[i].r[1].steps_per_sec / w[i].r[0].steps_per_sec;
			worst = w[i].name;
		}
	if (worst != NULL) {
		char what[96];

		snprintf(what, sizeof(what), "watch/engine everywhere >= 0.5 (worst: %s):", worst);
		met += budget_line(out, what, worst_ratio, 0.5, "%.2f", 0);
	}
	if (s10 && s1m) {
		met += budget_line(out, "full at 1M ops within 20% of 10k ops:",
		    s1m->r[2].steps_per_sec / s10->r[2].steps_per_sec * 100, 80, "%.0f%%", 0);
		met += budget_line(out, "peak RSS of full at 1M ops (64M) < 256 MB:", s1m->r[2].rss_kb / 1024.0, 256,
		    "%.1f MB", 1);
	}
	return met;
}

static void write_json(FILE *out, struct bench_workload *w, int n)
{
	fprintf(out, "{\"workloads\":[");
	for (int i = 0; i < n; i++) {
		fprintf(out, "%s{\"name\":\"%s\",\"size\":%llu,\"insns_per_step\":%.1f,\"modes\":{", i ? "," : "",
		    w[i].name, (unsigned long long)w[i].size, w[i].insns);
		for (int m = 0, first = 1; m < 4; m++) {
			const struct bench_result *r = &w[i].r[m];

			if (r->steps == 0)
				continue;
			fprintf(out, "%s\"%s\":{\"steps\":%llu,\"steps_per_sec\":%.0f,\"ns_per_step\":%.1f,"
			    "\"peak_rss_kb\":%ld,\"passed\":%s}", first ? "" : ",", modes[m].name,
			    (unsigned long long)r->steps, r->steps_per_sec, r->ns_per_step, r->rss_kb,
			    r->outcome == 0 ? "true" : "false");
			first = 0;
		}
		fprintf(out, "}}");
	}
	fprintf(out, "]}\n");
}

/* Steps per second against workload size (log scale), one line per mode. */
static void write_svg(FILE *out, struct bench_workload *w, int n)
{
	static const char *colour[] = { "#555555", "#3b6ea8", "#c0392b", "#e8a33d" };
	double ymax = 1, xmin = 1e18, xmax = 0;
	const int W = 560, H = 320, L = 70, B = 40;

	for (int i = 0; i < n; i++)
		for (int m = 0; m < 4 && w[i].size; m++)
			if (w[i].r[m].steps) {
				ymax = w[i].r[m].steps_per_sec > ymax ? w[i].r[m].steps_per_sec : ymax;
				xmin = w[i].size < xmin ? w[i].size : xmin;
				xmax = w[i].size > xmax ? w[i].size : xmax;
			}
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
	    "font-size=\"11\">\n<title>rig bench: steps per second by workload size</title>\n", W, H);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, H - B, W - 20, H - B);
	fprintf(out, "<line x1=\"%d\" y1=\"20\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, L, H - B);
	fprintf(out, "<text x=\"%d\" y=\"14\">steps/s (max %.0f)</text>\n", 10, ymax);
	fprintf(out, "<text x=\"%d\" y=\"%d\">operations (log scale)</text>\n", W / 2 - 40, H - 8);
	for (int m = 0; m < 4; m++) {
		char pts[1024] = "";
		size_t used = 0;

		fprintf(out, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>\n", W - 100, 30 + 14 * m, colour[m],
		    modes[m].name);
		for (int i = 0; i < n; i++) {
			double lx, x, y;

			if (!w[i].size || !w[i].r[m].steps)
				continue;
			lx = xmax > xmin ? (log10((double)w[i].size) - log10(xmin)) / (log10(xmax) - log10(xmin)) : 0.5;
			x = L + 10 + lx * (W - L - 130);
			y = (H - B) - w[i].r[m].steps_per_sec / ymax * (H - B - 30);
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x, y, colour[m]);
			if (used < sizeof(pts))
				used += snprintf(pts + used, sizeof(pts) - used, "%s%.1f,%.1f", used ? " " : "", x, y);
		}
		fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>\n",
		    colour[m], pts);
	}
	for (int i = 0; i < n; i++)
		if (w[i].size && w[i].r[2].steps) {
			double lx = xmax > xmin ? (log10((double)w[i].size) - log10(xmin)) / (log10(xmax) - log10(xmin)) : 0.5;

			fprintf(out, "<text x=\"%.1f\" y=\"%d\">%s</text>\n", L + lx * (W - L - 130), H - B + 14, w[i].name);
		}
	fputs("</svg>\n", out);
}

/* Write a report file into dir. */
static void write_file(const char *dir, const char *name, void (*fn)(FILE *, struct bench_workload *, int),
    struct bench_workload *w, int n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "rig: error: cannot write %s\n", path);
		return;
	}
	fn(f, w, n);
	fclose(f);
	printf("wrote %s\n", path);
}

int cmd_bench(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' }, { "runs", required_argument, NULL, 'r' },
		{ "dir", required_argument, NULL, 'd' }, { "out", required_argument, NULL, 'o' },
		{ "only", required_argument, NULL, 'n' }, { NULL, 0, NULL, 0 },
	};
	static struct bench_workload full[] = {
		{ .name = "churn-100k" }, { .name = "pt-churn" }, { .name = "ranges", .scan = 1 },
		{ .name = "shared", .scan = 1 },
		{ .name = "scale-10k", .size = 10000, .scan = 1 }, { .name = "scale-100k", .size = 100000 },
		{ .name = "scale-1m", .size = 1000000 },
		{ .name = "smp-1", .cpus = 1 }, { .name = "smp-2", .cpus = 2 }, { .name = "smp-4", .cpus = 4 },
	}, quick[] = { { .name = "smoke", .size = 3000, .scan = 1 } };
	struct bench_workload *w = full;
	int n = 10, runs = 5, ch;
	const char *dir = "bench", *outdir = "build", *only = NULL;
	uint64_t v;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'q')
			w = quick, n = 1, runs = 1;
		else if (ch == 'r' && parse_u64(optarg, &v) == 0 && v >= 1 && v <= 31)
			runs = (int)v;
		else if (ch == 'd')
			dir = optarg;
		else if (ch == 'o')
			outdir = optarg;
		else if (ch == 'n')
			only = optarg;
		else {
			fprintf(stderr, "usage: rig bench [--quick] [--runs N] [--dir BENCHDIR] [--out DIR] [--only NAME]\n");
			return RIG_EXIT_USAGE;
		}
	}
	for (int i = 0; i < n; i++) {
		char file[512];

		if (only != NULL && strncmp(only, w[i].name, strlen(only)) != 0)
			continue;	/* --only NAME: the workloads whose names start with NAME */
		snprintf(file, sizeof(file), "%s/%s.scn", dir, w[i].name);
		fprintf(stderr, "bench: %s\n", file);
		w[i].insns = insns_per_step(file);
		for (int m = 0; m < 4; m++) {
			int r = runs > 3 && w[i].size >= 1000000 ? 3 : runs;

			if ((m < 3 || w[i].scan) && measure(file, &modes[m], r, &w[i].r[m]) < 0) {
				fprintf(stderr, "rig: error: %s in mode %s did not run\n", file, modes[m].name);
				return RIG_EXIT_FAIL;
			}
		}
	}
	print_table(stdout, w, n);
	print_budget(stdout, w, n);
	print_smp(stdout, w, n);
	write_file(outdir, "bench.json", write_json, w, n);
	write_file(outdir, "bench.svg", write_svg, w, n);
	return RIG_EXIT_OK;
}
