// SPDX-License-Identifier: MIT
/*
 * TCP, one rule per test, at the level of segments (smoltcp's style): a
 * hand-built peer sends a segment, the test checks what comes out.  Every
 * test ends with mm_check, every reserve within its size, and every page
 * back once the stack is destroyed (th_free).
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

/* The window scale we use with the default receive buffer. */
static uint8_t default_rcv_wscale(void)
{
	uint8_t ws = 0;

	while ((TCP_RCVBUF_DEFAULT >> ws) > 0xffff)
		ws++;
	return ws;
}

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

/* A connection we opened, to a peer answering with @offer. */
static void fx_active(struct fx *f, unsigned offer)
{
	fx_init(f);
	th_peer_init(&f->p, PPORT, 0, offer);
	f->tp = th_connect(f->th, &f->p, NULL);
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

/* Stream offset of peer sequence number @seq. */
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

/* The next @len bytes of the peer's stream, in order. */
static void peer_data(struct fx *f, uint32_t len)
{
	assert_true(
		peer_data_at(f, peer_off(f, f->p.seq), len, TCP_ACK | TCP_PSH));
	f->p.seq += len;
}

/* A pure ACK from the peer acknowledging @ack. */
static void peer_ack(struct fx *f, uint32_t ack)
{
	f->p.ack = ack;
	assert_true(th_peer_send(f->th, &f->p, TCP_ACK, NULL, 0));
}

/* Read everything queued and check it is the pattern from @off. */
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

static void send_bytes(struct fx *f, size_t len)
{
	static uint8_t buf[1 << 16];

	assert_true(len <= sizeof(buf));
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(tcp_send(f->tp, buf, len), (ssize_t)len);
}

/* ---- passive open -------------------------------------------------------- */

/* SYN-ACK: MSS of the MTU, WS/TS/SACK-permitted as offered, window unscaled. */
static void test_passive_synack_echoes_offer(void **state)
{
	struct fx f;
	struct th_seg sa, s;
	struct th_pkt syn;
	uint8_t ws = default_rcv_wscale();

	fx_init(&f);
	th_peer_init(&f.p, PPORT, LPORT, TH_OFFER_ALL);
	f.p.mss = 1400;
	f.p.wscale = 7;
	syn = th_peer_syn(&f.p);
	assert_true(th_inject(f.th, &syn));
	expect_one(&f, &sa);
	assert_int_equal(sa.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(sa.ack, f.p.iss + 1);
	assert_int_equal(sa.sport, LPORT);
	assert_int_equal(sa.dport, PPORT);
	assert_int_equal(sa.len, 0);
	assert_true(sa.o.mss_ok);
	assert_int_equal(sa.o.mss, TH_MSS);
	assert_true(sa.o.ws_ok);
	assert_int_equal(sa.o.ws, ws);
	assert_true(sa.o.ts_ok);
	assert_int_equal(sa.o.tsecr, f.p.tsval);
	assert_true(sa.o.sack_ok);
	assert_int_equal(sa.o.nr_sacks, 0);
	/* the window of a SYN is never scaled (RFC 7323 §2.2) */
	assert_int_equal(sa.window, 65535);

	/* the ACK completes it: the listener is readable, accept returns it */
	f.p.seq = f.p.iss + 1;
	f.p.ack = sa.seq + 1;
	f.p.our_iss = sa.seq;
	assert_null(tcp_accept(f.l));
	f.th->ev.readable = 0;
	assert_true(th_peer_send(f.th, &f.p, TCP_ACK, NULL, 0));
	expect_none(&f);
	assert_true(f.th->ev.readable >= 1);
	f.tp = tcp_accept(f.l);
	assert_non_null(f.tp);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	assert_null(tcp_accept(f.l));
	assert_int_equal(f.tp->snd_wscale, 7);
	assert_int_equal(f.tp->mss, 1400 - 12); /* less the timestamps */

	/* from now on our window is scaled by what the SYN-ACK announced */
	peer_data(&f, 100);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	/* the edge recorded at the SYN-ACK kept, rounded up to the scale */
	assert_int_equal(s.window,
			 DIV_ROUND_UP(TCP_RCVBUF_DEFAULT - 100, 1u << ws));
	fx_done(&f);
}

static void test_passive_synack_without_offer(void **state)
{
	struct fx f;
	struct th_seg sa, s;

	fx_init(&f);
	th_peer_init(&f.p, PPORT, LPORT, 0);
	f.tp = th_accept(f.th, &f.p, f.l, &sa);
	assert_non_null(f.tp);
	assert_false(sa.opts_bad);
	assert_true(sa.o.mss_ok); /* ours is always announced */
	assert_int_equal(sa.o.mss, TH_MSS);
	assert_false(sa.o.ws_ok);
	assert_false(sa.o.ts_ok);
	assert_false(sa.o.sack_ok);
	assert_int_equal(sa.optlen, 4);
	assert_int_equal(sa.window, 65535);
	/* no MSS option: 536 (RFC 9293 §3.7.1); no scaling either way */
	assert_int_equal(f.tp->mss, TCP_DEFAULT_MSS);
	assert_int_equal(f.tp->snd_wscale, 0);
	assert_int_equal(f.tp->rcv_wscale, 0);
	th_clear(f.th);
	send_bytes(&f, 2 * TCP_DEFAULT_MSS);
	assert_int_equal(th_pending(f.th), 2);
	assert_true(th_pop(f.th, &s));
	assert_int_equal(s.len, TCP_DEFAULT_MSS);
	assert_int_equal(s.window, 65535); /* 256 KiB free, unscaled: capped */
	assert_int_equal(s.optlen, 0); /* nothing was negotiated */
	assert_true(th_pop(f.th, &s));
	assert_int_equal(s.len, TCP_DEFAULT_MSS);
	fx_done(&f);
}

/* ---- ACK generation ------------------------------------------------------ */

static void test_delayed_ack_for_one_segment(void **state)
{
	struct fx f;
	struct th_seg s;
	int64_t delayed;
	uint64_t t0;

	fx_passive(&f, TH_OFFER_ALL);
	delayed = th_stat(f.th, "tcp.delayed_acks");
	t0 = th_now(f.th);
	peer_data(&f, 100);
	expect_none(&f);
	th_run(f.th, TCP_DELACK_NS - 1);
	expect_none(&f);
	th_run(f.th, 1);
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(s.seq, f.p.ack);
	assert_int_equal(s.len, 0);
	assert_int_equal(s.t - t0, TCP_DELACK_NS);
	assert_int_equal(th_stat(f.th, "tcp.delayed_acks"), delayed + 1);
	assert_int_equal(read_check(&f, 0), 100);
	th_run(f.th, NSEC_PER_SEC);
	expect_none(&f);
	fx_done(&f);
}

static void test_ack_every_second_segment(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t mss;

	fx_passive(&f, TH_OFFER_ALL);
	mss = f.tp->mss;
	peer_data(&f, mss);
	expect_none(&f);
	peer_data(&f, mss);
	/* the second full segment is acknowledged at once */
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, f.p.seq);
	/* and the delayed ACK is not sent on top of it */
	th_run(f.th, 10 * TCP_DELACK_NS);
	expect_none(&f);
	assert_int_equal(read_check(&f, 0), 2 * mss);
	fx_done(&f);
}

static void test_out_of_order_acked_at_once_and_hole_fill(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t r;

	fx_passive(&f, TH_OFFER_ALL);
	r = f.p.seq;
	/* [1000, 1500) before [0, 1000): a duplicate ACK at once */
	assert_true(peer_data_at(&f, 1000, 500, TCP_ACK));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, r);
	assert_int_equal(s.len, 0);
	assert_int_equal(tcp_recv(f.tp, (uint8_t[16]){ 0 }, 16), -EAGAIN);
	/* the hole closes: everything is acknowledged at once */
	assert_true(peer_data_at(&f, 0, 1000, TCP_ACK));
	expect_one(&f, &s);
	assert_int_equal(s.ack, r + 1500);
	assert_int_equal(s.o.nr_sacks, 0);
	f.p.seq = r + 1500;
	th_run(f.th, NSEC_PER_SEC);
	expect_none(&f); /* and no delayed ACK after it */
	assert_int_equal(read_check(&f, 0), 1500);
	fx_done(&f);
}

/* The ACK completing the handshake may carry data: it is delivered. */
static void test_handshake_ack_with_data(void **state)
{
	struct fx f;
	struct th_seg sa;
	struct th_pkt syn;

	fx_init(&f);
	th_peer_init(&f.p, PPORT, LPORT, TH_OFFER_MSS);
	syn = th_peer_syn(&f.p);
	assert_true(th_inject(f.th, &syn));
	expect_one(&f, &sa);
	f.p.seq = f.p.iss + 1;
	f.p.ack = sa.seq + 1;
	peer_data(&f, 300);
	f.tp = tcp_accept(f.l);
	assert_non_null(f.tp);
	assert_int_equal(read_check(&f, 0), 300);
	fx_done(&f);
}

