// SPDX-License-Identifier: MIT
/*
 * The stack on a simulated switch: ARP, ICMP echo, UDP, and the reserve
 * rules when memory is gone (flagged sockets keep talking through floods;
 * every dropped frame is counted).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "net_fixture.h"
#include "net/proto.h"

#define PAGES 512

/* ---- an echo server and a counting client ------------------------------ */

struct endpoint {
	struct sock *sk;
	unsigned got, bad;
	bool echo;
	char last[64];
};

static void ep_readable(struct sock *sk)
{
	struct endpoint *ep = sk->user;
	struct sock_addr from;
	char buf[2048];
	ssize_t n;

	while ((n = sock_recvfrom(sk, buf, sizeof(buf), &from)) >= 0) {
		ep->got++;
		memcpy(ep->last, buf, lb_min((size_t)n, sizeof(ep->last) - 1));
		ep->last[lb_min((size_t)n, sizeof(ep->last) - 1)] = 0;
		if (ep->echo)
			sock_sendto(sk, buf, (size_t)n, &from);
	}
}

static const struct sock_ops ep_ops = { .readable = ep_readable };

static struct endpoint *ep_new(struct nf_host *h, uint16_t port, bool echo)
{
	struct endpoint *ep = calloc(1, sizeof(*ep));

	ep->echo = echo;
	ep->sk = udp_socket(h->net, &ep_ops, ep);
	assert_non_null(ep->sk);
	assert_int_equal(sock_bind(ep->sk, 0, port), 0);
	return ep;
}

static void ep_free(struct endpoint *ep)
{
	sock_close(ep->sk);
	free(ep);
}

static void test_udp_echo_and_arp(void **state)
{
	struct nf *w = nf_new(NULL, 1);
	struct nf_host *a = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct nf_host *b = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct endpoint *srv = ep_new(b, 7, true), *cli = ep_new(a, 0, false);
	struct sock_addr to = { b->ip, 7 };
	char msg[32];

	/* Before resolution, only ARP_PENDING_PER_ENTRY frames may wait. */
	for (int i = 0; i < 10; i++) {
		snprintf(msg, sizeof(msg), "hello %d", i);
		assert_int_equal(sock_sendto(cli->sk, msg, strlen(msg), &to),
				 (ssize_t)strlen(msg));
	}
	nf_run_for(w, 10 * NSEC_PER_MSEC);
	assert_int_equal(srv->got, ARP_PENDING_PER_ENTRY);
	assert_int_equal(nf_stat(a, "net.arp_drop_pending_full"),
			 10 - ARP_PENDING_PER_ENTRY);
	assert_string_equal(srv->last, "hello 3");
	/* Resolved: everything flows. */
	for (int i = 0; i < 100; i++) {
		snprintf(msg, sizeof(msg), "hello %d", i);
		sock_sendto(cli->sk, msg, strlen(msg), &to);
	}
	nf_run_for(w, 10 * NSEC_PER_MSEC);
	assert_int_equal(srv->got, 100 + ARP_PENDING_PER_ENTRY);
	assert_int_equal(cli->got, 100 + ARP_PENDING_PER_ENTRY);
	assert_string_equal(cli->last, "hello 99");
	/* One resolution each way: A asked, B learned A from the request. */
	assert_int_equal(nf_stat(a, "net.arp_tx_request"), 1);
	assert_int_equal(nf_stat(b, "net.arp_tx_reply"), 1);
	assert_int_equal(nf_stat(b, "net.arp_tx_request"), 0);
	assert_non_null(arp_lookup(a->net, b->ip));
	/* A datagram to a closed port is counted, not answered. */
	to.port = 9;
	sock_sendto(cli->sk, "x", 1, &to);
	nf_run_for(w, NSEC_PER_MSEC);
	assert_int_equal(nf_stat(b, "net.udp_rx_no_port"), 1);
	ep_free(cli);
	ep_free(srv);
	nf_free(w);
}

/* Build and send an ICMP echo request from @a to @b's address. */
static void send_ping(struct nf_host *a, uint32_t dst, uint16_t seq)
{
	struct netbuf *nb = netbuf_alloc(a->net, 64, MM_ATOMIC, NULL);
	struct icmp_hdr *ic = (struct icmp_hdr *)netbuf_put(nb, 64);

	memset(ic, 0xab, 64);
	ic->type = ICMP_ECHO_REQUEST;
	ic->code = 0;
	ic->id = htons(77);
	ic->seq = htons(seq);
	ic->check = 0;
	ic->check = csum_fold(csum_partial(ic, 64, 0));
	ipv4_output(a->net, nb, 0, dst, IPPROTO_ICMP, 64);
}

static void test_icmp_echo(void **state)
{
	struct nf *w = nf_new(NULL, 2);
	struct nf_host *a = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct nf_host *b = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);

	send_ping(a, b->ip, 0);
	nf_run_for(w, 10 * NSEC_PER_MSEC);
	for (uint16_t i = 1; i < 5; i++)
		send_ping(a, b->ip, i);
	nf_run_for(w, 10 * NSEC_PER_MSEC);
	assert_int_equal(nf_stat(b, "net.icmp_echo_replies"), 5);
	assert_int_equal(nf_stat(a, "net.icmp_rx"), 5);
	assert_int_equal(nf_stat(a, "net.icmp_rx_bad"), 0);
	nf_free(w);
}

