/*
 * test_scenario.c - the scenario parser: typed steps with positions for
 * good input; every static error, exactly, for bad input.
 */
#include <stdlib.h>

#include "harness.h"
#include "scenario.h"
#include "../guest/mmu.h"

static char errbuf[8192];

/* Parse text; the errors printed land in errbuf. Returns the error count. */
static int parse(struct scenario *s, const char *text)
{
	FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
	int n;

	memset(errbuf, 0, sizeof(errbuf));
	n = scenario_parse_text(s, "t.scn", text, strlen(text), err);
	fclose(err);
	return n;
}

/* The errors for text, which must not parse. */
static const char *errors_of(const char *text)
{
	struct scenario s;

	ck_assert_int_gt(parse(&s, text), 0);
	scenario_free(&s);
	return errbuf;
}

START_TEST(parses_statements_with_positions)
{
	struct scenario s;

	ck_assert_int_eq(parse(&s, "# comment\r\nguest nofree\r\nmemory 64M\npv-chunks 0x10\n"
	    "pmap A   # trailing\npage p 3\n  map A 0x1000 p rw wired\nunmap A 0x1000 +3\n"
	    "protect A 0x1000 0x3000 r\ntouch A 0x1004 w faults\nexpect pv p[2] 1\n"), 0);
	ck_assert_str_eq(errbuf, "");
	ck_assert_str_eq(s.policy, "nofree");
	ck_assert_uint_eq(s.memory, 64u << 20);
	ck_assert_uint_eq(s.pv_chunks, 16);
	ck_assert_int_eq(s.nsteps, 7);
	ck_assert_int_eq(s.steps[0].kind, ST_PMAP);
	ck_assert_str_eq(s.steps[0].text, "pmap A");
	ck_assert_int_eq(s.steps[2].kind, ST_MAP);
	ck_assert_int_eq(s.steps[2].line, 7);
	ck_assert_int_eq(s.steps[2].col, 3);
	ck_assert_str_eq(s.steps[2].text, "map A 0x1000 p rw wired");
	ck_assert_uint_eq(s.steps[2].va, 0x1000);
	ck_assert_uint_eq(s.steps[2].eva, 0x4000);
	ck_assert_uint_eq(s.steps[2].prot, SCN_PROT_R | SCN_PROT_W);
	ck_assert_int_eq(s.steps[2].flag, 1);
	ck_assert_uint_eq(s.steps[3].eva, 0x4000);
	ck_assert_uint_eq(s.steps[4].prot, SCN_PROT_R);
	ck_assert_int_eq(s.steps[5].flag, 1);
	ck_assert_uint_eq(s.steps[5].n, 1);
	ck_assert_int_eq(s.steps[6].page.index, 2);
	ck_assert_uint_eq(s.steps[6].n, 1);
	ck_assert_uint_eq(s.total_ops, 7);
	scenario_free(&s);
}
END_TEST

START_TEST(repeats_nest_and_count)
{
	struct scenario s;

	ck_assert_int_eq(parse(&s, "pmap A\npage p\nrepeat 10 {\n repeat 3 {\n  map A 0 p\n  unmap A 0 +1\n }\n check\n}\n"), 0);
	ck_assert_int_eq(s.nsteps, 3);
	ck_assert_int_eq(s.steps[2].kind, ST_REPEAT);
	ck_assert_int_eq(s.steps[2].nbody, 2);
	ck_assert_int_eq(s.steps[2].body[0].nbody, 2);
	ck_assert_uint_eq(s.total_ops, 2 + 10 * (3 * 2 + 1));
	scenario_free(&s);
}
END_TEST

START_TEST(random_declares_its_objects)
{
	struct scenario s;

	ck_assert_int_eq(parse(&s, "random seed=5 ops=1000 pmaps=3 pages=16\nexpect resident rand2 0\nunmap-all randpg\n"), 0);
	ck_assert_int_eq(scenario_find_pmap(&s, "rand2"), 3);
	ck_assert_uint_eq(s.arrays[scenario_find_array(&s, "randpg")].count, 16);
	ck_assert_uint_eq(s.total_ops, 1002);
	scenario_free(&s);
}
END_TEST

START_TEST(expected_failures_and_ignores)
{
	struct scenario s;

	ck_assert_int_eq(parse(&s, "expect violation PV-KVA\nignore MODEL\ncheck off\npmap A\n"), 0);
	ck_assert_str_eq(s.expect_violation, "PV-KVA");
	ck_assert_int_eq(s.expect_line, 1);
	ck_assert_int_eq(scenario_ignores(&s, "MODEL"), 1);
	ck_assert_int_eq(scenario_ignores(&s, "STATS"), 0);
	ck_assert_int_eq(s.cadence, CHECK_OFF);
	scenario_free(&s);
	ck_assert_int_eq(parse(&s, "expect panic \"recursing on # lock\"\n"), 0);
	ck_assert_str_eq(s.expect_panic, "recursing on # lock");
	scenario_free(&s);
}
END_TEST

