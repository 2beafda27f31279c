/*
 * cli_fuzz.c - `rig fuzz`: runs the libFuzzer target fuzz_pmap (built by
 * `make build-fuzz`) on a guest, then turns a finding back into a scenario
 * (the target's own decoder, rig/fuzzdec.c), shrinks it (shrink.c) and
 * prints the minimal file. libFuzzer does the search; this is its front.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "fuzzdec.h"
#include "guests.h"
#include "machine.h"
#include "shrink.h"
#include "util.h"

struct fuzz_opts {
	const char *guest, *corpus;
	uint64_t secs, runs, jobs;
	char bin[600], dir[600];
};

/* The fuzz target: $RIG_FUZZ_BIN, or build-fuzz/fuzz_pmap beside the rig's own build directory. */
static int find_target(struct fuzz_opts *f)
{
	char self[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (getenv("RIG_FUZZ_BIN") != NULL) {
		snprintf(f->bin, sizeof(f->bin), "%s", getenv("RIG_FUZZ_BIN"));
	} else if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = '\0';	/* build/ */
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = '\0';	/* the tree */
		snprintf(f->bin, sizeof(f->bin), "%s/build-fuzz/fuzz_pmap", self);
	}
	if (access(f->bin, X_OK) != 0) {
		fprintf(stderr, "rig: error: no fuzz target at %s: build it with `make build-fuzz` (or set RIG_FUZZ_BIN)\n",
		    f->bin);
		return -1;
	}
	return 0;
}

/* Run the target; its exit status (or -1). */
static int run_target(const struct fuzz_opts *f)
{
	char guestdir[512], prefix[700], arg[4][64], *argv[16];
	int argc = 0, status;
	pid_t pid;

	guests_path("x", guestdir, sizeof(guestdir));
	*strrchr(guestdir, '/') = '\0';
	argv[argc++] = (char *)f->bin;
	argv[argc++] = (char *)f->corpus;
	snprintf(prefix, sizeof(prefix), "-artifact_prefix=%s/", f->dir);
	argv[argc++] = prefix;
	argv[argc++] = "-max_len=72";
	argv[argc++] = "-len_control=0";
	argv[argc++] = "-detect_leaks=0";	/* Unicorn keeps allocations across engines */
	if (f->runs) {		/* a bounded, seeded run: the same every time */
		snprintf(arg[1], sizeof(arg[1]), "-runs=%llu", (unsigned long long)f->runs);
		argv[argc++] = arg[1];
		argv[argc++] = "-seed=1";
	} else {
		snprintf(arg[1], sizeof(arg[1]), "-max_total_time=%llu", (unsigned long long)f->secs);
		argv[argc++] = arg[1];
	}
	if (f->jobs > 1) {
		snprintf(arg[2], sizeof(arg[2]), "-jobs=%llu", (unsigned long long)f->jobs);
		snprintf(arg[3], sizeof(arg[3]), "-workers=%llu", (unsigned long long)f->jobs);
		argv[argc++] = arg[2];
		argv[argc++] = arg[3];
	}
	argv[argc] = NULL;
	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		setenv("RIG_FUZZ_GUEST", f->guest, 1);
		setenv("RIG_GUEST_DIR", guestdir, 1);
		setenv("LSAN_OPTIONS", "detect_leaks=0", 1);
		execv(f->bin, argv);
		_exit(127);
	}
	return waitpid(pid, &status, 0) < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The newest crash-* file of the findings directory, into path; 0 or -1. */
static int newest_finding(const struct fuzz_opts *f, char *path, size_t len)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	time_t best = 0;
	int found = -1;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char p[1200];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
		if (strncmp(e->d_name, "crash-", 6) || strchr(e->d_name, '.') || stat(p, &st) < 0 || st.st_mtime < best)
			continue;
		best = st.st_mtime;
		snprintf(path, len, "%s", p);
		found = 0;
	}
	if (d != NULL)
		closedir(d);
	return found;
}

