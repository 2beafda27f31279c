/*
 * watch.c - owns the watched set (which physical pages are directories and
 * page tables right now) and the hooks that turn guest paging changes into
 * events. See watch.h.
 *
 * Exact attribution: Unicorn syncs EIP before ordinary loads and stores, so
 * EIP read in the memory hook names the storing instruction; atomic and
 * string instructions do not sync it (xchg, lock cmpxchg: the value is the
 * last synced one). A code hook on each such instruction syncs EIP just
 * before it runs, which makes the memory hook exact for them too. Tests
 * prove it for mov, xchg, lock cmpxchg and rep stos.
 */
#include "watch.h"

#include <capstone/capstone.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../guest/mmu.h"

#define GPTR_PMAP(m, va) ((struct pmap *)machine_gptr((m), (va), sizeof(struct pmap)))

/* Capstone's 32-bit general registers as Unicorn's; 0 for anything else. */
static int uc_reg_of(unsigned r)
{
	switch (r) {
	case X86_REG_EAX: return UC_X86_REG_EAX;
	case X86_REG_EBX: return UC_X86_REG_EBX;
	case X86_REG_ECX: return UC_X86_REG_ECX;
	case X86_REG_EDX: return UC_X86_REG_EDX;
	case X86_REG_ESI: return UC_X86_REG_ESI;
	case X86_REG_EDI: return UC_X86_REG_EDI;
	case X86_REG_EBP: return UC_X86_REG_EBP;
	case X86_REG_ESP: return UC_X86_REG_ESP;
	default: return 0;
	}
}

static int has_mem_operand(const cs_x86 *x)
{
	for (int i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM)
			return 1;
	return 0;
}

/* Does this instruction store without Unicorn syncing EIP first? */
static int needs_sync(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	if (x->prefix[0] == X86_PREFIX_LOCK || x->prefix[0] == X86_PREFIX_REP)
		return 1;
	switch (in->id) {
	case X86_INS_XCHG: case X86_INS_CMPXCHG: case X86_INS_CMPXCHG8B: case X86_INS_XADD:
		return has_mem_operand(x);
	case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD:
	case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD:
		return 1;
	default:
		return 0;
	}
}

/* Classify one instruction; fills s and returns 1 if it needs a hook. */
static int classify(const cs_insn *in, struct watch_site *s)
{
	const cs_x86 *x = &in->detail->x86;

	memset(s, 0, sizeof(*s));
	s->addr = (uint32_t)in->address;
	if (in->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
	    (x->operands[0].reg == X86_REG_CR0 || x->operands[0].reg == X86_REG_CR3 ||
	     x->operands[0].reg == X86_REG_CR4)) {
		s->kind = SITE_CR;
		s->cr = x->operands[0].reg == X86_REG_CR0 ? 0 : x->operands[0].reg == X86_REG_CR3 ? 3 : 4;
		s->src = uc_reg_of(x->operands[1].reg);
		return 1;
	}
	if (in->id == X86_INS_INVLPG && x->op_count == 1 && x->operands[0].type == X86_OP_MEM) {
		s->kind = SITE_INVLPG;
		s->base = uc_reg_of(x->operands[0].mem.base);
		s->index = uc_reg_of(x->operands[0].mem.index);
		s->scale = (uint32_t)x->operands[0].mem.scale;
		s->disp = (uint32_t)(x->operands[0].mem.disp & 0xffffffff);
		return 1;
	}
	s->kind = SITE_SYNC;
	return needs_sync(in);
}

