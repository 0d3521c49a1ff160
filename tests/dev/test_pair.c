// SPDX-License-Identifier: MIT
/*
 * pair wire: frames both ways byte for byte, empty queue, oversize frames
 * consumed, empty messages, full queue, vanished peer, bad descriptors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "dev/backends.h"

#define BUF 16384

struct fx {
	struct net_device a, b;
	int fda; /* a's descriptor, to inject raw messages */
	uint8_t tx[BUF], rx[BUF];
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fds[2];

	assert_non_null(f);
	assert_int_equal(dev_pair_create(fds), 0);
	assert_int_equal(dev_pair_init(&f->a, fds[0]), fds[0]);
	f->fda = fds[0];
	assert_int_equal(dev_pair_init(&f->b, fds[1]), fds[1]);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f->a.ops)
		f->a.ops->close(&f->a);
	if (f->b.ops)
		f->b.ops->close(&f->b);
	free(f);
	return 0;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static void test_init_fields(void **state)
{
	struct fx *f = *state;

	assert_ptr_equal(f->a.ops, &dev_pair_ops);
	assert_non_null(f->a.priv);
	assert_int_equal(f->a.mtu, 1500);
	assert_int_equal(strncmp(f->a.name, "pair", 4), 0);
	/* locally administered unicast, distinct ends */
	assert_int_equal(f->a.mac[0] & 3, 2);
	assert_int_equal(f->b.mac[0] & 3, 2);
	assert_memory_not_equal(f->a.mac, f->b.mac, ETH_ALEN);
	assert_non_null(dev_backend_stats(&f->a));
}

static void test_round_trip(void **state)
{
	static const size_t lens[] = { 14, 60, 61, 1514, 4000, 9014 };
	struct fx *f = *state;
	struct rx_meta meta;
	unsigned i, dir;

	for (dir = 0; dir < 2; dir++) {
		struct net_device *from = dir ? &f->b : &f->a;
		struct net_device *to = dir ? &f->a : &f->b;

		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			fill(f->tx, lens[i], i + dir * 10);
			assert_int_equal(from->ops->xmit(from, f->tx, lens[i]),
					 0);
		}
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			memset(f->rx, 0, sizeof(f->rx));
			fill(f->tx, lens[i], i + dir * 10);
			assert_int_equal(to->ops->recv(to, f->rx, BUF, &meta),
					 lens[i]);
			assert_int_equal(meta.wire_len, lens[i]);
			assert_false(meta.csum_unnecessary);
			assert_memory_equal(f->rx, f->tx, lens[i]);
		}
		assert_int_equal(to->ops->recv(to, f->rx, BUF, &meta), 0);
	}
}

static void test_empty(void **state)
{
	struct fx *f = *state;
	struct rx_meta meta = { .wire_len = 77 };

	assert_int_equal(f->a.ops->recv(&f->a, f->rx, BUF, &meta), 0);
	assert_int_equal(meta.wire_len, 0);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 0);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, 0, &meta), -EINVAL);
}

/* Oversize: cap bytes stored, recv returns cap, true length in wire_len. */
static void test_oversize_consumed(void **state)
{
	struct fx *f = *state;
	struct rx_meta meta;

	fill(f->tx, 1514, 3);
	assert_int_equal(f->a.ops->xmit(&f->a, f->tx, 1514), 0);
	fill(f->tx + 2000, 60, 4);
	assert_int_equal(f->a.ops->xmit(&f->a, f->tx + 2000, 60), 0);

	memset(f->rx, 0xee, 200);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, 100, &meta), 100);
	assert_int_equal(meta.wire_len, 1514);
	assert_memory_equal(f->rx, f->tx, 100);
	assert_int_equal(f->rx[100], 0xee); /* nothing past cap */

	/* the next frame, not the rest of the big one */
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 60);
	assert_int_equal(meta.wire_len, 60);
	assert_memory_equal(f->rx, f->tx + 2000, 60);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 0);
}

/* An empty message is not a frame: counted, skipped, the next returned. */
static void test_empty_message_skipped(void **state)
{
	struct fx *f = *state;
	struct rx_meta meta;

	assert_int_equal(send(f->fda, "", 0, 0), 0);
	assert_int_equal(send(f->fda, "", 0, 0), 0);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 0);
	assert_int_equal(dev_backend_stats(&f->b)->rx_runt.v, 2);

	assert_int_equal(send(f->fda, "", 0, 0), 0);
	fill(f->tx, 42, 5);
	assert_int_equal(f->a.ops->xmit(&f->a, f->tx, 42), 0);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 42);
	assert_memory_equal(f->rx, f->tx, 42);
	assert_int_equal(dev_backend_stats(&f->b)->rx_runt.v, 3);
}

/* A full queue never blocks: -EAGAIN, and everything sent arrives. */
static void test_full_queue(void **state)
{
	struct fx *f = *state;
	struct rx_meta meta;
	unsigned sent = 0, got = 0;
	int err = 0;

	fill(f->tx, 1514, 6);
	while (sent < 100000) {
		err = f->a.ops->xmit(&f->a, f->tx, 1514);
		if (err)
			break;
		sent++;
	}
	assert_int_equal(err, -EAGAIN);
	assert_true(sent > 0);
	while (f->b.ops->recv(&f->b, f->rx, BUF, &meta) == 1514)
		got++;
	assert_int_equal(got, sent);
	assert_int_equal(f->a.ops->xmit(&f->a, f->tx, 1514), 0);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 1514);
}

/* Frames queued before the peer closed still arrive; then -EPIPE. */
static void test_peer_closed(void **state)
{
	struct fx *f = *state;
	struct rx_meta meta;

	fill(f->tx, 100, 7);
	assert_int_equal(f->a.ops->xmit(&f->a, f->tx, 100), 0);
	f->a.ops->close(&f->a);
	assert_null(f->a.priv);
	f->a.ops = NULL;

	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 100);
	assert_memory_equal(f->rx, f->tx, 100);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), -EPIPE);
	assert_int_equal(f->b.ops->xmit(&f->b, f->tx, 100), -EPIPE);
}

static void test_bad_fd(void **state)
{
	struct net_device d;
	int sv[2];

	memset(&d, 0, sizeof(d));
	assert_int_equal(dev_pair_init(&d, -1), -EBADF);
	assert_int_equal(dev_pair_init(&d, 1000000), -EBADF);
	/* a stream would merge frames: refused, and the caller keeps it */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(dev_pair_init(&d, sv[0]), -EINVAL);
	assert_null(d.ops);
	assert_int_equal(close(sv[0]), 0);
	assert_int_equal(close(sv[1]), 0);
}

static void test_name_kept(void **state)
{
	struct net_device d;
	int fds[2];

	memset(&d, 0, sizeof(d));
	strcpy(d.name, "mine");
	assert_int_equal(dev_pair_create(fds), 0);
	assert_int_equal(dev_pair_init(&d, fds[0]), fds[0]);
	assert_string_equal(d.name, "mine");
	d.ops->close(&d);
	assert_int_equal(close(fds[1]), 0);
	/* the device closed its end */
	assert_int_equal(close(fds[0]), -1);
	assert_int_equal(errno, EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_fields, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_empty, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_oversize_consumed,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_empty_message_skipped,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_full_queue, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_peer_closed, fx_setup,
						fx_teardown),
		cmocka_unit_test(test_bad_fd),
		cmocka_unit_test(test_name_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
