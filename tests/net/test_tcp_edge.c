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

/*
 * Out-of-order data beyond a FIN can never be delivered: it is let go when
 * the FIN is taken (and the queue invariants of tcp_check hold after).
 */
static void test_data_beyond_fin_released(void **state)
{
	struct fx f;
	struct th_seg s;
	uint8_t b[8];

	fx_passive(&f, TH_OFFER_ALL);
	assert_true(peer_data_at(&f, 1, 100, TCP_ACK));
	expect_one(&f, &s);
	assert_int_equal(f.tp->nr_ofo, 1);
	assert_true(th_peer_send(f.th, &f.p, TCP_FIN | TCP_ACK, NULL, 0));
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(f.tp->state, TCP_CLOSE_WAIT);
	assert_int_equal(f.tp->nr_ofo, 0);
	assert_int_equal(f.tp->ofo_bytes, 0);
	assert_int_equal(tcp_recv(f.tp, b, sizeof(b)), 0);
	fx_done(&f);
}

/* ---- PAWS (RFC 7323 §5) -------------------------------------------------- */

/*
 * After the sequence space wraps, an old duplicate can carry a sequence
 * number in the window; its timestamp gives it away: dropped, with an ACK.
 */
static void test_paws_drops_old_duplicate(void **state)
{
	struct fx f;
	struct th_seg s;

	fx_passive(&f, TH_OFFER_ALL);
	f.p.tsval = 6000;
	peer_data(&f, 100);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s);
	assert_int_equal(s.o.tsecr, 6000);
	/* the next bytes, but stamped before what we already took */
	f.p.tsval = 5999;
	assert_true(peer_data_at(&f, 100, 200, TCP_ACK | TCP_PSH));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, f.p.seq); /* not taken */
	assert_int_equal(s.o.tsecr, 6000);
	assert_int_equal(th_stat(f.th, "tcp.rx_paws_rejected"), 1);
	assert_int_equal(read_check(&f, 0), 100);
	/* the same bytes with a current timestamp are taken */
	f.p.tsval = 6001;
	peer_data(&f, 200);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(s.o.tsecr, 6001);
	assert_int_equal(read_check(&f, 100), 200);
	/* a timestamp far ahead is newer (modulo 2^32), not older */
	f.p.tsval = 6001 + 0x7fffff00u;
	peer_data(&f, 10);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(th_stat(f.th, "tcp.rx_paws_rejected"), 1);
	fx_done(&f);
}

/* An RST is judged by its sequence number, not its timestamp. */
static void test_paws_does_not_block_rst(void **state)
{
	struct fx f;
	struct th_pkt k;

	fx_passive(&f, TH_OFFER_ALL);
	f.p.tsval = 6000;
	peer_data(&f, 100);
	k = th_peer_pkt(&f.p, TCP_RST, NULL, 0);
	k.o.tsval = 1;
	assert_true(th_inject(f.th, &k));
	assert_int_equal(f.tp->state, TCP_CLOSED);
	assert_int_equal(f.th->ev.err, ECONNRESET);
	assert_int_equal(th_stat(f.th, "tcp.rx_paws_rejected"), 0);
	fx_done(&f);
}

/*
 * After 24 days without a segment TS.Recent is stale (RFC 7323 §5.5): the
 * peer's timestamp clock may have wrapped, so an "older" one is accepted
 * and becomes TS.Recent.
 */
static void test_paws_idle_24_days(void **state)
{
	struct fx f;
	struct th_seg s;

	fx_passive(&f, TH_OFFER_ALL);
	f.p.tsval = 0x70000000u;
	peer_data(&f, 100);
	th_run(f.th, TCP_DELACK_NS);
	th_drain(f.th);
	/* within the 24 days: still rejected */
	th_run(f.th, TCP_PAWS_IDLE_NS - NSEC_PER_SEC);
	th_drain(f.th);
	f.p.tsval = 1000;
	assert_true(peer_data_at(&f, 100, 10, TCP_ACK | TCP_PSH));
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(th_stat(f.th, "tcp.rx_paws_rejected"), 1);
	/* the PAWS reply itself does not refresh TS.Recent's age */
	th_run(f.th, 2 * NSEC_PER_SEC);
	th_drain(f.th);
	peer_data(&f, 10);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(s.o.tsecr, 1000);
	assert_int_equal(read_check(&f, 0), 110);
	assert_int_equal(th_stat(f.th, "tcp.rx_paws_rejected"), 1);
	fx_done(&f);
}