/* An RST for an embryonic connection: the listener forgets it. */
static void test_rst_in_syn_received(void **state)
{
	struct fx f;
	struct th_seg sa;
	struct th_pkt syn;

	fx_init(&f);
	th_peer_init(&f.p, PPORT, LPORT, TH_OFFER_MSS);
	syn = th_peer_syn(&f.p);
	assert_true(th_inject(f.th, &syn));
	expect_one(&f, &sa);
	assert_int_equal(f.l->nr_syn, 1);
	f.p.seq = f.p.iss + 1;
	assert_true(th_peer_send(f.th, &f.p, TCP_RST, NULL, 0));
	assert_int_equal(f.l->nr_syn, 0);
	assert_null(tcp_accept(f.l));
	th_run(f.th, 10 * NSEC_PER_SEC); /* no SYN-ACK retransmitted */
	expect_none(&f);
	fx_done(&f);
}

/* ---- active open --------------------------------------------------------- */

static void test_active_open_syn_options(void **state)
{
	struct fx f;
	struct th_seg syn, s;
	struct th_pkt k;

	fx_init(&f);
	th_peer_init(&f.p, PPORT, 0, TH_OFFER_ALL);
	f.tp = tcp_socket(f.th->net, &th_sock_ops, f.th);
	assert_int_equal(
		tcp_connect(f.tp, &(struct sock_addr){ f.th->peer_ip, PPORT }),
		0);
	expect_one(&f, &syn);
	assert_int_equal(syn.flags, TCP_SYN);
	assert_int_equal(syn.ack, 0);
	assert_int_equal(syn.dport, PPORT);
	assert_int_equal(syn.len, 0);
	assert_true(syn.o.mss_ok);
	assert_int_equal(syn.o.mss, TH_MSS);
	assert_true(syn.o.ws_ok);
	assert_int_equal(syn.o.ws, default_rcv_wscale());
	assert_true(syn.o.ts_ok);
	assert_int_equal(syn.o.tsecr, 0);
	assert_true(syn.o.sack_ok);
	assert_int_equal(syn.window, 65535);
	assert_int_equal(f.tp->state, TCP_SYN_SENT);

	/* the SYN-ACK: our ACK, ESTABLISHED, writable */
	f.p.lport = syn.sport;
	f.p.ack = syn.seq + 1;
	k = th_peer_syn(&f.p);
	k.flags |= TCP_ACK;
	k.ack = f.p.ack;
	k.o.tsecr = syn.o.tsval;
	f.p.seq = f.p.iss + 1;
	f.th->ev.writable = 0;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.seq, syn.seq + 1);
	assert_int_equal(s.ack, f.p.iss + 1);
	assert_true(s.o.ts_ok);
	assert_int_equal(s.o.tsecr, f.p.tsval);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	assert_true(f.th->ev.writable >= 1);
	fx_done(&f);
}

/* A SYN-ACK without window scaling: neither side scales. */
static void test_active_open_no_ws_no_scaling(void **state)
{
	struct fx f;
	struct th_seg syn, s;
	struct th_pkt k;

	fx_init(&f);
	th_peer_init(&f.p, PPORT, 0, TH_OFFER_MSS);
	f.p.window = 1000;
	f.tp = th_connect(f.th, &f.p, &syn);
	assert_non_null(f.tp);
	assert_true(syn.o.ws_ok); /* we offered */
	expect_one(&f, &s); /* the ACK of the handshake */
	assert_int_equal(s.window, 65535); /* not 256 KiB >> our shift */
	assert_int_equal(f.tp->rcv_wscale, 0);
	assert_int_equal(f.tp->snd_wscale, 0);
	/* the peer's 1000 is 1000 bytes */
	send_bytes(&f, 3000);
	expect_one(&f, &s);
	assert_int_equal(s.len, 1000);
	/* and its later windows are not scaled either (<< 3 would let all
	 * the rest go) */
	k = th_peer_pkt(&f.p, TCP_ACK, NULL, 0);
	k.ack = s.seq + s.len;
	k.window = 1500;
	assert_true(th_inject(f.th, &k));
	assert_int_equal(f.tp->snd_wnd, 1500);
	{
		uint32_t sent = 0;

		while (th_pop(f.th, &s))
			sent += s.len;
		assert_true(sent > 0 && sent <= 1500);
	}
	fx_done(&f);
}

/*
 * The window field of a SYN-ACK is not scaled (RFC 7323 §2.2): a peer
 * announcing shift 2 and window 1000 in its SYN-ACK allows 1000 bytes.
 */
static void test_synack_window_not_scaled(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t sent = 0;

	fx_init(&f);
	th_peer_init(&f.p, PPORT, 0, TH_OFFER_MSS | TH_OFFER_WS);
	f.p.wscale = 2;
	f.p.window = 1000;
	f.tp = th_connect(f.th, &f.p, NULL);
	assert_non_null(f.tp);
	th_clear(f.th);
	send_bytes(&f, 3000);
	while (th_pop(f.th, &s))
		sent += s.len;
	assert_int_equal(sent, 1000);
	assert_int_equal(f.tp->snd_wnd, 1000);
	fx_done(&f);
}

static void test_synsent_rst_with_good_ack_refuses(void **state)
{
	struct fx f;
	struct th_seg syn;
	struct th_pkt k = { 0 };

	fx_init(&f);
	f.tp = tcp_socket(f.th->net, &th_sock_ops, f.th);
	assert_int_equal(
		tcp_connect(f.tp, &(struct sock_addr){ f.th->peer_ip, PPORT }),
		0);
	expect_one(&f, &syn);
	k.sport = PPORT;
	k.dport = syn.sport;
	k.flags = TCP_RST | TCP_ACK;
	k.ack = syn.seq + 1;
	assert_true(th_inject(f.th, &k));
	expect_none(&f);
	assert_int_equal(f.th->ev.errors, 1);
	assert_int_equal(f.th->ev.err, ECONNREFUSED);
	assert_int_equal(f.tp->state, TCP_CLOSED);
	fx_done(&f);
}

static void test_synsent_rst_with_bad_ack_ignored(void **state)
{
	struct fx f;
	struct th_seg syn;
	struct th_pkt k = { 0 };

	fx_init(&f);
	f.tp = tcp_socket(f.th->net, &th_sock_ops, f.th);
	assert_int_equal(
		tcp_connect(f.tp, &(struct sock_addr){ f.th->peer_ip, PPORT }),
		0);
	expect_one(&f, &syn);
	k.sport = PPORT;
	k.dport = syn.sport;
	k.flags = TCP_RST | TCP_ACK;
	k.ack = syn.seq + 5; /* never sent */
	assert_true(th_inject(f.th, &k));
	k.ack = syn.seq; /* the SYN itself is not acknowledged by it */
	assert_true(th_inject(f.th, &k));
	k.flags = TCP_RST; /* no ACK at all (RFC 9293 §3.10.7.3) */
	assert_true(th_inject(f.th, &k));
	expect_none(&f);
	assert_int_equal(f.th->ev.errors, 0);
	assert_int_equal(f.tp->state, TCP_SYN_SENT);
	fx_done(&f);
}

/* A SYN-ACK acknowledging the wrong thing: RST <SEQ=SEG.ACK><CTL=RST>. */
static void test_synsent_bad_ack_gets_rst(void **state)
{
	struct fx f;
	struct th_seg syn, s;
	struct th_pkt k = { 0 };

	fx_init(&f);
	f.tp = tcp_socket(f.th->net, &th_sock_ops, f.th);
	assert_int_equal(
		tcp_connect(f.tp, &(struct sock_addr){ f.th->peer_ip, PPORT }),
		0);
	expect_one(&f, &syn);
	k.sport = PPORT;
	k.dport = syn.sport;
	k.flags = TCP_SYN | TCP_ACK;
	k.seq = 777;
	k.ack = syn.seq + 77;
	k.window = 65535;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_RST);
	assert_int_equal(s.seq, syn.seq + 77);
	assert_int_equal(s.sport, syn.sport);
	assert_int_equal(s.dport, PPORT);
	assert_int_equal(f.tp->state, TCP_SYN_SENT);
	/* a plain ACK acknowledging the ISS, not the SYN: the same */
	k.flags = TCP_ACK;
	k.ack = syn.seq;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_RST);
	assert_int_equal(s.seq, syn.seq);
	assert_int_equal(f.tp->state, TCP_SYN_SENT);
	fx_done(&f);
}

/* ---- RFC 5961 ------------------------------------------------------------ */

