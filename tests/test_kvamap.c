/*
 * test_kvamap.c - the --kva-map picture: well-formed SVG whose cells cover
 * the block exactly once per column and match the run's statistics.
 */
#include <stdlib.h>

#include "harness.h"
#include "kvamap.h"
#include "runner.h"

/* A ptelist block of 4 slots: fill 3, free the middle one, fill it again. */
static const char text[] =
	"pv-chunks 4\npmap a\npmap b\npmap c\npmap d\npage p 4\n"
	"map a 0x1000 p[0]\nmap b 0x1000 p[1]\nmap c 0x1000 p[2]\nunmap b 0x1000 +1\nmap d 0x1000 p[3]\n";

/* Read an attribute's number from a rect line. */
static long attr(const char *line, const char *name)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), " %s=\"", name);
	p = strstr(line, key);
	ck_assert_msg(p != NULL, "no %s in %s", name, line);
	return strtol(p + strlen(key), NULL, 10);
}

START_TEST(svg_cells_match_the_run)
{
	struct scenario s;
	struct run_options o = { .watch = 1 };
	struct file_result res;
	struct kvamap k;
	char *buf = NULL, *save = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int cells = 0, last_alloc = 0, last_never = 0, last_free = 0, slot1_col4 = -1;

	ck_assert_int_eq(scenario_parse_text(&s, "t.scn", text, strlen(text), stderr), 0);
	kvamap_init(&k, s.total_ops);
	o.kvamap = &k;
	ck_assert_int_eq(run_file(&s, &o, &res), OUT_PASS);
	ck_assert_int_eq(kvamap_write_svg(&k, out, "t & <test>"), 0);
	fclose(out);
	ck_assert_uint_eq(k.slots, 4);
	ck_assert_uint_eq(k.ncols, 11);	/* 10 steps + the final state */
	ck_assert_msg(strncmp(buf, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0, "%.80s", buf);
	ck_assert_str_eq(buf + len - 7, "</svg>\n");
	ck_assert_ptr_nonnull(strstr(buf, "<title>t &amp; &lt;test&gt;</title>"));
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		long col, n, slot;

		if (strncmp(l, "<rect class=", 12) != 0)
			continue;
		ck_assert_str_eq(l + strlen(l) - 2, "/>");
		col = attr(l, "data-col"), n = attr(l, "data-cols"), slot = attr(l, "data-slot");
		cells += (int)n;
		if (col + n == 11) {	/* covers the final column */
			last_alloc += strstr(l, "\"alloc\"") != NULL;
			last_free += strstr(l, "\"free\"") != NULL;
			last_never += strstr(l, "\"never\"") != NULL;
		}
		if (slot == 1 && col <= 8 && col + n > 8)	/* after `unmap b` (step 9): a hole in the middle */
			slot1_col4 = strstr(l, "\"free\"") != NULL;
	}
	ck_assert_int_eq(cells, 11 * 4);
	ck_assert(res.counters_kept >> CT_CNT_KVA_INUSE & 1);
	ck_assert_int_eq(last_alloc, (int)res.counters[CT_CNT_KVA_INUSE]);
	ck_assert_int_eq(last_alloc, 3);
	ck_assert_int_eq(last_never, 4 - (int)res.counters[CT_CNT_KVA_USED_EVER]);
	ck_assert_int_eq(last_free, 0);
	ck_assert_int_eq(slot1_col4, 1);
	free(buf);
	kvamap_free(&k);
	scenario_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kvamap");
	TCase *tc = tcase_create("kvamap");

	tcase_add_test(tc, svg_cells_match_the_run);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
