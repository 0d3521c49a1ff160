// SPDX-License-Identifier: MIT
/*
 * Jumbo frames on the simulated wire: TCP between two lifeboat hosts at
 * MTU 1500, 4000 and 9000, every byte checked, with memory plentiful (no
 * frame may take the reserve path) and with the receiver's normal memory
 * gone (full-sized frames must still fit net.rx and the connection's own
 * reserve).  A frame larger than a page is received into a netbuf with
 * page fragments; before that existed, every frame over ~3.9 KB was
 * dropped as if memory were exhausted and a bulk transfer stalled.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "net_fixture.h"
#include "net/netbuf.h"
#include "net/tcp.h"

#define PAGES 4096

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

struct peer {
	struct tcp_sock *tp;
	uint64_t to_send, sent, received, bad;
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
}

static void drain(struct peer *p)
{
	uint8_t buf[16384];
	ssize_t n;

	while ((n = tcp_recv(p->tp, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(p->received + (uint64_t)i))
				p->bad++;
		p->received += (uint64_t)n;
	}
}

static void on_readable(struct sock *sk)
{
	drain(sk->user);
}

static void on_writable(struct sock *sk)
{
	pump(sk->user);
}

static const struct sock_ops peer_ops = { .readable = on_readable,
					  .writable = on_writable };

struct world {
	struct nf *w;
	struct nf_host *a, *b;
	struct tcp_sock *l;
	struct peer cli, srv;
};

static void on_accept(struct sock *sk)
{
	struct world *jw = sk->user;
	struct tcp_sock *c = tcp_accept(jw->l);

	if (!c)
		return;
	c->sk.ops = &peer_ops;
	c->sk.user = &jw->srv;
	jw->srv.tp = c;
	pump(&jw->srv);
	drain(&jw->srv);
}

static const struct sock_ops listen_ops = { .readable = on_accept };

static void world_up(struct world *jw, unsigned mtu, uint64_t seed)
{
	memset(jw, 0, sizeof(*jw));
	jw->w = nf_new(NULL, seed);
	jw->a = nf_add_host_mtu(jw->w, PAGES, MM_POLICY_ACCOUNTED, mtu);
	jw->b = nf_add_host_mtu(jw->w, PAGES, MM_POLICY_ACCOUNTED, mtu);
	jw->l = tcp_socket(jw->b->net, &listen_ops, jw);
	assert_int_equal(tcp_bind(jw->l, 0, 5001), 0);
	assert_int_equal(tcp_listen(jw->l, 4), 0);
	jw->cli.tp = tcp_socket(jw->a->net, &peer_ops, &jw->cli);
	assert_int_equal(tcp_connect(jw->cli.tp,
				     &(struct sock_addr){ jw->b->ip, 5001 }),
			 0);
	nf_run_for(jw->w, 10 * NSEC_PER_MSEC);
	assert_int_equal(jw->cli.tp->state, TCP_ESTABLISHED);
	assert_non_null(jw->srv.tp);
}

static void world_down(struct world *jw)
{
	tcp_abort(jw->cli.tp);
	tcp_abort(jw->srv.tp);
	tcp_close(jw->l);
	nf_run_for(jw->w, 2 * TCP_TIME_WAIT_NS);
	nf_free(jw->w);
}

static void run_until_done(struct world *jw)
{
	for (int i = 0; i < 600 && (jw->srv.received < jw->cli.to_send ||
				    jw->cli.received < jw->srv.to_send);
	     i++)
		nf_run_for(jw->w, 100 * NSEC_PER_MSEC);
}

static void assert_no_rx_drops(struct nf_host *h)
{
	assert_int_equal(h->dev.st.rx_drop_oversize.v, 0);
	assert_int_equal(h->dev.st.rx_drop_no_memory.v, 0);
	assert_int_equal(h->dev.st.rx_drop_early.v, 0);
}

/*
 * Memory plentiful: both ways at full size, no frame dropped, none taken
 * into the reserve, no retransmission, the MSS the MTU allows.
 */
