/* SPDX-License-Identifier: MIT */
/*
 * loop.h - the run-to-completion event loop, its clock and its timers.
 *
 * One loop drives one or more hosts (a simulation puts all its hosts on one
 * virtual loop).  Nothing blocks: work is a callback run from the loop.
 *
 * Backends:
 *  - LOOP_REAL: CLOCK_MONOTONIC, epoll for file descriptors.
 *  - LOOP_VIRTUAL: time is a counter that jumps to the next timer when no
 *    task is runnable; no file descriptors.  Runs are deterministic.
 *
 * Memory: timers, tasks and fd watches are intrusive (embedded in their
 * owner), so arming, queueing and watching never allocate.  Timers live in a
 * pairing heap ordered by (expiry, arm sequence): O(1) arm, O(log n)
 * amortised expiry and cancel, deterministic order for equal expiries.
 */
#ifndef LB_CORE_LOOP_H
#define LB_CORE_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include "list.h"

enum loop_kind {
	LOOP_REAL,
	LOOP_VIRTUAL,
};

struct loop;

struct timer {
	/* pairing heap links; private */
	struct timer *child, *next, *prev;
	uint64_t expires; /* ns on the loop's clock */
	uint64_t seq;
	bool armed;
	void (*fn)(struct timer *t);
};

struct task {
	struct list_head node; /* private */
	bool queued;
	void (*fn)(struct task *t);
};

/* epoll event bits, mirrored so callers need not include sys/epoll.h */
#define LOOP_IN 0x001u
#define LOOP_OUT 0x004u
#define LOOP_ERR 0x008u
#define LOOP_HUP 0x010u

struct io_watch {
	int fd;
	uint32_t events;
	bool added;
	void (*fn)(struct io_watch *w, uint32_t revents);
};

struct loop {
	enum loop_kind kind;
	uint64_t now; /* cached clock, ns */
	uint64_t start_real; /* real backend: CLOCK_MONOTONIC at init */
	struct timer *heap; /* pairing heap root */
	uint64_t timer_seq;
	uint64_t nr_timers;
	struct list_head tasks;
	struct list_head flushes; /* run at the end of the iteration */
	int epfd;
	unsigned nr_watches;
	bool stop;
	uint64_t tasks_run, timers_fired;
	/* private: the epoll batch being dispatched, voided by loop_unwatch */
	void *io_batch;
	int io_batch_len;
};

/* 0 or -errno (epoll_create1 failure for LOOP_REAL). */
int loop_init(struct loop *l, enum loop_kind kind);
void loop_destroy(struct loop *l);

/* Current time in ns since loop_init (virtual: since 0). */
static inline uint64_t loop_now(const struct loop *l)
{
	return l->now;
}

void timer_init(struct timer *t, void (*fn)(struct timer *t));
/*
 * (Re)arm at absolute time @expires (ns); re-arming an armed timer moves it.
 * An expiry in the past is taken as "now": the timer fires on the next
 * iteration, after the timers already due, never in the current pass.
 */
void timer_arm(struct loop *l, struct timer *t, uint64_t expires);
void timer_arm_in(struct loop *l, struct timer *t, uint64_t delay_ns);
void timer_cancel(struct loop *l, struct timer *t);
static inline bool timer_armed(const struct timer *t)
{
	return t->armed;
}
/* Expiry of the earliest timer, or UINT64_MAX when none is armed. */
uint64_t loop_next_expiry(const struct loop *l);

void task_init(struct task *t, void (*fn)(struct task *t));
/* Queue @t to run once, FIFO; queueing a queued task does nothing. */
void task_queue(struct loop *l, struct task *t);
void task_cancel(struct loop *l, struct task *t);
/*
 * Queue @t to run once at the end of the current iteration: after its
 * tasks and timers, before the loop waits for I/O, and again after the
 * I/O callbacks and the timers that follow them, so what an iteration
 * produced is never held across a wait.  For work that batches (a wire's
 * transmit queue).  task_cancel() removes it; queueing it twice does
 * nothing.
 */
void loop_queue_flush(struct loop *l, struct task *t);

/*
 * Real backend only: watch @fd for @events; 0 or -errno (-EOPNOTSUPP on the
 * virtual backend, -EBUSY if @w is already watching).  @w must start zeroed.
 */
int loop_watch(struct loop *l, struct io_watch *w, int fd, uint32_t events,
	       void (*fn)(struct io_watch *w, uint32_t revents));
int loop_watch_modify(struct loop *l, struct io_watch *w, uint32_t events);
void loop_unwatch(struct loop *l, struct io_watch *w);

/*
 * One iteration: run every task queued so far, fire every timer due, run
 * the flushes, and (real backend) wait for file descriptors at most until
 * the next timer or @max_wait_ns, whichever is first, then run the
 * flushes that I/O and timers queued.  Virtual backend: when nothing is
 * runnable, time jumps to the next timer.  Returns false when there is
 * nothing left that could ever run (no task, timer or watch).
 */
bool loop_run_once(struct loop *l, uint64_t max_wait_ns);
/* Run until loop_stop() or until nothing is left. */
void loop_run(struct loop *l);
/*
 * Run until the clock reaches @deadline or loop_stop().  Virtual time
 * never passes @deadline, and reaches it even when nothing is left to run
 * (an idle simulated world lives through the time asked for); everything
 * due by @deadline runs, tasks included.  Real time stops as soon as
 * @deadline has passed, or when nothing is left.
 */
void loop_run_until(struct loop *l, uint64_t deadline);
void loop_stop(struct loop *l);

#endif
