/* machine.h - a paged i386 machine in Unicorn, running the guest kernel. */
#ifndef RIG_MACHINE_H
#define RIG_MACHINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "contract.h"
#include "elfload.h"
#include "mmu.h"
#include "sites.h"
#include "walk.h"
#include "../guest/common/i386.h"
#include "../guest/common/rig_abi.h"

#define RIG_DEFAULT_RAM		(32u << 20)
#define RIG_MAX_RAM		(2048ull << 20)
#define RIG_DEFAULT_TIMEOUT_MS	2000
#define RIG_MAX_FRAMES		12
#define KVA_CACHE_SIZE		256	/* entries, a power of two */

struct disasm;
struct attrib;
struct watch_site;

struct machine_config {
	const char *guest_path;		/* guest ELF */
	uint64_t ram_size;		/* bytes; 0 = RIG_DEFAULT_RAM */
	uint32_t pv_maxchunks;		/* 0 = the guest's default */
	uint32_t timeout_ms;		/* per guest call; 0 = RIG_DEFAULT_TIMEOUT_MS */
	int ncpu;			/* CPUs; 0 = 1 */
};

/* Why the guest stopped running. */
enum stop_kind {
	STOP_RETURN,	/* returned to rig_return normally */
	STOP_FAULT,	/* CPU exception */
	STOP_PANIC,	/* guest panic() */
	STOP_HANG,	/* no return within the time budget */
	STOP_ERROR,	/* the emulator itself failed */
	STOP_BREAK,	/* the host asked to stop (--break-on-pte) */
	STOP_LIVELOCK,	/* no return within the time budget, spinning in one function */
	STOP_DEADLOCK,	/* every CPU with work spins, and none makes progress (scheduler.c) */
};

struct machine_stop {
	enum stop_kind kind;
	int vector;		/* STOP_FAULT: exception vector */
	uint32_t eip;		/* where the guest was */
	uint32_t cr2;		/* STOP_FAULT with vector 14 */
	uint32_t err;		/* STOP_FAULT with vector 14: the error code */
	uint32_t cr3;
	char message[256];	/* panic text, or emulator error */
	uint32_t frames[RIG_MAX_FRAMES]; /* STOP_PANIC: return addresses, innermost first */
	int nframes;
	char spin[64];		/* STOP_LIVELOCK: the function that never returns */
	char spin_callers[256];	/* and its callers */
	int cpu;		/* the CPU that stopped */
};

struct sched;

/* One CPU: its own engine over the shared RAM and alias window, its MMU and TLB model. */
struct cpu {
	uc_engine *uc;
	struct mmu mmu;
	uc_hook hooks[3];
	uc_context *boot_ctx;		/* its state once it came up, for recovery */
	uint32_t stack_top;		/* host calls on it run below this */
	uint32_t cr3_seen;		/* the last CR3 the watcher saw it load (watch.c) */
};

/*
 * The guest's address-space layout: the image offset from its ELF, the
 * rest from guest_info once it booted. No host code assumes our guest's
 * KERNBASE or recursive slot (FreeBSD's slot is below KERNBASE).
 */
struct glayout {
	uint32_t image_off;	/* kernel image VA - PA (from the ELF's segments) */
	uint32_t kernbase;	/* first kernel VA */
	uint32_t kpdi;		/* its PDE index */
	uint32_t self;		/* the recursive slot: the directory maps itself here */
	uint32_t ptmap;		/* VA of PTmap, self << PDRSHIFT */
};

/* Is PDE slot pdx one of the kernel's (shared by every directory)? */
static inline int lay_kernel_pdx(const struct glayout *l, uint32_t pdx)
{
	return pdx >= l->kpdi && pdx != l->self;
}

/* The end of user VAs: KERNBASE, or PTmap when the recursive slot is below KERNBASE. */
static inline uint32_t lay_user_end(const struct glayout *l)
{
	return l->self < l->kpdi ? l->ptmap : l->kernbase;
}

/* Is PDE slot pdx one of a user space's own? */
static inline int lay_user_pdx(const struct glayout *l, uint32_t pdx)
{
	return pdx < l->kpdi && pdx != l->self;
}