static void test_tcp_at_each_mtu(void **state)
{
	static const unsigned mtus[] = { 1500, 4000, 9000 };

	for (size_t i = 0; i < ARRAY_SIZE(mtus); i++) {
		struct world jw;
		uint64_t big;

		world_up(&jw, mtus[i], 40 + i);
		/* IPv4 and TCP headers, and the timestamp option */
		assert_int_equal(jw.cli.tp->mss, mtus[i] - 40 - 12);
		assert_int_equal(jw.srv.tp->mss, mtus[i] - 40 - 12);
		jw.cli.to_send = 4 << 20;
		jw.srv.to_send = 2 << 20;
		pump(&jw.cli);
		pump(&jw.srv);
		run_until_done(&jw);
		print_message("mtu %u: %llu and %llu bytes, %lld frames in\n",
			      mtus[i], (unsigned long long)jw.srv.received,
			      (unsigned long long)jw.cli.received,
			      (long long)jw.b->dev.st.rx_frames.v);
		assert_int_equal(jw.srv.received, jw.cli.to_send);
		assert_int_equal(jw.cli.received, jw.srv.to_send);
		assert_int_equal(jw.srv.bad + jw.cli.bad, 0);
		assert_no_rx_drops(jw.a);
		assert_no_rx_drops(jw.b);
		assert_int_equal(jw.a->dev.st.rx_pfmemalloc.v, 0);
		assert_int_equal(jw.b->dev.st.rx_pfmemalloc.v, 0);
		assert_int_equal(nf_stat(jw.a, "tcp.retransmits"), 0);
		assert_int_equal(nf_stat(jw.b, "tcp.retransmits"), 0);
		/* full-sized frames went through: fewer than one per 1448 */
		big = (uint64_t)jw.b->dev.st.rx_frames.v;
		if (mtus[i] > 1500)
			assert_true(big < (4u << 20) / 1448);
		world_down(&jw);
	}
}

/*
 * The receiver's normal memory is gone: every frame goes through net.rx
 * and a flagged connection's reserve, which must be sized for a frame of
 * the wire's MTU (several pages at 9000).
 */
static void test_tcp_jumbo_from_the_reserve(void **state)
{
	struct page **hold = calloc(PAGES, sizeof(*hold));
	struct world jw;
	size_t held;

	world_up(&jw, 9000, 7);
	/* net.rx holds one maximal frame: descriptor, buffer, fragments */
	assert_true((size_t)jw.b->net->rsv_rx.size.v >=
		    netbuf_frame_pages(9000 + ETH_HLEN));
	assert_true(netbuf_frame_pages(9000 + ETH_HLEN) > 2);
	jw.srv.tp->rcvbuf = 64 * 1024;
	assert_int_equal(tcp_set_memalloc(jw.srv.tp), 0);
	held = nf_exhaust(jw.b, hold, PAGES);
	assert_int_equal(mm_normal_available(jw.b->mm), 0);
	jw.cli.to_send = 2 << 20;
	jw.srv.to_send = 1 << 20;
	pump(&jw.cli);
	pump(&jw.srv);
	run_until_done(&jw);
	print_message("from the reserve: net.rx hwm %lld/%lld, rxq %lld/%lld\n",
		      (long long)jw.b->net->rsv_rx.hwm.v,
		      (long long)jw.b->net->rsv_rx.size.v,
		      (long long)jw.srv.tp->sk.rxq_rsv.hwm.v,
		      (long long)jw.srv.tp->sk.rxq_rsv.size.v);
	assert_int_equal(jw.srv.received, jw.cli.to_send);
	assert_int_equal(jw.cli.received, jw.srv.to_send);
	assert_int_equal(jw.srv.bad + jw.cli.bad, 0);
	assert_true(jw.b->dev.st.rx_pfmemalloc.v > 0);
	assert_int_equal(jw.b->dev.st.rx_drop_no_memory.v, 0);
	assert_int_equal(jw.b->dev.st.rx_drop_oversize.v, 0);
	assert_true(jw.b->net->rsv_rx.hwm.v <= jw.b->net->rsv_rx.size.v);
	assert_true(jw.srv.tp->sk.rxq_rsv.hwm.v <=
		    jw.srv.tp->sk.rxq_rsv.size.v);
	nf_release(jw.b, hold, &held, held);
	nf_release_objects(jw.b);
	free(hold);
	world_down(&jw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_at_each_mtu),
		cmocka_unit_test(test_tcp_jumbo_from_the_reserve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
