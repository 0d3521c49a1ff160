// SPDX-License-Identifier: MIT
/*
 * TCP loss recovery at the level of segments: limited transmit (RFC
 * 3042), SACK recovery that repairs several holes at once (RFC 6675 with
 * RACK, RFC 8985), and a tail loss repaired by a probe, not a timeout.
 * The peer is hand-built (tcp_harness.c); time is virtual, so "at once"
 * means before the clock moves.
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
#define NSEGS 10 /* the initial window (RFC 6928) at an MSS of 1460 */

struct fx {
	struct th *th;
	struct tcp_sock *l, *tp;
	struct th_peer p;
	uint32_t seq[16], mss;
	uint32_t hi; /* end of the highest segment drain_count saw */
};

/* An accepted connection; the peer offers @offer (never timestamps). */
static void fx_open(struct fx *f, unsigned offer)
{
	memset(f, 0, sizeof(*f));
	f->th = th_new(PAGES, MM_POLICY_ACCOUNTED);
	f->l = th_listen(f->th, LPORT, 8);
	assert_non_null(f->l);
	th_peer_init(&f->p, PPORT, LPORT, offer);
	f->tp = th_accept(f->th, &f->p, f->l, NULL);
	assert_non_null(f->tp);
	assert_int_equal(f->tp->state, TCP_ESTABLISHED);
	f->mss = f->tp->mss;
	assert_int_equal(f->mss, TH_MSS);
	assert_int_equal(f->tp->cwnd, NSEGS * f->mss);
	th_clear(f->th);
}

static void fx_done(struct fx *f)
{
	tcp_abort(f->tp);
	tcp_close(f->l);
	assert_true(th_mm_ok(f->th));
	assert_int_equal(f->th->overflow, 0);
	assert_true(th_free(f->th));
}

/* Queue @n full segments; the first NSEGS go out at once. */
static void send_segs(struct fx *f, unsigned n)
{
	static uint8_t buf[16 * TH_MSS];
	struct th_seg s;

	assert_true(n <= 16);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(tcp_send(f->tp, buf, (size_t)n * f->mss),
			 (ssize_t)n * f->mss);
	for (unsigned i = 0; i < NSEGS && i < n; i++) {
		assert_true(th_pop(f->th, &s));
		assert_int_equal(s.len, f->mss);
		f->seq[i] = s.seq;
	}
	for (unsigned i = NSEGS; i < n; i++)
		f->seq[i] = f->seq[0] + i * f->mss;
	assert_int_equal(th_pending(f->th), 0);
}

/* An ACK of @ack with SACK blocks [@sacks[2i], @sacks[2i+1]). */
static void ack_sack(struct fx *f, uint32_t ack, unsigned nr,
		     const uint32_t *sacks)
{
	struct th_pkt k;

	f->p.ack = ack;
	k = th_peer_pkt(&f->p, TCP_ACK, NULL, 0);
	k.o.nr_sacks = nr;
	for (unsigned i = 0; i < nr; i++) {
		k.o.sacks[i][0] = sacks[2 * i];
		k.o.sacks[i][1] = sacks[2 * i + 1];
	}
	assert_true(th_inject(f->th, &k));
}

/* The next segment sent: @len bytes at @seq. */
static void expect_seg(struct fx *f, uint32_t seq, uint32_t len)
{
	struct th_seg s;

	assert_true(th_pop(f->th, &s));
	assert_false(s.csum_bad || s.opts_bad);
	assert_int_equal(s.seq, seq);
	assert_int_equal(s.len, len);
}

/* Pop everything sent; how many of those segments started at @seq. */
static unsigned drain_count(struct fx *f, uint32_t seq)
{
	struct th_seg s;
	unsigned n = 0;

	while (th_pop(f->th, &s)) {
		n += s.seq == seq;
		if (seq_gt(s.seq + s.len, f->hi))
			f->hi = s.seq + s.len;
	}
	return n;
}

/*
 * RFC 3042 without SACK: the first and second duplicate ACKs each send
 * one new segment beyond cwnd; the third retransmits.
 */
