/*
 * test_report.c - the report formats, byte for byte: the text lines (also
 * ERROR for a file that did not parse), one JSON object per file
 * (docs/scenarios.md), the summary, the exit code's precedence, and JUnit XML.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "report.h"

/* A failing result with characters that need escaping. */
static struct file_result failing(void)
{
	struct file_result r = { .outcome = OUT_FAIL, .ops = 7, .ms = 1.5, .line = 12 };

	snprintf(r.text, sizeof(r.text), "expect mapped A 0x1000 p");
	snprintf(r.kind, sizeof(r.kind), "violation");
	snprintf(r.id, sizeof(r.id), "MODEL");
	snprintf(r.message, sizeof(r.message), "a \"quoted\" <thing> & a\nsecond line");
	return r;
}

/* What fn writes for (path, r), in a malloc'd string. */
static char *render(void (*fn)(FILE *, const char *, const struct file_result *), const struct file_result *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	fn(out, "f.scn", r);
	fclose(out);
	return buf;
}

/* The text report, and its --stable form. */
static void text(FILE *out, const char *path, const struct file_result *r)
{
	report_text(out, path, r, 0);
}

static void text_stable(FILE *out, const char *path, const struct file_result *r)
{
	report_text(out, path, r, 1);
}

START_TEST(text_pass_and_fail)
{
	struct file_result pass = { .outcome = OUT_PASS, .ops = 3, .ms = 2.4 }, fail = failing();
	char *a = render(text, &pass), *b = render(text, &fail);

	ck_assert_str_eq(a, "PASS f.scn (3 steps, 2 ms)\n");
	ck_assert_str_eq(b, "FAIL f.scn (7 steps, 2 ms)\n"
	    "  f.scn:12: expect mapped A 0x1000 p\n"
	    "  violation MODEL: a \"quoted\" <thing> & a\nsecond line\n");
	free(a);
	free(b);
}
END_TEST

START_TEST(text_stable_has_no_time)
{
	struct file_result r = failing();
	char *a = render(text_stable, &r);

	ck_assert_str_eq(a, "FAIL f.scn (7 steps)\n"
	    "  f.scn:12: expect mapped A 0x1000 p\n"
	    "  violation MODEL: a \"quoted\" <thing> & a\nsecond line\n");
	free(a);
}
END_TEST

START_TEST(text_expected_failure)
{
	struct file_result r = failing();
	char *a;

	r.outcome = OUT_PASS;
	snprintf(r.expected, sizeof(r.expected), "violation MODEL");
	a = render(text, &r);
	ck_assert_str_eq(a, "PASS f.scn (7 steps, 2 ms): failed as expected at line 12 (violation MODEL)\n");
	free(a);
}
END_TEST

START_TEST(json_object)
{
	struct file_result pass = { .outcome = OUT_PASS, .ops = 3, .ms = 2.25 }, fail = failing();
	char *a = render(report_json, &pass), *b = render(report_json, &fail);

	ck_assert_str_eq(a, "{\"file\":\"f.scn\",\"outcome\":\"PASS\",\"steps\":3,\"ms\":2.250}\n");
	ck_assert_str_eq(b, "{\"file\":\"f.scn\",\"outcome\":\"FAIL\",\"steps\":7,\"ms\":1.500,\"failure\":{\"line\":12,"
	    "\"step\":\"expect mapped A 0x1000 p\",\"kind\":\"violation\",\"id\":\"MODEL\","
	    "\"message\":\"a \\\"quoted\\\" <thing> & a\\nsecond line\"}}\n");
	free(a);
	free(b);
}
END_TEST

/* The text of a file report_junit wrote for these results (malloc'd). */
static char *junit(const char *const *paths, const struct file_result *r, int n)
{
	char file[] = "/tmp/rig-junit-XXXXXX", *buf = calloc(1, 16384);
	int fd = mkstemp(file);
	FILE *f;
	size_t len;

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(report_junit(file, paths, r, n), 0);
	f = fopen(file, "r");
	len = fread(buf, 1, 16383, f);
	buf[len] = '\0';
	fclose(f);
	unlink(file);
	return buf;
}

/* A file that did not parse: its error lines. */
static struct file_result static_error(void)
{
	struct file_result r = { .outcome = OUT_FAIL };

	r.static_errors = "e.scn:3:5: error: unknown pmap 'b'\ne.scn:4:1: error: usage: \"touch\" <x> & y\n";
	return r;
}

