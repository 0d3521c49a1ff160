// SPDX-License-Identifier: MIT
/*
 * loop.c - event loop, clock, timers (pairing heap), tasks and fd watches.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include "assert.h"
#include "loop.h"

_Static_assert(LOOP_IN == EPOLLIN && LOOP_OUT == EPOLLOUT &&
		       LOOP_ERR == EPOLLERR && LOOP_HUP == EPOLLHUP,
	       "LOOP_* bits must mirror epoll's so they pass through as is");

#define LOOP_EVENTS_MAX 64

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void update_now(struct loop *l)
{
	uint64_t t;

	if (l->kind != LOOP_REAL)
		return;
	t = monotonic_ns() - l->start_real;
	if (t > l->now)
		l->now = t;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

int loop_init(struct loop *l, enum loop_kind kind)
{
	l->kind = kind;
	l->now = 0;
	l->start_real = 0;
	l->heap = NULL;
	l->timer_seq = 0;
	l->nr_timers = 0;
	list_init(&l->tasks);
	list_init(&l->flushes);
	l->epfd = -1;
	l->nr_watches = 0;
	l->stop = false;
	l->tasks_run = 0;
	l->timers_fired = 0;
	l->io_batch = NULL;
	l->io_batch_len = 0;
	if (kind == LOOP_REAL) {
		l->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (l->epfd < 0)
			return -errno;
		l->start_real = monotonic_ns();
	}
	return 0;
}

/*
 * Pairing heap.  A node's children form a list through ->next; ->prev points
 * to the left sibling, or to the parent for the first child, so any node can
 * be unlinked in O(1) without knowing its parent.  The root's ->prev and
 * ->next are NULL.
 */

static bool timer_before(const struct timer *a, const struct timer *b)
{
	if (a->expires != b->expires)
		return a->expires < b->expires;
	return a->seq < b->seq;
}

/* Link two roots; the result's ->prev and ->next are left to the caller. */
static struct timer *heap_meld(struct timer *a, struct timer *b)
{
	struct timer *tmp;

	if (timer_before(b, a)) {
		tmp = a;
		a = b;
		b = tmp;
	}
	b->prev = a;
	b->next = a->child;
	if (a->child)
		a->child->prev = b;
	a->child = b;
	return a;
}

/*
 * The standard two-pass merge of a sibling list, done iteratively: arming
 * n timers in a row leaves n children under the root, far too many to
 * recurse over.
 */
static struct timer *heap_merge_pairs(struct timer *first)
{
	struct timer *pairs = NULL, *a, *b, *next;

	/* Pass 1, left to right: meld pairs, stacking the results. */
	while (first) {
		a = first;
		b = a->next;
		if (!b) {
			a->prev = NULL;
			a->next = pairs;
			pairs = a;
			break;
		}
		first = b->next;
		a->prev = a->next = NULL;
		b->prev = b->next = NULL;
		a = heap_meld(a, b);
		a->next = pairs;
		pairs = a;
	}
	if (!pairs)
		return NULL;

	/* Pass 2, right to left (the stack's order): meld into one. */
	a = pairs;
	next = a->next;
	while (next) {
		b = next;
		next = b->next;
		a = heap_meld(a, b);
	}
	a->prev = a->next = NULL;
	return a;
}

static void heap_insert(struct loop *l, struct timer *t)
{
	t->child = t->next = t->prev = NULL;
	if (l->heap)
		l->heap = heap_meld(l->heap, t);
	else
		l->heap = t;
	l->heap->prev = l->heap->next = NULL;
}

static void heap_remove(struct loop *l, struct timer *t)
{
	struct timer *sub;

	/* Only the root lacks a prev link: anything else is not in this heap. */
	LB_ASSERT(t == l->heap || t->prev);
	if (t == l->heap) {
		l->heap = heap_merge_pairs(t->child);
	} else {
		if (t->prev->child == t)
			t->prev->child = t->next;
		else
			t->prev->next = t->next;
		if (t->next)
			t->next->prev = t->prev;
		sub = heap_merge_pairs(t->child);
		if (sub) {
			l->heap = heap_meld(l->heap, sub);
			l->heap->prev = l->heap->next = NULL;
		}
	}
	t->child = t->next = t->prev = NULL;
}

void timer_init(struct timer *t, void (*fn)(struct timer *t))
{
	t->child = t->next = t->prev = NULL;
	t->expires = 0;
	t->seq = 0;
	t->armed = false;
	t->fn = fn;
}

