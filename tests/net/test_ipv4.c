// SPDX-License-Identifier: MIT
/*
 * IPv4 input and bounded reassembly, driven by handcrafted frames: sent
 * across the simulated switch from one host's device, or handed straight
 * to eth_rcv() on the receiving host when a test needs to set the frame's
 * pfmemalloc mark itself.  Every drop is checked against its own counter,
 * and the reserve rules for fragments are checked under memory exhaustion.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "mm/slab.h"
#include "net_fixture.h"
#include "net/proto.h"

#define PAGES 512
#define FRAG_DATA 1480 /* IP payload per fragment of a 1500-byte MTU */
#define CRIT_PORT 6000
#define PEER_PORT 5000
#define SINK_PORT 7000

/* ---- frames -------------------------------------------------------------- */

struct ipopt {
	uint32_t saddr, daddr; /* network order */
	uint8_t proto, ttl;
	uint16_t id, frag; /* frag: host order, flags | offset / 8 */
};

/*
 * Ethernet + a 20-byte IPv4 header + @plen bytes of @payload into @buf;
 * returns the frame length.  Callers break fields afterwards (and
 * recompute the header checksum with ip_fix_csum when they must).
 */
static size_t mk_ip(uint8_t *buf, const uint8_t *dst, const uint8_t *src,
		    const struct ipopt *o, const void *payload, size_t plen)
{
	struct eth_hdr *eh = (struct eth_hdr *)buf;
	struct ip_hdr *ip = (struct ip_hdr *)(buf + ETH_HLEN);

	memcpy(eh->dst, dst, ETH_ALEN);
	memcpy(eh->src, src, ETH_ALEN);
	eh->type = htons(ETH_P_IP);
	ip->ver_ihl = 0x45;
	ip->tos = 0;
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + plen));
	ip->id = htons(o->id);
	ip->frag_off = htons(o->frag);
	ip->ttl = o->ttl ? o->ttl : 64;
	ip->proto = o->proto;
	ip->saddr = o->saddr;
	ip->daddr = o->daddr;
	ip->check = 0;
	ip->check = csum_fold(csum_partial(ip, sizeof(*ip), 0));
	memcpy(buf + ETH_HLEN + sizeof(*ip), payload, plen);
	return ETH_HLEN + sizeof(*ip) + plen;
}

static void ip_fix_csum(uint8_t *frame)
{
	struct ip_hdr *ip = (struct ip_hdr *)(frame + ETH_HLEN);

	ip->check = 0;
	ip->check = csum_fold(csum_partial(ip, (ip->ver_ihl & 0xfu) * 4u, 0));
}

/* A UDP header and @dlen bytes of @data, checksummed, into @buf. */
static size_t mk_udp(uint8_t *buf, uint32_t saddr, uint32_t daddr,
		     uint16_t sport, uint16_t dport, const void *data,
		     size_t dlen)
{
	struct udp_hdr *uh = (struct udp_hdr *)buf;
	uint16_t ulen = (uint16_t)(sizeof(*uh) + dlen);
	uint16_t c;

	uh->source = htons(sport);
	uh->dest = htons(dport);
	uh->len = htons(ulen);
	uh->check = 0;
	memcpy(buf + sizeof(*uh), data, dlen);
	c = csum_fold(csum_partial(
		buf, ulen, csum_pseudo(saddr, daddr, IPPROTO_UDP, ulen)));
	uh->check = c ? c : 0xffff;
	return ulen;
}

/* An ICMP echo request with @dlen bytes of pattern, into @buf. */
static size_t mk_echo(uint8_t *buf, size_t dlen)
{
	struct icmp_hdr *ic = (struct icmp_hdr *)buf;

	memset(buf, 0x5a, sizeof(*ic) + dlen);
	ic->type = ICMP_ECHO_REQUEST;
	ic->code = 0;
	ic->id = htons(1);
	ic->seq = htons(1);
	ic->check = 0;
	ic->check = csum_fold(csum_partial(buf, sizeof(*ic) + dlen, 0));
	return sizeof(*ic) + dlen;
}

/* Put @frame on the wire from @from's device (no stack involved). */
static void wire_send(struct nf_host *from, const uint8_t *frame, size_t len)
{
	assert_int_equal(from->dev.ops->xmit(&from->dev, frame, len), 0);
}

/*
 * Hand @frame to @h's Ethernet input as if its device had received it,
 * in normal memory but marked pfmemalloc when @pf (what the receive
 * ladder does with a frame it had to take from net.rx).
 */
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

/*
 * The fragment [@off, @off + @len) of the IP payload @pl (a whole UDP
 * datagram), sent from @from to @to with IP id @id.
 */
static void send_frag(struct nf_host *from, struct nf_host *to, uint16_t id,
		      const uint8_t *pl, uint32_t off, uint32_t len, bool more)
{
	static uint8_t frame[ETH_HLEN + 20 + FRAG_DATA];
	struct ipopt o = { .saddr = from->ip,
			   .daddr = to->ip,
			   .proto = IPPROTO_UDP,
			   .id = id,
			   .frag = (uint16_t)((more ? IP_MF : 0) | off / 8) };

	assert_true(len <= FRAG_DATA && off % 8 == 0);
	wire_send(from, frame,
		  mk_ip(frame, to->dev.mac, from->dev.mac, &o, pl + off, len));
}

/* A datagram cut into fragments of FRAG_DATA bytes. */
struct dgram {
	uint8_t *pl; /* the IP payload: UDP header and data */
	uint32_t len;
	uint8_t *data; /* what the receiver must read */
	uint32_t dlen;
	unsigned nr; /* fragments */
};

static void dgram_init(struct dgram *d, struct nf_host *from,
		       struct nf_host *to, uint16_t sport, uint16_t dport,
		       uint32_t dlen, unsigned seed)
{
	d->dlen = dlen;
	d->data = malloc(dlen);
	d->pl = malloc(dlen + sizeof(struct udp_hdr));
	assert_non_null(d->data);
	assert_non_null(d->pl);
	for (uint32_t i = 0; i < dlen; i++)
		d->data[i] = (uint8_t)(i * 7 + i / 251 + seed);
	d->len = (uint32_t)mk_udp(d->pl, from->ip, to->ip, sport, dport,
				  d->data, dlen);
	d->nr = (d->len + FRAG_DATA - 1) / FRAG_DATA;
}

static void dgram_free(struct dgram *d)
{
	free(d->data);
	free(d->pl);
}

