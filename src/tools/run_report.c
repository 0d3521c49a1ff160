// SPDX-License-Identifier: MIT
/*
 * run_report.c - samples, the JSON summary and the SVG plot of a run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "run_report.h"

int run_samples_init(struct run_samples *s)
{
	memset(s, 0, sizeof(*s));
	s->v = calloc(RUN_MAX_SAMPLES, sizeof(*s->v));
	s->stride = 1;
	s->min_free = INT64_MAX;
	return s->v ? 0 : -ENOMEM;
}

void run_samples_free(struct run_samples *s)
{
	free(s->v);
	s->v = NULL;
}

void run_samples_mark(struct run_samples *s, uint64_t t_ns, const char *what)
{
	if (s->nr_marks < RUN_MAX_MARKS)
		s->marks[s->nr_marks++] = (struct run_mark){ t_ns, what };
}

void run_samples_add(struct run_samples *s, const struct run_sample *x,
		     const struct run_sample *prev)
{
	if (x->free_pages < s->min_free)
		s->min_free = x->free_pages;
	/* the moments the policy intervened: first reserve use, first drop */
	if (x->pfmemalloc && !prev->pfmemalloc)
		run_samples_mark(s, x->t_ns, "reserve first used");
	if (x->drops && !prev->drops)
		run_samples_mark(s, x->t_ns, "first frame dropped");
	if (++s->skipped < s->stride)
		return;
	s->skipped = 0;
	if (s->nr == RUN_MAX_SAMPLES) {
		/* full: keep every other sample, and sample half as often */
		for (unsigned i = 0; i < RUN_MAX_SAMPLES / 2; i++)
			s->v[i] = s->v[2 * i + 1];
		s->nr = RUN_MAX_SAMPLES / 2;
		s->stride *= 2;
	}
	s->v[s->nr++] = *x;
}

int64_t run_samples_min_free(const struct run_samples *s)
{
	return s->min_free == INT64_MAX ? 0 : s->min_free;
}

const char *run_outcome_name(bool fired, bool done, bool stopped,
			     const struct vm_progress *p)
{
	if (fired)
		return "deadlock (the watchdog fired)";
	if (p->verify_fail)
		return "DATA LOST: pages read back wrong";
	if (p->io_errors)
		return "I/O errors";
	if (done)
		return "completed: every page verified";
	if (stopped)
		return "stopped at --duration";
	return "interrupted";
}

int run_write_json(const char *path, const struct run_samples *s,
		   const struct stats *st, const struct run_meta *m)
{
	FILE *f = fopen(path, "w");
	const struct run_sample *last = s->nr ? &s->v[s->nr - 1] : NULL;

	if (!f) {
		fprintf(stderr, "lifeboat run: %s: %s\n", path,
			strerror(errno));
		return -errno;
	}
	fprintf(f,
		"{\"scenario\": \"%s\", \"devices\": \"%s\",\n"
		" \"workload\": \"%s\", \"policy\": \"%s\", \"outcome\": \"%s\", \"exit\": %d,\n"
		" \"memory_bytes\": %llu, \"working_set_bytes\": %llu, \"noise\": %s,\n"
		" \"seconds\": %.3f, \"min_free_pages\": %lld,\n",
		m->scenario ? m->scenario : "", m->devices ? m->devices : "",
		m->workload, m->policy, m->outcome, m->exit,
		(unsigned long long)m->memory, (unsigned long long)m->ws_bytes,
		m->noise ? "true" : "false",
		last ? (double)last->t_ns / 1e9 : 0.0,
		(long long)run_samples_min_free(s));
	fprintf(f, " \"marks\": [");
	for (unsigned i = 0; i < s->nr_marks; i++)
		fprintf(f, "%s{\"t\": %.3f, \"what\": \"%s\"}", i ? ", " : "",
			(double)s->marks[i].t_ns / 1e9, s->marks[i].what);
	fprintf(f, "],\n \"samples\": [");
	for (unsigned i = 0; i < s->nr; i++)
		fprintf(f,
			"%s\n  {\"t\": %.3f, \"free\": %lld, \"reserve_used\": %lld, \"written_back\": %llu, \"verified\": %llu, \"drops\": %llu}",
			i ? "," : "", (double)s->v[i].t_ns / 1e9,
			(long long)s->v[i].free_pages,
			(long long)s->v[i].reserve_used,
			(unsigned long long)s->v[i].wb_pages,
			(unsigned long long)s->v[i].verified,
			(unsigned long long)s->v[i].drops);
	fprintf(f, "],\n \"stats\": ");
	stats_print_json(st, f, "");
	fprintf(f, "}\n");
	return fclose(f) ? -errno : 0;
}

