/*
 * sites.c - owns the code hooks on chosen guest instructions and the table
 * that maps an instruction address to the host functions waiting there.
 * See sites.h.
 *
 * Unicorn's code-hook dispatcher walks the list of every code hook at each
 * hooked instruction (2.1.1, measured here: about 2.5 ns per installed hook
 * per hit, and the lazily computed EFLAGS are materialised before every
 * hooked instruction), so sites are kept few: CR loads, INVLPG, string
 * stores, the lock functions, and instructions the watcher cannot
 * attribute otherwise (watch.c).
 */
#include "sites.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#define SITES_PER_ADDR 8	/* sites run at one address, at most */

/* The hook: run the sites at addr. */
static void dispatch(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct sites *s = user;
	uint32_t a = (uint32_t)address;
	struct site at[SITES_PER_ADDR];
	int n = 0;

	(void)uc, (void)size;
	if (a < s->lo || a >= s->hi)
		return;
	/* A site may add or delete sites: run a copy of the chain. */
	for (int i = s->first[a - s->lo]; i != 0 && n < SITES_PER_ADDR; i = s->v[i - 1].next)
		at[n++] = s->v[i - 1];
	for (int k = 0; k < n; k++) {
		s->hits++;
		at[k].fn(at[k].arg, a);
	}
}

/* Several engines: every instruction of the text, its gate and its sites. */
static void whole(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct sites *s = user;
	uint32_t a = (uint32_t)address;

	if (s->gate != NULL && s->gate(s->gate_arg, a, GATE_BEFORE))
		return;
	if (a >= s->lo && a < s->hi && s->first[a - s->lo] != 0)
		dispatch(uc, address, size, user);
	if (s->gate != NULL)
		s->gate(s->gate_arg, a, GATE_AFTER);
}

void sites_gate(struct sites *s, gate_fn fn, void *arg)
{
	s->gate = fn;
	s->gate_arg = arg;
}

int sites_init(struct sites *s, uc_engine **ucs, int n, const struct elf_image *img)
{
	memset(s, 0, sizeof(*s));
	s->uc = ucs[0];
	s->nuc = n;
	memcpy(s->ucs, ucs, n * sizeof(ucs[0]));
	s->lo = UINT32_MAX;
	for (int i = 0; i < img->nseg; i++)
		if (img->seg[i].flags & PF_X) {
			if (img->seg[i].vaddr < s->lo)
				s->lo = img->seg[i].vaddr;
			if (img->seg[i].vaddr + img->seg[i].memsz > s->hi)
				s->hi = img->seg[i].vaddr + img->seg[i].memsz;
		}
	if (s->hi <= s->lo)
		return -1;
	s->first = calloc(s->hi - s->lo, sizeof(*s->first));
	s->hook = calloc(s->hi - s->lo, sizeof(*s->hook));
	if (s->first == NULL || s->hook == NULL)
		return -1;
	for (int i = 0; n > 1 && i < n; i++)
		if (uc_hook_add(ucs[i], &s->whole[i], UC_HOOK_CODE, (void *)whole, s, s->lo, s->hi - 1) != UC_ERR_OK)
			return -1;
	return 0;
}

void sites_free(struct sites *s)
{
	for (uint32_t a = s->lo; s->hook != NULL && a < s->hi; a++)
		if (s->hook[a - s->lo])
			uc_hook_del(s->uc, s->hook[a - s->lo]);
	for (int i = 0; s->nuc > 1 && i < s->nuc; i++)
		if (s->whole[i])
			uc_hook_del(s->ucs[i], s->whole[i]);
	free(s->first);
	free(s->hook);
	free(s->v);
	free(s->pend);
	memset(s, 0, sizeof(*s));
}

