// SPDX-License-Identifier: MIT
/*
 * Event loop: timer order, cancel, re-arm, tasks, virtual time, real I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/loop.h"
#include "core/prng.h"

/* What fired, in order, and when. */
struct fired {
	int id;
	uint64_t expires, seq, now;
};

struct ttimer {
	struct timer t;
	int id;
	struct loop *l;
	int rearms; /* times left to re-arm from the callback */
	uint64_t period; /* re-arm delay */
	bool cancelled; /* by the test, for the random test */
	unsigned nr_fired;
};

static struct fired *fired;
static size_t nr_fired, fired_cap;

static void fired_reset(size_t cap)
{
	free(fired);
	fired = calloc(cap, sizeof(*fired));
	assert_non_null(fired);
	fired_cap = cap;
	nr_fired = 0;
}

static void ttimer_fn(struct timer *t)
{
	struct ttimer *tt = container_of(t, struct ttimer, t);

	/* Disarmed before the callback, so the callback may re-arm. */
	assert_false(timer_armed(t));
	assert_true(nr_fired < fired_cap);
	fired[nr_fired].id = tt->id;
	fired[nr_fired].expires = t->expires;
	fired[nr_fired].seq = t->seq;
	fired[nr_fired].now = loop_now(tt->l);
	nr_fired++;
	tt->nr_fired++;
	assert_true(t->expires <= loop_now(tt->l));
	if (tt->rearms > 0) {
		tt->rearms--;
		timer_arm_in(tt->l, t, tt->period);
	}
}

static void ttimer_init(struct ttimer *tt, struct loop *l, int id)
{
	memset(tt, 0, sizeof(*tt));
	timer_init(&tt->t, ttimer_fn);
	tt->id = id;
	tt->l = l;
}

/*
 * Check the pairing heap's shape: heap order on (expires, seq), prev links
 * consistent (parent for a first child, left sibling otherwise), every node
 * armed, and the node count equal to nr_timers.
 */
static void check_heap(const struct loop *l)
{
	size_t cap = l->nr_timers + 1, sp = 0, count = 0;
	const struct timer **stack = calloc(cap, sizeof(*stack));
	const struct timer *t, *c, *prev;

	assert_non_null(stack);
	if (l->heap) {
		assert_null(l->heap->prev);
		assert_null(l->heap->next);
		stack[sp++] = l->heap;
	}
	while (sp) {
		t = stack[--sp];
		count++;
		assert_true(count <= l->nr_timers);
		assert_true(t->armed);
		prev = t;
		for (c = t->child; c; c = c->next) {
			assert_ptr_equal(c->prev, prev);
			assert_true(
				t->expires < c->expires ||
				(t->expires == c->expires && t->seq < c->seq));
			assert_true(sp < cap);
			stack[sp++] = c;
			prev = c;
		}
	}
	assert_int_equal(count, l->nr_timers);
	free(stack);
}

static void test_equal_expiry_fires_in_arm_order(void **state)
{
	static const uint64_t exp[] = { 30, 10, 10, 20, 10, 20, 5 };
	static const int want[] = { 6, 1, 2, 4, 3, 5, 0 };
	struct ttimer tt[ARRAY_SIZE(exp)];
	struct loop l;
	size_t i;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	fired_reset(16);
	for (i = 0; i < ARRAY_SIZE(exp); i++) {
		ttimer_init(&tt[i], &l, (int)i);
		timer_arm(&l, &tt[i].t, exp[i]);
	}
	assert_int_equal(l.nr_timers, ARRAY_SIZE(exp));
	assert_int_equal(loop_next_expiry(&l), 5);
	loop_run(&l);
	assert_int_equal(nr_fired, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(fired[i].id, want[i]);
		/* Virtual time jumps exactly to each expiry. */
		assert_int_equal(fired[i].now, exp[want[i]]);
	}
	assert_int_equal(loop_now(&l), 30);
	assert_int_equal(l.nr_timers, 0);
	assert_int_equal(l.timers_fired, ARRAY_SIZE(exp));
	assert_int_equal(loop_next_expiry(&l), UINT64_MAX);
	loop_destroy(&l);
}

