/*
 * scenario.c - owns the scenario parser: source text in, typed step list
 * out (struct scenario), every static error reported as FILE:LINE:COL.
 * Nothing here runs the guest. Every count is bounded and every buffer
 * sized, so that no input can crash or hang the parser.
 */
#include "scenario.h"
#include "scheduler.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contract.h"
#include "guests.h"
#include "invariants.h"
#include "util.h"
#include "../guest/common/i386.h"

/*
 * The i386 split the parser checks addresses against, before any guest is
 * booted: FreeBSD's (and the reference guests') KERNBASE, and the top 4 MiB
 * left out of kernel ranges. The run checks each address against the
 * guest's own layout (guest_info) again.
 */
#define KERNBASE	0xC0000000u
#define PTMAP_VA	0xFFC00000u

#define MAX_TOKENS	16
#define MAX_FILE_SIZE	(16u << 20)

struct token {
	const char *s;
	int col;
};

/* A list of steps under construction (the file, or a repeat body). */
struct steplist {
	struct step *v;
	int n, cap;
	uint64_t ops;		/* operations in it, expanded */
};

struct parser {
	struct scenario *s;
	FILE *err;
	int errors;
	int line;
	int seen_op;		/* an operation has appeared: no more set-up */
	unsigned setup_seen;	/* bit per set-up statement */
	struct steplist stack[SCN_MAX_DEPTH + 1];
	int depth;
	int skipping;		/* repeats open beyond SCN_MAX_DEPTH: their bodies are skipped */
	uint8_t destroyed[SCN_MAX_PMAPS];	/* destroyed by a statement above: `pmap NAME` makes it again */
	int parallel;		/* the innermost open block is a parallel one */
	int via_on;		/* parsing the operation of an `on CPU` */
};

/* Report one error at a column of the current line. */
static void perr(struct parser *p, int col, const char *fmt, ...)
{
	va_list ap;

	fprintf(p->err, "%s:%d:%d: error: ", p->s->path, p->line, col);
	va_start(ap, fmt);
	vfprintf(p->err, fmt, ap);
	va_end(ap);
	fputc('\n', p->err);
	p->errors++;
}

/* Split a line into tokens (a "quoted string" is one token); -1 on error. */
static int tokenize(struct parser *p, char *line, struct token *t)
{
	int n = 0;
	char *c = line;

	for (;;) {
		while (*c == ' ' || *c == '\t')
			c++;
		if (*c == '\0' || *c == '#') {
			*c = '\0';
			return n;
		}
		if (n == MAX_TOKENS) {
			perr(p, (int)(c - line) + 1, "too many words on one line (at most %d)", MAX_TOKENS);
			return -1;
		}
		t[n].s = c;
		t[n].col = (int)(c - line) + 1;
		if (*c == '"') {
			char *end = strchr(c + 1, '"');

			if (end == NULL) {
				perr(p, t[n].col, "unterminated string");
				return -1;
			}
			c = end + 1;
			if (*c != '\0' && *c != ' ' && *c != '\t' && *c != '#') {
				perr(p, (int)(c - line) + 1, "expected a blank after the string");
				return -1;
			}
		} else {
			while (*c && *c != ' ' && *c != '\t' && *c != '#')
				c++;
		}
		n++;
		if (*c == '#') {
			*c = '\0';
			return n;
		}
		if (*c)
			*c++ = '\0';
	}
}

/* The guest function behind each statement that calls one (docs/scenarios.md has the whole table). */
static const struct { const char *statement, *fn; } statement_calls[] = {
	{ "map", "pmap_enter" }, { "unmap", "pmap_remove" }, { "protect", "pmap_protect" },
	{ "unmap-all", "pmap_remove_all" }, { "kenter", "pmap_kenter" }, { "kremove", "pmap_kremove" },
	{ "clear-modify", "pmap_clear_modify" }, { "activate", "pmap_activate" }, { "pmap", "pmap_pinit" },
	{ "destroy", "pmap_release" }, { "page", "vm_page_alloc" }, { "free", "vm_page_free" },
};

/* Every statement's first word, for suggestions. */
static const char *const command_words[] = {
	"guest", "memory", "pv-chunks", "ignore", "check", "requires", "pmap", "page", "destroy", "activate", "free",
	"unmap-all", "clear-modify", "query", "recycle", "map", "unmap", "protect", "kenter", "kremove", "touch",
	"random", "fail", "expect", "repeat", "cpus", "schedule", "on", "parallel",
};

/* "unknown WHAT 'word'", with the nearest keyword when the word looks like a typo of one. */
static void unknown_keyword(struct parser *p, const struct token *t, const char *what, const char *const *words,
    size_t n)
{
	const char *near = nearest_word(t->s, words, n);

	/* A function name (pmap_remove, or remove) names the statement that calls it. */
	for (size_t i = 0; words == command_words && i < sizeof(statement_calls) / sizeof(statement_calls[0]); i++) {
		const char *fn = statement_calls[i].fn;

		if (strcmp(t->s, fn) == 0 || (strncmp(fn, "pmap_", 5) == 0 && strcmp(t->s, fn + 5) == 0)) {
			perr(p, t->col, "unknown %s '%s'; did you mean '%s' (it calls %s)?", what, t->s,
			    statement_calls[i].statement, fn);
			return;
		}
	}
	if (near != NULL)
		perr(p, t->col, "unknown %s '%s'; did you mean '%s'?", what, t->s, near);
	else
		perr(p, t->col, "unknown %s '%s'", what, t->s);
}

