/*
 * watch.c - owns the watched set (which physical frames are directories,
 * page tables and checked structures right now) and turns guest paging
 * changes into events. See watch.h.
 *
 * How a store is seen: the MMU hands a watched frame out at its alias in
 * the MMIO window for stores, so each store to it calls back into
 * machine.c, which calls alias_write here before the store lands. Stores
 * to other frames run at the emulator's full speed and are never seen.
 * Which instruction stored is worked out by attrib.c (the block running,
 * matched by address and value); a rep stos/movs is a code site and runs
 * on the host here. Tests prove the attribution for mov, xchg, lock
 * cmpxchg, lock or and rep stos.
 *
 * How the set follows the tables: a directory joins at a CR3 load of it, at
 * a step boundary (the kernel pmap and allpmaps), or when pmap_pinit stores
 * its self-map entry; a page table joins when a watched PDE points at it and
 * leaves when the last one stops; a chunk page follows the PTEs of the
 * chunk KVA block. A frame that joins while the CPU may cache a translation
 * of it costs one flush of Unicorn's TLB (the model refills it); nothing
 * else changes the emulator's memory map.
 */
#include "watch.h"

#include <capstone/capstone.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../guest/common/i386.h"
#include "disasm.h"

/* A word of the guest at kernel VA va (0 if unmapped). */
static uint32_t kword(struct watch *w, uint32_t va)
{
	const uint32_t *p = va ? machine_gptr(w->m, va, 4) : NULL;

	return p ? *p : 0;
}

/* Classify one instruction; fills s and returns 1 for a CR load or an INVLPG. */
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
		s->src = disasm_uc_reg(x->operands[1].reg);
		return 1;
	}
	if (x->prefix[0] == X86_PREFIX_REP && (in->id == X86_INS_STOSB || in->id == X86_INS_STOSW ||
	    in->id == X86_INS_STOSD || in->id == X86_INS_MOVSB || in->id == X86_INS_MOVSW || in->id == X86_INS_MOVSD)) {
		s->kind = SITE_STRING;
		s->size = in->id == X86_INS_STOSB || in->id == X86_INS_MOVSB ? 1 :
		    in->id == X86_INS_STOSW || in->id == X86_INS_MOVSW ? 2 : 4;
		s->movs = in->id == X86_INS_MOVSB || in->id == X86_INS_MOVSW || in->id == X86_INS_MOVSD;
		return 1;
	}
	if (in->id == X86_INS_INVLPG && x->op_count == 1 && x->operands[0].type == X86_OP_MEM) {
		s->kind = SITE_INVLPG;
		s->base = disasm_uc_reg(x->operands[0].mem.base);
		s->index = disasm_uc_reg(x->operands[0].mem.index);
		s->scale = (uint32_t)x->operands[0].mem.scale;
		s->disp = (uint32_t)(x->operands[0].mem.disp & 0xffffffff);
		return 1;
	}
	return 0;
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

/* Emit an event of kind at the instruction eip (a guess among a block's stores if w->guess). */
static void emit(struct watch *w, enum event_kind kind, uint32_t eip, uint32_t pa, uint32_t old,
    uint32_t new, uint32_t va, uint32_t pd)
{
	struct event e = { .kind = kind, .eip = eip, .eip_guess = w->guess, .pa = pa, .old = old, .new = new,
			   .va = va, .pd = pd };

	events_emit(w->ev, &e);
}

/* Frame pg becomes kind k; a frame that starts being aliased must not stay cached unaliased. */
static void set_kind(struct watch *w, uint32_t pg, enum watch_page k)
{
	int was = w->alias[pg];

	w->kind[pg] = (uint8_t)k;
	w->alias[pg] = k != WP_NONE;
	for (int cpu = 0; !was && w->alias[pg] && cpu < w->m->ncpu; cpu++)
		mmu_frame_changes(&w->m->cpu[cpu].mmu, pg);
}

/* Start watching a page table referenced by a PDE at index pdx of directory pd. */
static void ref_pt(struct watch *w, uint32_t pde, uint32_t pdx, uint32_t pd)
{
	uint32_t pg = pde >> PAGE_SHIFT;

	if (!(pde & PG_V) || (pde & PG_PS) || pdx == w->m->lay.self || pg >= w->npages || w->kind[pg] == WP_PD)
		return;
	set_kind(w, pg, WP_PT);
	w->pdx_of[pg] = (uint16_t)pdx;
	w->pd_of[pg] = lay_kernel_pdx(&w->m->lay, pdx) ? EV_KERNEL_SPACE : pd;
	w->refs[pg]++;
}

