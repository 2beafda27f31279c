/*
 * snapshot.c - owns a machine's snapshot: its state right after boot, and
 * restoring it, so one booted machine runs many scenarios (the fuzzer's
 * inputs) without booting again. A restore puts back guest RAM, the CPU
 * and the host's view of both; the engine, its translated code, the loaded
 * image and the descriptor stay, which is what makes it cheaper than a
 * boot.
 *
 * A restored machine is the snapshotted one, exactly: the runner detaches
 * everything it attached (hooks, sites, the watched set, the TLB model)
 * before the machine is restored, and the restore drops what the detaches
 * leave (Unicorn's TLB, the stop, the console). tests/snapshot_equiv.c
 * holds it to that: every fixture ends on a restored machine as on a boot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attrib.h"
#include "machine.h"

/*
 * The attribution's block hook and its decoded blocks (a function of the
 * guest's code alone) stay installed across restores: adding the hook
 * again would drop all translated code each time (attrib_init), and
 * decoding is most of what attribution costs. What a run learns (blocks
 * whose stores became sites) is forgotten at each restore (attrib_restart).
 * The watcher keeps its scan of the text here too (m->scan): the code a
 * restore puts back is the code it scanned.
 */
int machine_snapshot(struct machine *m)
{
	if (m->ncpu > 1)
		return -1;	/* one CPU's context only */
	machine_snapshot_free(m);
	m->snap_ram = malloc(m->pm.size);
	m->pm.dirty = calloc(m->pm.size >> PAGE_SHIFT, 1);
	m->attrib = calloc(1, sizeof(*m->attrib));
	/* A site's address keeps its hook when the site goes: unhooking and hooking
	 * again, as each run removes and adds the same sites, would drop translated code. */
	m->sites.keep = 1;
	if (m->snap_ram == NULL || m->pm.dirty == NULL || m->attrib == NULL || attrib_init(m->attrib, m) < 0 ||
	    m->cpu[0].boot_ctx == NULL || uc_context_save(m->uc, m->cpu[0].boot_ctx) != UC_ERR_OK) {
		machine_snapshot_free(m);
		return -1;
	}
	memcpy(m->snap_ram, m->pm.ram, m->pm.size);
	memcpy(m->snap_console, m->console, sizeof(m->console));
	m->snap_console_len = m->console_len;
	return 0;
}

/*
 * Guest RAM as it was: only the frames written since the snapshot. The MMU
 * marks every frame it hands out writable and every entry whose A/D bits
 * it sets, and the host marks what it writes itself (phys_dirty,
 * machine_wrote); a frame outside these was not written. RIG_SNAPSHOT_VERIFY
 * compares the whole RAM after the restore and aborts on a frame missed.
 * A frame of the guest's text that a (buggy) run wrote loses its translated
 * code too: Unicorn does not see the host put the old bytes back.
 */
static void restore_ram(struct machine *m)
{
	uint32_t f, va, n = (uint32_t)(m->pm.size >> PAGE_SHIFT);

	for (f = 0; f < n; f++)
		if (m->pm.dirty[f]) {
			memcpy(m->pm.ram + ((size_t)f << PAGE_SHIFT), m->snap_ram + ((size_t)f << PAGE_SHIFT), PAGE_SIZE);
			m->pm.dirty[f] = 0;
			m->restore_frames++;
			va = (f << PAGE_SHIFT) + m->lay.image_off;
			if (va + PAGE_SIZE > m->sites.lo && va < m->sites.hi)
				uc_ctl_remove_cache(m->uc, va, (uint64_t)va + PAGE_SIZE);
		}
	if (getenv("RIG_SNAPSHOT_VERIFY") && memcmp(m->pm.ram, m->snap_ram, m->pm.size) != 0) {
		for (f = 0; f < n && !memcmp(m->pm.ram + ((size_t)f << PAGE_SHIFT),
		    m->snap_ram + ((size_t)f << PAGE_SHIFT), PAGE_SIZE); f++)
			;
		fprintf(stderr, "rig: snapshot: frame %#x was written but not marked dirty\n", f);
		abort();
	}
}

void machine_wrote(struct machine *m, const void *p, size_t len)
{
	phys_dirty(&m->pm, (uint64_t)((const uint8_t *)p - m->pm.ram), len);
}

int machine_restore(struct machine *m)
{
	struct timespec t0, t1;

	if (m->snap_ram == NULL || m->mmu->model || m->mmu->watched != NULL || m->alias_write != NULL)
		return -1;	/* no snapshot, or a runner still attached */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	restore_ram(m);
	if (uc_context_restore(m->uc, m->cpu[0].boot_ctx) != UC_ERR_OK)
		return -1;
	uc_ctl_flush_tlb(m->uc);	/* what the last run cached maps frames of another RAM */
	m->mmu->aliased = m->mmu->alias_loads = 0;
	memset(&m->mmu->fault, 0, sizeof(m->mmu->fault));
	memset(&m->stop, 0, sizeof(m->stop));
	memcpy(m->console, m->snap_console, sizeof(m->console));
	m->console_len = m->snap_console_len;
	m->block_hooked = 1;	/* the kept block hook */
	attrib_restart(m->attrib);
	m->break_requested = 0;
	m->ll_ncommon = m->ll_nsamples = 0;
	machine_kva_cache(m, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	m->restores++;
	m->restore_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
	return 0;
}

void machine_snapshot_free(struct machine *m)
{
	if (m->memo != NULL && m->memo_free != NULL)
		m->memo_free(m->memo);
	m->memo = NULL;
	if (m->attrib != NULL) {
		attrib_free(m->attrib);
		free(m->attrib);
	}
	m->sites.keep = 0;
	free(m->snap_ram);
	free(m->pm.dirty);
	free(m->scan);
	m->scan = NULL;
	m->nscan = 0;
	m->attrib = NULL;
	m->snap_ram = NULL;
	m->pm.dirty = NULL;
}

int machine_fits(const struct machine *m, const struct machine_config *cfg)
{
	return m->snap_ram != NULL && !strcmp(m->guest_path, cfg->guest_path) && m->ncpu == (cfg->ncpu ? cfg->ncpu : 1) &&
	    m->pm.size == (cfg->ram_size ? cfg->ram_size : RIG_DEFAULT_RAM) && m->pv_maxchunks == cfg->pv_maxchunks &&
	    m->timeout_ms == (cfg->timeout_ms ? cfg->timeout_ms : RIG_DEFAULT_TIMEOUT_MS);
}