/* A guest panic. */
static struct file_result crash(void)
{
	struct file_result r = { .outcome = OUT_CRASH, .ops = 4, .ms = 3, .line = 9 };

	snprintf(r.text, sizeof(r.text), "map p8 0x10000000 p[8]");
	snprintf(r.kind, sizeof(r.kind), "panic");
	snprintf(r.message, sizeof(r.message), "guest panic: \"lock\" in f <- g");
	return r;
}

/* A file that failed exactly as it declared. */
static struct file_result expected_pass(void)
{
	struct file_result r = failing();

	r.outcome = OUT_PASS;
	snprintf(r.id, sizeof(r.id), "TLB-STALE");
	snprintf(r.expected, sizeof(r.expected), "violation TLB-STALE");
	return r;
}

START_TEST(junit_xml)
{
	struct file_result r[2] = { { .outcome = OUT_PASS, .ops = 3, .ms = 2.5 }, failing() };
	const char *paths[2] = { "a.scn", "b&c.scn" };
	char *buf = junit(paths, r, 2);

	ck_assert_str_eq(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuite name=\"pmaprig\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" time=\"0.004\">\n"
	    "  <testcase classname=\"scenario\" name=\"a.scn\" time=\"0.003\"/>\n"
	    "  <testcase classname=\"scenario\" name=\"b&amp;c.scn\" time=\"0.002\">\n"
	    "    <failure message=\"violation MODEL (line 12): a &quot;quoted&quot; &lt;thing&gt; &amp; a\" "
	    "type=\"violation\">  b&amp;c.scn:12: expect mapped A 0x1000 p\n"
	    "  violation MODEL: a \"quoted\" &lt;thing&gt; &amp; a\nsecond line\n</failure>\n"
	    "  </testcase>\n"
	    "</testsuite>\n");
	free(buf);
}
END_TEST

/* Every kind of testcase: classname from the directory, CRASH and static errors as <error>,
 * FAIL as <failure>, an expected failure as a pass with a property and system-out. */
START_TEST(junit_every_outcome)
{
	struct file_result r[5] = { { .outcome = OUT_PASS, .ops = 3, .ms = 1 }, expected_pass(), failing(), crash(),
				    static_error() };
	const char *paths[5] = { "fixtures/basic/a.scn", "./fixtures/errors/b.scn", "../x//y/f.scn", "/tmp/c.scn",
				 "e.scn" };
	char *buf = junit(paths, r, 5);

	ck_assert_str_eq(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuite name=\"pmaprig\" tests=\"5\" failures=\"1\" errors=\"2\" skipped=\"0\" time=\"0.007\">\n"
	    "  <testcase classname=\"fixtures.basic\" name=\"a.scn\" time=\"0.001\"/>\n"
	    "  <testcase classname=\"fixtures.errors\" name=\"b.scn\" time=\"0.002\">\n"
	    "    <properties>\n"
	    "      <property name=\"expected-failure\" value=\"violation TLB-STALE\"/>\n"
	    "    </properties>\n"
	    "    <system-out>failed as expected at line 12 (violation TLB-STALE)</system-out>\n"
	    "  </testcase>\n"
	    "  <testcase classname=\"x.y\" name=\"f.scn\" time=\"0.002\">\n"
	    "    <failure message=\"violation MODEL (line 12): a &quot;quoted&quot; &lt;thing&gt; &amp; a\" "
	    "type=\"violation\">  ../x//y/f.scn:12: expect mapped A 0x1000 p\n"
	    "  violation MODEL: a \"quoted\" &lt;thing&gt; &amp; a\nsecond line\n</failure>\n"
	    "  </testcase>\n"
	    "  <testcase classname=\"tmp\" name=\"c.scn\" time=\"0.003\">\n"
	    "    <error message=\"panic (line 9): guest panic: &quot;lock&quot; in f &lt;- g\" type=\"panic\">"
	    "  /tmp/c.scn:9: map p8 0x10000000 p[8]\n"
	    "  panic: guest panic: \"lock\" in f &lt;- g\n</error>\n"
	    "  </testcase>\n"
	    "  <testcase classname=\"scenario\" name=\"e.scn\" time=\"0.000\">\n"
	    "    <error message=\"e.scn:3:5: error: unknown pmap &apos;b&apos;\" type=\"static-error\">"
	    "  e.scn:3:5: error: unknown pmap 'b'\n"
	    "  e.scn:4:1: error: usage: \"touch\" &lt;x&gt; &amp; y\n</error>\n"
	    "  </testcase>\n"
	    "</testsuite>\n");
	free(buf);
}
END_TEST

