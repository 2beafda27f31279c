/*
 * report.c - owns how results look: the text report (one line per passing
 * file, the step and the evidence for a failing one, the error lines of a
 * file that did not parse), the JSON-lines form, the summary line, and
 * JUnit XML. Field names are stable: docs/scenarios.md lists them.
 */
#include "report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* PASS, FAIL, CRASH, BREAK, or ERROR for a file that did not parse. */
static const char *outcome_name(const struct file_result *res)
{
	enum outcome o = res->outcome;

	if (res->static_errors != NULL)
		return "ERROR";
	return o == OUT_PASS ? "PASS" : o == OUT_FAIL ? "FAIL" : o == OUT_BREAK ? "BREAK" : o == OUT_SKIP ? "SKIP" :
	    "CRASH";
}

void report_count(struct report_totals *t, const struct file_result *res)
{
	if (res->static_errors != NULL || res->outcome == OUT_CRASH)
		t->errors++;
	else if (res->outcome == OUT_FAIL)
		t->failed++;
	else if (res->outcome == OUT_SKIP)
		t->skipped++;
	else if (res->outcome == OUT_BREAK)
		t->breaks++;
	else
		t->passed++;
	t->static_errors += res->static_errors != NULL;
	t->crashed += res->static_errors == NULL && res->outcome == OUT_CRASH;
}

int report_exit_code(const struct report_totals *t)
{
	return t->static_errors ? 2 : t->crashed ? 3 : t->failed ? 1 : t->breaks ? 4 : 0;
}

void report_summary(FILE *out, const struct report_totals *t, int json)
{
	if (json) {
		fprintf(out, "{\"summary\":{\"passed\":%d,\"failed\":%d,\"errors\":%d,\"skipped\":%d", t->passed,
		    t->failed, t->errors, t->skipped);
		if (t->breaks)
			fprintf(out, ",\"breaks\":%d", t->breaks);
		fputs("}}\n", out);
		return;
	}
	fprintf(out, "%d passed, %d failed", t->passed, t->failed);
	if (t->skipped)
		fprintf(out, ", %d skipped", t->skipped);
	if (t->breaks)
		fprintf(out, ", %d stopped at a break", t->breaks);
	if (t->errors)
		fprintf(out, ", %d error%s", t->errors, t->errors == 1 ? "" : "s");
	fputc('\n', out);
}

/* Each line of text, prefixed by indent. */
static void print_lines(FILE *out, const char *indent, const char *text)
{
	while (*text) {
		size_t len = strcspn(text, "\n");

		fprintf(out, "%s%.*s\n", indent, (int)len, text);
		text += len + (text[len] == '\n');
	}
}

void report_details(FILE *out, const char *path, const struct file_result *res)
{
	if (res->static_errors != NULL) {
		print_lines(out, "  ", res->static_errors);
		return;
	}
	if (res->line > 0)
		fprintf(out, "  %s:%d: %s\n", path, res->line, res->text);
	else if (res->text[0])
		fprintf(out, "  %s: %s\n", path, res->text);
	fprintf(out, "  %s%s%s: %s\n", res->kind, res->id[0] ? " " : "", res->id, res->message);
	if (res->expected[0])
		fprintf(out, "  (the file expects %s)\n", res->expected);
}

/* "failed as expected at line L (KIND[ ID])": a PASS that declared its failure. */
static const char *expected_note(char *buf, size_t len, const struct file_result *res)
{
	snprintf(buf, len, "failed as expected at line %d (%s%s%s)", res->line, res->kind, res->id[0] ? " " : "",
	    res->id);
	return buf;
}

