// SPDX-License-Identifier: MIT
/*
 * Many frames per wake-up: two pair wires flooded at once on a real loop.
 * Each poll takes up to NETDEV_POLL_BUDGET frames, counted per device
 * (rx_batches, rx_batch_frames, rx_budget_spent); a device that spent its
 * budget gets one more budget per loop iteration, not two (its queued
 * poll and its readiness), so two flooded devices advance alike and the
 * loop's timers run between budgets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/host.h"
#include "dev/backends.h"
#include "dev/wire.h"
#include "mm/mm.h"
#include "net/net.h"

#define FRAMES 150
#define NDEV 2

struct world {
	struct loop loop;
	struct host *host;
	struct mm *mm;
	struct net *net;
	struct net_device *dev[NDEV];
	int peer[NDEV]; /* our end of each pair: we write frames into it */
	struct timer tick;
	unsigned ticks;
};

static void tick_fn(struct timer *t)
{
	container_of(t, struct world, tick)->ticks++;
}

static struct world *world_new(void)
{
	struct host_config hc = { .seed = 1, .log_level = LOG_ERR };
	struct mm_config mc = { .nr_pages = 2048,
				.policy = MM_POLICY_ACCOUNTED };
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_int_equal(loop_init(&w->loop, LOOP_REAL), 0);
	w->host = host_create(&w->loop, &hc);
	assert_non_null(w->host);
	w->mm = mm_create(w->host, &mc);
	assert_non_null(w->mm);
	w->net = net_create(w->host, NULL);
	assert_non_null(w->net);
	for (int i = 0; i < NDEV; i++) {
		int fds[2];
		char spec[32];

		assert_int_equal(dev_pair_create(fds), 0);
		snprintf(spec, sizeof(spec), "pair:%d", fds[0]);
		assert_int_equal(wire_open(w->net, spec, &w->dev[i]), 0);
		w->peer[i] = fds[1];
	}
	timer_init(&w->tick, tick_fn);
	return w;
}

static void world_free(struct world *w)
{
	timer_cancel(&w->loop, &w->tick);
	net_destroy(w->net);
	for (int i = 0; i < NDEV; i++)
		close(w->peer[i]);
	mm_destroy(w->mm);
	host_destroy(w->host);
	loop_destroy(&w->loop);
	free(w);
}

/* @n broadcast frames of an ethertype nobody handles into wire @i. */
static void flood(struct world *w, int i, unsigned n)
{
	uint8_t f[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
			  0,	0,    0,    0,	  0x99, 0x88, 0xb5 };
	int big = 4 << 20;

	setsockopt(w->peer[i], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	for (unsigned k = 0; k < n; k++) {
		f[14] = (uint8_t)k;
		assert_int_equal(send(w->peer[i], f, sizeof(f), MSG_DONTWAIT),
				 sizeof(f));
	}
}

static void test_budget_per_iteration(void **state)
{
	struct world *w = world_new();

	(void)state;
	for (int i = 0; i < NDEV; i++)
		flood(w, i, FRAMES);

	/* 1st iteration: readiness, one budget each */
	timer_arm_in(&w->loop, &w->tick, 0);
	loop_run_once(&w->loop, 0);
	for (int i = 0; i < NDEV; i++) {
		struct net_device *d = w->dev[i];

		assert_int_equal(d->st.rx_frames.v, NETDEV_POLL_BUDGET);
		assert_int_equal(d->st.rx_batches.v, 1);
		assert_int_equal(d->st.rx_batch_frames.v, NETDEV_POLL_BUDGET);
		assert_int_equal(d->st.rx_budget_spent.v, 1);
		assert_true(d->poll_task.queued);
	}
	assert_int_equal(w->ticks, 1);

	/*
	 * 2nd: the queued polls take one more budget each; the descriptors
	 * are still readable, but that must not give a second budget.
	 * A timer due meanwhile fires with frames still pending.
	 */
	timer_arm_in(&w->loop, &w->tick, 0);
	loop_run_once(&w->loop, 0);
	for (int i = 0; i < NDEV; i++) {
		struct net_device *d = w->dev[i];

		assert_int_equal(d->st.rx_frames.v, 2 * NETDEV_POLL_BUDGET);
		assert_int_equal(d->st.rx_batches.v, 2);
		assert_int_equal(d->st.rx_budget_spent.v, 2);
	}
	assert_int_equal(w->ticks, 2);

	/* the rest: a short batch each, the budget not spent */
	for (int k = 0; k < 4; k++)
		loop_run_once(&w->loop, 0);
	for (int i = 0; i < NDEV; i++) {
		struct net_device *d = w->dev[i];

		assert_int_equal(d->st.rx_frames.v, FRAMES);
		assert_int_equal(d->st.rx_batch_frames.v, FRAMES);
		assert_int_equal(d->st.rx_batches.v, 3);
		assert_int_equal(d->st.rx_budget_spent.v, 2);
		assert_false(d->poll_task.queued);
	}
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget_per_iteration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
