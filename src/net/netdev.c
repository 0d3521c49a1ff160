// SPDX-License-Identifier: MIT
/*
 * netdev.c - device registration, the receive decision ladder, transmit,
 * and the early classifier.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "net.h"
#include "netdev.h"
#include "proto.h"
#include "rx_ring.h"

/* In the order of struct netdev_stats, which holds only counters. */
static const char *const netdev_stat_names[] = {
	"rx_frames",	     "rx_bytes",	 "tx_frames",
	"tx_bytes",	     "rx_pfmemalloc",	 "rx_drop_early",
	"rx_drop_no_memory", "rx_drop_oversize", "rx_drop_error",
	"tx_drop_error",     "tx_drop_oversize", "rx_reserve_bytes_saved",
	"rx_drop_critical",  "rx_gso_frames",	 "tx_gso_frames",
	"rx_batches",	     "rx_batch_frames",	 "rx_budget_spent",
	"tx_drop_queued",
};

_Static_assert(sizeof(struct netdev_stats) ==
		       ARRAY_SIZE(netdev_stat_names) * sizeof(struct counter),
	       "a name for every device counter");

static struct counter *netdev_counter(struct net_device *dev, size_t i)
{
	return (struct counter *)&dev->st + i;
}

static void poll_task_fn(struct task *t)
{
	netdev_poll(container_of(t, struct net_device, poll_task));
}

static void netdev_flush(struct net_device *dev)
{
	counter_add(&dev->st.tx_drop_queued, dev->ops->flush(dev));
}

static void flush_task_fn(struct task *t)
{
	netdev_flush(container_of(t, struct net_device, flush_task));
}

int netdev_register(struct net *net, struct net_device *dev)
{
	if (!dev->ops || !dev->ops->xmit || !dev->ops->recv || !dev->mtu ||
	    dev->mtu > NETDEV_MAX_MTU)
		return -EINVAL;
	if (!dev->name[0])
		snprintf(dev->name, sizeof(dev->name), "eth%u",
			 net->nr_devices);
	if (dev->rx_max > NETDEV_RX_MAX || dev->tx_gso_max > NETDEV_RX_MAX ||
	    (dev->tx_gso_max && !dev->ops->xmit_gso))
		return -EINVAL;
	/* Its largest frame must fit net.rx when that is the only memory. */
	if (net_rx_reserve_fit(net, netdev_rx_max(dev))) {
		lb_err(&net->host->log,
		       "dev %s: net.rx cannot hold a %u-byte frame: the reserve does not fit",
		       dev->name, netdev_rx_max(dev));
		return -ENOMEM;
	}
	dev->scratch =
		malloc(lb_max((uint32_t)NETDEV_SCRATCH, netdev_rx_max(dev)));
	/* also where a dropped frame is gathered for the capture (net_drop) */
	dev->txbuf = malloc(
		lb_max(lb_max((uint32_t)NETDEV_SCRATCH, netdev_rx_max(dev)),
		       dev->tx_gso_max));
	if (!dev->scratch || !dev->txbuf) {
		free(dev->scratch);
		free(dev->txbuf);
		return -ENOMEM;
	}
	dev->net = net;
	dev->ifindex = ++net->nr_devices;
	dev->pcap_ifid = -1;
	task_init(&dev->poll_task, poll_task_fn);
	task_init(&dev->flush_task, flush_task_fn);
	list_add_tail(&dev->node, &net->devices);
	for (size_t i = 0; i < ARRAY_SIZE(netdev_stat_names); i++)
		stats_add_counter(&net->host->stats, netdev_counter(dev, i),
				  "dev.%s.%s", dev->name, netdev_stat_names[i]);
	gauge_set(&dev->offload_gso_rx,
		  netdev_rx_max(dev) > dev->mtu + ETH_HLEN);
	gauge_set(&dev->rx_frame_max, netdev_rx_max(dev));
	stats_add_gauge(&net->host->stats, &dev->offload_gso_rx,
			"dev.%s.offload_gso_rx", dev->name);
	stats_add_gauge(&net->host->stats, &dev->rx_frame_max,
			"dev.%s.rx_frame_max", dev->name);
	gauge_set(&dev->offload_gso_tx, dev->tx_gso_max > 0);
	stats_add_gauge(&net->host->stats, &dev->offload_gso_tx,
			"dev.%s.offload_gso_tx", dev->name);
	rx_ring_init(dev, netdev_rx_max(dev));
	dev->up = true;
	return 0;
}