static void test_limited_transmit_newreno(void **state)
{
	struct fx f;

	fx_open(&f, TH_OFFER_MSS);
	send_segs(&f, NSEGS + 2);
	th_run(f.th, NSEC_PER_MSEC);
	ack_sack(&f, f.seq[0], 0, NULL);
	expect_seg(&f, f.seq[NSEGS], f.mss);
	assert_int_equal(th_pending(f.th), 0);
	ack_sack(&f, f.seq[0], 0, NULL);
	expect_seg(&f, f.seq[NSEGS + 1], f.mss);
	assert_int_equal(th_pending(f.th), 0);
	ack_sack(&f, f.seq[0], 0, NULL);
	expect_seg(&f, f.seq[0], f.mss); /* fast retransmit */
	assert_int_equal(th_pending(f.th), 0);
	assert_int_equal(th_stat(f.th, "tcp.limited_transmits"), 2);
	fx_done(&f);
}

/*
 * With SACK the duplicate ACKs report what left the network (RFC 6675
 * pipe): one new segment each for the first two, then the third finds
 * the first segment lost and it goes again, past cwnd (§5 step 4.3).
 */
static void test_limited_transmit_sack(void **state)
{
	struct fx f;
	uint32_t b[2];

	fx_open(&f, TH_OFFER_MSS | TH_OFFER_SACK);
	send_segs(&f, NSEGS + 2);
	th_run(f.th, NSEC_PER_MSEC); /* one RTT */
	b[0] = f.seq[1];
	for (unsigned i = 0; i < 2; i++) {
		b[1] = f.seq[2 + i];
		ack_sack(&f, f.seq[0], 1, b);
		expect_seg(&f, f.seq[NSEGS + i], f.mss);
		assert_int_equal(th_pending(f.th), 0);
	}
	b[1] = f.seq[4];
	ack_sack(&f, f.seq[0], 1, b);
	expect_seg(&f, f.seq[0], f.mss);
	assert_int_equal(th_pending(f.th), 0);
	assert_true(f.tp->in_recovery);
	assert_int_equal(th_stat(f.th, "tcp.limited_transmits"), 2);
	fx_done(&f);
}

/*
 * Three holes in one window, and most of the ACKs lost on the way back:
 * two duplicate ACKs carry the SACK blocks.  All three holes go at once
 * (IsLost for two, RACK for the one just below the highest SACK), with no
 * timeout, and nothing the receiver holds is sent again.
 */
static void test_sack_recovery_repairs_holes_in_one_rtt(void **state)
{
	struct fx f;
	uint32_t end, b[6];

	fx_open(&f, TH_OFFER_MSS | TH_OFFER_SACK);
	send_segs(&f, NSEGS);
	end = f.seq[NSEGS - 1] + f.mss;
	th_run(f.th, NSEC_PER_MSEC); /* one RTT: S2, S5 and S8 were lost */
	ack_sack(&f, f.seq[2], 0, NULL);
	assert_int_equal(th_pending(f.th), 0);
	b[0] = f.seq[3];
	b[1] = f.seq[5];
	ack_sack(&f, f.seq[2], 1, b);
	assert_int_equal(th_pending(f.th), 0); /* not yet evidence enough */
	b[0] = f.seq[9];
	b[1] = end;
	b[2] = f.seq[6];
	b[3] = f.seq[8];
	b[4] = f.seq[3];
	b[5] = f.seq[5];
	ack_sack(&f, f.seq[2], 3, b);
	expect_seg(&f, f.seq[2], f.mss);
	expect_seg(&f, f.seq[5], f.mss);
	expect_seg(&f, f.seq[8], f.mss);
	assert_int_equal(th_pending(f.th), 0);
	assert_true(f.tp->in_recovery);
	th_run(f.th, NSEC_PER_MSEC);
	ack_sack(&f, end, 0, NULL);
	assert_false(f.tp->in_recovery);
	th_run(f.th, 5 * NSEC_PER_SEC);
	assert_int_equal(th_pending(f.th), 0);
	assert_int_equal(th_stat(f.th, "tcp.rto_expired"), 0);
	assert_int_equal(th_stat(f.th, "tcp.retransmits"), 3);
	assert_int_equal(th_stat(f.th, "tcp.sack_recoveries"), 1);
	fx_done(&f);
}

