/*
 * contract.c - owns the guest descriptor: reads it from the ELF section
 * .rig_contract (with libelf), parses its lines ("key arg..."), and
 * resolves each key against the ELF's symbols and DWARF (dwinfo.c) into
 * struct contract. Unknown keys, missing required keys, symbols the ELF
 * lacks and members the DWARF lacks are errors at the descriptor's line
 * and column. The keys and what each one means are in the table below and
 * in docs/guest-contract.md.
 */
#include "contract.h"

#include <ctype.h>
#include <stdarg.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dwinfo.h"
#include "util.h"

#define CT_MAX_ARGS	12
#define CT_MAX_LINES	128

/* One descriptor line: a key and its arguments, with their columns. */
struct cline {
	char *tok[CT_MAX_ARGS + 1];
	int col[CT_MAX_ARGS + 1];
	int ntok, line, used;
};

struct cparse {
	const char *name;
	struct cline lines[CT_MAX_LINES];
	int nlines;
	char *text;			/* owned copy, tokens point into it */
	const struct elf_image *img;
	struct dwinfo *dw;
	struct contract *ct;
	const char *sname[4];		/* struct names: pmap, page, chunk, entry */
	const char *lockname;
	char *err;
	size_t errlen;
};

/* The keys a descriptor may use: key, arguments, required. */
static const struct ckey {
	const char *key, *args;
	int min, max, required, repeat;
} ckeys[] = {
	{ "contract", "VERSION", 1, 1, 1, 0 },
	{ "struct.pmap", "STRUCT", 1, 1, 1, 0 },
	{ "struct.page", "STRUCT", 1, 1, 1, 0 },
	{ "struct.chunk", "STRUCT", 1, 1, 1, 0 },
	{ "struct.entry", "STRUCT", 1, 1, 1, 0 },
	{ "struct.lock", "STRUCT", 1, 1, 0, 0 },
	{ "pmap.cr3", "MEMBER", 1, 1, 1, 0 },
	{ "pmap.chunks", "MEMBER", 1, 1, 1, 0 },
	{ "pmap.resident", "MEMBER", 1, 1, 0, 0 },
	{ "pmap.wired", "MEMBER", 1, 1, 0, 0 },
	{ "pmap.link", "MEMBER tailq|list", 2, 2, 1, 0 },
	{ "pmap.kernel", "SYMBOL", 1, 1, 1, 0 },
	{ "pmap.all", "SYMBOL", 1, 1, 1, 0 },
	{ "page.array", "SYMBOL", 1, 1, 1, 0 },
	{ "page.count", "SYMBOL", 1, 1, 1, 0 },
	{ "page.pv_list", "MEMBER", 1, 1, 1, 0 },
	{ "page.pv_count", "MEMBER", 1, 1, 0, 0 },
	{ "page.wire_count", "MEMBER", 1, 1, 0, 0 },
	{ "page.aflags", "MEMBER referenced=BIT modified=BIT", 3, 3, 0, 0 },
	{ "page.role", "MEMBER ROLE=VALUE...", 2, CT_MAX_ARGS, 0, 0 },
	{ "page.free_count", "SYMBOL", 1, 1, 0, 0 },
	{ "entry.va", "MEMBER", 1, 1, 1, 0 },
	{ "entry.link", "MEMBER tailq|list", 2, 2, 1, 0 },
	{ "chunk.owner", "MEMBER", 1, 1, 1, 0 },
	{ "chunk.map", "MEMBER free=1|free=0", 2, 2, 1, 0 },
	{ "chunk.entries", "MEMBER", 1, 1, 1, 0 },
	{ "chunk.link", "MEMBER tailq|list", 2, 2, 1, 0 },
	{ "chunk.order", "free-first|any", 1, 1, 0, 0 },
	{ "chunk.global", "MEMBER tailq|list SYMBOL", 3, 3, 0, 0 },
	{ "chunk.spare", "SYMBOL", 1, 1, 0, 0 },
	{ "count.entries", "SYMBOL", 1, 1, 0, 0 },
	{ "kva.block", "BASE-SYMBOL SLOTS-SYMBOL", 2, 2, 1, 0 },
	{ "kva.free", "ptelist|index SYMBOL", 2, 2, 0, 0 },
	{ "reclaim.function", "FUNCTION", 1, 1, 0, 0 },
	{ "reclaim.kernel", "yes|no", 1, 1, 0, 0 },
	{ "lock.acquire", "FUNCTION", 1, 1, 0, 0 },
	{ "lock.release", "FUNCTION", 1, 1, 0, 0 },
	{ "lock.trylock", "FUNCTION", 1, 1, 0, 0 },
	{ "lock.name", "MEMBER", 1, 1, 0, 0 },
	{ "lock.recursable", "MEMBER BIT", 2, 2, 0, 0 },
	{ "enter.returns", "kern|void", 1, 1, 0, 0 },
	{ "counter", "NAME SYMBOL[.MEMBER]", 2, 2, 0, 1 },
	{ "feature", "NAME", 1, 1, 0, 1 },
};
#define NCKEYS	(sizeof(ckeys) / sizeof(ckeys[0]))

