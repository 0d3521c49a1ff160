/* SPDX-License-Identifier: MIT */
/*
 * run_report.h - what `lifeboat run` keeps and writes about a run: samples
 * taken every 100 ms (a table allocated at start, halved in resolution
 * when full, so a run of any length fits), the JSON summary and the SVG
 * plot of free memory, reserve use and write-back throughput with the
 * moments the policy or the watchdog intervened marked.
 */
#ifndef LB_TOOLS_RUN_REPORT_H
#define LB_TOOLS_RUN_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include "core/stats.h"
#include "vm/workload.h"

#define RUN_MAX_SAMPLES 4096
#define RUN_MAX_MARKS 32

struct run_sample {
	uint64_t t_ns;
	int64_t free_pages, reserve_used;
	uint64_t wb_pages, verified, drops, pfmemalloc;
	enum vm_workload_phase phase;
};

struct run_mark {
	uint64_t t_ns;
	const char *what; /* static string */
};

struct run_samples {
	struct run_sample *v;
	unsigned nr, stride, skipped; /* keep one sample in stride */
	struct run_mark marks[RUN_MAX_MARKS];
	unsigned nr_marks;
	int64_t min_free;
};

int run_samples_init(struct run_samples *s);
void run_samples_free(struct run_samples *s);
/* Record @x (@prev: the last one, for marking what changed). */
void run_samples_add(struct run_samples *s, const struct run_sample *x,
		     const struct run_sample *prev);
void run_samples_mark(struct run_samples *s, uint64_t t_ns, const char *what);
int64_t run_samples_min_free(const struct run_samples *s);

const char *run_outcome_name(bool fired, bool done, bool stopped,
			     const struct vm_progress *p);

struct run_meta {
	const char *workload, *policy, *outcome;
	const char *scenario; /* NULL: none */
	const char *devices; /* "swap=iscsi0 files=nfs0", or "all=nbd0" */
	uint64_t memory, ws_bytes;
	bool noise;
	int exit;
};

/* 0, or -errno (reported on stderr). */
int run_write_json(const char *path, const struct run_samples *s,
		   const struct stats *st, const struct run_meta *m);
int run_write_svg(const char *path, const struct run_samples *s,
		  const char *policy, bool deadlock);

#endif
