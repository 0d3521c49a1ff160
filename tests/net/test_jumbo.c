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
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "../lb_skip.h"
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

static void world_up_on(struct world *jw, const struct sim_link_config *cfg,
			unsigned mtu, uint64_t seed)
{
	memset(jw, 0, sizeof(*jw));
	jw->w = nf_new(cfg, seed);
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

static void world_up(struct world *jw, unsigned mtu, uint64_t seed)
{
	world_up_on(jw, NULL, mtu, seed);
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

/* ---- the receive ladder on a scripted device ---------------------------- */

/*
 * A backend that delivers one canned frame per poll, through recvv (and
 * records how it was asked), or through plain recv when @scatter is off.
 */
struct canned {
	uint8_t frame[NETDEV_RX_MAX + 64];
	uint32_t len; /* 0: nothing pending */
	bool scatter;
	unsigned last_iovcnt;
};

static struct canned canned;

static int canned_xmit(struct net_device *dev, const uint8_t *f, size_t len)
{
	return 0;
}

static ssize_t canned_recv(struct net_device *dev, uint8_t *buf, size_t cap,
			   struct rx_meta *meta)
{
	size_t n = lb_min(cap, (size_t)canned.len);

	if (!canned.len)
		return 0;
	memcpy(buf, canned.frame, n);
	meta->wire_len = canned.len;
	canned.len = 0;
	canned.last_iovcnt = 1;
	return (ssize_t)n;
}

static ssize_t canned_recvv(struct net_device *dev, const struct iovec *iov,
			    unsigned cnt, struct rx_meta *meta)
{
	size_t off = 0;

	if (!canned.scatter) {
		fail_msg("recvv used while scatter is off");
		return -EIO;
	}
	if (!canned.len)
		return 0;
	for (unsigned i = 0; i < cnt && off < canned.len; i++) {
		size_t n = lb_min(iov[i].iov_len, (size_t)canned.len - off);

		memcpy(iov[i].iov_base, canned.frame + off, n);
		off += n;
	}
	meta->wire_len = canned.len;
	canned.len = 0;
	canned.last_iovcnt = cnt;
	return (ssize_t)off;
}

static const struct net_device_ops canned_ops = { .xmit = canned_xmit,
						  .recv = canned_recv };
static const struct net_device_ops canned_ops_v = { .xmit = canned_xmit,
						    .recv = canned_recv,
						    .recvv = canned_recvv };

/* A UDP datagram of @len bytes in all from 192.0.2.9:7 to @dev:9. */
static void canned_udp(struct net_device *dev, uint32_t len)
{
	uint8_t *f = canned.frame;
	uint32_t ip_len = len - ETH_HLEN;

	memset(f, 0, len);
	memcpy(f, dev->mac, ETH_ALEN);
	memcpy(f + 6, "\x02\0\0\0\0\x09", ETH_ALEN);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)(ip_len >> 8);
	f[17] = (uint8_t)ip_len;
	f[22] = 64;
	f[23] = 17; /* UDP */
	memcpy(f + 26, "\xc0\x00\x02\x09", 4);
	memcpy(f + 30, &dev->ip, 4);
	f[35] = 7;
	f[37] = 9;
	f[38] = (uint8_t)((ip_len - 20) >> 8);
	f[39] = (uint8_t)(ip_len - 20);
	for (uint32_t i = 42; i < len; i++)
		f[i] = (uint8_t)i;
	canned.len = len;
}

/*
 * Jumbo frames on a backend with and without a scatter read: each arrives
 * whole (the IPv4 layer accepts its length) in a netbuf with fragments;
 * a frame longer than the MTU is an oversize drop, and when it belongs
 * to a critical flow that is counted (and warned about) as such.
 */
static void test_rx_ladder_jumbo(void **state)
{
	struct nf *w = nf_new(NULL, 3);
	struct nf_host *h = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct net_device *dev = calloc(1, sizeof(*dev));
	struct critical_flow fl = { .kind = FLOW_IPV4,
				    .ip_proto = 17,
				    .peer_ip = htonl(0xc0000209u),
				    .peer_port = htons(7),
				    .local_port = htons(9) };
	uint64_t ip_rx;

	for (int scatter = 0; scatter < 2; scatter++) {
		memset(dev, 0, sizeof(*dev));
		dev->ops = scatter ? &canned_ops_v : &canned_ops;
		dev->mtu = 9000;
		memcpy(dev->mac, "\x02\0\0\0\0\x42", ETH_ALEN);
		snprintf(dev->name, sizeof(dev->name), "can%d", scatter);
		assert_int_equal(netdev_register(h->net, dev), 0);
		dev->ip = htonl(0xc0000242u);
		dev->netmask = htonl(0xffffff00u);
		canned.scatter = scatter;
		fl.local_ip = dev->ip;
		assert_int_equal(netdev_flow_add(dev, &fl), 0);

		ip_rx = h->net->st.ip_rx.v;
		canned_udp(dev, 9000 + ETH_HLEN);
		assert_int_equal(netdev_poll(dev), 1);
		assert_int_equal(dev->st.rx_frames.v, 1);
		assert_int_equal(dev->st.rx_bytes.v, 9000 + ETH_HLEN);
		assert_int_equal(dev->st.rx_pfmemalloc.v, 0);
		assert_int_equal(h->net->st.ip_rx.v, ip_rx + 1);
		assert_int_equal(h->net->st.ip_rx_bad_len.v, 0);
		/* scatter: a linear part and page fragments, read at once */
		assert_int_equal(canned.last_iovcnt, scatter ? 3 : 1);

		/* longer than the MTU, of the critical flow */
		canned_udp(dev, 9000 + ETH_HLEN + 100);
		assert_int_equal(netdev_poll(dev), 1);
		assert_int_equal(dev->st.rx_drop_oversize.v, 1);
		assert_int_equal(dev->st.rx_drop_critical.v, 1);
		/* ... and of no flow: an oversize drop only */
		canned_udp(dev, 9000 + ETH_HLEN + 100);
		canned.frame[35] = 8; /* another source port */
		assert_int_equal(netdev_poll(dev), 1);
		assert_int_equal(dev->st.rx_drop_oversize.v, 2);
		assert_int_equal(dev->st.rx_drop_critical.v, 1);
		netdev_flow_del(dev, &fl);
		netdev_unregister(dev);
	}
	free(dev);
	nf_free(w);
}

/*
 * A wire that can deliver 64 KiB frames (TAP with offloads) must offer
 * room for one to every read.  The receive ring keeps those pages: a
 * small frame leaves them all in the ring (no page allocated or freed
 * per frame, where sixteen were before), a large one keeps the pages it
 * reached and only those are replaced.  With normal memory gone, the
 * ring cannot refill and a critical frame still arrives, in net.rx.
 */
static void test_rx_ring(void **state)
{
	struct nf *w = nf_new(NULL, 5);
	struct nf_host *h = nf_add_host(w, PAGES, MM_POLICY_ACCOUNTED);
	struct net_device *dev = calloc(1, sizeof(*dev));
	struct page **hold = calloc(PAGES, sizeof(*hold));
	struct critical_flow fl = { .kind = FLOW_IPV4,
				    .ip_proto = 17,
				    .peer_ip = htonl(0xc0000209u),
				    .peer_port = htons(7),
				    .local_port = htons(9) };
	int64_t allocs, ip_rx;
	unsigned want;
	size_t held;

	dev->ops = &canned_ops_v;
	dev->mtu = 1500;
	dev->rx_max = NETDEV_RX_MAX;
	memcpy(dev->mac, "\x02\0\0\0\0\x43", ETH_ALEN);
	snprintf(dev->name, sizeof(dev->name), "ring0");
	assert_int_equal(netdev_register(h->net, dev), 0);
	dev->ip = htonl(0xc0000243u);
	dev->netmask = htonl(0xffffff00u);
	canned.scatter = true;
	want = dev->rx_ring.want;
	/* room for 64 KiB: a linear part and sixteen pages */
	assert_int_equal(want, 16);

	/* the first read fills the ring */
	canned_udp(dev, 60);
	assert_int_equal(netdev_poll(dev), 1);
	assert_int_equal(canned.last_iovcnt, 1 + want);
	assert_int_equal(nf_stat(h, "dev.ring0.rx_ring_pages"), want);
	allocs = nf_stat(h, "mm.alloc.ok");
	ip_rx = h->net->st.ip_rx.v;
	for (int i = 0; i < 200; i++) {
		canned_udp(dev, 60);
		assert_int_equal(netdev_poll(dev), 1);
	}
	assert_int_equal(h->net->st.ip_rx.v, ip_rx + 200);
	/* no page per small frame (the slab may grow by a page or so) */
	assert_true(nf_stat(h, "mm.alloc.ok") - allocs < 4);
	assert_int_equal(nf_stat(h, "dev.ring0.rx_ring_pages"), want);

	/* a 64 KiB frame arrives whole; the ring replaces what it took */
	canned_udp(dev, 65535 + ETH_HLEN - 20);
	allocs = nf_stat(h, "mm.alloc.ok");
	assert_int_equal(netdev_poll(dev), 1);
	assert_int_equal(h->net->st.ip_rx.v, ip_rx + 201);
	assert_int_equal(h->net->st.ip_rx_bad_len.v, 0);
	assert_int_equal(dev->st.rx_gso_frames.v, 1);
	assert_int_equal(dev->st.rx_pfmemalloc.v, 0);
	canned_udp(dev, 60);
	assert_int_equal(netdev_poll(dev), 1);
	assert_true(nf_stat(h, "mm.alloc.ok") - allocs >= want);
	assert_int_equal(nf_stat(h, "dev.ring0.rx_ring_pages"), want);

	/*
	 * Refills failing: a big frame takes ring pages that are not
	 * replaced; with the ring short, the next frame is read as before,
	 * into pages allocated for it.
	 */
	assert_int_equal(
		mm_failinj_set(h->mm, "nth=1,always,site=rx_ring_refill"), 0);
	canned_udp(dev, 8000);
	assert_int_equal(netdev_poll(dev), 1);
	assert_true(nf_stat(h, "dev.ring0.rx_ring_refill_fail") > 0);
	assert_int_equal(nf_stat(h, "dev.ring0.rx_ring_pages"), want - 2);
	canned_udp(dev, 60);
	assert_int_equal(netdev_poll(dev), 1);
	assert_int_equal(h->net->st.ip_rx.v, ip_rx + 204);
	assert_int_equal(mm_failinj_set(h->mm, "off"), 0);

	/*
	 * Memory gone: the ring cannot refill and a critical frame goes down
	 * the ladder into net.rx, charged at its true size.
	 */
	fl.local_ip = dev->ip;
	assert_int_equal(netdev_flow_add(dev, &fl), 0);
	held = nf_exhaust(h, hold, PAGES);
	canned_udp(dev, 8000);
	assert_int_equal(netdev_poll(dev), 1);
	assert_int_equal(dev->st.rx_pfmemalloc.v, 1);
	assert_true(nf_stat(h, "dev.ring0.rx_ring_pages") < want);
	assert_int_equal(dev->st.rx_drop_no_memory.v, 0);
	assert_true(h->net->rsv_rx.hwm.v <= h->net->rsv_rx.size.v);
	assert_int_equal(h->net->st.ip_rx.v, ip_rx + 205);
	nf_release(h, hold, &held, held);
	nf_release_objects(h);

	netdev_flow_del(dev, &fl);
	netdev_unregister(dev);
	free(dev);
	free(hold);
	nf_free(w);
}

/*
 * The sim wire with segmentation offload (cfg.gso): TCP hands the wire
 * super-frames of MSS segments, which cross as one frame and arrive as
 * a coalesced frame, received into the ring.  The MSS stays the MTU's.
 * Both ways, every byte checked; then with the receiver's normal memory
 * gone, the large frames come through net.rx and the connection's
 * reserve, charged at their true size, within their bounds.
 */
static void test_tcp_gso_sim(void **state)
{
	struct sim_link_config cfg = { .gso = true };
	struct page **hold = calloc(PAGES, sizeof(*hold));
	struct world jw;
	size_t held;

	world_up_on(&jw, &cfg, 1500, 11);
	assert_int_equal(jw.cli.tp->mss, 1500 - 40 - 12);
	assert_int_equal(nf_stat(jw.a, "dev.sim0.offload_gso_tx"), 1);
	jw.cli.to_send = 4 << 20;
	jw.srv.to_send = 2 << 20;
	pump(&jw.cli);
	pump(&jw.srv);
	run_until_done(&jw);
	print_message(
		"gso: %lld super-frames of %lld frames sent, %lld coalesced received\n",
		(long long)jw.a->dev.st.tx_gso_frames.v,
		(long long)jw.a->dev.st.tx_frames.v,
		(long long)jw.b->dev.st.rx_gso_frames.v);
	assert_int_equal(jw.srv.received, jw.cli.to_send);
	assert_int_equal(jw.cli.received, jw.srv.to_send);
	assert_int_equal(jw.srv.bad + jw.cli.bad, 0);
	assert_true(jw.a->dev.st.tx_gso_frames.v > 0);
	assert_true(jw.b->dev.st.tx_gso_frames.v > 0);
	assert_int_equal(jw.b->dev.st.rx_gso_frames.v,
			 jw.a->dev.st.tx_gso_frames.v);
	/* far fewer frames than the 2900 segments of 1448 bytes */
	assert_true(jw.a->dev.st.tx_frames.v < (4 << 20) / 1448 / 4);
	assert_no_rx_drops(jw.a);
	assert_no_rx_drops(jw.b);
	assert_int_equal(jw.b->dev.st.rx_pfmemalloc.v, 0);
	assert_int_equal(nf_stat(jw.a, "tcp.retransmits"), 0);
	assert_int_equal(nf_stat(jw.b, "dev.sim1.rx_ring_pages"),
			 jw.b->dev.rx_ring.want);
	world_down(&jw);

	/*
	 * A peer's MSS far below the MTU: a super-frame of its segments can
	 * fit within the MTU, and must still go to the wire to be cut (its
	 * checksum is partial), never out as one plain frame.
	 */
	world_up_on(&jw, &cfg, 1500, 13);
	jw.cli.tp->mss = 536;
	jw.cli.to_send = 1 << 20;
	pump(&jw.cli);
	run_until_done(&jw);
	assert_int_equal(jw.srv.received, jw.cli.to_send);
	assert_int_equal(jw.srv.bad, 0);
	assert_true(jw.a->dev.st.tx_gso_frames.v > 0);
	assert_int_equal(nf_stat(jw.b, "tcp.rx_bad_csum"), 0);
	assert_int_equal(nf_stat(jw.a, "tcp.retransmits"), 0);
	world_down(&jw);

	/* the receiver's normal memory gone */
	world_up_on(&jw, &cfg, 1500, 12);
	assert_true((size_t)jw.b->net->rsv_rx.size.v >=
		    netbuf_frame_pages(NETDEV_RX_MAX));
	jw.srv.tp->rcvbuf = 256 * 1024;
	assert_int_equal(tcp_set_memalloc(jw.srv.tp), 0);
	held = nf_exhaust(jw.b, hold, PAGES);
	jw.cli.to_send = 2 << 20;
	pump(&jw.cli);
	run_until_done(&jw);
	print_message(
		"gso from the reserve: net.rx hwm %lld/%lld, rxq %lld/%lld, %lld coalesced\n",
		(long long)jw.b->net->rsv_rx.hwm.v,
		(long long)jw.b->net->rsv_rx.size.v,
		(long long)jw.srv.tp->sk.rxq_rsv.hwm.v,
		(long long)jw.srv.tp->sk.rxq_rsv.size.v,
		(long long)jw.b->dev.st.rx_gso_frames.v);
	assert_int_equal(jw.srv.received, jw.cli.to_send);
	assert_int_equal(jw.srv.bad, 0);
	assert_true(jw.b->dev.st.rx_pfmemalloc.v > 0);
	assert_true(jw.b->dev.st.rx_gso_frames.v > 0);
	assert_int_equal(jw.b->dev.st.rx_drop_no_memory.v, 0);
	assert_true(jw.b->net->rsv_rx.hwm.v <= jw.b->net->rsv_rx.size.v);
	/* coalesced frames charged at their true size: more pages than
	 * any frame of the MTU could take */
	assert_true(jw.b->net->rsv_rx.hwm.v >
		    netbuf_frame_pages(1500 + ETH_HLEN));
	assert_true(jw.srv.tp->sk.rxq_rsv.hwm.v <=
		    jw.srv.tp->sk.rxq_rsv.size.v);
	nf_release(jw.b, hold, &held, held);
	nf_release_objects(jw.b);
	free(hold);
	world_down(&jw);
}

/*
 * The capture of a super-frame: one large frame, its TCP checksum
 * completed (the wire would have done it per segment), so tshark
 * validates every captured super-frame's checksum as good.
 */
static void test_gso_capture(void **state)
{
	struct sim_link_config cfg = { .gso = true };
	char path[] = "/tmp/lb_gso_XXXXXX", cmd[512], out[64] = "";
	struct world jw;
	unsigned big = 0, bad = 1;
	FILE *p;
	int fd;

	if (system("command -v tshark >/dev/null 2>&1"))
		lb_skip("tshark not installed (apt-get install tshark)");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	world_up_on(&jw, &cfg, 1500, 21);
	assert_int_equal(net_capture_open(jw.a->net, path), 0);
	jw.cli.to_send = 1 << 20;
	pump(&jw.cli);
	run_until_done(&jw);
	assert_int_equal(jw.srv.received, jw.cli.to_send);
	net_capture_close(jw.a->net);
	world_down(&jw);
	snprintf(
		cmd, sizeof(cmd),
		"tshark -r '%s' -o tcp.check_checksum:TRUE -Y 'frame.len > 1514' "
		"-T fields -e tcp.checksum.status 2>/dev/null | sort | uniq -c | "
		"awk '$2 == 1 { g += $1 } $2 != 1 { b += $1 } END { print g + 0, b + 0 }'",
		path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	assert_int_equal(sscanf(out, "%u %u", &big, &bad), 2);
	print_message("capture: %u super-frames with a good checksum, %u bad\n",
		      big, bad);
	assert_true(big > 0);
	assert_int_equal(bad, 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_at_each_mtu),
		cmocka_unit_test(test_tcp_jumbo_from_the_reserve),
		cmocka_unit_test(test_rx_ladder_jumbo),
		cmocka_unit_test(test_rx_ring),
		cmocka_unit_test(test_tcp_gso_sim),
		cmocka_unit_test(test_gso_capture),
	};

	return lb_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
