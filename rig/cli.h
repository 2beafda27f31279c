/* cli.h - the rig command line. */
#ifndef RIG_CLI_H
#define RIG_CLI_H

#include <stdio.h>

#include "machine.h"

/* Run the rig with these arguments; returns the exit code. */
int cli_main(int argc, char **argv);
/* rig run (cli_run.c). */
int cmd_run(int argc, char **argv);
/* rig compare (cli_compare.c). */
int cmd_compare(int argc, char **argv);
/* rig trace (cli_trace.c). */
int cmd_trace(int argc, char **argv);
/* "usage: rig CMD SYNOPSIS" and a pointer to `rig CMD --help`, for errors (to stderr). */
void cli_usage(const char *cmd, FILE *out);
/* The guest ELF for a policy name ("ptelist", ...), honouring RIG_GUEST_DIR. */
const char *cli_guest_path(const char *policy, char *buf, size_t len);

/* rig fuzz (cli_fuzz.c). */
int cmd_fuzz(int argc, char **argv);
/* rig debug: cli_debug.c */
int cmd_debug(int argc, char **argv);

#endif
