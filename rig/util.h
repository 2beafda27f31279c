/* util.h - number and size parsing shared by the command line and scenarios. */
#ifndef RIG_UTIL_H
#define RIG_UTIL_H

#include <stdint.h>

/* Exit codes of every rig command. */
enum rig_exit {
	RIG_EXIT_OK = 0,	/* success */
	RIG_EXIT_FAIL = 1,	/* a check or expectation failed */
	RIG_EXIT_USAGE = 2,	/* usage or input error */
	RIG_EXIT_GUEST = 3,	/* guest crash, panic or hang */
};

/* Parse a decimal or 0x-hex number that fits in 64 bits; 0 or -1. */
int parse_u64(const char *s, uint64_t *out);
/* Parse a number with an optional K, M or G suffix (binary units); 0 or -1. */
int parse_size(const char *s, uint64_t *out);

#endif
