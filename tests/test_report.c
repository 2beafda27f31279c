/*
 * test_report.c - the report formats, byte for byte: the text lines, one
 * JSON object per file (docs/scenarios.md) and JUnit XML.
 */
#include <stdlib.h>
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

START_TEST(junit_xml)
{
	struct file_result r[2] = { { .outcome = OUT_PASS, .ops = 3, .ms = 2.5 }, failing() };
	const char *paths[2] = { "a.scn", "b&c.scn" };
	char file[] = "/tmp/rig-junit-XXXXXX", buf[2048] = "";
	int fd = mkstemp(file);
	FILE *f;
	size_t n;

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(report_junit(file, paths, r, 2), 0);
	f = fopen(file, "r");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(file);
	ck_assert_str_eq(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuite name=\"pmaprig\" tests=\"2\" failures=\"1\" errors=\"0\" time=\"0.004\">\n"
	    "  <testcase classname=\"scenario\" name=\"a.scn\" time=\"0.003\"/>\n"
	    "  <testcase classname=\"scenario\" name=\"b&amp;c.scn\" time=\"0.002\">\n"
	    "    <failure message=\"a &quot;quoted&quot; &lt;thing&gt; &amp; a\nsecond line\" type=\"violation\">"
	    "line 12: expect mapped A 0x1000 p</failure>\n"
	    "  </testcase>\n"
	    "</testsuite>\n");
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
	suite_add_tcase(s, tc);
	return run_suite(s);
}
