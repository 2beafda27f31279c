/*
 * sites.c - owns the one code hook over the guest text and the table that
 * maps an instruction address to the host functions waiting there. See
 * sites.h.
 *
 * Why one hook: Unicorn's code-hook dispatcher walks the list of every code
 * hook at each hooked instruction (2.1.1, measured here: about 2.5 ns per
 * installed hook per hit; 300 one-address hooks cost 750 ns at each hit).
 * One hook over the text costs about 3 ns at every guest instruction
 * instead, and the lookup below is an array index.
 */
#include "sites.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#define SITES_PER_ADDR 8	/* sites run at one address, at most */

/* The hook: run the sites at addr, then what callbacks asked for. */
static void dispatch(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct sites *s = user;
	uint32_t a = (uint32_t)address;

	(void)size;
	if (s->after_fn != NULL && a != s->after_eip) {
		site_fn fn = s->after_fn;

		s->after_fn = NULL;
		fn(s->after_arg, a);
	}
	if (s->flush_pending) {
		s->flush_pending = 0;
		uc_ctl_flush_tlb(uc);
	}
	if (a >= s->lo && a < s->hi && s->first[a - s->lo] != 0) {
		struct site at[SITES_PER_ADDR];
		int n = 0;

		/* A site may add or delete sites: run a copy of the chain. */
		for (int i = s->first[a - s->lo]; i != 0 && n < SITES_PER_ADDR; i = s->v[i - 1].next)
			at[n++] = s->v[i - 1];
		for (int k = 0; k < n; k++) {
			s->hits++;
			at[k].fn(at[k].arg, a);
		}
	}
	if (s->flush_pending) {	/* asked for by a site just now */
		s->flush_pending = 0;
		uc_ctl_flush_tlb(uc);
	}
	if (s->stop_pending) {
		s->stop_pending = 0;
		uc_emu_stop(uc);
	}
}

int sites_init(struct sites *s, uc_engine *uc, const struct elf_image *img)
{
	memset(s, 0, sizeof(*s));
	s->uc = uc;
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
	return s->first ? 0 : -1;
}

void sites_free(struct sites *s)
{
	if (s->installed)
		uc_hook_del(s->uc, s->hook);
	free(s->first);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int sites_install(struct sites *s)
{
	if (s->installed)
		return 0;
	if (uc_hook_add(s->uc, &s->hook, UC_HOOK_CODE, (void *)dispatch, s, s->lo, s->hi - 1) != UC_ERR_OK)
		return -1;
	s->installed = 1;
	/* Code translated before the hook existed would not call it. */
	return uc_ctl_remove_cache(s->uc, s->lo, s->hi) == UC_ERR_OK ? 0 : -1;
}

int sites_add(struct sites *s, uint32_t addr, site_fn fn, void *arg)
{
	struct site *v;

	if (addr < s->lo || addr >= s->hi || sites_install(s) < 0)
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
	return 0;
}

/* Keep the sites keep() says yes to, and relink the table. */
static void sites_filter(struct sites *s, int (*keep)(const struct site *, const struct site *),
    const struct site *what)
{
	int k = 0;

	for (int i = 0; i < s->n; i++)
		if (keep(&s->v[i], what))
			s->v[k++] = s->v[i];
	s->n = k;
	memset(s->first, 0, (s->hi - s->lo) * sizeof(*s->first));
	for (int i = 0; i < s->n; i++) {
		s->v[i].next = s->first[s->v[i].addr - s->lo];
		s->first[s->v[i].addr - s->lo] = i + 1;
	}
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

	if (s->after_arg == arg)
		s->after_fn = NULL;
	sites_filter(s, other_owner, &what);
}

void sites_del(struct sites *s, uint32_t addr, site_fn fn, void *arg)
{
	struct site what = { .addr = addr, .fn = fn, .arg = arg };

	sites_filter(s, other_site, &what);
}

void sites_after(struct sites *s, uint32_t eip, site_fn fn, void *arg)
{
	s->after_eip = eip;
	s->after_fn = fn;
	s->after_arg = arg;
}

void sites_request_stop(struct sites *s)
{
	s->stop_pending = 1;
}

void sites_request_flush(struct sites *s)
{
	s->flush_pending = 1;
}