void timer_arm(struct loop *l, struct timer *t, uint64_t expires)
{
	if (t->armed)
		timer_cancel(l, t);
	/*
	 * An expiry in the past becomes "now": the timer then sorts after
	 * every timer already due, which keeps a timer that re-arms itself
	 * for the past from firing again in the same iteration, and keeps
	 * the heap's keys from ever lying behind the clock.
	 */
	t->expires = lb_max(expires, l->now);
	t->seq = l->timer_seq++;
	t->armed = true;
	heap_insert(l, t);
	l->nr_timers++;
}

void timer_arm_in(struct loop *l, struct timer *t, uint64_t delay_ns)
{
	timer_arm(l, t, add_sat(l->now, delay_ns));
}

void timer_cancel(struct loop *l, struct timer *t)
{
	if (!t->armed)
		return;
	LB_ASSERT(l->nr_timers > 0);
	heap_remove(l, t);
	t->armed = false;
	l->nr_timers--;
}

uint64_t loop_next_expiry(const struct loop *l)
{
	return l->heap ? l->heap->expires : UINT64_MAX;
}

/*
 * Fire every timer due now that was armed before @seq_limit: a callback that
 * re-arms for "now" (or the past) runs again next iteration, not in a loop
 * here.
 */
static void fire_timers(struct loop *l, uint64_t seq_limit)
{
	struct timer *t;

	while ((t = l->heap) && t->expires <= l->now && t->seq < seq_limit) {
		timer_cancel(l, t);
		l->timers_fired++;
		t->fn(t);
	}
}

void task_init(struct task *t, void (*fn)(struct task *t))
{
	list_init(&t->node);
	t->queued = false;
	t->fn = fn;
}

void task_queue(struct loop *l, struct task *t)
{
	if (t->queued)
		return;
	list_add_tail(&t->node, &l->tasks);
	t->queued = true;
}

void task_cancel(struct loop *l, struct task *t)
{
	if (!t->queued)
		return;
	list_del(&t->node);
	t->queued = false;
}

void loop_queue_flush(struct loop *l, struct task *t)
{
	if (t->queued)
		return;
	list_add_tail(&t->node, &l->flushes);
	t->queued = true;
}

/*
 * Run the tasks queued at entry on @list.  They are moved to a private
 * list first so that a task queueing work (or itself) cannot starve timers
 * and I/O; a task_cancel() of one of them still works, as list_del() needs
 * no head.
 */
static void run_list(struct loop *l, struct list_head *list)
{
	struct list_head batch;
	struct task *t;

	list_init(&batch);
	list_splice_init(list, &batch);

	while (!list_empty(&batch)) {
		t = list_first_entry(&batch, struct task, node);
		list_del(&t->node);
		t->queued = false;
		l->tasks_run++;
		t->fn(t);
	}
}

int loop_watch(struct loop *l, struct io_watch *w, int fd, uint32_t events,
	       void (*fn)(struct io_watch *w, uint32_t revents))
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (l->kind != LOOP_REAL)
		return -EOPNOTSUPP;
	if (w->added)
		return -EBUSY;
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	w->added = true;
	l->nr_watches++;
	return 0;
}

