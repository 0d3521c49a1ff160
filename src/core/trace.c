// SPDX-License-Identifier: MIT
/*
 * trace.c - allocation and dumping of the event ring.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include "compiler.h"
#include "trace.h"

int trace_init(struct trace *t, unsigned capacity)
{
	unsigned cap = 1;

	t->ring = NULL;
	t->cap = 0;
	t->head = 0;
	if (capacity > (1u << 31))
		return -EINVAL;
	/* A power of two turns the ring index into a mask on the hot path. */
	while (cap < capacity)
		cap <<= 1;
	t->ring = calloc(cap, sizeof(*t->ring));
	if (!t->ring)
		return -ENOMEM;
	t->cap = cap;
	return 0;
}

void trace_destroy(struct trace *t)
{
	free(t->ring);
	t->ring = NULL;
	t->cap = 0;
	t->head = 0;
}

void trace_dump(const struct trace *t, FILE *out, unsigned max)
{
	uint64_t kept = lb_min(t->head, (uint64_t)t->cap);
	uint64_t shown = kept, i;

	if (max && max < shown)
		shown = max;
	fprintf(out,
		"trace: %" PRIu64 " events recorded, %" PRIu64
		" kept, last %" PRIu64 " shown\n",
		t->head, kept, shown);
	for (i = t->head - shown; i < t->head; i++) {
		const struct trace_event *e = &t->ring[i & (t->cap - 1)];

		fprintf(out,
			"[%2" PRIu64 ".%09" PRIu64 "] %s %" PRIu64 " %" PRIu64
			" %" PRIu64 "\n",
			(uint64_t)(e->time / NSEC_PER_SEC),
			(uint64_t)(e->time % NSEC_PER_SEC),
			e->what ? e->what : "?", e->a, e->b, e->c);
	}
}
