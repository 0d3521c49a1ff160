// SPDX-License-Identifier: MIT
/*
 * faults.c - drawing a fault schedule from a seed, and its time bound.
 */
#include <errno.h>
#include <string.h>
#include "core/prng.h"
#include "faults.h"

#define MS 1000000ull
#define SEC 1000000000ull

static const char *const kind_names[FK_NR] = {
	[FK_LOSS] = "loss",	  [FK_DUP] = "dup",
	[FK_REORDER] = "reorder", [FK_CORRUPT] = "corrupt",
	[FK_LATENCY] = "latency", [FK_PARTITION] = "partition",
	[FK_STALL] = "stall",	  [FK_RESTART] = "restart",
	[FK_FLOOD] = "flood",	  [FK_ALLOC] = "alloc",
};

const char *fault_kind_name(enum fault_kind k)
{
	return k < FK_NR ? kind_names[k] : "?";
}

int faults_parse(const char *list, unsigned *mask, char *bad, size_t badlen)
{
	const char *p = list;

	*mask = 0;
	if (!list || !*list)
		goto fail;
	if (!strcmp(list, "all")) {
		*mask = FAULT_ALL;
		return 0;
	}
	if (!strcmp(list, "none"))
		return 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		unsigned k;

		for (k = 0; k < FK_NR; k++)
			if (strlen(kind_names[k]) == n &&
			    !strncmp(kind_names[k], p, n))
				break;
		if (k == FK_NR) {
			if (bad)
				snprintf(bad, badlen, "%.*s", (int)n, p);
			return -EINVAL;
		}
		*mask |= 1u << k;
		p += n;
		if (*p == ',' && !*++p)
			goto fail; /* a trailing comma */
	}
	return 0;
fail:
	if (bad)
		snprintf(bad, badlen, "%s", list ? list : "");
	return -EINVAL;
}

void faults_format(unsigned mask, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	if (!mask) {
		snprintf(buf, len, "none");
		return;
	}
	if ((mask & FAULT_ALL) == FAULT_ALL) {
		snprintf(buf, len, "all");
		return;
	}
	for (unsigned k = 0; k < FK_NR && off < len; k++)
		if (mask & (1u << k))
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
						off ? "," : "", kind_names[k]);
}

static uint64_t between(struct prng *r, uint64_t lo, uint64_t hi)
{
	return lo + prng_below(r, hi - lo + 1);
}

static double frac(struct prng *r, double lo, double hi)
{
	return lo + (hi - lo) * prng_double(r);
}

/*
 * An event starting within @horizon, lasting @lo..@hi.  The draws are
 * sequenced here, never as a call's arguments: their order must not be
 * the compiler's choice.
 */
static struct fault_event *add(struct fault_schedule *fs, struct prng *r,
			       enum fault_kind k, uint64_t horizon, uint64_t lo,
			       uint64_t hi)
{
	uint64_t at = prng_below(r, horizon);
	uint64_t dur = between(r, lo, hi);
	struct fault_event *e;

	if (fs->nr == FAULT_EVENTS_MAX)
		return NULL;
	e = &fs->ev[fs->nr++];
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->at_ns = at;
	e->dur_ns = dur;
	return e;
}

/* How many events of an enabled kind: 0..2, at least 1 when few kinds. */
static unsigned how_many(struct prng *r, unsigned mask)
{
	unsigned n = (unsigned)prng_below(r, 3);

	return n == 0 && __builtin_popcount(mask) <= 2 ? 1 : n;
}

/* The highest rate and burst each per-frame kind may draw. */
static const double base_max[] = { 0.01, 0.01, 0.02, 0.005 };
static const double burst_max[] = { 0.3, 0.2, 0.3, 0.05 };

static void draw_rates(struct fault_schedule *fs, struct prng *r,
		       uint64_t horizon)
{
	for (unsigned k = FK_LOSS; k <= FK_CORRUPT; k++) {
		unsigned n;

		if (!(fs->mask & (1u << k)))
			continue;
		if (prng_chance(r, 0.5))
			fs->base[k] = frac(r, 0, base_max[k]);
		n = how_many(r, fs->mask);
		for (unsigned i = 0; i < n; i++) {
			struct fault_event *e =
				add(fs, r, k, horizon, 50 * MS, SEC);
			if (e)
				e->p = frac(r, burst_max[k] / 10, burst_max[k]);
		}
	}
}