void netdev_unregister(struct net_device *dev)
{
	struct net *net = dev->net;

	dev->up = false;
	task_cancel(net->host->loop, &dev->poll_task);
	task_cancel(net->host->loop, &dev->flush_task);
	if (dev->ops->flush)
		netdev_flush(dev);
	if (dev->watch.added)
		loop_unwatch(net->host->loop, &dev->watch);
	for (size_t i = 0; i < ARRAY_SIZE(netdev_stat_names); i++)
		stats_remove(&net->host->stats, netdev_counter(dev, i));
	stats_remove(&net->host->stats, &dev->offload_gso_rx);
	stats_remove(&net->host->stats, &dev->rx_frame_max);
	stats_remove(&net->host->stats, &dev->offload_gso_tx);
	rx_ring_fini(dev);
	list_del(&dev->node);
	if (dev->ops->close)
		dev->ops->close(dev);
	free(dev->scratch);
	free(dev->txbuf);
	dev->scratch = dev->txbuf = NULL;
	if (dev->release)
		dev->release(dev);
}

/* The wire is gone for good (a pair's peer closed): stop listening. */
static void wire_gone(struct net_device *dev, ssize_t err)
{
	struct net *net = dev->net;

	lb_warn(&net->host->log, "dev %s: wire gone (%s); device down",
		dev->name, strerror((int)-err));
	dev->up = false;
	if (dev->watch.added)
		loop_unwatch(net->host->loop, &dev->watch);
}

void netdev_schedule_poll(struct net_device *dev)
{
	if (dev->up)
		task_queue(dev->net->host->loop, &dev->poll_task);
}

/* Bytes a frame costs in net.rx: its buffers plus a descriptor slot. */
static uint32_t reserve_cost(struct net *net, uint32_t len)
{
	return netbuf_truesize_for(net, len);
}

/*
 * A netbuf for a received frame of up to @len bytes: one linear buffer
 * when it fits a page, else a linear part and page fragments.
 */
static struct netbuf *rx_alloc(struct net *net, uint32_t len, unsigned flags,
			       struct mm_reserve *rsv)
{
	struct netbuf *nb;

	if (len <= NETBUF_LINEAR_MAX) {
		nb = netbuf_alloc(net, len, flags, rsv);
		if (nb)
			nb->len = len;
		return nb;
	}
	return netbuf_alloc_paged(net, len, flags, rsv);
}

/*
 * The frame turned out to be @n bytes: give back the fragments it did
 * not reach, so the netbuf holds (and its truesize says) only what the
 * frame needs.
 */
static void rx_fit(struct net *net, struct netbuf *nb, uint32_t n)
{
	netbuf_trim(nb, n);
	nb->truesize = (uint32_t)(net->netbuf_cache.size + sizeof(*nb->shared) +
				  nb->shared->size + nb->nr_frags * PAGE_SIZE);
}

/*
 * Read one frame of at most @cap bytes straight into @nb's buffers
 * (rx_alloc'ed for @cap).  Backends without a scatter read get a paged
 * netbuf through the scratch area.
 */
static ssize_t rx_read(struct net_device *dev, struct netbuf *nb, uint32_t cap,
		       struct rx_meta *meta)
{
	struct iovec iov[1 + NETBUF_MAX_FRAGS];
	unsigned cnt = 0;
	ssize_t n;