static void dgram_send_frag(struct dgram *d, struct nf_host *from,
			    struct nf_host *to, uint16_t id, unsigned i)
{
	uint32_t off = i * FRAG_DATA;

	assert_true(i < d->nr);
	send_frag(from, to, id, d->pl, off, lb_min(d->len - off, FRAG_DATA),
		  i + 1 < d->nr);
}

/* ---- a receiving socket that keeps the last datagram whole ------------- */

struct sink {
	struct sock *sk;
	unsigned got;
	uint8_t *last;
	size_t last_len;
	struct sock_addr from;
};

static void sink_readable(struct sock *sk)
{
	struct sink *s = sk->user;
	ssize_t n;

	while ((n = sock_recvfrom(sk, s->last, 65536, &s->from)) >= 0) {
		s->got++;
		s->last_len = (size_t)n;
	}
}

static const struct sock_ops sink_ops = { .readable = sink_readable };

static struct sink *sink_new(struct nf_host *h, uint16_t port)
{
	struct sink *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->last = malloc(65536);
	s->sk = udp_socket(h->net, &sink_ops, s);
	assert_non_null(s->sk);
	assert_int_equal(sock_bind(s->sk, 0, port), 0);
	return s;
}

static void sink_free(struct sink *s)
{
	sock_close(s->sk);
	free(s->last);
	free(s);
}

static void assert_got(const struct sink *s, const struct dgram *d)
{
	assert_int_equal(s->last_len, d->dlen);
	assert_memory_equal(s->last, d->data, d->dlen);
}

/* ---- counters ------------------------------------------------------------ */

/* nf_snap() and nf_expect_moved() (net_fixture.h) check exactly which moved */

/* Free pages once the caches have given back their spare empty slabs. */
static int64_t settled_free(struct nf_host *h)
{
	kmem_cache_shrink(&h->net->netbuf_cache);
	kmem_cache_shrink(&h->net->sock_cache);
	for (unsigned i = 0; i < MM_KMALLOC_CLASSES; i++)
		kmem_cache_shrink(h->mm->kmalloc[i]);
	return h->mm->nr_free.v;
}

static unsigned queues_used(struct nf_host *h)
{
	unsigned n = 0;

	for (size_t i = 0; i < IPFRAG_QUEUES; i++)
		n += h->net->frags[i].used;
	return n;
}

/* ---- a world of two hosts with ARP resolved ----------------------------- */

struct pair {
	struct nf *w;
	struct nf_host *a, *b;
	struct sink *sink; /* on b, SINK_PORT */
};

static void pair_setup(struct pair *p, enum mm_policy policy, uint64_t seed)
{
	struct sock *s;

	p->w = nf_new(NULL, seed);
	p->a = nf_add_host(p->w, PAGES, MM_POLICY_ACCOUNTED);
	p->b = nf_add_host(p->w, PAGES, policy);
	p->sink = sink_new(p->b, SINK_PORT);
	/* Resolve both ways: a asks, b learns a from the request. */
	s = udp_socket(p->a->net, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(sock_sendto(s, "warm", 4,
				     &(struct sock_addr){ p->b->ip, 9 }),
			 4);
	nf_run_for(p->w, 10 * NSEC_PER_MSEC);
	sock_close(s);
	assert_non_null(arp_lookup(p->b->net, p->a->ip));
	assert_int_equal(nf_stat(p->b, "net.udp_rx_no_port"), 1);
}

static void pair_teardown(struct pair *p)
{
	sink_free(p->sink);
	nf_free(p->w);
}

/* ---- reassembly ---------------------------------------------------------- */

enum order { IN_ORDER, REVERSED, SHUFFLED };

static void frag_order(enum order order, unsigned nr, unsigned *seq)
{
	for (unsigned i = 0; i < nr; i++)
		seq[i] = order == REVERSED ? nr - 1 - i : i;
	if (order != SHUFFLED)
		return;
	/* A fixed permutation: odd fragments first, the last in the middle. */
	for (unsigned i = 0, k = 0; k < 2; k++)
		for (unsigned f = 1 - k; f < nr; f += 2)
			seq[i++] = f;
}

static void check_reassembly(uint32_t size, enum order order)
{
	struct pair p;
	struct dgram d;
	unsigned seq[64];

	pair_setup(&p, MM_POLICY_ACCOUNTED, 11);
	dgram_init(&d, p.a, p.b, PEER_PORT, SINK_PORT, size, order);
	assert_true(d.nr <= 64);
	frag_order(order, d.nr, seq);
	for (unsigned i = 0; i < d.nr; i++)
		dgram_send_frag(&d, p.a, p.b, 0x1234, seq[i]);
	nf_run_for(p.w, 10 * NSEC_PER_MSEC);
	assert_int_equal(p.sink->got, 1);
	assert_got(p.sink, &d);
	assert_int_equal(p.sink->from.ip, p.a->ip);
	assert_int_equal(p.sink->from.port, PEER_PORT);
	assert_int_equal(nf_stat(p.b, "net.ipfrag_rx"), d.nr);
	assert_int_equal(nf_stat(p.b, "net.ipfrag_reassembled"), 1);
	assert_int_equal(nf_stat(p.b, "net.ipfrag_drop_bad"), 0);
	assert_int_equal(nf_stat(p.b, "net.ipfrag_drop_no_memory"), 0);
	assert_int_equal(nf_stat(p.b, "net.udp_drop_queue_full"), 0);
	assert_int_equal(queues_used(p.b), 0);
	/* Nothing came from a reserve: memory was plentiful. */
	assert_int_equal(nf_stat(p.b, "mm.reserve.ip.frag.charges"), 0);
	mm_check(p.b->mm);
	dgram_free(&d);
	pair_teardown(&p);
}

static void test_reassembly_in_order(void **state)
{
	check_reassembly(3000, IN_ORDER);
	check_reassembly(60000, IN_ORDER);
	/* The largest datagram there is, into a default-sized socket. */
	check_reassembly(UDP_MAX_PAYLOAD, IN_ORDER);
}

static void test_reassembly_out_of_order(void **state)
{
	check_reassembly(3000, REVERSED);
	check_reassembly(60000, REVERSED);
	check_reassembly(3000, SHUFFLED);
	check_reassembly(60000, SHUFFLED);
}

/*
 * Exact duplicates are dropped one by one (counted as bad fragments) and
 * the datagram is delivered once.  A duplicate that arrives after the
 * datagram was delivered finds no queue: it opens a new one that can
 * never complete and times out.  Nothing is delivered twice.
 */
static void test_reassembly_duplicates(void **state)
{
	static const uint32_t sizes[] = { 3000, 60000 };

	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		struct pair p;
		struct dgram d;

		pair_setup(&p, MM_POLICY_ACCOUNTED, 12);
		dgram_init(&d, p.a, p.b, PEER_PORT, SINK_PORT, sizes[k], 3);
		for (unsigned i = 0; i + 1 < d.nr; i++) {
			dgram_send_frag(&d, p.a, p.b, 77, i);
			dgram_send_frag(&d, p.a, p.b, 77, i);
		}
		for (unsigned i = 0; i + 1 < d.nr; i++)
			dgram_send_frag(&d, p.a, p.b, 77, i);
		dgram_send_frag(&d, p.a, p.b, 77, d.nr - 1);
		nf_run_for(p.w, 10 * NSEC_PER_MSEC);
		assert_int_equal(p.sink->got, 1);
		assert_got(p.sink, &d);
		assert_int_equal(nf_stat(p.b, "net.ipfrag_reassembled"), 1);
		assert_int_equal(nf_stat(p.b, "net.ipfrag_drop_bad"),
				 2 * (d.nr - 1));
		assert_int_equal(queues_used(p.b), 0);

		dgram_send_frag(&d, p.a, p.b, 77, 0);
		nf_run_for(p.w, 10 * NSEC_PER_MSEC);
		assert_int_equal(p.sink->got, 1);
		assert_int_equal(queues_used(p.b), 1);
		nf_run_for(p.w, IPFRAG_TIMEOUT_NS);
		assert_int_equal(queues_used(p.b), 0);
		assert_int_equal(nf_stat(p.b, "net.ipfrag_drop_timeout"), 1);
		assert_int_equal(p.sink->got, 1);
		dgram_free(&d);
		pair_teardown(&p);
	}
}