/*
 * The features a descriptor may declare and a scenario may require: the
 * reference policies that some fixtures test beyond pmap(9) behaviour.
 */
static const struct cfeature {
	const char *name, *meaning;
} cfeatures[] = {
	{ "shortage-returns", "pmap_enter returns KERN_RESOURCE_SHORTAGE when no pv entry can be had" },
	{ "reclaim-oldest-first", "reclaim empties the oldest chunk of another pmap first (a global LRU)" },
	{ "smp", "the guest runs on several CPUs (guest_info.gi_maxcpu) and shoots TLB entries down by IPI" },
	{ "kva-ptelist", "the reference ptelist KVA policy: free slots threaded through their PTEs, lowest first" },
	{ "kva-nofree", "the reference nofree KVA policy: slots never freed, empty chunks parked" },
	{ "kva-dynamic", "the reference dynamic KVA policy: chunk pages from a kernel map with its own lock" },
};
#define NCFEATURES	(sizeof(cfeatures) / sizeof(cfeatures[0]))

static const struct ckey *find_key(const char *k);

static const char *const role_names[CT_ROLE_COUNT] = {
	"reserved", "free", "managed", "ptp", "pdir", "pvchunk", "kmem",
};

static const char *const counter_names[CT_CNT_COUNT] = {
	"chunks", "chunk-allocs", "chunk-frees", "reclaimed", "pages-held", "pages-peak", "kva-inuse", "kva-peak",
	"kva-used-ever",
};

int contract_feature_known(const char *name, const char **near)
{
	const char *cands[NCKEYS + NCFEATURES];
	size_t n = 0;

	*near = NULL;
	if (strchr(name, '.') ? find_key(name) != NULL : 0)
		return 1;
	for (size_t i = 0; i < NCFEATURES; i++) {
		if (!strcmp(cfeatures[i].name, name))
			return 1;
		cands[n++] = cfeatures[i].name;
	}
	for (size_t i = 0; i < NCKEYS; i++)
		if (strchr(ckeys[i].key, '.'))
			cands[n++] = ckeys[i].key;
	*near = nearest_word(name, cands, n);
	return 0;
}

const char *contract_feature(int i, const char **meaning)
{
	if (i < 0 || (size_t)i >= NCFEATURES)
		return NULL;
	if (meaning != NULL)
		*meaning = cfeatures[i].meaning;
	return cfeatures[i].name;
}

const char *contract_key(int i, const char **args, int *required)
{
	if (i < 0 || (size_t)i >= NCKEYS)
		return NULL;
	if (args != NULL)
		*args = ckeys[i].args;
	if (required != NULL)
		*required = ckeys[i].required;
	return ckeys[i].key;
}

const char *contract_counter_name(enum ct_counter k)
{
	return k < CT_CNT_COUNT ? counter_names[k] : "?";
}

