/*
 * machine.c - owns the emulated machine: Unicorn in 32-bit x86 mode with
 * guest RAM mapped by pointer (so the host reads guest memory directly), the
 * loaded guest ELF, boot, and running the guest until it halts, faults,
 * panics or hangs. After any abnormal stop the CPU state is restored from
 * the context saved after boot (Unicorn faults are sticky otherwise), so
 * the machine stays usable.
 */
#include "machine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "disasm.h"
#include "guestcall.h"
#include "guestsym.h"
#include "scheduler.h"
#include "util.h"

#define WATCHDOG_TICK_MS 10


uint32_t machine_reg(struct machine *m, int reg)
{
	uint32_t v = 0;

	uc_reg_read(m->uc, reg, &v);
	return v;
}

void machine_set_reg(struct machine *m, int reg, uint32_t v)
{
	uc_reg_write(m->uc, reg, &v);
}

uint32_t machine_cpu_reg(struct machine *m, int cpu, int reg)
{
	uint32_t v = 0;

	uc_reg_read(m->cpu[cpu].uc, reg, &v);
	return v;
}

void machine_set_cpu(struct machine *m, int cpu)
{
	m->cur = cpu;
	m->uc = m->cpu[cpu].uc;
	m->mmu = &m->cpu[cpu].mmu;
}

uint32_t machine_stack_top(const struct machine *m)
{
	return m->cpu[m->cur].stack_top;
}

/* The watchdog: stop the run in progress once it has lasted timeout_ms. */
static void *watchdog_main(void *arg)
{
	struct machine *m = arg;
	uint64_t seen = 0;
	uint32_t elapsed = 0;
	struct timespec tick = { 0, WATCHDOG_TICK_MS * 1000000L };

	for (;;) {
		nanosleep(&tick, NULL);
		pthread_mutex_lock(&m->wd_lock);
		if (m->wd_quit) {
			pthread_mutex_unlock(&m->wd_lock);
			return NULL;
		}
		if (m->wd_held) {	/* a debugger holds the guest: its time is not the call's */
			elapsed = 0;
		} else if ((m->wd_seq & 1) && m->wd_seq == seen) {
			elapsed += WATCHDOG_TICK_MS;
			/* With a block hook, the emulator thread stops itself at the next block
			 * (an exact state); without one, or if it does not within a second,
			 * the run is stopped from here. */
			if (elapsed >= m->timeout_ms)
				m->wd_fired = 1;
			if (elapsed >= m->timeout_ms + (m->block_hooked ? 3000u : 0u))
				uc_emu_stop(m->uc);
		} else {
			seen = m->wd_seq;
			elapsed = 0;
		}
		pthread_mutex_unlock(&m->wd_lock);
	}
}

/* Mark a run as started or finished for the watchdog. */
static void watchdog_mark(struct machine *m)
{
	pthread_mutex_lock(&m->wd_lock);
	m->wd_seq++;
	pthread_mutex_unlock(&m->wd_lock);
}

void machine_watchdog_hold(struct machine *m, int hold)
{
	if (!m->wd_started)
		return;
	pthread_mutex_lock(&m->wd_lock);
	m->wd_held = hold;
	pthread_mutex_unlock(&m->wd_lock);
}

/* CPU exceptions: record vector, EIP and CR2, and stop. */
static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct machine *m = user;

	m->stop.kind = STOP_FAULT;
	m->stop.cpu = m->cur;
	m->stop.vector = intno;
	m->stop.eip = machine_reg(m, UC_X86_REG_EIP);
	m->stop.cr2 = machine_reg(m, UC_X86_REG_CR2);
	m->stop.cr3 = machine_reg(m, UC_X86_REG_CR3);
	uc_emu_stop(uc);
}

/* Keep the tail of what the guest prints. */
static void console_putc(struct machine *m, char c)
{
	if (m->console_len + 1 >= sizeof(m->console)) {
		memmove(m->console, m->console + sizeof(m->console) / 2, sizeof(m->console) / 2);
		m->console_len -= sizeof(m->console) / 2;
	}
	m->console[m->console_len++] = c;
	m->console[m->console_len] = '\0';
}

/* The hypercall channel: OUT to RIG_PORT_PANIC or RIG_PORT_PUTC. */
static void hook_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user)
{
	struct machine *m = user;

	(void)size;
	if (port == RIG_PORT_PUTC) {
		console_putc(m, (char)value);
		return;
	}
	if (port == RIG_PORT_IPI || port == RIG_PORT_IPI_ACK) {
		if (m->sched != NULL)
			sched_hypercall(m->sched, port, value);
		return;
	}
	if (port != RIG_PORT_PANIC)
		return;
	m->stop.kind = STOP_PANIC;
	m->stop.cpu = m->cur;
	m->stop.eip = machine_reg(m, UC_X86_REG_EIP);
	m->stop.nframes = machine_backtrace(m, machine_reg(m, UC_X86_REG_EBP), m->stop.frames, RIG_MAX_FRAMES);
	m->stop.cr3 = machine_reg(m, UC_X86_REG_CR3);
	if (vread_string(&m->pm, m->stop.cr3, machine_reg(m, UC_X86_REG_CR4), value,
	    m->stop.message, sizeof(m->stop.message)) < 0 && m->stop.message[0] == '\0')
		snprintf(m->stop.message, sizeof(m->stop.message), "(unreadable message at 0x%08x)", value);
	uc_emu_stop(uc);
}

