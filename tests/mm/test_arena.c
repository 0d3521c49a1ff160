// SPDX-License-Identifier: MIT
/* The page arena: floors per policy, pfmemalloc marking, flags, hooks. */
#include <errno.h>
#include <string.h>
#include "mm_fixture.h"
#include "mm/mm_internal.h"
#include "mm/slab.h"

#define NP 256
#define RSV 32

static struct page *pages[NP];

/* Under every policy a normal request stops at the floor, never below. */
static void test_normal_never_below_min(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(all_policies); i++) {
		struct fx *f = fx_new(NP, all_policies[i]);
		struct mm_reserve r;
		size_t n, floor;

		assert_int_equal(mm_reserve_add(f->mm, &r, NULL, "r", RSV), 0);
		assert_int_equal(f->mm->wmark_min.v, RSV);
		n = fx_fill(f, MM_NORMAL, &r, pages, NP);
		floor = all_policies[i] == MM_POLICY_NONE ? 0 : RSV;
		assert_int_equal(n, NP - floor);
		assert_int_equal(f->mm->nr_free.v, floor);
		for (size_t k = 0; k < n; k++)
			assert_false(page_pfmemalloc(pages[k]));
		/* MM_ATOMIC obeys the same floor. */
		assert_null(mm_page_alloc(f->mm, MM_ATOMIC, &r));
		assert_int_equal(f->mm->nr_free.v, floor);
		assert_int_equal(r.used.v, 0);
		mm_check(f->mm);
		fx_put_all(f, pages, n);
		assert_int_equal(mm_reserve_remove(&r), 0);
		fx_free(f);
	}
}

static void test_memalloc_takes_reserve_and_marks_pfmemalloc(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve r;
	size_t n;
	struct page *p;

	assert_int_equal(mm_reserve_add(f->mm, &r, NULL, "r", RSV), 0);
	/* With normal memory available, memalloc gets normal memory. */
	p = mm_page_alloc(f->mm, MM_MEMALLOC, &r);
	assert_non_null(p);
	assert_false(page_pfmemalloc(p));
	assert_int_equal(r.used.v, 0);
	mm_page_put(f->mm, p);

	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	p = mm_page_alloc(f->mm, MM_MEMALLOC, &r);
	assert_non_null(p);
	assert_true(page_pfmemalloc(p));
	assert_ptr_equal(p->reserve, &r);
	assert_int_equal(r.used.v, 1);
	assert_int_equal(f->mm->root.used.v, 1);
	assert_int_equal(fx_stat(f, "mm.reserve.r.used"), 1);
	assert_true(mm_addr_pfmemalloc(f->mm, page_address(f->mm, p)));
	mm_check(f->mm);
	/* Freeing returns it to the reserve. */
	mm_page_put(f->mm, p);
	assert_int_equal(r.used.v, 0);
	assert_int_equal(r.hwm.v, 1);
	fx_put_all(f, pages, n);
	mm_reserve_remove(&r);
	fx_free(f);
}

static void test_memalloc_context_and_nomemalloc(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve r, other;
	struct mm_memalloc_ctx ctx, inner;
	struct page *p, *q;
	size_t n;

	assert_int_equal(mm_reserve_add(f->mm, &r, NULL, "ctx", RSV / 2), 0);
	assert_int_equal(mm_reserve_add(f->mm, &other, NULL, "other", 4), 0);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	assert_false(mm_in_memalloc(f->mm));
	ctx = mm_memalloc_save(f->mm, &r);
	assert_true(mm_in_memalloc(f->mm));
	/* NOMEMALLOC overrides the context. */
	assert_null(mm_page_alloc(f->mm, MM_NOMEMALLOC, NULL));
	/* The context's reserve is charged when the call names none... */
	p = mm_page_alloc(f->mm, MM_ATOMIC, NULL);
	assert_non_null(p);
	assert_ptr_equal(p->reserve, &r);
	/* ...and the call's own reserve when it names one. */
	q = mm_page_alloc(f->mm, MM_ATOMIC, &other);
	assert_non_null(q);
	assert_ptr_equal(q->reserve, &other);
	/* Nesting keeps the outer reserve unless a new one is given. */
	inner = mm_memalloc_save(f->mm, NULL);
	assert_ptr_equal(f->mm->ctx.rsv, &r);
	mm_memalloc_restore(f->mm, inner);
	mm_memalloc_restore(f->mm, ctx);
	assert_false(mm_in_memalloc(f->mm));
	/* Outside the context a plain request cannot reach the reserve. */
	assert_null(mm_page_alloc(f->mm, MM_ATOMIC, &r));
	mm_page_put(f->mm, p);
	mm_page_put(f->mm, q);
	fx_put_all(f, pages, n);
	mm_reserve_remove(&other);
	mm_reserve_remove(&r);
	fx_free(f);
}