/* An error at line l, column col (1-based), formatted into p->err; returns -1. */
static int cerr(struct cparse *p, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int cerr(struct cparse *p, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d:%d: error: %s", p->name, line, col, msg);
	return -1;
}

static const struct ckey *find_key(const char *k)
{
	for (size_t i = 0; i < NCKEYS; i++)
		if (!strcmp(ckeys[i].key, k))
			return &ckeys[i];
	return NULL;
}

/* Split the text into lines of tokens; check each key and its argument count. */
static int tokenize(struct cparse *p, size_t len)
{
	char *s = p->text;
	int line = 1;

	while ((size_t)(s - p->text) < len) {
		char *eol = memchr(s, '\n', len - (size_t)(s - p->text));
		char *end = eol ? eol : p->text + len, *hash = memchr(s, '#', (size_t)(end - s));
		struct cline *cl = &p->lines[p->nlines];
		const struct ckey *k;

		*end = '\0';
		if (hash != NULL)
			*hash = '\0';
		memset(cl, 0, sizeof(*cl));
		for (char *t = s; t < end; t++)
			if ((!isprint((unsigned char)*t) && *t != '\t' && *t != '\0') || (*t == '\0' && t < (hash ? hash : end)))
				return cerr(p, line, (int)(t - s) + 1, "a control or binary byte (0x%02x)", (unsigned char)*t);
		for (char *t = s; *t;) {
			if (isspace((unsigned char)*t)) {
				*t++ = '\0';
				continue;
			}
			if (cl->ntok == CT_MAX_ARGS + 1)
				return cerr(p, line, (int)(t - s) + 1, "too many arguments (at most %d)", CT_MAX_ARGS);
			cl->col[cl->ntok] = (int)(t - s) + 1;
			cl->tok[cl->ntok++] = t;
			while (*t && !isspace((unsigned char)*t))
				t++;
		}
		cl->line = line;
		if (cl->ntok > 0) {
			if ((k = find_key(cl->tok[0])) == NULL) {
				const char *cands[NCKEYS], *near;

				for (size_t i = 0; i < NCKEYS; i++)
					cands[i] = ckeys[i].key;
				near = nearest_word(cl->tok[0], cands, NCKEYS);
				return near ? cerr(p, line, cl->col[0], "unknown key '%s'; did you mean '%s'?", cl->tok[0], near)
					    : cerr(p, line, cl->col[0], "unknown key '%s'", cl->tok[0]);
			}
			if (cl->ntok - 1 < k->min || cl->ntok - 1 > k->max)
				return cerr(p, line, cl->col[0], "usage: %s %s", k->key, k->args);
			for (int i = 0; i < p->nlines && !k->repeat; i++)
				if (!strcmp(p->lines[i].tok[0], k->key))
					return cerr(p, line, cl->col[0], "%s is declared twice (first at line %d)", k->key,
					    p->lines[i].line);
			if (++p->nlines == CT_MAX_LINES)
				return cerr(p, line, 1, "too many lines (at most %d)", CT_MAX_LINES - 1);
		}
		s = end + 1;
		line++;
	}
	for (size_t i = 0; i < NCKEYS; i++) {
		int found = 0;

		for (int l = 0; l < p->nlines && !found; l++)
			found = !strcmp(p->lines[l].tok[0], ckeys[i].key);
		if (ckeys[i].required && !found)
			return cerr(p, line, 1, "missing required key '%s %s'", ckeys[i].key, ckeys[i].args);
	}
	return 0;
}

/* The line declaring key, or NULL. */
static struct cline *get(struct cparse *p, const char *key)
{
	for (int i = 0; i < p->nlines; i++)
		if (!strcmp(p->lines[i].tok[0], key))
			return &p->lines[i];
	return NULL;
}

/* The address of symbol argument a of line cl. */
static int sym(struct cparse *p, struct cline *cl, int a, uint32_t *addr)
{
	const struct elf_symbol *s = elf_find(p->img, cl->tok[a]);

	if (s == NULL)
		return cerr(p, cl->line, cl->col[a], "the guest has no symbol '%s'", cl->tok[a]);
	*addr = s->addr;
	return 0;
}

/* A function argument: it must exist as a function symbol; copied into out. */
static int func(struct cparse *p, struct cline *cl, int a, char *out)
{
	const struct elf_symbol *s = elf_find(p->img, cl->tok[a]);

	if (s == NULL || !s->is_func)
		return cerr(p, cl->line, cl->col[a], "the guest has no function '%s'", cl->tok[a]);
	snprintf(out, CT_NAME_MAX, "%s", cl->tok[a]);
	return 0;
}

/* A scalar member (1, 2 or 4 bytes, within one aligned word) at argument a of line cl. */
static int scalar(struct cparse *p, struct cline *cl, int a, const char *sname, struct ct_scalar *out)
{
	struct dw_field f;
	char why[256];

	if (dw_member(p->dw, sname, cl->tok[a], &f, why, sizeof(why)) < 0)
		return cerr(p, cl->line, cl->col[a], "%s", why);
	if ((f.size != 1 && f.size != 2 && f.size != 4) || (f.off & 3) + f.size > 4 || (f.off & (f.size - 1)))
		return cerr(p, cl->line, cl->col[a], "struct %s member %s is %u bytes at offset %u; the rig reads "
		    "1, 2 or 4 bytes, naturally aligned", sname, cl->tok[a], f.size, f.off);
	*out = (struct ct_scalar){ f.off, (uint8_t)f.size };
	return 0;
}

/* Optional scalar key: 0 absent, 1 resolved, -1 error. */
static int opt_scalar(struct cparse *p, const char *key, const char *sname, struct ct_scalar *out)
{
	struct cline *cl = get(p, key);

	if (cl == NULL)
		return 0;
	return scalar(p, cl, 1, sname, out) < 0 ? -1 : 1;
}

/* Member argument a of line cl, in struct sname; size must be 4 unless any_size. */
static int member(struct cparse *p, struct cline *cl, int a, const char *sname, int any_size, struct dw_field *f)
{
	char why[256];

	if (dw_member(p->dw, sname, cl->tok[a], f, why, sizeof(why)) < 0)
		return cerr(p, cl->line, cl->col[a], "%s", why);
	if (!any_size && f->size != 4)
		return cerr(p, cl->line, cl->col[a], "struct %s member %s is %u bytes; the rig reads a 32-bit word",
		    sname, cl->tok[a], f->size);
	return 0;
}

/* A list link "MEMBER tailq|list" at arguments a, a+1. */
static int link_of(struct cparse *p, struct cline *cl, int a, const char *sname, struct ct_link *l)
{
	struct dw_field f;

	if (member(p, cl, a, sname, 1, &f) < 0)
		return -1;
	if (!strcmp(cl->tok[a + 1], "tailq"))
		l->kind = CT_LINK_TAILQ;
	else if (!strcmp(cl->tok[a + 1], "list"))
		l->kind = CT_LINK_LIST;
	else
		return cerr(p, cl->line, cl->col[a + 1], "unknown list kind '%s' (tailq or list)", cl->tok[a + 1]);
	if (f.size != 8)
		return cerr(p, cl->line, cl->col[a], "%s.%s is %u bytes, not a list link (next, prev)", sname,
		    cl->tok[a], f.size);
	l->off = f.off;
	return 0;
}

/* A number argument. */
static int num(struct cparse *p, struct cline *cl, int a, const char *s, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, &v) < 0 || v > UINT32_MAX)
		return cerr(p, cl->line, cl->col[a], "'%s' is not a 32-bit number", s);
	*out = (uint32_t)v;
	return 0;
}