/*
 * Last.ACK.sent is RCV.NXT from the handshake on (RFC 7323 §4.3), even when
 * our ACK of the SYN-ACK could not be sent: the peer's first data is then
 * acceptable, and its timestamp is taken.
 */
static void test_last_ack_sent_set_at_handshake(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_pkt k;

	fx_init(&f);
	th_peer_init(&f.p, PPORT, 0, TH_OFFER_ALL);
	/* far from zero in sequence space, where a zero Last.ACK.sent
	 * would lie ahead of everything the peer sends */
	f.p.iss = 0x90000000u;
	f.p.seq = f.p.iss;
	f.tp = tcp_socket(f.th->net, &th_sock_ops, f.th);
	assert_non_null(f.tp);
	assert_int_equal(
		tcp_connect(f.tp, &(struct sock_addr){ f.th->peer_ip, PPORT }),
		0);
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_SYN);
	f.p.lport = s.sport;
	f.p.ack = s.seq + 1;
	f.p.tsecr = s.o.tsval;
	k = th_peer_syn(&f.p);
	k.flags |= TCP_ACK;
	k.ack = f.p.ack;
	k.o.tsecr = f.p.tsecr;
	f.p.seq = f.p.iss + 1;
	/* our ACK of the SYN-ACK cannot be allocated */
	assert_int_equal(mm_failinj_set(f.th->mm, "nth=1,always,site=transmit"),
			 0);
	assert_true(th_inject(f.th, &k));
	assert_int_equal(mm_failinj_set(f.th->mm, "off"), 0);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	expect_none(&f);
	assert_int_equal(f.tp->last_ack_sent, f.tp->rcv_nxt);
	f.p.tsval = 6000;
	peer_data(&f, 100);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(s.o.tsecr, 6000);
	assert_int_equal(read_check(&f, 0), 100);
	fx_done(&f);
}

/*
 * Our timestamp clock is fixed before the SYN: the SYN's TSval and those
 * after it never go backwards, so a peer doing PAWS keeps our segments.
 */
static void test_active_open_timestamps_monotonic(void **state)
{
	struct fx f;
	struct th_seg syn, s;
	uint8_t d[10] = { 0 };

	fx_init(&f);
	th_peer_init(&f.p, PPORT, 0, TH_OFFER_ALL);
	f.tp = th_connect(f.th, &f.p, &syn);
	assert_non_null(f.tp);
	assert_true(syn.o.ts_ok);
	th_clear(f.th); /* our ACK of the SYN-ACK */
	assert_int_equal(tcp_send(f.tp, d, sizeof(d)), (ssize_t)sizeof(d));
	expect_one(&f, &s);
	assert_true(s.o.ts_ok);
	assert_true((int32_t)(s.o.tsval - syn.o.tsval) >= 0);
	assert_true(s.o.tsval - syn.o.tsval < 1000); /* within a second */
	fx_done(&f);
}

/* ---- challenge ACKs (RFC 5961 §7) ---------------------------------------- */

/* @n forged RSTs inside @tp's window, not at RCV.NXT: each a challenge. */
static void forged_rsts(struct fx *f, struct th_peer *p, unsigned n)
{
	struct th_pkt k = th_peer_pkt(p, TCP_RST, NULL, 0);

	for (unsigned i = 0; i < n; i++) {
		k.seq = p->seq + 1 + i % 1000;
		assert_true(th_inject(f->th, &k));
	}
}

/*
 * A flood of forged RSTs gets a bounded number of challenge ACKs per second
 * from the whole host, whichever connections it aims at; the next second
 * has a new budget.
 */