	if (!nb->nr_frags)
		return dev->ops->recv(dev, nb->data, cap, meta);
	if (!dev->ops->recvv) {
		n = dev->ops->recv(dev, dev->scratch, cap, meta);
		if (n > 0)
			netbuf_store_bits(nb, 0, dev->scratch, (uint32_t)n);
		return n;
	}
	iov[cnt++] = (struct iovec){ nb->data, nb->len };
	for (unsigned i = 0; i < nb->nr_frags; i++) {
		struct netbuf_frag *f = &nb->frags[i];

		iov[cnt++] = (struct iovec){
			(uint8_t *)page_address(dev->net->mm, f->page) + f->off,
			f->len
		};
	}
	return dev->ops->recvv(dev, iov, cnt, meta);
}

static void deliver(struct net_device *dev, struct netbuf *nb,
		    const struct rx_meta *meta)
{
	struct net *net = dev->net;
	bool pf = nb->pfmemalloc;
	char comment[160];
	uint32_t len = netbuf_total(nb);

	nb->dev = dev;
	nb->mac_off = (uint16_t)netbuf_headroom(nb);
	nb->rx_len = len;
	nb->tstamp = host_now(net->host);
	nb->csum_ok = meta->csum_unnecessary;
	counter_inc(&dev->st.rx_frames);
	counter_add(&dev->st.rx_bytes, len);
	if (len > dev->mtu + ETH_HLEN)
		counter_inc(&dev->st.rx_gso_frames);
	if (pf)
		counter_inc(&dev->st.rx_pfmemalloc);
	if (!net->pcap) {
		eth_rcv(dev, nb);
		return;
	}
	/*
	 * Capture after processing so the record carries the verdict; the
	 * frame is copied aside first because processing may free it.
	 */
	/* the copy fits the scratch area, sized at register */
	LB_ASSERT(len <= lb_max((uint32_t)NETDEV_SCRATCH, netdev_rx_max(dev)));
	netbuf_copy_bits(nb, 0, dev->scratch, len);
	/* what tshark checks is what a wire would have carried */
	if (meta->csum_partial && meta->csum_start < len &&
	    (uint32_t)meta->csum_start + meta->csum_offset + 2 <= len) {
		uint16_t c =
			csum_fold(csum_partial(dev->scratch + meta->csum_start,
					       len - meta->csum_start, 0));

		memcpy(dev->scratch + meta->csum_start + meta->csum_offset, &c,
		       2);
	}
	net->rx_cur = nb;
	net->rx_verdict = NULL;
	eth_rcv(dev, nb);
	net->rx_cur = NULL;
	snprintf(comment, sizeof(comment), "%s%s%s%s",
		 pf ? "received into reserve net.rx (pfmemalloc)" : "",
		 pf && net->rx_verdict ? "; " : "",
		 net->rx_verdict ? "dropped: " : "",
		 net->rx_verdict ? net->rx_verdict : "");
	net_capture(net, dev, dev->scratch, len, false,
		    comment[0] ? comment : NULL);
}

/*
 * A frame of a memory-critical flow lost before the stack saw it: the
 * storage connection it belongs to will make no progress while this
 * repeats, and nothing above can tell why.  Warned on the 1st, 8th,
 * 64th... so a persistent cause is seen without flooding the log.
 */
static void drop_critical(struct net_device *dev, uint32_t len, const char *why)
{
	uint64_t n = ++dev->st.rx_drop_critical.v;

	if (n & (n - 1) || __builtin_ctzll(n) % 3)
		return;
	lb_warn(&dev->net->host->log,
		"dev %s: dropped a %u-byte frame of a memory-critical flow: %s (%llu so far)",
		dev->name, len, why, (unsigned long long)n);
}