/* Accounted: a memalloc request naming no reserve cannot spend one. */
static void test_memalloc_without_reserve_fails(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve r;
	size_t n;

	mm_reserve_add(f->mm, &r, NULL, "r", RSV);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	assert_null(mm_page_alloc(f->mm, MM_MEMALLOC, NULL));
	assert_int_equal(fx_stat(f, "mm.alloc.fail.no_reserve_named"), 1);
	assert_int_equal(r.used.v, 0);
	fx_put_all(f, pages, n);
	mm_reserve_remove(&r);
	fx_free(f);
}

/* none: MM_MEMALLOC is an ordinary request; nothing is pfmemalloc. */
static void test_policy_none_has_no_reserve(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_NONE);
	struct mm_reserve r;
	size_t n;

	mm_reserve_add(f->mm, &r, NULL, "r", RSV);
	n = fx_fill(f, MM_MEMALLOC, &r, pages, NP);
	assert_int_equal(n, NP);
	for (size_t k = 0; k < n; k++)
		assert_false(page_pfmemalloc(pages[k]));
	assert_int_equal(r.used.v, 0);
	assert_null(mm_page_alloc(f->mm, MM_MEMALLOC, &r));
	fx_put_all(f, pages, n);
	mm_reserve_remove(&r);
	fx_free(f);
}

/*
 * mainline: one shared, unaccounted pool.  Any memalloc request may take
 * every free page, charged to the root, whatever reserve it names.
 */
static void test_policy_mainline_shared_unbounded(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_MAINLINE);
	struct mm_reserve a, b;
	size_t n, m;

	mm_reserve_add(f->mm, &a, NULL, "a", RSV / 2);
	mm_reserve_add(f->mm, &b, NULL, "b", RSV / 2);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	assert_int_equal(n, NP - RSV);
	m = fx_fill(f, MM_MEMALLOC, &a, pages + n, NP);
	/* "a" took the whole shared reserve, b's half included. */
	assert_int_equal(m, RSV);
	assert_int_equal(f->mm->root.used.v, RSV);
	assert_int_equal(a.used.v, 0);
	assert_null(mm_page_alloc(f->mm, MM_MEMALLOC, &b));
	for (size_t k = n; k < n + m; k++)
		assert_ptr_equal(pages[k]->reserve, &f->mm->root);
	mm_check(f->mm);
	fx_put_all(f, pages, n + m);
	mm_reserve_remove(&b);
	mm_reserve_remove(&a);
	fx_free(f);
}

static void test_refcount_and_zero(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct page *p = mm_page_alloc(f->mm, MM_NORMAL, NULL);
	uint8_t *a;
	int64_t free0;

	assert_non_null(p);
	a = page_address(f->mm, p);
	memset(a, 0xa5, PAGE_SIZE);
	free0 = f->mm->nr_free.v;
	mm_page_get(p);
	mm_page_put(f->mm, p);
	assert_int_equal(f->mm->nr_free.v, free0); /* still referenced */
	mm_page_put(f->mm, p);
	assert_int_equal(f->mm->nr_free.v, free0 + 1);
	p = mm_page_alloc(f->mm, MM_ZERO, NULL);
	a = page_address(f->mm, p);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		assert_int_equal(a[i], 0);
	assert_ptr_equal(virt_to_page(f->mm, a + 100), p);
	mm_page_put(f->mm, p);
	fx_free(f);
}

struct hooks {
	unsigned kswapd, direct;
	struct page *spare;
};

static void on_kswapd(struct mm *mm, void *arg)
{
	((struct hooks *)arg)->kswapd++;
}

static size_t on_direct(struct mm *mm, size_t nr, void *arg)
{
	struct hooks *h = arg;

	h->direct++;
	assert_true(mm->in_direct_reclaim);
	if (!h->spare)
		return 0;
	mm_page_put(mm, h->spare);
	h->spare = NULL;
	return 1;
}

