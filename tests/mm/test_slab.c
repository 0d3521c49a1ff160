// SPDX-License-Identifier: MIT
/* Object caches: carving, reuse, and the pfmemalloc rule per reserve. */
#include <errno.h>
#include <string.h>
#include "mm_fixture.h"
#include "mm/slab.h"

#define NP 128

static struct page *pages[NP];

static void test_alloc_free_and_reuse(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct kmem_cache c;
	void *objs[200];
	int64_t free0;

	assert_int_equal(kmem_cache_init(&c, f->mm, "t", 100, 64), 0);
	assert_int_equal(c.size, 128);
	assert_int_equal(c.objs_per_slab, PAGE_SIZE / 128);
	free0 = f->mm->nr_free.v;
	for (int i = 0; i < 200; i++) {
		objs[i] = kmem_cache_alloc(&c, MM_NORMAL, NULL);
		assert_non_null(objs[i]);
		assert_true(mm_owns(f->mm, objs[i]));
		assert_int_equal((uintptr_t)objs[i] % 64, 0);
		memset(objs[i], i, 100);
		for (int k = 0; k < i; k++)
			assert_ptr_not_equal(objs[k], objs[i]);
	}
	/* 200 objects of 128 bytes: 7 slabs of 32. */
	assert_int_equal(c.nr_slabs.v, 7);
	assert_int_equal(free0 - f->mm->nr_free.v, 7);
	for (int i = 0; i < 200; i++)
		assert_int_equal(((uint8_t *)objs[i])[99], (uint8_t)i);
	for (int i = 0; i < 200; i++)
		kmem_cache_free(&c, objs[i]);
	/* One empty slab is kept for reuse, the rest went back. */
	assert_int_equal(c.nr_slabs.v, 1);
	assert_int_equal(free0 - f->mm->nr_free.v, 1);
	kmem_cache_shrink(&c);
	assert_int_equal(f->mm->nr_free.v, free0);
	assert_int_equal(c.nr_objs.v, 0);
	assert_int_equal(fx_stat(f, "slab.t.alloc"), 200);
	kmem_cache_destroy(&c);
	fx_free(f);
}

static void test_bad_geometry(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct kmem_cache c;

	assert_int_equal(kmem_cache_init(&c, f->mm, "x", 4, 0), -EINVAL);
	assert_int_equal(kmem_cache_init(&c, f->mm, "x", PAGE_SIZE, 0),
			 -EINVAL);
	assert_int_equal(kmem_cache_init(&c, f->mm, "x", 64, 24), -EINVAL);
	fx_free(f);
}

/*
 * Objects on a pfmemalloc slab go only to memalloc users: with a reserve
 * slab holding free objects, a normal request still fails.
 */
static void test_pfmemalloc_slab_never_serves_normal(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve r;
	struct kmem_cache c;
	void *o;
	size_t n;

	mm_reserve_add(f->mm, &r, NULL, "r", 4);
	kmem_cache_init(&c, f->mm, "pf", 64, 0);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	assert_null(kmem_cache_alloc(&c, MM_NORMAL, NULL));
	o = kmem_cache_alloc(&c, MM_MEMALLOC, &r);
	assert_non_null(o);
	assert_true(mm_addr_pfmemalloc(f->mm, o));
	assert_int_equal(r.used.v, 1);
	assert_int_equal(c.nr_slabs.v, 1);
	/* 63 free objects sit on that slab; a normal request cannot have one. */
	assert_null(kmem_cache_alloc(&c, MM_NORMAL, NULL));
	assert_null(kmem_cache_alloc(&c, MM_ATOMIC, &r));
	/* A memalloc request for the same reserve shares the slab. */
	void *o2 = kmem_cache_alloc(&c, MM_MEMALLOC, &r);
	assert_non_null(o2);
	assert_int_equal(r.used.v, 1);
	mm_check(f->mm);
	/* The reserve page goes back to the reserve when the slab empties. */
	kmem_cache_free(&c, o);
	assert_int_equal(r.used.v, 1);
	kmem_cache_free(&c, o2);
	assert_int_equal(r.used.v, 0);
	assert_int_equal(c.nr_slabs.v, 0);
	assert_int_equal(f->mm->nr_free.v, 4);
	fx_put_all(f, pages, n);
	kmem_cache_destroy(&c);
	mm_reserve_remove(&r);
	fx_free(f);
}

