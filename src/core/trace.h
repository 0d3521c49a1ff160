/* SPDX-License-Identifier: MIT */
/*
 * trace.h - a ring of the last N events of a host.
 *
 * Cheap enough to leave on: an event is a timestamp, a static string and
 * three integers written into a preallocated ring.  The ring is dumped when
 * an assertion fails, when the watchdog fires, or on request.
 */
#ifndef LB_CORE_TRACE_H
#define LB_CORE_TRACE_H

#include <stdint.h>
#include <stdio.h>

struct trace_event {
	uint64_t time;
	const char *what; /* must be a string with static storage */
	uint64_t a, b, c;
};

struct trace {
	struct trace_event *ring;
	unsigned cap; /* a power of two */
	uint64_t head; /* events ever recorded */
};

/* @capacity is rounded up to a power of two; 0 or -ENOMEM (start-up only). */
int trace_init(struct trace *t, unsigned capacity);
void trace_destroy(struct trace *t);

static inline void trace_record(struct trace *t, uint64_t time,
				const char *what, uint64_t a, uint64_t b,
				uint64_t c)
{
	struct trace_event *e = &t->ring[t->head++ & (t->cap - 1)];

	e->time = time;
	e->what = what;
	e->a = a;
	e->b = b;
	e->c = c;
}

/* Oldest first; at most @max events (0 = all kept). */
void trace_dump(const struct trace *t, FILE *out, unsigned max);

#endif
