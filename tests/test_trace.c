/*
 * test_trace.c - the JSON trace: every line validates against the schema in
 * docs/trace.md, and two runs of the same scenario are byte-identical.
 */
#include <ctype.h>
#include <stdlib.h>

#include "harness.h"
#include "runner.h"
#include "trace.h"

struct kv {
	char key[16];
	int is_str;
	char str[256];
	long long num;
};

/* Parse a JSON string at *s (after the quote) into out; -1 on error. */
static int json_string(const char **s, char *out, size_t len)
{
	size_t n = 0;

	for (const char *p = *s; *p; p++) {
		if (*p == '"') {
			out[n] = '\0';
			*s = p + 1;
			return 0;
		}
		if (*p == '\\' && p[1] == 'u' && isxdigit((unsigned char)p[2]))
			p += 5;
		else if (*p == '\\' && strchr("\"\\n", p[1]))
			p++;
		else if ((unsigned char)*p < 0x20)
			return -1;
		if (n + 1 < len)
			out[n++] = *p;
	}
	return -1;
}

/* Parse one flat object of string and integer values; the number of keys, or -1. */
static int json_object(const char *s, struct kv *kv, int max)
{
	int n = 0;

	if (*s++ != '{')
		return -1;
	while (n < max) {
		if (*s++ != '"' || json_string(&s, kv[n].key, sizeof(kv[n].key)) < 0 || *s++ != ':')
			return -1;
		kv[n].is_str = *s == '"';
		if (kv[n].is_str) {
			s++;
			if (json_string(&s, kv[n].str, sizeof(kv[n].str)) < 0)
				return -1;
		} else {
			char *end;

			kv[n].num = strtoll(s, &end, 10);
			if (end == s)
				return -1;
			s = end;
		}
		n++;
		if (*s == '}')
			return s[1] == '\0' ? n : -1;
		if (*s++ != ',')
			return -1;
	}
	return -1;
}

static int is_hex32(const char *s)
{
	if (strncmp(s, "0x", 2) || strlen(s) != 10)
		return 0;
	for (s += 2; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return 0;
	return 1;
}

/* The keys a kind must have (in order), after seq, kind, line, step. */
static const char *schema(const char *kind)
{
	static const struct { const char *kind, *keys; } s[] = {
		{ "step-begin", "" }, { "step-end", "" },
		{ "pte", "eip sym insn space va pa old new" }, { "pde", "eip sym insn space va pa old new" },
		{ "invlpg", "eip sym insn space va" }, { "cr", "eip sym insn space cr old new" },
		{ "fault", "eip sym insn space vector cr2 message" }, { "panic", "eip sym insn space message" },
		{ "warning", "eip sym insn space message" },
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (!strcmp(s[i].kind, kind))
			return s[i].keys;
	return NULL;
}

/* Validate one line; fails the test with the reason. */
static void validate(const char *line, long long *last_seq)
{
	struct kv kv[24];
	int n = json_object(line, kv, 24), k = 4;
	char keys[128];
	const char *want;

	ck_assert_msg(n >= 4, "not a JSON object: %s", line);
	ck_assert_msg(!strcmp(kv[0].key, "seq") && !kv[0].is_str && kv[0].num > *last_seq, "seq: %s", line);
	*last_seq = kv[0].num;
	ck_assert_msg(!strcmp(kv[1].key, "kind") && kv[1].is_str && (want = schema(kv[1].str)), "kind: %s", line);
	ck_assert_msg(!strcmp(kv[2].key, "line") && !kv[2].is_str, "line: %s", line);
	ck_assert_msg(!strcmp(kv[3].key, "step") && kv[3].is_str, "step: %s", line);
	snprintf(keys, sizeof(keys), "%s", want);
	for (char *key = strtok(keys, " "); key; key = strtok(NULL, " "), k++) {
		int number = !strcmp(key, "cr") || !strcmp(key, "vector");
		int hex = !number && strcmp(key, "sym") && strcmp(key, "insn") && strcmp(key, "space") &&
		    strcmp(key, "message");

		ck_assert_msg(k < n && !strcmp(kv[k].key, key), "missing %s: %s", key, line);
		ck_assert_msg(number ? !kv[k].is_str : kv[k].is_str && (!hex || is_hex32(kv[k].str)),
		    "bad %s: %s", key, line);
	}
	if (k < n)	/* only the optional backtrace may follow */
		ck_assert_msg(k + 1 == n && !strcmp(kv[k].key, "stack") && kv[k].is_str, "extra keys: %s", line);
}

/* The trace of a scenario text with options o, in a malloc'd buffer. */
static char *trace_with(const char *text, struct trace_opts o)
{
	struct scenario s;
	struct run_options ro = { .watch = 1 };
	struct file_result res;
	struct trace t;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_int_eq(scenario_parse_text(&s, "t.scn", text, strlen(text), stderr), 0);
	trace_init(&t, &o, out, "t.scn");
	ro.trace = &t;
	ck_assert_int_eq(run_file(&s, &ro, &res), OUT_PASS);
	fclose(out);
	scenario_free(&s);
	return buf;
}

/* The whole JSON trace of a scenario text, with or without backtraces. */
static char *trace_of(const char *text, int stack)
{
	return trace_with(text, (struct trace_opts){ .json = 1, .stack = stack, .va_hi = 0xffffffff,
						    .line_hi = 1 << 30 });
}

static const char scn[] =
	"pmap A\npage p 3\nmap A 0x400000 p rw\ntouch A 0x400000 w\nprotect A 0x400000 +3 r\n"
	"unmap-all p[1]\nkenter 0xc0c00000 p[2]\nkremove 0xc0c00000\nunmap A 0 0xc0000000\n"
	"random seed=3 ops=300 pmaps=2 pages=8\n";

START_TEST(every_line_matches_the_schema)
{
	for (int stack = 0; stack < 2; stack++) {
		char *buf = trace_of(scn, stack), *save = NULL;
		long long seq = 0;
		int lines = 0, kinds[16] = { 0 };

		for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save), lines++) {
			validate(l, &seq);
			kinds[strstr(l, "\"kind\":\"pte\"") ? 0 : strstr(l, "\"kind\":\"pde\"") ? 1 :
			    strstr(l, "\"kind\":\"invlpg\"") ? 2 : strstr(l, "\"kind\":\"cr\"") ? 3 : 4]++;
		}
		ck_assert_int_gt(lines, 500);
		for (int k = 0; k < 4; k++)
			ck_assert_int_gt(kinds[k], 0);
		free(buf);
	}
}
END_TEST