/* ---- the plot: three stacked panels sharing the time axis --------------- */

#define SVG_W 900
#define PANEL_H 150
#define LEFT 70
#define RIGHT 20
#define TOP 40

struct panel {
	const char *title, *unit, *colour;
	double max;
};

static double sample_value(const struct run_samples *s, unsigned i,
			   unsigned which)
{
	const struct run_sample *x = &s->v[i];

	if (which == 0)
		return (double)x->free_pages;
	if (which == 1)
		return (double)x->reserve_used;
	if (i == 0 || x->t_ns == s->v[i - 1].t_ns)
		return 0;
	return (double)(x->wb_pages - s->v[i - 1].wb_pages) * 4096 / 1e6 /
	       ((double)(x->t_ns - s->v[i - 1].t_ns) / 1e9);
}

int run_write_svg(const char *path, const struct run_samples *s,
		  const char *policy, bool deadlock)
{
	struct panel panels[3] = {
		{ "free memory", "pages", "#1f77b4", 1 },
		{ "reserve in use", "pages", "#d62728", 1 },
		{ "write-back", "MB/s", "#2ca02c", 1 },
	};
	double tmax = s->nr ? (double)s->v[s->nr - 1].t_ns / 1e9 : 1;
	double pw = SVG_W - LEFT - RIGHT;
	int height = TOP + 3 * (PANEL_H + 30) + 20;
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "lifeboat run: %s: %s\n", path,
			strerror(errno));
		return -errno;
	}
	if (tmax <= 0)
		tmax = 1;
	for (unsigned k = 0; k < 3; k++)
		for (unsigned i = 0; i < s->nr; i++)
			if (sample_value(s, i, k) > panels[k].max)
				panels[k].max = sample_value(s, i, k);
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text x=\"%d\" y=\"22\" font-size=\"14\">lifeboat run, policy %s%s</text>\n",
		SVG_W, height, LEFT, policy,
		deadlock ? ": deadlock detected" : "");
	for (unsigned k = 0; k < 3; k++) {
		int y0 = TOP + (int)k * (PANEL_H + 30);

		fprintf(f,
			"<text x=\"%d\" y=\"%d\">%s (%s), max %.0f</text>\n"
			"<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n"
			"<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
			LEFT, y0 + 12, panels[k].title, panels[k].unit,
			panels[k].max, LEFT, y0 + 16, pw, PANEL_H,
			panels[k].colour);
		for (unsigned i = 0; i < s->nr; i++)
			fprintf(f, "%.1f,%.1f ",
				LEFT + pw * ((double)s->v[i].t_ns / 1e9) / tmax,
				y0 + 16 + PANEL_H -
					PANEL_H * sample_value(s, i, k) /
						panels[k].max);
		fprintf(f, "\"/>\n");
	}
	for (unsigned m = 0; m < s->nr_marks; m++) {
		double x = LEFT + pw * ((double)s->marks[m].t_ns / 1e9) / tmax;

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ff7f0e\" stroke-dasharray=\"4,3\"/>\n"
			"<text x=\"%.1f\" y=\"%d\" fill=\"#ff7f0e\" transform=\"rotate(-90 %.1f %d)\">%s</text>\n",
			x, TOP + 16, x, height - 20, x + 10, TOP + 200, x + 10,
			TOP + 200, s->marks[m].what);
	}
	fprintf(f,
		"<text x=\"%d\" y=\"%d\">0 s</text><text x=\"%.0f\" y=\"%d\" text-anchor=\"end\">%.1f s</text>\n</svg>\n",
		LEFT, height - 6, LEFT + pw, height - 6, tmax);
	return fclose(f) ? -errno : 0;
}
