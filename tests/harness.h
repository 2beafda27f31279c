/* harness.h - what every Check test of the rig shares: booting a machine. */
#ifndef RIG_TEST_HARNESS_H
#define RIG_TEST_HARNESS_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "guestcall.h"

/* Boot the guest of `policy` with `ram` bytes (0 = default) or fail the test. */
static inline void boot_policy(struct machine *m, const char *policy, uint64_t ram, uint32_t pv_chunks)
{
	char path[512], err[512];
	struct machine_config cfg = { cli_guest_path(policy, path, sizeof(path)), ram, pv_chunks, 0 };

	ck_assert_msg(machine_open(m, &cfg, err, sizeof(err)) == 0, "boot failed: %s", err);
}

static inline void boot(struct machine *m)
{
	boot_policy(m, "ptelist", 0, 0);
}

/* Call a guest function that must return normally; returns EAX. */
#define CALL(m, name, ...) ({						\
	uint32_t ret_ = 0;						\
	enum stop_kind k_ = GCALL((m), (name), &ret_, ##__VA_ARGS__);	\
	if (k_ != STOP_RETURN) {					\
		char why_[512];						\
		machine_describe_stop((m), why_, sizeof(why_));		\
		ck_abort_msg("%s: %s", (name), why_);			\
	}								\
	ret_;								\
})

/* Run a Check suite and return the exit status for CTest. */
static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

#endif
