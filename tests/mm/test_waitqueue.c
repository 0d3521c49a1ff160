// SPDX-License-Identifier: MIT
/* The memory waitqueue: FIFO wake-ups, per-reserve waiters, no spinning. */
#include "mm_fixture.h"

#define NP 64

static struct page *pages[NP];

struct waiter {
	struct mm_waiter w;
	struct fx *f;
	struct mm_reserve *rsv;
	unsigned flags;
	struct page *got;
	int woken, *log, *nlog, id;
};

static void woken(struct mm_waiter *w)
{
	struct waiter *x = container_of(w, struct waiter, w);

	x->woken++;
	x->log[(*x->nlog)++] = x->id;
	x->got = mm_page_alloc(x->f->mm, x->flags, x->rsv);
	if (!x->got)
		mm_wait(x->f->mm, w, x->rsv);
}

static void setup(struct waiter *x, struct fx *f, int id, int *log, int *nlog,
		  unsigned flags, struct mm_reserve *rsv)
{
	*x = (struct waiter){ .f = f,
			      .id = id,
			      .log = log,
			      .nlog = nlog,
			      .flags = flags,
			      .rsv = rsv };
	mm_waiter_init(&x->w, woken, "test");
}

static void test_fifo_order(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct waiter w[4];
	int log[16], nlog = 0;
	size_t n;

	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	for (int i = 0; i < 4; i++) {
		setup(&w[i], f, i, log, &nlog, MM_NORMAL, NULL);
		mm_wait(f->mm, &w[i].w, NULL);
	}
	assert_int_equal(f->mm->nr_waiting.v, 4);
	fx_run(f);
	assert_int_equal(nlog, 0); /* no memory, nobody woken */
	/* One page freed: exactly the head wakes and gets it. */
	mm_page_put(f->mm, pages[--n]);
	fx_run(f);
	assert_int_equal(nlog, 1);
	assert_int_equal(log[0], 0);
	assert_non_null(w[0].got);
	/* Two pages freed: the next two, in order. */
	mm_page_put(f->mm, pages[--n]);
	mm_page_put(f->mm, pages[--n]);
	fx_run(f);
	assert_int_equal(nlog, 3);
	assert_int_equal(log[1], 1);
	assert_int_equal(log[2], 2);
	assert_true(w[3].w.parked);
	mm_wait_cancel(f->mm, &w[3].w);
	assert_false(w[3].w.parked);
	assert_int_equal(f->mm->nr_waiting.v, 0);
	mm_page_put(f->mm, pages[--n]);
	fx_run(f);
	assert_int_equal(nlog, 3);
	for (int i = 0; i < 3; i++)
		mm_page_put(f->mm, w[i].got);
	fx_put_all(f, pages, n);
	fx_free(f);
}

/* A waiter for a reserve with room is not held behind one for normal memory. */
static void test_reserve_waiter_not_blocked_by_normal_waiter(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve r;
	struct waiter a, b;
	int log[16], nlog = 0;
	size_t n;

	mm_reserve_add(f->mm, &r, NULL, "r", 1);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	/* a wants normal memory only (ATOMIC, no memalloc). */
	setup(&a, f, 0, log, &nlog, MM_ATOMIC, NULL);
	setup(&b, f, 1, log, &nlog, MM_MEMALLOC, &r);
	mm_wait(f->mm, &a.w, NULL);
	mm_wait(f->mm, &b.w, &r);
	/* b's reserve has room right now: b is woken at once. */
	fx_run(f);
	assert_int_equal(nlog, 1);
	assert_int_equal(log[0], 1);
	assert_non_null(b.got);
	assert_true(page_pfmemalloc(b.got));
	assert_true(a.w.parked);
	mm_page_put(f->mm, b.got);
	fx_put_all(f, pages, n);
	fx_run(f);
	assert_non_null(a.got);
	mm_page_put(f->mm, a.got);
	mm_reserve_remove(&r);
	fx_free(f);
}

/*
 * Waiters on reserve X wake when X regains room, not when Y does: the
 * page Y frees goes back to Y's share, which X may not spend.
 */
static void test_reserve_waiters_woken_by_their_reserve(void **state)
{
	struct fx *f = fx_new(NP, MM_POLICY_ACCOUNTED);
	struct mm_reserve x, y;
	struct page *px, *py;
	struct waiter wx;
	int log[16], nlog = 0;
	size_t n;

	mm_reserve_add(f->mm, &x, NULL, "x", 1);
	mm_reserve_add(f->mm, &y, NULL, "y", 1);
	n = fx_fill(f, MM_NORMAL, NULL, pages, NP);
	px = mm_page_alloc(f->mm, MM_MEMALLOC, &x);
	py = mm_page_alloc(f->mm, MM_MEMALLOC, &y);
	assert_non_null(px);
	assert_non_null(py);
	setup(&wx, f, 7, log, &nlog, MM_MEMALLOC, &x);
	mm_wait(f->mm, &wx.w, &x);
	fx_run(f);
	assert_int_equal(nlog, 0);
	mm_page_put(f->mm, py);
	fx_run(f);
	assert_int_equal(nlog, 0);
	assert_true(wx.w.parked);
	mm_page_put(f->mm, px);
	fx_run(f);
	assert_int_equal(nlog, 1);
	assert_non_null(wx.got);
	assert_ptr_equal(wx.got->reserve, &x);
	mm_page_put(f->mm, wx.got);
	fx_put_all(f, pages, n);
	mm_reserve_remove(&y);
	mm_reserve_remove(&x);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_order),
		cmocka_unit_test(
			test_reserve_waiter_not_blocked_by_normal_waiter),
		cmocka_unit_test(test_reserve_waiters_woken_by_their_reserve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