static int valid_name(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_') || strlen(s) >= 64)
		return 0;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

/* A number (decimal or 0x hex); reports and returns -1 when it is not. */
static int num(struct parser *p, const struct token *t, uint64_t *v)
{
	if (parse_u64(t->s, v) < 0) {
		perr(p, t->col, "bad number '%s'", t->s);
		return -1;
	}
	return 0;
}

/* A 32-bit number. */
static int num32(struct parser *p, const struct token *t, uint32_t *v)
{
	uint64_t x;

	if (num(p, t, &x) < 0)
		return -1;
	if (x > UINT32_MAX) {
		perr(p, t->col, "number %s does not fit in 32 bits", t->s);
		return -1;
	}
	*v = (uint32_t)x;
	return 0;
}

/* A page-aligned virtual address. */
static int va_arg32(struct parser *p, const struct token *t, uint32_t *va)
{
	if (num32(p, t, va) < 0)
		return -1;
	if (*va & PAGE_MASK) {
		perr(p, t->col, "virtual address %s is not page-aligned", t->s);
		return -1;
	}
	return 0;
}

/* Is [va, eva) in the right half of the address space for pmap? */
static int check_space(struct parser *p, const struct token *t, int pmap, uint64_t va, uint64_t eva)
{
	int range = eva > va + PAGE_SIZE;

	if (pmap != SCN_KERNEL && eva > KERNBASE && range && va < KERNBASE) {
		perr(p, t->col, "user range [0x%08llx, 0x%08llx) runs past KERNBASE (0x%08x)",
		    (unsigned long long)va, (unsigned long long)eva, KERNBASE);
		return -1;
	}
	if (pmap != SCN_KERNEL && eva > KERNBASE) {
		perr(p, t->col, "user address 0x%08llx is at or above KERNBASE (0x%08x)", (unsigned long long)va,
		    KERNBASE);
		return -1;
	}
	if (pmap == SCN_KERNEL && (va < KERNBASE || eva > PTMAP_VA)) {
		if (range)
			perr(p, t->col, "kernel range [0x%08llx, 0x%08llx) is outside [KERNBASE, PTmap) = [0x%08x, 0x%08x)",
			    (unsigned long long)va, (unsigned long long)eva, KERNBASE, PTMAP_VA);
		else
			perr(p, t->col, "kernel address 0x%08llx is outside [KERNBASE, PTmap) = [0x%08x, 0x%08x)",
			    (unsigned long long)va, KERNBASE, PTMAP_VA);
		return -1;
	}
	return 0;
}

/* Would [va, eva) pass check_space? (no report) */
static int check_space_ok(int pmap, uint64_t va, uint64_t eva)
{
	return pmap != SCN_KERNEL ? eva <= KERNBASE : va >= KERNBASE && eva <= PTMAP_VA;
}

int scenario_find_pmap(const struct scenario *s, const char *name)
{
	for (int i = 0; i < s->npmaps; i++)
		if (strcmp(s->pmap_names[i], name) == 0)
			return i;
	return -1;
}

int scenario_find_array(const struct scenario *s, const char *name)
{
	for (int i = 0; i < s->narrays; i++)
		if (strcmp(s->arrays[i].name, name) == 0)
			return i;
	return -1;
}

/* A pmap name (or "kernel"). */
static int pmap_ref(struct parser *p, const struct token *t, int *pmap)
{
	if ((*pmap = scenario_find_pmap(p->s, t->s)) < 0) {
		perr(p, t->col, "unknown pmap '%s'", t->s);
		return -1;
	}
	return 0;
}

/* NAME or NAME[i]; a whole array only when whole_ok. */
static int page_ref(struct parser *p, const struct token *t, struct pageref *r, int whole_ok)
{
	char name[64];
	const char *br = strchr(t->s, '[');
	size_t len = br ? (size_t)(br - t->s) : strlen(t->s);
	uint64_t idx;

	if (len >= sizeof(name)) {
		perr(p, t->col, "unknown page '%s'", t->s);
		return -1;
	}
	memcpy(name, t->s, len);
	name[len] = '\0';
	if ((r->array = scenario_find_array(p->s, name)) < 0) {
		perr(p, t->col, "unknown page '%s'", name);
		return -1;
	}
	r->index = -1;
	if (br != NULL) {
		char digits[32];
		size_t dl = strlen(br + 1);

		if (dl < 2 || dl > sizeof(digits) || br[dl] != ']') {
			perr(p, t->col, "bad page reference '%s' (expected NAME[INDEX])", t->s);
			return -1;
		}
		memcpy(digits, br + 1, dl - 1);
		digits[dl - 1] = '\0';
		if (parse_u64(digits, &idx) < 0) {
			perr(p, t->col, "bad page index '%s' in '%s'", digits, t->s);
			return -1;
		}
		if (!p->s->arrays[r->array].is_array || idx >= p->s->arrays[r->array].count) {
			perr(p, t->col, "page index '%s' out of range for %s (%u page%s)", t->s, name,
			    p->s->arrays[r->array].count, p->s->arrays[r->array].count == 1 ? "" : "s");
			return -1;
		}
		r->index = (int)idx;
	} else if (!p->s->arrays[r->array].is_array) {
		r->index = 0;
	} else if (!whole_ok) {
		perr(p, t->col, "'%s' is a page array: name one page, as %s[0]", name, name);
		return -1;
	}
	return 0;
}

/* The number of pages a reference names. */
static uint32_t pageref_count(const struct scenario *s, const struct pageref *r)
{
	return r->index < 0 ? s->arrays[r->array].count : 1;
}

/* The protections a statement may name. */
static const struct { const char *s; uint32_t v; } prots[] = {
	{ "none", 0 }, { "r", SCN_PROT_R }, { "rw", SCN_PROT_R | SCN_PROT_W },
	{ "rx", SCN_PROT_R | SCN_PROT_X }, { "rwx", SCN_PROT_R | SCN_PROT_W | SCN_PROT_X },
};

/* Is s one of the protection words? */
static int is_prot_word(const char *s)
{
	for (size_t i = 0; i < sizeof(prots) / sizeof(prots[0]); i++)
		if (strcmp(s, prots[i].s) == 0)
			return 1;
	return 0;
}

/* none, r, rw, rx or rwx. */
static int prot_arg(struct parser *p, const struct token *t, uint32_t *prot)
{
	for (size_t i = 0; i < sizeof(prots) / sizeof(prots[0]); i++)
		if (strcmp(t->s, prots[i].s) == 0) {
			*prot = prots[i].v;
			return 0;
		}
	perr(p, t->col, "bad protection '%s' (none, r, rw, rx or rwx)", t->s);
	return -1;
}

/* START END or START +N, checked against the pmap's half of the space. */
static int range_arg(struct parser *p, const struct token *t, int pmap, uint32_t *va, uint32_t *eva)
{
	uint64_t end, n;

	if (va_arg32(p, &t[0], va) < 0)
		return -1;
	if (t[1].s[0] == '+') {
		struct token cnt = { t[1].s + 1, t[1].col + 1 };

		if (num(p, &cnt, &n) < 0)
			return -1;
		if (n == 0 || n > (1ull << 20)) {
			perr(p, t[1].col, "page count %s out of range (1 to 1048576)", t[1].s);
			return -1;
		}
		end = *va + n * PAGE_SIZE;
	} else {
		uint32_t e;

		if (va_arg32(p, &t[1], &e) < 0)
			return -1;
		end = e;
	}
	if (end <= *va) {
		perr(p, t[1].col, "range end 0x%llx is not above its start 0x%08x", (unsigned long long)end, *va);
		return -1;
	}
	if (end > UINT32_MAX) {
		perr(p, t[1].col, "range runs past 4 GiB");
		return -1;
	}
	*eva = (uint32_t)end;
	/* Blame the bound that is out of range. */
	return check_space(p, check_space_ok(pmap, *va, *va + PAGE_SIZE) ? &t[1] : &t[0], pmap, *va, *eva);
}

/* yes or no. */
static int yesno(struct parser *p, const struct token *t, int *v)
{
	if (strcmp(t->s, "yes") == 0 || strcmp(t->s, "no") == 0) {
		*v = t->s[0] == 'y';
		return 0;
	}
	perr(p, t->col, "expected yes or no, not '%s'", t->s);
	return -1;
}

/* Exactly lo..hi arguments after the keyword(s). */
static int nargs(struct parser *p, const struct token *t, int n, int lo, int hi, const char *usage)
{
	if (n - 1 < lo || n - 1 > hi) {
		perr(p, t[n > 1 && n - 1 > hi ? hi + 1 : 0].col, "usage: %s", usage);
		return -1;
	}
	return 0;
}

/* Declare a name (pmaps and pages share one namespace). */
static int declare(struct parser *p, const struct token *t)
{
	if (!valid_name(t->s)) {
		perr(p, t->col, "bad name '%s' (letters, digits and _, not starting with a digit)", t->s);
		return -1;
	}
	if (scenario_find_pmap(p->s, t->s) >= 0 || scenario_find_array(p->s, t->s) >= 0) {
		perr(p, t->col, "duplicate name '%s'", t->s);
		return -1;
	}
	return 0;
}

/* Append st to the innermost list, with its position; counts its operations. */
static struct step *emit(struct parser *p, struct step st, const struct token *t, const char *text,
    uint64_t ops)
{
	struct steplist *l = &p->stack[p->depth];

	if (ops > SCN_MAX_OPS - l->ops) {
		perr(p, t->col, "too many operations (at most %llu per file)", (unsigned long long)SCN_MAX_OPS);
		return NULL;
	}
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 16;
		struct step *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			perr(p, t->col, "out of memory");
			return NULL;
		}
		l->v = v;
		l->cap = cap;
	}
	st.line = p->line;
	st.col = t->col;
	st.text = text;
	l->v[l->n] = st;
	l->ops += ops;
	return &l->v[l->n++];
}

