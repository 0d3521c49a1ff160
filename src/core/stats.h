/* SPDX-License-Identifier: MIT */
/*
 * stats.h - the registry of named counters and gauges of a host.
 *
 * The values live in their owners (a socket embeds its counters); the
 * registry only remembers names and addresses, in a table sized when the
 * host is created, so registering never allocates after start-up and
 * incrementing is a plain add.  Names are dotted paths ("mm.alloc.fail",
 * "mm.reserve.net.rx.used") copied into the table.
 *
 * Output: an aligned table sorted by name, or one JSON object.
 */
#ifndef LB_CORE_STATS_H
#define LB_CORE_STATS_H

#include <stdint.h>
#include <stdio.h>

#define STAT_NAME_MAX 64

struct counter {
	uint64_t v;
};

struct gauge {
	int64_t v;
};

static inline void counter_inc(struct counter *c)
{
	c->v++;
}

static inline void counter_add(struct counter *c, uint64_t n)
{
	c->v += n;
}

static inline void gauge_set(struct gauge *g, int64_t v)
{
	g->v = v;
}

enum stat_kind {
	STAT_COUNTER,
	STAT_GAUGE,
};

struct stat_entry {
	char name[STAT_NAME_MAX];
	enum stat_kind kind;
	const void *ptr; /* struct counter * or struct gauge * */
};

struct stats {
	struct stat_entry *entries;
	unsigned nr, cap;
	unsigned dropped; /* registrations refused because the table was full */
};

/* Allocates the table (start-up only); 0 or -ENOMEM. */
int stats_init(struct stats *s, unsigned capacity);
void stats_destroy(struct stats *s);

/*
 * Register a value under a printf-formatted name.  Returns 0, -ENOSPC when
 * the table is full (counted in ->dropped), -EEXIST for a duplicate name,
 * -ENAMETOOLONG for a name of STAT_NAME_MAX bytes or more, or -EINVAL for
 * an empty name or a NULL value.
 */
int stats_add_counter(struct stats *s, struct counter *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int stats_add_gauge(struct stats *s, struct gauge *g, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Remove every entry pointing at @ptr; returns how many were removed. */
unsigned stats_remove(struct stats *s, const void *ptr);

/* Look up by exact name: 0 and the value in *out, or -ENOENT. */
int stats_get(const struct stats *s, const char *name, int64_t *out);

/* Print entries whose name starts with @prefix ("" for all). */
void stats_print_table(const struct stats *s, FILE *out, const char *prefix);
void stats_print_json(const struct stats *s, FILE *out, const char *prefix);

#endif