static void test_challenge_acks_limited_per_host(void **state)
{
	struct fx f;
	struct th_peer p2;
	struct tcp_sock *tp2;
	uint64_t tx, sent, limited;

	fx_passive(&f, TH_OFFER_ALL);
	th_peer_init(&p2, PPORT + 1, LPORT, TH_OFFER_ALL);
	tp2 = th_accept(f.th, &p2, f.l, NULL);
	assert_non_null(tp2);
	th_clear(f.th);
	f.th->discard = true; /* count the replies, keep none */
	tx = f.th->tx_frames;
	forged_rsts(&f, &f.p, 2000);
	forged_rsts(&f, &p2, 2000);
	sent = f.th->tx_frames - tx;
	limited = (uint64_t)th_stat(f.th, "tcp.challenge_acks_limited");
	assert_int_equal(sent, th_stat(f.th, "tcp.challenge_acks"));
	assert_int_equal(sent + limited, 4000);
	assert_true(sent >= TCP_CHALLENGE_ACK_LIMIT / 2);
	assert_true(sent < TCP_CHALLENGE_ACK_LIMIT * 3 / 2);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	assert_int_equal(tp2->state, TCP_ESTABLISHED);
	/* a second later: challenges again */
	th_run(f.th, NSEC_PER_SEC);
	tx = f.th->tx_frames;
	forged_rsts(&f, &p2, 10);
	assert_int_equal(f.th->tx_frames - tx, 10);
	f.th->discard = false;
	/* both connections still work */
	peer_data(&f, 10);
	assert_int_equal(read_check(&f, 0), 10);
	tcp_abort(tp2);
	fx_done(&f);
}

/*
 * A flagged connection with memory exhausted: its challenge ACKs may charge
 * its transmit reserve only a few times a second and never take the spare
 * ACK, so forged segments cannot keep the reserve for themselves; the ACKs
 * its real traffic needs still go out.
 */
static void test_challenge_acks_bounded_on_reserve(void **state)
{
	struct fx f;
	struct th_seg s;
	uint64_t tx;

	fx_passive(&f, TH_OFFER_ALL);
	assert_int_equal(tcp_set_memalloc(f.tp), 0);
	assert_non_null(f.tp->spare_ack);
	th_exhaust(f.th, true);
	f.th->discard = true;
	tx = f.th->tx_frames;
	forged_rsts(&f, &f.p, 200);
	assert_true(f.th->last_inject_reserve); /* they came in the reserve */
	assert_int_equal(f.th->tx_frames - tx, TCP_CHALLENGE_RESERVE_PER_SEC);
	assert_int_equal(th_stat(f.th, "tcp.challenge_acks_reserve"),
			 TCP_CHALLENGE_RESERVE_PER_SEC);
	assert_int_equal(th_stat(f.th, "tcp.tx_spare_ack_used"), 0);
	assert_non_null(f.tp->spare_ack);
	assert_int_equal(f.tp->sk.tx_rsv.used.v, 0); /* nothing held */
	f.th->discard = false;
	/* real data still gets its ACK, from the reserve */
	peer_data(&f, 100);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	th_release(f.th);
	assert_int_equal(read_check(&f, 0), 100);
	fx_done(&f);
}

/* ACKs of data never sent are answered within the same budget. */
static void test_ack_of_unsent_data_limited(void **state)
{
	struct fx f;
	struct th_pkt k;
	uint64_t tx;

	fx_passive(&f, TH_OFFER_ALL);
	f.th->discard = true;
	tx = f.th->tx_frames;
	k = th_peer_pkt(&f.p, TCP_ACK, NULL, 0);
	for (unsigned i = 0; i < 3000; i++) {
		k.ack = f.p.ack + 1000 + i;
		assert_true(th_inject(f.th, &k));
	}
	assert_true(f.th->tx_frames - tx < TCP_CHALLENGE_ACK_LIMIT * 3 / 2);
	assert_true(th_stat(f.th, "tcp.challenge_acks_limited") > 1000);
	assert_int_equal(f.tp->snd_una, f.p.ack);
	f.th->discard = false;
	fx_done(&f);
}