/* ---- memory exhaustion --------------------------------------------------- */

struct flood_world {
	struct nf *w;
	struct nf_host *a, *b, *c; /* a: storage peer, b: client, c: noise */
	struct endpoint *crit_b, *crit_a, *bulk_b, *noise_c;
	struct page **hold;
	size_t held;
};

static void flood_setup(struct flood_world *f, enum mm_policy policy,
			bool classify)
{
	struct sock_addr peer;

	f->w = nf_new(NULL, 3);
	f->a = nf_add_host(f->w, PAGES, MM_POLICY_ACCOUNTED);
	f->b = nf_add_host(f->w, PAGES, policy);
	f->c = nf_add_host(f->w, PAGES, MM_POLICY_ACCOUNTED);
	f->crit_a = ep_new(f->a, 5000, true);
	f->crit_b = ep_new(f->b, 6000, false);
	f->bulk_b = ep_new(f->b, 7000, false);
	f->noise_c = ep_new(f->c, 0, false);
	peer = (struct sock_addr){ f->a->ip, 5000 };
	assert_int_equal(sock_connect(f->crit_b->sk, &peer), 0);
	if (policy != MM_POLICY_NONE)
		assert_int_equal(sock_set_memalloc(f->crit_b->sk, 0, 0), 0);
	if (!classify)
		f->b->dev.nr_flows = 0;
	/* Resolve everything while memory is plentiful. */
	sock_sendto(f->crit_b->sk, "warm", 4, NULL);
	sock_sendto(f->noise_c->sk, "warm", 4,
		    &(struct sock_addr){ f->b->ip, 7000 });
	nf_run_for(f->w, 10 * NSEC_PER_MSEC);
	assert_int_equal(f->crit_b->got, 1);
	f->crit_b->got = 0;
	f->bulk_b->got = 0;
	f->hold = calloc(PAGES, sizeof(*f->hold));
	f->held = nf_exhaust(f->b, f->hold, PAGES);
	assert_int_equal(mm_normal_available(f->b->mm), 0);
}

static void flood_teardown(struct flood_world *f)
{
	nf_release(f->b, f->hold, &f->held, f->held);
	nf_release_objects(f->b);
	free(f->hold);
	ep_free(f->crit_a);
	ep_free(f->crit_b);
	ep_free(f->bulk_b);
	ep_free(f->noise_c);
	nf_free(f->w);
}

/* @rounds of: the client asks its peer, the noise host floods. */
static void flood_run(struct flood_world *f, int rounds, int flood_per_round)
{
	struct sock_addr bulk = { f->b->ip, 7000 };
	char junk[1000];

	memset(junk, 'n', sizeof(junk));
	for (int r = 0; r < rounds; r++) {
		char msg[32];

		snprintf(msg, sizeof(msg), "write %d", r);
		sock_sendto(f->crit_b->sk, msg, strlen(msg), NULL);
		for (int k = 0; k < flood_per_round; k++)
			sock_sendto(f->noise_c->sk, junk, sizeof(junk), &bulk);
		nf_run_for(f->w, 2 * NSEC_PER_MSEC);
	}
}

/*
 * With memory gone, a flood for an unflagged socket does not stop the
 * flagged socket's exchange, and every flood frame is accounted for.
 */
static void test_flood_does_not_stop_flagged_socket(void **state)
{
	struct flood_world f;
	int64_t flood, counted;

	flood_setup(&f, MM_POLICY_ACCOUNTED, false);
	flood_run(&f, 20, 30);
	assert_int_equal(f.crit_a->got, 20 + 1);
	assert_int_equal(f.crit_b->got, 20);
	assert_string_equal(f.crit_b->last, "write 19");
	assert_int_equal(f.bulk_b->got, 0);
	/* Replies came in through the reserve and were kept by the socket. */
	assert_true(nf_stat(f.b, "dev.sim1.rx_pfmemalloc") >= 20);
	/* Sends came from the socket's reserve. */
	assert_true(f.crit_b->sk->st.tx_from_reserve.v >= 20);
	flood = (int64_t)f.noise_c->sk->st.tx_datagrams.v - 1; /* warm-up */
	counted = nf_stat(f.b, "net.udp_drop_pfmemalloc") +
		  nf_stat(f.b, "dev.sim1.rx_drop_no_memory") +
		  nf_stat(f.b, "dev.sim1.rx_drop_early");
	assert_int_equal(flood, 20 * 30);
	assert_int_equal(counted, flood);
	assert_int_equal(nf_stat(f.b, "net.udp_drop_pfmemalloc"), flood);
	/* net.rx held one frame at a time: its computed size sufficed. */
	assert_int_equal(nf_stat(f.b, "dev.sim1.rx_drop_no_memory"), 0);
	assert_true(f.b->net->rsv_rx.hwm.v <= f.b->net->rsv_rx.size.v);
	mm_check(f.b->mm);
	flood_teardown(&f);
}

