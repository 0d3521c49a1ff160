// SPDX-License-Identifier: MIT
/*
 * ARP: the bounds of the pending queue, giving up on unresolved entries,
 * eviction from a full table (never of a pinned entry), malformed input,
 * refreshes, and answering requests that arrive in reserve memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "net_fixture.h"
#include "net/proto.h"

#define PAGES 512
/* arp.c: an entry is asked for once, then ARP_MAX_RETRIES more times. */
#define ARP_MAX_RETRIES 3

/* 192.0.2.@n, network order: on-link, no host there unless n <= hosts. */
static uint32_t onlink(unsigned n)
{
	return htonl(0xc0000200u + n);
}

static void send_to(struct sock *sk, uint32_t ip)
{
	assert_int_equal(sock_sendto(sk, "x", 1, &(struct sock_addr){ ip, 9 }),
			 1);
}

static const struct arp_entry *entry(struct nf_host *h, uint32_t ip)
{
	return arp_lookup(h->net, ip);
}

/* ---- counters ------------------------------------------------------------ */

/* nf_snap() and nf_expect_moved() (net_fixture.h) check exactly which moved */

/* An ARP frame to @to (Ethernet destination @dst) in @buf. */
static size_t mk_arp(uint8_t *buf, const uint8_t *dst, const uint8_t *sha,
		     uint16_t op, uint32_t spa, const uint8_t *tha,
		     uint32_t tpa)
{
	struct eth_hdr *eh = (struct eth_hdr *)buf;
	struct arp_hdr *a = (struct arp_hdr *)(buf + ETH_HLEN);

	memcpy(eh->dst, dst, ETH_ALEN);
	memcpy(eh->src, sha, ETH_ALEN);
	eh->type = htons(ETH_P_ARP);
	a->hrd = htons(ARP_HRD_ETHER);
	a->pro = htons(ETH_P_IP);
	a->hln = ETH_ALEN;
	a->pln = 4;
	a->op = htons(op);
	memcpy(a->sha, sha, ETH_ALEN);
	a->spa = spa;
	memcpy(a->tha, tha, ETH_ALEN);
	a->tpa = tpa;
	return ETH_HLEN + sizeof(*a);
}

static void inject(struct nf_host *h, const uint8_t *frame, size_t len, bool pf)
{
	struct netbuf *nb =
		netbuf_alloc(h->net, (uint32_t)len, MM_ATOMIC, NULL);

	assert_non_null(nb);
	memcpy(netbuf_put(nb, (uint32_t)len), frame, len);
	nb->dev = &h->dev;
	nb->pfmemalloc = pf;
	eth_rcv(&h->dev, nb);
}

static const uint8_t zero_mac[ETH_ALEN];

static void tick(struct timer *t)
{
}

/*
 * Move the clock @ns forward even when nothing is scheduled (an idle
 * virtual loop does not advance by itself).
 */
static void pass_time(struct nf *w, uint64_t ns)
{
	struct timer t;

	timer_init(&t, tick);
	timer_arm(&w->loop, &t, loop_now(&w->loop) + ns);
	nf_run_for(w, ns);
	assert_false(timer_armed(&t));
}

/* ---- pending queue and giving up ---------------------------------------- */

/*
 * Frames waiting for resolution: ARP_PENDING_PER_ENTRY per entry and
 * ARP_PENDING_MAX in all; the rest are dropped and counted.  With nobody
 * answering, an entry is asked for 1 + ARP_MAX_RETRIES times, a second
 * apart, then freed with its frames.
 */