static void test_watermarks_and_reclaim_hooks(void **state)
{
	struct mm_config cfg = { .nr_pages = NP,
				 .policy = MM_POLICY_ACCOUNTED,
				 .low_extra = 16,
				 .high_extra = 8 };
	struct fx *f = fx_new_cfg(&cfg, 1);
	struct hooks h = { 0 };
	struct mm_reclaim_ops ops = { on_kswapd, on_direct, &h };
	struct mm_reserve r;
	size_t n;

	mm_reserve_add(f->mm, &r, NULL, "r", RSV);
	assert_int_equal(f->mm->wmark_min.v, RSV);
	assert_int_equal(f->mm->wmark_low.v, RSV + 16);
	assert_int_equal(f->mm->wmark_high.v, RSV + 24);
	mm_set_reclaim(f->mm, &ops);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP - RSV - 17);
	assert_int_equal(h.kswapd, 0);
	pages[n++] = mm_page_alloc(f->mm, MM_NORMAL, NULL);
	pages[n++] = mm_page_alloc(f->mm, MM_NORMAL, NULL);
	assert_true(mm_below_low(f->mm));
	assert_true(h.kswapd > 0);
	n += fx_fill(f, MM_NORMAL, NULL, pages + n, NP);
	/* The failure that ended the fill tried direct reclaim first. */
	assert_int_equal(h.direct, 1);
	h.direct = 0;
	/* ATOMIC never runs direct reclaim; NORMAL does, and benefits. */
	h.spare = pages[--n];
	assert_null(mm_page_alloc(f->mm, MM_ATOMIC, NULL));
	assert_int_equal(h.direct, 0);
	pages[n] = mm_page_alloc(f->mm, MM_NORMAL, NULL);
	assert_non_null(pages[n]);
	n++;
	assert_int_equal(h.direct, 1);
	assert_int_equal(fx_stat(f, "mm.reclaim.direct"), 2);
	fx_put_all(f, pages, n);
	mm_reserve_remove(&r);
	fx_free(f);
}

static void test_set_policy_busy_while_charged(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve r;
	struct page *p;
	size_t n;

	mm_reserve_add(f->mm, &r, NULL, "r", RSV);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	p = mm_page_alloc(f->mm, MM_MEMALLOC, &r);
	assert_non_null(p);
	assert_int_equal(mm_set_policy(f->mm, MM_POLICY_NONE), -EBUSY);
	mm_page_put(f->mm, p);
	assert_int_equal(mm_set_policy(f->mm, MM_POLICY_MAINLINE), 0);
	assert_int_equal(f->mm->policy, MM_POLICY_MAINLINE);
	fx_put_all(f, pages, n);
	mm_reserve_remove(&r);
	fx_free(f);
}

static void test_policy_names(void **state)
{
	enum mm_policy p;

	for (size_t i = 0; i < ARRAY_SIZE(all_policies); i++) {
		assert_int_equal(
			mm_policy_parse(mm_policy_name(all_policies[i]), &p),
			0);
		assert_int_equal(p, all_policies[i]);
	}
	assert_int_equal(mm_policy_parse("kernel", &p), -EINVAL);
	assert_int_equal(mm_policy_parse(NULL, &p), -EINVAL);
}

static void test_kmalloc_classes(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	void *a = mm_kmalloc(f->mm, 1, MM_NORMAL, NULL);
	void *b = mm_kmalloc(f->mm, 33, MM_NORMAL, NULL);
	void *c = mm_kmalloc(f->mm, 2048, MM_ZERO, NULL);

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(kmem_obj_cache(f->mm, a)->size, 32);
	assert_int_equal(kmem_obj_cache(f->mm, b)->size, 64);
	assert_int_equal(kmem_obj_cache(f->mm, c)->size, 2048);
	for (int i = 0; i < 2048; i++)
		assert_int_equal(((uint8_t *)c)[i], 0);
	mm_kfree(f->mm, a);
	mm_kfree(f->mm, b);
	mm_kfree(f->mm, c);
	mm_kfree(f->mm, NULL);
	fx_free(f);
}

static void corrupt_free_count(void *arg)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);

	f->mm->nr_free.v--;
	mm_check(f->mm);
}

static void double_put(void *arg)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct page *p = mm_page_alloc(f->mm, MM_NORMAL, NULL);

	mm_page_put(f->mm, p);
	mm_page_put(f->mm, p);
}

static void leak_at_destroy(void *arg)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);

	mm_page_alloc(f->mm, MM_NORMAL, NULL);
	mm_destroy(f->mm);
}

/* The checker and the assertions catch what they claim to. */
static void test_violations_panic(void **state)
{
	assert_true(fx_panics(corrupt_free_count, NULL));
	assert_true(fx_panics(double_put, NULL));
	assert_true(fx_panics(leak_at_destroy, NULL));
}