/*
 * A retransmission lost too: RACK sees that a segment sent after it has
 * been delivered and sends it again, without waiting for the RTO.
 */
static void test_rack_resends_lost_retransmission(void **state)
{
	struct fx f;
	uint32_t b[2], end;

	fx_open(&f, TH_OFFER_MSS | TH_OFFER_SACK);
	send_segs(&f, NSEGS + 6);
	end = f.seq[NSEGS - 1] + f.mss;
	th_run(f.th, NSEC_PER_MSEC);
	ack_sack(&f, f.seq[1], 0, NULL); /* S1 lost */
	b[0] = f.seq[2];
	for (unsigned i = 3; i <= 5; i++) {
		b[1] = f.seq[i];
		ack_sack(&f, f.seq[1], 1, b);
	}
	/* the third SACK: S1 again */
	assert_int_equal(drain_count(&f, f.seq[1]), 1);
	assert_true(f.tp->in_recovery);
	/* that retransmission is lost; the rest arrives, one RTT on, and
	 * makes room for new data */
	th_run(f.th, NSEC_PER_MSEC);
	for (unsigned i = 6; i <= NSEGS; i++) {
		b[1] = f.seq[i - 1] + f.mss;
		ack_sack(&f, f.seq[1], 1, b);
	}
	f.hi = end;
	assert_int_equal(drain_count(&f, f.seq[1]), 0); /* not yet */
	assert_true(seq_gt(f.hi, end));
	/* data sent after the retransmission arrives: S1 was lost again */
	th_run(f.th, NSEC_PER_MSEC);
	b[1] = f.hi;
	ack_sack(&f, f.seq[1], 1, b);
	assert_int_equal(drain_count(&f, f.seq[1]), 1);
	assert_int_equal(th_stat(f.th, "tcp.rto_expired"), 0);
	assert_true(th_stat(f.th, "tcp.rack_marked_lost") >= 1);
	th_run(f.th, NSEC_PER_MSEC);
	ack_sack(&f, f.hi, 0, NULL);
	assert_false(f.tp->in_recovery);
	th_run(f.th, 5 * NSEC_PER_SEC);
	th_drain(f.th);
	assert_int_equal(th_stat(f.th, "tcp.rto_expired"), 0);
	fx_done(&f);
}

/*
 * The last two segments of a burst are lost: no later segment can be
 * SACKed, so no duplicate ACK comes.  A probe (the last segment again)
 * goes after about two RTTs, long before the RTO; its SACK shows the
 * segment before it lost, and that goes at once.
 */
static void test_tail_loss_probe(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t end, b[2];
	uint64_t t0, probe_t;

	fx_open(&f, TH_OFFER_MSS | TH_OFFER_SACK);
	t0 = th_now(f.th);
	send_segs(&f, NSEGS);
	end = f.seq[NSEGS - 1] + f.mss;
	th_run(f.th, NSEC_PER_MSEC);
	ack_sack(&f, f.seq[NSEGS - 2], 0, NULL); /* all but the last two */
	assert_int_equal(th_pending(f.th), 0);
	th_run(f.th, 100 * NSEC_PER_MSEC);
	assert_true(th_pop(f.th, &s));
	assert_int_equal(s.seq, f.seq[NSEGS - 1]);
	assert_int_equal(s.len, f.mss);
	probe_t = s.t;
	assert_true(probe_t - t0 < TCP_RTO_MIN_NS / 4);
	assert_int_equal(th_pending(f.th), 0);
	assert_int_equal(th_stat(f.th, "tcp.tlp_probes"), 1);
	/* the probe arrives and is SACKed, one RTT later */
	th_run(f.th, NSEC_PER_MSEC);
	b[0] = f.seq[NSEGS - 1];
	b[1] = end;
	ack_sack(&f, f.seq[NSEGS - 2], 1, b);
	expect_seg(&f, f.seq[NSEGS - 2], f.mss);
	assert_int_equal(th_pending(f.th), 0);
	th_run(f.th, NSEC_PER_MSEC);
	ack_sack(&f, end, 0, NULL);
	th_run(f.th, 5 * NSEC_PER_SEC);
	assert_int_equal(th_pending(f.th), 0);
	assert_int_equal(th_stat(f.th, "tcp.rto_expired"), 0);
	assert_int_equal(th_stat(f.th, "tcp.retransmits"), 2);
	fx_done(&f);
}