void report_text(FILE *out, const char *path, const struct file_result *res, int stable)
{
	if (res->static_errors != NULL) {
		fprintf(out, "ERROR %s\n", path);
		report_details(out, path, res);
		return;
	}
	if (res->outcome == OUT_SKIP) {
		fprintf(out, "SKIP %s: %s (%s, line %d)\n", path, res->message, res->text, res->line);
		return;
	}
	fprintf(out, "%s %s (%llu steps", outcome_name(res), path, (unsigned long long)res->ops);
	if (!stable)
		fprintf(out, ", %.0f ms", res->ms);
	fputc(')', out);
	if (res->outcome == OUT_PASS && res->expected[0]) {
		char note[160];

		fprintf(out, ": %s", expected_note(note, sizeof(note), res));
	}
	fputc('\n', out);
	if (res->outcome != OUT_PASS)
		report_details(out, path, res);
}

void json_escape(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
}

/* "key":"escaped value" */
static void json_str(FILE *out, const char *key, const char *v, int comma)
{
	fprintf(out, "%s\"%s\":\"", comma ? "," : "", key);
	json_escape(out, v);
	fputc('"', out);
}

void report_json_failure(FILE *out, const struct file_result *res)
{
	if (!res->kind[0] || res->outcome == OUT_SKIP)
		return;
	fprintf(out, ",\"failure\":{\"line\":%d", res->line);
	json_str(out, "step", res->text, 1);
	json_str(out, "kind", res->kind, 1);
	json_str(out, "id", res->id, 1);
	json_str(out, "message", res->message, 1);
	fputc('}', out);
}

/* ,"messages":["line",...]: a file's static errors, one string per line. */
static void json_messages(FILE *out, const char *text)
{
	fputs(",\"messages\":[", out);
	for (int first = 1; *text; first = 0) {
		size_t len = strcspn(text, "\n");
		char line[1024];

		snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), text);
		fprintf(out, "%s\"", first ? "" : ",");
		json_escape(out, line);
		fputc('"', out);
		text += len + (text[len] == '\n');
	}
	fputc(']', out);
}

void report_json(FILE *out, const char *path, const struct file_result *res)
{
	fputc('{', out);
	json_str(out, "file", path, 0);
	json_str(out, "outcome", outcome_name(res), 1);
	fprintf(out, ",\"steps\":%llu,\"ms\":%.3f", (unsigned long long)res->ops, res->ms);
	if (res->static_errors != NULL)
		json_messages(out, res->static_errors);
	else if (res->outcome == OUT_SKIP) {
		fprintf(out, ",\"skip\":{\"line\":%d", res->line);
		json_str(out, "step", res->text, 1);
		json_str(out, "reason", res->message, 1);
		fputc('}', out);
	} else {
		if (res->expected[0])
			json_str(out, "expected", res->expected, 1);
		report_json_failure(out, res);
	}
	fputs("}\n", out);
}

/* XML character data: & < > escaped, newlines and tabs kept, other control characters dropped. */
static void xml_text(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '&')
			fputs("&amp;", out);
		else if (c >= 0x20 || c == '\n' || c == '\t')
			fputc(c, out);
	}
}

/* An XML attribute value: also quotes escaped, and no raw newline, tab or CR. */
static void xml_attr(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			fputs("&quot;", out);
		else if (c == '\'')
			fputs("&apos;", out);
		else if (c == '\n' || c == '\t' || c == '\r')
			fprintf(out, "&#%d;", c);
		else
			xml_text(out, (const char *)&s[i], 1);
	}
}

/* The testcase's classname: the file's directory, '.' between its parts, "." and ".."
 * left out ("fixtures/errors/x.scn": "fixtures.errors"); "scenario" for none. */
static void junit_classname(FILE *out, const char *path)
{
	const char *end = strrchr(path, '/');
	char dir[1024];
	size_t n = 0;

	for (const char *p = path; end != NULL && p < end; ) {
		size_t len = strcspn(p, "/");
		int dots = (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.');

		if (len > 0 && !dots && n + len + 1 < sizeof(dir)) {
			if (n > 0)
				dir[n++] = '.';
			memcpy(dir + n, p, len);
			n += len;
		}
		p += len + 1;
	}
	dir[n] = '\0';
	xml_attr(out, n ? dir : "scenario", SIZE_MAX);
}

/* The element body of a failure or error: the text report's evidence lines. */
static void junit_body(FILE *out, const char *path, const struct file_result *res)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (m != NULL) {
		report_details(m, path, res);
		fclose(m);
		xml_text(out, buf, len);
	}
	free(buf);
}

