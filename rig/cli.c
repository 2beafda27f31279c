/*
 * cli.c - owns the command line: global options, subcommand dispatch, the
 * usage text and each command's help (`rig COMMAND --help`), and `rig info`,
 * `rig check-syntax`, `rig invariants`. Exit codes (util.h): 0 success,
 * 1 check failure, 2 usage or input error, 3 guest crash, panic or hang.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "guests.h"
#include "disasm.h"
#include "doctor.h"
#include "shrink.h"
#include "gview.h"
#include "invariants.h"
#include "scenario.h"
#include "util.h"

#ifndef RIG_VERSION
#define RIG_VERSION "0.0.0"
#endif
#ifndef RIG_GUEST_DIR
#define RIG_GUEST_DIR "build/guest"
#endif

static const char usage_text[] =
	"usage: rig [--help] [--version] COMMAND [ARGS]\n"
	"\n"
	"pmaprig runs an i386 pmap (page tables + pv chunks) in an emulated paged CPU\n"
	"and checks it.\n"
	"\n"
	"commands:\n"
	"  run [--format text|json] [--junit FILE] [--timeout MS] [--break-on-pte VA [--break-count N]\n"
	"      [--break-if BITS]]\n"
	"      [--kva-map FILE.svg] [--full-checks] [--no-watch] [--stable] [--guest NAME] FILE|DIR...\n"
	"        run scenario files (a directory: every *.scn below it, sorted);\n"
	"        PASS/FAIL per file, then \"N passed, N failed\"\n"
	"  trace FILE [--va ADDR[-ADDR]] [--pmap NAME] [--step LINE[-LINE]] [--stack]\n"
	"        [--format text|json] [--stable] [--show vm_page,pv,tlb] [--break-on-pte VA\n"
	"        [--break-count N] [--break-if BITS]]\n"
	"        [--timeout MS]\n"
	"        run one scenario and print every CR load, PDE/PTE write and INVLPG\n"
	"        with the exact guest instruction (--show: also stores into vm_page\n"
	"        records and pv chunks, decoded)\n"
	"  compare FILE [--guests dynamic,nofree,ptelist] [--format text|json]\n"
	"        run one scenario against several guest builds, side by side\n"
	"  bench [--quick] [--runs N] [--dir BENCHDIR] [--out DIR] [--only NAME]\n"
	"        the benchmark: steps per second per workload and mode (make bench)\n"
	"  invariants\n"
	"        list the invariant catalog: stable IDs and one-line descriptions\n"
	"  check-syntax FILE...\n"
	"        parse scenario files and report every error as FILE:LINE:COL\n"
	"  info [--guest FILE | --policy NAME] [--memory SIZE]\n"
	"        boot the guest and print the machine: emulator versions, guest,\n"
	"        RAM, KERNBASE, the recursive slot and the CR3 the guest loaded\n"
	"  fuzz [--guest NAME] [--corpus DIR] [--time S] [--runs N] [-j N]\n"
	"        coverage-guided fuzzing of a guest's pmap with libFuzzer (make build-fuzz);\n"
	"        a finding is written as a scenario and shrunk\n"
	"  debug FILE [--gdb HOST:PORT] [--step LINE] [--at-violation]\n"
	"        run one scenario under gdb (remote protocol) with pmap monitor commands\n"
	"  shrink FILE [-o OUT] [--time S]\n"
	"        the smallest scenario that fails as FILE does (random and repeat\n"
	"        written out, then delta debugging and simpler operands)\n"
	"  doctor [GUEST | PATH.elf | --keys | --rules]\n"
	"        read a guest's descriptor and DWARF, boot it, and say for each rule\n"
	"        whether it is checked on that guest and why (no argument: the builds)\n"
	"\n"
	"rig COMMAND --help prints that command's options, one line each.\n"
	"\n"
	"options:\n"
	"  --guest FILE     guest ELF to run (default: the build NAME's)\n"
	"  --policy NAME    the guest build: ptelist (default), nofree, dynamic, ...\n"
	"  --memory SIZE    guest RAM, e.g. 32M (default), 1G; K/M/G suffixes\n"
	"\n"
	"exit codes: 0 success, 1 check failed, 2 usage or input error,\n"
	"            3 guest crash, panic or hang, 4 stopped at a break (run, trace)\n";

/* One command's help: its synopsis (after "usage: rig "), what it does, one line per option,
 * and what its exit codes mean. */
struct command_help {
	const char *name, *synopsis, *summary, *options, *exits;
};

