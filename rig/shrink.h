/* shrink.h - `rig shrink`: the smallest scenario that fails as a given one does (shrink.c). */
#ifndef RIG_SHRINK_H
#define RIG_SHRINK_H

/* rig shrink FILE [-o OUT] [--time S]: 0, 2 (usage, or a file that does not fail). */
int cmd_shrink(int argc, char **argv);

#endif