/*
 * Overlapping fragments: there is no right answer (RFC 5722), so the whole
 * datagram goes, the fragments already queued included, and what comes
 * later cannot complete it.
 */
static void test_reassembly_overlap_drops_all(void **state)
{
	struct pair p;
	struct dgram d;

	pair_setup(&p, MM_POLICY_ACCOUNTED, 13);
	dgram_init(&d, p.a, p.b, PEER_PORT, SINK_PORT, 4000, 4);
	assert_int_equal(d.nr, 3);
	dgram_send_frag(&d, p.a, p.b, 5, 2); /* the last */
	dgram_send_frag(&d, p.a, p.b, 5, 0);
	/* 1472..2952 overlaps the first fragment's last 8 bytes. */
	send_frag(p.a, p.b, 5, d.pl, FRAG_DATA - 8, FRAG_DATA, true);
	nf_run_for(p.w, 10 * NSEC_PER_MSEC);
	assert_int_equal(p.sink->got, 0);
	/* The overlapping fragment and the two it found queued. */
	assert_int_equal(nf_stat(p.b, "net.ipfrag_drop_bad"), 3);
	assert_int_equal(queues_used(p.b), 0);
	/* The true middle fragment alone is a new, incomplete datagram. */
	dgram_send_frag(&d, p.a, p.b, 5, 1);
	nf_run_for(p.w, 10 * NSEC_PER_MSEC);
	assert_int_equal(p.sink->got, 0);
	assert_int_equal(queues_used(p.b), 1);
	/* An overlap with the fragment queued alone also kills it. */
	send_frag(p.a, p.b, 5, d.pl, FRAG_DATA + 8, 16, true);
	nf_run_for(p.w, 10 * NSEC_PER_MSEC);
	assert_int_equal(nf_stat(p.b, "net.ipfrag_drop_bad"), 5);
	assert_int_equal(queues_used(p.b), 0);
	assert_int_equal(nf_stat(p.b, "net.ipfrag_reassembled"), 0);
	assert_int_equal(nf_stat(p.b, "net.udp_rx"), 1); /* the warm-up */
	dgram_free(&d);
	pair_teardown(&p);
}

/*
 * Fragments that lie past the end the last fragment declares: the byte
 * count can match the length while a hole remains inside the datagram.
 * Such a datagram must be dropped, never delivered with the hole's bytes
 * made up from whatever the buffer held.
 */
static void test_reassembly_fragment_past_end(void **state)
{
	struct pair p;
	uint8_t pl[32];

	pair_setup(&p, MM_POLICY_ACCOUNTED, 14);
	memset(pl, 'x', sizeof(pl));
	/* A 24-byte datagram: UDP header (no checksum) and 16 bytes. */
	mk_udp(pl, p.a->ip, p.b->ip, PEER_PORT, SINK_PORT, "0123456789abcdef",
	       16);
	((struct udp_hdr *)pl)->check = 0;
	send_frag(p.a, p.b, 9, pl, 0, 8, true); /* [0, 8) */
	send_frag(p.a, p.b, 9, pl, 24, 8, true); /* [24, 32): past the end */
	send_frag(p.a, p.b, 9, pl, 16, 8, false); /* [16, 24): end at 24 */
	nf_run_for(p.w, 10 * NSEC_PER_MSEC);
	/* [8, 16) never arrived. */
	assert_int_equal(p.sink->got, 0);
	assert_int_equal(nf_stat(p.b, "net.ipfrag_reassembled"), 0);
	/* The last fragment and the two queued. */
	assert_int_equal(nf_stat(p.b, "net.ipfrag_drop_bad"), 3);
	assert_int_equal(queues_used(p.b), 0);
	nf_run_for(p.w, IPFRAG_TIMEOUT_NS);
	assert_int_equal(queues_used(p.b), 0);
	assert_int_equal(p.sink->got, 0);
	pair_teardown(&p);
}

/*
 * A datagram missing a fragment waits IPFRAG_TIMEOUT_NS, then its queue is
 * freed: the drop is counted per fragment held, and every page comes back.
 */
