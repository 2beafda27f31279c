/*
 * guests.c - owns the guest directory: build names to paths, and the list
 * of builds for suggestions, `rig compare` and `rig doctor`.
 */
#include "guests.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The directory the builds are in: $RIG_GUEST_DIR, else the build's; a
 * binary built without one (the fuzz targets, shipped by
 * .clusterfuzzlite/build.sh) looks in guests/ beside itself.
 */
static const char *guest_dir(void)
{
	static char beside[512];
	const char *dir = getenv("RIG_GUEST_DIR");
	ssize_t n;
	char *slash;

	if (dir && *dir)
		return dir;
	if (RIG_GUEST_DIR[0] != '\0')
		return RIG_GUEST_DIR;
	if (beside[0] == '\0') {
		n = readlink("/proc/self/exe", beside, sizeof(beside) - sizeof("/guests"));
		if (n <= 0)
			return "guests";
		beside[n] = '\0';
		if ((slash = strrchr(beside, '/')) == NULL)
			return "guests";
		strcpy(slash, "/guests");
	}
	return beside;
}

const char *guests_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/guest-%s.elf", guest_dir(), name);
	return buf;
}

int guests_exists(const char *name)
{
	char path[512];

	if (name[0] == '\0' || strchr(name, '/') != NULL || strlen(name) >= GUEST_NAME_MAX)
		return 0;
	return access(guests_path(name, path, sizeof(path)), R_OK) == 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int guests_list(char names[][GUEST_NAME_MAX], int max, int planted)
{
	DIR *d = opendir(guest_dir());
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		size_t len = strlen(e->d_name);

		if (len <= 10 || strncmp(e->d_name, "guest-", 6) || strcmp(e->d_name + len - 4, ".elf") ||
		    len - 10 >= GUEST_NAME_MAX || (!planted && !strncmp(e->d_name + 6, "buggy-", 6)))
			continue;
		memcpy(names[n], e->d_name + 6, len - 10);
		names[n++][len - 10] = '\0';
	}
	closedir(d);
	qsort(names, (size_t)n, GUEST_NAME_MAX, cmp_name);
	return n;
}