/* Set-up statements: before the first operation, each at most once. */
static int setup_stmt(struct parser *p, const struct token *t, unsigned bit)
{
	if (p->seen_op) {
		perr(p, t->col, "set-up statement '%s' after the first operation", t->s);
		return -1;
	}
	if (bit && (p->setup_seen & bit)) {
		perr(p, t->col, "duplicate '%s' statement", t->s);
		return -1;
	}
	p->setup_seen |= bit;
	return 0;
}

/* "unknown guest 'X'", with the nearest build's name when it looks like a typo of one. */
static void unknown_guest(struct parser *p, const struct token *t)
{
	char names[GUESTS_MAX][GUEST_NAME_MAX];
	const char *cands[GUESTS_MAX], *near;
	int n = guests_list(names, GUESTS_MAX, 1);

	for (int i = 0; i < n; i++)
		cands[i] = names[i];
	near = nearest_word(t->s, cands, (size_t)n);
	if (near != NULL)
		perr(p, t->col, "unknown guest '%s'; did you mean '%s'?", t->s, near);
	else
		perr(p, t->col, "unknown guest '%s': there is no build guest-%s.elf (`rig doctor` lists the builds)",
		    t->s, t->s);
}

/* One FEATURE of `requires`: a behaviour of the rig's vocabulary, or a descriptor key. */
static void parse_requirement(struct parser *p, const struct token *t)
{
	struct scenario *s = p->s;
	const char *near;

	if (!contract_feature_known(t->s, &near)) {
		if (near != NULL)
			perr(p, t->col, "unknown feature '%s'; did you mean '%s'?", t->s, near);
		else
			perr(p, t->col, "unknown feature '%s' (docs/guest-contract.md lists the features and keys)", t->s);
	} else if (s->nrequires == SCN_MAX_REQUIRES) {
		perr(p, t->col, "too many requirements (at most %d)", SCN_MAX_REQUIRES);
	} else {
		s->requires_line[s->nrequires] = p->line;
		snprintf(s->requires[s->nrequires++], sizeof(s->requires[0]), "%s", t->s);
	}
}

static int keyval(struct parser *p, const struct token *t, const char *key, uint64_t *v);

/* "FILE" of schedule replay, relative to the scenario's directory. */
static char *relative_path(const char *scenario, const char *file)
{
	const char *slash = strrchr(scenario, '/');
	size_t dir = file[0] == '/' || slash == NULL ? 0 : (size_t)(slash - scenario) + 1;
	char *out = malloc(dir + strlen(file) + 1);

	if (out != NULL) {
		memcpy(out, scenario, dir);
		strcpy(out + dir, file);
	}
	return out;
}

/* schedule roundrobin [K] | random seed=S [K] | replay FILE */
static void parse_schedule(struct parser *p, const struct token *t, int n)
{
	struct scenario *s = p->s;
	char why[1024];
	uint64_t v;
	int k = 0;

	s->schedule_line = p->line;
	s->schedule_col = t->col;
	if (!strcmp(t[1].s, "roundrobin")) {
		s->schedule = SCN_ROUNDROBIN;
		k = n == 3 ? 2 : 0;
	} else if (!strcmp(t[1].s, "random")) {
		s->schedule = SCN_RANDOM;
		if (n < 3 || (k = keyval(p, &t[2], "seed", &s->sched_seed)) != 0) {
			if (n < 3 || k > 0)
				perr(p, n < 3 ? t[1].col : t[2].col, "usage: schedule random seed=S [K]");
			return;
		}
		k = n == 4 ? 3 : 0;
	} else if (!strcmp(t[1].s, "replay")) {
		s->schedule = SCN_REPLAY;
		if (n != 3) {
			perr(p, t[1].col, "usage: schedule replay FILE");
			return;
		}
		free(s->replay_path);
		s->replay_path = relative_path(s->path, t[2].s[0] == '"' ? t[2].s + 1 : t[2].s);
		if (s->replay_path != NULL && t[2].s[0] == '"')
			s->replay_path[strlen(s->replay_path) - 1] = '\0';
		if (s->replay_path != NULL && access(s->replay_path, R_OK) != 0) {
			perr(p, t[2].col, "cannot read the schedule file '%s': %s", s->replay_path, strerror(errno));
			return;
		}
		if (s->replay_path != NULL && sched_read_replay(s->replay_path, &s->replay, &s->nreplay, why,
		    sizeof(why)) < 0) {
			fprintf(p->err, "%s\n", why);
			p->errors++;
		}
		return;
	} else {
		perr(p, t[1].col, "unknown schedule '%s' (roundrobin, random or replay)", t[1].s);
		return;
	}
	if (s->schedule == SCN_ROUNDROBIN && n > 3) {
		perr(p, t[3].col, "unexpected '%s' (schedule roundrobin takes [K])", t[3].s);
		return;
	}
	if (k == 0 || num(p, &t[k], &v) < 0)
		return;
	if (v < 1 || v > 1000000)
		perr(p, t[k].col, "quantum %s out of range (1 to 1000000 instructions)", t[k].s);
	else
		s->quantum = (uint32_t)v;
}

/* guest, memory, pv-chunks, cpus, schedule, check (cadence), ignore, requires. */
static void parse_setup(struct parser *p, const struct token *t, int n)
{
	struct scenario *s = p->s;
	uint64_t v;

	if (!strcmp(t->s, "guest")) {
		if (setup_stmt(p, t, 1) || nargs(p, t, n, 1, 1, "guest NAME (a guest build: ptelist, nofree, dynamic, ...)"))
			return;
		if (!guests_exists(t[1].s))
			unknown_guest(p, &t[1]);
		else
			snprintf(s->policy, sizeof(s->policy), "%s", t[1].s);
		s->guest_named = 1;
	} else if (!strcmp(t->s, "requires")) {
		if (setup_stmt(p, t, 0) || nargs(p, t, n, 1, MAX_TOKENS - 1, "requires FEATURE..."))
			return;
		for (int i = 1; i < n; i++)
			parse_requirement(p, &t[i]);
	} else if (!strcmp(t->s, "memory")) {
		if (setup_stmt(p, t, 2) || nargs(p, t, n, 1, 1, "memory SIZE"))
			return;
		if (parse_size(t[1].s, &v) < 0 || v < (4u << 20) || v > (2048ull << 20) || (v & PAGE_MASK))
			perr(p, t[1].col, "bad memory size '%s' (4M to 2G, whole pages)", t[1].s);
		else
			s->memory = v;
	} else if (!strcmp(t->s, "pv-chunks")) {
		if (setup_stmt(p, t, 4) || nargs(p, t, n, 1, 1, "pv-chunks N") || num(p, &t[1], &v))
			return;
		if (v < 1 || v > 65536)
			perr(p, t[1].col, "pv-chunks %s out of range (1 to 65536)", t[1].s);
		else
			s->pv_chunks = (uint32_t)v;
	} else if (!strcmp(t->s, "cpus")) {
		if (setup_stmt(p, t, 16) || nargs(p, t, n, 1, 1, "cpus N") || num(p, &t[1], &v))
			return;
		if (v < 1 || v > SCN_MAX_CPUS)
			perr(p, t[1].col, "cpus %s out of range (1 to %d)", t[1].s, SCN_MAX_CPUS);
		else
			s->ncpu = (int)v;
	} else if (!strcmp(t->s, "schedule")) {
		if (setup_stmt(p, t, 32) || nargs(p, t, n, 1, 3, "schedule roundrobin [K] | random seed=S [K] | replay FILE"))
			return;
		parse_schedule(p, t, n);
	} else if (!strcmp(t->s, "ignore")) {
		if (setup_stmt(p, t, 0) || nargs(p, t, n, 1, 1, "ignore ID"))
			return;
		if (invariant_lookup(t[1].s) == NULL)
			perr(p, t[1].col, "unknown invariant ID '%s'", t[1].s);
		else if (s->nignore == SCN_MAX_IGNORES)
			perr(p, t[1].col, "too many ignore statements");
		else
			s->ignore[s->nignore++] = invariant_lookup(t[1].s)->id;
	} else {	/* check every|end|off */
		if (setup_stmt(p, t, 8))
			return;
		if (!strcmp(t[1].s, "every"))
			s->cadence = CHECK_EVERY;
		else if (!strcmp(t[1].s, "end"))
			s->cadence = CHECK_END;
		else if (!strcmp(t[1].s, "off"))
			s->cadence = CHECK_OFF;
		else
			perr(p, t[1].col, "usage: check every|end|off");
	}
}