static const struct command_help helps[] = {
	{ "run", "run [OPTIONS] FILE|DIR...",
	  "Run scenario files (a directory: every *.scn below it, sorted), each on a freshly booted\n"
	  "guest: PASS, FAIL, CRASH, or ERROR (the file did not parse) per file, then a summary.\n",
	  "  --format text|json   text lines (default), or one JSON object per file and a summary object\n"
	  "  --junit FILE         also write a JUnit XML report to FILE\n"
	  "  --timeout MS         a guest call running longer than MS ms is a hang (CRASH); default 2000\n"
	  "  --full-checks        full checks after every step instead of incremental ones (slow)\n"
	  "  --no-watch           install no paging watcher: only the MODEL check runs\n"
	  "  --break-on-pte VA    stop at the first write to VA's PDE or PTE and show the machine (BREAK)\n"
	  "  --break-count N      stop at the N-th such write instead (default 1)\n"
	  "  --break-if BITS      count only writes that change one of BITS (RW,D,...; frame: the frame)\n"
	  "  --kva-map FILE.svg   with one FILE: draw its pv chunk KVA slots over time into FILE.svg\n"
	  "  --stable             leave out times, event numbers and code offsets (docs, goldens)\n"
	  "  --save-schedule F    with several CPUs: write a failing file's schedule to F, for\n"
	  "                       `schedule replay F`\n"
	  "  --guest NAME         run files without a guest statement on the build NAME (default ptelist);\n"
	  "                       a file that requires a feature NAME does not declare is SKIP\n"
	  "  --help, -h           print this help\n",
	  "0 all passed (or skipped), 1 a file failed, 2 usage error or a file did not parse,\n"
	  "            3 a guest crashed, panicked or hung, 4 a file stopped at a break\n"
	  "            (2 wins over 3, 3 over 1, 1 over 4)\n" },
	{ "trace", "trace FILE [OPTIONS]",
	  "Run one scenario with the paging watcher and print every CR load, PDE/PTE write and\n"
	  "INVLPG with the guest instruction; the file's result goes to stderr.\n",
	  "  --va ADDR[-ADDR]     only PDE, PTE and INVLPG events in that range (one ADDR: its page)\n"
	  "  --pmap NAME          only events in that address space: kernel, a pmap of FILE, or pd@0x...\n"
	  "  --step LINE[-LINE]   only events of the steps written on those lines of FILE\n"
	  "  --stack              add the guest backtrace of each event\n"
	  "  --cpu N              only the events CPU N made (with several CPUs, every line names its CPU)\n"
	  "  --format text|json   one line per event (default), or one JSON object per event\n"
	  "  --stable             leave out instruction addresses, instructions and symbol offsets\n"
	  "  --show vm_page,pv,tlb  also print stores into vm_page records and pv chunks, decoded,\n"
	  "                       and (tlb) the translations the CPU holds after each step\n"
	  "  --break-on-pte VA    stop at the first write to VA's PDE or PTE and show the machine\n"
	  "  --break-count N      stop at the N-th such write instead (default 1)\n"
	  "  --break-if BITS      count only writes that change one of BITS (RW,D,...; frame: the frame)\n"
	  "  --timeout MS         a guest call running longer than MS ms is a hang; default 2000\n"
	  "  --help, -h           print this help\n",
	  "0 the file passed, 1 it failed, 2 usage error (also a --pmap FILE does not\n"
	  "            declare) or the file did not parse, 3 a guest crash, panic or hang,\n"
	  "            4 it stopped at a break\n" },
	{ "compare", "compare FILE [--guests dynamic,nofree,ptelist] [--format text|json]",
	  "Run one scenario against several guest builds and print them side by side (its expected-\n"
	  "failure declaration set aside), then each guest's failure with its message.\n",
	  "  --guests A,B,...     the guest builds to run, at most 8 (default dynamic,nofree,ptelist)\n"
	  "  --format text|json   a table (default), or one JSON object\n"
	  "  --help, -h           print this help\n",
	  "0 every guest passed, 1 a guest failed, 2 usage error, the file did not parse\n"
	  "            or a guest did not boot, 3 a guest crashed, panicked or hung\n" },
	{ "bench", "bench [--quick] [--runs N] [--dir BENCHDIR] [--out DIR] [--only NAME]",
	  "The benchmark: steps per second per workload and mode; writes DIR/bench.json and\n"
	  "DIR/bench.svg (make bench).\n",
	  "  --quick              one small workload, one run (a smoke test)\n"
	  "  --runs N             runs per workload and mode, 1 to 31 (default 5; 3 for 1M steps)\n"
	  "  --dir BENCHDIR       where the workload files are (default bench)\n"
	  "  --out DIR            where bench.json and bench.svg go (default build)\n"
	  "  --only NAME          only the workloads whose names start with NAME (churn-100k, smp, ...)\n"
	  "  --help, -h           print this help\n",
	  "0 done, 1 a workload did not run, 2 usage error\n" },
	{ "check-syntax", "check-syntax FILE...",
	  "Parse scenario files without running them and print every error as FILE:LINE:COL on\n"
	  "stderr; nothing and exit 0 when all are clean, exit 2 otherwise.\n",
	  "  --help, -h           print this help\n",
	  "0 no errors, 2 an error in some file, or no file given\n" },
	{ "info", "info [--guest FILE | --policy NAME] [--memory SIZE]",
	  "Boot the guest and print the machine: emulator versions, guest, RAM, KERNBASE, the\n"
	  "recursive slot and the CR3 the guest loaded.\n",
	  "  --guest FILE         the guest ELF to boot (default: the build NAME's)\n"
	  "  --policy NAME        the guest build NAME: ptelist (default), nofree, dynamic, ...\n"
	  "  --memory SIZE        guest RAM from 4M to 2G, K/M/G suffixes (default 32M)\n"
	  "  --help, -h           print this help\n",
	  "0 booted, 2 usage error or an unusable guest ELF, 3 the guest did not boot\n" },
	{ "invariants", "invariants",
	  "List the invariant catalog: stable IDs, one-line descriptions, and the planted bug\n"
	  "(guest buggy-NAME) that breaks each rule.\n",
	  "  --help, -h           print this help\n",
	  "0, or 2 for an unexpected argument\n" },
	{ "debug", "debug FILE [--gdb HOST:PORT] [--step LINE] [--at-violation] [OPTIONS]",
	  "Run one scenario under gdb (remote serial protocol): break, step, read registers (CR0-CR4\n"
	  "too) and memory by guest VA, and `monitor help` for the pmap views (docs/debugging.md).\n"
	  "The guest is held for gdb before the first step, at --step LINE, or at --at-violation.\n",
	  "  --gdb HOST:PORT      where gdb connects (default 127.0.0.1:1234; port 0: any free port)\n"
	  "  --allow-remote       accept a HOST other than 127.0.0.1 (gdb reads and writes guest memory)\n"
	  "  --step LINE          hold the guest when the statement on LINE begins\n"
	  "  --at-violation       replay the file and hold the guest just before the store that the\n"
	  "                       checker blames for the file's first violation\n"
	  "  --guest NAME         run a file without a guest statement on the build NAME\n"
	  "  --timeout MS         a guest call running longer than MS ms (gdb's holds not counted) hangs\n"
	  "  --help, -h           print this help\n",
	  "0, 1, 3 or 4 as rig run gives for the file (gdb is told the same code);\n"
	  "            2 usage error, a port that cannot be listened on, --step on a line without a\n"
	  "            statement, or --at-violation on a file without a violation that names a store\n" },
	{ "fuzz", "fuzz [--guest NAME] [--corpus DIR] [--time S] [--runs N] [-j N]",
	  "Fuzz a guest's pmap: run the libFuzzer target build-fuzz/fuzz_pmap (make build-fuzz) with the\n"
	  "whole checker as the oracle, guided by the guest's own coverage. A finding (a violation, a\n"
	  "panic, a crash, a livelock) is written as a scenario beside its crash-* input, shrunk, and\n"
	  "printed (docs/fuzzing.md).\n",
	  "  --guest NAME         the guest build (default ptelist)\n"
	  "  --corpus DIR         the corpus (default build-fuzz/corpus-pmap-NAME)\n"
	  "  --time S             stop after S seconds (default 60)\n"
	  "  --runs N             stop after N inputs instead, seeded: the same run every time\n"
	  "  -j N                 N fuzzing processes (libFuzzer -jobs/-workers)\n"
	  "  --help, -h           print this help\n",
	  "0 no finding, 1 a finding (shrunk and printed), 2 usage error or no fuzz target,\n"
	  "            3 a finding that could not be written or shrunk\n" },
	{ "shrink", "shrink FILE [-o OUT] [--time S]",
	  "Run FILE, which must fail, recording each statement as it runs (repeat bodies per turn,\n"
	  "random's operations as the statements they are), then find the smallest list of them that\n"
	  "fails the same way (same kind and ID; a panic's message, a livelock's function): delta\n"
	  "debugging, then simpler operands. Prints an ordinary scenario with a header naming FILE\n"
	  "and the failure.\n",
	  "  -o, --output OUT     write the result to OUT (default: standard output)\n"
	  "  --time S             stop simplifying after S seconds (default 300); the result still fails\n"
	  "  --help, -h           print this help\n",
	  "0 done, 2 usage error, a file that does not parse or does not fail\n" },
	{ "doctor", "doctor [GUEST | PATH.elf | --keys | --rules]",
	  "Read a guest's descriptor (its ELF section .rig_contract) and DWARF, boot it, and print\n"
	  "each rule of the catalog as checked, partly or not checked on that guest, and why.\n"
	  "Without an argument, list the guest builds.\n",
	  "  --keys               the descriptor's keys and the features, as Markdown tables\n"
	  "  --rules              what each rule needs from the descriptor, as a Markdown table\n"
	  "  --help, -h           print this help\n",
	  "0 done, 2 usage error or a descriptor error (FILE:LINE:COL), 3 the guest did not boot\n" },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* The help entry of a command, or NULL. */
static const struct command_help *find_help(const char *cmd)
{
	for (const struct command_help *h = helps; h->name != NULL; h++)
		if (!strcmp(h->name, cmd))
			return h;
	return NULL;
}

void cli_usage(const char *cmd, FILE *out)
{
	const struct command_help *h = find_help(cmd);

	if (h != NULL)
		fprintf(out, "usage: rig %s\n(rig %s --help describes each option)\n", h->synopsis, cmd);
}

/* rig COMMAND --help: usage, what it does, its options, on stdout. */
static int print_help(const struct command_help *h)
{
	printf("usage: rig %s\n\n%s\noptions:\n%s\nexit codes: %s", h->synopsis, h->summary, h->options, h->exits);
	return RIG_EXIT_OK;
}

/* Is --help or -h among a command's arguments (before a "--")? */
static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

const char *cli_guest_path(const char *policy, char *buf, size_t len)
{
	return guests_path(policy, buf, len);
}

/* Options shared by the commands that boot a machine. */
struct machine_opts {
	const char *guest, *policy;
	uint64_t memory;
	char path[512];
};

/* Parse --guest/--policy/--memory; returns 0, or 2 after printing an error. */
static int parse_machine_opts(int argc, char **argv, struct machine_opts *o)
{
	static const struct option longopts[] = {
		{ "guest", required_argument, NULL, 'g' },
		{ "policy", required_argument, NULL, 'p' },
		{ "memory", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->policy = "ptelist";
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'g': o->guest = optarg; break;
		case 'p': o->policy = optarg; break;
		case 'm':
			if (parse_size(optarg, &o->memory) < 0 || o->memory < (4u << 20) ||
			    o->memory > RIG_MAX_RAM || (o->memory & 0xfff)) {
				fprintf(stderr, "rig: error: --memory %s: expected a size from 4M to 2G\n", optarg);
				return RIG_EXIT_USAGE;
			}
			break;
		default:
			cli_usage(argv[0], stderr);
			return RIG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rig: error: unexpected argument '%s'\n", argv[optind]);
		cli_usage(argv[0], stderr);
		return RIG_EXIT_USAGE;
	}
	if (o->guest == NULL && !guests_exists(o->policy)) {
		char names[GUESTS_MAX][GUEST_NAME_MAX];
		int n = guests_list(names, GUESTS_MAX, 0);

		fprintf(stderr, "rig: error: no guest build '%s' (built:", o->policy);
		for (int i = 0; i < n; i++)
			fprintf(stderr, " %s", names[i]);
		fprintf(stderr, ")\n");
		return RIG_EXIT_USAGE;
	}
	if (o->guest == NULL)
		o->guest = cli_guest_path(o->policy, o->path, sizeof(o->path));
	return 0;
}

/* The first argument that looks like an option ("-x"; "-" alone is a file name), or NULL. */
static const char *first_option(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			return argv[i];
	return NULL;
}

/* rig check-syntax FILE...: parse only; every error printed, exit 2 if any. */
static int cmd_check_syntax(int argc, char **argv)
{
	const char *opt = first_option(argc, argv);
	int errors = 0;

	if (opt != NULL)
		fprintf(stderr, "rig: error: unknown option '%s'\n", opt);
	if (opt != NULL || argc < 2) {
		cli_usage("check-syntax", stderr);
		return RIG_EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		struct scenario s;

		errors += scenario_parse(&s, argv[i], stderr);
		scenario_free(&s);
	}
	return errors ? RIG_EXIT_USAGE : RIG_EXIT_OK;
}

/* rig invariants: the catalog, and which planted bug breaks each rule. */
static int cmd_invariants(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "rig: error: unexpected argument '%s'\n", argv[1]);
		cli_usage("invariants", stderr);
		return RIG_EXIT_USAGE;
	}
	for (const struct invariant_info *i = invariant_catalog; i->id != NULL; i++) {
		const char *bug = NULL, *prefix = "buggy-";

		for (const struct planted_bug *b = planted_bugs; b->name != NULL && bug == NULL; b++)
			if (!strcmp(b->breaks, i->id))
				bug = b->name;
		for (const struct planted_bug *b = smp_bugs; b->name != NULL && bug == NULL; b++)
			if (!strcmp(b->breaks, i->id))
				bug = b->name, prefix = "smp-";
		printf("%-16s %s", i->id, i->summary);
		if (bug != NULL)
			printf(" (shown by guest %s%s)", prefix, bug);
		putchar('\n');
	}
	return RIG_EXIT_OK;
}

