/* SPDX-License-Identifier: MIT */
/* mm_fixture.h - a host with an arena on a virtual loop, for the mm tests. */
#ifndef LB_TESTS_MM_FIXTURE_H
#define LB_TESTS_MM_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "core/host.h"
#include "mm/mm.h"

struct fx {
	struct loop loop;
	struct host *host;
	struct mm *mm;
};

struct fx *fx_new(size_t nr_pages, enum mm_policy policy);
struct fx *fx_new_cfg(const struct mm_config *cfg, uint64_t seed);
void fx_free(struct fx *f);

/* Allocate pages with @flags/@rsv until failure; returns how many. */
size_t fx_fill(struct fx *f, unsigned flags, struct mm_reserve *rsv,
	       struct page **out, size_t max);
void fx_put_all(struct fx *f, struct page **pages, size_t n);
/* Run the loop until no task is left (virtual time). */
void fx_run(struct fx *f);
/* Run @fn(@arg) in a child; true if it died with SIGABRT. */
bool fx_panics(void (*fn)(void *arg), void *arg);
/* Run @fn(@arg) in a child; true unless it exited normally with 0. */
bool fx_dies(void (*fn)(void *arg), void *arg);
int64_t fx_stat(struct fx *f, const char *name);

static const enum mm_policy all_policies[] = { MM_POLICY_NONE,
					       MM_POLICY_MAINLINE,
					       MM_POLICY_ACCOUNTED };

#endif