/* pmap NAME | page NAME [N] */
static void parse_declare(struct parser *p, const struct token *t, int n, const char *text)
{
	struct scenario *s = p->s;
	uint64_t count = 1;

	if (p->depth > 0) {
		perr(p, t->col, "'%s' declares a name and cannot be inside repeat", t->s);
		return;
	}
	if (!strcmp(t->s, "pmap")) {
		int again = n == 2 ? scenario_find_pmap(s, t[1].s) : -1;

		if (again > SCN_KERNEL && p->destroyed[again]) {	/* made again after `destroy NAME` */
			p->destroyed[again] = 0;
			emit(p, (struct step){ .kind = ST_PMAP, .pmap = again }, t, text, 1);
			return;
		}
		if (nargs(p, t, n, 1, 1, "pmap NAME") || declare(p, &t[1]))
			return;
		if (s->npmaps == SCN_MAX_PMAPS) {
			perr(p, t[1].col, "too many pmaps (at most %d)", SCN_MAX_PMAPS - 1);
			return;
		}
		snprintf(s->pmap_names[s->npmaps], 64, "%s", t[1].s);
		emit(p, (struct step){ .kind = ST_PMAP, .pmap = s->npmaps++ }, t, text, 1);
		return;
	}
	if (nargs(p, t, n, 1, 2, "page NAME [N]") || declare(p, &t[1]) || (n == 3 && num(p, &t[2], &count)))
		return;
	if (count < 1 || count > 524288) {
		perr(p, t[2].col, "page count %s out of range (1 to 524288)", t[2].s);
		return;
	}
	if (s->narrays == SCN_MAX_PAGE_ARRAYS) {
		perr(p, t[1].col, "too many page names (at most %d)", SCN_MAX_PAGE_ARRAYS);
		return;
	}
	snprintf(s->arrays[s->narrays].name, 64, "%s", t[1].s);
	s->arrays[s->narrays].count = (uint32_t)count;
	s->arrays[s->narrays].is_array = n == 3;
	s->arrays[s->narrays].first = s->npages_total;
	s->npages_total += (uint32_t)count;
	emit(p, (struct step){ .kind = ST_PAGE, .page = { s->narrays++, -1 } }, t, text, 1);
}

/* map PMAP VA PAGE [PROT] [wired] [shortage] */
static void parse_map(struct parser *p, const struct token *t, int n, const char *text)
{
	struct step st = { .kind = ST_MAP, .prot = SCN_PROT_R | SCN_PROT_W };
	uint64_t end;
	int i = 4;

	if (nargs(p, t, n, 3, 6, "map PMAP VA PAGE [PROT] [wired] [shortage|or-shortage]") || pmap_ref(p, &t[1], &st.pmap) ||
	    va_arg32(p, &t[2], &st.va) || page_ref(p, &t[3], &st.page, 1))
		return;
	if (i < n && t[i].s[0] == 'r' && prot_arg(p, &t[i++], &st.prot))
		return;
	for (; i < n; i++) {
		if (!strcmp(t[i].s, "wired"))
			st.flag |= 1;
		else if (!strcmp(t[i].s, "shortage"))
			st.flag |= 2;
		else if (!strcmp(t[i].s, "or-shortage"))	/* a shortage is an outcome, not a failure */
			st.flag |= 4;
		else if (is_prot_word(t[i].s)) {
			perr(p, t[i].col, "the protection '%s' must come right after the page (map PMAP VA PAGE [PROT] "
			    "[wired] [shortage])", t[i].s);
			return;
		} else {
			perr(p, t[i].col, "unexpected '%s' (expected a protection, wired or shortage)", t[i].s);
			return;
		}
	}
	end = (uint64_t)st.va + (uint64_t)pageref_count(p->s, &st.page) * PAGE_SIZE;
	if (end > UINT32_MAX) {
		perr(p, t[2].col, "the mapping runs past 4 GiB");
		return;
	}
	st.eva = (uint32_t)end;
	if (check_space(p, &t[2], st.pmap, st.va, st.eva) == 0)
		emit(p, st, t, text, 1);
}

/* destroy NAME | activate NAME */
static void parse_pmap_op(struct parser *p, const struct token *t, int n, const char *text)
{
	struct step st = { .kind = !strcmp(t->s, "destroy") ? ST_DESTROY : ST_ACTIVATE };

	if (nargs(p, t, n, 1, 1, st.kind == ST_DESTROY ? "destroy PMAP" : "activate PMAP") ||
	    pmap_ref(p, &t[1], &st.pmap))
		return;
	if (st.kind == ST_DESTROY && st.pmap == SCN_KERNEL) {
		perr(p, t[1].col, "the kernel pmap cannot be destroyed");
		return;
	}
	if (st.kind == ST_DESTROY)
		p->destroyed[st.pmap] = 1;
	emit(p, st, t, text, 1);
}

/*
 * free PAGE | unmap-all PAGE | clear-modify PAGE (a whole array allowed);
 * query PAGE (pmap_is_modified and pmap_is_referenced against the model)
 * and recycle PAGE (free it and allocate it again): what random does,
 * written out (rig shrink).
 */
static void parse_page_op(struct parser *p, const struct token *t, int n, const char *text)
{
	int one = !strcmp(t->s, "query") || !strcmp(t->s, "recycle");
	struct step st;

	st = (struct step){ .kind = !strcmp(t->s, "free") ? ST_FREE : !strcmp(t->s, "unmap-all") ? ST_UNMAP_ALL :
	    !strcmp(t->s, "query") ? ST_QUERY : !strcmp(t->s, "recycle") ? ST_RECYCLE : ST_CLEAR_MODIFY };
	if (nargs(p, t, n, 1, 1, "free|unmap-all|clear-modify|query|recycle PAGE") || page_ref(p, &t[1], &st.page, !one))
		return;
	emit(p, st, t, text, 1);
}

