/*
 * invad.c - owns the accessed/modified rules, AD-DIRTY-LOST and AD-REF-LOST.
 *
 * The runner keeps, per physical page, what the model knows from the CPU's
 * own accesses (struct chk_ad): the page was read or written through a
 * managed mapping since it was allocated, and written since it was last
 * cleaned. The VM learns the same from the pmap only through PG_A/PG_M in
 * a live managed PTE of the page or the summary bits of its vm_page
 * (page.aflags in the descriptor: FreeBSD's PGA_REFERENCED/PGA_MODIFIED) (pmap_is_modified, pmap_is_referenced, vm_page_dirty): whatever
 * the model holds must be findable there, or the VM will take a written
 * page for clean and never write it back.
 *
 * Per step, only the pages whose PTEs or vm_page records the step wrote,
 * and the pages it touched, are looked at, through their pv lists; the full
 * check looks at every page, with the PTE bits its table scan found.
 */
#include <stdio.h>
#include <string.h>

#include "gview.h"
#include "invcheck.h"

/* The summary word of a vm_page (page.aflags), 0 when the guest keeps none. */
static uint32_t aflags_of(const struct checker *c, const uint8_t *m)
{
	return m != NULL && c->ct->has_aflags ? ct_get(m, c->ct->pg_aflags) : 0;
}

/* CHK_AD_* of a vm_page's summary bits. */
static uint8_t ad_of_aflags(const struct checker *c, uint32_t aflags)
{
	return (aflags & c->ct->aflag_ref ? CHK_AD_REF : 0) | (aflags & c->ct->aflag_mod ? CHK_AD_DIRTY : 0);
}

void checker_ad_touched(struct checker *c, uint32_t pg)
{
	if (c->ad.ntouched < (int)(sizeof(c->ad.touched) / sizeof(c->ad.touched[0])))
		c->ad.touched[c->ad.ntouched++] = pg;
}

/* The A/D bits the VM would find for page pg: PG_A/PG_M of the live managed PTEs its pv list
 * names, and its aflags, as CHK_AD_* (the per-step view). */
static uint8_t checker_ad_have(struct checker *c, uint32_t pg)
{
	const uint8_t *m = chk_page(c, pg);
	uint32_t e = m ? PG_PVFIRST(c, m) : 0;
	uint8_t have = ad_of_aflags(c, aflags_of(c, m));

	for (uint32_t n = 0; e != 0 && n <= c->entry_bound; n++) {
		const uint8_t *pv = chk_entry_ptr(c, e), *pc = chk_chunk_ptr(c, e & PG_FRAME);
		const uint8_t *pm = pc ? chk_pmap_ptr(c, PC_OWNER(c, pc)) : NULL;
		struct walk w;

		if (pv == NULL || pm == NULL)
			break;
		gv_walk(c->m, PM_CR3(c, pm), PV_VA(c, pv), &w);
		if (w.status == WALK_MAPPED && (w.pte & PG_MANAGED) && (w.pte >> PAGE_SHIFT) == pg)
			have |= chk_ad_of_pte(w.pte);
		e = PV_NEXT(c, pv);
	}
	return have;
}

/* Is the store e one into the aflags word of a vm_page record? */
static int is_aflags_store(const struct checker *c, const struct event *e)
{
	return c->ct->has_aflags && e->kind == EV_VMPAGE_WRITE && ct_in_word(c->ct->pg_aflags, chk_vmpage_field(e), 0) >= 0;
}

/*
 * The step's event that took `lost` away from page pg: the last PTE write
 * that retired the bit from a managed mapping of pg, else the last aflags
 * store that cleared it; NULL if the step wrote neither.
 */
static const struct event *ad_cause(struct checker *c, uint32_t pg, uint8_t lost)
{
	uint32_t bit = (lost & CHK_AD_DIRTY) ? PG_M : PG_A;
	uint32_t pga = (lost & CHK_AD_DIRTY) ? c->ct->aflag_mod : c->ct->aflag_ref;
	uint32_t had = PG_V | PG_MANAGED | bit;

	for (int i = c->nwrites - 1; i >= 0; i--) {
		const struct event *e = &c->writes[i];

		if (e->kind == EV_PTE_WRITE && (e->old & had) == had && (e->old >> PAGE_SHIFT) == pg &&
		    !((e->new & had) == had && (e->new >> PAGE_SHIFT) == pg))
			return e;
	}
	for (int i = c->nwrites - 1; i >= 0; i--) {
		const struct event *e = &c->writes[i];

		if (is_aflags_store(c, e) && e->va == pg &&
		    (ct_in_word(c->ct->pg_aflags, e->field, e->old) & pga) &&
		    !(ct_in_word(c->ct->pg_aflags, e->field, e->new) & pga))
			return e;
	}
	return NULL;
}