/* ---- SYN cookies (RFC 4987) ---------------------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A SYN with an MSS option from @saddr:@sport (host order), spoofed. */
static void spoofed_syn(struct fx *f, uint32_t saddr, uint16_t sport,
			uint32_t isn)
{
	uint8_t pkt[44] = { 0 }, *tcp = pkt + 20;
	uint32_t daddr = TH_HOST_IP, sum;

	pkt[0] = 0x45;
	put16(pkt + 2, sizeof(pkt));
	pkt[8] = 64;
	pkt[9] = IPPROTO_TCP;
	put32(pkt + 12, saddr);
	put32(pkt + 16, daddr);
	put16(pkt + 10, fold(sum16(pkt, 20, 0)));
	put16(tcp, sport);
	put16(tcp + 2, LPORT);
	put32(tcp + 4, isn);
	tcp[12] = 6 << 4;
	tcp[13] = TCP_SYN;
	put16(tcp + 14, 65535);
	tcp[20] = 2;
	tcp[21] = 4;
	put16(tcp + 22, 1460);
	sum = (saddr >> 16) + (saddr & 0xffff) + (daddr >> 16) +
	      (daddr & 0xffff) + IPPROTO_TCP + 24;
	put16(tcp + 16, fold(sum16(tcp, 24, sum)));
	assert_true(th_inject_ip(f->th, pkt, sizeof(pkt), false));
}

/* @n SYNs from spoofed addresses, on the subnet and beyond it. */
static void syn_flood(struct fx *f, unsigned n, unsigned *k)
{
	bool discard = f->th->discard;

	f->th->discard = true; /* SYN-ACKs and ARP requests: counted only */
	for (unsigned i = 0; i < n; i++, (*k)++) {
		uint32_t saddr = *k & 1 ? 0xc6336400u + (*k % 250 + 2) :
					  0xc0000200u + (*k % 240 + 10);

		spoofed_syn(f, saddr, (uint16_t)(1024 + *k % 60000),
			    *k * 2654435761u);
	}
	f->th->discard = discard;
}

/*
 * A flood of spoofed SYNs fills the SYN queue; a real client connects in
 * the middle of it, on a cookie, and data flows both ways while the flood
 * goes on.  Its options come back from the cookie and its timestamps.
 */
static void test_syn_flood_real_client_connects(void **state)
{
	struct fx f;
	struct th_seg s;
	unsigned k = 0;
	uint32_t sent = 0;
	uint8_t buf[1000];

	fx_init(&f);
	syn_flood(&f, 5000, &k);
	assert_int_equal(f.l->nr_syn, 8);
	assert_true(th_stat(f.th, "tcp.syn_queue_full") >= 4990);
	assert_true(th_stat(f.th, "tcp.syncookies_sent") >= 4990);
	th_clear(f.th);
	th_peer_init(&f.p, PPORT, LPORT, TH_OFFER_ALL);
	f.p.wscale = 7;
	f.tp = th_accept(f.th, &f.p, f.l, &s);
	assert_non_null(f.tp);
	assert_int_equal(th_stat(f.th, "tcp.syncookies_validated"), 1);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	/* what the SYN offered, rebuilt from the cookie */
	assert_true(s.o.ts_ok && s.o.ws_ok && s.o.sack_ok && s.o.mss_ok);
	assert_int_equal(s.o.mss, TH_MSS);
	assert_true(f.tp->ts_ok && f.tp->ws_ok && f.tp->sack_ok);
	assert_int_equal(f.tp->snd_wscale, 7);
	assert_int_equal(f.tp->rcv_wscale, s.o.ws);
	assert_int_equal(f.tp->mss, 1460 - 12);
	assert_int_equal(f.l->nr_syn, 8); /* it never took a slot */
	th_clear(f.th);
	/* data both ways while the flood goes on */
	for (unsigned i = 0; i < 20; i++) {
		syn_flood(&f, 250, &k);
		f.p.tsval += 10;
		peer_data(&f, 1000);
		assert_int_equal(read_check(&f, i * 1000), 1000);
		memset(buf, (int)i, sizeof(buf));
		assert_int_equal(tcp_send(f.tp, buf, sizeof(buf)), 1000);
		th_run(f.th, TCP_DELACK_NS);
		while (th_pop(f.th, &s)) {
			assert_false(s.csum_bad);
			if (s.len) {
				assert_int_equal(s.seq, f.p.ack);
				assert_int_equal(s.data[0], (uint8_t)i);
				sent += s.len;
				f.p.ack += s.len;
				f.p.tsecr = s.o.tsval;
			}
		}
		th_clear(f.th);
		peer_ack(&f, f.p.ack);
	}
	assert_int_equal(sent, 20000);
	assert_int_equal(f.tp->snd_una, f.p.ack);
	assert_int_equal(f.tp->rcv_nxt, f.p.seq);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	assert_true(th_stat(f.th, "tcp.syncookies_sent") >= 9990);
	assert_int_equal(th_stat(f.th, "tcp.syncookies_failed"), 0);
	/* the flood's half-open connections time out; cookies left nothing */
	f.th->discard = true;
	th_run(f.th, 200 * NSEC_PER_SEC);
	assert_int_equal(f.l->nr_syn, 0);
	fx_done(&f);
}

