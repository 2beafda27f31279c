/* util.h - number and size parsing and keyword suggestions, shared by the command line and scenarios. */
#ifndef RIG_UTIL_H
#define RIG_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes of every rig command. */
enum rig_exit {
	RIG_EXIT_OK = 0,	/* success */
	RIG_EXIT_FAIL = 1,	/* a check or expectation failed */
	RIG_EXIT_USAGE = 2,	/* usage or input error */
	RIG_EXIT_GUEST = 3,	/* guest crash, panic or hang */
	RIG_EXIT_BREAK = 4,	/* stopped at a break point (--break-on-pte), nothing worse */
};

/* Format a message into err (errlen bytes) and return -1. */
int errorf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print an error to stderr: as it is when it already has a FILE:LINE:COL: error: prefix, else after "rig: error: ". */
void print_error(const char *err);
/* Parse a decimal or 0x-hex number that fits in 64 bits; 0 or -1. */
int parse_u64(const char *s, uint64_t *out);
/* Parse a number with an optional K, M or G suffix (binary units); 0 or -1. */
int parse_size(const char *s, uint64_t *out);
/* The candidate nearest to word (edits, a swap of neighbours counting as one), if it is close
 * enough to be a likely typo of it; else NULL. */
const char *nearest_word(const char *word, const char *const *cands, size_t n);

#endif