/* The rules for one page: the model's bits must be among those the VM can find. */
static int ad_check_page(struct checker *c, uint32_t pg, uint8_t have, struct violation *v)
{
	uint8_t lost = c->ad.want[pg] & ~have;
	uint32_t aflags = aflags_of(c, chk_page(c, pg));
	char how[256] = "";

	if ((lost & CHK_AD_DIRTY) && chk_off(c, INV_AD_DIRTY_LOST))
		lost &= (uint8_t)~CHK_AD_DIRTY;
	if ((lost & CHK_AD_REF) && chk_off(c, INV_AD_REF_LOST))
		lost &= (uint8_t)~CHK_AD_REF;
	if (lost == 0)
		return 0;
	lost = (lost & CHK_AD_DIRTY) ? CHK_AD_DIRTY : CHK_AD_REF;
	if (c->ad.describe != NULL)
		c->ad.describe(c->ad.ctx, pg, lost, how, sizeof(how));
	if (lost == CHK_AD_DIRTY)
		return vfail(v, "AD-DIRTY-LOST", "page 0x%08x%s%s is dirty in the model, but no live managed PTE of it "
		    "has PG_M and its vm_page's %s (0x%x) lack the modified bit (0x%x): the VM would take it for clean and "
		    "never write it back", pg << PAGE_SHIFT, how[0] ? " " : "", how, c->ct->name.aflags, aflags,
		    c->ct->aflag_mod);
	return vfail(v, "AD-REF-LOST", "page 0x%08x%s%s is referenced in the model, but no live managed PTE of it "
	    "has PG_A and its vm_page's %s (0x%x) lack the referenced bit (0x%x): the VM would take it for unused",
	    pg << PAGE_SHIFT, how[0] ? " " : "", how, c->ct->name.aflags, aflags, c->ct->aflag_ref);
}

/* A violation for page pg: the cause is the step's event that dropped the bit, with its callers. */
static int ad_blame(struct checker *c, uint32_t pg, struct violation *v)
{
	const struct event *cause = ad_cause(c, pg, v->id[3] == 'D' ? CHK_AD_DIRTY : CHK_AD_REF);

	if (cause != NULL) {
		v->cause = *cause;
		v->has_cause = 1;
		for (int i = 0; i < c->nstacks; i++)
			if (c->stacks[i].seq == cause->seq) {
				v->nstack = c->stacks[i].n;
				memcpy(v->stack, c->stacks[i].frames, sizeof(v->stack));
			}
	}
	return -1;
}

/* One candidate page of the per-step check. */
static int ad_step_page(struct checker *c, uint32_t pg, struct violation *v)
{
	if (pg >= c->npages || c->ad.want[pg] == 0 || ad_check_page(c, pg, checker_ad_have(c, pg), v) == 0)
		return 0;
	return ad_blame(c, pg, v);
}

/*
 * Without the page's summary bits (page.aflags) the rules cannot tell a
 * lost bit from one the guest keeps where the rig does not look: not
 * checked (rig doctor says so), never a false violation.
 */
int chk_ad_step(struct checker *c, struct violation *v)
{
	if (c->ad.want == NULL || !c->ct->has_aflags)
		return 0;
	for (int i = 0; i < c->nwrites; i++) {
		const struct event *e = &c->writes[i];

		if (e->kind != EV_PTE_WRITE)
			continue;
		if ((e->old & PG_V) && ad_step_page(c, e->old >> PAGE_SHIFT, v) < 0)
			return -1;
		if ((e->new & PG_V) && ad_step_page(c, e->new >> PAGE_SHIFT, v) < 0)
			return -1;
	}
	for (int i = 0; i < c->ndirty_pages; i++)
		if (ad_step_page(c, c->dirty_pages[i], v) < 0)
			return -1;
	for (int i = 0; i < c->ad.ntouched; i++)
		if (ad_step_page(c, c->ad.touched[i], v) < 0)
			return -1;
	return 0;
}

int chk_ad_full(struct checker *c, const uint8_t *ptebits, struct violation *v)
{
	if (c->ad.want == NULL || !c->ct->has_aflags)
		return 0;
	for (uint32_t pg = 0; pg < c->npages; pg++) {
		if (c->ad.want[pg] == 0)
			continue;
		if (ad_check_page(c, pg, ptebits[pg] | ad_of_aflags(c, aflags_of(c, chk_page(c, pg))), v) < 0)
			return ad_blame(c, pg, v);	/* the last step's writes, if one of them dropped it */
	}
	return 0;
}