int machine_backtrace(struct machine *m, uint32_t ebp, uint32_t *frames, int max)
{
	int n = 0;
	uint32_t fr[2];

	while (n < max && ebp != 0 && (ebp & 3) == 0 && machine_vread(m, ebp, fr, sizeof(fr)) == 0) {
		if (fr[1] == 0 || fr[1] == m->rig_return)
			break;
		frames[n++] = fr[1];
		if (fr[0] <= ebp)	/* frames must move up the stack */
			break;
		ebp = fr[0];
	}
	return n;
}

void machine_request_stop(struct machine *m)
{
	m->break_requested = 1;
	m->break_eip = 0;
	uc_emu_stop(m->uc);
}

void machine_request_break(struct machine *m, uint32_t eip)
{
	m->break_requested = 1;
	m->break_eip = eip;
	uc_emu_stop(m->uc);
}

void machine_on_alias_write(struct machine *m, void (*fn)(void *, uint64_t, unsigned, uint64_t), void *arg)
{
	m->alias_write = fn;
	m->alias_arg = arg;
}

/* IN from RIG_PORT_CPUID: the number of the CPU asking. */
static uint32_t hook_in(uc_engine *uc, uint32_t port, int size, void *user)
{
	struct machine *m = user;

	(void)uc, (void)size;
	return port == RIG_PORT_CPUID ? (uint32_t)m->cur : 0xffffffffu;
}

/* The alias window: frame f's alias reads and writes frame f. */
static uint64_t alias_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
	struct machine *m = user;
	uint64_t v = 0;
	const void *p = phys_ptr(&m->pm, off, size);

	(void)uc;
	m->alias_reads++;
	mmu_alias_load(m->mmu);
	if (p != NULL && size <= sizeof(v))
		memcpy(&v, p, size);
	return v;
}

static void alias_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t value, void *user)
{
	struct machine *m = user;
	void *p = phys_ptr(&m->pm, off, size);

	(void)uc;
	m->alias_writes++;
	mmu_alias_store(m->mmu);
	if (p == NULL || size > sizeof(value))
		return;
	if (m->alias_write != NULL)
		m->alias_write(m->alias_arg, off, size, value);
	phys_dirty(&m->pm, off, size);
	memcpy(p, &value, size);
}

static uint32_t reg_of(void *m, int reg)
{
	return machine_reg(m, reg);
}

/* CR2 for a fault on page: the byte the faulting instruction at eip accesses there. */
static uint32_t fault_address(struct machine *m, uint32_t eip, uint32_t page)
{
	uint8_t code[16];
	size_t n = 0;

	while (n < sizeof(code) && machine_vread(m, eip + n, &code[n], 1) == 0)
		n++;
	return disasm_access(m->dis, code, n, eip, page, reg_of, m);
}

/* A fill the MMU refused: a page fault, or an entry pointing outside RAM. */
static void mmu_stop(struct machine *m)
{
	const struct mmu_fault *f = &m->mmu->fault;

	m->stop.eip = machine_reg(m, UC_X86_REG_EIP);
	m->stop.cr3 = machine_reg(m, UC_X86_REG_CR3);
	if (f->kind == MMU_PAGE_FAULT) {
		m->stop.kind = STOP_FAULT;
		m->stop.vector = 14;
		m->stop.cr2 = fault_address(m, m->stop.eip, f->va & PG_FRAME);
		m->stop.err = f->err;
		return;
	}
	m->stop.kind = STOP_ERROR;
	snprintf(m->stop.message, sizeof(m->stop.message),
	    "va 0x%08x: entry 0x%08x points at physical 0x%08x, outside the %llu MiB of RAM",
	    fault_address(m, m->stop.eip, f->va & PG_FRAME), f->entry,
	    f->pa, (unsigned long long)(m->pm.size >> 20));
}

/* Put the current CPU back in the state saved when it came up, keeping the address space. */
static void machine_recover(struct machine *m)
{
	uint32_t cr3 = machine_reg(m, UC_X86_REG_CR3);
	uint32_t cr4 = machine_reg(m, UC_X86_REG_CR4);

	uc_context_restore(m->uc, m->cpu[m->cur].boot_ctx);
	machine_set_reg(m, UC_X86_REG_CR4, cr4);
	machine_set_reg(m, UC_X86_REG_CR3, cr3);
}

/* The guest's stack now: the running function, then each caller with the address it returns to. */
struct gstack {
	const struct elf_symbol *fn[RIG_MAX_FRAMES + 1];
	uint32_t ret[RIG_MAX_FRAMES + 1];	/* ret[i]: where fn[i - 1] returns into fn[i] */
	int n;
};

