/* shrink.h - `rig shrink`: the smallest scenario that fails as a given one does (shrink.c). */
#ifndef RIG_SHRINK_H
#define RIG_SHRINK_H

#include <stdint.h>

/* Shrink the failing scenario at path into out (NULL: stdout) within secs seconds: 0, or 2 (it does not
 * parse or does not fail). */
int shrink_file(const char *path, const char *out, uint64_t secs);
/* rig shrink FILE [-o OUT] [--time S]: the same. */
int cmd_shrink(int argc, char **argv);

#endif