static void test_rst_at_rcv_nxt_resets(void **state)
{
	struct fx f;

	fx_passive(&f, TH_OFFER_ALL);
	assert_true(th_peer_send(f.th, &f.p, TCP_RST, NULL, 0));
	expect_none(&f);
	assert_int_equal(f.th->ev.err, ECONNRESET);
	assert_int_equal(f.tp->state, TCP_CLOSED);
	assert_int_equal(th_stat(f.th, "tcp.rst_received"), 1);
	fx_done(&f);
}

/* After a reset the calls fail with -errno (the API's convention). */
static void test_reset_connection_calls_return_negative_errno(void **state)
{
	struct fx f;
	uint8_t b[8] = { 0 };

	fx_passive(&f, TH_OFFER_ALL);
	assert_true(th_peer_send(f.th, &f.p, TCP_RST, NULL, 0));
	assert_int_equal(f.tp->state, TCP_CLOSED);
	assert_int_equal(tcp_recv(f.tp, b, sizeof(b)), -ECONNRESET);
	assert_int_equal(tcp_send(f.tp, b, sizeof(b)), -ECONNRESET);
	fx_done(&f);
}

static void test_rst_in_window_gets_challenge_ack(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_pkt k;
	uint32_t wnd;

	fx_passive(&f, TH_OFFER_ALL);
	wnd = f.tp->rcv_adv - f.tp->rcv_nxt;
	assert_true(wnd > 100);
	k = th_peer_pkt(&f.p, TCP_RST, NULL, 0);
	k.seq = f.p.seq + 1;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(s.seq, f.p.ack);
	/* the last sequence number in the window: still a challenge */
	k.seq = f.p.seq + wnd - 1;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(th_stat(f.th, "tcp.challenge_acks"), 2);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	assert_int_equal(f.th->ev.errors, 0);
	/* the connection still works */
	peer_data(&f, 10);
	assert_int_equal(read_check(&f, 0), 10);
	fx_done(&f);
}

static void test_rst_out_of_window_ignored(void **state)
{
	struct fx f;
	struct th_pkt k;
	uint32_t wnd;

	fx_passive(&f, TH_OFFER_ALL);
	wnd = f.tp->rcv_adv - f.tp->rcv_nxt;
	k = th_peer_pkt(&f.p, TCP_RST, NULL, 0);
	k.seq = f.p.seq + wnd; /* one past the window */
	assert_true(th_inject(f.th, &k));
	k.seq = f.p.seq + 10000000;
	assert_true(th_inject(f.th, &k));
	k.seq = f.p.seq - 1; /* left of it */
	assert_true(th_inject(f.th, &k));
	k.flags = TCP_RST | TCP_ACK;
	assert_true(th_inject(f.th, &k));
	expect_none(&f);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	assert_int_equal(f.th->ev.errors, 0);
	assert_int_equal(th_stat(f.th, "tcp.challenge_acks"), 0);
	fx_done(&f);
}

static void test_syn_in_established_gets_challenge_ack(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_pkt k;

	fx_passive(&f, TH_OFFER_ALL);
	k = th_peer_syn(&f.p);
	k.seq = f.p.seq; /* in the window */
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(s.seq, f.p.ack);
	assert_int_equal(th_stat(f.th, "tcp.challenge_acks"), 1);
	/* a SYN-ACK likewise, and no state moves */
	k.flags = TCP_SYN | TCP_ACK;
	k.ack = f.p.ack;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(th_stat(f.th, "tcp.challenge_acks"), 2);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	assert_int_equal(f.th->ev.errors, 0);
	fx_done(&f);
}

/* An ACK of data never sent: ACK, and the segment (with its data) dropped. */
static void test_ack_of_unsent_data_dropped(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_pkt k;
	uint8_t d[100];

	fx_passive(&f, TH_OFFER_ALL);
	memset(d, 0xab, sizeof(d));
	k = th_peer_pkt(&f.p, TCP_ACK, d, sizeof(d));
	k.ack = f.p.ack + 1000;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, f.p.seq); /* nothing taken */
	assert_int_equal(s.seq, f.p.ack);
	assert_int_equal(tcp_recv(f.tp, d, sizeof(d)), -EAGAIN);
	assert_int_equal(f.tp->snd_una, f.p.ack);
	/* an ACK older than snd_una - max window (RFC 5961 §5.2) likewise */
	k.ack = f.p.ack - f.tp->max_wnd - 1000;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(tcp_recv(f.tp, d, sizeof(d)), -EAGAIN);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	fx_done(&f);
}

/* ---- sequence acceptability ---------------------------------------------- */

static void test_old_segment_acked_not_delivered_twice(void **state)
{
	struct fx f;
	struct th_seg s;
	int64_t dup, oow;

	fx_passive(&f, TH_OFFER_ALL);
	peer_data(&f, 200);
	th_run(f.th, TCP_DELACK_NS);
	th_drain(f.th);
	assert_int_equal(read_check(&f, 0), 200);
	dup = th_stat(f.th, "tcp.rx_dup_data");
	oow = th_stat(f.th, "tcp.rx_out_of_window");
	/* all of it again: ACK at once, nothing delivered */
	assert_true(peer_data_at(&f, 0, 200, TCP_ACK));
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(th_stat(f.th, "tcp.rx_dup_data") +
				 th_stat(f.th, "tcp.rx_out_of_window"),
			 dup + oow + 1);
	assert_int_equal(tcp_recv(f.tp, (uint8_t[8]){ 0 }, 8), -EAGAIN);
	/* half old, half new: only the new half */
	assert_true(peer_data_at(&f, 100, 200, TCP_ACK));
	f.p.seq += 100;
	assert_int_equal(read_check(&f, 200), 100);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	fx_done(&f);
}

static void test_beyond_window_trimmed(void **state)
{
	struct fx f;
	struct th_seg s;
	int64_t oow, ofo;

	fx_init(&f);
	f.l->rcvbuf = 4096;
	th_peer_init(&f.p, PPORT, LPORT, TH_OFFER_MSS);
	f.tp = th_accept(f.th, &f.p, f.l, &s);
	assert_non_null(f.tp);
	assert_int_equal(s.window, 4096);
	th_clear(f.th);
	assert_true(peer_data_at(&f, 0, 1400, TCP_ACK));
	assert_true(peer_data_at(&f, 1400, 1400, TCP_ACK));
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.iss + 1 + 2800);
	assert_int_equal(s.window, 4096 - 2800);
	assert_true(peer_data_at(&f, 2800, 1200, TCP_ACK));
	expect_none(&f);
	/* a segment straddling the right edge: trimmed to the window */
	assert_true(peer_data_at(&f, 4000, 500, TCP_ACK));
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.iss + 1 + 4096);
	assert_int_equal(s.window, 0);
	assert_int_equal(tcp_recv_ready(f.tp), 4096);
	/* wholly beyond a closed window: ACK, not queued out of order */
	oow = th_stat(f.th, "tcp.rx_out_of_window");
	ofo = th_stat(f.th, "tcp.rx_ofo_queued");
	assert_true(peer_data_at(&f, 4200, 100, TCP_ACK));
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.iss + 1 + 4096);
	assert_int_equal(th_stat(f.th, "tcp.rx_out_of_window"), oow + 1);
	assert_int_equal(th_stat(f.th, "tcp.rx_ofo_queued"), ofo);
	assert_int_equal(read_check(&f, 0), 4096);
	/* reading opened the window: the update is sent */
	expect_one(&f, &s);
	assert_int_equal(s.window, 4096);
	fx_done(&f);
}

/*
 * Our window is zero: data is not acceptable, but the ACK it carries is
 * (RFC 9293 §3.10.7.4: "special allowance should be made to accept valid
 * ACKs").  Else a peer probing our closed window never gets its ACKs of
 * our data through, and we retransmit what it has.
 */
static void test_zero_rcv_window_still_takes_acks(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t our;

	fx_init(&f);
	f.l->rcvbuf = 4096;
	th_peer_init(&f.p, PPORT, LPORT, TH_OFFER_MSS);
	f.tp = th_accept(f.th, &f.p, f.l, NULL);
	assert_non_null(f.tp);
	th_clear(f.th);
	assert_true(peer_data_at(&f, 0, 1400, TCP_ACK));
	assert_true(peer_data_at(&f, 1400, 1400, TCP_ACK));
	assert_true(peer_data_at(&f, 2800, 1296, TCP_ACK));
	f.p.seq += 4096;
	th_run(f.th, TCP_DELACK_NS);
	th_drain(f.th);
	assert_int_equal(f.tp->rcv_adv, f.tp->rcv_nxt); /* closed */
	our = f.p.ack;
	send_bytes(&f, 100);
	expect_one(&f, &s);
	/* the peer's one-byte probe acknowledges our 100 bytes */
	f.p.ack = our + 100;
	assert_true(peer_data_at(&f, 4096, 1, TCP_ACK));
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq); /* the byte is not taken */
	assert_int_equal(s.window, 0);
	assert_int_equal(f.tp->snd_una, our + 100);
	th_run(f.th, 3 * NSEC_PER_SEC);
	expect_none(&f); /* nothing to retransmit */
	fx_done(&f);
}