static void read_stack(struct machine *m, struct gstack *st)
{
	uint32_t frames[RIG_MAX_FRAMES], off, ret, esp = machine_reg(m, UC_X86_REG_ESP);
	int nf = machine_backtrace(m, machine_reg(m, UC_X86_REG_EBP), frames, RIG_MAX_FRAMES);

	st->n = 0;
	if ((st->fn[0] = elf_symbolize(&m->elf, machine_reg(m, UC_X86_REG_EIP), &off)) == NULL)
		return;
	st->n = 1;
	/* before `push %ebp; mov %esp, %ebp` the caller is not on the EBP chain yet */
	if (off <= 1 && machine_vread(m, esp + 4 * off, &ret, 4) == 0 &&
	    (st->fn[1] = elf_symbolize(&m->elf, ret - 1, &off)) != NULL)
		st->ret[st->n++] = ret;
	for (int i = 0; i < nf && st->n <= RIG_MAX_FRAMES; i++)
		if ((st->fn[st->n] = elf_symbolize(&m->elf, frames[i] - 1, &off)) != NULL && frames[i] != st->ret[st->n - 1])
			st->ret[st->n++] = frames[i];
}

/*
 * Livelock: after the time budget ran out, the block hook (attrib.c) calls
 * machine_livelock_sample at the start of each of the next LIVELOCK_BLOCKS
 * blocks; the functions on the stack at every one of them stay in
 * m->ll_common, innermost first. A loop that never returns keeps its
 * function on the stack while its callees come and go, and executes blocks
 * of its own in between; so the innermost function of every sample is the
 * spinning one. Where the budget ran out does not change it.
 */
void machine_livelock_sample(struct machine *m)
{
	struct gstack st;
	int k = 0;

	read_stack(m, &st);
	if (m->ll_nsamples++ == 0) {
		m->ll_ncommon = st.n;
		memcpy(m->ll_common, st.fn, (size_t)st.n * sizeof(st.fn[0]));
		return;
	}
	for (int i = 0; i < m->ll_ncommon; i++)	/* keep those in this sample too, in order */
		for (int j = 0; j < st.n; j++)
			if (m->ll_common[i] == st.fn[j]) {
				m->ll_common[k++] = m->ll_common[i];
				break;
			}
	m->ll_ncommon = k;
}

/* After a synchronous watchdog stop: name the spinning function, if the samples found one. */
static void name_livelock(struct machine *m)
{
	if (m->ll_nsamples < LIVELOCK_BLOCKS || m->ll_ncommon == 0)
		return;
	m->stop.kind = STOP_LIVELOCK;
	snprintf(m->stop.spin, sizeof(m->stop.spin), "%s", m->ll_common[0]->name);
	m->stop.spin_callers[0] = '\0';
	for (int i = 1, used = 0; i < m->ll_ncommon && used < (int)sizeof(m->stop.spin_callers); i++)
		used += snprintf(m->stop.spin_callers + used, sizeof(m->stop.spin_callers) - used, "%s%s",
		    i > 1 ? " <- " : "", m->ll_common[i]->name);
}

void machine_run_begin(struct machine *m)
{
	memset(&m->stop, 0, sizeof(m->stop));
	m->stop.kind = STOP_RETURN;
	m->wd_fired = 0;
	m->wd_synced = 0;
	m->ll_nsamples = m->ll_ncommon = 0;
	m->break_requested = 0;
	watchdog_mark(m);
	m->sites.running = 1;
	m->runs++;
}

enum stop_kind machine_run_stretch(struct machine *m, uint32_t eip)
{
	uc_err err;

	m->mmu->fault.kind = MMU_OK;
	err = uc_emu_start(m->uc, eip, 0, 0, 0);
	if (m->stop.kind == STOP_RETURN && err == UC_ERR_EXCEPTION && m->mmu->fault.kind != MMU_OK)
		mmu_stop(m);
	if (m->stop.kind != STOP_RETURN)
		return m->stop.kind;
	m->stop.eip = machine_reg(m, UC_X86_REG_EIP);
	m->stop.cr3 = machine_reg(m, UC_X86_REG_CR3);
	m->stop.cpu = m->cur;
	if (m->break_requested) {
		m->stop.kind = STOP_BREAK;
		if (m->break_eip != 0)
			m->stop.eip = m->break_eip;	/* a memory hook's instruction; EIP is not it */
		snprintf(m->stop.message, sizeof(m->stop.message), "stopped at a break point");
	} else if (m->wd_fired) {
		m->stop.kind = STOP_HANG;
		snprintf(m->stop.message, sizeof(m->stop.message), "no return within %u ms", m->timeout_ms);
		if (m->wd_synced)
			name_livelock(m);
	} else if (err == UC_ERR_INSN_INVALID) {
		m->stop.kind = STOP_FAULT;	/* Unicorn reports #UD this way */
		m->stop.vector = 6;
	} else if (err != UC_ERR_OK) {
		m->stop.kind = STOP_ERROR;
		snprintf(m->stop.message, sizeof(m->stop.message), "%s", uc_strerror(err));
	}
	return m->stop.kind;
}

