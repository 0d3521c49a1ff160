// SPDX-License-Identifier: MIT
/*
 * TCP between two lifeboat hosts on the simulated switch: handshake,
 * transfers verified byte for byte across loss, duplication, reordering
 * and corruption, closing from either side, half-close, refused
 * connections, a zero window, and a memory-critical connection that keeps
 * flowing beside an unflagged receiver that never reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "net_fixture.h"
#include "net/tcp.h"

#define PAGES 4096

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

struct peer {
	struct tcp_sock *tp;
	uint64_t to_send, sent, received, bad;
	bool eof, err_seen, reading, shut_when_done;
	int err;
};

static void pump(struct peer *p)
{
	uint8_t buf[16384];

	while (p->tp && p->sent < p->to_send) {
		size_t n = (size_t)lb_min((uint64_t)sizeof(buf),
					  p->to_send - p->sent);
		ssize_t r;

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(p->sent + i);
		r = tcp_send(p->tp, buf, n);
		if (r <= 0)
			break;
		p->sent += (uint64_t)r;
	}
	if (p->tp && p->shut_when_done && p->sent == p->to_send)
		tcp_shutdown(p->tp);
}

static void drain(struct peer *p)
{
	uint8_t buf[16384];
	ssize_t n;

	if (!p->reading)
		return;
	while ((n = tcp_recv(p->tp, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(p->received + (uint64_t)i))
				p->bad++;
		p->received += (uint64_t)n;
	}
	if (n == 0)
		p->eof = true;
}

static void on_readable(struct sock *sk)
{
	drain(sk->user);
}

static void on_writable(struct sock *sk)
{
	pump(sk->user);
}

static void on_error(struct sock *sk, int err)
{
	struct peer *p = sk->user;

	p->err_seen = true;
	p->err = err;
}

static const struct sock_ops peer_ops = { on_readable, on_writable, on_error };

/* The listener hands its first connection to @server_peer. */
struct server {
	struct tcp_sock *l;
	struct peer *peer;
};

static void on_accept(struct sock *sk)
{
	struct server *s = sk->user;
	struct tcp_sock *c = tcp_accept(s->l);

	if (!c)
		return;
	c->sk.ops = &peer_ops;
	c->sk.user = s->peer;
	s->peer->tp = c;
	pump(s->peer);
	drain(s->peer);
}

static const struct sock_ops listen_ops = { .readable = on_accept };

struct pair_world {
	struct nf *w;
	struct nf_host *a, *b;
	struct server srv;
	struct peer cli, sp;
};

static void world(struct pair_world *pw, const struct sim_link_config *lc,
		  uint64_t seed, enum mm_policy policy)
{
	memset(pw, 0, sizeof(*pw));
	pw->w = nf_new(lc, seed);
	pw->a = nf_add_host(pw->w, PAGES, policy);
	pw->b = nf_add_host(pw->w, PAGES, policy);
	pw->srv.peer = &pw->sp;
	pw->srv.l = tcp_socket(pw->b->net, &listen_ops, &pw->srv);
	assert_int_equal(tcp_bind(pw->srv.l, 0, 5001), 0);
	assert_int_equal(tcp_listen(pw->srv.l, 8), 0);
	pw->cli.tp = tcp_socket(pw->a->net, &peer_ops, &pw->cli);
	pw->cli.reading = pw->sp.reading = true;
}

static void world_free(struct pair_world *pw)
{
	if (pw->cli.tp)
		tcp_abort(pw->cli.tp);
	if (pw->sp.tp)
		tcp_abort(pw->sp.tp);
	tcp_close(pw->srv.l);
	/* let TIME-WAIT and retransmissions settle before the checks */
	nf_run_for(pw->w, 2 * TCP_TIME_WAIT_NS);
	nf_free(pw->w);
}

static void connect_and_run(struct pair_world *pw, uint64_t ns)
{
	assert_int_equal(tcp_connect(pw->cli.tp,
				     &(struct sock_addr){ pw->b->ip, 5001 }),
			 0);
	nf_run_for(pw->w, ns);
}