static void test_pending_bounds_and_unresolved(void **state)
{
	struct nf *w = nf_new(NULL, 1);
	struct nf_host *a = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct sock *sk = udp_socket(a->net, NULL, NULL);
	unsigned per_dest = ARP_PENDING_PER_ENTRY + 2, nr_dest, sent = 0;
	int64_t netbufs;

	assert_non_null(sk);
	netbufs = nf_stat(a, "slab.netbuf.objects");
	/* Enough destinations to pass the total bound, plus one. */
	nr_dest = ARP_PENDING_MAX / ARP_PENDING_PER_ENTRY + 1;
	for (unsigned d = 0; d < nr_dest; d++)
		for (unsigned k = 0; k < per_dest; k++, sent++)
			send_to(sk, onlink(100 + d));
	assert_int_equal(a->net->arp_pending_total, ARP_PENDING_MAX);
	for (unsigned d = 0; d < nr_dest; d++) {
		const struct arp_entry *e = entry(a, onlink(100 + d));

		assert_non_null(e);
		assert_int_equal(e->state, ARP_INCOMPLETE);
		assert_int_equal(e->nr_pending,
				 d < nr_dest - 1 ? ARP_PENDING_PER_ENTRY : 0);
	}
	assert_int_equal(nf_stat(a, "net.arp_drop_pending_full"),
			 sent - ARP_PENDING_MAX);
	assert_int_equal(nf_stat(a, "slab.netbuf.objects"),
			 netbufs + ARP_PENDING_MAX);
	assert_int_equal(nf_stat(a, "net.arp_tx_request"), nr_dest);

	/* Just before giving up: every entry asked 1 + retries times. */
	nf_run_for(w, ARP_MAX_RETRIES * NSEC_PER_SEC + NSEC_PER_SEC / 2);
	assert_int_equal(nf_stat(a, "net.arp_tx_request"),
			 nr_dest * (1 + ARP_MAX_RETRIES));
	assert_int_equal(nf_stat(a, "net.arp_drop_unresolved"), 0);
	assert_non_null(entry(a, onlink(100)));
	/* The next retry is one too many: the entries and frames go. */
	nf_run_for(w, NSEC_PER_SEC);
	assert_int_equal(nf_stat(a, "net.arp_tx_request"),
			 nr_dest * (1 + ARP_MAX_RETRIES));
	assert_int_equal(nf_stat(a, "net.arp_drop_unresolved"),
			 ARP_PENDING_MAX);
	assert_int_equal(a->net->arp_pending_total, 0);
	for (unsigned d = 0; d < nr_dest; d++)
		assert_null(entry(a, onlink(100 + d)));
	assert_int_equal(nf_stat(a, "slab.netbuf.objects"), netbufs);
	/* Nothing left to resolve: the timer is idle. */
	assert_false(timer_armed(&a->net->arp_timer));
	pass_time(w, 10 * NSEC_PER_SEC);
	assert_int_equal(nf_stat(a, "net.arp_tx_request"),
			 nr_dest * (1 + ARP_MAX_RETRIES));
	mm_check(a->mm);
	sock_close(sk);
	nf_free(w);
}

/* A pinned entry nobody answers is asked for forever; its queue is not. */
static void test_pinned_unresolved_keeps_asking(void **state)
{
	struct nf *w = nf_new(NULL, 2);
	struct nf_host *a = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct sock *sk = udp_socket(a->net, NULL, NULL);

	assert_int_equal(arp_set_critical(a->net, onlink(50), true), 0);
	send_to(sk, onlink(50));
	nf_run_for(w, 10 * NSEC_PER_SEC + NSEC_PER_SEC / 2);
	assert_non_null(entry(a, onlink(50)));
	assert_int_equal(entry(a, onlink(50))->nr_pending, 0);
	assert_int_equal(nf_stat(a, "net.arp_drop_unresolved"), 1);
	assert_int_equal(nf_stat(a, "net.arp_tx_request"), 11);
	assert_int_equal(arp_set_critical(a->net, onlink(50), false), 0);
	nf_run_for(w, 2 * NSEC_PER_SEC);
	assert_null(entry(a, onlink(50)));
	sock_close(sk);
	nf_free(w);
}

/* ---- eviction ------------------------------------------------------------- */

/*
 * A full table gives way: the oldest entry that is neither pinned nor
 * holding frames is evicted, oldest first, never a pinned one.
 */
