/*
 * cli_compare.c - `rig compare FILE --guests A,B,C [--format text|json]`:
 * one scenario against several guest builds (KVA policies, or a policy of
 * your own), side by side: outcome and first violation, pv pages held at
 * the end and at the peak, chunk allocations and frees, peak KVA slots in
 * use, reclaims, and steps per second, then each failing guest's evidence.
 * Expected-failure declarations in the file are set aside: the table shows
 * what actually happened. Exit 0 when every guest passed, 2 when one did
 * not boot (an unknown guest), else 3 when one crashed, else 1 when one failed.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "runner.h"
#include "scenario.h"
#include "util.h"

#define MAX_GUESTS 8

struct column {
	char guest[40];
	struct file_result res;
};

/* "PASS", or "violation ID (line N)", "panic (line N)", ... */
static const char *outcome_text(const struct file_result *r, char *buf, size_t len)
{
	if (r->outcome == OUT_PASS)
		return "PASS";
	if (!strcmp(r->kind, "boot")) {
		snprintf(buf, len, "did not boot: %.80s", r->message);
		return buf;
	}
	snprintf(buf, len, "%s%s%s (line %d)", r->kind, r->id[0] ? " " : "", r->id, r->line);
	return buf;
}

/* The table: one column per guest. */
static void print_table(struct column *c, int n)
{
	static const char *rows[] = { "outcome", "pv pages held (end)", "pv pages held (peak)", "chunk allocs",
		"chunk frees", "KVA slots in use (peak)", "reclaims (mappings)", "steps per second" };
	static const enum ct_counter kinds[] = { 0, CT_CNT_PAGES_HELD, CT_CNT_PAGES_PEAK, CT_CNT_CHUNK_ALLOCS,
		CT_CNT_CHUNK_FREES, CT_CNT_KVA_PEAK, CT_CNT_RECLAIMED };
	char buf[96];

	printf("%-24s", "");
	for (int g = 0; g < n; g++)
		printf(" %-32s", c[g].guest);
	putchar('\n');
	for (size_t row = 0; row < sizeof(rows) / sizeof(rows[0]); row++) {
		printf("%-24s", rows[row]);
		for (int g = 0; g < n; g++) {
			const struct file_result *r = &c[g].res;

			if (row == 0)
				printf(" %-32s", outcome_text(r, buf, sizeof(buf)));
			else if (row < 7 && !(r->counters_kept >> kinds[row] & 1))
				printf(" %-32s", "- (not kept)");
			else if (row < 7)
				printf(" %-32u", r->counters[kinds[row]]);
			else
				printf(" %-32.0f", r->ms > 0 ? r->ops * 1000.0 / r->ms : 0.0);
		}
		putchar('\n');
	}
}

/* Each failing guest's evidence, as in rig run's report, under the table. */
static void print_failures(const char *file, struct column *c, int n)
{
	char buf[96];

	for (int g = 0; g < n; g++) {
		if (c[g].res.outcome == OUT_PASS)
			continue;
		printf("\n%s: %s\n", c[g].guest, outcome_text(&c[g].res, buf, sizeof(buf)));
		report_details(stdout, file, &c[g].res);
	}
}

/* One JSON object: the file and one object per guest (with "failure" as in rig run's JSON). */
static void print_json(const char *file, struct column *c, int n)
{
	char buf[96];

	printf("{\"file\":\"");
	json_escape(stdout, file);
	printf("\",\"guests\":[");
	for (int g = 0; g < n; g++) {
		const struct file_result *r = &c[g].res;
		static const char *keys[] = { "pv_pages_held", "pv_pages_peak", "chunk_allocs", "chunk_frees",
			"kva_slots_peak", "reclaimed" };
		static const enum ct_counter kinds[] = { CT_CNT_PAGES_HELD, CT_CNT_PAGES_PEAK, CT_CNT_CHUNK_ALLOCS,
			CT_CNT_CHUNK_FREES, CT_CNT_KVA_PEAK, CT_CNT_RECLAIMED };

		printf("%s{\"guest\":\"%s\",\"outcome\":\"", g ? "," : "", c[g].guest);
		json_escape(stdout, outcome_text(r, buf, sizeof(buf)));
		printf("\",\"violation\":\"%s\"", r->id);
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)	/* null: the guest keeps no such counter */
			if (r->counters_kept >> kinds[k] & 1)
				printf(",\"%s\":%u", keys[k], r->counters[kinds[k]]);
			else
				printf(",\"%s\":null", keys[k]);
		printf(",\"steps\":%llu,\"steps_per_second\":%.0f", (unsigned long long)r->ops,
		    r->ms > 0 ? r->ops * 1000.0 / r->ms : 0.0);
		report_json_failure(stdout, r);
		putchar('}');
	}
	printf("]}\n");
}

/* Split "a,b,c" into guest names; -1 on a bad list. */
static int parse_guests(char *list, struct column *c, int *n)
{
	for (char *g = strtok(list, ","); g != NULL; g = strtok(NULL, ",")) {
		size_t len = strlen(g);

		if (*n == MAX_GUESTS || len >= sizeof(c[0].guest))
			return -1;
		memcpy(c[(*n)++].guest, g, len + 1);
	}
	return *n > 0 ? 0 : -1;
}

/* Run s once per guest (its own `guest` statement set aside) and report. */
static int compare_run(struct scenario *s, const char *file, struct column *c, int n, int json)
{
	struct run_options o = { .watch = 1 };
	const char *ev = s->expect_violation;
	int el = s->expect_livelock;
	char *ep = s->expect_panic, policy[sizeof(s->policy)];
	int noboot = 0, crashed = 0, failed = 0;

	memcpy(policy, s->policy, sizeof(policy));
	s->expect_violation = NULL;
	s->expect_livelock = 0;
	s->expect_panic = NULL;
	for (int g = 0; g < n; g++) {
		enum outcome out;

		memcpy(s->policy, c[g].guest, sizeof(s->policy));
		out = run_file(s, &o, &c[g].res);
		noboot |= out == OUT_CRASH && !strcmp(c[g].res.kind, "boot");
		crashed |= out == OUT_CRASH;
		failed |= out == OUT_FAIL;
	}
	s->expect_violation = ev;
	s->expect_livelock = el;
	s->expect_panic = ep;
	memcpy(s->policy, policy, sizeof(policy));
	if (json)
		print_json(file, c, n);
	else {
		print_table(c, n);
		print_failures(file, c, n);
	}
	scenario_free(s);
	return noboot ? RIG_EXIT_USAGE : crashed ? RIG_EXIT_GUEST : failed ? RIG_EXIT_FAIL : RIG_EXIT_OK;
}

/* rig compare FILE [--guests A,B,...] [--format text|json]. */
int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "guests", required_argument, NULL, 'g' }, { "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	static struct column cols[MAX_GUESTS];
	char guests[256] = "dynamic,nofree,ptelist";
	int n = 0, json = 0, ch;
	struct scenario s;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'g' && strlen(optarg) < sizeof(guests))
			snprintf(guests, sizeof(guests), "%s", optarg);
		else if (ch == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "text")))
			json = !strcmp(optarg, "json");
		else
			goto usage;
	}
	if (optind != argc - 1 || parse_guests(guests, cols, &n) < 0)
		goto usage;
	if (scenario_parse(&s, argv[optind], stderr) != 0) {
		scenario_free(&s);
		return RIG_EXIT_USAGE;
	}
	return compare_run(&s, argv[optind], cols, n, json);
usage:
	cli_usage("compare", stderr);
	return RIG_EXIT_USAGE;
}