void machine_run_end(struct machine *m)
{
	m->sites.running = 0;
	watchdog_mark(m);
	sites_apply(&m->sites);		/* sites added or removed during the run */
	if (m->stop.kind != STOP_RETURN && m->cpu[m->cur].boot_ctx != NULL)
		machine_recover(m);
}

enum stop_kind machine_run(struct machine *m, uint32_t eip, uint32_t esp)
{
	if (m->run_hook != NULL)
		return m->run_hook(m->run_arg, eip, esp);
	if (m->sched != NULL)
		return sched_run_call(m->sched, eip, esp);
	machine_run_begin(m);
	machine_set_reg(m, UC_X86_REG_ESP, esp);
	machine_set_reg(m, UC_X86_REG_EBP, 0);
	if (machine_run_stretch(m, eip) == STOP_RETURN && m->stop.eip != m->rig_return + 1) {
		m->stop.kind = STOP_ERROR;
		snprintf(m->stop.message, sizeof(m->stop.message), "guest halted outside rig_return");
	}
	machine_run_end(m);
	return m->stop.kind;
}

/* Copy the ELF's PT_LOAD segments to their physical addresses. */
static int load_guest(struct machine *m, char *err, size_t errlen)
{
	for (int i = 0; i < m->elf.nseg; i++) {
		const struct elf_segment *s = &m->elf.seg[i];
		uint8_t *dst = phys_ptr(&m->pm, s->paddr, s->memsz);

		if (dst == NULL)
			return errorf(err, errlen, "guest segment at physical 0x%x+0x%x is outside the %llu MiB of RAM",
			    s->paddr, s->memsz, (unsigned long long)(m->pm.size >> 20));
		if (s->paddr < GDT_PA + PAGE_SIZE)
			return errorf(err, errlen, "guest segment at physical 0x%x overlaps the host's GDT page", s->paddr);
		memcpy(dst, m->elf.data + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	return 0;
}

/* Physical address of a kernel-image symbol (linked at image_off + pa). */
static int symbol_pa(struct machine *m, const char *name, uint32_t *pa, uint32_t *va)
{
	const struct elf_symbol *s = elf_find(&m->elf, name);

	if (s == NULL || s->addr < m->lay.image_off)
		return -1;
	if (va != NULL)
		*va = s->addr;
	*pa = s->addr - m->lay.image_off;
	return 0;
}

/* The image offset (VA - PA), the same for every segment; -1 if they disagree. */
static int image_offset(struct machine *m, char *err, size_t errlen)
{
	if (m->elf.nseg == 0)
		return errorf(err, errlen, "the guest ELF has no loadable segment");
	m->lay.image_off = m->elf.seg[0].vaddr - m->elf.seg[0].paddr;
	for (int i = 1; i < m->elf.nseg; i++)
		if (m->elf.seg[i].vaddr - m->elf.seg[i].paddr != m->lay.image_off)
			return errorf(err, errlen, "guest segments are linked at different offsets from their load "
			    "addresses (0x%08x, 0x%08x): the rig expects one linear kernel image", m->lay.image_off,
			    m->elf.seg[i].vaddr - m->elf.seg[i].paddr);
	return 0;
}

/* The layout the guest published in guest_info during boot. */
static int read_layout(struct machine *m, char *err, size_t errlen)
{
	struct guest_info *gi = machine_info(m);

	if (gi->gi_ptdptdi >= NPDEPG || gi->gi_ptmap != gi->gi_ptdptdi << PDRSHIFT || (gi->gi_kernbase & PDRMASK))
		return errorf(err, errlen, "guest_info's layout does not hang together: KERNBASE 0x%08x, recursive slot "
		    "%u, PTmap 0x%08x", gi->gi_kernbase, gi->gi_ptdptdi, gi->gi_ptmap);
	m->lay.kernbase = gi->gi_kernbase;
	m->lay.kpdi = PDX(gi->gi_kernbase);
	m->lay.self = gi->gi_ptdptdi;
	m->lay.ptmap = gi->gi_ptmap;
	return 0;
}

/* Flat 32-bit protected mode: GDT, segments (loaded while paging is off). */
static void setup_cpu(struct machine *m, uint32_t entry)
{
	static const uint64_t gdt[3] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };
	uc_x86_mmr gdtr = { 0, GDT_PA, sizeof(gdt) - 1, 0 };

	memcpy(m->pm.ram + GDT_PA, gdt, sizeof(gdt));
	uc_reg_write(m->uc, UC_X86_REG_GDTR, &gdtr);
	machine_set_reg(m, UC_X86_REG_CR0, CR0_PE);
	machine_set_reg(m, UC_X86_REG_CR3, 0);
	machine_set_reg(m, UC_X86_REG_CR4, 0);
	machine_set_reg(m, UC_X86_REG_CS, 0x08);
	machine_set_reg(m, UC_X86_REG_DS, 0x10);
	machine_set_reg(m, UC_X86_REG_ES, 0x10);
	machine_set_reg(m, UC_X86_REG_SS, 0x10);
	machine_set_reg(m, UC_X86_REG_FS, 0x10);
	machine_set_reg(m, UC_X86_REG_GS, 0x10);
	machine_set_reg(m, UC_X86_REG_EIP, entry);
}

/* Find what the host needs in the guest and fill the info block's inputs. */
static int bind_guest(struct machine *m, const struct machine_config *cfg, char *err, size_t errlen)
{
	uint32_t ret_pa, stack_pa;
	struct guest_info *gi;

	if (symbol_pa(m, "guest_info", &m->info_pa, NULL) < 0 ||
	    symbol_pa(m, "rig_return", &ret_pa, &m->rig_return) < 0 ||
	    symbol_pa(m, "bootstack_top", &stack_pa, &m->stack_top0) < 0)
		return errorf(err, errlen, "%s: not a pmaprig guest (no guest_info, rig_return or bootstack_top symbol)",
		    cfg->guest_path);
	m->cpu[0].stack_top = m->stack_top0;
	gi = machine_info(m);
	if (gi == NULL || gi->gi_magic != RIG_INFO_MAGIC)
		return errorf(err, errlen, "%s: guest_info has the wrong magic", cfg->guest_path);
	if (gi->gi_abi_version != RIG_ABI_VERSION)
		return errorf(err, errlen, "%s: guest ABI version %u, this rig speaks %u",
		    cfg->guest_path, gi->gi_abi_version, RIG_ABI_VERSION);
	gi->gi_ram_size = (uint32_t)m->pm.size;
	gi->gi_ncpu = (uint32_t)m->ncpu;
	gi->gi_pv_maxchunks_req = cfg->pv_maxchunks;
	return 0;
}

/*
 * With paging on, the GDT is reached at its kernel VA (the kernel maps
 * [0, _end) at image_off): an iret (an IPI's return) reloads CS from it.
 */
static void high_gdt(struct machine *m, uc_engine *uc)
{
	uc_x86_mmr gdtr;

	uc_reg_read(uc, UC_X86_REG_GDTR, &gdtr);
	gdtr.base = m->lay.image_off + GDT_PA;
	uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
}

/* Run the guest from its entry point through init386. */
static int boot(struct machine *m, char *err, size_t errlen)
{
	char why[300];

	setup_cpu(m, m->elf.entry);
	if (machine_run(m, m->elf.entry, 0) != STOP_RETURN || !machine_info(m)->gi_booted) {
		machine_describe_stop(m, why, sizeof(why));
		return errorf(err, errlen, "guest did not boot: %s", why);
	}
	if (read_layout(m, err, errlen) < 0)
		return -1;
	high_gdt(m, m->uc);
	if (uc_context_alloc(m->uc, &m->cpu[0].boot_ctx) != UC_ERR_OK ||
	    uc_context_save(m->uc, m->cpu[0].boot_ctx) != UC_ERR_OK)
		return errorf(err, errlen, "cannot save the CPU context");
	return 0;
}

/*
 * Copy the boot CPU's segments and control registers to CPU cpu: the
 * segments are loaded with paging off, from the GDT at its physical
 * address, then paging goes on and the GDT is at its kernel VA.
 */
static void clone_cpu(struct machine *m, int cpu)
{
	static const int segs[] = { UC_X86_REG_CS, UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_SS, UC_X86_REG_FS,
		UC_X86_REG_GS };
	static const int crs[] = { UC_X86_REG_CR4, UC_X86_REG_CR0 };
	uc_engine *uc = m->cpu[cpu].uc;
	uc_x86_mmr gdtr;
	uint32_t cr3 = machine_info(m)->gi_boot_cr3;

	uc_reg_read(m->cpu[0].uc, UC_X86_REG_GDTR, &gdtr);
	gdtr.base = GDT_PA;
	uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		uint32_t v = machine_cpu_reg(m, 0, segs[i]);

		uc_reg_write(uc, segs[i], &v);
	}
	uc_reg_write(uc, UC_X86_REG_CR3, &cr3);
	for (size_t i = 0; i < sizeof(crs) / sizeof(crs[0]); i++) {
		uint32_t v = machine_cpu_reg(m, 0, crs[i]);

		uc_reg_write(uc, crs[i], &v);
	}
	high_gdt(m, uc);
}