static void test_eviction_oldest_never_pinned(void **state)
{
	struct nf *w = nf_new(NULL, 3);
	struct nf_host *a = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct sock *sk = udp_socket(a->net, NULL, NULL);
	const unsigned first = 10, extra = 5;
	unsigned n = 0;

	/* The oldest entry of all is pinned. */
	assert_int_equal(arp_set_critical(a->net, onlink(first - 1), true), 0);
	nf_run_for(w, NSEC_PER_MSEC);
	/* Fill the table, one entry a millisecond (all within a retry). */
	for (n = 0; n < ARP_TABLE_SIZE - 1; n++) {
		send_to(sk, onlink(first + n));
		nf_run_for(w, NSEC_PER_MSEC);
	}
	assert_int_equal(nf_stat(a, "net.arp_evictions"), 0);
	/* The first ARP_PENDING_MAX hold frames; the rest hold none. */
	assert_int_equal(a->net->arp_pending_total, ARP_PENDING_MAX);
	for (unsigned k = 0; k < extra; k++, n++) {
		send_to(sk, onlink(first + n));
		nf_run_for(w, NSEC_PER_MSEC);
		assert_int_equal(nf_stat(a, "net.arp_evictions"), k + 1);
		/* Victims in age order, past the ones holding frames. */
		assert_null(entry(a, onlink(first + ARP_PENDING_MAX + k)));
		assert_non_null(entry(a, onlink(first + n)));
	}
	assert_non_null(entry(a, onlink(first - 1)));
	assert_true(entry(a, onlink(first - 1))->critical);
	for (unsigned k = 0; k < ARP_PENDING_MAX; k++)
		assert_int_equal(entry(a, onlink(first + k))->nr_pending, 1);
	assert_non_null(entry(a, onlink(first + ARP_PENDING_MAX + extra)));
	assert_int_equal(nf_stat(a, "net.arp_table_full"), 0);
	mm_check(a->mm);
	sock_close(sk);
	nf_free(w);
}

/* A table of pinned entries evicts nothing: new peers are refused. */
static void test_table_of_pinned_entries_is_full(void **state)
{
	struct nf *w = nf_new(NULL, 4);
	struct nf_host *a = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct sock *sk = udp_socket(a->net, NULL, NULL);

	for (unsigned n = 0; n < ARP_TABLE_SIZE; n++)
		assert_int_equal(arp_set_critical(a->net, onlink(10 + n), true),
				 0);
	assert_int_equal(arp_set_critical(a->net, onlink(200), true), -ENOBUFS);
	assert_int_equal(nf_stat(a, "net.arp_table_full"), 1);
	send_to(sk, onlink(201));
	assert_int_equal(nf_stat(a, "net.arp_table_full"), 2);
	assert_int_equal(nf_stat(a, "net.arp_drop_pending_full"), 1);
	assert_int_equal(nf_stat(a, "net.arp_evictions"), 0);
	assert_null(entry(a, onlink(201)));
	for (unsigned n = 0; n < ARP_TABLE_SIZE; n++)
		assert_non_null(entry(a, onlink(10 + n)));
	/* An unpinned entry is evictable again. */
	assert_int_equal(arp_set_critical(a->net, onlink(10), false), 0);
	send_to(sk, onlink(201));
	assert_int_equal(nf_stat(a, "net.arp_evictions"), 1);
	assert_null(entry(a, onlink(10)));
	assert_non_null(entry(a, onlink(201)));
	sock_close(sk);
	nf_free(w);
}

/* ---- input ---------------------------------------------------------------- */