/* addr may have lost its last site: sites_apply looks at it. */
static void mark_pending(struct sites *s, uint32_t addr)
{
	uint32_t *v;

	s->pending = 1;
	if (s->npend == s->cappend) {
		v = realloc(s->pend, (s->cappend ? s->cappend * 2 : 64) * sizeof(*v));
		if (v == NULL) {
			s->npend = s->cappend + 1;	/* overflowed: look at all of the text */
			return;
		}
		s->pend = v;
		s->cappend = s->cappend ? s->cappend * 2 : 64;
	}
	if (s->npend < s->cappend)
		s->pend[s->npend++] = addr;
}

/* Hook or unhook addr to match its sites. 0 or -1. */
static int sync_addr(struct sites *s, uint32_t addr)
{
	uc_hook *h = &s->hook[addr - s->lo];
	int want = s->first[addr - s->lo] != 0;

	if (s->nuc > 1)
		return 0;	/* the hook over the whole text runs every site */
	if (want == (*h != 0) || (!want && s->keep))
		return 0;
	if (s->running && !want)
		return mark_pending(s, addr), 0;	/* unhooked between runs; a hook may come at once */
	if (want) {
		if (uc_hook_add(s->uc, h, UC_HOOK_CODE, (void *)dispatch, s, addr, addr) != UC_ERR_OK)
			return *h = 0, -1;
	} else {
		uc_hook_del(s->uc, *h);
		*h = 0;
	}
	/* Code translated before the change would not (or would still) call it. */
	return uc_ctl_remove_cache(s->uc, addr, (uint64_t)addr + 1) == UC_ERR_OK ? 0 : -1;
}

int sites_apply(struct sites *s)
{
	int rc = 0;

	if (!s->pending || s->running)
		return 0;
	s->pending = 0;
	if (s->npend > s->cappend) {
		for (uint32_t a = s->lo; a < s->hi; a++)
			if ((s->first[a - s->lo] != 0) != (s->hook[a - s->lo] != 0))
				rc |= sync_addr(s, a);
	} else
		for (int i = 0; i < s->npend; i++)
			rc |= sync_addr(s, s->pend[i]);
	s->npend = 0;
	return rc;
}

int sites_add(struct sites *s, uint32_t addr, site_fn fn, void *arg)
{
	struct site *v;

	if (addr < s->lo || addr >= s->hi)
		return -1;
	if (s->n == s->cap) {
		v = realloc(s->v, (s->cap ? s->cap * 2 : 64) * sizeof(*v));
		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = s->cap ? s->cap * 2 : 64;
	}
	s->v[s->n] = (struct site){ .addr = addr, .fn = fn, .arg = arg, .next = s->first[addr - s->lo] };
	s->first[addr - s->lo] = ++s->n;
	return sync_addr(s, addr);
}

/* Keep the sites keep() says yes to, relink the table, and fix the hooks. */
static void sites_filter(struct sites *s, int (*keep)(const struct site *, const struct site *),
    const struct site *what)
{
	int k = 0;

	/* Every address loses its chain first, the ones losing their last site too. */
	for (int i = 0; i < s->n; i++)
		s->first[s->v[i].addr - s->lo] = 0;
	for (int i = 0; i < s->n; i++)
		if (keep(&s->v[i], what))
			s->v[k++] = s->v[i];
		else
			mark_pending(s, s->v[i].addr);	/* its address may lose its hook */
	s->n = k;
	for (int i = 0; i < s->n; i++) {
		s->v[i].next = s->first[s->v[i].addr - s->lo];
		s->first[s->v[i].addr - s->lo] = i + 1;
	}
	sites_apply(s);
}

static int other_owner(const struct site *x, const struct site *what)
{
	return x->arg != what->arg;
}

static int other_site(const struct site *x, const struct site *what)
{
	return x->addr != what->addr || x->fn != what->fn || x->arg != what->arg;
}

void sites_remove(struct sites *s, void *arg)
{
	struct site what = { .arg = arg };

	sites_filter(s, other_owner, &what);
}

void sites_del(struct sites *s, uint32_t addr, site_fn fn, void *arg)
{
	struct site what = { .addr = addr, .fn = fn, .arg = arg };

	sites_filter(s, other_site, &what);
}