/* rig info: boot and describe the machine. */
static int cmd_info(int argc, char **argv)
{
	struct machine_opts o = { 0 };
	struct machine m;
	struct machine_config cfg = { 0 };
	struct guest_info *gi;
	char err[512];
	int rc = parse_machine_opts(argc, argv, &o);

	if (rc != 0)
		return rc;
	cfg.guest_path = o.guest;
	cfg.ram_size = o.memory;
	if (machine_open(&m, &cfg, err, sizeof(err)) < 0) {
		print_error(err);
		return strstr(err, "did not boot") ? RIG_EXIT_GUEST : RIG_EXIT_USAGE;
	}
	gi = machine_info(&m);
	printf("pmaprig %s\n", RIG_VERSION);
	printf("unicorn     %s\n", machine_unicorn_version());
	printf("capstone    %s\n", disasm_version());
	printf("guest       %s (ABI %u, contract %d)\n", o.guest, gi->gi_abi_version, CONTRACT_VERSION);
	printf("memory      %llu MiB (%u pages)\n", (unsigned long long)(m.pm.size >> 20),
	    gv_u32(&m, m.ct.page_count_ptr));
	printf("KERNBASE    0x%08x (kernel image ends at 0x%08x)\n", gi->gi_kernbase, gi->gi_kernel_end);
	printf("recursive   PDE slot %u: PTmap at 0x%08x\n", gi->gi_ptdptdi, gi->gi_ptmap);
	printf("pv chunks   %u slots of KVA at 0x%08x\n", gv_kva_slots(&m), gv_kva_base(&m));
	printf("boot CR3    0x%08x (read from the CPU after boot; the guest recorded 0x%08x)\n",
	    machine_reg(&m, UC_X86_REG_CR3), gi->gi_boot_cr3);
	machine_close(&m);
	return RIG_EXIT_OK;
}

/* The subcommands: each gets argv from its own name on. */
static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "run", cmd_run },
	{ "trace", cmd_trace },
	{ "compare", cmd_compare },
	{ "bench", cmd_bench },
	{ "check-syntax", cmd_check_syntax },
	{ "info", cmd_info },
	{ "invariants", cmd_invariants },
	{ "doctor", cmd_doctor },
	{ "shrink", cmd_shrink },
	{ "fuzz", cmd_fuzz },
	{ "debug", cmd_debug },
	{ NULL, NULL },
};

/* rig [--help | --version | COMMAND ARGS...]: returns the exit code. */
int cli_main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? RIG_EXIT_USAGE : RIG_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("pmaprig %s (unicorn %s, capstone %s)\n", RIG_VERSION, machine_unicorn_version(),
		    disasm_version());
		return RIG_EXIT_OK;
	}
	for (const struct command *c = commands; c->name != NULL; c++) {
		if (strcmp(argv[1], c->name))
			continue;
		if (wants_help(argc - 1, argv + 1) && find_help(c->name) != NULL)
			return print_help(find_help(c->name));
		return c->fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "rig: error: unknown command '%s' (see rig --help)\n", argv[1]);
	return RIG_EXIT_USAGE;
}
