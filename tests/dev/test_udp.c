// SPDX-License-Identifier: MIT
/*
 * udp wire: two devices on 127.0.0.1 exchange frames, strangers are
 * dropped and counted, oversize frames consumed, bad specs refused with
 * no descriptor left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
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
#include "../lb_skip.h"

#include "dev/backends.h"

#define BUF 16384

struct fx {
	struct net_device a, b;
	uint16_t pa, pb;
	uint8_t tx[BUF], rx[BUF];
};

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static void dev_close(struct net_device *d)
{
	if (d->ops)
		d->ops->close(d);
	memset(d, 0, sizeof(*d));
}

/*
 * Open a and b wired to each other on @host; ports from a pid-derived
 * range, moving on when one is taken.  0, or the last error.
 */
static int open_pair(struct fx *f, const char *host)
{
	unsigned base = 20000 + (unsigned)(getpid() % 2000) * 16, i;
	int err = -EADDRINUSE;

	for (i = 0; i < 200 && err == -EADDRINUSE; i++) {
		char sa[128], sb[128];
		int fa, fb;

		f->pa = (uint16_t)(base + 2 * i);
		f->pb = (uint16_t)(f->pa + 1);
		snprintf(sa, sizeof(sa), "%u@%s:%u", f->pa, host, f->pb);
		snprintf(sb, sizeof(sb), "%u@%s:%u", f->pb, host, f->pa);
		fa = dev_udp_init(&f->a, sa);
		if (fa < 0) {
			err = fa;
			continue;
		}
		fb = dev_udp_init(&f->b, sb);
		if (fb < 0) {
			dev_close(&f->a);
			err = fb;
			continue;
		}
		return 0;
	}
	return err;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(open_pair(f, "127.0.0.1"), 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	dev_close(&f->a);
	dev_close(&f->b);
	free(f);
	return 0;
}

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Send what the wire queued (the core does this once per loop iteration). */
static void flush(struct net_device *d)
{
	assert_int_equal(d->ops->flush(d), 0);
}

static void exchange(struct fx *f)
{
	static const size_t lens[] = { 14, 60, 1514, 9014 };
	struct rx_meta meta;
	unsigned i, dir;

	for (dir = 0; dir < 2; dir++) {
		struct net_device *from = dir ? &f->b : &f->a;
		struct net_device *to = dir ? &f->a : &f->b;

		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			fill(f->tx, lens[i], i + 10 * dir);
			assert_int_equal(from->ops->xmit(from, f->tx, lens[i]),
					 0);
		}
		flush(from);
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			fill(f->tx, lens[i], i + 10 * dir);
			memset(f->rx, 0, sizeof(f->rx));
			assert_int_equal(to->ops->recv(to, f->rx, BUF, &meta),
					 lens[i]);
			assert_int_equal(meta.wire_len, lens[i]);
			assert_memory_equal(f->rx, f->tx, lens[i]);
		}
		assert_int_equal(to->ops->recv(to, f->rx, BUF, &meta), 0);
	}
}

static void test_exchange(void **state)
{
	struct fx *f = *state;
	char want[16];

	assert_ptr_equal(f->a.ops, &dev_udp_ops);
	assert_int_equal(f->a.mtu, 1500);
	snprintf(want, sizeof(want), "udp%u", f->pa);
	assert_string_equal(f->a.name, want);
	assert_int_equal(f->a.mac[0] & 3, 2);
	assert_memory_not_equal(f->a.mac, f->b.mac, ETH_ALEN);
	exchange(f);
	assert_int_equal(dev_backend_stats(&f->a)->rx_foreign.v, 0);
	assert_int_equal(dev_backend_stats(&f->b)->rx_foreign.v, 0);
}

static void test_oversize_consumed(void **state)
{
	struct fx *f = *state;
	struct rx_meta meta;

	fill(f->tx, 1514, 1);
	assert_int_equal(f->a.ops->xmit(&f->a, f->tx, 1514), 0);
	assert_int_equal(f->a.ops->xmit(&f->a, f->tx, 60), 0);
	flush(&f->a);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, 100, &meta), 100);
	assert_int_equal(meta.wire_len, 1514);
	assert_memory_equal(f->rx, f->tx, 100);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 60);
	assert_int_equal(meta.wire_len, 60);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 0);
}