/* No raw newline, tab or CR inside an attribute: they become character references. */
START_TEST(junit_attribute_whitespace)
{
	struct file_result r = failing();
	const char *paths[1] = { "d\tir/na\nme.scn" };
	char *buf;

	snprintf(r.message, sizeof(r.message), "first\r line\nsecond");
	buf = junit(paths, &r, 1);
	ck_assert_ptr_nonnull(strstr(buf, "<testcase classname=\"d&#9;ir\" name=\"na&#10;me.scn\" time=\"0.002\">\n"
	    "    <failure message=\"violation MODEL (line 12): first&#13; line\" type=\"violation\">"));
	free(buf);
}
END_TEST

/* A file that did not parse: ERROR and its error lines; a JSON object with its messages. */
START_TEST(text_and_json_static_error)
{
	struct file_result r = static_error();
	char *a = render(text, &r), *b = render(report_json, &r);

	ck_assert_str_eq(a, "ERROR f.scn\n"
	    "  e.scn:3:5: error: unknown pmap 'b'\n"
	    "  e.scn:4:1: error: usage: \"touch\" <x> & y\n");
	ck_assert_str_eq(b, "{\"file\":\"f.scn\",\"outcome\":\"ERROR\",\"steps\":0,\"ms\":0.000,\"messages\":["
	    "\"e.scn:3:5: error: unknown pmap 'b'\",\"e.scn:4:1: error: usage: \\\"touch\\\" <x> & y\"]}\n");
	free(a);
	free(b);
}
END_TEST

/* A CRASH in text and JSON. */
START_TEST(text_and_json_crash)
{
	struct file_result r = crash();
	char *a = render(text_stable, &r), *b = render(report_json, &r);

	ck_assert_str_eq(a, "CRASH f.scn (4 steps)\n"
	    "  f.scn:9: map p8 0x10000000 p[8]\n"
	    "  panic: guest panic: \"lock\" in f <- g\n");
	ck_assert_str_eq(b, "{\"file\":\"f.scn\",\"outcome\":\"CRASH\",\"steps\":4,\"ms\":3.000,\"failure\":{\"line\":9,"
	    "\"step\":\"map p8 0x10000000 p[8]\",\"kind\":\"panic\",\"id\":\"\","
	    "\"message\":\"guest panic: \\\"lock\\\" in f <- g\"}}\n");
	free(a);
	free(b);
}
END_TEST

/* The summary in text and JSON for the given results; the exit code. */
static int summary(const struct file_result *r, int n, char **text, char **json)
{
	struct report_totals t = { 0 };
	size_t len;
	FILE *out;

	for (int i = 0; i < n; i++)
		report_count(&t, &r[i]);
	out = open_memstream(text, &len);
	report_summary(out, &t, 0);
	fclose(out);
	out = open_memstream(json, &len);
	report_summary(out, &t, 1);
	fclose(out);
	return report_exit_code(&t);
}

/* A file whose guest lacks a feature it requires: SKIP, counted apart, exit 0, a JUnit <skipped>. */
START_TEST(skip_is_its_own_outcome)
{
	struct file_result r[2] = { { .outcome = OUT_PASS }, { .outcome = OUT_SKIP, .line = 3, .kind = "skip",
		.text = "requires kva-nofree", .message = "guest ptelist does not declare kva-nofree" } };
	const char *paths[2] = { "a.scn", "dir/b.scn" };
	char *text, *json, *xml;
	size_t len;
	FILE *out;

	ck_assert_int_eq(summary(r, 2, &text, &json), 0);
	ck_assert_str_eq(text, "1 passed, 0 failed, 1 skipped\n");
	ck_assert_str_eq(json, "{\"summary\":{\"passed\":1,\"failed\":0,\"errors\":0,\"skipped\":1}}\n");
	free(text);
	free(json);
	out = open_memstream(&text, &len);
	report_text(out, "dir/b.scn", &r[1], 1);
	report_json(out, "dir/b.scn", &r[1]);
	fclose(out);
	ck_assert_str_eq(text, "SKIP dir/b.scn: guest ptelist does not declare kva-nofree (requires kva-nofree, line 3)\n"
	    "{\"file\":\"dir/b.scn\",\"outcome\":\"SKIP\",\"steps\":0,\"ms\":0.000,\"skip\":{\"line\":3,"
	    "\"step\":\"requires kva-nofree\",\"reason\":\"guest ptelist does not declare kva-nofree\"}}\n");
	free(text);
	xml = junit(paths, r, 2);
	ck_assert_ptr_nonnull(strstr(xml, "skipped=\"1\""));
	ck_assert_ptr_nonnull(strstr(xml, "<testcase classname=\"dir\" name=\"b.scn\" time=\"0.000\">\n"
	    "    <skipped message=\"guest ptelist does not declare kva-nofree\"/>\n  </testcase>"));
	free(xml);
}
END_TEST