/* <failure> for a FAIL, <error> for a CRASH, a BREAK or a static error: as message "KIND[ ID] (line L): "
 * and the message's first line (a static error: the first error line), the evidence as text. */
static void junit_problem(FILE *out, const char *path, const struct file_result *res)
{
	const char *tag = res->static_errors != NULL || res->outcome == OUT_CRASH || res->outcome == OUT_BREAK ? "error" :
	    "failure";
	const char *msg = res->static_errors != NULL ? res->static_errors : res->message;

	fprintf(out, "    <%s message=\"", tag);
	if (res->static_errors == NULL) {
		xml_attr(out, res->kind, SIZE_MAX);
		fputs(res->id[0] ? " " : "", out);
		xml_attr(out, res->id, SIZE_MAX);
		fprintf(out, " (line %d): ", res->line);
	}
	xml_attr(out, msg, strcspn(msg, "\n"));
	fputs("\" type=\"", out);
	xml_attr(out, res->static_errors != NULL ? "static-error" : res->kind, SIZE_MAX);
	fputs("\">", out);
	junit_body(out, path, res);
	fprintf(out, "</%s>\n", tag);
}

/* A PASS that failed as it declared: the declaration as a property, the note as system-out. */
static void junit_expected(FILE *out, const struct file_result *res)
{
	char note[160];

	fputs("    <properties>\n      <property name=\"expected-failure\" value=\"", out);
	xml_attr(out, res->expected, SIZE_MAX);
	fputs("\"/>\n    </properties>\n    <system-out>", out);
	xml_text(out, expected_note(note, sizeof(note), res), SIZE_MAX);
	fputs("</system-out>\n", out);
}

/* One <testcase>. */
static void junit_case(FILE *out, const char *path, const struct file_result *res)
{
	const char *base = strrchr(path, '/');
	int problem = res->static_errors != NULL || res->outcome == OUT_FAIL || res->outcome == OUT_CRASH ||
	    res->outcome == OUT_BREAK;
	int expected = !problem && res->outcome == OUT_PASS && res->expected[0];

	fputs("  <testcase classname=\"", out);
	junit_classname(out, path);
	fputs("\" name=\"", out);
	xml_attr(out, base ? base + 1 : path, SIZE_MAX);
	fprintf(out, "\" time=\"%.3f\"", res->ms / 1000);
	if (res->outcome == OUT_SKIP && !problem) {
		fputs(">\n    <skipped message=\"", out);
		xml_attr(out, res->message, SIZE_MAX);
		fputs("\"/>\n  </testcase>\n", out);
		return;
	}
	if (!problem && !expected) {
		fputs("/>\n", out);
		return;
	}
	fputs(">\n", out);
	if (problem)
		junit_problem(out, path, res);
	else
		junit_expected(out, res);
	fputs("  </testcase>\n", out);
}

int report_junit(const char *file, const char *const *paths, const struct file_result *res, int n)
{
	FILE *out = fopen(file, "w");
	struct report_totals t = { 0 };
	double total = 0;

	if (out == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		report_count(&t, &res[i]);
		total += res[i].ms;
	}
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out, "<testsuite name=\"pmaprig\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" "
	    "time=\"%.3f\">\n", n, t.failed, t.errors + t.breaks, t.skipped, total / 1000);
	for (int i = 0; i < n; i++)
		junit_case(out, paths[i], &res[i]);
	fputs("</testsuite>\n", out);
	return fclose(out);
}
