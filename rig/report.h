/* report.h - per-file results as text, JSON lines and JUnit XML; the summary and the exit code. */
#ifndef RIG_REPORT_H
#define RIG_REPORT_H

#include <stdio.h>

#include "runner.h"

/* What a run of several files came to. errors = crashed + static_errors. */
struct report_totals {
	int passed;		/* PASS (also expected failures that happened as declared) */
	int failed;		/* FAIL */
	int errors;		/* CRASH, and files that did not parse (ERROR) */
	int skipped;		/* SKIP: the guest lacks a feature the file requires */
	int breaks;		/* BREAK: stopped at --break-on-pte before the end */
	int crashed, static_errors;
};

/* Count one file's result into t. */
void report_count(struct report_totals *t, const struct file_result *res);
/* The exit code for t: 2 if a file did not parse, else 3 if one crashed, else 1 if one failed, else 4 if
 * one stopped at a break, else 0. */
int report_exit_code(const struct report_totals *t);
/* The last line: "N passed, N failed[, N error(s)]", or the JSON summary object. */
void report_summary(FILE *out, const struct report_totals *t, int json);
/* The text report of one file: "PASS path (N steps, T ms)", FAIL/CRASH with details, or
 * "ERROR path" and its static errors; stable: without the wall time (for docs and goldens). */
void report_text(FILE *out, const char *path, const struct file_result *res, int stable);
/* The evidence lines under a FAIL, CRASH or ERROR line, each indented by two spaces. */
void report_details(FILE *out, const char *path, const struct file_result *res);
/* One file's result as one JSON object on one line (docs/scenarios.md). */
void report_json(FILE *out, const char *path, const struct file_result *res);
/* ,"failure":{...} of a result that stopped on a failure; nothing for one that did not. */
void report_json_failure(FILE *out, const struct file_result *res);
/* Write JSON string contents (escaped, without quotes). */
void json_escape(FILE *out, const char *s);
/* JUnit XML for all files; 0, or -1 if file cannot be written. */
int report_junit(const char *file, const char *const *paths, const struct file_result *res, int n);

#endif