/* The dynamic-KVA recursion panic (fixtures/errors/dynamic-recursion-panic.scn). */
static const char panic_scn[] =
	"expect panic \"recursing on non-recursive lock kernel map\"\nguest dynamic\n"
	"ignore LOCK-ORDER\nignore LOCK-RECURSE\n"
	"pmap p0\npmap p1\npmap p2\npmap p3\npmap p4\npmap p5\npmap p6\npmap p7\npmap p8\npage p 9\n"
	"map p0 0x10000000 p[0]\nmap p1 0x10000000 p[1]\nmap p2 0x10000000 p[2]\nmap p3 0x10000000 p[3]\n"
	"map p4 0x10000000 p[4]\nmap p5 0x10000000 p[5]\nmap p6 0x10000000 p[6]\nmap p7 0x10000000 p[7]\n"
	"map p8 0x10000000 p[8]\n";

START_TEST(a_panic_is_one_event_with_its_message)
{
	char *buf = trace_of(panic_scn, 0), *save = NULL, *panic = NULL;
	long long seq = 0;

	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		validate(l, &seq);
		if (strstr(l, "\"kind\":\"panic\"")) {
			ck_assert_ptr_null(panic);
			panic = l;
		}
	}
	ck_assert_ptr_nonnull(panic);
	ck_assert_ptr_nonnull(strstr(panic, "\"line\":23,\"step\":\"map p8 0x10000000 p[8]\""));
	ck_assert_ptr_nonnull(strstr(panic, "\"sym\":\"panic+0x"));
	ck_assert_ptr_nonnull(strstr(panic, "\"message\":\"recursing on non-recursive lock kernel map\"}"));
	free(buf);
}
END_TEST

START_TEST(two_runs_are_identical)
{
	char *a = trace_of(scn, 1), *b = trace_of(scn, 1);

	ck_assert_str_eq(a, b);
	ck_assert_ptr_null(strstr(a, "0x7f"));	/* no host pointers */
	free(a);
	free(b);
}
END_TEST

START_TEST(filters_select_events)
{
	struct trace_opts o = { .json = 1, .va_lo = 0x401000, .va_hi = 0x401fff, .line_lo = 3, .line_hi = 5,
				.pmap = "A" };
	char *buf = trace_with(scn, o), *save = NULL;
	int n = 0;

	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
		ck_assert_msg(strstr(l, "\"space\":\"A\""), "%s", l);
		ck_assert_msg(strstr(l, "\"line\":3,") || strstr(l, "\"line\":5,"), "%s", l);
	}
	ck_assert_int_eq(n, 4);	/* the PDE covering it, its PTE; then protect's PTE and INVLPG */
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("trace");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_line_matches_the_schema);
	tcase_add_test(tc, a_panic_is_one_event_with_its_message);
	tcase_add_test(tc, two_runs_are_identical);
	tcase_add_test(tc, filters_select_events);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
