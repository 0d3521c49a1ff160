// SPDX-License-Identifier: MIT
/*
 * stats.c - the registry of named counters and gauges.
 *
 * The table is kept sorted by name at registration time: registration is
 * rare and happens at start-up, while lookups, duplicate checks and sorted
 * output then need neither a search of the whole table nor memory to sort
 * in.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "compiler.h"
#include "stats.h"

int stats_init(struct stats *s, unsigned capacity)
{
	s->entries = NULL;
	s->nr = 0;
	s->cap = 0;
	s->dropped = 0;
	if (capacity) {
		s->entries = calloc(capacity, sizeof(*s->entries));
		if (!s->entries)
			return -ENOMEM;
	}
	s->cap = capacity;
	return 0;
}

void stats_destroy(struct stats *s)
{
	free(s->entries);
	s->entries = NULL;
	s->nr = 0;
	s->cap = 0;
}

/* Index of the first entry whose name is not less than @name. */
static unsigned lower_bound(const struct stats *s, const char *name)
{
	unsigned lo = 0, hi = s->nr;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (strcmp(s->entries[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int stats_vadd(struct stats *s, enum stat_kind kind, const void *ptr,
		      const char *fmt, va_list ap) lb_printf_fmt(4, 0);

static int stats_vadd(struct stats *s, enum stat_kind kind, const void *ptr,
		      const char *fmt, va_list ap)
{
	char name[STAT_NAME_MAX];
	unsigned pos;
	int n;

	if (!ptr)
		return -EINVAL;
	n = vsnprintf(name, sizeof(name), fmt, ap);
	if (n <= 0)
		return -EINVAL;
	/* Truncating would silently merge distinct names into one. */
	if ((size_t)n >= sizeof(name))
		return -ENAMETOOLONG;

	pos = lower_bound(s, name);
	if (pos < s->nr && !strcmp(s->entries[pos].name, name))
		return -EEXIST;
	if (s->nr == s->cap) {
		s->dropped++;
		return -ENOSPC;
	}
	memmove(&s->entries[pos + 1], &s->entries[pos],
		(s->nr - pos) * sizeof(*s->entries));
	memcpy(s->entries[pos].name, name, (size_t)n + 1);
	s->entries[pos].kind = kind;
	s->entries[pos].ptr = ptr;
	s->nr++;
	return 0;
}

int stats_add_counter(struct stats *s, struct counter *c, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = stats_vadd(s, STAT_COUNTER, c, fmt, ap);
	va_end(ap);
	return ret;
}

int stats_add_gauge(struct stats *s, struct gauge *g, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = stats_vadd(s, STAT_GAUGE, g, fmt, ap);
	va_end(ap);
	return ret;
}

unsigned stats_remove(struct stats *s, const void *ptr)
{
	unsigned i, kept = 0, removed;

	for (i = 0; i < s->nr; i++) {
		if (s->entries[i].ptr == ptr)
			continue;
		if (kept != i)
			s->entries[kept] = s->entries[i];
		kept++;
	}
	removed = s->nr - kept;
	s->nr = kept;
	return removed;
}

static int64_t entry_value(const struct stat_entry *e)
{
	if (e->kind == STAT_COUNTER)
		return (int64_t)((const struct counter *)e->ptr)->v;
	return ((const struct gauge *)e->ptr)->v;
}

int stats_get(const struct stats *s, const char *name, int64_t *out)
{
	unsigned pos = lower_bound(s, name);

	if (pos >= s->nr || strcmp(s->entries[pos].name, name))
		return -ENOENT;
	*out = entry_value(&s->entries[pos]);
	return 0;
}

/* Entries with a given prefix are contiguous in a sorted table. */
static void prefix_range(const struct stats *s, const char *prefix,
			 unsigned *first, unsigned *end)
{
	size_t plen;
	unsigned i;

	if (!prefix)
		prefix = "";
	plen = strlen(prefix);
	i = *first = lower_bound(s, prefix);
	while (i < s->nr && !strncmp(s->entries[i].name, prefix, plen))
		i++;
	*end = i;
}

static void print_value(const struct stat_entry *e, FILE *out)
{
	if (e->kind == STAT_COUNTER)
		fprintf(out, "%" PRIu64, ((const struct counter *)e->ptr)->v);
	else
		fprintf(out, "%" PRId64, ((const struct gauge *)e->ptr)->v);
}

void stats_print_table(const struct stats *s, FILE *out, const char *prefix)
{
	unsigned first, end, i;
	int width = 0;

	prefix_range(s, prefix, &first, &end);
	for (i = first; i < end; i++)
		width = lb_max(width, (int)strlen(s->entries[i].name));
	for (i = first; i < end; i++) {
		fprintf(out, "%-*s ", width, s->entries[i].name);
		print_value(&s->entries[i], out);
		fputc('\n', out);
	}
}

static void print_json_string(const char *str, FILE *out)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)str; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void stats_print_json(const struct stats *s, FILE *out, const char *prefix)
{
	unsigned first, end, i;

	prefix_range(s, prefix, &first, &end);
	fputc('{', out);
	for (i = first; i < end; i++) {
		if (i != first)
			fputs(", ", out);
		print_json_string(s->entries[i].name, out);
		fputs(": ", out);
		print_value(&s->entries[i], out);
	}
	fputs("}\n", out);
}