/* unmap PMAP RANGE | protect PMAP RANGE PROT */
static void parse_range_op(struct parser *p, const struct token *t, int n, const char *text)
{
	int protect = !strcmp(t->s, "protect");
	struct step st = { .kind = protect ? ST_PROTECT : ST_UNMAP };

	if (nargs(p, t, n, 3 + protect, 3 + protect, protect ? "protect PMAP START END|+N PROT" :
	    "unmap PMAP START END|+N") || pmap_ref(p, &t[1], &st.pmap) ||
	    range_arg(p, &t[2], st.pmap, &st.va, &st.eva) || (protect && prot_arg(p, &t[4], &st.prot)))
		return;
	emit(p, st, t, text, 1);
}

/* kenter VA PAGE | kremove VA */
static void parse_kernel_op(struct parser *p, const struct token *t, int n, const char *text)
{
	int enter = !strcmp(t->s, "kenter");
	struct step st = { .kind = enter ? ST_KENTER : ST_KREMOVE, .pmap = SCN_KERNEL };

	if (nargs(p, t, n, 1 + enter, 1 + enter, enter ? "kenter VA PAGE" : "kremove VA") ||
	    va_arg32(p, &t[1], &st.va) || (enter && page_ref(p, &t[2], &st.page, 0)) ||
	    check_space(p, &t[1], SCN_KERNEL, st.va, (uint64_t)st.va + PAGE_SIZE))
		return;
	emit(p, st, t, text, 1);
}

/* touch PMAP VA r|w [faults] */
static void parse_touch(struct parser *p, const struct token *t, int n, const char *text)
{
	struct step st = { .kind = ST_TOUCH };

	if (nargs(p, t, n, 3, 4, "touch PMAP VA r|w [faults|model]") || pmap_ref(p, &t[1], &st.pmap) ||
	    num32(p, &t[2], &st.va))
		return;
	if (st.va & 3) {
		perr(p, t[2].col, "touch address %s is not word-aligned", t[2].s);
		return;
	}
	if (strcmp(t[3].s, "r") && strcmp(t[3].s, "w")) {
		perr(p, t[3].col, "expected r or w, not '%s'", t[3].s);
		return;
	}
	st.flag = t[3].s[0] == 'w';
	if (n == 5 && strcmp(t[4].s, "faults") && strcmp(t[4].s, "model")) {
		perr(p, t[4].col, "expected 'faults' or 'model', not '%s'", t[4].s);
		return;
	}
	st.n = n == 5 && t[4].s[0] == 'f';	/* expect a page fault */
	if (n == 5 && t[4].s[0] == 'm')
		st.flag |= 8;	/* the model says whether it faults; a wrong answer is MODEL */
	if (check_space(p, &t[2], st.pmap, trunc_page(st.va), trunc_page(st.va) + PAGE_SIZE) == 0)
		emit(p, st, t, text, 1);
}

/* Parse "key=value" into a 64-bit number. */
static int keyval(struct parser *p, const struct token *t, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);
	struct token val = { t->s + kl + 1, t->col + (int)kl + 1 };

	if (strncmp(t->s, key, kl) || t->s[kl] != '=')
		return 1;
	return num(p, &val, v) < 0 ? -1 : 0;
}

/*
 * The objects random works on: pmaps rand0..randP-1 and the page array
 * randpg[K], declared here (reused if an earlier random declared them).
 */
static int declare_random(struct parser *p, const struct token *t, uint64_t npmaps, uint64_t npages)
{
	struct scenario *s = p->s;
	int a = scenario_find_array(s, "randpg");

	for (uint64_t i = 0; i < npmaps; i++) {
		char name[16];

		snprintf(name, sizeof(name), "rand%u", (unsigned)i);
		if (scenario_find_pmap(s, name) >= 0)
			continue;
		if (scenario_find_array(s, name) >= 0 || s->npmaps == SCN_MAX_PMAPS) {
			perr(p, t->col, "random needs pmap name '%s', which is taken or over the limit", name);
			return -1;
		}
		snprintf(s->pmap_names[s->npmaps++], 64, "%s", name);
	}
	if (a >= 0 && s->arrays[a].count != npages) {
		perr(p, t->col, "random: randpg already has %u pages, not %llu", s->arrays[a].count,
		    (unsigned long long)npages);
		return -1;
	}
	if (a < 0 && (scenario_find_pmap(s, "randpg") >= 0 || s->narrays == SCN_MAX_PAGE_ARRAYS)) {
		perr(p, t->col, "random needs the page array name 'randpg'");
		return -1;
	}
	if (a < 0) {
		s->arrays[s->narrays] = (struct page_array){ "randpg", (uint32_t)npages, 1, s->npages_total };
		s->narrays++;
		s->npages_total += (uint32_t)npages;
	}
	return 0;
}

/* random seed=S ops=N [pmaps=P] [pages=K] */
static void parse_random(struct parser *p, const struct token *t, int n, const char *text)
{
	static const char *keys[] = { "seed", "ops", "pmaps", "pages" };
	static const uint64_t max[] = { UINT64_MAX, 10000000, 32, 65536 };
	uint64_t v[4] = { 0, 0, 4, 64 };
	int have = 0;

	for (int i = 1; i < n; i++) {
		int k, rc = 1;

		for (k = 0; k < 4 && (rc = keyval(p, &t[i], keys[k], &v[k])) > 0; k++)
			;
		if (rc < 0)
			return;
		if (k == 4) {
			perr(p, t[i].col, "unexpected '%s' (seed=, ops=, pmaps= or pages=)", t[i].s);
			return;
		}
		if (v[k] > max[k] || (k > 0 && v[k] == 0)) {
			perr(p, t[i].col, "%s is absurd (%s must be 1 to %llu)", t[i].s, keys[k], (unsigned long long)max[k]);
			return;
		}
		have |= 1 << k;
	}
	if ((have & 3) != 3) {
		perr(p, t->col, "usage: random seed=S ops=N [pmaps=P] [pages=K]");
		return;
	}
	if (declare_random(p, t, v[2], v[3]) < 0)
		return;
	emit(p, (struct step){ .kind = ST_RANDOM, .n = v[0], .ops = (uint32_t)v[1], .npmaps = (uint32_t)v[2],
	    .npages = (uint32_t)v[3] }, t, text, v[1]);
}

/* fail alloc after N | fail alloc off */
static void parse_fail(struct parser *p, const struct token *t, int n, const char *text)
{
	struct step st = { .kind = ST_FAIL_ALLOC };

	if (n >= 3 && !strcmp(t[1].s, "alloc") && !strcmp(t[2].s, "off") && n == 3) {
		emit(p, st, t, text, 1);
		return;
	}
	if (n != 4 || strcmp(t[1].s, "alloc") || strcmp(t[2].s, "after")) {
		perr(p, t->col, "usage: fail alloc after N | fail alloc off");
		return;
	}
	if (num(p, &t[3], &st.n) < 0)
		return;
	if (st.n >= UINT32_MAX) {
		perr(p, t[3].col, "count %s is absurd", t[3].s);
		return;
	}
	st.flag = 1;
	emit(p, st, t, text, 1);
}

