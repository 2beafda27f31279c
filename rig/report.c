/*
 * report.c - owns how results look: the text report (one line per passing
 * file, the step and the evidence for a failing one), the JSON-lines form
 * and JUnit XML. Field names are stable: docs/scenarios.md lists them.
 */
#include "report.h"

#include <string.h>

static const char *outcome_name(enum outcome o)
{
	return o == OUT_PASS ? "PASS" : o == OUT_FAIL ? "FAIL" : o == OUT_BREAK ? "BREAK" : "CRASH";
}

void report_text(FILE *out, const char *path, const struct file_result *res, int stable)
{
	fprintf(out, "%s %s (%llu steps", outcome_name(res->outcome), path, (unsigned long long)res->ops);
	if (!stable)
		fprintf(out, ", %.0f ms", res->ms);
	fputc(')', out);
	if (res->outcome == OUT_PASS && res->expected[0])
		fprintf(out, ": failed as expected at line %d (%s%s%s)", res->line, res->kind,
		    res->id[0] ? " " : "", res->id);
	fputc('\n', out);
	if (res->outcome == OUT_PASS)
		return;
	if (res->line > 0)
		fprintf(out, "  %s:%d: %s\n", path, res->line, res->text);
	else if (res->text[0])
		fprintf(out, "  %s: %s\n", path, res->text);
	fprintf(out, "  %s%s%s: %s\n", res->kind, res->id[0] ? " " : "", res->id, res->message);
	if (res->expected[0])
		fprintf(out, "  (the file expects %s)\n", res->expected);
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

void report_json(FILE *out, const char *path, const struct file_result *res)
{
	fputc('{', out);
	json_str(out, "file", path, 0);
	json_str(out, "outcome", outcome_name(res->outcome), 1);
	fprintf(out, ",\"steps\":%llu,\"ms\":%.3f", (unsigned long long)res->ops, res->ms);
	if (res->expected[0])
		json_str(out, "expected", res->expected, 1);
	if (res->kind[0]) {
		fprintf(out, ",\"failure\":{\"line\":%d", res->line);
		json_str(out, "step", res->text, 1);
		json_str(out, "kind", res->kind, 1);
		json_str(out, "id", res->id, 1);
		json_str(out, "message", res->message, 1);
		fputc('}', out);
	}
	fputs("}\n", out);
}

/* XML text with the five special characters escaped. */
static void xml_escape(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, out);
		}
	}
}

int report_junit(const char *file, const char *const *paths, const struct file_result *res, int n)
{
	FILE *out = fopen(file, "w");
	int failures = 0;
	double total = 0;

	if (out == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		failures += res[i].outcome != OUT_PASS;
		total += res[i].ms;
	}
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out, "<testsuite name=\"pmaprig\" tests=\"%d\" failures=\"%d\" errors=\"0\" time=\"%.3f\">\n",
	    n, failures, total / 1000);
	for (int i = 0; i < n; i++) {
		fputs("  <testcase classname=\"scenario\" name=\"", out);
		xml_escape(out, paths[i]);
		fprintf(out, "\" time=\"%.3f\"", res[i].ms / 1000);
		if (res[i].outcome == OUT_PASS) {
			fputs("/>\n", out);
			continue;
		}
		fputs(">\n    <failure message=\"", out);
		xml_escape(out, res[i].message);
		fprintf(out, "\" type=\"%s\">line %d: ", res[i].kind, res[i].line);
		xml_escape(out, res[i].text);
		fputs("</failure>\n  </testcase>\n", out);
	}
	fputs("</testsuite>\n", out);
	return fclose(out);
}
