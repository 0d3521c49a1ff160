// SPDX-License-Identifier: MIT
/* The reserve tree: sums set min, charges are bounded per node. */
#include <errno.h>
#include "mm_fixture.h"
#include "mm/mm_internal.h"

#define NP 512

static struct page *pages[NP];

static void test_sizes_sum_into_min(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve net, rx, tx, blk;

	assert_int_equal(f->mm->wmark_min.v, 0);
	assert_int_equal(mm_reserve_add(f->mm, &net, NULL, "net", 2), 0);
	assert_int_equal(mm_reserve_add(f->mm, &rx, &net, "net.rx", 10), 0);
	assert_int_equal(mm_reserve_add(f->mm, &tx, &net, "net.tx.1", 6), 0);
	assert_int_equal(mm_reserve_add(f->mm, &blk, NULL, "block.nbd0", 8), 0);
	assert_int_equal(net.size.v, 18);
	assert_int_equal(f->mm->root.size.v, 26);
	assert_int_equal(f->mm->wmark_min.v, 26);
	assert_true(f->mm->wmark_low.v > 26);
	assert_ptr_equal(mm_reserve_find(f->mm, "net.tx.1"), &tx);
	assert_null(mm_reserve_find(f->mm, "net.tx.2"));
	assert_int_equal(fx_stat(f, "mm.reserve.net.size"), 18);
	assert_int_equal(fx_stat(f, "mm.reserve.root.size"), 26);

	/* Resizing moves min; removing gives the pages back. */
	assert_int_equal(mm_reserve_resize(&tx, 16), 0);
	assert_int_equal(f->mm->wmark_min.v, 36);
	assert_int_equal(mm_reserve_remove(&net), -EBUSY); /* has children */
	assert_int_equal(mm_reserve_remove(&tx), 0);
	assert_int_equal(mm_reserve_remove(&rx), 0);
	assert_int_equal(mm_reserve_remove(&net), 0);
	assert_int_equal(f->mm->wmark_min.v, 8);
	assert_int_equal(mm_reserve_remove(&blk), 0);
	assert_int_equal(f->mm->wmark_min.v, 0);
	assert_int_equal(stats_get(&f->host->stats, "mm.reserve.net.size",
				   &(int64_t){ 0 }),
			 -ENOENT);
	fx_free(f);
}

static void test_bad_names(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve a, b;

	assert_int_equal(mm_reserve_add(f->mm, &a, NULL, "a", 1), 0);
	assert_int_equal(mm_reserve_add(f->mm, &b, NULL, "a", 1), -EEXIST);
	assert_int_equal(mm_reserve_add(f->mm, &b, NULL, "", 1), -EINVAL);
	assert_int_equal(
		mm_reserve_add(f->mm, &b, NULL,
			       "a-name-that-is-far-too-long-for-a-reserve-node",
			       1),
		-EINVAL);
	assert_int_equal(mm_reserve_remove(&f->mm->root), -EINVAL);
	mm_reserve_remove(&a);
	fx_free(f);
}

/* The rule that makes floods harmless: X full fails though Y has room. */
static void test_full_reserve_fails_while_sibling_has_room(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve x, y;
	size_t n, got_x, got_y;

	mm_reserve_add(f->mm, &x, NULL, "x", 5);
	mm_reserve_add(f->mm, &y, NULL, "y", 7);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	got_x = fx_fill(f, MM_MEMALLOC, &x, pages + n, NP);
	assert_int_equal(got_x, 5);
	assert_int_equal(x.used.v, 5);
	assert_int_equal(x.failures.v, 1);
	assert_int_equal(f->mm->nr_free.v, 7); /* y's pages, untouched */
	assert_null(mm_page_alloc(f->mm, MM_MEMALLOC, &x));
	assert_int_equal(x.failures.v, 2);
	got_y = fx_fill(f, MM_MEMALLOC, &y, pages + n + got_x, NP);
	assert_int_equal(got_y, 7);
	assert_int_equal(f->mm->nr_free.v, 0);
	mm_check(f->mm);
	/* After x's pages go back, x can charge again; y is still full. */
	fx_put_all(f, pages + n, got_x);
	assert_int_equal(x.used.v, 0);
	assert_int_equal(x.hwm.v, 5);
	assert_null(mm_page_alloc(f->mm, MM_MEMALLOC, &y));
	fx_put_all(f, pages + n + got_x, got_y);
	fx_put_all(f, pages, n);
	mm_reserve_remove(&y);
	mm_reserve_remove(&x);
	fx_free(f);
}

