/* SPDX-License-Identifier: MIT */
/*
 * args.h - command-line helpers shared by the subcommands.
 *
 * Every parse error prints one clear line naming the option and the bad
 * value; the caller then exits with status 2.
 */
#ifndef LB_TOOLS_ARGS_H
#define LB_TOOLS_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#define EXIT_USAGE 2

/* "4096", "64K", "64M", "1G" (powers of 1024, optional "iB"/"B"). */
int parse_size(const char *s, uint64_t *out);
int parse_u64(const char *s, uint64_t *out);
int parse_double(const char *s, double *out);

/* Print "lifeboat CMD: MSG" to stderr; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