static void test_reassembly_timeout_frees(void **state)
{
	struct pair p;
	struct dgram d;
	int64_t free_before, netbufs_before;

	pair_setup(&p, MM_POLICY_ACCOUNTED, 15);
	dgram_init(&d, p.a, p.b, PEER_PORT, SINK_PORT, 60000, 5);
	free_before = settled_free(p.b);
	netbufs_before = nf_stat(p.b, "slab.netbuf.objects");
	for (unsigned i = 0; i < d.nr; i++)
		if (i != d.nr / 2)
			dgram_send_frag(&d, p.a, p.b, 42, i);
	nf_run_for(p.w, 10 * NSEC_PER_MSEC);
	assert_int_equal(queues_used(p.b), 1);
	assert_int_equal(nf_stat(p.b, "slab.netbuf.objects"),
			 netbufs_before + d.nr - 1);
	assert_true(settled_free(p.b) < free_before);
	nf_run_for(p.w, IPFRAG_TIMEOUT_NS - 20 * NSEC_PER_MSEC);
	assert_int_equal(nf_stat(p.b, "net.ipfrag_drop_timeout"), 0);
	assert_int_equal(queues_used(p.b), 1);
	nf_run_for(p.w, 20 * NSEC_PER_MSEC);
	assert_int_equal(nf_stat(p.b, "net.ipfrag_drop_timeout"), d.nr - 1);
	assert_int_equal(queues_used(p.b), 0);
	assert_int_equal(p.sink->got, 0);
	assert_int_equal(nf_stat(p.b, "slab.netbuf.objects"), netbufs_before);
	assert_int_equal(settled_free(p.b), free_before);
	mm_check(p.b->mm);
	/* The missing fragment alone, later, is just a new incomplete one. */
	dgram_send_frag(&d, p.a, p.b, 42, d.nr / 2);
	nf_run_for(p.w, IPFRAG_TIMEOUT_NS + NSEC_PER_SEC);
	assert_int_equal(p.sink->got, 0);
	assert_int_equal(nf_stat(p.b, "net.ipfrag_drop_timeout"), d.nr);
	assert_int_equal(settled_free(p.b), free_before);
	dgram_free(&d);
	pair_teardown(&p);
}

/*
 * IPFRAG_QUEUES datagrams in reassembly at once: one more evicts the
 * oldest (counted with its fragments), the others still complete.
 */
static void test_reassembly_queue_eviction(void **state)
{
	struct dgram d[IPFRAG_QUEUES + 1];
	struct pair p;

	pair_setup(&p, MM_POLICY_ACCOUNTED, 16);
	for (unsigned i = 0; i <= IPFRAG_QUEUES; i++) {
		dgram_init(&d[i], p.a, p.b, PEER_PORT, SINK_PORT, 3000, i);
		assert_int_equal(d[i].nr, 3);
		dgram_send_frag(&d[i], p.a, p.b, (uint16_t)(100 + i), 0);
		dgram_send_frag(&d[i], p.a, p.b, (uint16_t)(100 + i), 1);
		nf_run_for(p.w, NSEC_PER_MSEC);
		assert_int_equal(queues_used(p.b),
				 lb_min(i + 1, IPFRAG_QUEUES));
	}
	/* Datagram 0's two fragments made way for datagram 8. */
	assert_int_equal(nf_stat(p.b, "net.ipfrag_drop_no_memory"), 2);
	for (unsigned i = 1; i <= IPFRAG_QUEUES; i++) {
		dgram_send_frag(&d[i], p.a, p.b, (uint16_t)(100 + i), 2);
		nf_run_for(p.w, NSEC_PER_MSEC);
		assert_int_equal(p.sink->got, i);
		assert_got(p.sink, &d[i]);
	}
	assert_int_equal(nf_stat(p.b, "net.ipfrag_reassembled"), IPFRAG_QUEUES);
	assert_int_equal(queues_used(p.b), 0);
	/* Datagram 0's last fragment opens a queue that never completes. */
	dgram_send_frag(&d[0], p.a, p.b, 100, 2);
	nf_run_for(p.w, NSEC_PER_MSEC);
	assert_int_equal(p.sink->got, IPFRAG_QUEUES);
	assert_int_equal(queues_used(p.b), 1);
	for (unsigned i = 0; i <= IPFRAG_QUEUES; i++)
		dgram_free(&d[i]);
	pair_teardown(&p);
}

/*
 * The receive queue: an empty queue takes even a maximal datagram (its
 * truesize is above the default rcvbuf); a queue holding one refuses the
 * next that would pass rcvbuf.
 */
static void test_large_datagrams_and_rcvbuf(void **state)
{
	struct pair p;
	struct dgram d;
	char buf[16];

	pair_setup(&p, MM_POLICY_ACCOUNTED, 17);
	p.sink->sk->ops = NULL; /* nobody reads */
	dgram_init(&d, p.a, p.b, PEER_PORT, SINK_PORT, UDP_MAX_PAYLOAD, 6);
	for (unsigned k = 0; k < 2; k++)
		for (unsigned i = 0; i < d.nr; i++)
			dgram_send_frag(&d, p.a, p.b, (uint16_t)(400 + k), i);
	nf_run_for(p.w, 10 * NSEC_PER_MSEC);
	assert_int_equal(nf_stat(p.b, "net.ipfrag_reassembled"), 2);
	assert_true(p.sink->sk->rxq_bytes > p.sink->sk->rcvbuf);
	assert_int_equal(nf_stat(p.b, "net.udp_drop_queue_full"), 1);
	assert_int_equal(sock_recvfrom(p.sink->sk, p.sink->last, 65536, NULL),
			 UDP_MAX_PAYLOAD);
	assert_memory_equal(p.sink->last, d.data, d.dlen);
	assert_int_equal(sock_recvfrom(p.sink->sk, buf, sizeof(buf), NULL),
			 -EAGAIN);
	p.sink->sk->ops = &sink_ops;
	dgram_free(&d);
	pair_teardown(&p);
}

/* ---- fragments and the reserve ------------------------------------------ */

struct crit {
	struct pair p;
	struct sink *crit; /* on b, flagged, connected to a:PEER_PORT */
	struct page **hold;
	size_t held;
};

static void crit_setup(struct crit *c, enum mm_policy policy)
{
	pair_setup(&c->p, policy, 21);
	c->crit = sink_new(c->p.b, CRIT_PORT);
	assert_int_equal(
		sock_connect(c->crit->sk,
			     &(struct sock_addr){ c->p.a->ip, PEER_PORT }),
		0);
	assert_int_equal(sock_set_memalloc(c->crit->sk, 0, 0), 0);
	c->hold = calloc(PAGES, sizeof(*c->hold));
	c->held = nf_exhaust(c->p.b, c->hold, PAGES);
	assert_int_equal(mm_normal_available(c->p.b->mm), 0);
}