static void test_malformed(void **state)
{
	struct nf *w = nf_new(NULL, 5);
	struct nf_host *a = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct nf_host *b = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	uint64_t before[NF_NET_STATS];
	struct arp_hdr *ah;
	uint8_t f[64];
	size_t n;

#define FRESH()                                                          \
	(n = mk_arp(f, eth_broadcast, a->dev.mac, ARP_OP_REQUEST, a->ip, \
		    zero_mac, b->ip),                                    \
	 ah = (struct arp_hdr *)(f + ETH_HLEN))
#define CASE(what, ...)                                                   \
	do {                                                              \
		static const char *const moved[] = { __VA_ARGS__, NULL }; \
		nf_snap(b, before);                                       \
		inject(b, f, n, false);                                   \
		nf_expect_moved(b, before, moved, what);                  \
	} while (0)

	FRESH();
	n = ETH_HLEN + sizeof(*ah) - 1;
	CASE("short", "arp_rx", "arp_rx_bad");
	FRESH();
	ah->hrd = htons(6);
	CASE("hrd", "arp_rx", "arp_rx_bad");
	FRESH();
	ah->pro = htons(0x86dd);
	CASE("pro", "arp_rx", "arp_rx_bad");
	FRESH();
	ah->hln = 8;
	CASE("hln", "arp_rx", "arp_rx_bad");
	FRESH();
	ah->pln = 16;
	CASE("pln", "arp_rx", "arp_rx_bad");
	FRESH();
	ah->sha[0] |= 1;
	CASE("multicast sender", "arp_rx", "arp_rx_bad");
	assert_null(entry(b, a->ip));
	/* A request for someone else teaches nothing and is not answered. */
	FRESH();
	ah->tpa = onlink(77);
	CASE("not for us", "arp_rx");
	assert_null(entry(b, a->ip));
	/* The control: a good request is answered and its sender learned. */
	FRESH();
	CASE("good", "arp_rx", "arp_tx_reply");
	assert_non_null(entry(b, a->ip));
	assert_int_equal(entry(b, a->ip)->state, ARP_REACHABLE);
	assert_memory_equal(entry(b, a->ip)->mac, a->dev.mac, ETH_ALEN);
#undef CASE
#undef FRESH
	mm_check(b->mm);
	nf_free(w);
}

/*
 * A reply refreshes what we know (RFC 826's merge): a new MAC and a new
 * time.  A stale entry is still used while it is asked for again, and the
 * answer refreshes it.  An unsolicited reply from a stranger creates
 * nothing.
 */
static void test_reply_refreshes(void **state)
{
	struct nf *w = nf_new(NULL, 6);
	struct nf_host *a = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct nf_host *b = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct sock *sk = udp_socket(a->net, NULL, NULL);
	static const uint8_t moved_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x99 };
	const struct arp_entry *e;
	uint64_t t;
	uint8_t f[64];
	size_t n;

	send_to(sk, b->ip);
	nf_run_for(w, 10 * NSEC_PER_MSEC);
	e = entry(a, b->ip);
	assert_non_null(e);
	assert_int_equal(e->state, ARP_REACHABLE);
	assert_memory_equal(e->mac, b->dev.mac, ETH_ALEN);
	t = e->updated;

	/* b "moved": its reply, addressed to a, refreshes the entry. */
	pass_time(w, 5 * NSEC_PER_SEC);
	n = mk_arp(f, a->dev.mac, moved_mac, ARP_OP_REPLY, b->ip, a->dev.mac,
		   a->ip);
	inject(a, f, n, false);
	assert_memory_equal(e->mac, moved_mac, ETH_ALEN);
	assert_true(e->updated >= t + 5 * NSEC_PER_SEC);
	assert_int_equal(e->state, ARP_REACHABLE);
	/* Back to the true MAC, by a reply addressed elsewhere (a merge). */
	n = mk_arp(f, eth_broadcast, b->dev.mac, ARP_OP_REPLY, b->ip, zero_mac,
		   onlink(77));
	inject(a, f, n, false);
	assert_memory_equal(e->mac, b->dev.mac, ETH_ALEN);
	/* A stranger's reply, not asked for and not for us: nothing. */
	n = mk_arp(f, eth_broadcast, moved_mac, ARP_OP_REPLY, onlink(88),
		   zero_mac, onlink(77));
	inject(a, f, n, false);
	assert_null(entry(a, onlink(88)));

	/* Stale after a minute: used, asked for again, refreshed. */
	pass_time(w, 61 * NSEC_PER_SEC);
	t = e->updated;
	assert_int_equal(nf_stat(a, "net.arp_tx_request"), 1);
	send_to(sk, b->ip);
	send_to(sk, b->ip);
	assert_int_equal(nf_stat(a, "net.arp_tx_request"), 2);
	nf_run_for(w, 10 * NSEC_PER_MSEC);
	assert_int_equal(nf_stat(b, "net.udp_rx"), 3);
	assert_true(e->updated > t);
	assert_int_equal(nf_stat(b, "net.arp_tx_reply"), 2);
	sock_close(sk);
	nf_free(w);
}