/* ---- retransmission ------------------------------------------------------ */

static void test_rto_initial_and_backoff(void **state)
{
	struct fx f;
	struct th_seg s[8];
	unsigned n = 0;

	fx_passive(&f, TH_OFFER_MSS); /* no timestamps: no RTT sample */
	send_bytes(&f, 100);
	th_run(f.th, 15 * NSEC_PER_SEC - 1);
	while (n < 8 && th_pop(f.th, &s[n]))
		n++;
	/* t0, +1 s (RFC 6298 initial RTO), then doubling: +2, +4, +8 */
	assert_int_equal(n, 4);
	th_run(f.th, 1);
	assert_true(th_pop(f.th, &s[n++]));
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(s[i].seq, f.p.ack);
		assert_int_equal(s[i].len, 100);
		assert_true(s[i].flags & TCP_ACK);
	}
	assert_int_equal(s[1].t - s[0].t, TCP_RTO_INITIAL_NS);
	assert_int_equal(s[2].t - s[1].t, 2 * TCP_RTO_INITIAL_NS);
	assert_int_equal(s[3].t - s[2].t, 4 * TCP_RTO_INITIAL_NS);
	assert_int_equal(s[4].t - s[3].t, 8 * TCP_RTO_INITIAL_NS);
	assert_int_equal(th_stat(f.th, "tcp.rto_expired"), 4);
	/* an ACK ends it */
	peer_ack(&f, f.p.ack + 100);
	th_run(f.th, 60 * NSEC_PER_SEC);
	th_drain(f.th);
	assert_int_equal(th_stat(f.th, "tcp.rto_expired"), 4);
	fx_done(&f);
}

/* Send @n full segments; their sequence numbers into @seq. */
static void send_segments(struct fx *f, unsigned n, uint32_t *seq)
{
	struct th_seg s;

	send_bytes(f, (size_t)n * f->tp->mss);
	for (unsigned i = 0; i < n; i++) {
		assert_true(th_pop(f->th, &s));
		assert_int_equal(s.len, f->tp->mss);
		seq[i] = s.seq;
	}
	expect_none(f);
}

/*
 * Three duplicate ACKs: the first unacknowledged segment at once; a
 * partial ACK (RFC 6582): the next hole at once.  For connections whose
 * ISS falls in either half of the sequence space: @high_seen[1] records
 * an ISS at or above 2^31, [0] one below.
 */
static void fast_retransmit_case(uint16_t port, bool high_seen[2])
{
	struct fx f;
	struct th_seg s;
	uint32_t seq[5], mss;

	fx_init(&f);
	th_peer_init(&f.p, port, LPORT, TH_OFFER_MSS);
	f.tp = th_accept(f.th, &f.p, f.l, NULL);
	assert_non_null(f.tp);
	th_clear(f.th);
	high_seen[f.tp->iss >= 0x80000000u] = true;
	mss = f.tp->mss;
	send_segments(&f, 5, seq);
	peer_ack(&f, seq[1]); /* the first arrived, the second was lost */
	expect_none(&f);
	peer_ack(&f, seq[1]);
	peer_ack(&f, seq[1]);
	expect_none(&f);
	peer_ack(&f, seq[1]); /* the third duplicate */
	if (th_pending(f.th) != 1)
		print_message("no fast retransmit with ISS %#x\n", f.tp->iss);
	expect_one(&f, &s);
	assert_int_equal(s.seq, seq[1]);
	assert_int_equal(s.len, mss);
	assert_int_equal(th_stat(f.th, "tcp.fast_retransmits"), 1);
	/* a partial ACK (RFC 6582): the next hole goes at once */
	peer_ack(&f, seq[3]);
	expect_one(&f, &s);
	assert_int_equal(s.seq, seq[3]);
	assert_int_equal(s.len, mss);
	/* the full ACK ends recovery; nothing more is sent */
	peer_ack(&f, seq[4] + mss);
	th_run(f.th, 5 * NSEC_PER_SEC);
	expect_none(&f);
	assert_int_equal(th_stat(f.th, "tcp.rto_expired"), 0);
	assert_false(f.tp->in_recovery);
	fx_done(&f);
}

static void test_fast_retransmit_newreno(void **state)
{
	bool high_seen[2] = { false, false };

	for (uint16_t i = 0; i < 32 && !(high_seen[0] && high_seen[1]); i++)
		fast_retransmit_case((uint16_t)(PPORT + i), high_seen);
	assert_true(high_seen[0] && high_seen[1]);
}

/*
 * `recover` is a sequence number: compared with wrapping arithmetic it
 * must stay within 2^31 of snd_una.  After more than 2 GiB sent since the
 * last recovery (or since the ISS, with no recovery at all, the common
 * case on a long-lived storage connection) it looks ahead of snd_una and
 * would block fast retransmit for the next 2 GiB.  The state is set
 * directly: recover as it is after 2^31 + 1 bytes without loss.
 */
static void test_fast_retransmit_after_2gib_without_loss(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t seq[5];

	fx_passive(&f, TH_OFFER_MSS);
	f.tp->recover = f.tp->snd_una - 0x80000001u;
	send_segments(&f, 5, seq);
	peer_ack(&f, seq[1]);
	peer_ack(&f, seq[1]);
	peer_ack(&f, seq[1]);
	peer_ack(&f, seq[1]);
	expect_one(&f, &s);
	assert_int_equal(s.seq, seq[1]);
	fx_done(&f);
}

/* ---- zero window --------------------------------------------------------- */

static void test_zero_window_persist(void **state)
{
	struct fx f;
	struct th_seg s;
	uint64_t probe_t[64], end;
	unsigned probes = 0;
	uint32_t got = 0, una;

	fx_passive(&f, TH_OFFER_MSS);
	una = f.p.ack;
	f.p.window = 0;
	peer_ack(&f, una);
	send_bytes(&f, 3000);
	expect_none(&f);
	/* the peer answers every probe with its closed window */
	end = th_now(f.th) + 300 * NSEC_PER_SEC;
	while (th_now(f.th) < end) {
		th_run(f.th, 10 * NSEC_PER_MSEC);
		while (th_pop(f.th, &s)) {
			assert_false(s.flags & TCP_RST);
			if (!s.len)
				continue;
			assert_int_equal(s.len, 1); /* exactly one byte */
			assert_int_equal(s.seq, una);
			if (probes < 64)
				probe_t[probes] = s.t;
			probes++;
			peer_ack(&f, una);
		}
	}
	print_message("%u probes in 300 s\n", probes);
	assert_true(probes >= 6);
	/* the intervals grow (to TCP_PERSIST_MAX_NS or the RTO's cap) */
	for (unsigned i = 2; i < probes && i < 64; i++)
		assert_true(probe_t[i] - probe_t[i - 1] >=
			    probe_t[i - 1] - probe_t[i - 2]);
	assert_true(probe_t[2] - probe_t[1] > probe_t[1] - probe_t[0]);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	assert_int_equal(f.th->ev.errors, 0);
	/* the window opens: all 3000 bytes go */
	f.p.window = 65535;
	peer_ack(&f, una);
	for (int i = 0; i < 50 && got < 3000; i++) {
		th_run(f.th, 100 * NSEC_PER_MSEC);
		while (th_pop(f.th, &s))
			if (s.len && s.seq == una + got) {
				got += s.len;
				peer_ack(&f, una + got);
			}
	}
	assert_int_equal(got, 3000);
	fx_done(&f);
}

/* ---- Nagle --------------------------------------------------------------- */

static void test_nagle_holds_second_small_segment(void **state)
{
	struct fx f;
	struct th_seg s;

	fx_passive(&f, TH_OFFER_MSS);
	send_bytes(&f, 100);
	expect_one(&f, &s);
	assert_int_equal(s.len, 100);
	send_bytes(&f, 100);
	expect_none(&f); /* waits for the ACK */
	th_run(f.th, 100 * NSEC_PER_MSEC);
	expect_none(&f);
	peer_ack(&f, s.seq + 100);
	expect_one(&f, &s);
	assert_int_equal(s.len, 100);
	fx_done(&f);
}

static void test_nodelay_sends_at_once(void **state)
{
	struct fx f;
	struct th_seg s;

	fx_active(&f, TH_OFFER_MSS);
	tcp_set_nodelay(f.tp, true);
	send_bytes(&f, 100);
	send_bytes(&f, 100);
	assert_int_equal(th_pending(f.th), 2);
	assert_true(th_pop(f.th, &s));
	assert_int_equal(s.len, 100);
	assert_true(th_pop(f.th, &s));
	assert_int_equal(s.len, 100);
	assert_int_equal(s.seq, f.p.ack + 100);
	fx_done(&f);
}