static void crit_teardown(struct crit *c)
{
	nf_release(c->p.b, c->hold, &c->held, c->held);
	nf_release_objects(c->p.b);
	free(c->hold);
	sink_free(c->crit);
	pair_teardown(&c->p);
}

/*
 * Memory gone: every fragment is received into net.rx, copied into
 * ip.frag, reassembled there, and the datagram reaches the flagged socket
 * (which keeps a copy in its own receive reserve).  ip.frag never passes
 * its size and everything is given back.
 */
static void test_reserve_fragments_reach_flagged_socket(void **state)
{
	static const uint32_t sizes[] = { 3000, 60000, UDP_MAX_PAYLOAD };
	struct crit c;
	struct mm_reserve *frag;

	crit_setup(&c, MM_POLICY_ACCOUNTED);
	frag = &c.p.b->net->rsv_frag;
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		struct dgram d;
		int64_t charges = (int64_t)frag->charges.v;

		dgram_init(&d, c.p.a, c.p.b, PEER_PORT, CRIT_PORT, sizes[k],
			   (unsigned)k);
		for (unsigned i = 0; i < d.nr; i++)
			dgram_send_frag(&d, c.p.a, c.p.b, (uint16_t)(200 + k),
					i);
		nf_run_for(c.p.w, 10 * NSEC_PER_MSEC);
		assert_int_equal(c.crit->got, k + 1);
		assert_got(c.crit, &d);
		assert_true((int64_t)frag->charges.v > charges);
		assert_true(frag->hwm.v <= frag->size.v);
		assert_int_equal(frag->used.v, 0);
		assert_int_equal(c.p.b->net->rsv_rx.used.v, 0);
		assert_int_equal(c.crit->sk->rxq_rsv.used.v, 0);
		print_message("%u-byte datagram from the reserve: ip.frag "
			      "high-water %lld of %lld pages\n",
			      sizes[k], (long long)frag->hwm.v,
			      (long long)frag->size.v);
		dgram_free(&d);
	}
	assert_int_equal(nf_stat(c.p.b, "net.ipfrag_reassembled"), 3);
	assert_int_equal(nf_stat(c.p.b, "net.ipfrag_drop_pfmemalloc"), 0);
	assert_int_equal(nf_stat(c.p.b, "dev.sim1.rx_drop_no_memory"), 0);
	assert_int_equal(nf_stat(c.p.b, "dev.sim1.rx_pfmemalloc"), 3 + 41 + 45);
	assert_int_equal(mm_normal_available(c.p.b->mm), 0);
	mm_check(c.p.b->mm);
	crit_teardown(&c);
}

/*
 * The same, for an unflagged socket: the datagram is reassembled from the
 * reserve (nothing can know its socket before), then dropped.
 */
static void test_reserve_fragments_dropped_for_unflagged(void **state)
{
	struct crit c;
	struct dgram d;

	crit_setup(&c, MM_POLICY_ACCOUNTED);
	/* The classifier would drop these early; let them reach the stack. */
	c.p.b->dev.nr_flows = 0;
	dgram_init(&d, c.p.a, c.p.b, PEER_PORT, SINK_PORT, 3000, 1);
	for (unsigned i = 0; i < d.nr; i++)
		dgram_send_frag(&d, c.p.a, c.p.b, 300, i);
	nf_run_for(c.p.w, 10 * NSEC_PER_MSEC);
	assert_int_equal(c.p.sink->got, 0);
	assert_int_equal(nf_stat(c.p.b, "net.ipfrag_reassembled"), 1);
	assert_int_equal(nf_stat(c.p.b, "net.udp_drop_pfmemalloc"), 1);
	assert_int_equal(c.p.b->net->rsv_frag.used.v, 0);
	mm_check(c.p.b->mm);
	dgram_free(&d);
	crit_teardown(&c);
}

/* ---- a fragment flood against a flagged exchange ------------------------ */

struct fflood {
	struct nf *w;
	struct nf_host *a, *b, *c; /* a: peer, b: client, c: noise */
	struct sink *echo_a; /* a:PEER_PORT, echoes */
	struct sink *crit_b;
	struct page **hold;
	size_t held;
	uint16_t next_id;
};

static void echo_readable(struct sock *sk)
{
	struct sink *s = sk->user;
	ssize_t n;

	while ((n = sock_recvfrom(sk, s->last, 65536, &s->from)) >= 0) {
		s->got++;
		sock_sendto(sk, s->last, (size_t)n, &s->from);
	}
}

static const struct sock_ops echo_ops = { .readable = echo_readable };

static void fflood_setup(struct fflood *f, enum mm_policy policy, bool classify)
{
	f->w = nf_new(NULL, 31);
	f->a = nf_add_host(f->w, PAGES, MM_POLICY_ACCOUNTED);
	f->b = nf_add_host(f->w, PAGES, policy);
	f->c = nf_add_host(f->w, PAGES, MM_POLICY_ACCOUNTED);
	f->echo_a = sink_new(f->a, PEER_PORT);
	f->echo_a->sk->ops = &echo_ops;
	f->crit_b = sink_new(f->b, CRIT_PORT);
	assert_int_equal(
		sock_connect(f->crit_b->sk,
			     &(struct sock_addr){ f->a->ip, PEER_PORT }),
		0);
	assert_int_equal(sock_set_memalloc(f->crit_b->sk, 0, 0), 0);
	if (!classify)
		f->b->dev.nr_flows = 0;
	sock_sendto(f->crit_b->sk, "warm", 4, NULL);
	nf_run_for(f->w, 10 * NSEC_PER_MSEC);
	assert_int_equal(f->crit_b->got, 1);
	f->crit_b->got = 0;
	f->echo_a->got = 0;
	f->hold = calloc(PAGES, sizeof(*f->hold));
	f->held = nf_exhaust(f->b, f->hold, PAGES);
	assert_int_equal(mm_normal_available(f->b->mm), 0);
	f->next_id = 1000;
}

static void fflood_teardown(struct fflood *f)
{
	nf_release(f->b, f->hold, &f->held, f->held);
	nf_release_objects(f->b);
	free(f->hold);
	sink_free(f->echo_a);
	sink_free(f->crit_b);
	nf_free(f->w);
}

/*
 * @rounds of: b's flagged socket asks a (a small datagram, echoed), or a
 * sends b a fragmented @frag_bytes datagram when @frag_bytes; then c sends
 * @flood incomplete datagrams of FLOOD_FRAGS fragments each (the last one
 * never comes) to b.
 */