START_TEST(reports_every_static_error)
{
	ck_assert_str_eq(errors_of(
	    "pmap A\npage p 2\nmemory 64M\nfrob 1\nmap A 0x1001 p\nunmap A 0x2000 0x1000\n"
	    "map B 0 p\nmap A 0xc0000000 p[0]\nkenter 0x1000 p[0]\npmap A\npage q 1x\n"
	    "ignore NOPE\nrandom seed=1 ops=1000000000000\nrepeat 2 {\nmap A 0 p[5]\n"),
	    "t.scn:3:1: error: set-up statement 'memory' after the first operation\n"
	    "t.scn:4:1: error: unknown command 'frob'\n"
	    "t.scn:5:7: error: virtual address 0x1001 is not page-aligned\n"
	    "t.scn:6:16: error: range end 0x1000 is not above its start 0x00002000\n"
	    "t.scn:7:5: error: unknown pmap 'B'\n"
	    "t.scn:8:7: error: user address 0xc0000000 is at or above KERNBASE (0xc0000000)\n"
	    "t.scn:9:8: error: kernel address 0x00001000 is outside [KERNBASE, PTmap) = [0xc0000000, 0xffc00000)\n"
	    "t.scn:10:6: error: duplicate name 'A'\n"
	    "t.scn:11:8: error: bad number '1x'\n"
	    "t.scn:12:1: error: set-up statement 'ignore' after the first operation\n"
	    "t.scn:13:15: error: ops=1000000000000 is absurd (ops must be 1 to 10000000)\n"
	    "t.scn:15:9: error: page index 'p[5]' out of range for p (2 pages)\n"
	    "t.scn:14:1: error: unbalanced braces: this 'repeat' is never closed\n");
}
END_TEST

START_TEST(more_errors)
{
	ck_assert_str_eq(errors_of("}\n"), "t.scn:1:1: error: '}' without a matching 'repeat N {' or 'parallel {'\n");
	ck_assert_str_eq(errors_of("ignore NOPE\n"), "t.scn:1:8: error: unknown invariant ID 'NOPE'\n");
	ck_assert_str_eq(errors_of("expect violation X\n"), "t.scn:1:18: error: unknown invariant ID 'X'\n");
	ck_assert_str_eq(errors_of("guest fast\n"), "t.scn:1:7: error: unknown guest 'fast': there is no build guest-fast.elf (`rig doctor` lists the builds)\n");
	ck_assert_str_eq(errors_of("guest ptelst\n"), "t.scn:1:7: error: unknown guest 'ptelst'; did you mean 'ptelist'?\n");
	ck_assert_str_eq(errors_of("memory 1K\n"), "t.scn:1:8: error: bad memory size '1K' (4M to 2G, whole pages)\n");
	ck_assert_str_eq(errors_of("pmap A\nrepeat 2 {\npage p\n}\n"),
	    "t.scn:3:1: error: 'page' declares a name and cannot be inside repeat\n");
	ck_assert_str_eq(errors_of("pmap A\nunmap A 0xbffff000 +2\n"),
	    "t.scn:2:20: error: user range [0xbffff000, 0xc0001000) runs past KERNBASE (0xc0000000)\n");
	ck_assert_str_eq(errors_of("pmap A\nrepeat 100000 {\nrepeat 100000 {\ncheck\n}\n}\n"),
	    "t.scn:6:1: error: repeat 100000 of 100000 operations is absurd (at most 100000000 per file)\n");
	ck_assert_str_eq(errors_of("expect panic \"x\nmap\n"),
	    "t.scn:1:14: error: unterminated string\nt.scn:2:1: error: usage: map PMAP VA PAGE [PROT] [wired] [shortage|or-shortage]\n");
	ck_assert_str_eq(errors_of("pmap 9a\n"),
	    "t.scn:1:6: error: bad name '9a' (letters, digits and _, not starting with a digit)\n");
}
END_TEST

START_TEST(nul_bytes_and_long_lines)
{
	struct scenario s;
	static char text[5000];
	FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");

	ck_assert_int_eq(scenario_parse_text(&s, "t.scn", "pmap A\n\0x", 9, err), 1);
	fclose(err);
	ck_assert_str_eq(errbuf, "t.scn:2:1: error: the file contains a NUL byte\n");	/* where it is */
	scenario_free(&s);
	memset(text, 'x', sizeof(text) - 2);
	text[sizeof(text) - 2] = '\n';
	ck_assert_str_eq(errors_of(text), "t.scn:1:1: error: line too long (at most 4095 characters)\n");
}
END_TEST

START_TEST(ad_expectations)
{
	struct scenario s;

	ck_assert_int_eq(parse(&s, "pmap A\npage p\nexpect pte A 0x1000 V -RW A -M MAN\nexpect ptp A 0x1000 absent\n"
	    "expect dirty p yes\nexpect violation AD-DIRTY-LOST in pmap_protect\n"), 0);
	ck_assert_int_eq(s.nsteps, 5);
	ck_assert_int_eq(s.steps[2].kind, ST_EXPECT_PTE);
	ck_assert_uint_eq(s.steps[2].va, 0x1000);
	ck_assert_uint_eq(s.steps[2].pte_set, PG_V | PG_A | PG_MANAGED);
	ck_assert_uint_eq(s.steps[2].pte_clear, PG_RW | PG_M);
	ck_assert_int_eq(s.steps[3].kind, ST_EXPECT_PTP);
	ck_assert_int_eq(s.steps[3].flag, 0);
	ck_assert_int_eq(s.steps[4].kind, ST_EXPECT_DIRTY);
	ck_assert_int_eq(s.steps[4].flag, 1);
	ck_assert_str_eq(s.expect_violation, "AD-DIRTY-LOST");
	ck_assert_str_eq(s.expect_in, "pmap_protect");
	scenario_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc = tcase_create("parser");

	tcase_add_test(tc, parses_statements_with_positions);
	tcase_add_test(tc, repeats_nest_and_count);
	tcase_add_test(tc, random_declares_its_objects);
	tcase_add_test(tc, expected_failures_and_ignores);
	tcase_add_test(tc, reports_every_static_error);
	tcase_add_test(tc, more_errors);
	tcase_add_test(tc, nul_bytes_and_long_lines);
	tcase_add_test(tc, ad_expectations);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