/* A finding's bytes as a scenario file beside it (PATH.scn); 0 or -1. */
static int decode_finding(const struct fuzz_opts *f, const char *crash, char *scn, size_t len)
{
	char path[512], err[512], *text;
	struct machine m;
	uint8_t buf[4096];
	int fail_alloc;
	size_t n, tlen;
	FILE *in = fopen(crash, "rb"), *out;

	if (in == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	if (fuzz_machine_open(&m, guests_path(f->guest, path, sizeof(path)), &fail_alloc, err, sizeof(err)) < 0) {
		print_error(err);
		return -1;
	}
	text = fuzz_decode(buf, n, f->guest, machine_info(&m)->gi_kva_free, fail_alloc, &tlen);
	machine_close(&m);
	snprintf(scn, len, "%s.scn", crash);
	if (text == NULL || (out = fopen(scn, "w")) == NULL) {
		free(text);
		return -1;
	}
	fwrite(text, 1, tlen, out);
	fclose(out);
	free(text);
	return 0;
}

/* rig fuzz [--guest NAME] [--corpus DIR] [--time S] [--runs N] [-j N]. */
int cmd_fuzz(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "guest", required_argument, NULL, 'g' }, { "corpus", required_argument, NULL, 'c' },
		{ "time", required_argument, NULL, 't' }, { "runs", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct fuzz_opts f = { .guest = "ptelist", .secs = 60, .jobs = 1 };
	char corpus[700], crash[1200], scn[1300];
	int ch, rc;
	uint64_t *dst;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "j:", longopts, NULL)) != -1) {
		dst = ch == 't' ? &f.secs : ch == 'r' ? &f.runs : ch == 'j' ? &f.jobs : NULL;
		if (ch == 'g')
			f.guest = optarg;
		else if (ch == 'c')
			f.corpus = optarg;
		else if (dst == NULL || parse_u64(optarg, dst) < 0 || *dst == 0 || *dst > 100000000) {
			cli_usage("fuzz", stderr);
			return RIG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_usage("fuzz", stderr);
		return RIG_EXIT_USAGE;
	}
	if (!guests_exists(f.guest)) {
		fprintf(stderr, "rig: error: no guest build '%s' (rig doctor lists them)\n", f.guest);
		return RIG_EXIT_USAGE;
	}
	if (find_target(&f) < 0)
		return RIG_EXIT_USAGE;
	snprintf(f.dir, sizeof(f.dir), "%.*s/findings-%s", (int)(strrchr(f.bin, '/') - f.bin), f.bin, f.guest);
	if (f.corpus == NULL) {
		snprintf(corpus, sizeof(corpus), "%.*s/corpus-pmap-%s", (int)(strrchr(f.bin, '/') - f.bin), f.bin, f.guest);
		f.corpus = corpus;
	}
	if ((mkdir(f.corpus, 0777) < 0 && access(f.corpus, W_OK) != 0) || (mkdir(f.dir, 0777) < 0 && access(f.dir, W_OK) != 0)) {
		fprintf(stderr, "rig: error: cannot make %s or %s\n", f.corpus, f.dir);
		return RIG_EXIT_USAGE;
	}
	rc = run_target(&f);
	if (rc == 0) {
		printf("rig fuzz: no finding on %s\n", f.guest);
		return RIG_EXIT_OK;
	}
	if (newest_finding(&f, crash, sizeof(crash)) < 0) {
		fprintf(stderr, "rig: error: the fuzz target exited %d without a finding\n", rc);
		return RIG_EXIT_GUEST;
	}
	if (decode_finding(&f, crash, scn, sizeof(scn)) < 0) {
		fprintf(stderr, "rig: error: cannot write the finding %s as a scenario\n", crash);
		return RIG_EXIT_GUEST;
	}
	printf("rig fuzz: a finding on %s: %s (as a scenario: %s); shrunk:\n", f.guest, crash, scn);
	fflush(stdout);
	return shrink_file(scn, NULL, 300) == RIG_EXIT_OK ? RIG_EXIT_FAIL : RIG_EXIT_GUEST;
}