#define FLOOD_FRAGS 20

static void fflood_run(struct fflood *f, int rounds, int flood,
		       uint32_t frag_bytes)
{
	struct dgram junk, d;

	dgram_init(&junk, f->c, f->b, 1, SINK_PORT, 40000, 9);
	assert_true(junk.nr > FLOOD_FRAGS);
	if (frag_bytes)
		dgram_init(&d, f->a, f->b, PEER_PORT, CRIT_PORT, frag_bytes, 8);
	for (int r = 0; r < rounds; r++) {
		if (frag_bytes) {
			for (unsigned i = 0; i < d.nr; i++)
				dgram_send_frag(&d, f->a, f->b, f->next_id, i);
			f->next_id++;
		} else {
			sock_sendto(f->crit_b->sk, "write", 5, NULL);
		}
		for (int k = 0; k < flood; k++, f->next_id++)
			for (unsigned i = 0; i < FLOOD_FRAGS; i++)
				dgram_send_frag(&junk, f->c, f->b, f->next_id,
						i);
		nf_run_for(f->w, 2 * NSEC_PER_MSEC);
	}
	dgram_free(&junk);
	if (frag_bytes)
		dgram_free(&d);
}

static void fflood_report(struct fflood *f, const char *what)
{
	print_message("%-40s flagged got %u, ip.frag hwm %lld/%lld, "
		      "frag drops pfmemalloc %lld, rx drops no-memory %lld, "
		      "early %lld, root used %lld of min %lld, peer got %u, "
		      "flagged tx no-memory %llu, rxq drops %lld\n",
		      what, f->crit_b->got,
		      (long long)f->b->net->rsv_frag.hwm.v,
		      (long long)f->b->net->rsv_frag.size.v,
		      (long long)nf_stat(f->b, "net.ipfrag_drop_pfmemalloc"),
		      (long long)nf_stat(f->b, "dev.sim1.rx_drop_no_memory"),
		      (long long)nf_stat(f->b, "dev.sim1.rx_drop_early"),
		      (long long)f->b->mm->root.used.v,
		      (long long)f->b->mm->wmark_min.v, f->echo_a->got,
		      (unsigned long long)f->crit_b->sk->st.tx_no_memory.v,
		      (long long)nf_stat(f->b, "net.udp_drop_rxq_reserve"));
}

/*
 * Accounted: the flood of incomplete datagrams fills ip.frag and is then
 * dropped there; the flagged exchange draws on net.rx and its own socket
 * reserves and loses nothing.
 */
static void test_frag_flood_accounted(void **state)
{
	struct fflood f;

	fflood_setup(&f, MM_POLICY_ACCOUNTED, false);
	fflood_run(&f, 20, 4, 0);
	fflood_report(&f, "accounted, small datagrams:");
	assert_int_equal(f.crit_b->got, 20);
	assert_int_equal(f.echo_a->got, 20);
	assert_true(nf_stat(f.b, "net.ipfrag_drop_pfmemalloc") > 0);
	/* The flood filled ip.frag, and only ip.frag. */
	assert_int_equal(f.b->net->rsv_frag.hwm.v, f.b->net->rsv_frag.size.v);
	assert_int_equal(f.b->mm->root.used.v, f.b->net->rsv_frag.used.v);
	assert_int_equal(nf_stat(f.b, "dev.sim1.rx_drop_no_memory"), 0);
	assert_int_equal(nf_stat(f.b, "net.udp_drop_rxq_reserve"), 0);
	assert_int_equal(f.b->net->rsv_rx.used.v, 0);
	mm_check(f.b->mm);
	/* The flood's queues go at the timeout, and ip.frag with them. */
	nf_run_for(f.w, IPFRAG_TIMEOUT_NS);
	assert_int_equal(f.b->net->rsv_frag.used.v, 0);
	assert_int_equal(queues_used(f.b), 0);
	fflood_teardown(&f);
}

/*
 * Accounted, but the flagged exchange itself is fragmented.  ip.frag is one
 * reserve for every reserve fragment (a non-first fragment names no port,
 * so nothing can tell whose it is before reassembly).  Without the
 * classifier the flood fills ip.frag and the flagged datagrams' fragments
 * are dropped with the flood's until the flood's queues time out; with the
 * classifier the flood from a host that is no critical peer never reaches
 * the reserve, and every flagged datagram arrives.
 */
static void test_frag_flood_fragmented_exchange(void **state)
{
	struct fflood off, on;

	fflood_setup(&off, MM_POLICY_ACCOUNTED, false);
	fflood_run(&off, 20, 4, 3000);
	fflood_report(&off, "accounted, fragmented, no classifier:");
	assert_true(off.crit_b->got < 20);
	assert_true(nf_stat(off.b, "net.ipfrag_drop_pfmemalloc") > 0);
	assert_true(off.b->net->rsv_frag.hwm.v <= off.b->net->rsv_frag.size.v);
	/* Once the flood's queues expire, the flagged exchange resumes. */
	nf_run_for(off.w, IPFRAG_TIMEOUT_NS);
	off.crit_b->got = 0;
	fflood_run(&off, 1, 0, 3000);
	assert_int_equal(off.crit_b->got, 1);
	fflood_teardown(&off);

	fflood_setup(&on, MM_POLICY_ACCOUNTED, true);
	fflood_run(&on, 20, 4, 3000);
	fflood_report(&on, "accounted, fragmented, classifier:");
	assert_int_equal(on.crit_b->got, 20);
	assert_int_equal(nf_stat(on.b, "dev.sim1.rx_drop_early"),
			 20 * 4 * FLOOD_FRAGS);
	assert_int_equal(nf_stat(on.b, "net.ipfrag_drop_pfmemalloc"), 0);
	assert_int_equal(nf_stat(on.b, "net.ipfrag_reassembled"), 20);
	fflood_teardown(&on);
}

/*
 * Mainline: one shared reserve.  Reserve fragments are charged to it
 * without bound, so the flood's incomplete datagrams (up to IPFRAG_QUEUES
 * of up to IPFRAG_MAX_BYTES each, far more than `min`) drain it.  What we
 * observe: the root ends with at most one free page; the flagged socket's
 * requests still go out and frames are still received (into slab room
 * net.rx already had), but each reply then needs a page to be kept in the
 * socket's receive reserve and finds none: 19 of 20 replies are dropped
 * (udp_drop_rxq_reserve).  The exchange stays stopped until the flood's
 * queues time out, 30 s later.  Under `accounted` the same flood stops at
 * ip.frag's size and the exchange loses nothing (test_frag_flood_accounted).
 */