/* Copy argument a of key's line (if declared) into a name buffer. */
static void name_of(struct cparse *p, const char *key, int a, char *out)
{
	struct cline *cl = get(p, key);

	if (cl != NULL && a < cl->ntok)
		snprintf(out, CT_NAME_MAX, "%s", cl->tok[a]);
}

/* The names messages use (struct ct_names). */
static void resolve_names(struct cparse *p)
{
	struct ct_names *n = &p->ct->name;

	name_of(p, "struct.pmap", 1, n->pmap);
	name_of(p, "struct.page", 1, n->page);
	name_of(p, "struct.chunk", 1, n->chunk);
	name_of(p, "struct.entry", 1, n->entry);
	name_of(p, "pmap.all", 1, n->all);
	name_of(p, "page.pv_list", 1, n->pv_list);
	name_of(p, "page.pv_count", 1, n->pv_count);
	name_of(p, "page.wire_count", 1, n->wire_count);
	name_of(p, "page.aflags", 1, n->aflags);
	name_of(p, "page.role", 1, n->role);
	name_of(p, "page.free_count", 1, n->free_count);
	name_of(p, "entry.va", 1, n->pv_va);
	name_of(p, "entry.link", 1, n->pv_link);
	name_of(p, "chunk.owner", 1, n->owner);
	name_of(p, "chunk.map", 1, n->map);
	name_of(p, "chunk.entries", 1, n->entries);
	name_of(p, "chunk.link", 1, n->link);
	name_of(p, "chunk.global", 1, n->global);
	name_of(p, "chunk.global", 3, n->global_head);
	name_of(p, "chunk.spare", 1, n->spare);
	name_of(p, "count.entries", 1, n->entry_count);
	name_of(p, "kva.free", 2, n->kva_head);
}

/* The four structures, their sizes, and the lock struct's name member. */
static int resolve_structs(struct cparse *p)
{
	static const char *const keys[4] = { "struct.pmap", "struct.page", "struct.chunk", "struct.entry" };
	uint32_t *sizes[4] = { &p->ct->pmap_size, &p->ct->page_size, &p->ct->chunk_size, &p->ct->entry_size };

	for (int i = 0; i < 4; i++) {
		struct cline *cl = get(p, keys[i]);

		p->sname[i] = cl->tok[1];
		if (dw_struct_size(p->dw, cl->tok[1], sizes[i]) < 0 || *sizes[i] == 0)
			return cerr(p, cl->line, cl->col[1], "the guest's DWARF has no struct %s", cl->tok[1]);
	}
	return 0;
}