static void test_virtual_time_jumps_exactly(void **state)
{
	struct ttimer a;
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	fired_reset(4);
	ttimer_init(&a, &l, 1);
	timer_arm_in(&l, &a.t, 1234567);
	assert_int_equal(loop_now(&l), 0);
	/* One iteration: nothing runnable, so time jumps and the timer fires. */
	assert_false(loop_run_once(&l, UINT64_MAX));
	assert_int_equal(nr_fired, 1);
	assert_int_equal(fired[0].now, 1234567);
	assert_int_equal(loop_now(&l), 1234567);
	assert_false(loop_run_once(&l, UINT64_MAX));
	assert_int_equal(loop_now(&l), 1234567);
	loop_destroy(&l);
}

static void test_virtual_max_wait_limits_jump(void **state)
{
	struct ttimer a;
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	fired_reset(4);
	ttimer_init(&a, &l, 1);
	timer_arm(&l, &a.t, 1000);
	assert_true(loop_run_once(&l, 300));
	assert_int_equal(loop_now(&l), 300);
	assert_int_equal(nr_fired, 0);
	assert_false(loop_run_once(&l, 5000));
	assert_int_equal(loop_now(&l), 1000);
	assert_int_equal(nr_fired, 1);
	loop_destroy(&l);
}

static void test_cancel_root_and_children(void **state)
{
	struct ttimer tt[16];
	bool cancelled[16] = { false };
	struct timer *victim;
	struct loop l;
	int i, expect = 0;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	fired_reset(32);
	for (i = 0; i < 16; i++) {
		ttimer_init(&tt[i], &l, i);
		timer_arm(&l, &tt[i].t, 100 + 10 * (uint64_t)i);
	}
	/* Fire the first so the pairing pass gives the heap some depth. */
	loop_run_until(&l, 100);
	assert_int_equal(nr_fired, 1);
	check_heap(&l);

	/* The root: the earliest pending timer. */
	assert_ptr_equal(l.heap, &tt[1].t);
	timer_cancel(&l, &tt[1].t);
	cancelled[1] = true;
	assert_false(timer_armed(&tt[1].t));
	check_heap(&l);

	/* A first child, a grandchild, and a later sibling. */
	victim = l.heap->child;
	assert_non_null(victim);
	assert_non_null(victim->child);
	assert_non_null(victim->next);
	cancelled[container_of(victim->child, struct ttimer, t)->id] = true;
	timer_cancel(&l, victim->child);
	check_heap(&l);
	cancelled[container_of(victim->next, struct ttimer, t)->id] = true;
	timer_cancel(&l, victim->next);
	check_heap(&l);
	cancelled[container_of(victim, struct ttimer, t)->id] = true;
	timer_cancel(&l, victim);
	check_heap(&l);
	/* The latest, wherever it is. */
	if (!cancelled[15]) {
		cancelled[15] = true;
		timer_cancel(&l, &tt[15].t);
		check_heap(&l);
	}
	/* Cancelling twice is harmless. */
	timer_cancel(&l, &tt[1].t);
	check_heap(&l);

	loop_run(&l);
	for (i = 0; i < 16; i++) {
		assert_int_equal(tt[i].nr_fired, cancelled[i] ? 0 : 1);
		expect += !cancelled[i];
	}
	assert_int_equal(nr_fired, expect);
	assert_true(expect <= 16 - 5);
	for (i = 1; i < (int)nr_fired; i++)
		assert_true(fired[i - 1].expires < fired[i].expires);
	loop_destroy(&l);
}