/*
 * Bring up the other CPUs as the guest's info block says: each gets the
 * boot CPU's registers, its own stack, and a call of gi_ap_init(n) on it.
 * They stay idle until a step gives them work.
 */
static int start_aps(struct machine *m, char *err, size_t errlen)
{
	struct guest_info *gi = machine_info(m);
	char why[300];

	if (m->ncpu == 1)
		return 0;
	if (gi->gi_maxcpu < (uint32_t)m->ncpu || gi->gi_ap_init == 0 || gi->gi_ipi_entry == 0 || gi->gi_cpu_stacks == 0) {
		const char *base = strrchr(m->guest_path, '/');

		/* Not an open error: the runner says so after a `requires` check could skip the file. */
		snprintf(m->cpus_error, sizeof(m->cpus_error), "%s runs on at most %u CPU%s (guest_info.gi_maxcpu), "
		    "not %d", base ? base + 1 : m->guest_path, gi->gi_maxcpu > 1 ? gi->gi_maxcpu : 1,
		    gi->gi_maxcpu > 1 ? "s" : "", m->ncpu);
		return 0;
	}
	for (int cpu = 1; cpu < m->ncpu; cpu++) {
		uint32_t arg = (uint32_t)cpu;

		m->cpu[cpu].stack_top = gi->gi_cpu_stacks + cpu * gi->gi_cpu_stack_size;
		clone_cpu(m, cpu);
		machine_set_cpu(m, cpu);
		if (guest_call(m, gi->gi_ap_init, 1, &arg, NULL) != STOP_RETURN) {
			machine_describe_stop(m, why, sizeof(why));
			machine_set_cpu(m, 0);
			return errorf(err, errlen, "CPU %d did not come up: %s", cpu, why);
		}
		if (uc_context_alloc(m->uc, &m->cpu[cpu].boot_ctx) != UC_ERR_OK ||
		    uc_context_save(m->uc, m->cpu[cpu].boot_ctx) != UC_ERR_OK)
			return errorf(err, errlen, "cannot save CPU %d's context", cpu);
	}
	machine_set_cpu(m, 0);
	return 0;
}