/* A datagram from another port (same address) is not from our peer. */
static void test_stranger_dropped(void **state)
{
	struct fx *f = *state;
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(f->pb),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct rx_meta meta;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	fill(f->tx, 60, 2);
	assert_int_equal(sendto(s, f->tx, 60, 0, (struct sockaddr *)&to,
				sizeof(to)),
			 60);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 0);
	assert_int_equal(dev_backend_stats(&f->b)->rx_foreign.v, 1);

	/* a stranger ahead of the peer's frame: the frame still comes out */
	assert_int_equal(sendto(s, f->tx, 60, 0, (struct sockaddr *)&to,
				sizeof(to)),
			 60);
	fill(f->tx, 70, 3);
	assert_int_equal(f->a.ops->xmit(&f->a, f->tx, 70), 0);
	flush(&f->a);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 70);
	assert_memory_equal(f->rx, f->tx, 70);
	assert_int_equal(dev_backend_stats(&f->b)->rx_foreign.v, 2);

	/* empty datagram from the peer's port: not a frame */
	assert_int_equal(f->a.ops->xmit(&f->a, f->tx, 0), 0);
	flush(&f->a);
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 0);
	assert_int_equal(dev_backend_stats(&f->b)->rx_runt.v, 1);
	close(s);
}

/*
 * Several frames per system call both ways: a queue of 40 frames goes out
 * as a full batch when the queue fills and the rest at the flush, and
 * comes in through a few recvmmsg calls, every frame whole and in order.
 * Nothing is sent before the queue fills or is flushed.
 */
static void test_batched(void **state)
{
	struct fx *f = *state;
	struct dev_backend_stats *sa = dev_backend_stats(&f->a);
	struct dev_backend_stats *sb = dev_backend_stats(&f->b);
	struct rx_meta meta;
	unsigned i;

	for (i = 0; i < 40; i++) {
		fill(f->tx, 60 + i, i);
		assert_int_equal(f->a.ops->xmit(&f->a, f->tx, 60 + i), 0);
		if (i == 0) {
			/* queued, not sent */
			assert_int_equal(sa->tx_calls.v, 0);
			assert_int_equal(
				f->b.ops->recv(&f->b, f->rx, BUF, &meta), 0);
		}
	}
	/* the queue filled once: one call sent its 32 frames */
	assert_int_equal(sa->tx_calls.v, 1);
	flush(&f->a);
	assert_int_equal(sa->tx_calls.v, 2);
	for (i = 0; i < 40; i++) {
		fill(f->tx, 60 + i, i);
		memset(f->rx, 0, 200);
		assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta),
				 60 + i);
		assert_int_equal(meta.wire_len, 60 + i);
		assert_memory_equal(f->rx, f->tx, 60 + i);
	}
	assert_int_equal(f->b.ops->recv(&f->b, f->rx, BUF, &meta), 0);
	/* 16 + 16 + 8 (and the empty call that ended it), not 40 + 1 */
	assert_true(sb->rx_calls.v <= 5);
	/* a flush with nothing queued sends nothing */
	flush(&f->a);
	assert_int_equal(sa->tx_calls.v, 2);
}

static void test_port_in_use(void **state)
{
	struct fx *f = *state;
	struct net_device d;
	char spec[64];
	unsigned before = count_fds();

	memset(&d, 0, sizeof(d));
	snprintf(spec, sizeof(spec), "%u@127.0.0.1:9", f->pa);
	assert_int_equal(dev_udp_init(&d, spec), -EADDRINUSE);
	assert_null(d.ops);
	assert_int_equal(count_fds(), before);
}

static void test_ipv6(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int err, s = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	assert_non_null(f);
	/* some containers have no ::1 */
	if (s < 0 || bind(s, (struct sockaddr *)&lo, sizeof(lo)) < 0) {
		if (s >= 0)
			close(s);
		free(f);
		lb_skip("no IPv6 loopback here");
	}
	close(s);
	err = open_pair(f, "[::1]");
	assert_int_equal(err, 0);
	exchange(f);
	dev_close(&f->a);
	dev_close(&f->b);
	free(f);
}

static void test_bad_specs(void **state)
{
	static const char *const bad[] = {
		"",
		"5000",
		"5000@",
		"@127.0.0.1:5001",
		"x@127.0.0.1:5001",
		"0@127.0.0.1:5001",
		"70000@127.0.0.1:5001",
		"+5000@127.0.0.1:5001",
		" 5000@127.0.0.1:5001",
		"5000@127.0.0.1",
		"5000@127.0.0.1:",
		"5000@127.0.0.1:0",
		"5000@127.0.0.1:65536",
		"5000@127.0.0.1:50x",
		"5000@:5001",
		"5000@[::1",
		"5000@[::1]5001",
		"5000@[]:5001",
		"5000@host.invalid:5001",
		"5000@300.1.1.1.1:5001",
	};
	struct net_device d;
	unsigned i, before = count_fds();

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&d, 0, sizeof(d));
		if (dev_udp_init(&d, bad[i]) != -EINVAL)
			fail_msg("spec '%s' not refused with -EINVAL", bad[i]);
		assert_null(d.ops);
		assert_null(d.priv);
	}
	memset(&d, 0, sizeof(d));
	assert_int_equal(dev_udp_init(&d, NULL), -EINVAL);
	assert_int_equal(count_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exchange, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_oversize_consumed,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stranger_dropped, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_batched, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_port_in_use, fx_setup,
						fx_teardown),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_bad_specs),
	};

	return lb_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