/* A PDE stopped pointing at a page table. */
static void unref_pt(struct watch *w, uint32_t pde, uint32_t pdx)
{
	uint32_t pg = pde >> PAGE_SHIFT;

	if (!(pde & PG_V) || (pde & PG_PS) || pdx == w->m->lay.self || pg >= w->npages || w->kind[pg] != WP_PT)
		return;
	if (--w->refs[pg] == 0)
		set_kind(w, pg, WP_NONE);
}

/* Watch the directory at physical pd and every page table it points to. */
static void add_pd(struct watch *w, uint32_t pd)
{
	uint32_t pg = pd >> PAGE_SHIFT;
	uint32_t *pde = phys_ptr(&w->m->pm, pd, PAGE_SIZE);

	if (pg >= w->npages || w->kind[pg] == WP_PD || pde == NULL || w->npds == WATCH_MAX_PDS)
		return;
	set_kind(w, pg, WP_PD);
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
	set_kind(w, pd >> PAGE_SHIFT, WP_NONE);
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
		set_kind(w, opg, WP_NONE);
	if ((new & PG_V) && npg < w->npages && (w->kind[npg] == WP_NONE || w->kind[npg] == WP_FRESH)) {
		set_kind(w, npg, WP_CHUNK);
		w->pd_of[npg] = va;
	}
}

/* While pmap_pinit runs, a frame the kernel maps may become a directory. */
static void track_fresh(struct watch *w, uint32_t new)
{
	uint32_t pg = new >> PAGE_SHIFT;

	if (w->pinit_ret == 0 || !(new & PG_V) || pg >= w->npages || w->kind[pg] != WP_NONE ||
	    w->nfresh == WATCH_MAX_FRESH)
		return;
	set_kind(w, pg, WP_FRESH);
	w->fresh[w->nfresh++] = pg;
}

/* pmap_pinit returned (or the run ended): fresh frames that did not become directories leave. */
static void end_pinit(struct watch *w)
{
	for (int i = 0; i < w->nfresh; i++)
		if (w->kind[w->fresh[i]] == WP_FRESH)
			set_kind(w, w->fresh[i], WP_NONE);
	w->nfresh = 0;
	w->pinit_ret = w->pinit_esp = 0;
}

/* Watch the vm_page array (physically contiguous, as pmap_bootstrap steals it). */
static void watch_vm_pages(struct watch *w)
{
	const struct contract *ct = &w->m->ct;
	uint32_t array = kword(w, ct->page_array_ptr), bytes = kword(w, ct->page_count_ptr) * ct->page_size;
	uint32_t kpd = machine_info(w->m)->gi_boot_cr3 & PG_FRAME;

	for (uint32_t off = 0; off < bytes; off += PAGE_SIZE) {
		struct walk wk;

		if (walk_va(&w->m->pm, kpd, 0, array + off, &wk) != WALK_MAPPED ||
		    (wk.pa >> PAGE_SHIFT) >= w->npages)
			continue;
		set_kind(w, wk.pa >> PAGE_SHIFT, WP_VMPAGE);
		w->pd_of[wk.pa >> PAGE_SHIFT] = off;
	}
}

/* Watch the pages of the chunks allocated now. */
static void watch_chunks(struct watch *w)
{
	const struct contract *ct = &w->m->ct;
	struct walk wk;

	w->pv_lo = kword(w, ct->kva_base_ptr);
	w->pv_hi = w->pv_lo + kword(w, ct->kva_slots_ptr) * PAGE_SIZE;
	for (uint32_t va = w->pv_lo; va < w->pv_hi; va += PAGE_SIZE)
		if (walk_va(&w->m->pm, machine_info(w->m)->gi_boot_cr3 & PG_FRAME, 0, va, &wk) == WALK_MAPPED)
			track_chunk_slot(w, va, 0, wk.pte);
}