struct machine {
	uc_engine *uc;			/* the engine of the CPU that runs now (cpu[cur]) */
	struct mmu *mmu;		/* and its MMU */
	int ncpu, cur;
	struct cpu cpu[RIG_MAX_CPUS];
	struct sched *sched;		/* with several CPUs: who runs when (scheduler.c) */
	/* A parallel step's calls go here instead of running (runner_smp.c). */
	enum stop_kind (*run_hook)(void *arg, uint32_t eip, uint32_t esp);
	void *run_arg;
	struct contract ct;		/* the guest's descriptor, resolved */
	struct glayout lay;
	struct physmem pm;		/* guest RAM, mapped into Unicorn by pointer */
	struct elf_image elf;
	struct sites sites;		/* host code before chosen guest instructions */
	/* Stores into the alias window, before they land (the watcher). */
	void (*alias_write)(void *arg, uint64_t pa, unsigned size, uint64_t value);
	void *alias_arg;
	uint64_t alias_reads, alias_writes;	/* accesses through the window */
	struct disasm *dis;
	uint32_t timeout_ms;
	uint32_t info_pa;		/* physical address of guest_info */
	uint32_t rig_return;		/* the hlt every host call returns to */
	uint32_t stack_top0;		/* the boot stack: host calls on CPU 0 */
	struct machine_stop stop;	/* of the last run */
	uint64_t runs;			/* machine_run calls so far */
	char console[1024];		/* what the guest printed (tail) */
	size_t console_len;
	/* watchdog: stops a run that outlives timeout_ms */
	pthread_t wd_thread;
	pthread_mutex_t wd_lock;
	uint64_t wd_seq;		/* odd while a run is in progress */
	int wd_quit, wd_started;
	int wd_held;			/* machine_watchdog_hold: a debugger has the guest stopped */
	volatile int wd_fired;
	volatile int wd_synced;		/* a block hook stopped the run the watchdog wanted stopped:
					 * the CPU state is exact (an asynchronous stop's EIP is not) */
	int block_hooked;		/* a UC_HOOK_BLOCK hook honours wd_fired (attrib.c) */
	/* the snapshot (snapshot.c) and what it must match */
	uint8_t *snap_ram;		/* guest RAM after boot, or NULL */
	struct attrib *attrib;		/* the block hook and decoded stores, kept across restores */
	struct watch_site *scan;	/* the watch sites found in the text (watch.c), kept likewise */
	int nscan;
	uint64_t restores, restore_ns, restore_frames;	/* what restoring cost so far */
	/* What a run learned of the snapshot's state that every run on it would learn again
	 * (runner.c keeps the checker's state after its boot check here); freed with the snapshot. */
	void *memo;
	void (*memo_free)(void *);
	uint32_t memo_key;
	char snap_console[1024];
	size_t snap_console_len;
	char guest_path[512];
	struct srcline *src;		/* its line table, opened at the first name asked (guestsym.c) */
	int src_tried;
	int sym_flags;			/* how code reads in the machine's own messages (SYM_STABLE) */
	uint32_t pv_maxchunks;
	const struct elf_symbol *ll_common[RIG_MAX_FRAMES + 1];	/* livelock: on every sampled stack */
	int ll_ncommon, ll_nsamples;
	char cpus_error[600];		/* the other CPUs could not come up (the guest's reason), or "" */
	char deadlock_text[1024];	/* STOP_DEADLOCK: each CPU with work, and its stack */
	int break_requested;		/* set by machine_request_stop or _break */
	uint32_t break_eip;
	/* Kernel VA page -> physical page, for machine_gptr; only while a
	 * watcher keeps it coherent (it sees every kernel PTE/PDE write). */
	struct { uint32_t vpage, ppage; } kva_cache[KVA_CACHE_SIZE];
	int kva_cache_on;
};