static int resolve_pmap(struct cparse *p)
{
	struct contract *ct = p->ct;
	const char *s = p->sname[0];
	struct dw_field f;
	int r, w;

	if (member(p, get(p, "pmap.cr3"), 1, s, 0, &f) < 0)
		return -1;
	ct->pm_dirpa = f.off;
	if (member(p, get(p, "pmap.chunks"), 1, s, 1, &f) < 0)
		return -1;
	ct->pm_chunks = f.off;
	if ((r = opt_scalar(p, "pmap.resident", s, &ct->pm_resident)) < 0 ||
	    (w = opt_scalar(p, "pmap.wired", s, &ct->pm_wired)) < 0)
		return -1;
	if (r != w)
		return cerr(p, get(p, r ? "pmap.resident" : "pmap.wired")->line, 1,
		    "pmap.resident and pmap.wired are declared together (the STATS rule needs both)");
	ct->has_stats = r;
	if (link_of(p, get(p, "pmap.link"), 1, s, &ct->pm_link) < 0 || sym(p, get(p, "pmap.kernel"), 1, &ct->kernel_pmap) < 0 ||
	    sym(p, get(p, "pmap.all"), 1, &ct->allpmaps) < 0)
		return -1;
	return 0;
}

/* page.aflags MEMBER referenced=BIT modified=BIT */
static int resolve_aflags(struct cparse *p, struct cline *cl)
{
	struct contract *ct = p->ct;

	for (int a = 2; a < cl->ntok; a++) {
		char *eq = strchr(cl->tok[a], '=');
		uint32_t *dst = NULL;

		if (eq != NULL && !strncmp(cl->tok[a], "referenced=", 11))
			dst = &ct->aflag_ref;
		else if (eq != NULL && !strncmp(cl->tok[a], "modified=", 9))
			dst = &ct->aflag_mod;
		if (dst == NULL)
			return cerr(p, cl->line, cl->col[a], "expected referenced=BIT or modified=BIT, not '%s'", cl->tok[a]);
		if (num(p, cl, a, eq + 1, dst) < 0)
			return -1;
	}
	if (ct->aflag_ref == 0 || ct->aflag_mod == 0 || (ct->aflag_ref & ct->aflag_mod))
		return cerr(p, cl->line, cl->col[2], "page.aflags needs two distinct non-zero bits, referenced= and modified=");
	return 0;
}

/* page.role MEMBER ROLE=VALUE... */
static int resolve_roles(struct cparse *p, struct cline *cl)
{
	struct contract *ct = p->ct;

	for (int a = 2; a < cl->ntok; a++) {
		char *eq = strchr(cl->tok[a], '=');
		int r = -1;

		for (int k = 0; eq != NULL && k < CT_ROLE_COUNT && r < 0; k++)
			if ((size_t)(eq - cl->tok[a]) == strlen(role_names[k]) && !strncmp(cl->tok[a], role_names[k], eq - cl->tok[a]))
				r = k;
		if (r < 0)
			return cerr(p, cl->line, cl->col[a], "expected ROLE=VALUE with ROLE one of reserved, free, managed, "
			    "ptp, pdir, pvchunk, kmem; not '%s'", cl->tok[a]);
		if (num(p, cl, a, eq + 1, &ct->role_val[r]) < 0)
			return -1;
		ct->roles_declared |= 1u << r;
	}
	if (!(ct->roles_declared & (1u << CT_ROLE_FREE)))
		return cerr(p, cl->line, cl->col[1], "page.role must at least name the free role (free=VALUE)");
	return 0;
}

static int resolve_page(struct cparse *p)
{
	struct contract *ct = p->ct;
	const char *s = p->sname[1];
	struct cline *cl;
	struct dw_field f;
	int rc;

	if (sym(p, get(p, "page.array"), 1, &ct->page_array_ptr) < 0 ||
	    sym(p, get(p, "page.count"), 1, &ct->page_count_ptr) < 0 ||
	    member(p, get(p, "page.pv_list"), 1, s, 1, &f) < 0)
		return -1;
	ct->pg_pv_list = f.off;
	if ((rc = opt_scalar(p, "page.pv_count", s, &ct->pg_pv_count)) < 0)
		return -1;
	ct->has_pv_count = rc;
	if ((rc = opt_scalar(p, "page.wire_count", s, &ct->pg_wire_count)) < 0)
		return -1;
	ct->has_wire_count = rc;
	if ((cl = get(p, "page.aflags")) != NULL) {
		if (scalar(p, cl, 1, s, &ct->pg_aflags) < 0 || resolve_aflags(p, cl) < 0)
			return -1;
		ct->has_aflags = 1;
	}
	if ((cl = get(p, "page.role")) != NULL) {
		if (scalar(p, cl, 1, s, &ct->pg_role) < 0 || resolve_roles(p, cl) < 0)
			return -1;
		ct->has_role = 1;
	}
	if (ct->page_size % 4 != 0)
		return cerr(p, get(p, "struct.page")->line, 1, "struct %s is %u bytes, not a multiple of 4", s,
		    ct->page_size);
	if ((cl = get(p, "page.free_count")) != NULL && sym(p, cl, 1, &ct->free_count) < 0)
		return -1;
	return 0;
}