/* Is this store the self-map of a new directory (its recursive slot)? */
static int is_selfmap_store(const struct watch *w, uint64_t pa, int size, uint32_t v)
{
	return size == 4 && (pa & PAGE_MASK) == w->m->lay.self * 4 && (v & PG_V) && (v & PG_FRAME) == (pa & PG_FRAME);
}

/* One 4-byte entry at epa in a watched page changes from old to new, by the instruction at eip. */
static void entry_write(struct watch *w, uint32_t epa, uint32_t old, uint32_t new, uint32_t eip)
{
	uint32_t pg = epa >> PAGE_SHIFT;

	if (w->kind[pg] == WP_PD) {
		uint32_t pdx = (epa & PAGE_MASK) / 4;

		if (lay_kernel_pdx(&w->m->lay, pdx))
			machine_kva_forget(w->m, 0);	/* a kernel page table came or went */
		unref_pt(w, old, pdx);
		ref_pt(w, new, pdx, epa & PG_FRAME);
		emit(w, EV_PDE_WRITE, eip, epa, old, new, pdx << PDRSHIFT, epa & PG_FRAME);
	} else if (w->kind[pg] == WP_PT) {
		uint32_t va = ((uint32_t)w->pdx_of[pg] << PDRSHIFT) | ((epa & PAGE_MASK) / 4) << PAGE_SHIFT;

		if (va >= w->pv_lo && va < w->pv_hi)
			track_chunk_slot(w, va, old, new);
		if (w->pd_of[pg] == EV_KERNEL_SPACE) {
			machine_kva_forget(w->m, va);
			track_fresh(w, new);
		}
		emit(w, EV_PTE_WRITE, eip, epa, old, new, va, w->pd_of[pg]);
	} else if (w->kind[pg] == WP_CHUNK || w->kind[pg] == WP_VMPAGE) {
		uint32_t off = w->pd_of[pg] + (epa & PAGE_MASK), rec = w->m->ct.page_size;

		struct event e = { .kind = w->kind[pg] == WP_CHUNK ? EV_PV_WRITE : EV_VMPAGE_WRITE, .eip = eip,
				   .eip_guess = w->guess, .pa = epa, .old = old, .new = new,
				   .va = w->kind[pg] == WP_CHUNK ? w->pd_of[pg] : off / rec,
				   .field = w->kind[pg] == WP_CHUNK ? 0 : off % rec };

		events_emit(w->ev, &e);
	}
}

/*
 * A store by the instruction at eip into a watched frame, before it lands.
 * It may cover more than one 4-byte entry (cmpxchg8b, an unaligned store):
 * each entry it touches is one write, its old value read before the store.
 */
static void store_events(struct watch *w, uint64_t pa, unsigned size, uint64_t value, uint32_t eip, int changes_only)
{
	uint32_t pg = (uint32_t)(pa >> PAGE_SHIFT);

	if (w->kind[pg] == WP_FRESH) {
		if (!is_selfmap_store(w, pa, (int)size, (uint32_t)value))
			return;
		add_pd(w, (uint32_t)pa & PG_FRAME);	/* a new directory announces itself */
	}
	for (uint64_t epa = pa & ~3ull; epa < pa + size; epa += 4) {
		uint32_t *entry = phys_ptr(&w->m->pm, epa, 4), old, new;

		if (entry == NULL || (epa >> PAGE_SHIFT) >= w->npages || w->kind[epa >> PAGE_SHIFT] == WP_NONE)
			continue;
		old = *entry;
		if (epa == pa && size >= 4) {
			new = (uint32_t)(value >> (8 * (epa - pa)));
		} else {
			uint32_t mask = 0, bits = 0;

			for (uint64_t b = epa; b < epa + 4; b++)	/* overlay the bytes this store writes */
				if (b >= pa && b < pa + size) {
					mask |= 0xffu << (8 * (b - epa));
					bits |= (uint32_t)((value >> (8 * (b - pa))) & 0xff) << (8 * (b - epa));
				}
			new = (old & ~mask) | bits;
		}
		if (!changes_only || old != new)
			entry_write(w, (uint32_t)epa, old, new, eip);
	}
}

/*
 * A store through the alias window. A frame that is no longer watched may
 * still be reached through a cached alias: no event.
 */