/* ---- FIN ----------------------------------------------------------------- */

static void test_passive_close(void **state)
{
	struct fx f;
	struct th_seg s;
	uint8_t b[8];

	fx_passive(&f, TH_OFFER_ALL);
	f.th->ev.readable = 0;
	assert_true(th_peer_send(f.th, &f.p, TCP_FIN | TCP_ACK, NULL, 0));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, f.p.seq); /* the FIN counted */
	assert_int_equal(f.tp->state, TCP_CLOSE_WAIT);
	assert_true(f.th->ev.readable >= 1);
	assert_int_equal(tcp_recv(f.tp, b, sizeof(b)), 0);
	/* we may still send, then close */
	send_bytes(&f, 10);
	expect_one(&f, &s);
	assert_int_equal(s.len, 10);
	peer_ack(&f, s.seq + 10);
	assert_int_equal(tcp_shutdown(f.tp), 0);
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_FIN | TCP_ACK);
	assert_int_equal(s.seq, f.p.ack);
	assert_int_equal(f.tp->state, TCP_LAST_ACK);
	peer_ack(&f, s.seq + 1);
	expect_none(&f);
	assert_int_equal(f.tp->state, TCP_CLOSED);
	assert_int_equal(f.th->ev.errors, 0);
	fx_done(&f);
}

/* tcp_close in CLOSE-WAIT: FIN, LAST-ACK, and gone on the ACK. */
static void test_passive_close_by_tcp_close(void **state)
{
	struct fx f;
	struct th_seg s;

	fx_passive(&f, TH_OFFER_MSS);
	assert_true(th_peer_send(f.th, &f.p, TCP_FIN | TCP_ACK, NULL, 0));
	th_drain(f.th);
	tcp_close(f.tp);
	f.tp = NULL;
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_FIN | TCP_ACK);
	assert_non_null(
		tcp_lookup(f.th->net, f.th->peer_ip, PPORT, f.th->ip, LPORT));
	peer_ack(&f, s.seq + 1);
	expect_none(&f);
	assert_null(
		tcp_lookup(f.th->net, f.th->peer_ip, PPORT, f.th->ip, LPORT));
	fx_done(&f);
}

static void test_active_close_fin_wait_time_wait(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t fin;

	fx_passive(&f, TH_OFFER_ALL);
	assert_int_equal(tcp_shutdown(f.tp), 0);
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_FIN | TCP_ACK);
	assert_int_equal(s.seq, f.p.ack);
	assert_int_equal(f.tp->state, TCP_FIN_WAIT_1);
	peer_ack(&f, s.seq + 1);
	expect_none(&f);
	assert_int_equal(f.tp->state, TCP_FIN_WAIT_2);
	/* data still flows to us in FIN-WAIT-2 */
	peer_data(&f, 50);
	assert_int_equal(read_check(&f, 0), 50);
	th_run(f.th, TCP_DELACK_NS);
	th_drain(f.th);
	fin = f.p.seq;
	assert_true(th_peer_send(f.th, &f.p, TCP_FIN | TCP_ACK, NULL, 0));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, fin + 1);
	assert_int_equal(f.tp->state, TCP_TIME_WAIT);
	/* a retransmitted FIN is acknowledged again and restarts the wait */
	th_run(f.th, TCP_TIME_WAIT_NS / 2);
	f.p.seq = fin;
	assert_true(th_peer_send(f.th, &f.p, TCP_FIN | TCP_ACK, NULL, 0));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, fin + 1);
	th_run(f.th, TCP_TIME_WAIT_NS - 1);
	assert_int_equal(f.tp->state, TCP_TIME_WAIT);
	th_run(f.th, 1);
	assert_int_equal(f.tp->state, TCP_CLOSED);
	assert_int_equal(f.th->ev.errors, 0);
	expect_none(&f);
	fx_done(&f);
}

static void test_simultaneous_close(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t our_fin, fin;

	fx_passive(&f, TH_OFFER_ALL);
	assert_int_equal(tcp_shutdown(f.tp), 0);
	expect_one(&f, &s);
	our_fin = s.seq;
	/* the peer's FIN crosses ours: it does not acknowledge it */
	fin = f.p.seq;
	assert_true(th_peer_send(f.th, &f.p, TCP_FIN | TCP_ACK, NULL, 0));
	expect_one(&f, &s);
	assert_int_equal(s.flags & (TCP_ACK | TCP_SYN | TCP_RST), TCP_ACK);
	assert_int_equal(s.ack, fin + 1);
	assert_int_equal(f.tp->state, TCP_CLOSING);
	peer_ack(&f, our_fin + 1);
	assert_int_equal(f.tp->state, TCP_TIME_WAIT);
	expect_none(&f);
	fx_done(&f);
}

/* TIME-WAIT: an old SYN gets an ACK; a SYN moving on starts a new one. */
static void test_time_wait_new_syn_accepted(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_pkt k;
	uint32_t next;

	fx_passive(&f, TH_OFFER_ALL);
	tcp_close(f.tp); /* we close first: TIME-WAIT is ours */
	f.tp = NULL;
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_FIN | TCP_ACK);
	f.p.ack = s.seq + 1;
	assert_true(th_peer_send(f.th, &f.p, TCP_FIN | TCP_ACK, NULL, 0));
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	next = f.p.seq;
	/* the old incarnation's SYN: acknowledged, not accepted */
	k = th_peer_syn(&f.p);
	k.seq = f.p.iss;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, next);
	assert_int_equal(th_stat(f.th, "tcp.timewait_reused"), 0);
	/* a SYN above what the old one used: the listener answers it */
	f.p.iss = next + 100000;
	f.p.seq = f.p.iss;
	f.tp = th_accept(f.th, &f.p, f.l, &s);
	assert_non_null(f.tp);
	assert_int_equal(s.ack, next + 100000 + 1);
	assert_int_equal(f.tp->state, TCP_ESTABLISHED);
	assert_int_equal(th_stat(f.th, "tcp.timewait_reused"), 1);
	fx_done(&f);
}

/* Put @f's connection in TIME-WAIT through tcp_shutdown: the user keeps it. */
static uint32_t into_time_wait(struct fx *f)
{
	struct th_seg s;

	assert_int_equal(tcp_shutdown(f->tp), 0);
	expect_one(f, &s);
	f->p.ack = s.seq + 1;
	assert_true(th_peer_send(f->th, &f->p, TCP_FIN | TCP_ACK, NULL, 0));
	expect_one(f, &s);
	assert_int_equal(f->tp->state, TCP_TIME_WAIT);
	return f->p.seq;
}

/*
 * A socket the user has not closed stays the user's: a new SYN reusing its
 * pair in TIME-WAIT ends the old incarnation (CLOSED) but must not free
 * the socket under the user, who calls tcp_close later.
 */
static void test_time_wait_reuse_keeps_user_socket(void **state)
{
	struct fx f;
	struct th_peer p2;
	int64_t objs;

	fx_passive(&f, TH_OFFER_ALL);
	p2 = f.p;
	p2.iss = into_time_wait(&f) + 100000;
	p2.seq = p2.iss;
	objs = th_stat(f.th, "slab.tcp_sock.objects");
	assert_non_null(th_accept(f.th, &p2, f.l, NULL));
	assert_int_equal(th_stat(f.th, "tcp.timewait_reused"), 1);
	/* the listener, the user's old socket, the new child */
	if (th_stat(f.th, "slab.tcp_sock.objects") != objs + 1) {
		f.tp = NULL; /* freed: touching it would be a use after free */
		fail_msg("TIME-WAIT reuse freed a socket the user still holds "
			 "(tcp_input.c timewait_input)");
	}
	assert_int_equal(f.tp->state, TCP_CLOSED);
	tcp_abort(p2.tp);
	fx_done(&f);
}

/* Likewise when TIME-WAIT is full and the oldest gives way. */
static void test_time_wait_reclaim_keeps_user_socket(void **state)
{
	struct tcp_sock *tps[TCP_TIME_WAIT_MAX + 1];
	struct fx f;
	int64_t objs = 0;

	fx_init(&f);
	for (unsigned i = 0; i <= TCP_TIME_WAIT_MAX; i++) {
		th_peer_init(&f.p, (uint16_t)(PPORT + i), LPORT, TH_OFFER_MSS);
		f.tp = th_accept(f.th, &f.p, f.l, NULL);
		assert_non_null(f.tp);
		th_clear(f.th);
		if (i == TCP_TIME_WAIT_MAX)
			objs = th_stat(f.th, "slab.tcp_sock.objects");
		into_time_wait(&f);
		tps[i] = f.tp;
	}
	f.tp = NULL;
	assert_int_equal(th_stat(f.th, "tcp.timewait_reclaimed"), 1);
	if (th_stat(f.th, "slab.tcp_sock.objects") != objs)
		fail_msg("TIME-WAIT reclaim freed a socket the user still "
			 "holds (tcp.c tcp_enter_timewait)");
	assert_int_equal(tps[0]->state, TCP_CLOSED);
	for (unsigned i = 0; i <= TCP_TIME_WAIT_MAX; i++)
		tcp_close(tps[i]);
	fx_done(&f);
}

