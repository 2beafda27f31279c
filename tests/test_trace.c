/*
 * test_trace.c - the JSON trace: every line validates against the schema in
 * docs/trace.md (also with --stable and --show), and two runs of the same
 * scenario are byte-identical; the decoding of vm_page and pv chunk stores.
 */
#include <ctype.h>
#include <stdlib.h>

#include "harness.h"
#include "dwinfo.h"
#include "recwrite.h"
#include "runner.h"
#include "trace.h"

struct kv {
	char key[16];
	int is_str, is_arr;	/* is_arr: str holds the array's text, brackets included */
	char str[1024];
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

/* Copy the array at *s ('[') whole into out, strings skipped over; -1 on error. */
static int json_array(const char **s, char *out, size_t len)
{
	const char *p = *s;
	int depth = 0;
	char tmp[256];

	do {
		if (*p == '"') {
			p++;
			if (json_string(&p, tmp, sizeof(tmp)) < 0)
				return -1;
			continue;
		}
		if (*p == '\0')
			return -1;
		depth += (*p == '[' || *p == '{') - (*p == ']' || *p == '}');
		p++;
	} while (depth > 0);
	if ((size_t)(p - *s) >= len)
		return -1;
	memcpy(out, *s, (size_t)(p - *s));
	out[p - *s] = '\0';
	*s = p;
	return 0;
}

/* Parse one object of string, integer and (kept as text) array values; the number of keys, or -1. */
static int json_object(const char *s, struct kv *kv, int max)
{
	int n = 0;

	if (*s++ != '{')
		return -1;
	while (n < max) {
		if (*s++ != '"' || json_string(&s, kv[n].key, sizeof(kv[n].key)) < 0 || *s++ != ':')
			return -1;
		kv[n].is_str = *s == '"';
		kv[n].is_arr = *s == '[';
		if (kv[n].is_arr) {
			if (json_array(&s, kv[n].str, sizeof(kv[n].str)) < 0)
				return -1;
		} else if (kv[n].is_str) {
			s++;
			if (json_string(&s, kv[n].str, sizeof(kv[n].str)) < 0)
				return -1;
		} else if (!strncmp(s, "true", 4)) {
			kv[n].num = 1;
			s += 4;
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

/* The keys a kind must have (in order), after seq, kind, line, step (--stable drops eip and insn). */
static const char *schema(const char *kind)
{
	static const struct { const char *kind, *keys; } s[] = {
		{ "step-begin", "" }, { "step-end", "" },
		{ "pte", "eip sym src insn space va pa old new" }, { "pde", "eip sym src insn space va pa old new" },
		{ "invlpg", "eip sym src insn space va" }, { "cr", "eip sym src insn space cr old new" },
		{ "fault", "eip sym src insn space vector cr2 message" },
		{ "panic", "eip sym src insn space message" }, { "warning", "eip sym src insn space message" },
		{ "vm_page", "eip sym src insn index page pa field old new decoded" },
		{ "pv", "eip sym src insn chunk pa field old new decoded" },
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (!strcmp(s[i].kind, kind))
			return s[i].keys;
	return NULL;
}

/* Is key a string that is not a 0x%08x number? */
static int is_text_key(const char *key)
{
	static const char *text[] = { "sym", "insn", "space", "message", "field", "decoded" };

	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (!strcmp(key, text[i]))
			return 1;
	return 0;
}

/*
 * The source frames: [{"fn":"f","file":"x.c","line":N,"inlined":true},...],
 * at least one, inlined on all but the last; with --stable the function's
 * own frame alone, without its line.
 */
static int valid_src(const char *text, int stable)
{
	const char *p = text + 1;
	int n = 0, inlined = 1;

	if (text[0] != '[')
		return 0;
	while (*p == '{') {
		char obj[512];
		struct kv f[4];
		int nf, k = 2;

		if (!inlined || json_array(&p, obj, sizeof(obj)) < 0 || (nf = json_object(obj, f, 4)) < 2)
			return 0;
		if (strcmp(f[0].key, "fn") || !f[0].is_str || !f[0].str[0] || strcmp(f[1].key, "file") || !f[1].is_str ||
		    !f[1].str[0] || strchr(f[1].str, '/') != NULL)
			return 0;
		if (k < nf && !strcmp(f[k].key, "line")) {
			if (stable || f[k].is_str || f[k].num <= 0)
				return 0;
			k++;
		}
		inlined = k < nf && !strcmp(f[k].key, "inlined") && !f[k].is_str && f[k].num == 1;
		if (k + inlined != nf)
			return 0;
		n++;
		if (*p == ',')
			p++;
	}
	return n > 0 && (!stable || n == 1) && !inlined && p[0] == ']' && p[1] == '\0';
}

/* Validate one line (of a --stable trace if stable); fails the test with the reason. */
static void validate_as(const char *line, long long *last_seq, int stable)
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
		int number = !strcmp(key, "cr") || !strcmp(key, "vector") || !strcmp(key, "index");
		int hex = !number && !is_text_key(key);

		if (stable && (!strcmp(key, "eip") || !strcmp(key, "insn"))) {
			k--;
			continue;
		}
		ck_assert_msg(k < n && !strcmp(kv[k].key, key), "missing %s: %s", key, line);
		if (!strcmp(key, "src")) {
			ck_assert_msg(kv[k].is_arr && valid_src(kv[k].str, stable), "bad src: %s", line);
			continue;
		}
		ck_assert_msg(number ? !kv[k].is_str : kv[k].is_str && (!hex || is_hex32(kv[k].str)),
		    "bad %s: %s", key, line);
	}
	if (k < n)	/* only the optional backtrace may follow */
		ck_assert_msg(k + 1 == n && !strcmp(kv[k].key, "stack") && kv[k].is_str, "extra keys: %s", line);
}

static void validate(const char *line, long long *last_seq)
{
	validate_as(line, last_seq, 0);
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

/* Options that let every event through. */
static struct trace_opts all_events(int json, int stack, int stable, unsigned show)
{
	return (struct trace_opts){ .json = json, .stack = stack, .stable = stable, .show = show,
				    .va_hi = 0xffffffff, .line_hi = 1 << 30 };
}

/* The whole JSON trace of a scenario text, with or without backtraces. */
static char *trace_of(const char *text, int stack)
{
	return trace_with(text, all_events(1, stack, 0, 0));
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
	char *buf = trace_with(panic_scn, all_events(1, 0, 1, 0)), *save = NULL, *panic = NULL;
	long long seq = 0;

	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		validate_as(l, &seq, 1);
		if (strstr(l, "\"kind\":\"panic\"")) {
			ck_assert_ptr_null(panic);
			panic = l;
		}
	}
	ck_assert_ptr_nonnull(panic);
	ck_assert_ptr_nonnull(strstr(panic, "\"line\":23,\"step\":\"map p8 0x10000000 p[8]\""));
	ck_assert_ptr_nonnull(strstr(panic, "\"sym\":\"panic\","));
	ck_assert_ptr_nonnull(strstr(panic, "\"message\":\"recursing on non-recursive lock kernel map\"}"));
	free(buf);
}
END_TEST

/* The first hex number in s wider than 32 bits (a host pointer), or NULL. */
static const char *wide_hex(const char *s)
{
	for (const char *p = strstr(s, "0x"); p; p = strstr(p + 2, "0x")) {
		size_t n = 0;

		while (isxdigit((unsigned char)p[2 + n]))
			n++;
		if (n > 8)
			return p;
	}
	return NULL;
}

START_TEST(two_runs_are_identical)
{
	char *a = trace_of(scn, 1), *b = trace_of(scn, 1);

	ck_assert_str_eq(a, b);
	ck_assert_ptr_null(wide_hex(a));	/* guest values only: no host pointers */
	ck_assert_ptr_nonnull(wide_hex("at 0x7ffd12345678"));
	free(a);
	free(b);
}
END_TEST

START_TEST(filters_select_events)
{
	struct trace_opts o = { .json = 1, .va_lo = 0x401000, .va_hi = 0x401fff, .line_lo = 3, .line_hi = 5,
				.pmap = "A" };
	char *buf = trace_with(scn, o), *save = NULL;
	int pde = 0, map_pte = 0, protect_pte = 0, protect_invlpg = 0;

	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int map = strstr(l, "\"line\":3,") != NULL;

		ck_assert_msg(strstr(l, "\"space\":\"A\""), "%s", l);
		ck_assert_msg(map || strstr(l, "\"line\":5,"), "%s", l);
		ck_assert_msg(strstr(l, "\"kind\":\"pde\",") ? strstr(l, "\"va\":\"0x00400000\"") != NULL :
		    strstr(l, "\"va\":\"0x00401000\"") != NULL, "outside --va: %s", l);
		pde += map && strstr(l, "\"kind\":\"pde\",") != NULL;
		map_pte += map && strstr(l, "\"kind\":\"pte\",") != NULL;
		protect_pte += !map && strstr(l, "\"kind\":\"pte\",") != NULL;
		protect_invlpg += !map && strstr(l, "\"kind\":\"invlpg\",") != NULL;
	}
	/* the PDE covering it and its PTE; then protect's PTE and its INVLPG */
	ck_assert(pde > 0 && map_pte > 0 && protect_pte > 0 && protect_invlpg > 0);
	free(buf);
}
END_TEST

/* Every line of s has no instruction address, disassembly or symbol offset. */
static void no_code_layout(const char *s)
{
	ck_assert_ptr_null(strstr(s, "\"eip\""));
	ck_assert_ptr_null(strstr(s, "\"insn\""));
	ck_assert_ptr_null(strstr(s, "+0x"));
	ck_assert_ptr_null(strstr(s, "ptr ["));	/* no operand of a disassembled store */
}

START_TEST(stable_drops_code_layout_only)
{
	char *full = trace_with(scn, all_events(0, 1, 0, 0)), *stable = trace_with(scn, all_events(0, 1, 1, 0));
	char *json = trace_with(scn, all_events(1, 1, 1, 0)), *save = NULL, *save2 = NULL;
	long long seq = 0;
	int lines = 0;

	no_code_layout(stable);
	no_code_layout(json);
	for (char *l = strtok_r(json, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		validate_as(l, &seq, 1);
	/* The same events, the same "what": each stable line is its full line minus the layout. */
	save = NULL;
	for (char *a = strtok_r(full, "\n", &save), *b = strtok_r(stable, "\n", &save2); a || b;
	    a = strtok_r(NULL, "\n", &save), b = strtok_r(NULL, "\n", &save2), lines++) {
		ck_assert_msg(a && b, "line counts differ");
		if (a[0] != '#' || a[1] == ' ' || strstr(a, "      at ") == a)
			continue;	/* the header, a backtrace */
		ck_assert_str_eq(strrchr(a, '|'), strrchr(b, '|'));
		ck_assert_int_eq(strcspn(a, "|"), strcspn(b, "|"));	/* the same #seq and step */
	}
	ck_assert_int_gt(lines, 500);
	free(full);
	free(stable);
	free(json);
}
END_TEST

/* The value of "key":"..." in a JSON line, into out ("" if absent). */
static const char *json_get(const char *line, const char *key, char *out, size_t len)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(line, pat);
	snprintf(out, len, "%.*s", p ? (int)strcspn(p + strlen(pat), "\"") : 0, p ? p + strlen(pat) : "");
	return out;
}

START_TEST(show_decodes_vm_page_and_pv_stores)
{
	char *buf = trace_with(scn, all_events(1, 0, 1, TRACE_SHOW_VMPAGE | TRACE_SHOW_PV)), *save = NULL;
	char field[48], dec[160], chunk[16], nw[16], taken_chunk[16] = "";
	long long seq = 0;
	int managed = 0, pv_counted = 0, modified = 0, taken = -1, entry_va = -1, vm_pages = 0, pvs = 0;

	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		validate_as(l, &seq, 1);
		json_get(l, "field", field, sizeof(field));
		json_get(l, "decoded", dec, sizeof(dec));
		json_get(l, "new", nw, sizeof(nw));
		vm_pages += strstr(l, "\"kind\":\"vm_page\",") != NULL;
		pvs += strstr(l, "\"kind\":\"pv\",") != NULL;
		/* page p 3 (line 2) allocates managed pages; map (line 3) gives p[0] a pv entry */
		managed += strstr(l, "\"line\":2,") && !strcmp(field, "state") && !strcmp(dec, "FREE -> MANAGED");
		pv_counted += strstr(l, "\"line\":3,") && !strcmp(field, "pv_count") &&
		    strstr(l, "\"old\":\"0x00000000\",\"new\":\"0x00000001\"");
		/* protect (line 5) after a write (line 4) folds the dirty bit into aflags */
		modified += strstr(l, "\"line\":5,") && !strcmp(field, "aflags") && strstr(dec, "+MODIFIED");
		/* map takes a pv entry from a chunk, and that entry records the VA */
		if (strstr(l, "\"line\":3,") && taken < 0 && sscanf(dec, "entry %d taken", &taken) == 1)
			json_get(l, "chunk", taken_chunk, sizeof(taken_chunk));
		if (strstr(l, "\"line\":3,") && !strcmp(nw, "0x00400000") &&
		    !strcmp(json_get(l, "chunk", chunk, sizeof(chunk)), taken_chunk))
			sscanf(field, "pc_pventry[%d].pv_va", &entry_va);
	}
	ck_assert_int_gt(vm_pages, 0);
	ck_assert_int_gt(pvs, 0);
	ck_assert_int_eq(managed, 3);
	ck_assert_int_gt(pv_counted, 0);
	ck_assert_int_gt(modified, 0);
	ck_assert_int_ge(taken, 0);
	ck_assert_int_eq(entry_va, taken);
	free(buf);
}
END_TEST

START_TEST(show_off_hides_record_stores)
{
	char *buf = trace_with(scn, all_events(1, 0, 0, TRACE_SHOW_PV));

	ck_assert_ptr_null(strstr(buf, "\"kind\":\"vm_page\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"kind\":\"pv\""));
	free(buf);
	buf = trace_of(scn, 0);
	ck_assert_ptr_null(strstr(buf, "\"kind\":\"vm_page\""));
	ck_assert_ptr_null(strstr(buf, "\"kind\":\"pv\""));
	free(buf);
}
END_TEST

/* rec_format of a decoded store, into a static buffer. */
static const char *rec_text(const struct rec_write *r)
{
	static char buf[320];

	rec_format(r, buf, sizeof(buf));
	return buf;
}

START_TEST(record_fields_are_named_and_decoded)
{
	struct machine m;
	const struct contract *ct;
	struct rec_write r;
	struct dw_field f;
	char err[256];
	uint32_t map, pv, esz, aflags, state, tqh_last, listq_prev, ref, mod, free, managed;
	unsigned show = 0;
	char bad[16];

	/* offsets from the guest's DWARF, as the rig reads them: the test pins names, not layout */
	boot(&m);
	ct = &m.ct;
	map = ct->pc_map, pv = ct->pc_entries, esz = ct->entry_size, aflags = ct->pg_aflags.off, state = ct->pg_role.off;
	ref = ct->aflag_ref, mod = ct->aflag_mod, free = ct->role_val[CT_ROLE_FREE];
	managed = ct->role_val[CT_ROLE_MANAGED];
	ck_assert_int_eq(dw_member(ct->dw, "vm_page", "pv_list.tqh_last", &f, err, sizeof(err)), 0);
	tqh_last = f.off;
	ck_assert_int_eq(dw_member(ct->dw, "vm_page", "listq.tqe_prev", &f, err, sizeof(err)), 0);
	listq_prev = f.off;
	rec_vm_page(ct, 347, aflags, ref, ref | mod, &r);
	ck_assert_str_eq(rec_text(&r), "vm_page[347] (pa 0x0015b000) aflags 0x1 -> 0x3 +MODIFIED");
	rec_vm_page(ct, 347, aflags, ref | mod, 0, &r);
	ck_assert_str_eq(r.decoded, "-REFERENCED -MODIFIED");
	rec_vm_page(ct, 347, state, free, managed, &r);
	ck_assert_str_eq(rec_text(&r), "vm_page[347] (pa 0x0015b000) state 2 -> 3 (FREE -> MANAGED)");
	rec_vm_page(ct, 1, tqh_last, 0xc0803074, 0xc088a044, &r);
	ck_assert_str_eq(rec_text(&r), "vm_page[1] (pa 0x00001000) pv_list.tqh_last 0xc0803074 -> 0xc088a044");
	rec_vm_page(ct, 1, listq_prev, 0, 1, &r);
	ck_assert_str_eq(r.field, "listq.tqe_prev");
	rec_pv_chunk(ct, 0xc088a000, map + 12, 0xffffffff, 0xfffffffe, &r);
	ck_assert_str_eq(rec_text(&r), "pv chunk 0xc088a000 pc_map[3] 0xffffffff -> 0xfffffffe (entry 96 taken)");
	rec_pv_chunk(ct, 0xc088a000, map + 12, 0xfffffffe, 0xffffffff, &r);
	ck_assert_str_eq(r.decoded, "entry 96 freed");
	rec_pv_chunk(ct, 0xc088a000, map, 0x0000000f, 0x000000f0, &r);
	ck_assert_str_eq(r.decoded, "entries 0-3 taken, entries 4-7 freed");
	rec_pv_chunk(ct, 0xc088a000, map + 40, 0, 0xffffffff, &r);	/* only 16 entries live in the last word */
	ck_assert_str_eq(r.decoded, "entries 320-335 freed");
	rec_pv_chunk(ct, 0xc088a000, pv + 5 * esz, 0, 0x10000000, &r);
	ck_assert_str_eq(rec_text(&r), "pv chunk 0xc088a000 pc_pventry[5].pv_va 0x00000000 -> 0x10000000");
	rec_pv_chunk(ct, 0xc088a000, pv + 5 * esz + 8, 0, 0, &r);
	ck_assert_str_eq(r.field, "pc_pventry[5].pv_next.tqe_prev");
	rec_pv_chunk(ct, 0xc088a000, ct->pc_owner, 0, 0xc010c160, &r);
	ck_assert_str_eq(r.field, "pc_pmap");
	rec_pv_chunk(ct, 0xc088a000, ct->pc_global.off + 4, 0, 0, &r);
	ck_assert_str_eq(r.field, "pc_lru.tqe_prev");
	rec_pv_chunk(ct, 0xc088a000, ct->pc_link.off, 0, 0, &r);
	ck_assert_str_eq(r.field, "pc_list.tqe_next");
	ck_assert_ptr_null(trace_parse_show("vm_page,pv", &show, bad, sizeof(bad)));
	ck_assert_uint_eq(show, TRACE_SHOW_VMPAGE | TRACE_SHOW_PV);
	ck_assert_str_eq(trace_parse_show("pv,vmpage", &show, bad, sizeof(bad)), "vmpage");
	machine_close(&m);
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
	tcase_add_test(tc, stable_drops_code_layout_only);
	tcase_add_test(tc, show_decodes_vm_page_and_pv_stores);
	tcase_add_test(tc, show_off_hides_record_stores);
	tcase_add_test(tc, record_fields_are_named_and_decoded);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
