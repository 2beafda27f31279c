/*
 * fuzzdec.h - bytes to a scenario: the decoder of `rig fuzz` (fuzz/
 * fuzz_pmap.c). Every input decodes to a valid scenario: a fixed prologue
 * (two pmaps, 64 pages, a two-chunk block) and at most FUZZ_MAX_OPS
 * operations of every kind, each taking a few bytes. The same bytes are
 * always the same scenario, so a crash input is a file again. The prologue
 * also grows the kernel over the fuzzed kernel windows, so that `fail
 * alloc` never makes pmap_growkernel panic.
 */
#ifndef RIG_FUZZDEC_H
#define RIG_FUZZDEC_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_MAX_OPS	24
/* The prologue's machine: the fuzzer boots its snapshot with these. */
#define FUZZ_RAM	(8u << 20)
#define FUZZ_PV_CHUNKS	2

/*
 * The scenario for data on guest build `guest`, kernel VAs from kva (the
 * guest's scenario KVA); malloc'd. fail_alloc: it may make allocations
 * fail, which only a guest whose pmap_enter returns a shortage survives (a
 * guest without the feature shortage-returns waits for memory: LIVELOCK).
 */
char *fuzz_decode(const uint8_t *data, size_t size, const char *guest, uint32_t kva, int fail_alloc, size_t *len);
/*
 * A guest whose pmap_enter waits for memory (no feature shortage-returns)
 * gets a chunk block no input can exhaust (two pmaps of at most 640 pages
 * and 64 kernel pages: 1,344 entries, 4 chunks), and no `fail alloc`:
 * running out is a wait forever there, not a finding.
 */
#define FUZZ_PV_CHUNKS_WAITING	8

struct machine;
/* Boot the fuzzer's machine for the guest at path: 0 and *fail_alloc (fuzz_decode's), or -1 (err). */
int fuzz_machine_open(struct machine *m, const char *path, int *fail_alloc, char *err, size_t errlen);

/* Coverage of the guest's code, for libFuzzer's extra counters: every block the guest runs bumps
 * counters[(address >> 2) % n], n a power of two (one process-wide table: libFuzzer's is). NULL
 * turns it off. */
void fuzz_cover(uint8_t *counters, size_t n);
extern uint8_t *fuzz_counters;
extern size_t fuzz_ncounters;

#endif