/* Create, load the guest and boot it; 0, or -1 with a message in err. */
int machine_open(struct machine *m, const struct machine_config *cfg, char *err, size_t errlen);
void machine_close(struct machine *m);
/* Run from eip with esp until the guest halts, faults, panics or hangs. */
enum stop_kind machine_run(struct machine *m, uint32_t eip, uint32_t esp);
/* Livelock samples to take, one per block, once the watchdog fired (machine_livelock_sample). */
#define LIVELOCK_BLOCKS	200000
/* From the block hook, after the budget ran out: one sample of the guest's stack. */
void machine_livelock_sample(struct machine *m);
/* A debugger stops the guest inside a hook (hold 1) and lets it go (0): the time between is no hang. */
void machine_watchdog_hold(struct machine *m, int hold);
/* Who hears of stores into the alias window (NULL: nobody). */
void machine_on_alias_write(struct machine *m, void (*fn)(void *, uint64_t, unsigned, uint64_t), void *arg);
/* From a hook: stop the run before the next instruction; machine_run reports STOP_BREAK. */
void machine_request_stop(struct machine *m);
/* The same from a memory hook, where EIP is not exact: the stop is at eip (the instruction that was hit). */
void machine_request_break(struct machine *m, uint32_t eip);
/* The guest info block, in place in guest memory. */
struct guest_info *machine_info(struct machine *m);
uint32_t machine_reg(struct machine *m, int reg);
/* A register of CPU cpu (not necessarily the one running). */
uint32_t machine_cpu_reg(struct machine *m, int cpu, int reg);
/* Make cpu the current CPU: m->uc and m->mmu are its. */
void machine_set_cpu(struct machine *m, int cpu);
/* The stack a host call on the current CPU runs on. */
uint32_t machine_stack_top(const struct machine *m);
/*
 * A run in stretches (scheduler.c): begin, then run the current CPU from eip
 * until it halts or is stopped (STOP_RETURN; a halt anywhere, or a stop
 * the scheduler asked for) or stops abnormally (the kind, in m->stop),
 * then end, which puts a CPU that stopped abnormally back as it came up.
 */
void machine_run_begin(struct machine *m);
enum stop_kind machine_run_stretch(struct machine *m, uint32_t eip);
void machine_run_end(struct machine *m);
void machine_set_reg(struct machine *m, int reg, uint32_t v);
/* Guest virtual memory under the current CR3. */
int machine_vread(struct machine *m, uint32_t va, void *buf, size_t len);
int machine_vwrite(struct machine *m, uint32_t va, const void *buf, size_t len);
/* Describe the last stop in one line ("page fault (#PF) at sym+0x1c: ..."). */
void machine_describe_stop(struct machine *m, char *buf, size_t len);
/* Return addresses on the guest stack from frame pointer ebp (at most max). */
int machine_backtrace(struct machine *m, uint32_t ebp, uint32_t *frames, int max);
/* Turn the kernel VA cache on (a watcher invalidates it) or off. */
void machine_kva_cache(struct machine *m, int on);
/* Forget the cached translation of one kernel VA (or all, for va = 0). */
void machine_kva_forget(struct machine *m, uint32_t va);
/* Kernel-image VA to physical pointer (the kernel is at KERNBASE + pa). */
void *machine_kva_ptr(struct machine *m, uint32_t va, size_t len);
/* Host pointer for len bytes at guest VA under the kernel space; NULL if
 * unmapped or (across a page boundary) not physically contiguous. */
void *machine_gptr(struct machine *m, uint32_t va, size_t len);
const char *machine_unicorn_version(void);

/*
 * A snapshot of a booted machine (snapshot.c), restored before each run of
 * a machine that runs many scenarios (the fuzzer's inputs): guest RAM, the
 * CPU and the host's view of both, without a boot. Restoring needs every
 * runner detached. 0, or -1 (out of memory; no snapshot; still attached).
 */
int machine_snapshot(struct machine *m);
int machine_restore(struct machine *m);
/* Drop the snapshot (machine_close). */
void machine_snapshot_free(struct machine *m);
/* Was m booted as cfg would boot it, with a snapshot? */
int machine_fits(const struct machine *m, const struct machine_config *cfg);
/* The host wrote len bytes at p, a pointer into guest RAM. */
void machine_wrote(struct machine *m, const void *p, size_t len);

#endif