/* A frame we could not keep: count it and let the capture show it. */
static void drop_raw(struct net_device *dev, const uint8_t *frame, uint32_t len,
		     struct counter *c, const char *why)
{
	counter_inc(c);
	if (c != &dev->st.rx_drop_early && dev->nr_flows &&
	    netdev_flow_match(dev, frame, len))
		drop_critical(dev, len, why);
	host_trace(dev->net->host, "netdev.rx_drop", dev->ifindex, len, 0);
	if (dev->net->pcap) {
		char comment[128];

		snprintf(comment, sizeof(comment), "dropped at the device: %s",
			 why);
		net_capture(dev->net, dev, frame, len, false, comment);
	}
}

static void rx_error(struct net_device *dev, ssize_t err)
{
	counter_inc(&dev->st.rx_drop_error);
	if (err == -EPIPE)
		wire_gone(dev, err);
}

/*
 * One frame, down the ladder: normal memory; else the scratch area, the
 * classifier, and the net.rx reserve; else a counted drop.  Returns false
 * when the backend has nothing more.
 */
static bool rx_one(struct net_device *dev)
{
	struct net *net = dev->net;
	uint32_t cap = netdev_rx_max(dev);
	struct rx_meta meta = { 0 };
	struct netbuf *nb, *ring;
	ssize_t n;

	/* the ring's pages when it has them: a small frame keeps none */
	ring = rx_ring_take(dev, cap);
	nb = ring ? ring : rx_alloc(net, cap, MM_ATOMIC | MM_NOMEMALLOC, NULL);
	if (nb) {
		n = rx_read(dev, nb, cap, &meta);
		if (ring)
			rx_ring_give_back(dev, nb, n > 0 ? (uint32_t)n : 0);
		if (n <= 0 || meta.wire_len > cap) {
			if (n > 0) {
				rx_fit(net, nb, (uint32_t)n);
				netbuf_copy_bits(nb, 0, dev->scratch,
						 (uint32_t)n);
				drop_raw(dev, dev->scratch, (uint32_t)n,
					 &dev->st.rx_drop_oversize,
					 "longer than the MTU");
			}
			netbuf_free(nb);
			if (n < 0)
				rx_error(dev, n);
			return n > 0;
		}
		rx_fit(net, nb, (uint32_t)n);
		deliver(dev, nb, &meta);
		return true;
	}

	/* No normal memory: the frame still has to be taken off the wire. */
	n = dev->ops->recv(dev, dev->scratch, cap, &meta);
	if (n <= 0) {
		if (n < 0)
			rx_error(dev, n);
		return false;
	}
	if (meta.wire_len > cap) {
		drop_raw(dev, dev->scratch, (uint32_t)n,
			 &dev->st.rx_drop_oversize, "longer than the MTU");
		return true;
	}
	if (net->mm->policy == MM_POLICY_ACCOUNTED && dev->nr_flows &&
	    !netdev_flow_match(dev, dev->scratch, (size_t)n)) {
		counter_add(&dev->st.rx_reserve_saved,
			    reserve_cost(net, (uint32_t)n));
		drop_raw(dev, dev->scratch, (uint32_t)n, &dev->st.rx_drop_early,
			 "memory exhausted and not a critical flow");
		return true;
	}
	nb = rx_alloc(net, (uint32_t)n, MM_ATOMIC | MM_MEMALLOC, &net->rsv_rx);
	if (!nb) {
		drop_raw(dev, dev->scratch, (uint32_t)n,
			 &dev->st.rx_drop_no_memory,
			 "memory exhausted and net.rx full");
		return true;
	}
	netbuf_store_bits(nb, 0, dev->scratch, (uint32_t)n);
	deliver(dev, nb, &meta);
	return true;
}

unsigned netdev_poll(struct net_device *dev)
{
	unsigned n = 0;

	while (dev->up && n < NETDEV_POLL_BUDGET && rx_one(dev))
		n++;
	LB_ASSERT(n <= NETDEV_POLL_BUDGET);
	if (n) {
		counter_inc(&dev->st.rx_batches);
		counter_add(&dev->st.rx_batch_frames, n);
	}
	/* Budget spent: yield to other work and come back. */
	if (n == NETDEV_POLL_BUDGET) {
		counter_inc(&dev->st.rx_budget_spent);
		netdev_schedule_poll(dev);
	}
	return n;
}

