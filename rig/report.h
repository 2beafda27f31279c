/* report.h - per-file results as text, JSON lines and JUnit XML. */
#ifndef RIG_REPORT_H
#define RIG_REPORT_H

#include <stdio.h>

#include "runner.h"

/* One file's result: "PASS path (N steps, T ms)" or FAIL with details. */
/* The text report of one file; stable: without the wall time (for docs and goldens). */
void report_text(FILE *out, const char *path, const struct file_result *res, int stable);
/* One file's result as one JSON object on one line (docs/scenarios.md). */
void report_json(FILE *out, const char *path, const struct file_result *res);
/* Write JSON string contents (escaped, without quotes). */
void json_escape(FILE *out, const char *s);
/* JUnit XML for all files. */
int report_junit(const char *file, const char *const *paths, const struct file_result *res, int n);

#endif