/* ---- listener ------------------------------------------------------------ */

static void test_listener_backlog_bounds_syn_queue(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_peer p;
	struct th_pkt k;

	fx_init(&f);
	tcp_close(f.l);
	f.l = th_listen(f.th, LPORT, 2);
	for (uint16_t i = 0; i < 3; i++) {
		th_peer_init(&p, (uint16_t)(PPORT + i), LPORT, TH_OFFER_MSS);
		k = th_peer_syn(&p);
		assert_true(th_inject(f.th, &k));
	}
	/* the third is answered with a SYN cookie, and no state */
	assert_int_equal(th_pending(f.th), 3);
	assert_true(th_pop(f.th, &s));
	assert_int_equal(s.dport, PPORT);
	assert_true(th_pop(f.th, &s));
	assert_int_equal(s.dport, PPORT + 1);
	assert_true(th_pop(f.th, &s));
	assert_int_equal(s.dport, PPORT + 2);
	assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(th_stat(f.th, "tcp.syn_queue_full"), 1);
	assert_int_equal(th_stat(f.th, "tcp.syncookies_sent"), 1);
	assert_int_equal(f.l->nr_syn, 2);
	fx_done(&f);
}

static void test_listener_ack_gets_rst_and_rst_ignored(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_pkt k = { .sport = PPORT, .dport = LPORT, .seq = 5 };

	fx_init(&f);
	k.flags = TCP_ACK;
	k.ack = 12345;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_RST);
	assert_int_equal(s.seq, 12345);
	assert_int_equal(s.sport, LPORT);
	assert_int_equal(s.dport, PPORT);
	/* RSTs are not the listener's: no answer, no effect */
	k.flags = TCP_RST;
	assert_true(th_inject(f.th, &k));
	k.flags = TCP_RST | TCP_ACK;
	assert_true(th_inject(f.th, &k));
	expect_none(&f);
	assert_int_equal(f.l->state, TCP_LISTEN);
	/* and it still accepts */
	th_peer_init(&f.p, PPORT, LPORT, TH_OFFER_ALL);
	f.tp = th_accept(f.th, &f.p, f.l, NULL);
	assert_non_null(f.tp);
	fx_done(&f);
}

/* ---- no socket ----------------------------------------------------------- */

static void test_no_socket_rst(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_pkt k = { .sport = PPORT, .dport = 81, .seq = 1000 };
	uint8_t d[10] = { 0 };

	fx_init(&f);
	k.flags = TCP_SYN;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_RST | TCP_ACK);
	assert_int_equal(s.seq, 0);
	assert_int_equal(s.ack, 1001);
	assert_int_equal(s.sport, 81);
	/* with ACK: <SEQ=SEG.ACK><CTL=RST> */
	k.flags = TCP_ACK;
	k.ack = 0xdeadbeef;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_RST);
	assert_int_equal(s.seq, 0xdeadbeef);
	/* data and FIN without ACK: ACK = SEG.SEQ + SEG.LEN */
	k.flags = TCP_FIN | TCP_PSH;
	k.ack = 0;
	k.data = d;
	k.len = sizeof(d);
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_RST | TCP_ACK);
	assert_int_equal(s.ack, 1000 + 10 + 1);
	/* an RST gets nothing */
	k.flags = TCP_RST;
	assert_true(th_inject(f.th, &k));
	expect_none(&f);
	assert_int_equal(th_stat(f.th, "tcp.rx_no_socket"), 4);
	fx_done(&f);
}

/* A reserve frame for nobody gets no answer: the answer would cost memory. */
static void test_no_socket_reserve_frame_gets_no_rst(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_pkt k = { .sport = PPORT, .dport = 81, .seq = 1000 };
	int64_t rst;

	fx_init(&f);
	k.flags = TCP_SYN;
	k.mark_reserve = true;
	rst = th_stat(f.th, "tcp.rst_sent");
	assert_true(th_inject(f.th, &k));
	assert_true(f.th->last_inject_reserve);
	expect_none(&f);
	assert_int_equal(th_stat(f.th, "tcp.rst_sent"), rst);
	/* the same frame in normal memory is answered */
	k.mark_reserve = false;
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_RST | TCP_ACK);
	/* and really from the reserve, memory gone */
	th_exhaust(f.th, true);
	assert_true(th_inject(f.th, &k));
	assert_true(f.th->last_inject_reserve);
	th_release(f.th);
	expect_none(&f);
	fx_done(&f);
}

/* ---- options ------------------------------------------------------------- */

static void test_malformed_options_drop_segment(void **state)
{
	static const struct {
		uint8_t b[12];
		unsigned n;
	} bad[] = {
		{ { 2, 3, 5 }, 3 }, /* MSS of length 3 */
		{ { 1, 2, 4, 5 }, 4 }, /* MSS running past the header */
		{ { 99, 0 }, 2 }, /* length 0 */
		{ { 99, 1 }, 2 }, /* length 1 */
		{ { 1, 1, 1, 3 }, 4 }, /* a kind without its length */
		{ { 3, 4, 7, 0 }, 4 }, /* WS of length 4 */
		{ { 8, 9, 0, 0, 0, 0, 0, 0, 0 }, 9 }, /* TS of length 9 */
		{ { 4, 3, 0 }, 3 }, /* SACK-permitted of length 3 */
		{ { 5, 9, 0, 0, 0, 0, 0, 0, 0 }, 9 }, /* SACK, not 2 + 8n */
	};
	struct fx f;
	struct th_peer p;
	struct th_pkt k;
	int64_t bad_hdr = 0;

	fx_init(&f);
	th_peer_init(&p, PPORT, LPORT, TH_OFFER_MSS);
	bad_hdr = th_stat(f.th, "tcp.rx_bad_header");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		k = th_peer_syn(&p);
		k.o.mss_ok = false;
		memcpy(k.raw, bad[i].b, bad[i].n);
		k.raw_len = bad[i].n;
		assert_true(th_inject(f.th, &k));
		expect_none(&f);
		assert_int_equal(th_stat(f.th, "tcp.rx_bad_header"),
				 bad_hdr + (int64_t)i + 1);
	}
	assert_int_equal(f.l->nr_syn, 0);
	/* on an established connection: no ACK, the data not taken */
	fx_done(&f);
	fx_passive(&f, TH_OFFER_MSS);
	k = th_peer_pkt(&f.p, TCP_ACK, "abcdef", 6);
	memcpy(k.raw, bad[0].b, bad[0].n);
	k.raw_len = bad[0].n;
	assert_true(th_inject(f.th, &k));
	th_run(f.th, NSEC_PER_SEC);
	expect_none(&f);
	assert_int_equal(tcp_recv_ready(f.tp), 0);
	fx_done(&f);
}

static void test_unknown_options_skipped(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_pkt k;
	static const uint8_t unknown_then_mss[] = { 99, 6, 1, 2,    3,	 4,
						    1,	2, 4, 0x03, 0xe8 };
	static const uint8_t mss_after_eol[] = { 0, 2, 4, 0x03, 0xe8 };

	fx_init(&f);
	th_peer_init(&f.p, PPORT, LPORT, 0);
	k = th_peer_syn(&f.p);
	memcpy(k.raw, unknown_then_mss, sizeof(unknown_then_mss));
	k.raw_len = sizeof(unknown_then_mss);
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
	f.p.seq = f.p.iss + 1;
	f.p.ack = s.seq + 1;
	assert_true(th_peer_send(f.th, &f.p, TCP_ACK, NULL, 0));
	f.tp = tcp_accept(f.l);
	assert_non_null(f.tp);
	/* the MSS after the unknown option was seen: 1000-byte segments */
	send_bytes(&f, 2500);
	assert_true(th_pop(f.th, &s));
	assert_int_equal(s.len, 1000);
	tcp_abort(f.tp);
	th_clear(f.th);

	/* nothing after End of Option List counts: MSS 536 */
	th_peer_init(&f.p, PPORT + 1, LPORT, 0);
	k = th_peer_syn(&f.p);
	memcpy(k.raw, mss_after_eol, sizeof(mss_after_eol));
	k.raw_len = sizeof(mss_after_eol);
	assert_true(th_inject(f.th, &k));
	expect_one(&f, &s);
	f.p.seq = f.p.iss + 1;
	f.p.ack = s.seq + 1;
	assert_true(th_peer_send(f.th, &f.p, TCP_ACK, NULL, 0));
	f.tp = tcp_accept(f.l);
	assert_non_null(f.tp);
	assert_int_equal(f.tp->mss, TCP_DEFAULT_MSS);
	fx_done(&f);
}