/* expect violation ID | expect panic "TEXT" | expect livelock in FUNCTION: the file is an expected failure. */
static void parse_expect_failure(struct parser *p, const struct token *t, int n)
{
	struct scenario *s = p->s;

	if (s->expect_violation != NULL || s->expect_panic != NULL || s->expect_livelock) {
		perr(p, t[1].col, "a file can expect only one failure");
		return;
	}
	if (p->depth > 0) {
		perr(p, t[1].col, "'expect %s' cannot be inside repeat", t[1].s);
		return;
	}
	if (t[1].s[0] == 'l') {
		if (n != 4 || strcmp(t[2].s, "in") || !valid_name(t[3].s) || strlen(t[3].s) >= sizeof(s->expect_in)) {
			perr(p, n == 4 ? t[3].col : t->col, "usage: expect livelock in FUNCTION");
			return;
		}
		snprintf(s->expect_in, sizeof(s->expect_in), "%s", t[3].s);
		s->expect_livelock = 1;
		s->expect_line = p->line;
		return;
	}
	if (n != 3 && !(n == 5 && t[1].s[0] == 'v' && !strcmp(t[3].s, "in"))) {
		perr(p, t->col, "usage: expect violation ID [in FUNCTION] | expect panic \"TEXT\" | expect livelock in FUNCTION");
		return;
	}
	if (n == 5 && (!valid_name(t[4].s) || strlen(t[4].s) >= sizeof(s->expect_in))) {
		perr(p, t[4].col, "'%s' is not a function name", t[4].s);
		return;
	}
	if (n == 5)
		snprintf(s->expect_in, sizeof(s->expect_in), "%s", t[4].s);
	s->expect_line = p->line;
	if (t[1].s[0] == 'v') {
		if (invariant_lookup(t[2].s) == NULL)
			perr(p, t[2].col, "unknown invariant ID '%s'", t[2].s);
		else
			s->expect_violation = invariant_lookup(t[2].s)->id;
		return;
	}
	if (t[2].s[0] != '"' || strlen(t[2].s) < 3) {
		perr(p, t[2].col, "expected a non-empty \"quoted text\"");
		return;
	}
	s->expect_panic = strdup(t[2].s + 1);
	if (s->expect_panic != NULL)
		s->expect_panic[strlen(s->expect_panic) - 1] = '\0';
}

const struct scn_pte_flag scn_pte_flags[SCN_NPTE_FLAGS] = {
	{ "V", PG_V }, { "RW", PG_RW }, { "U", PG_U }, { "A", PG_A }, { "M", PG_M },
	{ "W", PG_W }, { "MAN", PG_MANAGED },
};

/* FLAG or -FLAG of `expect pte`, into the must-be-set or must-be-clear mask. */
static int pte_flag_arg(struct parser *p, const struct token *t, struct step *st)
{
	const char *name = t->s + (t->s[0] == '-');

	for (int i = 0; i < SCN_NPTE_FLAGS; i++) {
		uint32_t bit = scn_pte_flags[i].bit;

		if (strcmp(name, scn_pte_flags[i].name) != 0)
			continue;
		if ((st->pte_set | st->pte_clear) & bit) {
			perr(p, t->col, "PTE flag %s is named twice", name);
			return -1;
		}
		*(t->s[0] == '-' ? &st->pte_clear : &st->pte_set) |= bit;
		return 0;
	}
	perr(p, t->col, "unknown PTE flag '%s' (expected V, RW, U, A, M, W or MAN, each optionally prefixed by -)",
	    t->s);
	return -1;
}

/* present or absent. */
static int present_arg(struct parser *p, const struct token *t, int *v)
{
	if (strcmp(t->s, "present") == 0 || strcmp(t->s, "absent") == 0) {
		*v = t->s[0] == 'p';
		return 0;
	}
	perr(p, t->col, "expected present or absent, not '%s'", t->s);
	return -1;
}

/* The arguments of one expectation form into st; 1 if they all parse. */
static int expect_args(struct parser *p, const struct token *t, int n, struct step *st)
{
	switch (st->kind) {
	case ST_EXPECT_MAPPED:
		return n >= 5 && n <= 6 && !pmap_ref(p, &t[2], &st->pmap) && !va_arg32(p, &t[3], &st->va) &&
		    !page_ref(p, &t[4], &st->page, 1) && (n == 5 || !prot_arg(p, &t[5], &st->prot));
	case ST_EXPECT_UNMAPPED:
		return n == 4 && !pmap_ref(p, &t[2], &st->pmap) && !va_arg32(p, &t[3], &st->va);
	case ST_EXPECT_PV:
		return n == 4 && !page_ref(p, &t[2], &st->page, 0) && !num(p, &t[3], &st->n);
	case ST_EXPECT_RESIDENT: case ST_EXPECT_WIRED: case ST_EXPECT_CHUNKS:
		return n == 4 && !pmap_ref(p, &t[2], &st->pmap) && !num(p, &t[3], &st->n);
	case ST_EXPECT_PV_FREE_KVA: case ST_EXPECT_PV_PAGES_HELD:
		return n == 3 && !num(p, &t[2], &st->n);
	case ST_EXPECT_PTE:
		if (n < 5 || pmap_ref(p, &t[2], &st->pmap) || va_arg32(p, &t[3], &st->va))
			return 0;
		for (int i = 4; i < n; i++)
			if (pte_flag_arg(p, &t[i], st) < 0)
				return 0;
		return 1;
	case ST_EXPECT_PTP:
		return n == 5 && !pmap_ref(p, &t[2], &st->pmap) && !va_arg32(p, &t[3], &st->va) &&
		    !present_arg(p, &t[4], &st->flag);
	default:	/* modified, referenced, dirty */
		return n == 4 && !page_ref(p, &t[2], &st->page, 0) && !yesno(p, &t[3], &st->flag);
	}
}

/* expect mapped|unmapped|pv|resident|wired|chunks|pv-free-kva|pv-pages-held|modified|referenced ... */
static void parse_expect(struct parser *p, const struct token *t, int n, const char *text)
{
	static const struct { const char *what; enum step_kind kind; const char *usage; } forms[] = {
		{ "mapped", ST_EXPECT_MAPPED, "expect mapped PMAP VA PAGE [PROT]" },
		{ "unmapped", ST_EXPECT_UNMAPPED, "expect unmapped PMAP VA" },
		{ "pv", ST_EXPECT_PV, "expect pv PAGE N" },
		{ "resident", ST_EXPECT_RESIDENT, "expect resident PMAP N" },
		{ "wired", ST_EXPECT_WIRED, "expect wired PMAP N" },
		{ "chunks", ST_EXPECT_CHUNKS, "expect chunks PMAP N" },
		{ "pv-free-kva", ST_EXPECT_PV_FREE_KVA, "expect pv-free-kva N" },
		{ "pv-pages-held", ST_EXPECT_PV_PAGES_HELD, "expect pv-pages-held N" },
		{ "modified", ST_EXPECT_MODIFIED, "expect modified PAGE yes|no" },
		{ "referenced", ST_EXPECT_REFERENCED, "expect referenced PAGE yes|no" },
		{ "dirty", ST_EXPECT_DIRTY, "expect dirty PAGE yes|no" },
		{ "pte", ST_EXPECT_PTE, "expect pte PMAP VA FLAG... (flags V RW U A M W MAN, -FLAG: must be clear)" },
		{ "ptp", ST_EXPECT_PTP, "expect ptp PMAP VA present|absent" },
	};
	struct step st = { 0 };
	int before = p->errors;
	size_t f;
	int ok;

	if (n >= 2 && (!strcmp(t[1].s, "violation") || !strcmp(t[1].s, "panic") || !strcmp(t[1].s, "livelock"))) {
		parse_expect_failure(p, t, n);
		return;
	}
	for (f = 0; n >= 2 && f < sizeof(forms) / sizeof(forms[0]) && strcmp(forms[f].what, t[1].s); f++)
		;
	if (n < 2) {
		perr(p, t->col, "usage: expect mapped|unmapped|pv|resident|wired|chunks|pv-free-kva|pv-pages-held|"
		    "modified|referenced|dirty|pte|ptp|violation|panic ...");
		return;
	}
	if (f == sizeof(forms) / sizeof(forms[0])) {
		const char *words[sizeof(forms) / sizeof(forms[0]) + 2] = { "violation", "panic" };

		for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
			words[i + 2] = forms[i].what;
		unknown_keyword(p, &t[1], "expectation", words, sizeof(words) / sizeof(words[0]));
		return;
	}
	st.kind = forms[f].kind;
	ok = expect_args(p, t, n, &st);
	if (!ok) {
		if (p->errors == before)	/* a shape error, not an argument error */
			perr(p, t->col, "usage: %s", forms[f].usage);
		return;
	}
	if (st.kind == ST_EXPECT_MAPPED || st.kind == ST_EXPECT_UNMAPPED || st.kind == ST_EXPECT_PTE ||
	    st.kind == ST_EXPECT_PTP)	/* (an array is expected at consecutive pages) */
		if (check_space(p, &t[3], st.pmap, st.va, (uint64_t)st.va + (st.kind == ST_EXPECT_MAPPED ?
		    pageref_count(p->s, &st.page) : 1) * PAGE_SIZE))
			return;
	emit(p, st, t, text, 1);
}