/*
 * A request for us that had to be received into the reserve is answered
 * all the same (resolution is what memory-critical traffic needs first);
 * the reply is built in memalloc context and charged to net.ctl.
 */
static void test_request_in_reserve_answered(void **state)
{
	struct nf *w = nf_new(NULL, 7);
	struct nf_host *a = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct nf_host *b = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct sock *sk = udp_socket(a->net, NULL, NULL);
	struct page **hold = calloc(PAGES, sizeof(*hold));
	struct mm_reserve *ctl = &b->net->rsv_ctl;
	uint64_t charges;
	size_t held;

	held = nf_exhaust(b, hold, PAGES);
	assert_int_equal(mm_normal_available(b->mm), 0);
	charges = ctl->charges.v;
	send_to(sk, b->ip); /* a asks for b */
	nf_run_for(w, 10 * NSEC_PER_MSEC);
	assert_true(nf_stat(b, "dev.sim1.rx_pfmemalloc") >= 1);
	assert_int_equal(nf_stat(b, "net.arp_tx_reply"), 1);
	assert_true(ctl->charges.v > charges);
	assert_true(ctl->hwm.v <= ctl->size.v);
	assert_int_equal(ctl->used.v, 0);
	assert_int_equal(b->net->rsv_rx.used.v, 0);
	/* a learned b, and b learned a without needing memory for it. */
	assert_non_null(entry(a, b->ip));
	assert_int_equal(entry(a, b->ip)->state, ARP_REACHABLE);
	assert_non_null(entry(b, a->ip));
	/* The datagram itself was for no flagged socket: dropped. */
	assert_int_equal(nf_stat(b, "net.udp_drop_pfmemalloc") +
				 nf_stat(b, "net.udp_rx_no_port"),
			 1);
	mm_check(b->mm);
	nf_release(b, hold, &held, held);
	nf_release_objects(b);
	free(hold);
	sock_close(sk);
	nf_free(w);
}

/* The same request from the reserve under a full net.ctl: counted, no reply. */
static void test_request_in_reserve_ctl_full(void **state)
{
	struct nf *w = nf_new(NULL, 8);
	struct nf_host *a = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct nf_host *b = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct page **hold = calloc(PAGES, sizeof(*hold));
	struct mm_reserve *ctl = &b->net->rsv_ctl;
	struct page *ctl_pages[8];
	size_t held, nr_ctl = 0;
	uint8_t f[64];
	size_t n;

	held = nf_exhaust(b, hold, PAGES);
	/* Spend net.ctl first. */
	while (nr_ctl < ARRAY_SIZE(ctl_pages)) {
		struct page *p =
			mm_page_alloc(b->mm, MM_ATOMIC | MM_MEMALLOC, ctl);

		if (!p)
			break;
		ctl_pages[nr_ctl++] = p;
	}
	assert_int_equal(ctl->used.v, ctl->size.v);
	n = mk_arp(f, eth_broadcast, a->dev.mac, ARP_OP_REQUEST, a->ip,
		   zero_mac, b->ip);
	assert_int_equal(a->dev.ops->xmit(&a->dev, f, n), 0);
	nf_run_for(w, 10 * NSEC_PER_MSEC);
	assert_int_equal(nf_stat(b, "dev.sim1.rx_pfmemalloc"), 1);
	assert_int_equal(nf_stat(b, "net.arp_drop_no_memory"), 1);
	assert_int_equal(nf_stat(b, "net.arp_tx_reply"), 0);
	assert_true(ctl->hwm.v <= ctl->size.v);
	assert_int_equal(b->net->rsv_rx.used.v, 0);
	while (nr_ctl)
		mm_page_put(b->mm, ctl_pages[--nr_ctl]);
	nf_release(b, hold, &held, held);
	nf_release_objects(b);
	free(hold);
	nf_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending_bounds_and_unresolved),
		cmocka_unit_test(test_pinned_unresolved_keeps_asking),
		cmocka_unit_test(test_eviction_oldest_never_pinned),
		cmocka_unit_test(test_table_of_pinned_entries_is_full),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_reply_refreshes),
		cmocka_unit_test(test_request_in_reserve_answered),
		cmocka_unit_test(test_request_in_reserve_ctl_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
