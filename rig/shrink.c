/*
 * shrink.c - owns `rig shrink`: from a failing scenario, the smallest one
 * that fails the same way. The file runs once with every statement
 * recorded as it runs (repeat bodies per turn, random's operations as the
 * statements they are), up to the one that failed. Then delta debugging
 * (ddmin) over those statements, then simpler operands (no wiring, r for
 * rw, shorter ranges, lower indices and addresses, fewer pages, fewer
 * pmaps), each candidate parsed and run on a freshly booted guest. The
 * failure is the same when its kind and ID are (for a panic, its message;
 * for a livelock, its function; for a failed expectation, its statement).
 */
#include "shrink.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "runner.h"
#include "scenario.h"
#include "util.h"

#define SHRINK_MAX_LINE	256

/* The failure to keep. */
struct sig {
	char kind[24], id[24], detail[160];
};

/* A list of statements (owned strings). */
struct lines {
	char **v;
	int n, cap;
};

struct shrink {
	const char *path;
	struct lines setup;		/* set-up lines, kept as written */
	struct lines best;		/* the smallest failing statements so far */
	struct sig want;
	FILE *sink;			/* parse errors of candidates */
	uint64_t tests;
	double deadline;		/* CLOCK_MONOTONIC seconds */
	int progress;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int lines_add(struct lines *l, const char *s)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->v, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	return (l->v[l->n] = strdup(s)) == NULL ? -1 : (l->n++, 0);
}