/* repeat N { : open a body. */
static void parse_repeat(struct parser *p, const struct token *t, int n, const char *text)
{
	struct step st = { .kind = ST_REPEAT };

	if (n != 3 || strcmp(t[2].s, "{")) {
		perr(p, t->col, "usage: repeat N {");
		return;
	}
	/* A bad count is reported but the block still opens, so braces balance. */
	if (num(p, &t[1], &st.n) < 0)
		st.n = 1;
	else if (st.n < 1 || st.n > SCN_MAX_OPS) {
		perr(p, t[1].col, "repeat count %s is absurd (1 to %llu)", t[1].s, (unsigned long long)SCN_MAX_OPS);
		st.n = 1;
	}
	if (p->depth == SCN_MAX_DEPTH) {
		/* One error here; the body, up to its matching '}', is skipped. */
		perr(p, t->col, "repeat nested too deeply (at most %d)", SCN_MAX_DEPTH);
		p->skipping = 1;
		return;
	}
	if (emit(p, st, t, text, 0) == NULL)
		return;
	p->stack[++p->depth] = (struct steplist){ 0 };
}

static void close_parallel(struct parser *p, const struct token *t, const struct steplist *body);

/* } : close the innermost body and count its operations into the repeat. */
static void close_repeat(struct parser *p, const struct token *t, int n)
{
	struct steplist body, *outer;
	struct step *r;
	uint64_t ops;

	if (n != 1)	/* reported, but the block still closes */
		perr(p, t[1].col, "unexpected '%s' after '}'", t[1].s);
	if (p->depth == 0) {
		perr(p, t->col, "'}' without a matching 'repeat N {' or 'parallel {'");
		return;
	}
	body = p->stack[p->depth--];
	outer = &p->stack[p->depth];
	r = &outer->v[outer->n - 1];
	r->body = body.v;
	r->nbody = body.n;
	ops = body.ops;
	if (r->kind == ST_PARALLEL)
		close_parallel(p, t, &body);
	if (ops != 0 && r->n > (SCN_MAX_OPS - outer->ops) / ops) {
		perr(p, t->col, "repeat %llu of %llu operations is absurd (at most %llu per file)",
		    (unsigned long long)r->n, (unsigned long long)ops, (unsigned long long)SCN_MAX_OPS);
		return;
	}
	outer->ops += r->n * ops;
}

/* Operations `on CPU` may run on another CPU (and a parallel block may hold). */
static const char *const cpu_words[] = {
	"activate", "map", "unmap", "protect", "unmap-all", "clear-modify", "query", "kenter", "kremove", "touch",
};

static void parse_operation(struct parser *p, const struct token *t, int n, const char *text);

/* on CPU OPERATION: the operation runs on that CPU. */
static void parse_on(struct parser *p, const struct token *t, int n, const char *text)
{
	struct steplist *l = &p->stack[p->depth];
	int ncpu = p->s->ncpu ? p->s->ncpu : 1, before = l->n, ok = 0;
	uint64_t cpu;

	if (n < 3) {
		perr(p, t->col, "usage: on CPU OPERATION (e.g. on 1 touch A 0x10000000 w)");
		return;
	}
	if (num(p, &t[1], &cpu) < 0)
		return;
	if (cpu >= (uint64_t)ncpu) {
		perr(p, t[1].col, "CPU %s out of range: the file runs %d CPU%s (CPUs 0 to %d; `cpus N` sets more)",
		    t[1].s, ncpu, ncpu == 1 ? "" : "s", ncpu - 1);
		return;
	}
	for (size_t i = 0; i < sizeof(cpu_words) / sizeof(cpu_words[0]); i++)
		ok |= !strcmp(t[2].s, cpu_words[i]);
	if (!ok) {
		perr(p, t[2].col, "'on' takes an operation (activate, map, unmap, protect, unmap-all, clear-modify, "
		    "query, kenter, kremove, touch), not '%s'", t[2].s);
		return;
	}
	p->via_on = 1;
	parse_operation(p, &t[2], n - 2, text);
	p->via_on = 0;
	if (l->n == before + 1)
		l->v[before].cpu = (int)cpu;
}

/* parallel { : open a block whose operations (one `on CPU` each) run at once. */
static void parse_parallel(struct parser *p, const struct token *t, int n, const char *text)
{
	struct step st = { .kind = ST_PARALLEL, .n = 1 };

	if (n != 2 || strcmp(t[1].s, "{")) {
		perr(p, t->col, "usage: parallel {");
		return;
	}
	if (p->parallel) {
		perr(p, t->col, "parallel blocks do not nest");
		p->skipping = 1;
		return;
	}
	if (p->depth == SCN_MAX_DEPTH) {
		perr(p, t->col, "parallel nested too deeply (at most %d blocks)", SCN_MAX_DEPTH);
		p->skipping = 1;
		return;
	}
	if (emit(p, st, t, text, 0) == NULL)
		return;
	p->stack[++p->depth] = (struct steplist){ 0 };
	p->parallel = 1;
}

/* } of a parallel block: at least one operation, each on a CPU of its own. */
static void close_parallel(struct parser *p, const struct token *t, const struct steplist *body)
{
	unsigned seen = 0;
	int line = p->line;

	p->parallel = 0;
	if (body->n == 0)
		perr(p, t->col, "empty parallel block");
	for (int i = 0; i < body->n; i++) {
		if (seen & (1u << body->v[i].cpu)) {
			p->line = body->v[i].line;
			perr(p, body->v[i].col, "CPU %d already has an operation in this parallel block", body->v[i].cpu);
			p->line = line;
			return;
		}
		seen |= 1u << body->v[i].cpu;
	}
}

