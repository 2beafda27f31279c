/*
 * test_witness.c - the host's lock witness: a lock-order reversal between
 * classes (two different pmaps' locks are one class), a recursion reported
 * before the guest's own panic, and a lock left held by an API call.
 */
#include "harness.h"
#include "runner.h"

/* Eight pmaps drain the dynamic policy's map-entry pool; the ninth refills it. */
static const char drain[] =
	"page p 9\npmap a0\npmap a1\npmap a2\npmap a3\npmap a4\npmap a5\npmap a6\npmap a7\npmap a8\n"
	"map a0 0x10000000 p[0]\nmap a1 0x10000000 p[1]\nmap a2 0x10000000 p[2]\nmap a3 0x10000000 p[3]\n"
	"map a4 0x10000000 p[4]\nmap a5 0x10000000 p[5]\nmap a6 0x10000000 p[6]\nmap a7 0x10000000 p[7]\n"
	"map a8 0x10000000 p[8]\n";

/* Run setup + drain; returns the outcome, res filled. */
static enum outcome run_text(const char *setup, const char *body, struct file_result *res)
{
	static char text[4096];
	struct scenario s;
	struct run_options o = { .watch = 1 };
	enum outcome out;

	snprintf(text, sizeof(text), "%s%s", setup, body);
	ck_assert_int_eq(scenario_parse_text(&s, "t.scn", text, strlen(text), stderr), 0);
	out = run_file(&s, &o, res);
	scenario_free(&s);
	return out;
}

START_TEST(lock_order_reversal_between_classes)
{
	struct file_result res;

	ck_assert_int_eq(run_text("guest dynamic\n", drain, &res), OUT_FAIL);
	ck_assert_str_eq(res.id, "LOCK-ORDER");
	ck_assert_int_eq(res.line, 20);	/* map a8 */
	/* the new order, where it happens, and where the old one was first seen (map a0, line 12) */
	ck_assert_msg(strstr(res.message, "\"pmap\" acquired while holding \"kernel map\", at pmap_enter+0x") != NULL,
	    "%s", res.message);
	ck_assert_msg(strstr(res.message, "<- kmapent_refill+0x") != NULL, "%s", res.message);
	ck_assert_msg(strstr(res.message, "established at line 12, at kmem_alloc+0x") != NULL, "%s", res.message);
}
END_TEST

START_TEST(recursion_reported_before_the_panic)
{
	struct file_result res;

	ck_assert_int_eq(run_text("guest dynamic\nignore LOCK-ORDER\n", drain, &res), OUT_FAIL);
	ck_assert_str_eq(res.kind, "violation");
	ck_assert_str_eq(res.id, "LOCK-RECURSE");
	ck_assert_msg(strstr(res.message, "recursing on non-recursive lock \"kernel map\" (struct lock 0x") == res.message,
	    "%s", res.message);
	/* the acquisition's stack, with source files: kmem_alloc+0x.. (pv_kva_dynamic.c:N) <- pv_chunk_page_get */
	ck_assert_msg(strstr(res.message, ", at kmem_alloc+0x") != NULL, "%s", res.message);
	ck_assert_msg(strstr(res.message, " (pv_kva_dynamic.c:") != NULL, "%s", res.message);
	ck_assert_msg(strstr(res.message, ") <- pv_chunk_page_get+0x") != NULL, "%s", res.message);
	/* ignoring the witness lets the guest's own lock_acquire panic */
	ck_assert_int_eq(run_text("guest dynamic\nignore LOCK-ORDER\nignore LOCK-RECURSE\n", drain, &res), OUT_CRASH);
	ck_assert_str_eq(res.kind, "panic");
	ck_assert_msg(strstr(res.message, "recursing on non-recursive lock kernel map") != NULL, "%s", res.message);
}
END_TEST

START_TEST(policies_without_the_recursion_pass)
{
	struct file_result res;

	ck_assert_int_eq(run_text("guest ptelist\n", drain, &res), OUT_PASS);
	ck_assert_int_eq(run_text("guest nofree\n", drain, &res), OUT_PASS);
}
END_TEST

START_TEST(lock_held_after_a_call)
{
	struct file_result res;

	ck_assert_int_eq(run_text("guest buggy-lock-held\n",
	    "pmap A\npage p\nmap A 0x1000 p rw\nprotect A 0x1000 +1 rw\n", &res), OUT_FAIL);
	ck_assert_str_eq(res.id, "LOCK-HELD");
	ck_assert_int_eq(res.line, 5);
	ck_assert_msg(strstr(res.message, "the call returned with lock \"pmap\" (struct lock 0x") == res.message, "%s",
	    res.message);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("witness");
	TCase *tc = tcase_create("witness");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, lock_order_reversal_between_classes);
	tcase_add_test(tc, recursion_reported_before_the_panic);
	tcase_add_test(tc, policies_without_the_recursion_pass);
	tcase_add_test(tc, lock_held_after_a_call);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