static void alias_write(void *arg, uint64_t pa, unsigned size, uint64_t value)
{
	struct watch *w = arg;
	uint32_t pg = (uint32_t)(pa >> PAGE_SHIFT), eip;

	if (pg >= w->npages || size == 0 || size > 8 || w->kind[pg] == WP_NONE)
		return;
	w->guess = attrib_store(w->attrib, pa, size, value, &eip) != 0;
	store_events(w, pa, size, value, eip, 0);
	w->guess = 0;
}

/* Does [va, va + size) cross a page? */
static int crosses(uint32_t va, uint32_t size)
{
	return ((va ^ (va + size - 1)) & ~PAGE_MASK) != 0;
}

/*
 * Site: a rep stos/movs. The host runs it, element by element through the
 * MMU (accessed/dirty bits, the TLB model), every entry of a watched frame
 * it changes an event of this instruction (a page cleared with pagezero is
 * not 1024 events); the CPU then finds ECX zero and goes on. It leaves the rest to the CPU at an element where the CPU would
 * fault, or one that crosses a page. (Run by the CPU, every iteration
 * would stop at this site.)
 */
static void on_string(struct watch *w, const struct watch_site *s)
{
	uint32_t ecx = machine_reg(w->m, UC_X86_REG_ECX), edi = machine_reg(w->m, UC_X86_REG_EDI);
	uint32_t esi = machine_reg(w->m, UC_X86_REG_ESI), eax = machine_reg(w->m, UC_X86_REG_EAX);
	uint32_t step = (machine_reg(w->m, UC_X86_REG_EFLAGS) & 0x400) ? -s->size : s->size;
	uint32_t dframe = 0, sframe = 0, dpage = 1, spage = 1, v;	/* page 1: none yet (never page-aligned + 1) */
	uint64_t pa;

	while (ecx > 0) {
		uint8_t *d;

		v = eax;
		if (crosses(edi, s->size) || (s->movs && crosses(esi, s->size)))
			break;
		if (s->movs) {
			if ((esi & ~PAGE_MASK) != spage && mmu_access(w->m->mmu, esi, 0, &sframe) < 0)
				break;
			spage = esi & ~PAGE_MASK;
			memcpy(&v, w->m->pm.ram + ((uint64_t)sframe << PAGE_SHIFT) + (esi & PAGE_MASK), s->size);
		}
		if ((edi & ~PAGE_MASK) != dpage && mmu_access(w->m->mmu, edi, 1, &dframe) < 0)
			break;
		dpage = edi & ~PAGE_MASK;
		pa = ((uint64_t)dframe << PAGE_SHIFT) | (edi & PAGE_MASK);
		d = w->m->pm.ram + pa;
		if (!s->movs && s->size == 4 && step == 4 && w->kind[dframe] == WP_NONE) {
			/* a stosd forward into a page nothing watches: the rest of the page at once */
			uint32_t n = (PAGE_SIZE - (edi & PAGE_MASK)) / 4;

			n = n < ecx ? n : ecx;
			for (uint32_t k = 0; k < n; k++)
				memcpy(d + 4 * k, &eax, 4);
			ecx -= n;
			edi += 4 * n;
			continue;
		}
		if (w->kind[dframe] != WP_NONE && memcmp(d, &v, s->size) != 0)
			store_events(w, pa, s->size, v, s->addr, 1);
		memcpy(d, &v, s->size);
		ecx--;
		edi += step;
		esi += s->movs ? step : 0;
	}
	machine_set_reg(w->m, UC_X86_REG_ECX, ecx);
	machine_set_reg(w->m, UC_X86_REG_EDI, edi);
	if (s->movs)
		machine_set_reg(w->m, UC_X86_REG_ESI, esi);
}

