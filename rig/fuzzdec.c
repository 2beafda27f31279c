/*
 * fuzzdec.c - owns the bytes-to-scenario decoding of `rig fuzz` and the
 * process-wide guest coverage table (fuzzdec.h).
 */
#include "fuzzdec.h"
#include "machine.h"

#include <stdio.h>
#include <stdlib.h>

uint8_t *fuzz_counters;
size_t fuzz_ncounters;

void fuzz_cover(uint8_t *counters, size_t n)
{
	while (n & (n - 1))	/* a power of two: the block hook masks instead of dividing */
		n &= n - 1;
	fuzz_counters = n ? counters : NULL;
	fuzz_ncounters = n;
}

/* The next input byte (0 past the end). */
static unsigned next(const uint8_t *d, size_t size, size_t *i)
{
	return *i < size ? d[(*i)++] : 0;
}

/*
 * One operation from the bytes at *i into f. kentered: the kernel VAs (of
 * 16) that hold a kenter: a kremove is only decoded where a kenter was
 * (elsewhere the kernel may have no page table, and pmap_kremove faults,
 * as FreeBSD's does: the caller's misuse, not a finding).
 */
static void decode_op(FILE *f, const uint8_t *d, size_t size, size_t *i, uint32_t kva, int fail_alloc,
    uint16_t *kentered)
{
	static const char *const pmaps[] = { "a", "b" };
	static const char *const prots[] = { "r", "rw", "none", "rw" };
	unsigned op = next(d, size, i) % 16, x = next(d, size, i), y = next(d, size, i);
	const char *pm = pmaps[x & 1];
	uint32_t va = 0x10000000u + ((x >> 1) % 128) * 0x1000u, kv = kva + (y % 16) * 0x1000u;
	unsigned pg = y % 64, n = 1 + (y >> 3) % 8;

	switch (op) {
	case 0: case 1: case 2:
		fprintf(f, "map %s 0x%08x p[%u] %s%s or-shortage\n", pm, va, pg, prots[y >> 6 & 1], (y >> 5 & 3) == 3 ? " wired" : "");
		break;
	case 3:		/* all 64 pages; one time in eight six slots, more than a chunk holds (336) */
		for (unsigned k = 0; k < ((y & 0x38) == 0x38 ? 6u : 1u); k++)
			fprintf(f, "map %s 0x%08x p %s or-shortage\n", pm,
			    0x10000000u + ((((x >> 1) % 8) + k) % 8) * 0x40000u, prots[y >> 6 & 1]);
		break;
	case 4:
		fprintf(f, "unmap %s 0x%08x +%u\n", pm, va, n);
		break;
	case 5:
		fprintf(f, "protect %s 0x%08x +%u %s\n", pm, va, n, prots[y >> 6 & 3]);
		break;
	case 6:
		fprintf(f, "unmap-all p[%u]\n", pg);
		break;
	case 7: case 8:
		fprintf(f, "touch %s 0x%08x %s model\n", pm, va + (y & 0xfc), y & 1 ? "w" : "r");
		break;
	case 9:
		fprintf(f, "%s p[%u]\n", y & 1 ? "clear-modify" : "query", pg);
		break;
	case 10:
		fprintf(f, "activate %s\n", y & 1 ? "kernel" : pm);
		break;
	case 11: case 12:
		if (op == 12 && (*kentered >> (y % 16) & 1)) {
			fprintf(f, "kremove 0x%08x\n", kv);
			*kentered &= (uint16_t)~(1u << (y % 16));
		} else {
			fprintf(f, "kenter 0x%08x p[%u]\n", kv, pg);
			*kentered |= (uint16_t)(1u << (y % 16));
		}
		break;
	case 13:
		fprintf(f, "map kernel 0x%08x p[%u] %s or-shortage\n", kv + 0x400000u, pg, prots[y >> 6 & 1]);
		break;
	case 14:
		if ((y & 1) && fail_alloc)
			fprintf(f, "fail alloc %s\n", y & 2 ? "off" : "after 1");
		else
			fprintf(f, "unmap kernel 0x%08x +%u\n", kv + 0x400000u, n);
		break;
	default:	/* all of the fuzzed span; then perhaps the pmap destroyed and made again */
		fprintf(f, "unmap %s 0x%08x +512\n", pm, 0x10000000u);
		if (y & 1)
			fprintf(f, "destroy %s\npmap %s\n", pm, pm);
		break;
	}
}

char *fuzz_decode(const uint8_t *data, size_t size, const char *guest, uint32_t kva, int fail_alloc, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	size_t i = 0;
	uint16_t kentered = 0;

	if (f == NULL)
		return NULL;
	fprintf(f, "guest %s\npv-chunks %u\nmemory %uM\npmap a\npmap b\npage p 64\n", guest,
	    fail_alloc ? FUZZ_PV_CHUNKS : FUZZ_PV_CHUNKS_WAITING, FUZZ_RAM >> 20);
	/* Grow the kernel over both kernel windows first: with `fail alloc` on, a kernel that cannot
	 * grow panics (as FreeBSD's does), which is the fault injection's doing, not a finding. */
	fprintf(f, "kenter 0x%08x p[63]\nkremove 0x%08x\nmap kernel 0x%08x p[63] or-shortage\nunmap kernel 0x%08x +1\n",
	    kva, kva, kva + 0x400000u, kva + 0x400000u);
	for (int k = 0; k < FUZZ_MAX_OPS && i < size; k++)
		decode_op(f, data, size, &i, kva, fail_alloc, &kentered);
	fclose(f);
	return buf;
}

int fuzz_machine_open(struct machine *m, const char *path, int *fail_alloc, char *err, size_t errlen)
{
	struct machine_config cfg = { path, FUZZ_RAM, FUZZ_PV_CHUNKS, 0, 1 };

	if (machine_open(m, &cfg, err, errlen) < 0)
		return -1;
	if ((*fail_alloc = contract_has(&m->ct, "shortage-returns")))
		return 0;
	machine_close(m);	/* a guest that waits for memory: a block no input exhausts */
	cfg.pv_maxchunks = FUZZ_PV_CHUNKS_WAITING;
	return machine_open(m, &cfg, err, errlen);
}