/* Guest RAM: anonymous, lazily backed, so a large RAM costs nothing untouched. */
static int map_ram(struct machine *m, uint64_t size, char *err, size_t errlen)
{
	if (size < (4u << 20) || size > RIG_MAX_RAM || (size & PAGE_MASK))
		return errorf(err, errlen, "memory size %llu is out of range (4M to 2G, whole pages)",
		    (unsigned long long)size);
	m->pm.ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->pm.ram == MAP_FAILED) {
		m->pm.ram = NULL;
		return errorf(err, errlen, "cannot reserve %llu MiB of guest RAM", (unsigned long long)(size >> 20));
	}
	m->pm.size = size;
	return 0;
}

/*
 * One CPU's engine: its hooks, the RAM by pointer, the alias window and the
 * MMU. Every engine has the same memory map, made once, so watching never
 * changes it (a map call flushes the TLB).
 */
static int open_cpu(struct machine *m, int cpu, char *err, size_t errlen)
{
	struct cpu *c = &m->cpu[cpu];
	uc_err e;

	if ((e = uc_open(UC_ARCH_X86, UC_MODE_32, &c->uc)) != UC_ERR_OK)
		return errorf(err, errlen, "uc_open: %s", uc_strerror(e));
	if (m->ncpu > 1)
		uc_ctl_set_tcg_buffer_size(c->uc, 32u << 20);	/* not 1 GiB of code buffer per CPU */
	if (uc_hook_add(c->uc, &c->hooks[0], UC_HOOK_INTR, (void *)hook_intr, m, 1, 0) != UC_ERR_OK ||
	    uc_hook_add(c->uc, &c->hooks[1], UC_HOOK_INSN, (void *)hook_out, m, 1, 0, UC_X86_INS_OUT) != UC_ERR_OK ||
	    uc_hook_add(c->uc, &c->hooks[2], UC_HOOK_INSN, (void *)hook_in, m, 1, 0, UC_X86_INS_IN) != UC_ERR_OK)
		return errorf(err, errlen, "cannot install the emulator hooks");
	if ((e = uc_mem_map_ptr(c->uc, 0, m->pm.size, UC_PROT_ALL, m->pm.ram)) != UC_ERR_OK)
		return errorf(err, errlen, "uc_mem_map_ptr: %s", uc_strerror(e));
	if ((e = uc_mmio_map(c->uc, ALIAS_BASE, m->pm.size, alias_read, m, alias_write, m)) != UC_ERR_OK)
		return errorf(err, errlen, "uc_mmio_map (the alias window): %s", uc_strerror(e));
	if (mmu_init(&c->mmu, c->uc, &m->pm) < 0)
		return errorf(err, errlen, "cannot install the MMU (UC_TLB_VIRTUAL and its fill hook)");
	return 0;
}

/* The engines, the code sites over the guest text, and the watchdog thread. */
static int start_engines(struct machine *m, char *err, size_t errlen)
{
	uc_engine *ucs[RIG_MAX_CPUS];

	for (int cpu = 0; cpu < m->ncpu; cpu++) {
		if (open_cpu(m, cpu, err, errlen) < 0)
			return -1;
		ucs[cpu] = m->cpu[cpu].uc;
	}
	machine_set_cpu(m, 0);
	if (sites_init(&m->sites, ucs, m->ncpu, &m->elf) < 0)
		return errorf(err, errlen, "the guest has no executable segment");
	pthread_mutex_init(&m->wd_lock, NULL);
	if (pthread_create(&m->wd_thread, NULL, watchdog_main, m) != 0)
		return errorf(err, errlen, "cannot start the watchdog thread");
	m->wd_started = 1;
	return 0;
}

