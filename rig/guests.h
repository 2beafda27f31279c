/*
 * guests.h - the guest builds the rig can boot by name: every file
 * guest-NAME.elf in the guest directory ($RIG_GUEST_DIR, or the build's).
 * A name is only a file name; what a guest is comes from its descriptor.
 */
#ifndef RIG_GUESTS_H
#define RIG_GUESTS_H

#include <stddef.h>

#define GUESTS_MAX	64
#define GUEST_NAME_MAX	40

/* The path of build name into buf. */
const char *guests_path(const char *name, char *buf, size_t len);
/* Is there a build called name? */
int guests_exists(const char *name);
/* The builds' names, sorted (buggy- builds last if planted is 0: left out); their count. */
int guests_list(char names[][GUEST_NAME_MAX], int max, int planted);

#endif