/* Statements that are operations (or expectations) rather than set-up. */
static void parse_operation(struct parser *p, const struct token *t, int n, const char *text)
{
	static const struct { const char *kw; void (*fn)(struct parser *, const struct token *, int, const char *); } ops[] = {
		{ "pmap", parse_declare }, { "page", parse_declare }, { "destroy", parse_pmap_op },
		{ "activate", parse_pmap_op }, { "free", parse_page_op }, { "unmap-all", parse_page_op },
		{ "clear-modify", parse_page_op }, { "query", parse_page_op }, { "recycle", parse_page_op },
		{ "map", parse_map }, { "unmap", parse_range_op },
		{ "protect", parse_range_op }, { "kenter", parse_kernel_op }, { "kremove", parse_kernel_op },
		{ "touch", parse_touch }, { "random", parse_random }, { "fail", parse_fail },
		{ "expect", parse_expect }, { "repeat", parse_repeat }, { "on", parse_on },
		{ "parallel", parse_parallel },
	};

	if (p->parallel && !p->via_on && strcmp(t->s, "on")) {
		perr(p, t->col, "a parallel block holds `on CPU OPERATION` lines only, not '%s'", t->s);
		if (!strcmp(t[n - 1].s, "{"))
			p->skipping = 1;	/* its body, up to the matching '}' */
		return;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(t->s, ops[i].kw) == 0) {
			if (strcmp(t->s, "expect") || n < 2 ||
			    (strcmp(t[1].s, "violation") && strcmp(t[1].s, "panic") && strcmp(t[1].s, "livelock")))
				p->seen_op = 1;
			ops[i].fn(p, t, n, text);
			return;
		}
	}
	if (!strcmp(t->s, "check") && n == 1) {
		p->seen_op = 1;
		emit(p, (struct step){ .kind = ST_CHECK }, t, text, 1);
		return;
	}
	unknown_keyword(p, t, "command", command_words, sizeof(command_words) / sizeof(command_words[0]));
}

/* Cut a "#" comment (outside quotes) and trailing blanks; returns the text. */
static char *trim_statement(char *line)
{
	int quoted = 0;
	char *c, *end;

	while (*line == ' ' || *line == '\t')
		line++;
	for (c = line; *c; c++) {
		if (*c == '"')
			quoted = !quoted;
		else if (*c == '#' && !quoted) {
			*c = '\0';
			break;
		}
	}
	for (end = line + strlen(line); end > line && (end[-1] == ' ' || end[-1] == '\t'); end--)
		end[-1] = '\0';
	return line;
}

/* One line: tokenize a copy, then set-up, a closing brace, or an operation. */
static void parse_line(struct parser *p, char *line)
{
	char scratch[4096];
	struct token t[MAX_TOKENS];
	size_t len = strlen(line);
	const char *text;
	int n;

	if (len >= sizeof(scratch)) {
		perr(p, 1, "line too long (at most %zu characters)", sizeof(scratch) - 1);
		return;
	}
	memcpy(scratch, line, len + 1);
	if ((n = tokenize(p, scratch, t)) <= 0)
		return;
	text = trim_statement(line);
	if (p->skipping > 0) {	/* inside a repeat nested too deeply: only count its braces */
		if (!strcmp(t[n - 1].s, "{"))
			p->skipping++;
		else if (!strcmp(t->s, "}"))
			p->skipping--;
		return;
	}
	if (!strcmp(t->s, "guest") || !strcmp(t->s, "memory") || !strcmp(t->s, "pv-chunks") ||
	    !strcmp(t->s, "ignore") || !strcmp(t->s, "requires") || !strcmp(t->s, "cpus") ||
	    !strcmp(t->s, "schedule") || (!strcmp(t->s, "check") && n > 1))
		parse_setup(p, t, n);
	else if (!strcmp(t->s, "}"))
		close_repeat(p, t, n);
	else
		parse_operation(p, t, n, text);
}

/* Report repeats left open at the end of the file. */
static void check_balanced(struct parser *p)
{
	while (p->depth > 0) {
		struct steplist *outer = &p->stack[p->depth - 1];
		struct step *r = &outer->v[outer->n - 1];

		p->line = r->line;
		perr(p, r->col, "unbalanced braces: this '%s' is never closed", r->kind == ST_PARALLEL ? "parallel" : "repeat");
		p->parallel = 0;
		r->body = p->stack[p->depth].v;
		r->nbody = p->stack[p->depth].n;
		p->depth--;
	}
}

/*
 * A scenario is text: report the first NUL or other control byte (tab, CR
 * and LF aside) at its line and column; -1 if there is one.
 */
static int binary_byte(const char *text, size_t len, FILE *err, const char *path)
{
	int line = 1, col = 1;

	for (size_t i = 0; i < len; i++, col++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\n') {
			line++;
			col = 0;
		} else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
			if (c == 0)
				fprintf(err, "%s:%d:%d: error: the file contains a NUL byte\n", path, line, col);
			else
				fprintf(err, "%s:%d:%d: error: binary content (byte 0x%02x): a scenario is text\n", path, line,
				    col, c);
			return -1;
		}
	}
	return 0;
}

int scenario_parse_text(struct scenario *s, const char *path, const char *text, size_t len, FILE *err)
{
	struct parser p = { .s = s, .err = err };
	char *line, *next;

	memset(s, 0, sizeof(*s));
	s->path = strdup(path);
	s->source = malloc(len + 1);
	if (s->path == NULL || s->source == NULL) {
		fprintf(err, "%s: error: out of memory\n", path);
		return 1;
	}
	memcpy(s->source, text, len);
	s->source[len] = '\0';
	snprintf(s->policy, sizeof(s->policy), "ptelist");
	s->memory = 32u << 20;
	snprintf(s->pmap_names[0], 64, "kernel");
	s->npmaps = 1;
	if (binary_byte(text, len, err, path) < 0)
		return 1;
	for (line = s->source, p.line = 1; line != NULL; line = next, p.line++) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		parse_line(&p, line);
	}
	check_balanced(&p);
	s->steps = p.stack[0].v;
	s->nsteps = p.stack[0].n;
	s->total_ops = p.stack[0].ops;
	return p.errors;
}

int scenario_parse(struct scenario *s, const char *path, FILE *err)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	int rc;

	if (f == NULL) {
		memset(s, 0, sizeof(*s));
		fprintf(err, "%s: error: %s\n", path, strerror(errno));
		return 1;
	}
	buf = malloc(MAX_FILE_SIZE + 1);
	n = buf ? fread(buf, 1, MAX_FILE_SIZE + 1, f) : 0;
	fclose(f);
	if (buf == NULL || n > MAX_FILE_SIZE) {
		memset(s, 0, sizeof(*s));
		fprintf(err, "%s: error: file too large (at most %u bytes)\n", path, MAX_FILE_SIZE);
		free(buf);
		return 1;
	}
	rc = scenario_parse_text(s, path, buf, n, err);
	free(buf);
	return rc;
}

static void free_steps(struct step *v, int n)
{
	for (int i = 0; i < n; i++)
		if (v[i].kind == ST_REPEAT || v[i].kind == ST_PARALLEL)
			free_steps(v[i].body, v[i].nbody);
	free(v);
}

void scenario_free(struct scenario *s)
{
	free_steps(s->steps, s->nsteps);
	free(s->path);
	free(s->source);
	free(s->expect_panic);
	free(s->replay_path);
	free(s->replay);
	memset(s, 0, sizeof(*s));
}

int scenario_ignores(const struct scenario *s, const char *id)
{
	for (int i = 0; i < s->nignore; i++)
		if (strcmp(s->ignore[i], id) == 0)
			return 1;
	return 0;
}