static void test_handshake_and_transfer_both_ways(void **state)
{
	struct pair_world pw;

	world(&pw, NULL, 1, MM_POLICY_ACCOUNTED);
	pw.cli.to_send = 1 << 20;
	pw.sp.to_send = 300000;
	connect_and_run(&pw, 10 * NSEC_PER_MSEC);
	assert_int_equal(pw.cli.tp->state, TCP_ESTABLISHED);
	assert_non_null(pw.sp.tp);
	assert_int_equal(pw.sp.tp->state, TCP_ESTABLISHED);
	/* window scaling and timestamps were negotiated */
	assert_true(pw.cli.tp->ws_ok && pw.cli.tp->ts_ok && pw.cli.tp->sack_ok);
	assert_true(pw.sp.tp->ws_ok && pw.sp.tp->ts_ok && pw.sp.tp->sack_ok);
	assert_int_equal(pw.cli.tp->mss, 1460 - 12); /* timestamps */
	pump(&pw.cli);
	pump(&pw.sp);
	nf_run_for(pw.w, 2 * NSEC_PER_SEC);
	assert_int_equal(pw.sp.received, 1 << 20);
	assert_int_equal(pw.cli.received, 300000);
	assert_int_equal(pw.sp.bad + pw.cli.bad, 0);
	assert_int_equal(nf_stat(pw.a, "tcp.retransmits"), 0);
	world_free(&pw);
}

/* Transfer @bytes over a link with @lc; every byte checked. */
/*
 * Returns the bytes the receiver got and checked; asserts that the link
 * really did inflict each fault the case asks for, so a case whose fault
 * never happened cannot pass as having survived it.
 */
static uint64_t lossy_transfer(const struct sim_link_config *lc, uint64_t seed,
			       uint64_t bytes)
{
	struct pair_world pw;
	const struct sim_link_stats *ls;
	uint64_t got;

	world(&pw, lc, seed, MM_POLICY_ACCOUNTED);
	pw.cli.to_send = bytes;
	pw.cli.shut_when_done = true;
	connect_and_run(&pw, 50 * NSEC_PER_MSEC);
	pump(&pw.cli);
	for (int i = 0; i < 6000 && !pw.sp.eof; i++)
		nf_run_for(pw.w, 100 * NSEC_PER_MSEC);
	print_message(
		"loss %.2f dup %.2f reorder %.2f corrupt %.3f: %llu bytes, "
		"%lld retransmits, %lld fast, %lld timeouts\n",
		lc->loss, lc->dup, lc->reorder, lc->corrupt,
		(unsigned long long)pw.sp.received,
		(long long)nf_stat(pw.a, "tcp.retransmits"),
		(long long)nf_stat(pw.a, "tcp.fast_retransmits"),
		(long long)nf_stat(pw.a, "tcp.rto_expired"));
	assert_true(pw.sp.eof);
	assert_int_equal(pw.sp.received, bytes);
	assert_int_equal(pw.sp.bad, 0);
	ls = &pw.w->link.st;
	if (lc->loss > 0) {
		assert_true(ls->lost.v > 0);
		assert_true(nf_stat(pw.a, "tcp.retransmits") > 0);
	}
	if (lc->dup > 0)
		assert_true(ls->duplicated.v > 0);
	if (lc->reorder > 0)
		assert_true(ls->reordered.v > 0);
	if (lc->corrupt > 0) {
		assert_true(ls->corrupted.v > 0);
		assert_true(nf_stat(pw.a, "net.ip_rx_bad_csum") +
				    nf_stat(pw.b, "net.ip_rx_bad_csum") +
				    nf_stat(pw.a, "tcp.rx_bad_csum") +
				    nf_stat(pw.b, "tcp.rx_bad_csum") >
			    0);
	}
	got = pw.sp.bad ? 0 : pw.sp.received;
	world_free(&pw);
	return got;
}

