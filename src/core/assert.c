// SPDX-License-Identifier: MIT
/*
 * assert.c - panic path and the process-wide panic hook list.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "assert.h"

/*
 * The one piece of process-wide state (see assert.h).  The mutex only
 * matters when hosts run on separate threads; the panic path does not take
 * it, because a thread that is about to abort must not wait on another.
 */
static struct {
	pthread_mutex_t lock;
	struct panic_hook *hooks[LB_PANIC_HOOKS_MAX];
	unsigned nr;
	atomic_int panicking;
} panic_state = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

void lb_panic_hook_add(struct panic_hook *hook)
{
	pthread_mutex_lock(&panic_state.lock);
	/*
	 * A full list costs only a dump on the way to abort(); refusing to
	 * create a host for it would trade a diagnostic for a failure.
	 */
	if (panic_state.nr < LB_PANIC_HOOKS_MAX)
		panic_state.hooks[panic_state.nr++] = hook;
	pthread_mutex_unlock(&panic_state.lock);
}

void lb_panic_hook_del(struct panic_hook *hook)
{
	unsigned i;

	pthread_mutex_lock(&panic_state.lock);
	for (i = panic_state.nr; i-- > 0;) {
		if (panic_state.hooks[i] != hook)
			continue;
		/* Keep the registration order: hooks run newest first. */
		for (; i + 1 < panic_state.nr; i++)
			panic_state.hooks[i] = panic_state.hooks[i + 1];
		panic_state.nr--;
		break;
	}
	pthread_mutex_unlock(&panic_state.lock);
}

void lb_panic(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	unsigned i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "lifeboat: PANIC at %s:%d: %s\n", file, line, msg);

	/*
	 * A hook that fails an assertion of its own (or a second thread
	 * panicking at the same time) must not start the dump over again:
	 * the first message is the one that matters.
	 */
	if (atomic_exchange(&panic_state.panicking, 1) == 0) {
		for (i = panic_state.nr; i-- > 0;) {
			struct panic_hook *hook = panic_state.hooks[i];

			hook->fn(hook, stderr);
		}
	}
	fflush(stderr);
	abort();
}