/* Site: a CR load, an INVLPG or a string store, just before it runs. */
static void on_site(void *arg, uint32_t addr)
{
	struct watch *w = arg;
	struct watch_site *s;
	struct mmu *u = w->m->mmu;
	uint32_t ea;

	if ((s = find_site(w, addr)) == NULL)
		return;
	if (s->kind == SITE_STRING) {
		on_string(w, s);
		return;
	}
	if (s->kind == SITE_CR) {
		int reg = s->cr == 0 ? UC_X86_REG_CR0 : s->cr == 3 ? UC_X86_REG_CR3 : UC_X86_REG_CR4;
		uint32_t v = machine_reg(w->m, s->src);

		if (s->cr == 3)
			add_pd(w, v & PG_FRAME);	/* the CPU is about to walk it */
		emit(w, EV_CR_LOAD, s->addr, (uint32_t)s->cr, machine_reg(w->m, reg), v, 0,
		    s->cr == 3 ? v & PG_FRAME : machine_reg(w->m, UC_X86_REG_CR3) & PG_FRAME);
		mmu_flush(u, s->cr == 3);
		if (s->cr == 3)
			w->m->cpu[w->m->cur].cr3_seen = v;
		return;
	}
	ea = s->disp + (s->base ? machine_reg(w->m, s->base) : 0) +
	    (s->index ? machine_reg(w->m, s->index) * s->scale : 0);
	mmu_invlpg(u, ea);
	emit(w, EV_INVLPG, s->addr, 0, 0, 0, ea, machine_reg(w->m, UC_X86_REG_CR3) & PG_FRAME);
}

/* Site: pmap_pinit's return; the call that made it is over once ESP is above its frame. */
static void on_pinit_return(void *arg, uint32_t addr)
{
	struct watch *w = arg;

	if (addr == w->pinit_ret && machine_reg(w->m, UC_X86_REG_ESP) > w->pinit_esp) {
		sites_del(&w->m->sites, addr, on_pinit_return, w);
		end_pinit(w);
	}
}

/* Site: pmap_pinit's entry; watch what the kernel maps until it returns. */
static void on_pinit(void *arg, uint32_t addr)
{
	struct watch *w = arg;
	uint32_t esp = machine_reg(w->m, UC_X86_REG_ESP), *ret = machine_gptr(w->m, esp, 4);

	(void)addr;
	if (ret == NULL || w->pinit_ret != 0)
		return;
	w->pinit_esp = esp;
	w->pinit_ret = *ret;
	sites_add(&w->m->sites, w->pinit_ret, on_pinit_return, w);
}

/* The directories of the kernel pmap and every pmap on allpmaps (bounded). */
static int live_pds(struct watch *w, uint32_t *pds, int max)
{
	const struct contract *ct = &w->m->ct;
	uint32_t p = kword(w, ct->allpmaps);
	int n = 0;

	pds[n++] = kword(w, ct->kernel_pmap + ct->pm_dirpa);
	for (int i = 0; p != 0 && n < max && i < max; i++) {
		if (machine_gptr(w->m, p, ct->pmap_size) == NULL)
			break;
		if (p != ct->kernel_pmap)	/* a guest may list the kernel pmap too */
			pds[n++] = kword(w, p + ct->pm_dirpa);
		p = kword(w, p + ct->pm_link.off);
	}
	return n;
}

/* CPU cpu's CR3 changed without a load the watcher saw: warn, and flush its TLB model as the load would. */
static void sync_cr3(struct watch *w, int cpu)
{
	struct cpu *c = &w->m->cpu[cpu];
	uint32_t cr3 = machine_cpu_reg(w->m, cpu, UC_X86_REG_CR3) & PG_FRAME;
	struct event e = { .kind = EV_WARN, .new = cr3, .old = c->cr3_seen, .pd = cr3,
			   .msg = "CR3 changed without an observed load (a site the scan missed?)" };

	if (cr3 == (c->cr3_seen & PG_FRAME))
		return;
	events_emit(w->ev, &e);
	c->cr3_seen = cr3;
	mmu_flush(&c->mmu, 1);
}