static void test_window_scale_clamped_to_14(void **state)
{
	struct fx f;
	struct th_pkt k;

	fx_init(&f);
	th_peer_init(&f.p, PPORT, LPORT, TH_OFFER_MSS | TH_OFFER_WS);
	f.p.wscale = 15;
	f.tp = th_accept(f.th, &f.p, f.l, NULL);
	assert_non_null(f.tp);
	assert_int_equal(f.tp->snd_wscale, TCP_MAX_WSCALE);
	k = th_peer_pkt(&f.p, TCP_ACK, NULL, 0);
	k.window = 3;
	assert_true(th_inject(f.th, &k));
	assert_int_equal(f.tp->snd_wnd, 3u << 14);
	fx_done(&f);
}

/* ---- timestamps (RFC 7323 §4.3) ------------------------------------------ */

static void test_timestamps_echo_rules(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t mss, tsval;

	fx_passive(&f, TH_OFFER_ALL);
	mss = f.tp->mss;
	/* a newer TSval in order: echoed */
	f.p.tsval = 6000;
	peer_data(&f, 100);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s);
	assert_true(s.o.ts_ok);
	assert_int_equal(s.o.tsecr, 6000);
	tsval = s.o.tsval;
	/* two segments under one ACK: the earlier one's TSval */
	f.p.tsval = 7000;
	peer_data(&f, mss);
	f.p.tsval = 8000;
	peer_data(&f, mss);
	expect_one(&f, &s);
	assert_int_equal(s.o.tsecr, 7000);
	assert_true((int32_t)(s.o.tsval - tsval) >= 0); /* our clock */
	/* an older TSval does not move TS.Recent back: PAWS drops the
	 * segment and acknowledges (RFC 7323 §5.3) */
	f.p.tsval = 100;
	peer_data(&f, 10);
	f.p.seq -= 10;
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(s.o.tsecr, 7000);
	/* out of order (beyond Last.ACK.sent): not taken */
	f.p.tsval = 9000;
	assert_true(
		peer_data_at(&f, peer_off(&f, f.p.seq) + 500, 100, TCP_ACK));
	expect_one(&f, &s);
	assert_int_equal(s.o.tsecr, 7000);
	/* the segment at Last.ACK.sent filling the hole: taken */
	f.p.tsval = 9500;
	assert_true(peer_data_at(&f, peer_off(&f, f.p.seq), 500, TCP_ACK));
	f.p.seq += 600;
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(s.o.tsecr, 9500);
	/* every segment carries the option, data too */
	send_bytes(&f, 10);
	expect_one(&f, &s);
	assert_true(s.o.ts_ok);
	assert_int_equal(s.o.tsecr, 9500);
	fx_done(&f);
}

/* ---- memory -------------------------------------------------------------- */

static void test_unflagged_drops_reserve_segments(void **state)
{
	struct fx f;
	int64_t drops;

	fx_passive(&f, TH_OFFER_MSS);
	drops = th_stat(f.th, "tcp.rx_drop_pfmemalloc");
	th_exhaust(f.th, true);
	peer_data(&f, 100);
	assert_true(f.th->last_inject_reserve);
	th_run(f.th, TCP_DELACK_NS);
	assert_int_equal(th_stat(f.th, "tcp.rx_drop_pfmemalloc"), drops + 1);
	assert_true(th_mm_ok(f.th));
	th_release(f.th);
	expect_none(&f);
	assert_int_equal(tcp_recv_ready(f.tp), 0);
	assert_int_equal(f.tp->rcv_nxt, f.p.seq - 100);
	/* once memory is back the retransmission is taken */
	assert_true(peer_data_at(&f, 0, 100, TCP_ACK));
	assert_false(f.th->last_inject_reserve);
	assert_int_equal(read_check(&f, 0), 100);
	fx_done(&f);
}

/* Normal memory gone: the window's right edge does not move. */
static void test_unflagged_no_new_window_under_pressure(void **state)
{
	struct fx f;
	struct th_seg s1, s2;

	fx_passive(&f, TH_OFFER_MSS); /* no scaling: windows are exact */
	peer_data(&f, 1000);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s1);
	assert_int_equal(s1.window, 65535);
	th_exhaust(f.th, false);
	assert_int_equal(mm_normal_available(f.th->mm), 0);
	peer_data(&f, 1000);
	assert_false(f.th->last_inject_reserve);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s2);
	assert_int_equal(s2.ack, s1.ack + 1000);
	assert_int_equal(s2.ack + s2.window, s1.ack + s1.window);
	th_release(f.th);
	assert_int_equal(read_check(&f, 0), 2000);
	fx_done(&f);
}

static void test_flagged_keeps_reserve_data_and_acks(void **state)
{
	struct fx f;
	struct th_seg s;
	struct mm_reserve *rxq;

	fx_passive(&f, TH_OFFER_MSS);
	f.tp->rcvbuf = 64 * 1024;
	assert_int_equal(tcp_set_memalloc(f.tp), 0);
	rxq = &f.tp->sk.rxq_rsv;
	th_exhaust(f.th, true);
	peer_data(&f, 1000);
	assert_true(f.th->last_inject_reserve);
	assert_true(rxq->used.v > 0); /* the copy is charged to the socket */
	assert_int_equal(f.th->net->rsv_rx.used.v, 0);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_true(th_mm_ok(f.th));
	assert_int_equal(read_check(&f, 0), 1000);
	th_drain(f.th);
	th_release(f.th);
	fx_done(&f);
}

/* An ACK whose header cannot be allocated goes out in the spare. */
static void test_flagged_acks_with_spare_when_allocation_fails(void **state)
{
	struct fx f;
	struct th_seg s;
	int64_t spare, nomem;

	fx_passive(&f, TH_OFFER_MSS);
	f.tp->rcvbuf = 64 * 1024;
	assert_int_equal(tcp_set_memalloc(f.tp), 0);
	spare = th_stat(f.th, "tcp.tx_spare_ack_used");
	assert_int_equal(mm_failinj_set(f.th->mm, "nth=1,always,site=transmit"),
			 0);
	peer_data(&f, 500);
	th_run(f.th, TCP_DELACK_NS);
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(th_stat(f.th, "tcp.tx_spare_ack_used"), spare + 1);
	/* refilled: the next one too */
	peer_data(&f, 500);
	peer_data(&f, 500);
	expect_one(&f, &s);
	assert_int_equal(s.ack, f.p.seq);
	assert_int_equal(th_stat(f.th, "tcp.tx_spare_ack_used"), spare + 2);
	assert_int_equal(mm_failinj_set(f.th->mm, "off"), 0);
	fx_done(&f);

	/* unflagged: no spare, no ACK */
	fx_passive(&f, TH_OFFER_MSS);
	nomem = th_stat(f.th, "tcp.tx_no_memory");
	assert_int_equal(mm_failinj_set(f.th->mm, "nth=1,always,site=transmit"),
			 0);
	peer_data(&f, 500);
	th_run(f.th, TCP_DELACK_NS);
	expect_none(&f);
	assert_true(th_stat(f.th, "tcp.tx_no_memory") > nomem);
	assert_int_equal(mm_failinj_set(f.th->mm, "off"), 0);
	fx_done(&f);
}

/*
 * RFC 9293 §3.8.6 with window scaling: the right edge the peer sees is
 * ACK + (window field << scale), so keeping our old right edge must round
 * the window up to the scale, never down.  A reader that does not read
 * and segments of odd lengths leave the kept window at every remainder;
 * rounded down, the edge moved back by up to 2^scale - 1 bytes.
 */
static void test_window_edge_kept_under_scaling(void **state)
{
	uint8_t ws = default_rcv_wscale();
	uint32_t edge = 0;
	unsigned acks = 0;
	struct th_seg s;
	struct fx f;

	assert_true(ws > 0);
	fx_passive(&f, TH_OFFER_ALL);
	assert_int_equal(f.tp->rcv_wscale, ws);
	/* smaller than what was offered: the window closes as data lands */
	f.tp->rcvbuf = 24 * 1024 + 77;
	for (unsigned i = 0; i < 40 && f.p.seq != f.tp->rcv_adv; i++) {
		uint32_t room = f.tp->rcv_adv - f.tp->rcv_nxt;

		peer_data(&f, lb_min(room, 333u + 2 * i));
		th_run(f.th, TCP_DELACK_NS);
		while (th_pop(f.th, &s)) {
			uint32_t right = s.ack + ((uint32_t)s.window << ws);

			if (acks++)
				assert_true(seq_geq(right, edge));
			edge = right;
			/* what we recorded is what the peer was told */
			assert_true(seq_leq(f.tp->rcv_adv, right));
		}
	}
	assert_true(acks > 10);
	fx_done(&f);
}

/* ---- SACK (RFC 2018) ------------------------------------------------------ */