/*
 * A lone segment lost, nothing after it: the probe is that segment
 * again, and the ACK of it ends the episode with cwnd reduced as for a
 * fast recovery (no DSACK says the original had arrived).
 */
static void test_tail_loss_probe_single_segment(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t cwnd;
	uint64_t t0;

	fx_open(&f, TH_OFFER_MSS | TH_OFFER_SACK);
	send_segs(&f, 1);
	th_run(f.th, NSEC_PER_MSEC);
	ack_sack(&f, f.seq[0] + f.mss, 0, NULL);
	cwnd = f.tp->cwnd;
	t0 = th_now(f.th);
	send_segs(&f, 1);
	th_run(f.th, TCP_RTO_MIN_NS + 100 * NSEC_PER_MSEC);
	assert_true(th_pop(f.th, &s));
	assert_int_equal(s.seq, f.seq[0]);
	/* two RTTs and the peer's worst delayed ACK, before the RTO */
	assert_true(s.t - t0 < TCP_RTO_MIN_NS + 10 * NSEC_PER_MSEC);
	assert_int_equal(th_stat(f.th, "tcp.tlp_probes"), 1);
	assert_int_equal(th_stat(f.th, "tcp.rto_expired"), 0);
	ack_sack(&f, f.seq[0] + f.mss, 0, NULL);
	assert_int_equal(th_stat(f.th, "tcp.tlp_repairs"), 1);
	assert_true(f.tp->cwnd < cwnd);
	th_run(f.th, 5 * NSEC_PER_SEC);
	assert_int_equal(th_pending(f.th), 0);
	fx_done(&f);
}

/*
 * A probe that cannot be sent (no memory) leaves the tail to the RTO; it
 * never comes back at the instant the RTO is due, which would spin the
 * loop without letting the clock move (the scenario matrix found this).
 */
static void test_tail_loss_probe_without_memory(void **state)
{
	struct fx f;
	uint64_t end;
	unsigned steps = 0;

	fx_open(&f, TH_OFFER_MSS | TH_OFFER_SACK);
	send_segs(&f, NSEGS);
	th_run(f.th, NSEC_PER_MSEC);
	ack_sack(&f, f.seq[NSEGS - 2], 0, NULL);
	th_exhaust(f.th, true);
	end = th_now(f.th) + NSEC_PER_SEC;
	while (th_now(f.th) < end && steps++ < 100000)
		loop_run_once(&f.th->loop, UINT64_MAX);
	assert_true(th_now(f.th) >= end);
	assert_true(th_stat(f.th, "tcp.rto_expired") >= 1);
	th_release(f.th);
	th_run(f.th, 2 * NSEC_PER_SEC); /* the next RTO resends */
	assert_true(drain_count(&f, f.seq[NSEGS - 2]) >= 1);
	ack_sack(&f, f.seq[NSEGS - 1] + f.mss, 0, NULL);
	assert_int_equal(f.tp->snd_una, f.tp->snd_max);
	fx_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limited_transmit_newreno),
		cmocka_unit_test(test_limited_transmit_sack),
		cmocka_unit_test(test_sack_recovery_repairs_holes_in_one_rtt),
		cmocka_unit_test(test_rack_resends_lost_retransmission),
		cmocka_unit_test(test_tail_loss_probe),
		cmocka_unit_test(test_tail_loss_probe_single_segment),
		cmocka_unit_test(test_tail_loss_probe_without_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
