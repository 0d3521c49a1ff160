// SPDX-License-Identifier: MIT
/* Allocation-failure injection: nth, always, probability, site filters. */
#include <errno.h>
#include <string.h>
#include "mm_fixture.h"
#include "mm/slab.h"

#define NP 64

static struct page *alloc_here(struct mm *mm)
{
	return mm_page_alloc(mm, MM_NORMAL, NULL);
}

static struct page *alloc_there(struct mm *mm)
{
	return mm_page_alloc(mm, MM_NORMAL, NULL);
}

/* Run @n allocations via alloc_here; bit i set when the i-th failed. */
static uint64_t pattern(struct fx *f, int n)
{
	uint64_t bits = 0;

	for (int i = 0; i < n; i++) {
		struct page *p = alloc_here(f->mm);

		if (p)
			mm_page_put(f->mm, p);
		else
			bits |= 1ull << i;
	}
	return bits;
}

static void test_nth(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);

	assert_int_equal(mm_failinj_set(f->mm, "nth=3"), 0);
	assert_int_equal(pattern(f, 10), 1ull << 2);
	assert_int_equal(f->mm->inj.injected, 1);
	assert_int_equal(fx_stat(f, "mm.alloc.fail.injected"), 1);
	assert_int_equal(mm_failinj_set(f->mm, "nth=3,always"), 0);
	assert_int_equal(pattern(f, 6), 0x3cull);
	assert_int_equal(mm_failinj_set(f->mm, "off"), 0);
	assert_int_equal(pattern(f, 6), 0);
	fx_free(f);
}

static struct page *alloc_line(struct mm *mm, int *line)
{
	*line = __LINE__ + 1;
	return mm_page_alloc(mm, MM_NORMAL, NULL);
}

static void test_site_filters(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	char spec[128];
	struct page *p;
	int line;

	/* By function name: only alloc_there's calls count and fail. */
	assert_int_equal(mm_failinj_set(f->mm, "nth=1,always,site=alloc_there"),
			 0);
	assert_int_equal(pattern(f, 4), 0);
	assert_null(alloc_there(f->mm));
	assert_int_equal(f->mm->inj.seen, 1);

	/* By file:line of a call site, matched as a path suffix. */
	mm_failinj_set(f->mm, "off");
	mm_page_put(f->mm, alloc_line(f->mm, &line));
	snprintf(spec, sizeof(spec), "nth=1,always,site=test_failinj.c:%d",
		 line);
	assert_int_equal(mm_failinj_set(f->mm, spec), 0);
	assert_null(alloc_line(f->mm, &line));
	p = alloc_there(f->mm);
	assert_non_null(p);
	mm_page_put(f->mm, p);
	/* "ailinj.c:N" is not a whole path component: no match. */
	snprintf(spec, sizeof(spec), "nth=1,always,site=ailinj.c:%d", line);
	assert_int_equal(mm_failinj_set(f->mm, spec), 0);
	p = alloc_line(f->mm, &line);
	assert_non_null(p);
	mm_page_put(f->mm, p);
	mm_failinj_set(f->mm, "off");
	fx_free(f);
}

/* Probability mode: the same seed gives the same failures. */
static void test_prob_reproducible_from_seed(void **state)
{
	struct mm_config cfg = { .nr_pages = NP,
				 .policy = MM_POLICY_ACCOUNTED };
	uint64_t runs[3];
	uint64_t seeds[3] = { 7, 7, 8 };

	for (int i = 0; i < 3; i++) {
		struct fx *f = fx_new_cfg(&cfg, seeds[i]);

		assert_int_equal(mm_failinj_set(f->mm, "prob=0.5"), 0);
		runs[i] = pattern(f, 64);
		fx_free(f);
	}
	assert_true(runs[0] == runs[1]);
	assert_true(runs[0] != runs[2]);
	/* Roughly half fail. */
	assert_in_range(__builtin_popcountll(runs[0]), 16, 48);
}

static void test_bad_specs(void **state)
{
	static const char *const bad[] = {
		"",	     "nth=0",	  "nth=-1", "nth=x",	       "prob=2",
		"prob=-0.1", "prob=",	  "always", "prob=0.5,always", "site=",
		"bogus",     "nth=3,wat",
	};
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!*bad[i])
			continue; /* empty spec: nothing set, mode stays off */
		assert_int_equal(mm_failinj_set(f->mm, bad[i]), -EINVAL);
	}
	assert_int_equal(mm_failinj_set(f->mm, NULL), -EINVAL);
	assert_int_equal(f->mm->inj.mode, MM_FAILINJ_OFF);
	fx_free(f);
}

/* Objects and pages share the machinery; sites are counted when asked. */
static void test_sites_counted(void **state)
{
	struct mm_config cfg = { .nr_pages = NP,
				 .policy = MM_POLICY_ACCOUNTED,
				 .track_sites = true };
	struct fx *f = fx_new_cfg(&cfg, 1);
	struct mm_site_stat st[8];
	struct kmem_cache c;
	unsigned n;
	char buf[128];
	void *o;

	kmem_cache_init(&c, f->mm, "s", 64, 0);
	mm_page_put(f->mm, alloc_here(f->mm));
	mm_page_put(f->mm, alloc_here(f->mm));
	mm_page_put(f->mm, alloc_there(f->mm));
	o = kmem_cache_alloc(&c, MM_NORMAL, NULL);
	kmem_cache_free(&c, o);
	n = mm_sites(f->mm, st, ARRAY_SIZE(st));
	assert_int_equal(n, 3);
	/* Sorted by file and line: alloc_here, alloc_there, then the cache. */
	assert_string_equal(st[0].site->func, "alloc_here");
	assert_int_equal(st[0].calls, 2);
	assert_string_equal(st[1].site->func, "alloc_there");
	assert_int_equal(st[1].calls, 1);
	assert_string_equal(st[2].site->func, "test_sites_counted");
	mm_site_name(st[0].site, buf, sizeof(buf));
	assert_non_null(strstr(buf, "alloc_here@test_failinj.c:"));
	assert_int_equal(mm_failinj_set(f->mm, "nth=1,site=s"), 0);
	kmem_cache_destroy(&c);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nth),
		cmocka_unit_test(test_site_filters),
		cmocka_unit_test(test_prob_reproducible_from_seed),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_sites_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