static lb_unused void touch_freed_page(void *arg)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct page *p = mm_page_alloc(f->mm, MM_NORMAL, NULL);
	volatile uint8_t *a = page_address(f->mm, p);

	mm_page_put(f->mm, p);
	a[10] = 1;
}

static lb_unused void touch_freed_object(void *arg)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	volatile uint8_t *o = mm_kmalloc(f->mm, 64, MM_NORMAL, NULL);

	mm_kfree(f->mm, (void *)o);
	o[20] = 1;
}

/*
 * Under ASan the free parts of the arena are poisoned like freed malloc.
 * Only the sanitizer build has this test (elsewhere there is nothing to
 * check, which is not a skip).
 */
#ifdef LB_ASAN
static void test_asan_catches_use_after_free(void **state)
{
	assert_true(fx_dies(touch_freed_page, NULL));
	assert_true(fx_dies(touch_freed_object, NULL));
}
#endif

static void test_tiny_arena_refused(void **state)
{
	struct host_config hc = { .name = "t", .log_level = LOG_ERR };
	struct mm_config cfg = { .nr_pages = 8 };
	struct loop l;
	struct host *h;

	loop_init(&l, LOOP_VIRTUAL);
	h = host_create(&l, &hc);
	h->log.out = fopen("/dev/null", "w");
	assert_null(mm_create(h, &cfg));
	fclose(h->log.out);
	host_destroy(h);
	loop_destroy(&l);
}

/* Linux's min_free_kbytes: sqrt(16 x KiB), clamped to [128 KiB, 256 MiB]. */
static void test_linux_min_free(void **state)
{
	assert_int_equal(mm_linux_min_free_pages(2048),
			 90); /* 8 MiB: 362 KiB */
	assert_int_equal(mm_linux_min_free_pages(16384), 256); /* 64 MiB */
	assert_int_equal(mm_linux_min_free_pages(64), 32); /* clamped up */
	assert_int_equal(mm_linux_min_free_pages((size_t)1 << 30), 65536);
}

/* mainline_min fixes mainline's reserve whatever the tree says. */
static void test_mainline_min(void **state)
{
	struct host_config hc = { .name = "t", .log_level = LOG_ERR };
	struct mm_config cfg = { .nr_pages = 2048,
				 .policy = MM_POLICY_MAINLINE,
				 .mainline_min = 90 };
	struct mm_reserve r;
	struct loop l;
	struct host *h;
	struct mm *mm;

	loop_init(&l, LOOP_VIRTUAL);
	h = host_create(&l, &hc);
	mm = mm_create(h, &cfg);
	assert_non_null(mm);
	assert_int_equal(mm->wmark_min.v, 90);
	assert_int_equal(mm_reserve_add(mm, &r, NULL, "r", 300), 0);
	assert_int_equal(mm->wmark_min.v, 90);
	mm_check(mm);
	/* the tree's sum again once the policy is not mainline */
	assert_int_equal(mm_set_policy(mm, MM_POLICY_ACCOUNTED), 0);
	assert_int_equal(mm->wmark_min.v, 300);
	mm_check(mm);
	assert_int_equal(mm_set_policy(mm, MM_POLICY_MAINLINE), 0);
	assert_int_equal(mm->wmark_min.v, 90);
	assert_int_equal(mm_reserve_remove(&r), 0);
	mm_destroy(mm);
	host_destroy(h);
	loop_destroy(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_never_below_min),
		cmocka_unit_test(
			test_memalloc_takes_reserve_and_marks_pfmemalloc),
		cmocka_unit_test(test_memalloc_context_and_nomemalloc),
		cmocka_unit_test(test_memalloc_without_reserve_fails),
		cmocka_unit_test(test_policy_none_has_no_reserve),
		cmocka_unit_test(test_policy_mainline_shared_unbounded),
		cmocka_unit_test(test_refcount_and_zero),
		cmocka_unit_test(test_watermarks_and_reclaim_hooks),
		cmocka_unit_test(test_set_policy_busy_while_charged),
		cmocka_unit_test(test_policy_names),
		cmocka_unit_test(test_kmalloc_classes),
		cmocka_unit_test(test_violations_panic),
		cmocka_unit_test(test_tiny_arena_refused),
		cmocka_unit_test(test_linux_min_free),
		cmocka_unit_test(test_mainline_min),
#ifdef LB_ASAN
		cmocka_unit_test(test_asan_catches_use_after_free),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
