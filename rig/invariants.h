/*
 * invariants.h - the invariant catalog: stable IDs, one-line descriptions,
 * and the checks that prove them from guest memory.
 */
#ifndef RIG_INVARIANTS_H
#define RIG_INVARIANTS_H

struct invariant_info {
	const char *id;
	const char *summary;
};

/* The catalog, terminated by a NULL id. */
extern const struct invariant_info invariant_catalog[];
/* The catalog's entry for id (exact, case-sensitive), or NULL. */
const struct invariant_info *invariant_lookup(const char *id);

#endif
