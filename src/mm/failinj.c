// SPDX-License-Identifier: MIT
/*
 * failinj.c - allocation-failure injection and the allocation-site table.
 *
 * Decisions draw only on the mm's own prng stream (forked from the host's
 * seed) and on counts of matching allocations, so a run with one seed and
 * one spec fails the same allocations every time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "mm_internal.h"

int mm_sites_init(struct mm *mm, unsigned cap)
{
	mm->sites = calloc(cap, sizeof(*mm->sites));
	if (!mm->sites)
		return -ENOMEM;
	mm->sites_cap = cap;
	return 0;
}

void mm_sites_destroy(struct mm *mm)
{
	free(mm->sites);
	mm->sites = NULL;
}

/* Open addressing on the site's address; NULL when the table is full. */
static struct mm_site_stat *site_lookup(struct mm *mm,
					const struct mm_site *site)
{
	uint64_t h = (uint64_t)(uintptr_t)site * 0x9e3779b97f4a7c15ull;
	unsigned mask = mm->sites_cap - 1;

	for (unsigned i = 0; i < mm->sites_cap; i++) {
		struct mm_site_stat *e = &mm->sites[((h >> 40) + i) & mask];

		if (e->site == site)
			return e;
		if (!e->site) {
			e->site = site;
			mm->nr_sites++;
			return e;
		}
	}
	return NULL;
}

const char *mm_site_name(const struct mm_site *s, char *buf, size_t len)
{
	const char *file = strrchr(s->file, '/');

	snprintf(buf, len, "%s@%s:%d", s->func, file ? file + 1 : s->file,
		 s->line);
	return buf;
}

/* A filter names a function, or file:line matched as a path suffix. */
static bool site_matches(const char *filter, const struct mm_site *site)
{
	char buf[256];
	size_t n, f;

	if (!*filter)
		return true;
	if (!strchr(filter, ':'))
		return !strcmp(filter, site->func);
	n = (size_t)snprintf(buf, sizeof(buf), "%s:%d", site->file, site->line);
	f = strlen(filter);
	if (f > n || strcmp(buf + n - f, filter))
		return false;
	return f == n || buf[n - f - 1] == '/';
}

bool __mm_failinj_hit(struct mm *mm, const struct mm_site *site)
{
	struct mm_failinj *inj = &mm->inj;
	struct mm_site_stat *st = NULL;
	bool fail = false;

	if (mm->track_sites && site) {
		st = site_lookup(mm, site);
		if (st)
			st->calls++;
	}
	if (inj->mode == MM_FAILINJ_OFF || !site ||
	    !site_matches(inj->site, site))
		return false;
	inj->seen++;
	switch (inj->mode) {
	case MM_FAILINJ_NTH:
		fail = inj->seen == inj->nth ||
		       (inj->always && inj->seen > inj->nth);
		break;
	case MM_FAILINJ_PROB:
		fail = prng_chance(&inj->prng, inj->prob);
		break;
	case MM_FAILINJ_OFF:
		break;
	}
	if (fail) {
		inj->injected++;
		if (st)
			st->injected++;
		host_trace(mm->host, "mm.failinj", (uint64_t)site->line,
			   inj->seen, 0);
	}
	return fail;
}

int mm_failinj_set(struct mm *mm, const char *spec)
{
	struct mm_failinj n = { 0 };
	char buf[256], *tok, *save = NULL;

	if (!spec || strlen(spec) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;

		if (!strcmp(tok, "off")) {
			n.mode = MM_FAILINJ_OFF;
		} else if (!strncmp(tok, "nth=", 4)) {
			n.mode = MM_FAILINJ_NTH;
			errno = 0;
			n.nth = strtoull(tok + 4, &end, 10);
			if (errno || *end || !n.nth || tok[4] == '-')
				return -EINVAL;
		} else if (!strcmp(tok, "always")) {
			n.always = true;
		} else if (!strncmp(tok, "prob=", 5)) {
			n.mode = MM_FAILINJ_PROB;
			n.prob = strtod(tok + 5, &end);
			if (*end || end == tok + 5 || !(n.prob >= 0.0) ||
			    n.prob > 1.0)
				return -EINVAL;
		} else if (!strncmp(tok, "site=", 5) && tok[5]) {
			if (strlen(tok + 5) >= sizeof(n.site))
				return -EINVAL;
			snprintf(n.site, sizeof(n.site), "%s", tok + 5);
		} else {
			return -EINVAL;
		}
	}
	if (n.always && n.mode != MM_FAILINJ_NTH)
		return -EINVAL;
	/* A new spec restarts the count and the stream: same spec, same run. */
	prng_fork(&mm->host->prng, &n.prng, 0x6661696c696e6aull);
	mm->inj = n;
	return 0;
}

static int site_cmp(const struct mm_site *a, const struct mm_site *b)
{
	int c = strcmp(a->file, b->file);

	return c ? c : a->line - b->line;
}

/* Sorted by file and line: the table's own order follows addresses. */
unsigned mm_sites(const struct mm *mm, struct mm_site_stat *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < mm->sites_cap; i++) {
		if (!mm->sites[i].site)
			continue;
		if (n < max) {
			unsigned j = n;

			while (j > 0 && site_cmp(out[j - 1].site,
						 mm->sites[i].site) > 0) {
				out[j] = out[j - 1];
				j--;
			}
			out[j] = mm->sites[i];
		}
		n++;
	}
	return n;
}