int machine_open(struct machine *m, const struct machine_config *cfg, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	m->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : RIG_DEFAULT_TIMEOUT_MS;
	m->ncpu = cfg->ncpu ? cfg->ncpu : 1;
	snprintf(m->guest_path, sizeof(m->guest_path), "%s", cfg->guest_path);
	m->pv_maxchunks = cfg->pv_maxchunks;
	m->dis = disasm_open();
	if (m->ncpu < 1 || m->ncpu > RIG_MAX_CPUS)
		return errorf(err, errlen, "%d CPUs: the rig runs 1 to %d", m->ncpu, RIG_MAX_CPUS), machine_close(m), -1;
	if (elf_load_file(&m->elf, cfg->guest_path, err, errlen) < 0 || image_offset(m, err, errlen) < 0 ||
	    contract_load(&m->ct, cfg->guest_path, &m->elf, err, errlen) < 0 ||
	    map_ram(m, cfg->ram_size ? cfg->ram_size : RIG_DEFAULT_RAM, err, errlen) < 0 ||
	    start_engines(m, err, errlen) < 0 ||
	    load_guest(m, err, errlen) < 0 || bind_guest(m, cfg, err, errlen) < 0 ||
	    (m->ncpu > 1 && sched_open(m) < 0 && errorf(err, errlen, "cannot set up the scheduler of %d CPUs", m->ncpu)) ||
	    boot(m, err, errlen) < 0 || start_aps(m, err, errlen) < 0) {
		machine_close(m);
		return -1;
	}
	return 0;
}

void machine_close(struct machine *m)
{
	if (getenv("RIG_MMU_STATS") && m->mmu != NULL)
		fprintf(stderr, "mmu: fills %llu served %llu walks %llu flushes %llu site hits %llu alias r %llu w %llu\n",
		    (unsigned long long)m->mmu->fills, (unsigned long long)m->mmu->served,
		    (unsigned long long)m->mmu->walks, (unsigned long long)m->mmu->flushes,
		    (unsigned long long)m->sites.hits, (unsigned long long)m->alias_reads,
		    (unsigned long long)m->alias_writes);
	if (m->wd_started) {
		pthread_mutex_lock(&m->wd_lock);
		m->wd_quit = 1;
		pthread_mutex_unlock(&m->wd_lock);
		pthread_join(m->wd_thread, NULL);
		pthread_mutex_destroy(&m->wd_lock);
	}
	machine_snapshot_free(m);
	srcline_close(m->src);
	m->src = NULL;
	m->src_tried = 0;
	sched_close(m);
	sites_free(&m->sites);
	for (int cpu = 0; cpu < RIG_MAX_CPUS; cpu++) {
		struct cpu *c = &m->cpu[cpu];

		if (c->boot_ctx != NULL)
			uc_context_free(c->boot_ctx);
		if (c->uc != NULL)
			uc_close(c->uc);
		mmu_free(&c->mmu);
	}
	if (m->pm.ram != NULL)
		munmap(m->pm.ram, m->pm.size);
	disasm_close(m->dis);
	elf_free(&m->elf);
	contract_free(&m->ct);
	memset(m, 0, sizeof(*m));
}

struct guest_info *machine_info(struct machine *m)
{
	return phys_ptr(&m->pm, m->info_pa, sizeof(struct guest_info));
}

int machine_vread(struct machine *m, uint32_t va, void *buf, size_t len)
{
	return vread(&m->pm, machine_reg(m, UC_X86_REG_CR3), machine_reg(m, UC_X86_REG_CR4), va, buf, len, NULL);
}

int machine_vwrite(struct machine *m, uint32_t va, const void *buf, size_t len)
{
	return vwrite(&m->pm, machine_reg(m, UC_X86_REG_CR3), machine_reg(m, UC_X86_REG_CR4), va, buf, len, NULL);
}

void *machine_kva_ptr(struct machine *m, uint32_t va, size_t len)
{
	if (va < m->lay.image_off)
		return NULL;
	return phys_ptr(&m->pm, va - m->lay.image_off, len);
}

void machine_kva_cache(struct machine *m, int on)
{
	memset(m->kva_cache, 0, sizeof(m->kva_cache));
	m->kva_cache_on = on;
}

void machine_kva_forget(struct machine *m, uint32_t va)
{
	if (va == 0)
		memset(m->kva_cache, 0, sizeof(m->kva_cache));
	else
		m->kva_cache[(va >> PAGE_SHIFT) & (KVA_CACHE_SIZE - 1)].vpage = 0;
}