/* A reserve slab charged to X is never spent by a request charging Y. */
static void test_pfmemalloc_slabs_are_per_reserve(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve x, y;
	struct kmem_cache c;
	void *ox, *oy;
	size_t n;

	mm_reserve_add(f->mm, &x, NULL, "x", 2);
	mm_reserve_add(f->mm, &y, NULL, "y", 2);
	kmem_cache_init(&c, f->mm, "pr", 256, 0);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	ox = kmem_cache_alloc(&c, MM_MEMALLOC, &x);
	oy = kmem_cache_alloc(&c, MM_MEMALLOC, &y);
	assert_non_null(ox);
	assert_non_null(oy);
	assert_ptr_not_equal(virt_to_page(f->mm, ox), virt_to_page(f->mm, oy));
	assert_int_equal(x.used.v, 1);
	assert_int_equal(y.used.v, 1);
	assert_ptr_equal(virt_to_page(f->mm, oy)->reserve, &y);
	kmem_cache_free(&c, ox);
	kmem_cache_free(&c, oy);
	fx_put_all(f, pages, n);
	kmem_cache_destroy(&c);
	mm_reserve_remove(&y);
	mm_reserve_remove(&x);
	fx_free(f);
}

/* Normal memory first: a memalloc request uses a normal slab if it can. */
static void test_memalloc_prefers_normal_slab(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve r;
	struct kmem_cache c;
	void *a, *b;
	size_t n;

	mm_reserve_add(f->mm, &r, NULL, "r", 4);
	kmem_cache_init(&c, f->mm, "pref", 64, 0);
	a = kmem_cache_alloc(&c, MM_NORMAL, NULL);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	b = kmem_cache_alloc(&c, MM_MEMALLOC, &r);
	assert_non_null(b);
	assert_false(mm_addr_pfmemalloc(f->mm, b));
	assert_int_equal(r.used.v, 0);
	kmem_cache_free(&c, a);
	kmem_cache_free(&c, b);
	fx_put_all(f, pages, n);
	kmem_cache_destroy(&c);
	mm_reserve_remove(&r);
	fx_free(f);
}

static struct fx *leak_fx;

static void destroy_with_objects(void *arg)
{
	struct kmem_cache c;

	leak_fx = fx_new(NP, MM_POLICY_ACCOUNTED);
	kmem_cache_init(&c, leak_fx->mm, "leak", 64, 0);
	kmem_cache_alloc(&c, MM_NORMAL, NULL);
	kmem_cache_destroy(&c);
}

static void free_to_wrong_cache(void *arg)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct kmem_cache a, b;
	void *o;

	kmem_cache_init(&a, f->mm, "a", 64, 0);
	kmem_cache_init(&b, f->mm, "b", 64, 0);
	o = kmem_cache_alloc(&a, MM_NORMAL, NULL);
	kmem_cache_free(&b, o);
}

static void test_misuse_panics(void **state)
{
	assert_true(fx_panics(destroy_with_objects, NULL));
	assert_true(fx_panics(free_to_wrong_cache, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_free_and_reuse),
		cmocka_unit_test(test_bad_geometry),
		cmocka_unit_test(test_pfmemalloc_slab_never_serves_normal),
		cmocka_unit_test(test_pfmemalloc_slabs_are_per_reserve),
		cmocka_unit_test(test_memalloc_prefers_normal_slab),
		cmocka_unit_test(test_misuse_panics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