/* Passed, failed and errors (crashes + static errors) apart; exit 2 over 3 over 1. */
START_TEST(summary_and_exit_code)
{
	struct file_result r[5] = { { .outcome = OUT_PASS }, expected_pass(), failing(), crash(), static_error() };
	char *text, *json;

	ck_assert_int_eq(summary(r, 2, &text, &json), 0);
	ck_assert_str_eq(text, "2 passed, 0 failed\n");
	ck_assert_str_eq(json, "{\"summary\":{\"passed\":2,\"failed\":0,\"errors\":0,\"skipped\":0}}\n");
	free(text);
	free(json);
	ck_assert_int_eq(summary(r, 3, &text, &json), 1);
	free(text);
	free(json);
	ck_assert_int_eq(summary(r, 4, &text, &json), 3);
	ck_assert_str_eq(text, "2 passed, 1 failed, 1 error\n");
	free(text);
	free(json);
	ck_assert_int_eq(summary(r + 2, 3, &text, &json), 2);
	ck_assert_str_eq(text, "0 passed, 1 failed, 2 errors\n");
	ck_assert_str_eq(json, "{\"summary\":{\"passed\":0,\"failed\":1,\"errors\":2,\"skipped\":0}}\n");
	free(text);
	free(json);
}
END_TEST

/* A file stopped at --break-on-pte: not a pass; exit 4 unless something worse happened; a JUnit <error>. */
START_TEST(break_is_its_own_outcome)
{
	struct file_result r[3] = { { .outcome = OUT_BREAK, .ops = 2, .ms = 1, .line = 5 }, { .outcome = OUT_PASS },
				    failing() };
	const char *paths[1] = { "d/b.scn" };
	char *text, *json, *xml;

	snprintf(r[0].text, sizeof(r[0].text), "map A 0x10000000 p rw");
	snprintf(r[0].kind, sizeof(r[0].kind), "break");
	snprintf(r[0].message, sizeof(r[0].message), "stopped at a break point at pmap_enter (pmap.c)");
	ck_assert_int_eq(summary(r, 2, &text, &json), 4);
	ck_assert_str_eq(text, "1 passed, 0 failed, 1 stopped at a break\n");
	ck_assert_str_eq(json, "{\"summary\":{\"passed\":1,\"failed\":0,\"errors\":0,\"skipped\":0,\"breaks\":1}}\n");
	free(text);
	free(json);
	ck_assert_int_eq(summary(r, 3, &text, &json), 1);	/* a failure wins over a break */
	free(text);
	free(json);
	xml = junit(paths, r, 1);
	ck_assert_str_eq(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuite name=\"pmaprig\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0.001\">\n"
	    "  <testcase classname=\"d\" name=\"b.scn\" time=\"0.001\">\n"
	    "    <error message=\"break (line 5): stopped at a break point at pmap_enter (pmap.c)\" type=\"break\">"
	    "  d/b.scn:5: map A 0x10000000 p rw\n"
	    "  break: stopped at a break point at pmap_enter (pmap.c)\n</error>\n"
	    "  </testcase>\n"
	    "</testsuite>\n");
	free(xml);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_add_test(tc, text_pass_and_fail);
	tcase_add_test(tc, text_stable_has_no_time);
	tcase_add_test(tc, text_expected_failure);
	tcase_add_test(tc, json_object);
	tcase_add_test(tc, junit_xml);
	tcase_add_test(tc, junit_every_outcome);
	tcase_add_test(tc, break_is_its_own_outcome);
	tcase_add_test(tc, junit_attribute_whitespace);
	tcase_add_test(tc, text_and_json_static_error);
	tcase_add_test(tc, text_and_json_crash);
	tcase_add_test(tc, summary_and_exit_code);
	tcase_add_test(tc, skip_is_its_own_outcome);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
