/* harness.h - what every Check test of the rig shares: booting a machine. */
#ifndef RIG_TEST_HARNESS_H
#define RIG_TEST_HARNESS_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "guestcall.h"

/* The address of a guest symbol (the test fails if there is none). */
static inline uint32_t gsym(struct machine *m, const char *name)
{
	const struct elf_symbol *s = elf_find(&m->elf, name);

	ck_assert_msg(s != NULL, "the guest has no symbol %s", name);
	return s->addr;
}

/* The 32-bit value of a guest variable. */
static inline uint32_t gword(struct machine *m, const char *name)
{
	uint32_t *p = machine_gptr(m, gsym(m, name), 4);

	ck_assert_msg(p != NULL, "guest variable %s is unreadable", name);
	return *p;
}

/* Boot the guest of `policy` with `ram` bytes (0 = default) or fail the test. */
static inline void boot_policy(struct machine *m, const char *policy, uint64_t ram, uint32_t pv_chunks)
{
	char path[512], err[512];
	struct machine_config cfg = { cli_guest_path(policy, path, sizeof(path)), ram, pv_chunks, 0, 1 };

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