/*
 * The SYN-ACKs a cookie answers a flood with are stateless: when their
 * spoofed on-link destination is not resolved they are dropped (and ARP
 * asked), not queued, so the flood never holds ARP's pending slots, which
 * real traffic to a neighbour being resolved needs.
 */
static void test_syn_flood_leaves_arp_pending_free(void **state)
{
	struct fx f;
	unsigned k = 0;

	fx_init(&f);
	syn_flood(&f, 2000, &k);
	print_message("after the flood: %u frames pending ARP, %lld dropped "
		      "pending full, %lld stateless\n",
		      f.th->net->arp_pending_total,
		      (long long)th_stat(f.th, "net.arp_drop_pending_full"),
		      (long long)th_stat(f.th, "net.arp_drop_stateless"));
	/* only the SYN queue's own SYN-ACKs (8, half of them on-link) wait */
	assert_true(f.th->net->arp_pending_total <= 8);
	assert_int_equal(th_stat(f.th, "net.arp_drop_pending_full"), 0);
	assert_true(th_stat(f.th, "net.arp_drop_stateless") >= 900);
	f.th->discard = true;
	th_run(f.th, 200 * NSEC_PER_SEC);
	fx_done(&f);
}

/* Without timestamps a cookie has no room for window scale and SACK. */
static void test_syn_cookie_without_timestamps(void **state)
{
	struct fx f;
	struct th_seg s;
	unsigned k = 0;

	fx_init(&f);
	syn_flood(&f, 20, &k);
	th_clear(f.th);
	th_peer_init(&f.p, PPORT, LPORT,
		     TH_OFFER_MSS | TH_OFFER_WS | TH_OFFER_SACK);
	f.p.mss = 1300; /* rounded down to 1200 by the cookie */
	f.tp = th_accept(f.th, &f.p, f.l, &s);
	assert_non_null(f.tp);
	assert_int_equal(th_stat(f.th, "tcp.syncookies_validated"), 1);
	assert_false(s.o.ts_ok || s.o.ws_ok || s.o.sack_ok);
	assert_false(f.tp->ts_ok || f.tp->ws_ok || f.tp->sack_ok);
	assert_int_equal(f.tp->mss, 1200);
	th_clear(f.th);
	peer_data(&f, 500);
	assert_int_equal(read_check(&f, 0), 500);
	fx_done(&f);
}