/* Outages one after another, each followed by a quiet gap. */
static void draw_outages(struct fault_schedule *fs, struct prng *r,
			 uint64_t horizon)
{
	unsigned kinds[3], nk = 0, n = 0;
	uint64_t t;

	for (unsigned k = FK_PARTITION; k <= FK_RESTART; k++)
		if (fs->mask & (1u << k))
			kinds[nk++] = k;
	if (!nk)
		return;
	for (unsigned i = 0; i < nk; i++)
		n += how_many(r, fs->mask);
	if (n > 4)
		n = 4;
	t = prng_below(r, horizon / 2 + 1);
	for (unsigned i = 0; i < n; i++) {
		uint64_t dur = between(r, 100 * MS, FAULT_OUTAGE_MAX_NS);
		unsigned k = kinds[prng_below(r, nk)];
		struct fault_event *e = add(fs, r, k, 1, dur, dur);

		if (!e)
			return;
		e->at_ns = t;
		fs->outage_ns += dur;
		t += dur + between(r, 500 * MS, 2 * SEC);
	}
}

static void draw_windows(struct fault_schedule *fs, struct prng *r,
			 uint64_t horizon)
{
	if (fs->mask & (1u << FK_LATENCY))
		for (unsigned i = how_many(r, fs->mask); i > 0; i--) {
			struct fault_event *e =
				add(fs, r, FK_LATENCY, horizon, 100 * MS, SEC);
			if (e)
				e->factor = (unsigned)between(r, 10, 200);
		}
	if (fs->mask & (1u << FK_FLOOD))
		for (unsigned i = how_many(r, fs->mask); i > 0; i--)
			add(fs, r, FK_FLOOD, horizon, 200 * MS, 2 * SEC);
	if (fs->mask & (1u << FK_ALLOC))
		for (unsigned i = how_many(r, fs->mask); i > 0; i--) {
			struct fault_event *e =
				add(fs, r, FK_ALLOC, horizon, 100 * MS, SEC);
			if (e)
				e->p = frac(r, 0.001, 0.05);
		}
}

void fault_schedule_draw(struct fault_schedule *fs, uint64_t seed,
			 unsigned mask, uint64_t horizon_ns)
{
	struct prng r;

	memset(fs, 0, sizeof(*fs));
	fs->mask = mask & FAULT_ALL;
	prng_seed(&r, seed ^ 0x6661756c74730000ull);
	draw_rates(fs, &r, horizon_ns);
	draw_outages(fs, &r, horizon_ns);
	draw_windows(fs, &r, horizon_ns);
	fs->vblade = prng_chance(&r, 0.5);
	/* in time order (insertion sort: a few dozen at most, stable) */
	for (unsigned i = 1; i < fs->nr; i++) {
		struct fault_event e = fs->ev[i];
		unsigned j = i;

		while (j > 0 && fs->ev[j - 1].at_ns > e.at_ns) {
			fs->ev[j] = fs->ev[j - 1];
			j--;
		}
		fs->ev[j] = e;
	}
}

uint64_t fault_schedule_bound(const struct fault_schedule *fs,
			      uint64_t clean_ns)
{
	/* a lost or damaged frame costs TCP a retransmission timeout */
	double lossy = fs->base[FK_LOSS] + fs->base[FK_CORRUPT];
	uint64_t bound = clean_ns + (uint64_t)((double)clean_ns * 200 * lossy);

	for (unsigned i = 0; i < fs->nr; i++) {
		const struct fault_event *e = &fs->ev[i];

		bound += e->dur_ns;
		switch (e->kind) {
		case FK_PARTITION:
		case FK_STALL:
		case FK_RESTART:
			/* TCP's back-off and NBD's reconnect (at most 5 s) */
			bound += 2 * e->dur_ns + 10 * SEC;
			break;
		default:
			bound += 2 * SEC;
			break;
		}
	}
	return bound;
}

void fault_schedule_print(const struct fault_schedule *fs, FILE *out)
{
	char kinds[128];

	faults_format(fs->mask, kinds, sizeof(kinds));
	fprintf(out,
		"  faults: %s; base loss %.4f dup %.4f reorder %.4f corrupt %.4f\n",
		kinds, fs->base[FK_LOSS], fs->base[FK_DUP],
		fs->base[FK_REORDER], fs->base[FK_CORRUPT]);
	if (fs->vblade)
		fprintf(out, "  an AoE target behaves like vblade\n");
	for (unsigned i = 0; i < fs->nr; i++) {
		const struct fault_event *e = &fs->ev[i];

		fprintf(out, "  %9.3f s  %-9s for %6.3f s",
			(double)e->at_ns / 1e9, fault_kind_name(e->kind),
			(double)e->dur_ns / 1e9);
		if (e->kind == FK_LATENCY)
			fprintf(out, "  x%u", e->factor);
		else if (e->p > 0)
			fprintf(out, "  p=%.4f", e->p);
		fputc('\n', out);
	}
}