/* Policy none: no reserve; the same exchange starves (the deadlock). */
static void test_policy_none_starves(void **state)
{
	struct flood_world f;

	flood_setup(&f, MM_POLICY_NONE, false);
	flood_run(&f, 5, 10);
	assert_int_equal(f.crit_b->got, 0);
	assert_true(nf_stat(f.b, "dev.sim1.rx_drop_no_memory") > 0);
	assert_int_equal(nf_stat(f.b, "dev.sim1.rx_pfmemalloc"), 0);
	flood_teardown(&f);
}

/*
 * Early classification: with the critical flow known to the device, the
 * flood is dropped before it costs any reserve; without it, every flood
 * frame is first received into net.rx.
 */
static void test_early_classification_saves_reserve(void **state)
{
	struct flood_world with, without;
	int64_t charges_with, charges_without;

	flood_setup(&without, MM_POLICY_ACCOUNTED, false);
	flood_run(&without, 10, 20);
	charges_without = nf_stat(without.b, "mm.reserve.net.rx.charges");

	flood_setup(&with, MM_POLICY_ACCOUNTED, true);
	flood_run(&with, 10, 20);
	charges_with = nf_stat(with.b, "mm.reserve.net.rx.charges");

	assert_int_equal(with.crit_b->got, 10);
	assert_int_equal(without.crit_b->got, 10);
	assert_int_equal(nf_stat(with.b, "dev.sim1.rx_drop_early"), 200);
	assert_true(nf_stat(with.b, "dev.sim1.rx_reserve_bytes_saved") >=
		    200 * 1024);
	assert_int_equal(nf_stat(without.b, "dev.sim1.rx_drop_early"), 0);
	assert_true(charges_with < charges_without);
	print_message("net.rx charges under a 200-frame flood: %lld with the "
		      "classifier, %lld without\n",
		      (long long)charges_with, (long long)charges_without);
	flood_teardown(&with);
	flood_teardown(&without);
}

/* Unflagged sends get -ENOMEM and are woken when memory returns. */
static bool woke;

static void on_writable(struct sock *sk)
{
	woke = true;
}

static const struct sock_ops wr_ops = { .writable = on_writable };

static void test_send_memory_rules(void **state)
{
	struct flood_world f;
	struct sock *plain;

	flood_setup(&f, MM_POLICY_ACCOUNTED, false);
	plain = udp_socket(f.b->net, &wr_ops, NULL);
	/* No memory at all: even the socket struct cannot be had. */
	assert_null(plain);
	nf_release(f.b, f.hold, &f.held, 1);
	plain = udp_socket(f.b->net, &wr_ops, NULL);
	assert_non_null(plain);
	assert_int_equal(sock_sendto(plain, "x", 1,
				     &(struct sock_addr){ f.a->ip, 5000 }),
			 -ENOMEM);
	/* The flagged socket sends from its reserve. */
	assert_int_equal(sock_sendto(f.crit_b->sk, "y", 1, NULL), 1);
	assert_true(f.crit_b->sk->st.tx_from_reserve.v > 0);
	woke = false;
	sock_wait_memory(plain);
	nf_run_for(f.w, NSEC_PER_MSEC);
	assert_false(woke);
	nf_release(f.b, f.hold, &f.held, 8);
	nf_run_for(f.w, NSEC_PER_MSEC);
	assert_true(woke);
	assert_int_equal(sock_sendto(plain, "x", 1,
				     &(struct sock_addr){ f.a->ip, 5000 }),
			 1);
	sock_close(plain);
	flood_teardown(&f);
}

/* Clearing the flag while reserve memory is charged is refused. */
static void test_clear_memalloc_refused_while_charged(void **state)
{
	struct flood_world f;
	char buf[64];

	flood_setup(&f, MM_POLICY_ACCOUNTED, false);
	/* Leave the echo queued: no reader. */
	f.crit_b->sk->ops = NULL;
	flood_run(&f, 2, 0);
	assert_true(f.crit_b->sk->rxq_rsv.used.v > 0);
	assert_int_equal(sock_clear_memalloc(f.crit_b->sk), -EBUSY);
	assert_true(sock_memalloc(f.crit_b->sk));
	while (sock_recvfrom(f.crit_b->sk, buf, sizeof(buf), NULL) >= 0)
		;
	assert_int_equal(f.crit_b->sk->rxq_rsv.used.v, 0);
	assert_int_equal(sock_clear_memalloc(f.crit_b->sk), 0);
	assert_false(sock_memalloc(f.crit_b->sk));
	assert_null(mm_reserve_find(f.b->mm, "net.rxq.1"));
	f.crit_b->sk->ops = &ep_ops;
	flood_teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_echo_and_arp),
		cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_flood_does_not_stop_flagged_socket),
		cmocka_unit_test(test_policy_none_starves),
		cmocka_unit_test(test_early_classification_saves_reserve),
		cmocka_unit_test(test_send_memory_rules),
		cmocka_unit_test(test_clear_memalloc_refused_while_charged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
