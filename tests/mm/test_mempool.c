// SPDX-License-Identifier: MIT
/* Mempools: the min_nr guarantee, refill before release, waiting. */
#include <errno.h>
#include "mm_fixture.h"
#include "mm/mempool.h"

#define NP 128
#define K 6

static struct page *pages[NP];

/* With the arena exhausted, k outstanding allocations still succeed. */
static void test_min_nr_guarantee_with_arena_exhausted(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(all_policies); i++) {
		struct fx *f = fx_new(NP, all_policies[i]);
		struct kmem_cache c;
		struct mempool p;
		void *e[K + 1];
		size_t n;

		kmem_cache_init(&c, f->mm, "req", 2048, 0);
		assert_int_equal(mempool_init_slab(&p, &c, "req", K, NULL), 0);
		assert_int_equal(p.curr_nr, K);
		n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
		assert_int_equal(mm_normal_available(f->mm), 0);
		for (int k = 0; k < K; k++) {
			e[k] = mempool_alloc(&p, MM_NORMAL);
			assert_non_null(e[k]);
		}
		assert_int_equal(p.curr_nr, 0);
		assert_null(mempool_alloc(&p, MM_NORMAL));
		assert_int_equal(p.st_fail.v, 1);
		/* A freed element comes back to the pool, not the arena. */
		mempool_free(&p, e[0]);
		assert_int_equal(p.curr_nr, 1);
		e[0] = mempool_alloc(&p, MM_NORMAL);
		assert_non_null(e[0]);
		for (int k = 0; k < K; k++)
			mempool_free(&p, e[k]);
		assert_int_equal(p.curr_nr, K);
		fx_put_all(f, pages, n);
		mempool_destroy(&p);
		kmem_cache_destroy(&c);
		fx_free(f);
	}
}

/* Normal memory is used first; the pool is kept for the emergency. */
static void test_pool_untouched_while_memory_is_plenty(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mempool p;
	void *e[K * 2];

	assert_int_equal(mempool_init_pages(&p, f->mm, "pages", K, NULL), 0);
	for (int k = 0; k < K * 2; k++) {
		e[k] = mempool_alloc(&p, MM_NORMAL);
		assert_non_null(e[k]);
	}
	assert_int_equal(p.curr_nr, K);
	assert_int_equal(p.st_from_pool.v, 0);
	/* Frees beyond min_nr go back to the arena. */
	for (int k = 0; k < K * 2; k++)
		mempool_free(&p, e[k]);
	assert_int_equal(p.curr_nr, K);
	mempool_destroy(&p);
	fx_free(f);
}

/* An empty pool falls back to the reserve for memalloc callers. */
static void test_pool_then_reserve(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve r;
	struct mempool p;
	void *e[K + 2];
	size_t n;

	mm_reserve_add(f->mm, &r, NULL, "blk", 2);
	assert_int_equal(mempool_init_pages(&p, f->mm, "bio", K, &r), 0);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	for (int k = 0; k < K; k++)
		e[k] = mempool_alloc(&p, MM_MEMALLOC);
	assert_int_equal(r.used.v, 0); /* the pool came first */
	e[K] = mempool_alloc(&p, MM_MEMALLOC);
	e[K + 1] = mempool_alloc(&p, MM_MEMALLOC);
	assert_non_null(e[K]);
	assert_non_null(e[K + 1]);
	assert_int_equal(r.used.v, 2);
	assert_null(mempool_alloc(&p, MM_MEMALLOC));
	for (int k = 0; k < K + 2; k++)
		mempool_free(&p, e[k]);
	/* The pool refilled from the first frees; reserve pages went home. */
	assert_int_equal(p.curr_nr, K);
	fx_put_all(f, pages, n);
	assert_int_equal(r.used.v, 0);
	mempool_destroy(&p);
	mm_reserve_remove(&r);
	fx_free(f);
}

struct pool_waiter {
	struct mm_waiter w;
	struct mempool *p;
	void *got;
	int order, *seq;
};

static void pool_woken(struct mm_waiter *w)
{
	struct pool_waiter *pw = container_of(w, struct pool_waiter, w);

	pw->got = mempool_alloc(pw->p, MM_NORMAL);
	pw->order = (*pw->seq)++;
	if (!pw->got)
		mempool_wait(pw->p, w);
}

static void test_wait_woken_by_free_in_order(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct kmem_cache c;
	struct mempool p;
	struct pool_waiter a = { .p = &p }, b = { .p = &p };
	void *e[2];
	int seq = 0;
	size_t n;

	a.seq = b.seq = &seq;
	kmem_cache_init(&c, f->mm, "w", 2048, 0);
	mempool_init_slab(&p, &c, "w", 2, NULL);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	e[0] = mempool_alloc(&p, MM_NORMAL);
	e[1] = mempool_alloc(&p, MM_NORMAL);
	assert_null(mempool_alloc(&p, MM_NORMAL));
	mm_waiter_init(&a.w, pool_woken, "a");
	mm_waiter_init(&b.w, pool_woken, "b");
	mempool_wait(&p, &a.w);
	mempool_wait(&p, &b.w);
	fx_run(f);
	assert_null(a.got); /* nothing was freed yet */
	assert_true(a.w.parked && b.w.parked);
	mempool_free(&p, e[0]);
	fx_run(f);
	assert_ptr_equal(a.got, e[0]);
	assert_false(a.w.parked);
	assert_true(b.w.parked);
	mempool_free(&p, e[1]);
	fx_run(f);
	assert_ptr_equal(b.got, e[1]);
	assert_int_equal(a.order, 0);
	assert_int_equal(b.order, 1);
	mempool_free(&p, a.got);
	mempool_free(&p, b.got);
	fx_put_all(f, pages, n);
	mempool_destroy(&p);
	kmem_cache_destroy(&c);
	fx_free(f);
}

/* An injected failure of the underlying allocator falls back to the pool. */
static void test_injected_failure_uses_pool(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mempool p;
	void *e;

	mempool_init_pages(&p, f->mm, "inj", 1, NULL);
	assert_int_equal(mm_failinj_set(f->mm, "prob=1"), 0);
	e = mempool_alloc(&p, MM_NORMAL);
	assert_non_null(e);
	assert_int_equal(p.st_from_pool.v, 1);
	assert_null(mempool_alloc(&p, MM_NORMAL));
	assert_int_equal(mm_failinj_set(f->mm, "off"), 0);
	mempool_free(&p, e);
	mempool_destroy(&p);
	fx_free(f);
}

static void test_prealloc_failure_is_clean(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mempool p;
	int64_t free0 = f->mm->nr_free.v;

	f->host->log.out = fopen("/dev/null", "w");
	assert_int_equal(mempool_init_pages(&p, f->mm, "big", NP + 1, NULL),
			 -ENOMEM);
	assert_int_equal(f->mm->nr_free.v, free0);
	fclose(f->host->log.out);
	f->host->log.out = stderr;
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_min_nr_guarantee_with_arena_exhausted),
		cmocka_unit_test(test_pool_untouched_while_memory_is_plenty),
		cmocka_unit_test(test_pool_then_reserve),
		cmocka_unit_test(test_wait_woken_by_free_in_order),
		cmocka_unit_test(test_injected_failure_uses_pool),
		cmocka_unit_test(test_prealloc_failure_is_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