/* Translate a kernel VA through the cache (vpage 0 is never a kernel page). */
static int kva_translate(struct machine *m, uint32_t va, struct walk *w)
{
	uint32_t vp = va >> PAGE_SHIFT;
	typeof(m->kva_cache[0]) *e = &m->kva_cache[vp & (KVA_CACHE_SIZE - 1)];

	if (m->kva_cache_on && e->vpage == vp) {
		w->pa = (e->ppage << PAGE_SHIFT) | (va & PAGE_MASK);
		return WALK_MAPPED;
	}
	if (walk_va(&m->pm, machine_info(m)->gi_boot_cr3, 0, va, w) != WALK_MAPPED)
		return w->status;
	if (m->kva_cache_on && va >= m->lay.kernbase) {
		e->vpage = vp;
		e->ppage = w->pa >> PAGE_SHIFT;
	}
	return WALK_MAPPED;
}

void *machine_gptr(struct machine *m, uint32_t va, size_t len)
{
	uint32_t last = va + (uint32_t)len - 1;
	struct walk w, w2;

	if (len == 0 || last < va || kva_translate(m, va, &w) != WALK_MAPPED)
		return NULL;
	/* An object crossing a page boundary must be physically contiguous. */
	if ((last & PG_FRAME) != (va & PG_FRAME) &&
	    (kva_translate(m, last, &w2) != WALK_MAPPED || w2.pa != w.pa + (len - 1)))
		return NULL;
	return phys_ptr(&m->pm, w.pa, len);
}

static const char *vector_name(int v)
{
	static const char *names[] = { "#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
		"#OF overflow", "#BR bound", "#UD invalid opcode", "#NM no FPU", "#DF double fault",
		"coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
		"#SS stack fault", "#GP general protection", "#PF page fault" };

	return v >= 0 && v < (int)(sizeof(names) / sizeof(names[0])) ? names[v] : "exception";
}

/*
 * "sym+0x12 (pmap.c:456) [0xc0101234]: mov eax, dword ptr [edx]" for a
 * guest EIP; "sym (pmap.c)" alone under SYM_STABLE (the rest is code layout).
 */
static void describe_insn(struct machine *m, uint32_t eip, char *buf, size_t len)
{
	char sym[512], text[96];
	uint8_t code[16];
	size_t n = 0;

	if (m->sym_flags & SYM_STABLE) {
		guest_addr_name(m, eip, m->sym_flags, buf, len);
		return;
	}
	while (n < sizeof(code) && machine_vread(m, eip + n, &code[n], 1) == 0)
		n++;
	disasm_one(m->dis, code, n, eip, text, sizeof(text));
	snprintf(buf, len, "%s [0x%08x]: %s", guest_addr_name(m, eip, m->sym_flags, sym, sizeof(sym)), eip, text);
}

void machine_describe_stop(struct machine *m, char *buf, size_t len)
{
	char where[1024];
	const struct machine_stop *s = &m->stop;

	describe_insn(m, s->eip, where, sizeof(where));
	switch (s->kind) {
	case STOP_RETURN:
		snprintf(buf, len, "returned");
		break;
	case STOP_FAULT:
		if (s->vector == 14)
			snprintf(buf, len, "guest fault: %s (vector 14) at %s; CR2=0x%08x CR3=0x%08x",
			    vector_name(14), where, s->cr2, s->cr3);
		else
			snprintf(buf, len, "guest fault: %s (vector %d) at %s", vector_name(s->vector),
			    s->vector, where);
		break;
	case STOP_PANIC:
		guest_format_frames(m, s->frames, s->nframes, 0, m->sym_flags, where, sizeof(where));
		snprintf(buf, len, "guest panic: \"%s\" in %s", s->message, s->nframes ? where : "?");
		break;
	case STOP_HANG:
		snprintf(buf, len, "guest hang: %s; stopped at %s", s->message, where);
		break;
	case STOP_LIVELOCK:
		if (s->spin_callers[0])
			snprintf(buf, len, "the guest spins in %s (called from %s): %s; it stayed on the stack for %d "
			    "blocks while its callees came and went", s->spin, s->spin_callers, s->message, LIVELOCK_BLOCKS);
		else
			snprintf(buf, len, "the guest spins in %s: %s; it stayed on the stack for %d blocks", s->spin,
			    s->message, LIVELOCK_BLOCKS);
		break;
	case STOP_BREAK:
		snprintf(buf, len, "stopped at a break point at %s", where);
		break;
	case STOP_DEADLOCK:
		snprintf(buf, len, "%s:%s", s->message, m->deadlock_text);
		break;
	case STOP_ERROR:
		if (s->eip == 0)
			snprintf(buf, len, "%s", s->message);
		else
			snprintf(buf, len, "emulator error: %s at %s", s->message, where);
		break;
	}
}

const char *machine_unicorn_version(void)
{
	static char buf[32];
	unsigned major, minor;
	unsigned v = uc_version(&major, &minor);

	snprintf(buf, sizeof(buf), "%u.%u.%u", major, minor, (v >> 8) & 0xff);
	return buf;
}