int loop_watch_modify(struct loop *l, struct io_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (!w->added)
		return -ENOENT;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

void loop_unwatch(struct loop *l, struct io_watch *w)
{
	struct epoll_event *evs = l->io_batch;
	int i;

	if (!w->added)
		return;
	LB_ASSERT(l->nr_watches > 0);
	/* Fails harmlessly if the fd was closed first: epoll forgot it then. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->added = false;
	l->nr_watches--;
	/*
	 * A callback earlier in the batch being dispatched may unwatch (and
	 * free) a watch that has an event later in the same batch.
	 */
	for (i = 0; i < l->io_batch_len; i++)
		if (evs[i].data.ptr == w)
			evs[i].data.ptr = NULL;
}

static void run_tasks(struct loop *l)
{
	run_list(l, &l->tasks);
}

static void run_flushes(struct loop *l)
{
	run_list(l, &l->flushes);
}

static bool loop_has_work(const struct loop *l)
{
	return !list_empty(&l->tasks) || !list_empty(&l->flushes) || l->heap ||
	       l->nr_watches;
}

static int epoll_wait_ns(struct loop *l, struct epoll_event *evs,
			 uint64_t timeout_ns)
{
	struct timespec ts;
	int n, ms;

	if (timeout_ns != UINT64_MAX) {
		ts.tv_sec = (time_t)(timeout_ns / NSEC_PER_SEC);
		ts.tv_nsec = (long)(timeout_ns % NSEC_PER_SEC);
	}
	n = epoll_pwait2(l->epfd, evs, LOOP_EVENTS_MAX,
			 timeout_ns == UINT64_MAX ? NULL : &ts, NULL);
	if (n >= 0 || errno != ENOSYS)
		return n;
	/* Before Linux 5.11: milliseconds, rounded up so timers are not early. */
	if (timeout_ns == UINT64_MAX)
		ms = -1;
	else
		ms = (int)lb_min(DIV_ROUND_UP(timeout_ns, NSEC_PER_MSEC),
				 (uint64_t)INT32_MAX);
	return epoll_wait(l->epfd, evs, LOOP_EVENTS_MAX, ms);
}

static void wait_io(struct loop *l, uint64_t max_wait_ns)
{
	struct epoll_event evs[LOOP_EVENTS_MAX];
	uint64_t timeout = max_wait_ns, next;
	struct io_watch *w;
	void *saved_batch;
	int n, i, saved_len;

	if (!list_empty(&l->tasks) || l->stop) {
		timeout = 0;
	} else {
		next = loop_next_expiry(l);
		if (next != UINT64_MAX)
			timeout = lb_min(timeout,
					 next > l->now ? next - l->now : 0);
	}

	n = epoll_wait_ns(l, evs, timeout);
	update_now(l);
	if (n <= 0)
		return; /* EINTR: the caller simply iterates again */

	saved_batch = l->io_batch;
	saved_len = l->io_batch_len;
	l->io_batch = evs;
	l->io_batch_len = n;
	for (i = 0; i < n; i++) {
		w = evs[i].data.ptr;
		if (w)
			w->fn(w, evs[i].events);
	}
	l->io_batch = saved_batch;
	l->io_batch_len = saved_len;
}

bool loop_run_once(struct loop *l, uint64_t max_wait_ns)
{
	uint64_t next, seq_limit;

	if (!loop_has_work(l))
		return false;
	update_now(l);
	run_tasks(l);
	/* Timers armed from here on wait for the next iteration. */
	seq_limit = l->timer_seq;
	fire_timers(l, seq_limit);

	if (l->kind == LOOP_REAL) {
		/* nothing an iteration produced waits across the wait */
		run_flushes(l);
		wait_io(l, max_wait_ns);
		fire_timers(l, seq_limit);
	} else if (list_empty(&l->tasks) && !l->stop) {
		/*
		 * Nothing runnable: the virtual clock "waits" by jumping, to
		 * the next timer or by @max_wait_ns, whichever is first.
		 */
		next = lb_min(loop_next_expiry(l),
			      add_sat(l->now, max_wait_ns));
		if (l->heap && next > l->now) {
			l->now = next;
			fire_timers(l, seq_limit);
		}
	}
	run_flushes(l);
	return loop_has_work(l);
}

void loop_run(struct loop *l)
{
	while (!l->stop && loop_run_once(l, UINT64_MAX))
		;
	l->stop = false;
}

/* Virtual: is anything left to do at the current instant? */
static bool runnable_now(const struct loop *l)
{
	return !list_empty(&l->tasks) || loop_next_expiry(l) <= l->now;
}

void loop_run_until(struct loop *l, uint64_t deadline)
{
	bool stopped = false;

	while (!(stopped = l->stop)) {
		/*
		 * Virtual time finishes the instant @deadline, so that
		 * everything due by then has run; real time cannot be held
		 * still, so it stops as soon as the deadline has passed.
		 */
		if (l->now >= deadline &&
		    (l->kind == LOOP_REAL || !runnable_now(l)))
			break;
		if (!loop_run_once(l,
				   l->now < deadline ? deadline - l->now : 0))
			break;
	}
	/* An idle simulated world still lives through the time asked for. */
	if (l->kind == LOOP_VIRTUAL && !stopped && l->now < deadline)
		l->now = deadline;
	l->stop = false;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

void loop_destroy(struct loop *l)
{
	struct task *t;

	/* Leave every owner's timer and task in a state it may reuse. */
	while (l->heap)
		timer_cancel(l, l->heap);
	while (!list_empty(&l->tasks)) {
		t = list_first_entry(&l->tasks, struct task, node);
		task_cancel(l, t);
	}
	while (!list_empty(&l->flushes)) {
		t = list_first_entry(&l->flushes, struct task, node);
		task_cancel(l, t);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
	l->nr_watches = 0;
}