static int resolve_entry_chunk(struct cparse *p)
{
	struct contract *ct = p->ct;
	const char *e = p->sname[3], *c = p->sname[2];
	struct cline *cl;
	struct dw_field f;

	if (member(p, get(p, "entry.va"), 1, e, 0, &f) < 0)
		return -1;
	ct->pv_va = f.off;
	if (link_of(p, get(p, "entry.link"), 1, e, &ct->pv_link) < 0)
		return -1;
	if (member(p, get(p, "chunk.owner"), 1, c, 0, &f) < 0)
		return -1;
	ct->pc_owner = f.off;
	cl = get(p, "chunk.map");
	if (member(p, cl, 1, c, 1, &f) < 0)
		return -1;
	if (f.count == 0 || f.elem_size != 4)
		return cerr(p, cl->line, cl->col[1], "chunk.map must be an array of 32-bit words");
	ct->pc_map = f.off;
	ct->npcm = f.count;
	if (strcmp(cl->tok[2], "free=1") && strcmp(cl->tok[2], "free=0"))
		return cerr(p, cl->line, cl->col[2], "bitmap polarity is free=1 (a set bit is a free entry) or free=0");
	ct->map_set_is_free = cl->tok[2][5] == '1';
	cl = get(p, "chunk.entries");
	if (member(p, cl, 1, c, 1, &f) < 0)
		return -1;
	if (f.count == 0 || f.elem_size != ct->entry_size)
		return cerr(p, cl->line, cl->col[1], "chunk.entries must be an array of struct %s", e);
	ct->pc_entries = f.off;
	ct->npcpv = f.count;
	if (ct->npcm > 32)
		return cerr(p, get(p, "chunk.map")->line, 1, "a bitmap of %u words: more bits than a page holds entries",
		    ct->npcm);
	if (ct->npcpv > ct->npcm * 32)
		return cerr(p, cl->line, cl->col[1], "%u entries but the bitmap has only %u bits", ct->npcpv, ct->npcm * 32);
	if (ct->chunk_size != 4096)
		return cerr(p, get(p, "struct.chunk")->line, 1, "struct %s is %u bytes; a pv chunk is one 4096-byte page", c,
		    ct->chunk_size);
	if (link_of(p, get(p, "chunk.link"), 1, c, &ct->pc_link) < 0)
		return -1;
	if ((cl = get(p, "chunk.order")) != NULL) {
		if (strcmp(cl->tok[1], "free-first") && strcmp(cl->tok[1], "any"))
			return cerr(p, cl->line, cl->col[1], "chunk.order is free-first or any");
		ct->order_free_first = !strcmp(cl->tok[1], "free-first");
	}
	if ((cl = get(p, "chunk.global")) != NULL) {
		if (link_of(p, cl, 1, c, &ct->pc_global) < 0 || sym(p, cl, 3, &ct->global_head) < 0)
			return -1;
		ct->has_global = 1;
	}
	if ((cl = get(p, "chunk.spare")) != NULL && sym(p, cl, 1, &ct->spare_head) < 0)
		return -1;
	if ((cl = get(p, "count.entries")) != NULL && sym(p, cl, 1, &ct->entry_count) < 0)
		return -1;
	return 0;
}

static int resolve_kva(struct cparse *p)
{
	struct contract *ct = p->ct;
	struct cline *cl = get(p, "kva.block"), *fl = get(p, "kva.free");

	if (cl != NULL && (sym(p, cl, 1, &ct->kva_base_ptr) < 0 || sym(p, cl, 2, &ct->kva_slots_ptr) < 0))
		return -1;
	if (fl == NULL)
		return 0;
	if (cl == NULL)
		return cerr(p, fl->line, 1, "kva.free needs kva.block (the block whose slots it tracks)");
	if (!strcmp(fl->tok[1], "ptelist"))
		ct->kva_kind = CT_KVA_PTELIST;
	else if (!strcmp(fl->tok[1], "index"))
		ct->kva_kind = CT_KVA_INDEX;
	else
		return cerr(p, fl->line, fl->col[1], "unknown free-slot kind '%s' (ptelist or index)", fl->tok[1]);
	return sym(p, fl, 2, &ct->kva_head);
}

/* A yes|no argument. */
static int yesno(struct cparse *p, struct cline *cl, int *out)
{
	if (strcmp(cl->tok[1], "yes") && strcmp(cl->tok[1], "no"))
		return cerr(p, cl->line, cl->col[1], "%s is yes or no", cl->tok[0]);
	*out = !strcmp(cl->tok[1], "yes");
	return 0;
}