/*
 * A TCP super-frame, handed to the wire as it is (linear part and page
 * references, no copy) for it to segment.  The capture records the large
 * frame, its checksum completed in the copy as a wire would carry it.
 */
static int xmit_gso(struct net_device *dev, struct netbuf *nb)
{
	struct iovec iov[1 + NETBUF_MAX_FRAGS];
	uint32_t len = netbuf_total(nb);
	const uint8_t *th = netbuf_transport_header(nb);
	struct tx_gso g = { .gso_size = nb->gso_size, .csum_offset = 16 };
	unsigned cnt = 0;
	int err;

	/* TCP over IPv4 built by tcp_output: headers in the linear part */
	LB_ASSERT(th > nb->data && th + 20 <= nb->data + nb->len);
	g.csum_start = (uint16_t)(th - nb->data);
	g.hdr_len = (uint16_t)(g.csum_start + ((th[12] >> 4) * 4));
	iov[cnt++] = (struct iovec){ nb->data, nb->len };
	for (unsigned i = 0; i < nb->nr_frags; i++) {
		struct netbuf_frag *f = &nb->frags[i];

		iov[cnt++] = (struct iovec){
			(uint8_t *)page_address(dev->net->mm, f->page) + f->off,
			f->len
		};
	}
	if (dev->net->pcap) {
		uint16_t c;

		netbuf_copy_bits(nb, 0, dev->txbuf, len);
		c = csum_fold(csum_partial(dev->txbuf + g.csum_start,
					   len - g.csum_start, 0));
		memcpy(dev->txbuf + g.csum_start + g.csum_offset, &c, 2);
		net_capture(dev->net, dev, dev->txbuf, len, true,
			    "TCP super-frame (GSO): the wire segments it");
	}
	err = dev->ops->xmit_gso(dev, iov, cnt, len, &g);
	if (err == -EOPNOTSUPP) {
		/* TCP sends plain frames from now on; this one is resent */
		lb_warn(&dev->net->host->log,
			"dev %s: the wire refused a TCP super-frame: GSO off",
			dev->name);
		dev->tx_gso_max = 0;
		gauge_set(&dev->offload_gso_tx, 0);
	}
	if (err) {
		counter_inc(&dev->st.tx_drop_error);
	} else {
		counter_inc(&dev->st.tx_frames);
		counter_inc(&dev->st.tx_gso_frames);
		counter_add(&dev->st.tx_bytes, len);
	}
	netbuf_free(nb);
	return err;
}

void netdev_readable(struct net_device *dev)
{
	if (!dev->poll_task.queued)
		netdev_poll(dev);
}

int netdev_xmit(struct net_device *dev, struct netbuf *nb)
{
	uint32_t len = netbuf_total(nb);
	const uint8_t *frame = nb->data;
	int err;

	/*
	 * A super-frame (even one within the MTU, of a peer's small MSS)
	 * only the wire may cut: its checksum is partial, its segments the
	 * peer's size.  A wire that stopped segmenting drops it; TCP
	 * resends its data in plain segments.
	 */
	if (nb->gso_size && len <= dev->tx_gso_max)
		return xmit_gso(dev, nb);
	if (len > dev->mtu + ETH_HLEN || nb->gso_size) {
		counter_inc(&dev->st.tx_drop_oversize);
		netbuf_free(nb);
		return -EMSGSIZE;
	}
	/* Fragments and runts go through the gather buffer (zero padded). */
	if (nb->nr_frags || len < ETH_ZLEN) {
		memset(dev->txbuf, 0, ETH_ZLEN);
		netbuf_copy_bits(nb, 0, dev->txbuf, len);
		frame = dev->txbuf;
		len = lb_max(len, (uint32_t)ETH_ZLEN);
	}
	if (dev->net->pcap)
		net_capture(dev->net, dev, frame, len, true,
			    nb->pfmemalloc ? "sent from reserve memory" : NULL);
	err = dev->ops->xmit(dev, frame, len);
	if (err) {
		counter_inc(&dev->st.tx_drop_error);
	} else {
		counter_inc(&dev->st.tx_frames);
		counter_add(&dev->st.tx_bytes, len);
		if (dev->ops->flush)
			loop_queue_flush(dev->net->host->loop,
					 &dev->flush_task);
	}
	netbuf_free(nb);
	return err;
}