static void test_transfers_across_faults(void **state)
{
	static const struct sim_link_config cases[] = {
		{ .latency_ns = 200 * NSEC_PER_USEC },
		{ .latency_ns = 200 * NSEC_PER_USEC, .loss = 0.01 },
		{ .latency_ns = 200 * NSEC_PER_USEC, .loss = 0.05 },
		{ .latency_ns = 200 * NSEC_PER_USEC, .loss = 0.10 },
		{ .latency_ns = 200 * NSEC_PER_USEC, .dup = 0.05 },
		{ .latency_ns = 200 * NSEC_PER_USEC, .reorder = 0.05 },
		{ .latency_ns = 200 * NSEC_PER_USEC, .corrupt = 0.02 },
		{ .latency_ns = 200 * NSEC_PER_USEC,
		  .loss = 0.02,
		  .dup = 0.02,
		  .reorder = 0.02,
		  .corrupt = 0.01 },
	};
	uint64_t total = 0, each = 8 << 20;

	/* the sum of what arrived intact, not of what was asked for */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		total += lossy_transfer(&cases[i], 10 + i, each);
	assert_int_equal(total, ARRAY_SIZE(cases) * each);
	assert_int_equal(total, 64 << 20);
}

static void test_refused_and_reset(void **state)
{
	struct pair_world pw;

	world(&pw, NULL, 2, MM_POLICY_ACCOUNTED);
	assert_int_equal(tcp_connect(pw.cli.tp,
				     &(struct sock_addr){ pw.b->ip, 5999 }),
			 0);
	nf_run_for(pw.w, 10 * NSEC_PER_MSEC);
	assert_true(pw.cli.err_seen);
	assert_int_equal(pw.cli.err, ECONNREFUSED);
	assert_int_equal(pw.cli.tp->state, TCP_CLOSED);
	assert_int_equal(nf_stat(pw.b, "tcp.rst_sent"), 1);
	tcp_close(pw.cli.tp);
	pw.cli.tp = NULL;
	world_free(&pw);
}

static void test_close_and_half_close(void **state)
{
	struct pair_world pw;

	world(&pw, NULL, 3, MM_POLICY_ACCOUNTED);
	connect_and_run(&pw, 10 * NSEC_PER_MSEC);
	/* client half-closes; the server can still send */
	assert_int_equal(tcp_shutdown(pw.cli.tp), 0);
	nf_run_for(pw.w, 10 * NSEC_PER_MSEC);
	assert_true(pw.sp.eof);
	assert_int_equal(pw.sp.tp->state, TCP_CLOSE_WAIT);
	assert_int_equal(pw.cli.tp->state, TCP_FIN_WAIT_2);
	pw.sp.to_send = 100000;
	pump(&pw.sp);
	nf_run_for(pw.w, 100 * NSEC_PER_MSEC);
	assert_int_equal(pw.cli.received, 100000);
	/* then the server closes: client in TIME-WAIT, server gone */
	tcp_close(pw.sp.tp);
	pw.sp.tp = NULL;
	nf_run_for(pw.w, 10 * NSEC_PER_MSEC);
	assert_true(pw.cli.eof);
	assert_int_equal(pw.cli.tp->state, TCP_TIME_WAIT);
	nf_run_for(pw.w, TCP_TIME_WAIT_NS + NSEC_PER_SEC);
	assert_int_equal(pw.cli.tp->state, TCP_CLOSED);
	tcp_close(pw.cli.tp);
	pw.cli.tp = NULL;
	world_free(&pw);
}

/* A receiver that stops reading: zero window, probes, then it resumes. */
static void test_zero_window(void **state)
{
	struct pair_world pw;

	world(&pw, NULL, 4, MM_POLICY_ACCOUNTED);
	pw.sp.reading = false;
	connect_and_run(&pw, 10 * NSEC_PER_MSEC);
	pw.cli.to_send = 4 << 20;
	pump(&pw.cli);
	nf_run_for(pw.w, 5 * NSEC_PER_SEC);
	assert_int_equal(tcp_recv_ready(pw.sp.tp), TCP_RCVBUF_DEFAULT);
	assert_int_equal(pw.cli.tp->snd_wnd, 0);
	assert_true(nf_stat(pw.a, "tcp.persist_probes") > 0);
	assert_int_equal(pw.cli.tp->state, TCP_ESTABLISHED);
	pw.sp.reading = true;
	drain(&pw.sp);
	for (int i = 0; i < 200 && pw.sp.received < pw.cli.to_send; i++)
		nf_run_for(pw.w, 100 * NSEC_PER_MSEC);
	assert_int_equal(pw.sp.received, 4 << 20);
	assert_int_equal(pw.sp.bad, 0);
	world_free(&pw);
}