/* counter NAME SYMBOL[.MEMBER] */
static int resolve_counter(struct cparse *p, struct cline *cl)
{
	char var[CT_NAME_MAX], why[256], *dot;
	struct dw_field f = { 0 };
	uint32_t addr;
	int k = -1;

	for (int i = 0; i < CT_CNT_COUNT && k < 0; i++)
		if (!strcmp(cl->tok[1], counter_names[i]))
			k = i;
	if (k < 0) {
		const char *near = nearest_word(cl->tok[1], counter_names, CT_CNT_COUNT);

		return cerr(p, cl->line, cl->col[1], "unknown counter '%s'%s%s%s", cl->tok[1], near ? "; did you mean '" : "",
		    near ? near : "", near ? "'?" : "");
	}
	if (p->ct->counter[k] != 0)
		return cerr(p, cl->line, cl->col[1], "counter %s is declared twice", cl->tok[1]);
	snprintf(var, sizeof(var), "%s", cl->tok[2]);
	if ((dot = strchr(var, '.')) != NULL)
		*dot = '\0';
	if (elf_find(p->img, var) == NULL)
		return cerr(p, cl->line, cl->col[2], "the guest has no symbol '%s'", var);
	addr = elf_find(p->img, var)->addr;
	if (dot != NULL && dw_var_member(p->dw, var, dot + 1, &f, why, sizeof(why)) < 0)
		return cerr(p, cl->line, cl->col[2], "%s", why);
	if (dot != NULL && f.size != 4)
		return cerr(p, cl->line, cl->col[2], "%s is %u bytes; a counter is a 32-bit word", cl->tok[2], f.size);
	p->ct->counter[k] = addr + f.off;
	return 0;
}

static int resolve_rest(struct cparse *p)
{
	struct contract *ct = p->ct;
	struct cline *cl;
	struct dw_field f;

	if ((cl = get(p, "reclaim.function")) != NULL && func(p, cl, 1, ct->reclaim_fn) < 0)
		return -1;
	if ((cl = get(p, "reclaim.kernel")) != NULL && yesno(p, cl, &ct->reclaim_kernel) < 0)
		return -1;
	if ((cl = get(p, "lock.acquire")) != NULL && func(p, cl, 1, ct->lock_acquire) < 0)
		return -1;
	if ((cl = get(p, "lock.release")) != NULL && func(p, cl, 1, ct->lock_release) < 0)
		return -1;
	if ((cl = get(p, "lock.trylock")) != NULL && func(p, cl, 1, ct->lock_trylock) < 0)
		return -1;
	if (!ct->lock_acquire[0] != !ct->lock_release[0] || (ct->lock_trylock[0] && !ct->lock_acquire[0])) {
		if ((cl = get(p, "lock.acquire")) == NULL && (cl = get(p, "lock.release")) == NULL)
			cl = get(p, "lock.trylock");
		return cerr(p, cl->line, 1, "lock.acquire and lock.release are declared together (lock.trylock needs them)");
	}
	if ((cl = get(p, "lock.name")) != NULL) {
		struct cline *sl = get(p, "struct.lock");

		if (sl == NULL)
			return cerr(p, cl->line, 1, "lock.name needs struct.lock");
		if (member(p, cl, 1, sl->tok[1], 0, &f) < 0)
			return -1;
		ct->lk_name = f.off;
		ct->has_lock_name = 1;
	}
	if ((cl = get(p, "lock.recursable")) != NULL) {
		struct cline *sl = get(p, "struct.lock");

		if (sl == NULL)
			return cerr(p, cl->line, 1, "lock.recursable needs struct.lock");
		if (scalar(p, cl, 1, sl->tok[1], &ct->lk_flags) < 0 || num(p, cl, 2, cl->tok[2], &ct->lk_recurse_bit) < 0)
			return -1;
		ct->has_lock_recurse = 1;
	}
	ct->enter_returns = 1;
	if ((cl = get(p, "enter.returns")) != NULL) {
		if (strcmp(cl->tok[1], "kern") && strcmp(cl->tok[1], "void"))
			return cerr(p, cl->line, cl->col[1], "enter.returns is kern (KERN_* codes) or void");
		ct->enter_returns = !strcmp(cl->tok[1], "kern");
	}
	for (int i = 0; i < p->nlines; i++) {
		cl = &p->lines[i];
		if (!strcmp(cl->tok[0], "counter") && resolve_counter(p, cl) < 0)
			return -1;
		if (!strcmp(cl->tok[0], "feature")) {
			const char *near = NULL;

			if (strchr(cl->tok[1], '.') || !contract_feature_known(cl->tok[1], &near))
				return near ? cerr(p, cl->line, cl->col[1], "unknown feature '%s'; did you mean '%s'?",
				    cl->tok[1], near) : cerr(p, cl->line, cl->col[1], "unknown feature '%s' "
				    "(docs/guest-contract.md lists the features)", cl->tok[1]);
			if (ct->nfeatures == CT_MAX_FEATURES)
				return cerr(p, cl->line, cl->col[1], "too many features (at most %d)", CT_MAX_FEATURES);
			snprintf(ct->features[ct->nfeatures++], sizeof(ct->features[0]), "%s", cl->tok[1]);
		}
	}
	return 0;
}

