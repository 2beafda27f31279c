/*
 * fuzz_pmap.c - the libFuzzer target over a guest pmap (`rig fuzz`): the
 * input bytes decode into a valid scenario (rig/fuzzdec.c) that runs with
 * every check on; a violation, a panic, a guest crash or a livelock is a
 * finding: the scenario goes to stderr and the target aborts, so libFuzzer
 * keeps the input. A failed expectation, a shortage or a misuse is not a
 * finding. The guest's own coverage (its blocks) feeds libFuzzer's extra
 * counters, so the search follows the pmap's branches.
 *   RIG_FUZZ_GUEST  the guest build; else NAME when the binary is called
 *                   fuzz_pmap_NAME (as .clusterfuzzlite/build.sh ships it);
 *                   else ptelist
 *   RIG_GUEST_DIR   where the builds are
 *   RIG_FUZZ_FRESH  set: boot a machine per input instead of restoring the
 *                   snapshot (to measure what the snapshot saves)
 *   RIG_FUZZ_STATS  set: at exit, print the inputs run and what restoring cost
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzzdec.h"
#include "machine.h"
#include "runner.h"
#include "scenario.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t counters[1 << 14] __attribute__((section("__libfuzzer_extra_counters")));
static const char *guest = "ptelist";
static uint32_t kva;		/* the guest's scenario KVA */
static struct machine machine;	/* booted once; every input runs on its snapshot */
static int fresh;		/* RIG_FUZZ_FRESH: boot per input instead */
static int fail_alloc;		/* inputs may make allocations fail (fuzzdec.h) */
static uint64_t inputs;

/*
 * LeakSanitizer (in an OSS-Fuzz build) at exit: Unicorn 2.1 keeps a few
 * bytes per engine after uc_close, one engine per input; not the rig's.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libunicorn.so\n";
}

/* RIG_FUZZ_STATS: what the inputs cost, at exit. */
static void print_stats(void)
{
	fprintf(stderr, "fuzz_pmap: %llu inputs, %s; %llu restores, %.1f us and %.1f frames copied each\n",
	    (unsigned long long)inputs, fresh ? "a boot each" : "each on the restored snapshot",
	    (unsigned long long)machine.restores,
	    machine.restores ? (double)machine.restore_ns / 1000.0 / (double)machine.restores : 0.0,
	    machine.restores ? (double)machine.restore_frames / (double)machine.restores : 0.0);
}

/* The guest to fuzz: $RIG_FUZZ_GUEST, the binary's name fuzz_pmap_NAME, or ptelist. */
static const char *choose_guest(const char *argv0)
{
	const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;

	if (getenv("RIG_FUZZ_GUEST") != NULL && *getenv("RIG_FUZZ_GUEST"))
		return getenv("RIG_FUZZ_GUEST");
	if (!strncmp(base, "fuzz_pmap_", 10) && base[10] != '\0')
		return base + 10;
	return "ptelist";
}

/*
 * Boot the guest once, as the decoded prologue sets it up (fuzzdec.h),
 * learn where scenario kernel VAs start, and take the snapshot every input
 * starts from.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[512], err[512];
	const char *elf;

	/* Each input allocates and frees the checker's per-frame arrays: keep them in the heap,
	 * not in fresh zeroed pages from the kernel each time. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 128 << 20);
	guest = choose_guest(*argc > 0 ? (*argv)[0] : "");
	elf = cli_guest_path(guest, path, sizeof(path));
	if (fuzz_machine_open(&machine, elf, &fail_alloc, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_pmap: %s\n", err);
		exit(2);
	}
	kva = machine_info(&machine)->gi_kva_free;
	if (machine_snapshot(&machine) < 0) {
		fprintf(stderr, "fuzz_pmap: out of memory for the snapshot\n");
		exit(2);
	}
	fresh = getenv("RIG_FUZZ_FRESH") != NULL;
	if (getenv("RIG_FUZZ_STATS") != NULL)
		atexit(print_stats);
	fprintf(stderr, "fuzz_pmap: guest %s (%s)\n", guest, elf);
	fuzz_cover(counters, sizeof(counters));
	return 0;
}

/*
 * Is this outcome a bug the fuzzer looks for? A machine that cannot boot
 * or be restored is the harness failing, not the guest: it stops the run.
 */
static int finding(const struct file_result *res)
{
	if (res->outcome == OUT_CRASH && !strcmp(res->kind, "boot")) {
		fprintf(stderr, "fuzz_pmap: %s\n", res->message);
		exit(2);
	}
	if (res->outcome == OUT_CRASH)
		return 1;
	return res->outcome == OUT_FAIL && !strcmp(res->kind, "violation");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct file_result res;
	struct run_options o = { .watch = 1, .stable = 1, .machine = fresh ? NULL : &machine };
	struct scenario s;
	size_t len;
	char *text = fuzz_decode(data, size, guest, kva, fail_alloc, &len);

	if (text == NULL)
		return 0;
	if (scenario_parse_text(&s, "fuzz.scn", text, len, stderr) == 0) {
		run_file(&s, &o, &res);
		inputs++;
		if (finding(&res)) {
			fprintf(stderr, "\nrig fuzz: %s%s%s at line %d: %s\n--- the scenario ---\n%s--- end ---\n", res.kind,
			    res.id[0] ? " " : "", res.id, res.line, res.message, text);
			abort();
		}
	}
	scenario_free(&s);
	free(text);
	return 0;
}