static void test_rearm_moves(void **state)
{
	struct ttimer a, b;
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	fired_reset(8);
	ttimer_init(&a, &l, 1);
	ttimer_init(&b, &l, 2);
	timer_arm(&l, &a.t, 100);
	timer_arm(&l, &b.t, 150);
	timer_arm(&l, &a.t, 50); /* earlier */
	assert_int_equal(l.nr_timers, 2);
	assert_int_equal(loop_next_expiry(&l), 50);
	timer_arm(&l, &a.t, 200); /* later */
	assert_int_equal(l.nr_timers, 2);
	assert_int_equal(loop_next_expiry(&l), 150);
	check_heap(&l);
	loop_run(&l);
	assert_int_equal(nr_fired, 2);
	assert_int_equal(fired[0].id, 2);
	assert_int_equal(fired[0].now, 150);
	assert_int_equal(fired[1].id, 1);
	assert_int_equal(fired[1].now, 200);
	assert_int_equal(a.nr_fired, 1);
	loop_destroy(&l);
}

static void test_rearm_from_callback(void **state)
{
	struct ttimer a;
	struct loop l;
	int i;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	fired_reset(8);
	ttimer_init(&a, &l, 1);
	a.rearms = 4;
	a.period = 10;
	timer_arm_in(&l, &a.t, 10);
	loop_run(&l);
	assert_int_equal(nr_fired, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(fired[i].now, 10 * (uint64_t)(i + 1));
	assert_false(timer_armed(&a.t));
	loop_destroy(&l);
}

/* A timer re-armed for the past fires next iteration, not in a loop now. */
static void test_arm_in_past(void **state)
{
	struct ttimer a, b;
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	fired_reset(16);
	ttimer_init(&a, &l, 1);
	ttimer_init(&b, &l, 2);
	timer_arm(&l, &a.t, 500);
	loop_run(&l);
	assert_int_equal(loop_now(&l), 500);

	a.rearms = 3;
	a.period = 0; /* re-arm for "now" from the callback */
	timer_arm(&l, &a.t, 100);
	timer_arm(&l, &b.t, 20);
	/* The past becomes now; arm order decides. */
	assert_int_equal(loop_next_expiry(&l), 500);
	nr_fired = 0;
	assert_true(loop_run_once(&l, UINT64_MAX));
	assert_int_equal(nr_fired, 2);
	assert_int_equal(fired[0].id, 1);
	assert_int_equal(fired[1].id, 2);
	assert_true(loop_run_once(&l, UINT64_MAX));
	assert_int_equal(nr_fired, 3);
	assert_true(loop_run_once(&l, UINT64_MAX));
	assert_int_equal(nr_fired, 4);
	assert_false(loop_run_once(&l, UINT64_MAX));
	assert_int_equal(nr_fired, 5);
	/* Virtual time never went backwards. */
	assert_int_equal(loop_now(&l), 500);
	loop_destroy(&l);
}

static int cmp_fired(const void *pa, const void *pb)
{
	const struct fired *a = pa, *b = pb;

	if (a->expires != b->expires)
		return a->expires < b->expires ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

#define MANY 100000

static void test_100k_timers_fire_sorted(void **state)
{
	struct ttimer *tt = calloc(MANY, sizeof(*tt));
	unsigned *order = calloc(MANY, sizeof(*order));
	struct prng p;
	struct loop l;
	unsigned i, j, tmp;

	assert_non_null(tt);
	assert_non_null(order);
	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	fired_reset(MANY);
	prng_seed(&p, 7);
	for (i = 0; i < MANY; i++)
		order[i] = i;
	for (i = MANY - 1; i > 0; i--) {
		j = (unsigned)prng_below(&p, i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	/* Few distinct expiries: ties must fall back on arm order. */
	for (i = 0; i < MANY; i++) {
		struct ttimer *t = &tt[order[i]];

		ttimer_init(t, &l, (int)order[i]);
		timer_arm(&l, &t->t, 1 + prng_below(&p, MANY / 8));
	}
	assert_int_equal(l.nr_timers, MANY);
	loop_run(&l);
	assert_int_equal(nr_fired, MANY);
	assert_int_equal(l.timers_fired, MANY);
	for (i = 1; i < MANY; i++) {
		assert_true(cmp_fired(&fired[i - 1], &fired[i]) < 0);
		assert_int_equal(fired[i].now, fired[i].expires);
	}
	for (i = 0; i < MANY; i++)
		assert_int_equal(tt[i].nr_fired, 1);
	loop_destroy(&l);
	free(order);
	free(tt);
}

/*
 * Random arms, re-arms and cancels of arbitrary timers, interleaved with
 * partial runs: every armed timer fires once in (expiry, arm) order, no
 * cancelled one fires.
 */
static void random_ops(unsigned n, unsigned rounds, bool validate)
{
	struct ttimer *tt = calloc(n, sizeof(*tt));
	struct prng p;
	struct loop l;
	unsigned i, r, k, armed_count = 0;
	size_t first;

	assert_non_null(tt);
	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	fired_reset((size_t)n * (rounds + 1));
	prng_seed(&p, 12345 + n);
	for (i = 0; i < n; i++)
		ttimer_init(&tt[i], &l, (int)i);

	for (r = 0; r < rounds; r++) {
		for (k = 0; k < n; k++) {
			struct ttimer *t = &tt[prng_below(&p, n)];
			uint64_t op = prng_below(&p, 3);

			if (op < 2) {
				timer_arm(&l, &t->t,
					  loop_now(&l) + prng_below(&p, 4096));
				t->cancelled = false;
			} else {
				timer_cancel(&l, &t->t);
				t->cancelled = true;
			}
			if (validate && k % 64 == 0)
				check_heap(&l);
		}
		for (i = 0, armed_count = 0; i < n; i++)
			armed_count += timer_armed(&tt[i].t);
		assert_int_equal(l.nr_timers, armed_count);

		first = nr_fired;
		loop_run_until(&l, loop_now(&l) + 2048);
		for (size_t f = first + 1; f < nr_fired; f++)
			assert_true(cmp_fired(&fired[f - 1], &fired[f]) < 0);
		for (size_t f = first; f < nr_fired; f++)
			assert_false(tt[fired[f].id].cancelled);
		if (validate)
			check_heap(&l);
		/* Nothing due by now is left behind. */
		assert_true(loop_next_expiry(&l) > loop_now(&l));
	}
	first = nr_fired;
	loop_run(&l);
	for (size_t f = first + 1; f < nr_fired; f++)
		assert_true(cmp_fired(&fired[f - 1], &fired[f]) < 0);
	assert_int_equal(l.nr_timers, 0);
	assert_null(l.heap);
	loop_destroy(&l);
	free(tt);
}

static void test_random_cancel_small_checked(void **state)
{
	random_ops(2000, 20, true);
}

static void test_random_cancel_100k(void **state)
{
	random_ops(MANY, 5, false);
}

/* Tasks */

struct ttask {
	struct task t;
	int id;
	struct loop *l;
	int requeues;
	struct ttask *victim; /* cancelled when this runs */
	struct ttask *queue; /* queued when this runs */
};

static int task_log[64];
static int nr_task_log;

static void ttask_fn(struct task *t)
{
	struct ttask *tt = container_of(t, struct ttask, t);

	assert_false(t->queued);
	task_log[nr_task_log++] = tt->id;
	if (tt->victim)
		task_cancel(tt->l, &tt->victim->t);
	if (tt->queue)
		task_queue(tt->l, &tt->queue->t);
	if (tt->requeues > 0) {
		tt->requeues--;
		task_queue(tt->l, t);
	}
}

static void ttask_init(struct ttask *tt, struct loop *l, int id)
{
	memset(tt, 0, sizeof(*tt));
	task_init(&tt->t, ttask_fn);
	tt->id = id;
	tt->l = l;
}

static void test_tasks_fifo_dedup(void **state)
{
	struct ttask a, b, c;
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	nr_task_log = 0;
	ttask_init(&a, &l, 1);
	ttask_init(&b, &l, 2);
	ttask_init(&c, &l, 3);
	task_queue(&l, &b.t);
	task_queue(&l, &a.t);
	task_queue(&l, &b.t);
	task_queue(&l, &c.t);
	task_queue(&l, &a.t);
	assert_false(loop_run_once(&l, UINT64_MAX));
	assert_int_equal(nr_task_log, 3);
	assert_int_equal(task_log[0], 2);
	assert_int_equal(task_log[1], 1);
	assert_int_equal(task_log[2], 3);
	assert_int_equal(l.tasks_run, 3);
	loop_destroy(&l);
}

static void test_task_queued_by_task_runs_next_iteration(void **state)
{
	struct ttask a, b;
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	nr_task_log = 0;
	ttask_init(&a, &l, 1);
	ttask_init(&b, &l, 2);
	a.requeues = 2;
	a.queue = &b;
	task_queue(&l, &a.t);
	assert_true(loop_run_once(&l, UINT64_MAX));
	assert_int_equal(nr_task_log, 1);
	assert_true(loop_run_once(&l, UINT64_MAX));
	assert_int_equal(nr_task_log, 3); /* b, then a again */
	assert_int_equal(task_log[1], 2);
	assert_int_equal(task_log[2], 1);
	loop_run(&l);
	/* a b a b a b: a stops re-queueing itself, b runs once more. */
	assert_int_equal(nr_task_log, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(task_log[i], i % 2 ? 2 : 1);
	loop_destroy(&l);
}

static void test_task_cancel(void **state)
{
	struct ttask a, b, c;
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	nr_task_log = 0;
	ttask_init(&a, &l, 1);
	ttask_init(&b, &l, 2);
	ttask_init(&c, &l, 3);
	task_queue(&l, &a.t);
	task_queue(&l, &b.t);
	task_queue(&l, &c.t);
	task_cancel(&l, &a.t);
	assert_false(a.t.queued);
	/* b cancels c, which was queued in the same batch. */
	b.victim = &c;
	loop_run(&l);
	assert_int_equal(nr_task_log, 1);
	assert_int_equal(task_log[0], 2);
	assert_false(c.t.queued);
	/* A cancelled task can be queued again. */
	task_queue(&l, &c.t);
	loop_run(&l);
	assert_int_equal(nr_task_log, 2);
	assert_int_equal(task_log[1], 3);
	loop_destroy(&l);
}

static void test_tasks_run_before_time_advances(void **state)
{
	struct ttimer a;
	struct ttask t;
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	fired_reset(4);
	nr_task_log = 0;
	ttimer_init(&a, &l, 1);
	ttask_init(&t, &l, 1);
	t.requeues = 3;
	timer_arm(&l, &a.t, 100);
	task_queue(&l, &t.t);
	/* Time stays put while a task is runnable. */
	assert_true(loop_run_once(&l, UINT64_MAX));
	assert_true(loop_run_once(&l, UINT64_MAX));
	assert_true(loop_run_once(&l, UINT64_MAX));
	assert_int_equal(loop_now(&l), 0);
	assert_int_equal(nr_fired, 0);
	assert_false(loop_run_once(&l, UINT64_MAX));
	assert_int_equal(nr_task_log, 4);
	assert_int_equal(nr_fired, 1);
	assert_int_equal(loop_now(&l), 100);
	loop_destroy(&l);
}

static void test_run_once_empty(void **state)
{
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	assert_false(loop_run_once(&l, UINT64_MAX));
	loop_run(&l);
	assert_int_equal(loop_now(&l), 0);
	/* an idle world still lives through the time asked for */
	loop_run_until(&l, 1000);
	assert_int_equal(loop_now(&l), 1000);
	loop_destroy(&l);
}

static void test_run_until_deadline(void **state)
{
	struct ttimer tt[4];
	struct loop l;
	int i;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	fired_reset(8);
	for (i = 0; i < 4; i++) {
		ttimer_init(&tt[i], &l, i);
		timer_arm(&l, &tt[i].t, 100 * (uint64_t)(i + 1));
	}
	loop_run_until(&l, 250);
	assert_int_equal(nr_fired, 2);
	assert_int_equal(loop_now(&l), 250);
	/* A timer exactly at the deadline fires; time stops there. */
	loop_run_until(&l, 300);
	assert_int_equal(nr_fired, 3);
	assert_int_equal(fired[2].now, 300);
	assert_int_equal(loop_now(&l), 300);
	/* A deadline in the past does not move time back. */
	loop_run_until(&l, 10);
	assert_int_equal(loop_now(&l), 300);
	assert_int_equal(nr_fired, 3);
	loop_run_until(&l, 1000);
	assert_int_equal(nr_fired, 4);
	assert_int_equal(fired[3].now, 400);
	assert_int_equal(loop_now(&l), 1000);
	loop_destroy(&l);
}

static void stop_fn(struct timer *t)
{
	struct ttimer *tt = container_of(t, struct ttimer, t);

	ttimer_fn(t);
	loop_stop(tt->l);
}

static void test_loop_stop(void **state)
{
	struct ttimer a, b;
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	fired_reset(8);
	ttimer_init(&a, &l, 1);
	ttimer_init(&b, &l, 2);
	a.t.fn = stop_fn;
	timer_arm(&l, &a.t, 10);
	timer_arm(&l, &b.t, 20);
	loop_run(&l);
	assert_int_equal(nr_fired, 1);
	assert_true(timer_armed(&b.t));
	assert_int_equal(loop_now(&l), 10);
	/* The stop was consumed: the next run goes on. */
	loop_run(&l);
	assert_int_equal(nr_fired, 2);
	loop_destroy(&l);
}

static void test_destroy_disarms(void **state)
{
	struct ttimer a;
	struct ttask t;
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	ttimer_init(&a, &l, 1);
	ttask_init(&t, &l, 1);
	timer_arm(&l, &a.t, 10);
	task_queue(&l, &t.t);
	loop_destroy(&l);
	assert_false(timer_armed(&a.t));
	assert_false(t.t.queued);
}

/* Real backend */

struct pwatch {
	struct io_watch w;
	struct loop *l;
	unsigned calls;
	uint32_t revents;
	struct pwatch *victim;
};

static void pwatch_fn(struct io_watch *w, uint32_t revents)
{
	struct pwatch *pw = container_of(w, struct pwatch, w);
	char c;

	pw->calls++;
	pw->revents = revents;
	assert_int_equal(read(w->fd, &c, 1), 1);
	if (pw->victim)
		loop_unwatch(pw->l, &pw->victim->w);
}

static void test_virtual_has_no_watches(void **state)
{
	struct pwatch pw = { 0 };
	struct loop l;

	assert_int_equal(loop_init(&l, LOOP_VIRTUAL), 0);
	assert_int_equal(loop_watch(&l, &pw.w, 0, LOOP_IN, pwatch_fn),
			 -EOPNOTSUPP);
	loop_destroy(&l);
}

static void test_real_pipe_watch(void **state)
{
	struct pwatch pw = { 0 };
	struct loop l;
	int fds[2];

	assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(loop_init(&l, LOOP_REAL), 0);
	pw.l = &l;
	assert_int_equal(loop_watch(&l, &pw.w, fds[0], LOOP_IN, pwatch_fn), 0);
	assert_int_equal(loop_watch(&l, &pw.w, fds[0], LOOP_IN, pwatch_fn),
			 -EBUSY);
	assert_int_equal(l.nr_watches, 1);

	/* Nothing to read: the wait times out without a call. */
	assert_true(loop_run_once(&l, 1 * NSEC_PER_MSEC));
	assert_int_equal(pw.calls, 0);

	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_true(loop_run_once(&l, NSEC_PER_SEC));
	assert_int_equal(pw.calls, 1);
	assert_true(pw.revents & LOOP_IN);

	assert_int_equal(loop_watch_modify(&l, &pw.w, LOOP_IN), 0);
	loop_unwatch(&l, &pw.w);
	assert_false(pw.w.added);
	assert_int_equal(l.nr_watches, 0);
	assert_int_equal(loop_watch_modify(&l, &pw.w, LOOP_IN), -ENOENT);
	/* No watch, timer or task left. */
	assert_false(loop_run_once(&l, NSEC_PER_SEC));
	loop_destroy(&l);
	close(fds[0]);
	close(fds[1]);
}

struct fl {
	struct loop *l;
	struct task flush, task;
	struct timer timer;
	struct io_watch w;
	int wfd;
	unsigned flushes, reads;
	char order[8];
	unsigned nr;
};

/* The flush writes into the pipe the loop watches: a wire's queue sent. */
static void fl_flush(struct task *t)
{
	struct fl *f = container_of(t, struct fl, flush);

	f->flushes++;
	f->order[f->nr++] = 'F';
	assert_int_equal(write(f->wfd, "x", 1), 1);
}

static void fl_task(struct task *t)
{
	struct fl *f = container_of(t, struct fl, task);

	f->order[f->nr++] = 'T';
	loop_queue_flush(f->l, &f->flush);
	loop_queue_flush(f->l, &f->flush); /* once only */
}

static void fl_timer(struct timer *t)
{
	struct fl *f = container_of(t, struct fl, timer);

	f->order[f->nr++] = 'M';
	loop_queue_flush(f->l, &f->flush);
}

static void fl_read(struct io_watch *w, uint32_t revents)
{
	struct fl *f = container_of(w, struct fl, w);
	char c;

	f->order[f->nr++] = 'R';
	while (read(w->fd, &c, 1) == 1)
		f->reads++;
}

/*
 * A flush queued by a task or a timer runs after them and before the loop
 * waits: what it sends is seen in the same iteration, and the loop does
 * not sleep on a queue it has not sent.  Without the flush before the
 * wait, the first loop_run_once below would wait its full 10 s for a pipe
 * that stays empty, and see no read.
 */
static void test_real_flush_before_wait(void **state)
{
	struct fl f = { 0 };
	struct loop l;
	int fds[2];

	assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(loop_init(&l, LOOP_REAL), 0);
	f.l = &l;
	f.wfd = fds[1];
	task_init(&f.flush, fl_flush);
	task_init(&f.task, fl_task);
	timer_init(&f.timer, fl_timer);
	assert_int_equal(loop_watch(&l, &f.w, fds[0], LOOP_IN, fl_read), 0);

	task_queue(&l, &f.task);
	assert_true(loop_run_once(&l, 10 * NSEC_PER_SEC));
	assert_int_equal(f.flushes, 1);
	assert_int_equal(f.reads, 1);
	assert_memory_equal(f.order, "TFR", 3);

	timer_arm_in(&l, &f.timer, 0);
	assert_true(loop_run_once(&l, 10 * NSEC_PER_SEC));
	assert_int_equal(f.flushes, 2);
	assert_int_equal(f.reads, 2);
	assert_memory_equal(f.order + 3, "MFR", 3);

	/* cancelled before the iteration's end: never runs */
	loop_queue_flush(&l, &f.flush);
	task_cancel(&l, &f.flush);
	assert_true(loop_run_once(&l, 1 * NSEC_PER_MSEC));
	assert_int_equal(f.flushes, 2);

	/* queued and left: loop_destroy forgets it */
	loop_queue_flush(&l, &f.flush);
	loop_unwatch(&l, &f.w);
	loop_destroy(&l);
	assert_false(f.flush.queued);
	close(fds[0]);
	close(fds[1]);
}

/* A callback unwatching a watch whose event is in the same batch. */
static void test_real_unwatch_within_batch(void **state)
{
	struct pwatch a = { 0 }, b = { 0 };
	struct loop l;
	int p1[2], p2[2];

	assert_int_equal(pipe2(p1, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(pipe2(p2, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(loop_init(&l, LOOP_REAL), 0);
	a.l = b.l = &l;
	a.victim = &b;
	b.victim = &a;
	assert_int_equal(loop_watch(&l, &a.w, p1[0], LOOP_IN, pwatch_fn), 0);
	assert_int_equal(loop_watch(&l, &b.w, p2[0], LOOP_IN, pwatch_fn), 0);
	assert_int_equal(write(p1[1], "x", 1), 1);
	assert_int_equal(write(p2[1], "y", 1), 1);
	loop_run_once(&l, NSEC_PER_SEC);
	/* Whichever ran first unwatched the other before its turn. */
	assert_int_equal(a.calls + b.calls, 1);
	loop_unwatch(&l, &a.w);
	loop_unwatch(&l, &b.w);
	assert_int_equal(l.nr_watches, 0);
	loop_destroy(&l);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void test_real_timer_1ms(void **state)
{
	struct ttimer a;
	struct loop l;
	uint64_t t0, start;

	assert_int_equal(loop_init(&l, LOOP_REAL), 0);
	fired_reset(4);
	start = mono_ns();
	ttimer_init(&a, &l, 1);
	t0 = loop_now(&l);
	timer_arm_in(&l, &a.t, NSEC_PER_MSEC);
	loop_run(&l);
	assert_int_equal(nr_fired, 1);
	/* Never early, on the loop's clock and on the wall clock. */
	assert_true(fired[0].now >= t0 + NSEC_PER_MSEC);
	assert_true(mono_ns() - start >= NSEC_PER_MSEC);
	assert_true(loop_now(&l) >= fired[0].now);
	loop_destroy(&l);
}

static void test_real_run_until(void **state)
{
	struct loop l;
	struct ttimer a;
	uint64_t deadline;

	assert_int_equal(loop_init(&l, LOOP_REAL), 0);
	fired_reset(4);
	ttimer_init(&a, &l, 1);
	timer_arm_in(&l, &a.t, 10 * NSEC_PER_SEC);
	deadline = loop_now(&l) + 2 * NSEC_PER_MSEC;
	loop_run_until(&l, deadline);
	assert_true(loop_now(&l) >= deadline);
	assert_int_equal(nr_fired, 0);
	assert_true(timer_armed(&a.t));
	loop_destroy(&l);
	assert_false(timer_armed(&a.t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_expiry_fires_in_arm_order),
		cmocka_unit_test(test_virtual_time_jumps_exactly),
		cmocka_unit_test(test_virtual_max_wait_limits_jump),
		cmocka_unit_test(test_cancel_root_and_children),
		cmocka_unit_test(test_rearm_moves),
		cmocka_unit_test(test_rearm_from_callback),
		cmocka_unit_test(test_arm_in_past),
		cmocka_unit_test(test_100k_timers_fire_sorted),
		cmocka_unit_test(test_random_cancel_small_checked),
		cmocka_unit_test(test_random_cancel_100k),
		cmocka_unit_test(test_tasks_fifo_dedup),
		cmocka_unit_test(test_task_queued_by_task_runs_next_iteration),
		cmocka_unit_test(test_task_cancel),
		cmocka_unit_test(test_tasks_run_before_time_advances),
		cmocka_unit_test(test_run_once_empty),
		cmocka_unit_test(test_run_until_deadline),
		cmocka_unit_test(test_loop_stop),
		cmocka_unit_test(test_destroy_disarms),
		cmocka_unit_test(test_virtual_has_no_watches),
		cmocka_unit_test(test_real_pipe_watch),
		cmocka_unit_test(test_real_unwatch_within_batch),
		cmocka_unit_test(test_real_flush_before_wait),
		cmocka_unit_test(test_real_timer_1ms),
		cmocka_unit_test(test_real_run_until),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);

	free(fired);
	return ret;
}