int contract_parse(struct contract *ct, const char *name, const char *text, size_t len, const char *path,
    const struct elf_image *img, char *err, size_t errlen)
{
	struct cparse *p = calloc(1, sizeof(*p));
	char why[256];
	int rc = -1;

	memset(ct, 0, sizeof(*ct));
	if (p == NULL || (p->text = malloc(len + 1)) == NULL) {
		free(p);
		return errorf(err, errlen, "out of memory");
	}
	memcpy(p->text, text, len);
	p->text[len] = '\0';
	*p = (struct cparse){ .name = name, .text = p->text, .img = img, .ct = ct, .err = err, .errlen = errlen };
	if (tokenize(p, len) < 0)
		goto out;
	if (strcmp(get(p, "contract")->tok[1], "1")) {
		cerr(p, get(p, "contract")->line, get(p, "contract")->col[1], "contract version %s; this rig reads version %d",
		    get(p, "contract")->tok[1], CONTRACT_VERSION);
		goto out;
	}
	if ((p->dw = dw_open(path, why, sizeof(why))) == NULL) {
		errorf(err, errlen, "%s: %s", name, why);
		goto out;
	}
	resolve_names(p);
	if (resolve_structs(p) == 0 && resolve_pmap(p) == 0 && resolve_page(p) == 0 && resolve_entry_chunk(p) == 0 &&
	    resolve_kva(p) == 0 && resolve_rest(p) == 0)
		rc = 0;
out:
	for (int i = 0; rc == 0 && i < p->nlines; i++)
		ct->keys_declared |= 1ull << (find_key(p->lines[i].tok[0]) - ckeys);
	if (rc == 0)
		ct->dw = p->dw;
	else
		dw_close(p->dw);
	free(p->text);
	free(p);
	return rc;
}

void contract_free(struct contract *ct)
{
	dw_close(ct->dw);
	ct->dw = NULL;
}

int contract_has(const struct contract *ct, const char *feature)
{
	const struct ckey *k = strchr(feature, '.') ? find_key(feature) : NULL;

	if (k != NULL)	/* a descriptor key: declared or not */
		return (ct->keys_declared >> (k - ckeys)) & 1;
	for (int i = 0; i < ct->nfeatures; i++)
		if (!strcmp(ct->features[i], feature))
			return 1;
	return 0;
}

/* The bytes of section name in the ELF at path (malloc'd), or NULL. */
static char *read_section(const char *path, const char *name, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY);
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	char *out = NULL;

	if (fd < 0) {
		errorf(err, errlen, "%s: cannot open", path);
		return NULL;
	}
	elf_version(EV_CURRENT);
	if ((e = elf_begin(fd, ELF_C_READ, NULL)) == NULL || elf_getshdrstrndx(e, &shstrndx) != 0) {
		errorf(err, errlen, "%s: not an ELF file: %s", path, elf_errmsg(-1));
		goto done;
	}
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		const char *sn;
		Elf_Data *d;

		if (gelf_getshdr(scn, &sh) == NULL || (sn = elf_strptr(e, shstrndx, sh.sh_name)) == NULL || strcmp(sn, name))
			continue;
		if ((d = elf_getdata(scn, NULL)) == NULL || (out = malloc(d->d_size + 1)) == NULL)
			break;
		memcpy(out, d->d_buf, d->d_size);
		*len = d->d_size;
		goto done;
	}
	errorf(err, errlen, "%s: no %s section: the guest ships no descriptor (docs/guest-contract.md)", path, name);
done:
	if (e != NULL)
		elf_end(e);
	close(fd);
	return out;
}

int contract_load(struct contract *ct, const char *path, const struct elf_image *img, char *err, size_t errlen)
{
	size_t len = 0;
	char *text = read_section(path, CONTRACT_SECTION, &len, err, errlen), name[512];
	const char *base = strrchr(path, '/');
	int rc;

	if (text == NULL)
		return -1;
	snprintf(name, sizeof(name), "%s(%s)", base ? base + 1 : path, CONTRACT_SECTION);
	rc = contract_parse(ct, name, text, len, path, img, err, errlen);
	free(text);
	return rc;
}

_Static_assert(NCKEYS <= 64, "keys_declared has a bit per key");
