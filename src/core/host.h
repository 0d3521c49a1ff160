/* SPDX-License-Identifier: MIT */
/*
 * host.h - a host is a value: everything a lifeboat host owns hangs here.
 *
 * No mutable globals: a simulation creates several hosts in one process on
 * one virtual loop, and two runs with one seed are identical to the byte.
 * The upper layers (mm, net, vm) attach themselves through the pointers
 * below; core only declares them.
 *
 * Memory: host_create() is the one place that uses malloc (for the host,
 * its stats table and trace ring).  Everything after start-up comes from
 * the host's arena (struct mm).
 */
#ifndef LB_CORE_HOST_H
#define LB_CORE_HOST_H

#include <stdint.h>
#include "assert.h"
#include "log.h"
#include "loop.h"
#include "prng.h"
#include "stats.h"
#include "trace.h"

struct mm;
struct net;
struct vm;

struct host_config {
	const char *name; /* copied; "host" if NULL */
	uint64_t seed;
	enum log_level log_level;
	unsigned stats_capacity; /* 0: default (4096) */
	unsigned trace_capacity; /* 0: default (4096) */
};

struct host {
	char name[32];
	uint64_t seed;
	struct loop *loop; /* not owned: shared by the hosts of a simulation */
	struct prng prng;
	struct log log;
	struct stats stats;
	struct trace trace;
	struct panic_hook panic;

	struct mm *mm;
	struct net *net;
	struct vm *vm;
};

struct host *host_create(struct loop *loop, const struct host_config *cfg);
void host_destroy(struct host *h);

static inline uint64_t host_now(const struct host *h)
{
	return loop_now(h->loop);
}

#define host_trace(h, what, a, b, c) \
	trace_record(&(h)->trace, host_now(h), what, a, b, c)

/* Print the trace ring and the stats table (the "on request" dump). */
void host_dump(const struct host *h, FILE *out);

#endif
