/*
 * test_expect.c - the expectations that read A/D state and entries
 * (expect dirty, expect pte, expect ptp): each passes on the state it
 * names, and otherwise fails saying exactly what it found.
 */
#include <stdlib.h>

#include "harness.h"
#include "runner.h"
#include "scenario.h"

/* Run text; it must fail with an expectation at line whose message starts with head and ends with tail. */
static void fails_with(const char *text, int line, const char *head, const char *tail)
{
	struct scenario s;
	struct run_options o = { .watch = 1 };
	struct file_result res;
	size_t n;

	ck_assert_int_eq(scenario_parse_text(&s, "t.scn", text, strlen(text), stderr), 0);
	ck_assert_int_eq(run_file(&s, &o, &res), OUT_FAIL);
	ck_assert_str_eq(res.kind, "expectation");
	ck_assert_int_eq(res.line, line);
	n = strlen(res.message);
	ck_assert_msg(strncmp(res.message, head, strlen(head)) == 0, "'%s' does not start with '%s'", res.message, head);
	ck_assert_msg(n >= strlen(tail) && strcmp(res.message + n - strlen(tail), tail) == 0,
	    "'%s' does not end with '%s'", res.message, tail);
	scenario_free(&s);
}

/* Run text; it must pass. */
static void passes(const char *text)
{
	struct scenario s;
	struct run_options o = { .watch = 1 };
	struct file_result res;

	ck_assert_int_eq(scenario_parse_text(&s, "t.scn", text, strlen(text), stderr), 0);
	ck_assert_msg(run_file(&s, &o, &res) == OUT_PASS, "%s: %s", res.kind, res.message);
	scenario_free(&s);
}

#define SETUP "pmap A\npage p\nmap A 0x10000000 p rw\n"

START_TEST(pte_flags)
{
	passes(SETUP "expect pte A 0x10000000 V RW U -A -M -W MAN\ntouch A 0x10000000 w\n"
	    "expect pte A 0x10000000 A M\nexpect pte A 0x10400000 -V -A\n");
	fails_with(SETUP "touch A 0x10000000 r\nexpect pte A 0x10000000 -A M RW\n", 5,
	    "expected pmap A va 0x10000000 PTE with RW -A M; found 0x", " (+P +RW +US +A +MAN): A is set, M is clear");
	fails_with(SETUP "expect pte A 0x20000000 V\n", 4,
	    "expected pmap A va 0x20000000 PTE with V; found no page table, PTE 0x00000000 (", "): V is clear");
}
END_TEST

START_TEST(dirty)
{
	passes(SETUP "expect dirty p no\ntouch A 0x10000000 w\nexpect dirty p yes\nunmap A 0x10000000 +1\n"
	    "expect dirty p yes\nclear-modify p\nexpect dirty p no\n");
	fails_with(SETUP "touch A 0x10000000 r\nexpect dirty p yes\n", 5, "expected page p dirty; the VM would take "
	    "it for clean (PG_M in a live managed PTE: no; vm_page aflags 0x0: modified bit clear)", "");
	fails_with(SETUP "touch A 0x10000000 w\nprotect A 0x10000000 +1 r\nexpect dirty p no\n", 6,
	    "expected page p clean; the VM would take it for dirty (PG_M in a live managed PTE: no; "
	    "vm_page aflags 0x2: modified bit set)", "");
}
END_TEST

START_TEST(ptp)
{
	passes(SETUP "expect ptp A 0x10000000 present\nexpect ptp A 0x10400000 absent\nunmap A 0x10000000 +1\n"
	    "expect ptp A 0x10000000 absent\n");
	fails_with(SETUP "expect ptp A 0x10001000 absent\n", 4,
	    "expected a page table absent for pmap A va 0x10000000-0x103fffff; PDE[64] is 0x", "");
}
END_TEST

START_TEST(mapped_array)
{
	passes("pmap A\npage arr 3\nmap A 0x10000000 arr r\nexpect mapped A 0x10000000 arr r\n");
	fails_with("pmap A\npage arr 3\nmap A 0x10000000 arr\nunmap A 0x10002000 +1\nexpect mapped A 0x10000000 arr\n",
	    5, "expected pmap A va 0x10002000 -> arr[2] (pa 0x", "; found no mapping (PTE 0x00000000)");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("expect");
	TCase *tc = tcase_create("expectations");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pte_flags);
	tcase_add_test(tc, dirty);
	tcase_add_test(tc, ptp);
	tcase_add_test(tc, mapped_array);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