/*
 * Memory pressure: host B's normal memory is gone.  A flagged connection
 * keeps flowing on its reserves while an unflagged connection whose
 * receiver never reads sits beside it.
 */
static void test_flagged_connection_flows_under_pressure(void **state)
{
	struct pair_world pw;
	struct peer bulk_c = { 0 }, bulk_s = { 0 };
	struct server bulk_srv = { .peer = &bulk_s };
	struct page **hold = calloc(PAGES, sizeof(*hold));
	size_t held, bulk_before;
	int64_t dropped;

	world(&pw, NULL, 5, MM_POLICY_ACCOUNTED);
	bulk_srv.l = tcp_socket(pw.b->net, &listen_ops, &bulk_srv);
	tcp_bind(bulk_srv.l, 0, 6001);
	tcp_listen(bulk_srv.l, 4);
	bulk_c.tp = tcp_socket(pw.a->net, &peer_ops, &bulk_c);
	tcp_connect(bulk_c.tp, &(struct sock_addr){ pw.b->ip, 6001 });
	connect_and_run(&pw, 10 * NSEC_PER_MSEC);
	assert_non_null(bulk_s.tp);
	/* the storage connection on B is flagged, with a 64 KiB window */
	pw.sp.tp->rcvbuf = 64 * 1024;
	assert_int_equal(tcp_set_memalloc(pw.sp.tp), 0);
	held = nf_exhaust(pw.b, hold, PAGES);
	bulk_before = tcp_recv_ready(bulk_s.tp);
	assert_int_equal(mm_normal_available(pw.b->mm), 0);
	bulk_c.to_send = 8 << 20; /* never read on B */
	pump(&bulk_c);
	pw.cli.to_send = 2 << 20;
	pump(&pw.cli);
	pw.sp.to_send = 1 << 20;
	pump(&pw.sp);
	for (int i = 0; i < 600 && (pw.sp.received < pw.cli.to_send ||
				    pw.cli.received < pw.sp.to_send);
	     i++)
		nf_run_for(pw.w, 100 * NSEC_PER_MSEC);
	assert_int_equal(pw.sp.received, 2 << 20);
	assert_int_equal(pw.cli.received, 1 << 20);
	assert_int_equal(pw.sp.bad + pw.cli.bad, 0);
	/* the reserves were used, within their sizes */
	assert_true(pw.b->dev.st.rx_pfmemalloc.v > 0);
	assert_true(pw.sp.tp->sk.rxq_rsv.hwm.v > 0);
	assert_true(pw.sp.tp->sk.rxq_rsv.hwm.v <= pw.sp.tp->sk.rxq_rsv.size.v);
	assert_true(pw.sp.tp->sk.tx_rsv.hwm.v <= pw.sp.tp->sk.tx_rsv.size.v);
	/*
	 * the unflagged receiver got nothing while memory was gone: its
	 * segments were dropped by the classifier or after the lookup
	 */
	assert_int_equal(tcp_recv_ready(bulk_s.tp), bulk_before);
	dropped = nf_stat(pw.b, "tcp.rx_drop_pfmemalloc") +
		  pw.b->dev.st.rx_drop_early.v;
	assert_true(dropped > 0);
	print_message(
		"under pressure: rxq reserve %lld/%lld pages, tx %lld/%lld, "
		"%lld unflagged segments dropped\n",
		(long long)pw.sp.tp->sk.rxq_rsv.hwm.v,
		(long long)pw.sp.tp->sk.rxq_rsv.size.v,
		(long long)pw.sp.tp->sk.tx_rsv.hwm.v,
		(long long)pw.sp.tp->sk.tx_rsv.size.v, (long long)dropped);
	nf_release(pw.b, hold, &held, held);
	nf_release_objects(pw.b);
	free(hold);
	tcp_abort(bulk_c.tp);
	tcp_abort(bulk_s.tp);
	tcp_close(bulk_srv.l);
	world_free(&pw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_transfer_both_ways),
		cmocka_unit_test(test_refused_and_reset),
		cmocka_unit_test(test_close_and_half_close),
		cmocka_unit_test(test_zero_window),
		cmocka_unit_test(test_flagged_connection_flows_under_pressure),
		cmocka_unit_test(test_transfers_across_faults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