/* A parent's own share is bounded too; children cannot borrow it. */
static void test_nested_bounds(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve parent, child;
	size_t n, c, p;

	mm_reserve_add(f->mm, &parent, NULL, "p", 3);
	mm_reserve_add(f->mm, &child, &parent, "p.c", 4);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	c = fx_fill(f, MM_MEMALLOC, &child, pages + n, NP);
	assert_int_equal(c, 4);
	assert_int_equal(parent.used.v, 4);
	assert_int_equal(parent.self_used, 0);
	p = fx_fill(f, MM_MEMALLOC, &parent, pages + n + c, NP);
	assert_int_equal(p, 3);
	assert_int_equal(parent.used.v, 7);
	assert_int_equal(mm_reserve_room(&child), 0);
	mm_check(f->mm);
	/* Shrinking below use is refused. */
	assert_int_equal(mm_reserve_resize(&child, 2), -EBUSY);
	assert_int_equal(mm_reserve_remove(&child), -EBUSY);
	fx_put_all(f, pages, n + c + p);
	assert_int_equal(mm_reserve_resize(&child, 2), 0);
	assert_int_equal(parent.size.v, 5);
	mm_reserve_remove(&child);
	mm_reserve_remove(&parent);
	fx_free(f);
}

/* A reserve that cannot be backed by free pages is refused, as swapon should. */
static void test_reserve_that_does_not_fit_is_refused(void **state)
{
	struct mm_config cfg = { .nr_pages = NP,
				 .policy = MM_POLICY_ACCOUNTED,
				 .reserve_max_pct = 25 };
	struct fx *f = fx_new_cfg(&cfg, 1);
	struct mm_reserve a, b;
	size_t n;

	f->host->log.out = fopen("/dev/null", "w");
	assert_int_equal(mm_reserve_add(f->mm, &a, NULL, "big", NP / 4 + 1),
			 -ENOMEM);
	assert_int_equal(mm_reserve_add(f->mm, &a, NULL, "a", 16), 0);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	assert_int_equal(f->mm->nr_free.v, 16);
	/* Everything above min is in use: a new reserve has no pages. */
	assert_int_equal(mm_reserve_add(f->mm, &b, NULL, "b", 1), -ENOMEM);
	assert_int_equal(mm_reserve_resize(&a, 17), -ENOMEM);
	assert_int_equal(f->mm->wmark_min.v, 16);
	mm_page_put(f->mm, pages[--n]);
	assert_int_equal(mm_reserve_add(f->mm, &b, NULL, "b", 1), 0);
	fclose(f->host->log.out);
	f->host->log.out = stderr;
	fx_put_all(f, pages, n);
	mm_reserve_remove(&b);
	mm_reserve_remove(&a);
	fx_free(f);
}

static void test_explicit_charge(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve r;

	mm_reserve_add(f->mm, &r, NULL, "r", 4);
	assert_int_equal(mm_reserve_charge(&r, 3), 0);
	assert_int_equal(mm_reserve_charge(&r, 2), -ENOMEM);
	assert_int_equal(r.used.v, 3);
	assert_int_equal(r.charges.v, 1);
	assert_int_equal(r.failures.v, 1);
	assert_int_equal(mm_reserve_room(&r), 1);
	mm_reserve_uncharge(&r, 3);
	assert_int_equal(mm_reserve_room(&r), 4);
	mm_reserve_remove(&r);
	fx_free(f);
}

static void over_uncharge(void *arg)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve r;

	mm_reserve_add(f->mm, &r, NULL, "r", 4);
	mm_reserve_uncharge(&r, 1);
}

static void test_uncharge_below_zero_panics(void **state)
{
	assert_true(fx_panics(over_uncharge, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_sum_into_min),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(
			test_full_reserve_fails_while_sibling_has_room),
		cmocka_unit_test(test_nested_bounds),
		cmocka_unit_test(test_reserve_that_does_not_fit_is_refused),
		cmocka_unit_test(test_explicit_charge),
		cmocka_unit_test(test_uncharge_below_zero_panics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
