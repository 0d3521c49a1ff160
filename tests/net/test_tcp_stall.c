// SPDX-License-Identifier: MIT
/*
 * A receive side that makes no progress while the peer keeps sending is
 * noticed and reported (tcp.rx_stalls, tcp_rx_stalled()), once, and
 * forgotten when data lands again; a reader that stops reading (a closed
 * window) and ordinary traffic are not stalls.  Segment by segment, with
 * the harness' hand-built peer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "net/tcp_impl.h"
#include "tcp_harness.h"

#define PAGES 2048
#define LPORT 80
#define PPORT 40000

struct fx {
	struct th *th;
	struct tcp_sock *l;
	struct th_peer p;
	struct tcp_sock *tp;
};

static void fx_up(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->th = th_new(PAGES, MM_POLICY_ACCOUNTED);
	f->l = th_listen(f->th, LPORT, 8);
	assert_non_null(f->l);
	th_peer_init(&f->p, PPORT, LPORT, TH_OFFER_ALL);
	f->tp = th_accept(f->th, &f->p, f->l, NULL);
	assert_non_null(f->tp);
	assert_int_equal(f->tp->state, TCP_ESTABLISHED);
	th_clear(f->th);
}

static void fx_down(struct fx *f)
{
	tcp_abort(f->tp);
	tcp_close(f->l);
	assert_true(th_mm_ok(f->th));
	assert_true(th_free(f->th));
}

/* @len bytes of the peer's stream at offset @off (seq iss+1+off). */
static void peer_data_at(struct fx *f, uint32_t off, uint32_t len, bool reserve)
{
	static uint8_t buf[TH_MSS];
	struct th_pkt k;

	for (uint32_t i = 0; i < len; i++)
		buf[i] = th_pattern(off + i);
	k = th_peer_pkt(&f->p, TCP_ACK | TCP_PSH, buf, len);
	k.seq = f->p.iss + 1 + off;
	k.mark_reserve = reserve;
	assert_true(th_inject(f->th, &k));
}

static int64_t stalls(struct fx *f)
{
	return th_stat(f->th, "tcp.rx_stalls");
}

/*
 * Our ACKs never reach the peer: it retransmits what we hold, backing
 * off.  Reported once, with that reason; new data ends it.
 */
static void test_peer_repeating_what_we_hold(void **state)
{
	char why[200];
	uint64_t gap = 200 * NSEC_PER_MSEC;
	int64_t before;

	struct fx f;

	fx_up(&f);
	before = stalls(&f);
	peer_data_at(&f, 0, 1000, false);
	for (int i = 0; i < 6; i++) {
		th_run(f.th, gap);
		gap *= 2;
		peer_data_at(&f, 0, 1000, false);
	}
	assert_int_equal(stalls(&f), before + 1);
	assert_true(tcp_rx_stalled(f.tp, why, sizeof(why)));
	print_message("%s\n", why);
	assert_non_null(strstr(why, "our ACKs do not reach it"));
	/* more of the same is the same stall, not another */
	th_run(f.th, NSEC_PER_SEC);
	peer_data_at(&f, 0, 1000, false);
	assert_int_equal(stalls(&f), before + 1);
	/* new data lands: over */
	peer_data_at(&f, 1000, 500, false);
	peer_data_at(&f, 1500, 500, false);
	assert_false(tcp_rx_stalled(f.tp, NULL, 0));
	fx_down(&f);
}

/*
 * Every copy of the next segment is dropped on arrival (received into the
 * reserve for a socket that may not use it): reported with that reason.
 */
static void test_segment_dropped_every_time(void **state)
{
	char why[200];
	struct fx f;

	fx_up(&f);
	for (int i = 0; i < 8; i++) {
		peer_data_at(&f, 0, 1000, true);
		th_run(f.th, 500 * NSEC_PER_MSEC);
	}
	assert_int_equal(f.tp->rcv_nxt, f.p.iss + 1);
	assert_int_equal(stalls(&f), 1);
	assert_true(tcp_rx_stalled(f.tp, why, sizeof(why)));
	print_message("%s\n", why);
	assert_non_null(strstr(why, "dropped on arrival"));
	fx_down(&f);
}

/* Fewer segments than TCP_STALL_SEGS, or less time, is not a stall. */
static void test_short_gaps_are_not_stalls(void **state)
{
	struct fx f;

	/* many segments, little time: an ordinary hole being repaired */
	fx_up(&f);
	for (int i = 0; i < 20; i++) {
		peer_data_at(&f, 0, 1000, true);
		th_run(f.th, 100 * NSEC_PER_MSEC);
	}
	assert_int_equal(stalls(&f), 0);
	assert_false(tcp_rx_stalled(f.tp, NULL, 0));
	fx_down(&f);
	/* a long time, few segments */
	fx_up(&f);
	for (int i = 0; i < TCP_STALL_SEGS; i++) {
		peer_data_at(&f, 0, 1000, true);
		th_run(f.th, 5 * NSEC_PER_SEC);
	}
	assert_int_equal(stalls(&f), 0);
	assert_false(tcp_rx_stalled(f.tp, NULL, 0));
	fx_down(&f);
}

/* A reader that stops reading closes the window: the peer probes, no stall. */
static void test_closed_window_is_not_a_stall(void **state)
{
	uint32_t off = 0;
	struct fx f;

	fx_up(&f);
	/* fill the buffer nobody reads */
	while (tcp_rcv_window(f.tp) > 0) {
		uint32_t n = lb_min(tcp_rcv_window(f.tp), 1000u);

		peer_data_at(&f, off, n, false);
		off += n;
	}
	/* the peer's zero-window probes, for a long time */
	for (int i = 0; i < 10; i++) {
		th_run(f.th, NSEC_PER_SEC);
		peer_data_at(&f, off, 1, false);
	}
	assert_int_equal(stalls(&f), 0);
	assert_false(tcp_rx_stalled(f.tp, NULL, 0));
	fx_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_repeating_what_we_hold),
		cmocka_unit_test(test_segment_dropped_every_time),
		cmocka_unit_test(test_short_gaps_are_not_stalls),
		cmocka_unit_test(test_closed_window_is_not_a_stall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