static void lines_free(struct lines *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The record callback: one statement as it ran. */
static void on_record(void *ctx, const char *stmt)
{
	lines_add(ctx, stmt);
}

/* What a result's failure is, as compared across candidates. */
static void sig_of(const struct file_result *res, struct sig *g)
{
	const char *q, *e;

	memset(g, 0, sizeof(*g));
	if (res->outcome != OUT_FAIL && res->outcome != OUT_CRASH)
		return;
	snprintf(g->kind, sizeof(g->kind), "%s", res->kind);
	snprintf(g->id, sizeof(g->id), "%s", res->id);
	if (!strcmp(res->kind, "panic") && (q = strchr(res->message, '"')) && (e = strstr(q + 1, "\" in ")))
		snprintf(g->detail, sizeof(g->detail), "%.*s", (int)(e - q - 1), q + 1);
	else if (!strcmp(res->kind, "livelock"))
		snprintf(g->detail, sizeof(g->detail), "%s", res->spin);
	else if (!strcmp(res->kind, "expectation")) {	/* the kind of statement that failed: "expect resident" */
		size_t w = strcspn(res->text, " ");

		if (res->text[w])
			w += 1 + strcspn(res->text + w + 1, " ");
		snprintf(g->detail, sizeof(g->detail), "%.*s", (int)w, res->text);
	}
	else if (!strcmp(res->kind, "crash") && (e = strstr(res->message, " at ")))
		snprintf(g->detail, sizeof(g->detail), "%.*s", (int)(e - res->message), res->message);
}

static int sig_same(const struct sig *a, const struct sig *b)
{
	return a->kind[0] && !strcmp(a->kind, b->kind) && !strcmp(a->id, b->id) && !strcmp(a->detail, b->detail);
}

/* The text of a candidate: the set-up lines, then the statements (those with keep[i], if keep). */
static char *candidate_text(const struct shrink *k, char *const *v, int n, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		return NULL;
	for (int i = 0; i < k->setup.n; i++)
		fprintf(f, "%s\n", k->setup.v[i]);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\n", v[i]);
	fclose(f);
	return buf;
}

/* Does this list of statements fail as wanted? */
static int fails_same(struct shrink *k, char *const *v, int n)
{
	struct run_options o = { .watch = 1, .stable = 1 };
	struct file_result *res = calloc(1, sizeof(*res));
	struct scenario s;
	size_t len;
	char *text = candidate_text(k, v, n, &len);
	struct sig got = { 0 };

	k->tests++;
	if (k->progress && k->tests % 8 == 0)
		fprintf(stderr, "\rshrink: %d statements, %llu runs ", k->best.n, (unsigned long long)k->tests);
	if (text != NULL && res != NULL && scenario_parse_text(&s, k->path, text, len, k->sink) == 0) {
		run_file(&s, &o, res);
		sig_of(res, &got);
	}
	if (text != NULL && res != NULL)
		scenario_free(&s);
	free(text);
	free(res);
	return sig_same(&got, &k->want);
}

static int out_of_time(const struct shrink *k)
{
	return now_s() > k->deadline;
}

/* Replace best by the n statements of v (copied). */
static void take(struct shrink *k, char *const *v, int n)
{
	struct lines l = { 0 };

	for (int i = 0; i < n; i++)
		lines_add(&l, v[i]);
	lines_free(&k->best);
	k->best = l;
}

/*
 * ddmin (Zeller): split the statements into chunks; keep a chunk alone, or
 * everything but a chunk, when that still fails the same way; otherwise
 * split finer, down to single statements.
 */
static void ddmin(struct shrink *k)
{
	int chunks = 2;
	char **tmp = NULL;

	while (k->best.n >= 2 && !out_of_time(k)) {
		int n = k->best.n, size = (n + chunks - 1) / chunks, reduced = 0;

		free(tmp);
		if ((tmp = malloc((size_t)n * sizeof(*tmp))) == NULL)
			return;
		for (int c = 0; c < chunks && !reduced && !out_of_time(k); c++) {	/* everything but chunk c */
			int m = 0;

			for (int i = 0; i < n; i++)
				if (i / size != c)
					tmp[m++] = k->best.v[i];
			if (m < n && m > 0 && fails_same(k, tmp, m)) {
				take(k, tmp, m);
				chunks = chunks > 2 ? chunks - 1 : 2;
				reduced = 1;
			}
		}
		if (reduced)
			continue;
		if (chunks >= n)
			break;
		chunks = chunks * 2 < n ? chunks * 2 : n;
	}
	free(tmp);
}

/* Try the statements with line i replaced by repl (NULL: removed); keep them if they fail the same. */
static int try_line(struct shrink *k, int i, const char *repl)
{
	char **v = malloc((size_t)k->best.n * sizeof(*v));
	int n = 0, ok;

	if (v == NULL)
		return 0;
	for (int j = 0; j < k->best.n; j++)
		if (j != i)
			v[n++] = k->best.v[j];
		else if (repl != NULL)
			v[n++] = (char *)repl;
	ok = fails_same(k, v, n);
	if (ok)
		take(k, v, n);
	free(v);
	return ok;
}

/* Every statement with whole word `from` replaced by `to` ("" drops it); kept if it fails the same. */
static int try_rename(struct shrink *k, const char *from, const char *to)
{
	char **v = calloc((size_t)k->best.n, sizeof(*v));
	int ok = 0, changed = 0;

	for (int j = 0; v != NULL && j < k->best.n; j++) {
		char out[SHRINK_MAX_LINE * 2] = "", *w, *save = NULL, line[SHRINK_MAX_LINE * 2];
		size_t used = 0;

		snprintf(line, sizeof(line), "%s", k->best.v[j]);
		for (w = strtok_r(line, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
			const char *x = strcmp(w, from) ? w : to;

			changed |= x == to;
			if (x[0] && used < sizeof(out))
				used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s", used ? " " : "", x);
		}
		v[j] = strdup(out);
	}
	if (v != NULL && changed)
		ok = fails_same(k, v, k->best.n);
	if (ok)
		take(k, v, k->best.n);
	for (int j = 0; v != NULL && j < k->best.n; j++)
		free(v[j]);
	free(v);
	return ok;
}

/* Single statements out, one at a time (after ddmin, the result is 1-minimal). */
static int pass_drop(struct shrink *k)
{
	int any = 0;

	for (int i = k->best.n - 1; i >= 0 && !out_of_time(k); i--)
		any |= try_line(k, i, NULL);
	return any;
}

/* Optional words out of each statement, rw to r, ranges of one page. */
static int pass_words(struct shrink *k)
{
	int any = 0;

	for (int i = 0; i < k->best.n && !out_of_time(k); i++) {
		char line[SHRINK_MAX_LINE], a[16], b[16], rest[SHRINK_MAX_LINE] = "", *p;
		unsigned va, eva;

		snprintf(line, sizeof(line), "%s", k->best.v[i]);
		if ((p = strstr(line, " wired")) != NULL && (p[6] == '\0' || p[6] == ' ')) {
			memmove(p, p + 6, strlen(p + 6) + 1);
			any |= try_line(k, i, line);
			snprintf(line, sizeof(line), "%s", k->best.v[i]);
		}
		if ((p = strstr(line, " or-shortage")) != NULL) {
			*p = '\0';
			any |= try_line(k, i, line);
			snprintf(line, sizeof(line), "%s", k->best.v[i]);
		}
		if ((p = strstr(line, " rw")) != NULL && (p[3] == '\0' || p[3] == ' ')) {
			memmove(p + 2, p + 3, strlen(p + 3) + 1);
			any |= try_line(k, i, line);
			snprintf(line, sizeof(line), "%s", k->best.v[i]);
		}
		if ((sscanf(line, "unmap %15s 0x%x 0x%x%255[^\n]", a, &va, &eva, rest) >= 3 ||
		     sscanf(line, "protect %15s 0x%x 0x%x%255[^\n]", a, &va, &eva, rest) >= 3) && eva > va + 0x1000) {
			snprintf(b, sizeof(b), "%.*s", (int)strcspn(line, " "), line);
			snprintf(line, sizeof(line), "%s %s 0x%08x 0x%08x%s", b, a, va, va + 0x1000, rest);
			any |= try_line(k, i, line);
		}
	}
	return any;
}

/* Collect the distinct values of hex words in the statements (sorted, at most max). */
static int hex_values(const struct shrink *k, unsigned *vals, int max)
{
	int n = 0;

	for (int i = 0; i < k->best.n; i++) {
		for (const char *p = strstr(k->best.v[i], "0x"); p != NULL; p = strstr(p + 2, "0x")) {
			unsigned v = (unsigned)strtoul(p, NULL, 16);
			int seen = 0;

			if (p != k->best.v[i] && p[-1] != ' ')
				continue;
			for (int j = 0; j < n && !seen; j++)
				seen = vals[j] == v;
			if (!seen && n < max)
				vals[n++] = v;
		}
	}
	for (int i = 1; i < n; i++)	/* insertion sort: few values */
		for (int j = i; j > 0 && vals[j - 1] > vals[j]; j--) {
			unsigned t = vals[j];

			vals[j] = vals[j - 1], vals[j - 1] = t;
		}
	return n;
}

/* Is v a user page address the passes may move? */
static int user_page(unsigned v)
{
	return v >= 0x10000000u && v < 0xbfc00000u && !(v & 0xfff);
}

/* Every user page address moved down by delta at once (the layout between them kept). */
static int try_shift(struct shrink *k, const unsigned *vals, int n, unsigned delta)
{
	struct lines l = { 0 };
	int ok;

	for (int j = 0; j < k->best.n; j++) {
		char out[SHRINK_MAX_LINE * 2] = "";
		size_t used = 0;

		for (const char *p = k->best.v[j]; *p && used < sizeof(out);) {
			unsigned v;
			int hit = 0;

			if (p[0] == '0' && p[1] == 'x' && (p == k->best.v[j] || p[-1] == ' ')) {
				v = (unsigned)strtoul(p, NULL, 16);
				for (int i = 0; i < n && !hit; i++)
					hit = vals[i] == v && user_page(v);
			}
			if (hit) {
				used += (size_t)snprintf(out + used, sizeof(out) - used, "0x%08x", v - delta);
				p += 2 + strspn(p + 2, "0123456789abcdefABCDEF");
			} else {
				out[used++] = *p++;
				out[used] = '\0';
			}
		}
		lines_add(&l, out);
	}
	ok = fails_same(k, l.v, l.n);
	if (ok) {
		lines_free(&k->best);
		k->best = l;
	} else {
		lines_free(&l);
	}
	return ok;
}

/* Lower user addresses: all of them down together, then each down to the next free page from 0x10000000. */
static int pass_addresses(struct shrink *k)
{
	unsigned vals[256], next = 0x10000000u;
	int n = hex_values(k, vals, 256), any = 0, first = -1;

	for (int i = 0; i < n && first < 0; i++)
		if (user_page(vals[i]))
			first = i;
	if (first >= 0 && vals[first] > next && try_shift(k, vals, n, vals[first] - next)) {
		any = 1;
		n = hex_values(k, vals, 256);
	}

	for (int i = 0; i < n && !out_of_time(k); i++) {
		char from[16], to[16];

		if (!user_page(vals[i]))
			continue;
		if (vals[i] > next) {
			snprintf(from, sizeof(from), "0x%08x", vals[i]);
			snprintf(to, sizeof(to), "0x%08x", next);
			if (try_rename(k, from, to)) {
				any = 1;
				vals[i] = next;
			}
		}
		next = vals[i] + 0x1000;
	}
	return any;
}

/* Does any statement name `word` (a page like "p[3]")? */
static int used_anywhere(const struct shrink *k, const char *word)
{
	for (int j = 0; j < k->best.n; j++)
		if (strstr(k->best.v[j], word) != NULL)
			return 1;
	return 0;
}

/* Fewer pages and pmaps: lower array indices, smaller arrays, one pmap standing in for another. */
static int pass_objects(struct shrink *k)
{
	int any = 0;

	for (int i = 0; i < k->best.n && !out_of_time(k); i++) {
		char name[64], line[SHRINK_MAX_LINE];
		unsigned count, top = 0;

		if (sscanf(k->best.v[i], "page %63s %u", name, &count) == 2 && count > 1) {
			size_t nl = strlen(name);

			for (int j = 0; j < k->best.n; j++)	/* the highest index used */
				for (const char *p = strstr(k->best.v[j], name); p != NULL; p = strstr(p + 1, name))
					if (p[nl] == '[' && (unsigned)atoi(p + nl + 1) + 1 > top)
						top = (unsigned)atoi(p + nl + 1) + 1;
			for (unsigned idx = top; idx-- > 0 && !out_of_time(k);) {	/* index idx down to the lowest unused */
				char from[96], to[96];

				for (unsigned low = 0; low < idx; low++) {
					snprintf(from, sizeof(from), "%s[%u]", name, idx);
					snprintf(to, sizeof(to), "%s[%u]", name, low);
					if (!used_anywhere(k, to) && try_rename(k, from, to)) {
						any = 1;
						break;
					}
				}
			}
			if (top < count && top > 0) {
				snprintf(line, sizeof(line), "page %s %u", name, top);
				any |= try_line(k, i, line);
			}
			/* used whole (or still large): halve it while it fails the same */
			while (sscanf(k->best.v[i], "page %*s %u", &count) == 1 && count > 1 && count / 2 >= top &&
			    !out_of_time(k)) {
				snprintf(line, sizeof(line), "page %s %u", name, count / 2);
				if (!try_line(k, i, line))
					break;
				any = 1;
			}
		}
		if (sscanf(k->best.v[i], "pmap %63s", name) == 1) {	/* another pmap in its stead */
			for (int j = 0; j < i; j++) {
				char other[64];

				if (sscanf(k->best.v[j], "pmap %63s", other) == 1 && strcmp(other, name) &&
				    try_rename(k, name, other)) {
					any = 1;
					break;
				}
			}
		}
	}
	return any;
}

/* Set-up lines out (all but the guest's), one at a time. */
static int pass_setup(struct shrink *k)
{
	int any = 0;

	for (int i = k->setup.n - 1; i >= 0 && !out_of_time(k); i--) {
		char *line = k->setup.v[i];

		if (!strncmp(line, "guest", 5))
			continue;
		memmove(&k->setup.v[i], &k->setup.v[i + 1], (size_t)(k->setup.n - i - 1) * sizeof(char *));
		k->setup.n--;
		if (fails_same(k, k->best.v, k->best.n)) {
			free(line);
			any = 1;
			continue;
		}
		memmove(&k->setup.v[i + 1], &k->setup.v[i], (size_t)(k->setup.n - i) * sizeof(char *));
		k->setup.v[i] = line;
		k->setup.n++;
	}
	return any;
}

/* The set-up lines of the original file: kept; its expected failure: dropped (the result fails plainly). */
static int read_setup(struct shrink *k)
{
	char line[1024];
	FILE *f = fopen(k->path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t w;
		char word[32];

		line[strcspn(line, "\r\n")] = '\0';
		w = strspn(line, " \t");
		if (sscanf(line + w, "%31s", word) != 1 || word[0] == '#')
			continue;
		if (!strcmp(word, "check")) {	/* check every|end|off is set-up; a bare check a statement */
			char arg[16] = "";

			sscanf(line + w, "%*s %15s", arg);
			if (strcmp(arg, "every") && strcmp(arg, "end") && strcmp(arg, "off"))
				continue;
		} else if (strcmp(word, "guest") && strcmp(word, "memory") && strcmp(word, "pv-chunks") &&
		    strcmp(word, "ignore") && strcmp(word, "requires") && strcmp(word, "cpus") && strcmp(word, "schedule")) {
			continue;
		}
		if (lines_add(&k->setup, line + w) < 0) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/* The result: a header naming the original and the failure, the set-up, the statements. */
static int write_result(struct shrink *k, const char *out, int from, const struct file_result *res)
{
	FILE *f = out ? fopen(out, "w") : stdout;

	if (f == NULL) {
		fprintf(stderr, "rig: error: %s: cannot write\n", out);
		return RIG_EXIT_USAGE;
	}
	fprintf(f, "# Shrunk by rig shrink from %s: %s%s%s%s%s, %d statement%s (from %d).\n", k->path, k->want.kind,
	    k->want.id[0] ? " " : "", k->want.id, k->want.detail[0] ? ": " : "", k->want.detail, k->best.n,
	    k->best.n == 1 ? "" : "s", from);
	fprintf(f, "# The original failure: %.*s\n", (int)strcspn(res->message, "\n"), res->message);
	for (int i = 0; i < k->setup.n; i++)
		fprintf(f, "%s\n", k->setup.v[i]);
	fputc('\n', f);
	for (int i = 0; i < k->best.n; i++)
		fprintf(f, "%s\n", k->best.v[i]);
	if (out != NULL)
		fclose(f);
	return RIG_EXIT_OK;
}

int shrink_file(const char *path, const char *out, uint64_t secs)
{
	struct shrink k = { 0 };
	struct scenario s;
	struct run_options o = { .watch = 1, .stable = 1, .record = on_record };
	struct file_result *res = calloc(1, sizeof(*res));
	int rc = RIG_EXIT_USAGE, from;

	if (res == NULL)
		return RIG_EXIT_USAGE;
	k.path = path;
	k.progress = isatty(STDERR_FILENO);
	k.deadline = now_s() + (double)secs;
	if (scenario_parse(&s, k.path, stderr) != 0) {
		free(res);
		return RIG_EXIT_USAGE;
	}
	s.expect_violation = NULL;	/* the failure itself, not the file's declaration of it */
	s.expect_panic = NULL;
	s.expect_livelock = 0;
	o.record_ctx = &k.best;
	run_file(&s, &o, res);
	sig_of(res, &k.want);
	if (!k.want.kind[0] || !strcmp(k.want.kind, "boot")) {
		fprintf(stderr, "rig: error: %s does not fail%s: nothing to shrink\n", k.path,
		    k.want.kind[0] ? " after boot" : "");
		goto done;
	}
	if ((k.sink = fopen("/dev/null", "w")) == NULL || read_setup(&k) < 0)
		goto done;
	from = k.best.n;
	if (!fails_same(&k, k.best.v, k.best.n)) {
		fprintf(stderr, "rig: error: %s: written out, its %d statements do not fail the same way (%s %s)\n",
		    k.path, k.best.n, k.want.kind, k.want.id);
		goto done;
	}
	ddmin(&k);
	for (int round = 0; round < 4 && !out_of_time(&k); round++) {
		int any = pass_drop(&k);

		any |= pass_setup(&k);
		any |= pass_words(&k);
		any |= pass_objects(&k);
		any |= pass_addresses(&k);
		if (!any)
			break;
	}
	if (k.progress)
		fprintf(stderr, "\r\033[K");
	rc = write_result(&k, out, from, res);
	if (out_of_time(&k))
		fprintf(stderr, "rig: shrink: the time budget ran out; the result is smaller but perhaps not minimal\n");
done:
	scenario_free(&s);
	if (k.sink)
		fclose(k.sink);
	lines_free(&k.best);
	lines_free(&k.setup);
	free(res);
	return rc;
}

/* rig shrink FILE [-o OUT] [--time S]. */
int cmd_shrink(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' }, { "time", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	uint64_t secs = 300;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if (ch == 'o')
			out = optarg;
		else if (ch != 't' || parse_u64(optarg, &secs) < 0 || secs == 0 || secs > 86400) {
			cli_usage("shrink", stderr);
			return RIG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		cli_usage("shrink", stderr);
		return RIG_EXIT_USAGE;
	}
	return shrink_file(argv[optind], out, secs);
}