void watch_sync(struct watch *w)
{
	uint32_t pds[128];
	int n = live_pds(w, pds, 128);

	if (w->pinit_ret != 0) {	/* pmap_pinit never returned (a fault, a panic) */
		sites_del(&w->m->sites, w->pinit_ret, on_pinit_return, w);
		end_pinit(w);
	}
	for (int cpu = 0; cpu < w->m->ncpu; cpu++)
		sync_cr3(w, cpu);
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

/* The code sites: every scanned site, and pmap_pinit's entry. */
static int add_sites(struct watch *w)
{
	const struct elf_symbol *pinit = elf_find(&w->m->elf, "pmap_pinit");

	for (int i = 0; i < w->nsites; i++)
		if (sites_add(&w->m->sites, w->sites[i].addr, on_site, w) < 0)
			return -1;
	if (pinit != NULL && pinit->is_func) {
		w->pinit = pinit->addr;
		if (sites_add(&w->m->sites, pinit->addr, on_pinit, w) < 0)
			return -1;
	}
	return 0;
}

/*
 * The sites, sorted: scanned, or on a machine with a snapshot, the scan it
 * keeps (the code a restore puts back is the code scanned). 0 or -1.
 */
static int scan_kept(struct watch *w)
{
	struct machine *m = w->m;

	if (m->scan == NULL || m->snap_ram == NULL) {
		if (scan(w) < 0)
			return -1;
		qsort(w->sites, w->nsites, sizeof(*w->sites), site_cmp);
		if (m->snap_ram != NULL && w->nsites > 0 && (m->scan = malloc(w->nsites * sizeof(*w->sites))) != NULL) {
			memcpy(m->scan, w->sites, w->nsites * sizeof(*w->sites));
			m->nscan = w->nsites;
		}
		return 0;
	}
	if ((w->sites = malloc(m->nscan * sizeof(*w->sites))) == NULL)
		return -1;
	memcpy(w->sites, m->scan, m->nscan * sizeof(*w->sites));
	w->nsites = m->nscan;
	return 0;
}

int watch_attach(struct watch *w, struct machine *m, struct events *ev, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->m = m;
	w->ev = ev;
	w->npages = (uint32_t)(m->pm.size >> PAGE_SHIFT);
	w->kind = calloc(w->npages, 1);
	w->alias = calloc(w->npages, 1);
	w->pd_of = calloc(w->npages, sizeof(uint32_t));
	w->pdx_of = calloc(w->npages, sizeof(uint16_t));
	w->refs = calloc(w->npages, sizeof(uint16_t));
	if (w->kind == NULL || w->alias == NULL || w->pd_of == NULL || w->pdx_of == NULL || w->refs == NULL ||
	    scan_kept(w) < 0) {
		snprintf(err, errlen, "cannot scan the guest for watch sites");
		watch_detach(w);
		return -1;
	}
	if (add_sites(w) < 0) {
		snprintf(err, errlen, "cannot add the watch sites");
		watch_detach(w);
		return -1;
	}
	w->attrib = m->attrib != NULL ? m->attrib : &w->own_attrib;
	if (w->attrib == &w->own_attrib && attrib_init(w->attrib, m) < 0) {
		snprintf(err, errlen, "cannot hook the guest's blocks");
		watch_detach(w);
		return -1;
	}
	for (int cpu = 0; cpu < m->ncpu; cpu++) {
		m->cpu[cpu].cr3_seen = machine_cpu_reg(m, cpu, UC_X86_REG_CR3);
		mmu_model(&m->cpu[cpu].mmu, 1);
		m->cpu[cpu].mmu.watched = w->alias;
	}
	machine_kva_cache(m, 1);
	machine_on_alias_write(m, alias_write, w);
	watch_vm_pages(w);
	watch_chunks(w);
	watch_sync(w);
	for (int cpu = 0; cpu < m->ncpu; cpu++)
		uc_ctl_flush_tlb(m->cpu[cpu].uc);	/* what boot cached, unaliased and unmodelled */
	return 0;
}

void watch_detach(struct watch *w)
{
	if (w->m != NULL) {
		if (w->attrib != NULL)
			sites_remove(&w->m->sites, w->attrib);
		if (w->attrib == &w->own_attrib)
			attrib_free(&w->own_attrib);
		sites_remove(&w->m->sites, w);
		machine_kva_cache(w->m, 0);
		machine_on_alias_write(w->m, NULL, NULL);
		for (int cpu = 0; cpu < w->m->ncpu; cpu++) {
			w->m->cpu[cpu].mmu.watched = NULL;
			mmu_model(&w->m->cpu[cpu].mmu, 0);
			uc_ctl_flush_tlb(w->m->cpu[cpu].uc);	/* nothing may keep using the aliases */
		}
	}
	free(w->sites);
	free(w->kind);
	free(w->alias);
	free(w->pd_of);
	free(w->pdx_of);
	free(w->refs);
	memset(w, 0, sizeof(*w));
}