static void test_frag_flood_mainline(void **state)
{
	struct fflood f;
	unsigned got;

	fflood_setup(&f, MM_POLICY_MAINLINE, false);
	fflood_run(&f, 20, 4, 0);
	fflood_report(&f, "mainline, small datagrams:");
	got = f.crit_b->got;
	/* Every request went out (its reserve page was had early)... */
	assert_int_equal(f.echo_a->got, 20);
	/* ...but the replies, received, found no page to be kept in. */
	assert_true(got < 20);
	assert_int_equal(nf_stat(f.b, "net.udp_drop_rxq_reserve"), 20 - got);
	assert_true(nf_stat(f.b, "net.ipfrag_drop_pfmemalloc") > 0);
	/* The fragments were charged to the root, past what ip.frag allows. */
	assert_int_equal(f.b->net->rsv_frag.used.v, 0);
	assert_true(f.b->mm->root.used.v > f.b->net->rsv_frag.size.v);
	assert_true(f.b->mm->nr_free.v <= 1);
	mm_check(f.b->mm);
	/* The flood's queues expire and give the shared reserve back. */
	nf_run_for(f.w, IPFRAG_TIMEOUT_NS);
	assert_int_equal(queues_used(f.b), 0);
	f.crit_b->got = 0;
	fflood_run(&f, 5, 0, 0);
	assert_int_equal(f.crit_b->got, 5);
	fflood_teardown(&f);
}

/* ---- malformed input ----------------------------------------------------- */

enum { NORMAL, PF };

struct bad_case {
	const char *what;
	bool pf;
	const char *moved[6];
};

/* A valid UDP datagram from a to b's sink, in @frame; returns its length. */
static size_t good_udp(struct pair *p, uint8_t *frame, const char *msg)
{
	uint8_t pl[128];
	struct ipopt o = { .saddr = p->a->ip,
			   .daddr = p->b->ip,
			   .proto = IPPROTO_UDP };
	size_t n = mk_udp(pl, p->a->ip, p->b->ip, PEER_PORT, SINK_PORT, msg,
			  strlen(msg));

	return mk_ip(frame, p->b->dev.mac, p->a->dev.mac, &o, pl, n);
}

static struct ip_hdr *iph(uint8_t *frame)
{
	return (struct ip_hdr *)(frame + ETH_HLEN);
}

static struct udp_hdr *udph(uint8_t *frame)
{
	return (struct udp_hdr *)(frame + ETH_HLEN + 20);
}