/* ---- the early classifier -------------------------------------------- */

static bool flow_equal(const struct critical_flow *a,
		       const struct critical_flow *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == FLOW_ETHER)
		return a->ethertype == b->ethertype &&
		       !memcmp(a->peer_mac, b->peer_mac, ETH_ALEN);
	return a->ip_proto == b->ip_proto && a->peer_ip == b->peer_ip &&
	       a->local_ip == b->local_ip && a->peer_port == b->peer_port &&
	       a->local_port == b->local_port;
}

int netdev_flow_add(struct net_device *dev, const struct critical_flow *f)
{
	for (unsigned i = 0; i < dev->nr_flows; i++) {
		if (flow_equal(&dev->flows[i], f)) {
			dev->flows[i].users++;
			return 0;
		}
	}
	if (dev->nr_flows == NETDEV_MAX_FLOWS)
		return -ENOSPC;
	dev->flows[dev->nr_flows] = *f;
	dev->flows[dev->nr_flows++].users = 1;
	LB_ASSERT(dev->nr_flows <= NETDEV_MAX_FLOWS);
	return 0;
}

void netdev_flow_del(struct net_device *dev, const struct critical_flow *f)
{
	for (unsigned i = 0; i < dev->nr_flows; i++) {
		if (!flow_equal(&dev->flows[i], f))
			continue;
		LB_ASSERT(dev->flows[i].users > 0);
		if (--dev->flows[i].users == 0)
			dev->flows[i] = dev->flows[--dev->nr_flows];
		return;
	}
}

/*
 * ARP is always let through: resolving a critical peer needs it, and it is
 * small.  IPv4 fragments other than the first carry no ports: let them
 * through when a critical flow of that protocol exists with the sender
 * (reassembly is bounded by ip.frag).
 */
bool netdev_flow_match(const struct net_device *dev, const uint8_t *frame,
		       size_t len)
{
	const struct eth_hdr *eh = (const void *)frame;
	uint16_t type;

	if (len < ETH_HLEN)
		return false;
	type = ntohs(eh->type);
	if (type == ETH_P_ARP)
		return true;
	for (unsigned i = 0; i < dev->nr_flows; i++) {
		const struct critical_flow *f = &dev->flows[i];
		const struct ip_hdr *ip;
		const struct udp_hdr *ports;
		size_t ihl;
		uint16_t frag;

		if (f->kind == FLOW_ETHER) {
			if (type == f->ethertype &&
			    !memcmp(eh->src, f->peer_mac, ETH_ALEN))
				return true;
			continue;
		}
		if (type != ETH_P_IP || len < ETH_HLEN + sizeof(*ip))
			continue;
		ip = (const void *)(frame + ETH_HLEN);
		ihl = (size_t)(ip->ver_ihl & 0xf) * 4;
		if (ip->proto != f->ip_proto || ip->saddr != f->peer_ip ||
		    ip->daddr != f->local_ip)
			continue;
		frag = ntohs(ip->frag_off);
		if (frag & IP_OFFMASK)
			return true;
		if (ihl < sizeof(*ip) || len < ETH_HLEN + ihl + 4)
			continue;
		ports = (const void *)(frame + ETH_HLEN + ihl);
		if (ports->source == f->peer_port &&
		    ports->dest == f->local_port)
			return true;
	}
	return false;
}