/* Append a site. */
static int add_site(struct watch *w, const struct watch_site *s)
{
	struct watch_site *v = realloc(w->sites, (w->nsites + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	w->sites = v;
	w->sites[w->nsites++] = *s;
	return 0;
}

/* Linear sweep over the guest's executable segments, as loaded in memory. */
static int scan(struct watch *w)
{
	const struct elf_image *img = &w->m->elf;
	csh cs;
	cs_insn *in;
	int rc = 0;

	if (cs_open(CS_ARCH_X86, CS_MODE_32, &cs) != CS_ERR_OK)
		return -1;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(cs);
	for (int i = 0; i < img->nseg && rc == 0; i++) {
		/* The code as it is in guest memory now (it may have been patched). */
		const uint8_t *code = machine_kva_ptr(w->m, img->seg[i].vaddr, img->seg[i].filesz);
		size_t len = code ? img->seg[i].filesz : 0;
		uint64_t addr = img->seg[i].vaddr;
		struct watch_site s;

		if (!(img->seg[i].flags & PF_X))
			continue;
		while (len > 0 && rc == 0) {
			if (!cs_disasm_iter(cs, &code, &len, &addr, in)) {
				code++, len--, addr++;	/* undecodable byte: skip it */
				continue;
			}
			if (classify(in, &s))
				rc = add_site(w, &s);
		}
	}
	cs_free(in, 1);
	cs_close(&cs);
	return rc;
}

static struct watch_site *find_site(struct watch *w, uint32_t addr)
{
	int lo = 0, hi = w->nsites - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (w->sites[mid].addr == addr)
			return &w->sites[mid];
		if (w->sites[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* Emit an event of kind at the current instruction. */
static void emit(struct watch *w, enum event_kind kind, uint32_t eip, uint32_t pa, uint32_t old,
    uint32_t new, uint32_t va, uint32_t pd)
{
	struct event e = { .kind = kind, .eip = eip, .pa = pa, .old = old, .new = new, .va = va, .pd = pd };

	events_emit(w->ev, &e);
}

/* Code hook on a scanned site, run just before the instruction. */
static void hook_site(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct watch *w = user;
	struct watch_site *s = find_site(w, (uint32_t)address);
	uint32_t ea;

	(void)uc, (void)size;
	if (s == NULL || s->kind == SITE_SYNC)
		return;		/* the hook itself has synced EIP */
	if (s->kind == SITE_CR) {
		int reg = s->cr == 0 ? UC_X86_REG_CR0 : s->cr == 3 ? UC_X86_REG_CR3 : UC_X86_REG_CR4;
		uint32_t v = machine_reg(w->m, s->src);

		emit(w, EV_CR_LOAD, s->addr, (uint32_t)s->cr, machine_reg(w->m, reg), v, 0,
		    s->cr == 3 ? v & PG_FRAME : machine_reg(w->m, UC_X86_REG_CR3) & PG_FRAME);
		if (s->cr == 3)
			w->cr3 = v;
		return;
	}
	ea = s->disp + (s->base ? machine_reg(w->m, s->base) : 0) +
	    (s->index ? machine_reg(w->m, s->index) * s->scale : 0);
	emit(w, EV_INVLPG, s->addr, 0, 0, 0, ea, machine_reg(w->m, UC_X86_REG_CR3) & PG_FRAME);
}

/* Start watching a page table referenced by a PDE at index pdx of directory pd. */
static void ref_pt(struct watch *w, uint32_t pde, uint32_t pdx, uint32_t pd)
{
	uint32_t pg = pde >> PAGE_SHIFT;

	if (!(pde & PG_V) || (pde & PG_PS) || pdx == PTDPTDI || pg >= w->npages || w->kind[pg] == WP_PD)
		return;
	w->kind[pg] = WP_PT;
	w->pdx_of[pg] = (uint16_t)pdx;
	w->pd_of[pg] = pdx >= KPTDI ? EV_KERNEL_SPACE : pd;
	w->refs[pg]++;
}

/* A PDE stopped pointing at a page table. */
static void unref_pt(struct watch *w, uint32_t pde, uint32_t pdx)
{
	uint32_t pg = pde >> PAGE_SHIFT;

	if (!(pde & PG_V) || (pde & PG_PS) || pdx == PTDPTDI || pg >= w->npages || w->kind[pg] != WP_PT)
		return;
	if (--w->refs[pg] == 0)
		w->kind[pg] = WP_NONE;
}

/* Watch the directory at physical pd and every page table it points to. */
static void add_pd(struct watch *w, uint32_t pd)
{
	uint32_t pg = pd >> PAGE_SHIFT;
	uint32_t *pde = phys_ptr(&w->m->pm, pd, PAGE_SIZE);

	if (pg >= w->npages || w->kind[pg] == WP_PD || pde == NULL || w->npds == WATCH_MAX_PDS)
		return;
	w->kind[pg] = WP_PD;
	w->pds[w->npds++] = pd;
	w->pd_of[pg] = pd;
	for (uint32_t i = 0; i < NPDEPG; i++)
		ref_pt(w, pde[i], i, pd);
}

/* Stop watching a directory that is no longer a live pmap's. */
static void drop_pd(struct watch *w, uint32_t pd)
{
	uint32_t *pde = phys_ptr(&w->m->pm, pd, PAGE_SIZE);

	for (uint32_t i = 0; pde != NULL && i < NPDEPG; i++)
		unref_pt(w, pde[i], i);
	w->kind[pd >> PAGE_SHIFT] = WP_NONE;
	for (int i = 0; i < w->npds; i++)
		if (w->pds[i] == pd) {
			w->pds[i] = w->pds[--w->npds];
			break;
		}
}

/* A chunk slot's PTE changed: its page is (or stops being) a chunk page. */
static void track_chunk_slot(struct watch *w, uint32_t va, uint32_t old, uint32_t new)
{
	uint32_t opg = old >> PAGE_SHIFT, npg = new >> PAGE_SHIFT;

	if ((old & PG_V) && opg < w->npages && w->kind[opg] == WP_CHUNK)
		w->kind[opg] = WP_NONE;
	if ((new & PG_V) && npg < w->npages && w->kind[npg] == WP_NONE) {
		w->kind[npg] = WP_CHUNK;
		w->pd_of[npg] = va;
	}
}

/* Watch the vm_page array (physically contiguous, as pmap_bootstrap steals it). */
static void watch_vm_pages(struct watch *w)
{
	struct guest_info *gi = machine_info(w->m);
	uint32_t bytes = gi->gi_vm_page_count * (uint32_t)sizeof(struct vm_page);
	uint32_t kpd = gi->gi_boot_cr3 & PG_FRAME;

	for (uint32_t off = 0; off < bytes; off += PAGE_SIZE) {
		struct walk wk;

		if (walk_va(&w->m->pm, kpd, 0, gi->gi_vm_page_array + off, &wk) != WALK_MAPPED ||
		    (wk.pa >> PAGE_SHIFT) >= w->npages)
			continue;
		w->kind[wk.pa >> PAGE_SHIFT] = WP_VMPAGE;
		w->pd_of[wk.pa >> PAGE_SHIFT] = off;
	}
}

/* Watch the pages of the chunks allocated now. */
static void watch_chunks(struct watch *w)
{
	struct guest_info *gi = machine_info(w->m);
	struct walk wk;

	w->pv_lo = gi->gi_pv_kva_base;
	w->pv_hi = gi->gi_pv_kva_base + gi->gi_pv_maxchunks * PAGE_SIZE;
	for (uint32_t va = w->pv_lo; va < w->pv_hi; va += PAGE_SIZE)
		if (walk_va(&w->m->pm, gi->gi_boot_cr3 & PG_FRAME, 0, va, &wk) == WALK_MAPPED)
			track_chunk_slot(w, va, 0, wk.pte);
}

/* Is this store the self-map of a new directory (its recursive slot)? */
static int is_selfmap_store(uint64_t pa, int size, uint32_t v)
{
	return size == 4 && (pa & PAGE_MASK) == PTDPTDI * 4 && (v & PG_V) && (v & PG_FRAME) == (pa & PG_FRAME);
}

/* One 4-byte entry at epa in a watched page changes from old to new. */
static void entry_write(struct watch *w, uint32_t epa, uint32_t old, uint32_t new)
{
	uint32_t pg = epa >> PAGE_SHIFT, eip = machine_reg(w->m, UC_X86_REG_EIP);

	if (w->kind[pg] == WP_PD) {
		uint32_t pdx = (epa & PAGE_MASK) / 4;

		if (pdx >= KPTDI)
			machine_kva_forget(w->m, 0);	/* a kernel page table came or went */
		unref_pt(w, old, pdx);
		ref_pt(w, new, pdx, epa & PG_FRAME);
		emit(w, EV_PDE_WRITE, eip, epa, old, new, pdx << PDRSHIFT, epa & PG_FRAME);
	} else if (w->kind[pg] == WP_PT) {
		uint32_t va = ((uint32_t)w->pdx_of[pg] << PDRSHIFT) | ((epa & PAGE_MASK) / 4) << PAGE_SHIFT;

		if (va >= w->pv_lo && va < w->pv_hi)
			track_chunk_slot(w, va, old, new);
		if (va >= KERNBASE)
			machine_kva_forget(w->m, va);
		emit(w, EV_PTE_WRITE, eip, epa, old, new, va, w->pd_of[pg]);
	} else {
		emit(w, w->kind[pg] == WP_CHUNK ? EV_PV_WRITE : EV_VMPAGE_WRITE, eip, epa, old, new,
		    w->kind[pg] == WP_CHUNK ? w->pd_of[pg] :
		    (w->pd_of[pg] + (epa & PAGE_MASK)) / (uint32_t)sizeof(struct vm_page), 0);
	}
}

/*
 * The memory hook: every guest store; only those into watched pages matter.
 * A store may cover more than one 4-byte entry (cmpxchg8b, an unaligned
 * store): each entry it touches is one write, its old value read before the
 * store lands.
 */
static void hook_write(uc_engine *uc, uc_mem_type type, uint64_t pa, int size, int64_t value, void *user)
{
	struct watch *w = user;
	uint32_t pg = (uint32_t)(pa >> PAGE_SHIFT);

	(void)uc, (void)type;
	if (pg >= w->npages || size <= 0 || size > 8)
		return;
	if (w->kind[pg] == WP_NONE) {
		if (!is_selfmap_store(pa, size, (uint32_t)value))
			return;
		add_pd(w, (uint32_t)pa & PG_FRAME);	/* a new directory announces itself */
	}
	for (uint64_t epa = pa & ~3ull; epa < pa + (uint64_t)size; epa += 4) {
		uint32_t *entry = phys_ptr(&w->m->pm, epa, 4), old, new;

		if (entry == NULL || (epa >> PAGE_SHIFT) >= w->npages || w->kind[epa >> PAGE_SHIFT] == WP_NONE)
			continue;
		old = new = *entry;
		for (uint64_t b = epa; b < epa + 4; b++)	/* overlay the bytes this store writes */
			if (b >= pa && b < pa + (uint64_t)size)
				((uint8_t *)&new)[b - epa] = (uint8_t)((uint64_t)value >> (8 * (b - pa)));
		entry_write(w, (uint32_t)epa, old, new);
	}
}

/* The directories of the kernel pmap and every pmap on allpmaps (bounded). */
static int live_pds(struct watch *w, uint32_t *pds, int max)
{
	struct guest_info *gi = machine_info(w->m);
	struct pmap *kp = GPTR_PMAP(w->m, gi->gi_kernel_pmap);
	struct pmaplist *all = machine_gptr(w->m, gi->gi_allpmaps, sizeof(*all));
	uint32_t p = all ? all->tqh_first : 0;
	int n = 0;

	if (kp != NULL)
		pds[n++] = kp->pm_pdir_pa;
	for (; p != 0 && n < max; n++) {
		struct pmap *pm = GPTR_PMAP(w->m, p);

		if (pm == NULL)
			break;
		pds[n] = pm->pm_pdir_pa;
		p = pm->pm_list.tqe_next;
	}
	return n;
}

void watch_sync(struct watch *w)
{
	uint32_t pds[128], cr3 = machine_reg(w->m, UC_X86_REG_CR3) & PG_FRAME;
	int n = live_pds(w, pds, 128);

	if (cr3 != (w->cr3 & PG_FRAME)) {
		struct event e = { .kind = EV_WARN, .new = cr3, .old = w->cr3, .pd = cr3,
				   .msg = "CR3 changed without an observed load (a site the scan missed?)" };

		events_emit(w->ev, &e);
		w->cr3 = cr3;
	}
	for (int i = 0; i < n; i++)
		add_pd(w, pds[i]);
	for (int k = w->npds - 1; k >= 0; k--) {
		int live = 0;

		for (int i = 0; i < n && !live; i++)
			live = pds[i] == w->pds[k];
		if (!live)
			drop_pd(w, w->pds[k]);
	}
}

int watch_count_sites(const struct watch *w, enum site_kind kind)
{
	int n = 0;

	for (int i = 0; i < w->nsites; i++)
		n += w->sites[i].kind == kind;
	return n;
}

static int site_cmp(const void *a, const void *b)
{
	const struct watch_site *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* One code hook per site, and the memory-write hook. */
static int install_hooks(struct watch *w)
{
	w->hooks = calloc(w->nsites + 1, sizeof(uc_hook));
	if (w->hooks == NULL)
		return -1;
	for (int i = 0; i < w->nsites; i++)
		if (uc_hook_add(w->m->uc, &w->hooks[w->nhooks++], UC_HOOK_CODE, (void *)hook_site, w,
		    w->sites[i].addr, w->sites[i].addr) != UC_ERR_OK)
			return -1;
	if (uc_hook_add(w->m->uc, &w->hooks[w->nhooks++], UC_HOOK_MEM_WRITE, (void *)hook_write, w, 1, 0) != UC_ERR_OK)
		return -1;
	/* Code translated before the hooks existed would not call them: drop
	 * the translations of the guest's text (a whole tb_flush would clear
	 * Unicorn's 1 GiB code buffer, seconds of page faults). */
	for (int i = 0; i < w->m->elf.nseg; i++) {
		const struct elf_segment *sg = &w->m->elf.seg[i];

		if ((sg->flags & PF_X) &&
		    uc_ctl_remove_cache(w->m->uc, sg->vaddr, (uint64_t)sg->vaddr + sg->memsz) != UC_ERR_OK)
			return -1;
	}
	return 0;
}

int watch_attach(struct watch *w, struct machine *m, struct events *ev, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->m = m;
	w->ev = ev;
	w->npages = (uint32_t)(m->pm.size >> PAGE_SHIFT);
	w->kind = calloc(w->npages, 1);
	w->pd_of = calloc(w->npages, sizeof(uint32_t));
	w->pdx_of = calloc(w->npages, sizeof(uint16_t));
	w->refs = calloc(w->npages, sizeof(uint16_t));
	if (w->kind == NULL || w->pd_of == NULL || w->pdx_of == NULL || w->refs == NULL || scan(w) < 0) {
		snprintf(err, errlen, "cannot scan the guest for watch sites");
		watch_detach(w);
		return -1;
	}
	qsort(w->sites, w->nsites, sizeof(*w->sites), site_cmp);
	if (install_hooks(w) < 0) {
		snprintf(err, errlen, "cannot install the watch hooks");
		watch_detach(w);
		return -1;
	}
	w->cr3 = machine_reg(m, UC_X86_REG_CR3);
	machine_kva_cache(m, 1);
	watch_vm_pages(w);
	watch_chunks(w);
	watch_sync(w);
	return 0;
}

void watch_detach(struct watch *w)
{
	for (int i = 0; i < w->nhooks; i++)
		uc_hook_del(w->m->uc, w->hooks[i]);
	if (w->m != NULL)
		machine_kva_cache(w->m, 0);
	free(w->hooks);
	free(w->sites);
	free(w->kind);
	free(w->pd_of);
	free(w->pdx_of);
	free(w->refs);
	memset(w, 0, sizeof(*w));
}