static void test_malformed(void **state)
{
	struct pair p;
	uint8_t f[256], pl[64];
	uint64_t before[NF_NET_STATS];
	unsigned got;
	size_t n;
	struct ipopt o;

	pair_setup(&p, MM_POLICY_ACCOUNTED, 41);
#define CASE(pf, ...)                                                     \
	do {                                                              \
		static const char *const moved[] = { __VA_ARGS__, NULL }; \
		nf_snap(p.b, before);                                     \
		inject(p.b, f, n, pf);                                    \
		nf_expect_moved(p.b, before, moved, #__VA_ARGS__);        \
	} while (0)

	/* The control: the same path delivers a good datagram. */
	got = p.sink->got;
	n = good_udp(&p, f, "fine");
	CASE(false, "ip_rx", "udp_rx");
	assert_int_equal(p.sink->got, got + 1);
	assert_int_equal(p.sink->last_len, 4);
	/* Ethernet padding is not payload. */
	memset(f + n, 0xee, 20);
	n += 20;
	CASE(false, "ip_rx", "udp_rx");
	assert_int_equal(p.sink->got, got + 2);
	assert_int_equal(p.sink->last_len, 4);
	/* No UDP checksum at all is allowed. */
	n = good_udp(&p, f, "nocsum");
	udph(f)->check = 0;
	CASE(false, "ip_rx", "udp_rx");
	assert_int_equal(p.sink->got, got + 3);

	/* Ethernet */
	n = good_udp(&p, f, "x");
	n = ETH_HLEN - 1;
	CASE(false, "eth_rx_runt");
	n = good_udp(&p, f, "x");
	((struct eth_hdr *)f)->type = htons(0x88b5);
	CASE(false, "eth_rx_unknown_type");
	n = good_udp(&p, f, "x");
	((struct eth_hdr *)f)->dst[5] ^= 0x40;
	CASE(false, "eth_rx_not_for_us");
	/* From the reserve, only ARP, IPv4 (and registered AoE) go on. */
	n = good_udp(&p, f, "x");
	((struct eth_hdr *)f)->type = htons(0x86dd);
	CASE(true, "rx_drop_pfmemalloc_proto");
	((struct eth_hdr *)f)->type = htons(ETH_P_AOE); /* none registered */
	CASE(true, "rx_drop_pfmemalloc_proto");

	/* IPv4 header */
	n = good_udp(&p, f, "x");
	n = ETH_HLEN + 19;
	CASE(false, "ip_rx", "ip_rx_bad_header");
	n = good_udp(&p, f, "x");
	iph(f)->ver_ihl = 0x65;
	ip_fix_csum(f);
	CASE(false, "ip_rx", "ip_rx_bad_header");
	n = good_udp(&p, f, "x");
	iph(f)->ver_ihl = 0x44;
	CASE(false, "ip_rx", "ip_rx_bad_header");
	n = good_udp(&p, f, "x"); /* 20 + 9 bytes: a 60-byte header is not */
	iph(f)->ver_ihl = 0x4f;
	CASE(false, "ip_rx", "ip_rx_bad_header");
	n = good_udp(&p, f, "x");
	iph(f)->tot_len = htons((uint16_t)(n - ETH_HLEN + 1));
	ip_fix_csum(f);
	CASE(false, "ip_rx", "ip_rx_bad_len");
	n = good_udp(&p, f, "x");
	iph(f)->tot_len = htons(19);
	ip_fix_csum(f);
	CASE(false, "ip_rx", "ip_rx_bad_len");
	n = good_udp(&p, f, "x");
	iph(f)->check ^= htons(0x0100);
	CASE(false, "ip_rx", "ip_rx_bad_csum");
	n = good_udp(&p, f, "x");
	iph(f)->ttl = 0;
	ip_fix_csum(f);
	CASE(false, "ip_rx", "ip_rx_ttl_expired");
	n = good_udp(&p, f, "x");
	iph(f)->daddr = htonl(0xc0000263u); /* 192.0.2.99 */
	ip_fix_csum(f);
	CASE(false, "ip_rx", "ip_rx_not_for_us");
	n = good_udp(&p, f, "x");
	iph(f)->proto = 47;
	ip_fix_csum(f);
	CASE(false, "ip_rx", "ip_rx_unknown_proto");
	/* Fragments that cannot be part of any datagram. */
	n = good_udp(&p, f, "odd-length fragment"); /* 27 bytes, MF */
	iph(f)->frag_off = htons(IP_MF);
	ip_fix_csum(f);
	CASE(false, "ip_rx", "ipfrag_rx", "ipfrag_drop_bad");
	n = good_udp(&p, f, "x");
	iph(f)->frag_off = htons(IP_OFFMASK); /* 65528 + 9 bytes */
	ip_fix_csum(f);
	CASE(false, "ip_rx", "ipfrag_rx", "ipfrag_drop_bad");
	assert_int_equal(queues_used(p.b), 0);

	/* UDP */
	o = (struct ipopt){ .saddr = p.a->ip,
			    .daddr = p.b->ip,
			    .proto = IPPROTO_UDP };
	n = mk_ip(f, p.b->dev.mac, p.a->dev.mac, &o, "\x13\x88\x1b", 3);
	CASE(false, "ip_rx", "udp_rx", "udp_rx_bad_len");
	n = good_udp(&p, f, "x");
	udph(f)->len = htons(7);
	CASE(false, "ip_rx", "udp_rx", "udp_rx_bad_len");
	n = good_udp(&p, f, "x");
	udph(f)->len = htons(10);
	CASE(false, "ip_rx", "udp_rx", "udp_rx_bad_len");
	n = good_udp(&p, f, "x");
	udph(f)->check ^= 0x0101;
	CASE(false, "ip_rx", "udp_rx", "udp_rx_bad_csum");
	n = good_udp(&p, f, "x");
	udph(f)->dest = htons(SINK_PORT + 1);
	udph(f)->check = 0;
	CASE(false, "ip_rx", "udp_rx", "udp_rx_no_port");
	/* From the reserve, to an unflagged socket. */
	n = good_udp(&p, f, "x");
	CASE(true, "ip_rx", "udp_rx", "udp_drop_pfmemalloc");
	assert_int_equal(p.sink->got, got + 3);

	/* ICMP */
	o.proto = IPPROTO_ICMP;
	n = mk_ip(f, p.b->dev.mac, p.a->dev.mac, &o, pl, mk_echo(pl, 16));
	f[ETH_HLEN + 20 + 2] ^= 0x01;
	CASE(false, "ip_rx", "icmp_rx", "icmp_rx_bad");
	n = mk_ip(f, p.b->dev.mac, p.a->dev.mac, &o, pl, 7);
	CASE(false, "ip_rx", "icmp_rx", "icmp_rx_bad");
	n = mk_ip(f, p.b->dev.mac, p.a->dev.mac, &o, pl, mk_echo(pl, 16));
	CASE(true, "ip_rx", "icmp_rx", "icmp_drop_pfmemalloc");
	/* and the control: answered in place, a already resolved. */
	CASE(false, "ip_rx", "icmp_rx", "icmp_echo_replies", "ip_tx");
	nf_run_for(p.w, 10 * NSEC_PER_MSEC);
	assert_int_equal(nf_stat(p.a, "net.icmp_rx"), 1);
#undef CASE
	mm_check(p.b->mm);
	pair_teardown(&p);
}

/*
 * The same rule on the real path: with b's memory gone an echo request is
 * received into net.rx, is for no flagged socket, and is not answered.
 */
static void test_icmp_echo_from_reserve_not_answered(void **state)
{
	struct pair p;
	struct page **hold = calloc(PAGES, sizeof(*hold));
	struct ipopt o;
	uint8_t f[128], pl[64];
	size_t held, n;

	pair_setup(&p, MM_POLICY_ACCOUNTED, 42);
	o = (struct ipopt){ .saddr = p.a->ip,
			    .daddr = p.b->ip,
			    .proto = IPPROTO_ICMP };
	n = mk_ip(f, p.b->dev.mac, p.a->dev.mac, &o, pl, mk_echo(pl, 32));
	held = nf_exhaust(p.b, hold, PAGES);
	wire_send(p.a, f, n);
	nf_run_for(p.w, 10 * NSEC_PER_MSEC);
	assert_int_equal(nf_stat(p.b, "dev.sim1.rx_pfmemalloc"), 1);
	assert_int_equal(nf_stat(p.b, "net.icmp_drop_pfmemalloc"), 1);
	assert_int_equal(nf_stat(p.b, "net.icmp_echo_replies"), 0);
	assert_int_equal(nf_stat(p.a, "net.icmp_rx"), 0);
	assert_int_equal(p.b->net->rsv_rx.used.v, 0);
	nf_release(p.b, hold, &held, held);
	nf_release_objects(p.b);
	wire_send(p.a, f, n);
	nf_run_for(p.w, 10 * NSEC_PER_MSEC);
	assert_int_equal(nf_stat(p.b, "net.icmp_echo_replies"), 1);
	assert_int_equal(nf_stat(p.a, "net.icmp_rx"), 1);
	free(hold);
	pair_teardown(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reassembly_in_order),
		cmocka_unit_test(test_reassembly_out_of_order),
		cmocka_unit_test(test_reassembly_duplicates),
		cmocka_unit_test(test_reassembly_overlap_drops_all),
		cmocka_unit_test(test_reassembly_fragment_past_end),
		cmocka_unit_test(test_reassembly_timeout_frees),
		cmocka_unit_test(test_reassembly_queue_eviction),
		cmocka_unit_test(test_large_datagrams_and_rcvbuf),
		cmocka_unit_test(test_reserve_fragments_reach_flagged_socket),
		cmocka_unit_test(test_reserve_fragments_dropped_for_unflagged),
		cmocka_unit_test(test_frag_flood_accounted),
		cmocka_unit_test(test_frag_flood_fragmented_exchange),
		cmocka_unit_test(test_frag_flood_mainline),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_icmp_echo_from_reserve_not_answered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
