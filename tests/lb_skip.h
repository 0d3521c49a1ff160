/* SPDX-License-Identifier: MIT */
/*
 * lb_skip.h - skipping that Meson sees.  cmocka's skip() marks one test
 * skipped but leaves the program's exit status 0, which Meson counts as a
 * pass.  lb_skip() records the skip and says why; main() returns
 * lb_exit(failed), which is 77 (Meson's SKIP) when anything was skipped
 * and nothing failed.  The rule, shared with the interop scripts: a
 * program that skipped any part reports SKIP, unless a part failed.
 */
#ifndef LB_TESTS_SKIP_H
#define LB_TESTS_SKIP_H

#include <stdbool.h>

static bool lb_skipped __attribute__((unused));

#define lb_skip(...)                        \
	do {                                \
		print_message("SKIPPED: "); \
		print_message(__VA_ARGS__); \
		print_message("\n");        \
		lb_skipped = true;          \
		skip();                     \
	} while (0)

static inline int lb_exit(int failed)
{
	return failed ? failed : lb_skipped ? 77 : 0;
}

#endif