/* An ACK with a wrong or expired cookie gets an RST and no connection. */
static void test_syn_cookie_forged_or_stale_ack_rejected(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_pkt syn, ack;
	unsigned k = 0;

	fx_init(&f);
	syn_flood(&f, 20, &k);
	th_clear(f.th);
	th_peer_init(&f.p, PPORT, LPORT, TH_OFFER_MSS);
	syn = th_peer_syn(&f.p);
	assert_true(th_inject(f.th, &syn));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
	f.p.seq = f.p.iss + 1;
	/* a guess one off */
	ack = th_peer_pkt(&f.p, TCP_ACK, NULL, 0);
	ack.ack = s.seq + 2;
	assert_true(th_inject(f.th, &ack));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_RST);
	assert_int_equal(th_stat(f.th, "tcp.syncookies_failed"), 1);
	assert_int_equal(f.l->nr_accept, 0);
	/* the right cookie, too late */
	th_run(f.th, 3 * TCP_COOKIE_PERIOD_NS);
	syn_flood(&f, 20, &k); /* cookies are being sent again */
	th_clear(f.th);
	ack.ack -= 1;
	assert_true(th_inject(f.th, &ack));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_RST);
	assert_int_equal(th_stat(f.th, "tcp.syncookies_failed"), 2);
	assert_int_equal(th_stat(f.th, "tcp.syncookies_validated"), 0);
	assert_null(tcp_accept(f.l));
	fx_done(&f);
}

/*
 * The SYN is answered after a retransmission of it could not be allocated
 * (snd_nxt rewound to the ISS): the connection must still send its data.
 */
static void test_synack_after_failed_syn_retransmission(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_pkt k;
	uint8_t d[100] = { 0 };

	fx_init(&f);
	th_peer_init(&f.p, PPORT, 0, TH_OFFER_ALL);
	f.tp = tcp_socket(f.th->net, &th_sock_ops, f.th);
	assert_non_null(f.tp);
	assert_int_equal(
		tcp_connect(f.tp, &(struct sock_addr){ f.th->peer_ip, PPORT }),
		0);
	expect_one(&f, &s);
	f.p.lport = s.sport;
	f.p.ack = s.seq + 1;
	f.p.tsecr = s.o.tsval;
	assert_int_equal(mm_failinj_set(f.th->mm, "nth=1,always,site=transmit"),
			 0);
	th_run(f.th, TCP_RTO_INITIAL_NS);
	assert_int_equal(mm_failinj_set(f.th->mm, "off"), 0);
	expect_none(&f);
	/* the answer to the first SYN */
	k = th_peer_syn(&f.p);
	k.flags |= TCP_ACK;
	k.ack = f.p.ack;
	k.o.tsecr = f.p.tsecr;
	f.p.seq = f.p.iss + 1;
	assert_true(th_inject(f.th, &k));
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	th_clear(f.th);
	assert_int_equal(tcp_send(f.tp, d, sizeof(d)), (ssize_t)sizeof(d));
	expect_one(&f, &s);
	assert_int_equal(s.len, sizeof(d));
	assert_int_equal(s.seq, f.p.ack);
	fx_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fin_after_overlap_taken),
		cmocka_unit_test(test_repeated_fin_in_close_wait_acked),
		cmocka_unit_test(test_repeated_fin_in_last_ack_acked),
		cmocka_unit_test(test_data_beyond_fin_released),
		cmocka_unit_test(test_paws_drops_old_duplicate),
		cmocka_unit_test(test_paws_does_not_block_rst),
		cmocka_unit_test(test_paws_idle_24_days),
		cmocka_unit_test(test_last_ack_sent_set_at_handshake),
		cmocka_unit_test(test_active_open_timestamps_monotonic),
		cmocka_unit_test(test_synack_after_failed_syn_retransmission),
		cmocka_unit_test(test_challenge_acks_limited_per_host),
		cmocka_unit_test(test_challenge_acks_bounded_on_reserve),
		cmocka_unit_test(test_ack_of_unsent_data_limited),
		cmocka_unit_test(test_syn_flood_real_client_connects),
		cmocka_unit_test(test_syn_flood_leaves_arp_pending_free),
		cmocka_unit_test(test_syn_cookie_without_timestamps),
		cmocka_unit_test(test_syn_cookie_forged_or_stale_ack_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