static void assert_block(const struct th_seg *s, unsigned i, uint32_t start,
			 uint32_t end)
{
	assert_true(i < s->o.nr_sacks);
	assert_int_equal(s->o.sacks[i][0], start);
	assert_int_equal(s->o.sacks[i][1], end);
}

static void test_sack_blocks_for_out_of_order_data(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t r;

	fx_passive(&f, TH_OFFER_ALL); /* with timestamps: at most 3 blocks */
	r = f.p.seq;
	assert_true(peer_data_at(&f, 1000, 100, TCP_ACK)); /* A */
	expect_one(&f, &s);
	assert_int_equal(s.ack, r);
	assert_int_equal(s.o.nr_sacks, 1);
	assert_block(&s, 0, r + 1000, r + 1100);
	assert_true(peer_data_at(&f, 2000, 100, TCP_ACK)); /* B */
	expect_one(&f, &s);
	assert_int_equal(s.o.nr_sacks, 2);
	assert_block(&s, 0, r + 2000, r + 2100); /* the newest first */
	assert_block(&s, 1, r + 1000, r + 1100);
	assert_true(peer_data_at(&f, 3000, 100, TCP_ACK)); /* C */
	expect_one(&f, &s);
	assert_int_equal(s.o.nr_sacks, 3);
	assert_block(&s, 0, r + 3000, r + 3100);
	/* next to A: one block holding the new segment, first */
	assert_true(peer_data_at(&f, 1100, 100, TCP_ACK));
	expect_one(&f, &s);
	assert_int_equal(s.o.nr_sacks, 3);
	assert_block(&s, 0, r + 1000, r + 1200);
	for (unsigned i = 1; i < 3; i++)
		assert_true(s.o.sacks[i][0] == r + 2000 ||
			    s.o.sacks[i][0] == r + 3000);
	assert_true(s.o.sacks[1][0] != s.o.sacks[2][0]);
	/* the first hole fills: what is left beyond it */
	assert_true(peer_data_at(&f, 0, 1000, TCP_ACK));
	expect_one(&f, &s);
	assert_int_equal(s.ack, r + 1200);
	assert_int_equal(s.o.nr_sacks, 2);
	assert_int_equal(s.o.sacks[0][1] - s.o.sacks[0][0], 100);
	/* no blocks on data segments */
	send_bytes(&f, 10);
	expect_one(&f, &s);
	assert_int_equal(s.len, 10);
	assert_int_equal(s.o.nr_sacks, 0);
	fx_done(&f);
}

/* Four holes, at most 3 blocks: the RFC 2018 §4 SHOULD repeats the most
 * recently reported ones. */
static void test_sack_blocks_most_recent_first(void **state)
{
	struct fx f;
	struct th_seg s;
	uint32_t r;

	fx_passive(&f, TH_OFFER_ALL);
	r = f.p.seq;
	for (uint32_t i = 1; i <= 4; i++) {
		assert_true(peer_data_at(&f, 1000 * i, 100, TCP_ACK));
		expect_one(&f, &s);
	}
	assert_int_equal(s.o.nr_sacks, 3);
	assert_block(&s, 0, r + 4000, r + 4100);
	assert_block(&s, 1, r + 3000, r + 3100);
	assert_block(&s, 2, r + 2000, r + 2100);
	fx_done(&f);
}

/* The sender retransmits only what the receiver does not hold. */
static void test_sack_sender_retransmits_only_holes(void **state)
{
	struct fx f;
	struct th_seg s;
	struct th_pkt k;
	uint32_t seq[6], mss, end;
	unsigned resent[6] = { 0 };

	fx_passive(&f, TH_OFFER_MSS | TH_OFFER_SACK);
	assert_true(f.tp->sack_ok);
	mss = f.tp->mss;
	send_segments(&f, 6, seq);
	end = seq[5] + mss;
	peer_ack(&f, seq[1]); /* S1 and S3 are lost */
	for (int i = 0; i < 6; i++) {
		k = th_peer_pkt(&f.p, TCP_ACK, NULL, 0);
		k.o.nr_sacks = 2;
		k.o.sacks[0][0] = seq[2];
		k.o.sacks[0][1] = seq[3];
		k.o.sacks[1][0] = seq[4];
		k.o.sacks[1][1] = end;
		assert_true(th_inject(f.th, &k));
		while (th_pop(f.th, &s)) {
			assert_int_equal(s.len, mss);
			for (int j = 0; j < 6; j++)
				if (s.seq == seq[j])
					resent[j]++;
		}
		if (i == 2)
			assert_int_equal(resent[1], 1); /* the third dupack */
	}
	assert_int_equal(resent[1], 1);
	assert_int_equal(resent[3], 1);
	assert_int_equal(resent[0] + resent[2] + resent[4] + resent[5], 0);
	/* a partial ACK up to S3 (resent already): nothing */
	k = th_peer_pkt(&f.p, TCP_ACK, NULL, 0);
	k.ack = seq[3];
	k.o.nr_sacks = 1;
	k.o.sacks[0][0] = seq[4];
	k.o.sacks[0][1] = end;
	assert_true(th_inject(f.th, &k));
	expect_none(&f);
	peer_ack(&f, end);
	th_run(f.th, 5 * NSEC_PER_SEC);
	expect_none(&f);
	assert_int_equal(th_stat(f.th, "tcp.retransmits"), 2);
	fx_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_edge_kept_under_scaling),
		cmocka_unit_test(test_passive_synack_echoes_offer),
		cmocka_unit_test(test_passive_synack_without_offer),
		cmocka_unit_test(test_delayed_ack_for_one_segment),
		cmocka_unit_test(test_ack_every_second_segment),
		cmocka_unit_test(test_out_of_order_acked_at_once_and_hole_fill),
		cmocka_unit_test(test_handshake_ack_with_data),
		cmocka_unit_test(test_rst_in_syn_received),
		cmocka_unit_test(test_active_open_syn_options),
		cmocka_unit_test(test_active_open_no_ws_no_scaling),
		cmocka_unit_test(test_synack_window_not_scaled),
		cmocka_unit_test(test_synsent_rst_with_good_ack_refuses),
		cmocka_unit_test(test_synsent_rst_with_bad_ack_ignored),
		cmocka_unit_test(test_synsent_bad_ack_gets_rst),
		cmocka_unit_test(test_rst_at_rcv_nxt_resets),
		cmocka_unit_test(
			test_reset_connection_calls_return_negative_errno),
		cmocka_unit_test(test_rst_in_window_gets_challenge_ack),
		cmocka_unit_test(test_rst_out_of_window_ignored),
		cmocka_unit_test(test_syn_in_established_gets_challenge_ack),
		cmocka_unit_test(test_ack_of_unsent_data_dropped),
		cmocka_unit_test(test_old_segment_acked_not_delivered_twice),
		cmocka_unit_test(test_beyond_window_trimmed),
		cmocka_unit_test(test_zero_rcv_window_still_takes_acks),
		cmocka_unit_test(test_rto_initial_and_backoff),
		cmocka_unit_test(test_fast_retransmit_newreno),
		cmocka_unit_test(test_fast_retransmit_after_2gib_without_loss),
		cmocka_unit_test(test_zero_window_persist),
		cmocka_unit_test(test_nagle_holds_second_small_segment),
		cmocka_unit_test(test_nodelay_sends_at_once),
		cmocka_unit_test(test_passive_close),
		cmocka_unit_test(test_passive_close_by_tcp_close),
		cmocka_unit_test(test_active_close_fin_wait_time_wait),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_time_wait_new_syn_accepted),
		cmocka_unit_test(test_time_wait_reuse_keeps_user_socket),
		cmocka_unit_test(test_time_wait_reclaim_keeps_user_socket),
		cmocka_unit_test(test_listener_backlog_bounds_syn_queue),
		cmocka_unit_test(test_listener_ack_gets_rst_and_rst_ignored),
		cmocka_unit_test(test_no_socket_rst),
		cmocka_unit_test(test_no_socket_reserve_frame_gets_no_rst),
		cmocka_unit_test(test_malformed_options_drop_segment),
		cmocka_unit_test(test_unknown_options_skipped),
		cmocka_unit_test(test_window_scale_clamped_to_14),
		cmocka_unit_test(test_timestamps_echo_rules),
		cmocka_unit_test(test_unflagged_drops_reserve_segments),
		cmocka_unit_test(test_unflagged_no_new_window_under_pressure),
		cmocka_unit_test(test_flagged_keeps_reserve_data_and_acks),
		cmocka_unit_test(
			test_flagged_acks_with_spare_when_allocation_fails),
		cmocka_unit_test(test_sack_blocks_for_out_of_order_data),
		cmocka_unit_test(test_sack_blocks_most_recent_first),
		cmocka_unit_test(test_sack_sender_retransmits_only_holes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
