/* SPDX-License-Identifier: MIT */
/*
 * assert.h - always-on invariant checks.
 *
 * LB_ASSERT is never compiled out: the invariants document the memory model
 * as much as they check it.  On failure it prints the expression and its
 * location, runs the panic hooks (each registered host dumps its trace ring
 * and stats) and aborts.
 *
 * The hook list is the one piece of process-wide state in lifeboat.  It is
 * written only when hosts are created or destroyed, read only on the way to
 * abort(), and never influences behaviour, so determinism is unaffected.
 */
#ifndef LB_CORE_ASSERT_H
#define LB_CORE_ASSERT_H

#include <stdio.h>
#include "compiler.h"

#define LB_PANIC_HOOKS_MAX 64

struct panic_hook {
	void (*fn)(struct panic_hook *hook, FILE *out);
};

/* Register/unregister a hook run (newest first) before abort(). */
void lb_panic_hook_add(struct panic_hook *hook);
void lb_panic_hook_del(struct panic_hook *hook);

lb_noreturn void lb_panic(const char *file, int line, const char *fmt, ...)
	lb_printf_fmt(3, 4);

#define LB_ASSERT(cond)                                                       \
	do {                                                                  \
		if (unlikely(!(cond)))                                        \
			lb_panic(__FILE__, __LINE__, "assertion '%s' failed", \
				 #cond);                                      \
	} while (0)

#define LB_ASSERTF(cond, fmt, ...)                                     \
	do {                                                           \
		if (unlikely(!(cond)))                                 \
			lb_panic(__FILE__, __LINE__,                   \
				 "assertion '%s' failed: " fmt, #cond, \
				 ##__VA_ARGS__);                       \
	} while (0)

#define LB_BUG() lb_panic(__FILE__, __LINE__, "BUG")

#endif
