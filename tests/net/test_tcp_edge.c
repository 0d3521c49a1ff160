// SPDX-License-Identifier: MIT
/*
 * TCP edge cases at the level of segments (issue 15): a FIN behind
 * retransmitted data, repeated FINs, PAWS, Last.ACK.sent, the challenge-ACK
 * limit and SYN cookies.  Same harness and style as test_tcp_segments.c:
 * a hand-built peer sends a segment, the test checks what comes out, and
 * every test ends with the memory checks of th_free.
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

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->th = th_new(PAGES, MM_POLICY_ACCOUNTED);
	f->l = th_listen(f->th, LPORT, 8);
	assert_non_null(f->l);
}

/* An accepted connection with a peer offering @offer. */
static void fx_passive(struct fx *f, unsigned offer)
{
	fx_init(f);
	th_peer_init(&f->p, PPORT, LPORT, offer);
	f->tp = th_accept(f->th, &f->p, f->l, NULL);
	assert_non_null(f->tp);
	assert_int_equal(f->tp->state, TCP_ESTABLISHED);
	th_clear(f->th);
}

static void fx_done(struct fx *f)
{
	if (f->tp) {
		if (f->tp->state == TCP_CLOSED)
			tcp_close(f->tp);
		else
			tcp_abort(f->tp);
	}
	if (f->l)
		tcp_close(f->l);
	assert_true(th_mm_ok(f->th));
	assert_int_equal(f->th->overflow, 0);
	assert_true(th_free(f->th));
}

static void expect_one(struct fx *f, struct th_seg *s)
{
	assert_int_equal(th_pending(f->th), 1);
	assert_true(th_pop(f->th, s));
	assert_false(s->csum_bad);
	assert_false(s->opts_bad);
}

static void expect_none(struct fx *f)
{
	assert_int_equal(th_pending(f->th), 0);
}

static uint32_t peer_off(const struct fx *f, uint32_t seq)
{
	return seq - (f->p.iss + 1);
}

/* Peer data at stream offset @off, @len bytes, without moving the peer. */
static bool peer_data_at(struct fx *f, uint32_t off, uint32_t len,
			 uint8_t flags)
{
	static uint8_t buf[TH_MTU];
	struct th_pkt k;

	assert_true(len <= sizeof(buf));
	for (uint32_t i = 0; i < len; i++)
		buf[i] = th_pattern(off + i);
	k = th_peer_pkt(&f->p, flags, buf, len);
	k.seq = f->p.iss + 1 + off;
	return th_inject(f->th, &k);
}

static void peer_data(struct fx *f, uint32_t len)
{
	assert_true(
		peer_data_at(f, peer_off(f, f->p.seq), len, TCP_ACK | TCP_PSH));
	f->p.seq += len;
}

static void peer_ack(struct fx *f, uint32_t ack)
{
	f->p.ack = ack;
	assert_true(th_peer_send(f->th, &f->p, TCP_ACK, NULL, 0));
}

static size_t read_check(struct fx *f, uint32_t off)
{
	static uint8_t buf[1 << 18];
	ssize_t n = tcp_recv(f->tp, buf, sizeof(buf));

	if (n < 0)
		return 0;
	for (ssize_t i = 0; i < n; i++)
		assert_int_equal(buf[i], th_pattern(off + (uint64_t)i));
	return (size_t)n;
}

/* ---- FIN ----------------------------------------------------------------- */

/*
 * A retransmission that overlaps data we hold and carries the FIN: the
 * new bytes and the FIN are taken at once (not after an RTO).
 */
static void test_fin_after_overlap_taken(void **state)
{
	struct fx f;
	struct th_seg s;
	uint8_t b[8];

	fx_passive(&f, TH_OFFER_ALL);
	peer_data(&f, 1000);
	th_run(f.th, TCP_DELACK_NS);
	th_drain(f.th);
	/* bytes 500..999 again, then 1000..1799 new, then the FIN */
	assert_true(peer_data_at(&f, 500, 1300, TCP_ACK | TCP_FIN));
	f.p.seq += 800 + 1;
	th_run(f.th, TCP_DELACK_NS);
	assert_true(th_pending(f.th) >= 1);
	while (th_pop(f.th, &s))
		;
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, f.p.seq); /* the FIN counted */
	assert_int_equal(f.tp->state, TCP_CLOSE_WAIT);
	assert_int_equal(read_check(&f, 0), 1800);
	assert_int_equal(tcp_recv(f.tp, b, sizeof(b)), 0);
	fx_done(&f);
}

/* A FIN repeated in CLOSE-WAIT (our ACK was lost) is acknowledged again. */
static void test_repeated_fin_in_close_wait_acked(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t fin;

	fx_passive(&f, TH_OFFER_ALL);
	fin = f.p.seq;
	assert_true(th_peer_send(f.th, &f.p, TCP_FIN | TCP_ACK, NULL, 0));
	expect_one(&f, &s);
	assert_int_equal(s.ack, fin + 1);
	assert_int_equal(f.tp->state, TCP_CLOSE_WAIT);
	for (int i = 0; i < 3; i++) {
		f.p.seq = fin;
		assert_true(
			th_peer_send(f.th, &f.p, TCP_FIN | TCP_ACK, NULL, 0));
		expect_one(&f, &s);
		assert_int_equal(s.flags, TCP_ACK);
		assert_int_equal(s.ack, fin + 1);
		assert_int_equal(s.seq, f.p.ack);
	}
	assert_int_equal(f.tp->state, TCP_CLOSE_WAIT);
	assert_int_equal(th_stat(f.th, "tcp.rx_dup_fin"), 3);
	fx_done(&f);
}

/* ... and in LAST-ACK, where it also does not end the connection early. */
static void test_repeated_fin_in_last_ack_acked(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t fin, our_fin;

	fx_passive(&f, TH_OFFER_ALL);
	fin = f.p.seq;
	assert_true(th_peer_send(f.th, &f.p, TCP_FIN | TCP_ACK, NULL, 0));
	th_drain(f.th);
	assert_int_equal(tcp_shutdown(f.tp), 0);
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_FIN | TCP_ACK);
	our_fin = s.seq;
	assert_int_equal(f.tp->state, TCP_LAST_ACK);
	/* the peer never got our ACK of its FIN, nor our FIN yet */
	f.p.seq = fin;
	assert_true(th_peer_send(f.th, &f.p, TCP_FIN | TCP_ACK, NULL, 0));
	expect_one(&f, &s);
	assert_int_equal(s.flags & TCP_ACK, TCP_ACK);
	assert_int_equal(s.ack, fin + 1);
	assert_int_equal(f.tp->state, TCP_LAST_ACK);
	peer_ack(&f, our_fin + 1);
	expect_none(&f);
	assert_int_equal(f.tp->state, TCP_CLOSED);
	fx_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fin_after_overlap_taken),
		cmocka_unit_test(test_repeated_fin_in_close_wait_acked),
		cmocka_unit_test(test_repeated_fin_in_last_ack_acked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
