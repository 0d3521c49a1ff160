// SPDX-License-Identifier: MIT
/*
 * sock.c - socket lifetime, binding, the memory-critical flag and its
 * reserves, and the receive queue.
 */
#include <errno.h>
#include "net.h"
#include "proto.h"
#include "sock.h"

/* Pages that hold @bytes of netbufs from per-reserve slabs: whole pages
 * plus one partly used slab per cache that may serve them (the netbuf
 * cache and the kmalloc classes). */
#define SOCK_RESERVE_SLACK_PAGES (1 + MM_KMALLOC_CLASSES)

static size_t reserve_pages_for(size_t bytes)
{
	return PAGES_FOR(bytes) + SOCK_RESERVE_SLACK_PAGES;
}

static void sock_mem_woken(struct mm_waiter *w)
{
	struct sock *sk = container_of(w, struct sock, mem_waiter);

	sk->want_writable = false;
	if (sk->ops && sk->ops->writable)
		sk->ops->writable(sk);
}

void sock_init(struct sock *sk, struct net *net, uint8_t proto,
	       const struct sock_ops *ops, void *user)
{
	memset(sk, 0, sizeof(*sk));
	sk->net = net;
	sk->id = ++net->next_sock_id;
	sk->proto = proto;
	sk->ops = ops;
	sk->user = user;
	list_init(&sk->hash_node);
	list_init(&sk->rxq);
	sk->rcvbuf = UDP_RCVBUF_DEFAULT;
	mm_waiter_init(&sk->mem_waiter, sock_mem_woken, "socket send memory");
}

struct sock *sock_alloc(struct net *net, uint8_t proto,
			const struct sock_ops *ops, void *user)
{
	struct sock *sk = kmem_cache_alloc(&net->sock_cache, MM_ATOMIC, NULL);
	struct stats *s = &net->host->stats;

	if (!sk)
		return NULL;
	sock_init(sk, net, proto, ops, user);
	stats_add_counter(s, &sk->st.rx_datagrams, "sock.%u.rx_datagrams",
			  sk->id);
	stats_add_counter(s, &sk->st.tx_datagrams, "sock.%u.tx_datagrams",
			  sk->id);
	stats_add_counter(s, &sk->st.rx_drop_queue_full,
			  "sock.%u.rx_drop_queue_full", sk->id);
	stats_add_counter(s, &sk->st.tx_no_memory, "sock.%u.tx_no_memory",
			  sk->id);
	return sk;
}

static uint32_t port_hash(uint16_t port)
{
	return (uint32_t)(port * 2654435761u) >> 26 & (UDP_HASH_SIZE - 1);
}

static bool port_in_use(struct net *net, uint32_t ip, uint16_t port)
{
	struct sock *sk;

	list_for_each_entry(sk, &net->udp_hash[port_hash(port)], hash_node)
		if (sk->local.port == port &&
		    (!ip || !sk->local.ip || sk->local.ip == ip))
			return true;
	return false;
}

int sock_bind(struct sock *sk, uint32_t ip, uint16_t port)
{
	struct net *net = sk->net;

	if (sk->local.port)
		return -EINVAL;
	if (!port) {
		for (unsigned tries = 0; tries < 16384; tries++) {
			uint16_t p = net->next_ephemeral++;

			if (net->next_ephemeral < 49152)
				net->next_ephemeral = 49152;
			if (!port_in_use(net, ip, p)) {
				port = p;
				break;
			}
		}
		if (!port)
			return -EADDRINUSE;
	} else if (port_in_use(net, ip, port)) {
		return -EADDRINUSE;
	}
	sk->local.ip = ip;
	sk->local.port = port;
	list_add_tail(&sk->hash_node, &net->udp_hash[port_hash(port)]);
	return 0;
}

struct sock *sock_lookup(struct net *net, uint32_t saddr, uint16_t sport,
			 uint32_t daddr, uint16_t dport)
{
	struct sock *sk, *wild = NULL;

	list_for_each_entry(sk, &net->udp_hash[port_hash(dport)], hash_node) {
		if (sk->local.port != dport ||
		    (sk->local.ip && sk->local.ip != daddr))
			continue;
		if (sk->connected) {
			if (sk->remote.ip == saddr && sk->remote.port == sport)
				return sk;
			continue;
		}
		if (!wild)
			wild = sk;
	}
	return wild;
}

/* The critical flow of a connected flagged socket, for the classifier. */
static bool sock_flow(struct sock *sk, struct critical_flow *f,
		      struct net_device **dev)
{
	uint32_t next_hop;

	if (!sk->connected)
		return false;
	*dev = net_route(sk->net, sk->remote.ip, &next_hop);
	if (!*dev)
		return false;
	*f = (struct critical_flow){
		.kind = FLOW_IPV4,
		.ip_proto = sk->proto,
		.peer_ip = sk->remote.ip,
		.local_ip = sk->local.ip ? sk->local.ip : (*dev)->ip,
		.peer_port = htons(sk->remote.port),
		.local_port = htons(sk->local.port),
	};
	return true;
}

/* Pin or unpin what a flagged, connected socket needs to stay reachable. */
void sock_critical_path(struct sock *sk, bool on)
{
	struct critical_flow f;
	struct net_device *dev;

	if (!sock_flow(sk, &f, &dev))
		return;
	if (on) {
		netdev_flow_add(dev, &f);
		arp_set_critical(sk->net, sk->remote.ip, true);
	} else {
		netdev_flow_del(dev, &f);
		arp_set_critical(sk->net, sk->remote.ip, false);
	}
}

int sock_connect(struct sock *sk, const struct sock_addr *peer)
{
	uint32_t next_hop;
	int err;

	if (!peer->ip || !peer->port)
		return -EINVAL;
	if (!net_route(sk->net, peer->ip, &next_hop))
		return -ENETUNREACH;
	if (!sk->local.port) {
		err = sock_bind(sk, 0, 0);
		if (err)
			return err;
	}
	if (sock_memalloc(sk))
		sock_critical_path(sk, false);
	sk->remote = *peer;
	sk->connected = true;
	if (sock_memalloc(sk))
		sock_critical_path(sk, true);
	return 0;
}

/* The largest frame any device of the stack carries. */
static uint32_t max_frame(struct net *net)
{
	struct net_device *dev;
	uint32_t mtu = 1500;

	list_for_each_entry(dev, &net->devices, node)
		mtu = lb_max(mtu, dev->mtu);
	return mtu + ETH_HLEN;
}

int sock_set_memalloc(struct sock *sk, size_t tx_bytes, size_t rxq_bytes)
{
	struct net *net = sk->net;
	uint32_t max = netbuf_truesize_for(net, max_frame(net));
	int err;

	if (sock_memalloc(sk))
		return 0;
	/* A datagram in the device, and the ones ARP may hold for its peer. */
	if (!tx_bytes)
		tx_bytes = (size_t)(ARP_PENDING_PER_ENTRY + 1) * max;
	if (!rxq_bytes)
		rxq_bytes = sk->rcvbuf;
	snprintf(sk->rsv_names[0], MM_RESERVE_NAME_MAX, "net.tx.%u", sk->id);
	snprintf(sk->rsv_names[1], MM_RESERVE_NAME_MAX, "net.rxq.%u", sk->id);
	err = mm_reserve_add(net->mm, &sk->tx_rsv, &net->rsv_net,
			     sk->rsv_names[0], reserve_pages_for(tx_bytes));
	if (err)
		return err;
	err = mm_reserve_add(net->mm, &sk->rxq_rsv, &net->rsv_net,
			     sk->rsv_names[1], reserve_pages_for(rxq_bytes));
	if (err) {
		mm_reserve_remove(&sk->tx_rsv);
		return err;
	}
	sk->flags |= SOCK_MEMALLOC;
	sock_critical_path(sk, true);
	lb_info(&net->host->log,
		"net: socket %u is memory-critical: reserves %s %lld pages, %s %lld pages",
		sk->id, sk->rsv_names[0], (long long)sk->tx_rsv.size.v,
		sk->rsv_names[1], (long long)sk->rxq_rsv.size.v);
	return 0;
}

int sock_clear_memalloc(struct sock *sk)
{
	if (!sock_memalloc(sk))
		return 0;
	/* The charge must never outlive the flag. */
	if (sk->tx_rsv.used.v || sk->rxq_rsv.used.v)
		return -EBUSY;
	if (sk->mem_waiter.parked)
		mm_wait_cancel(sk->net->mm, &sk->mem_waiter);
	sock_critical_path(sk, false);
	LB_ASSERT(mm_reserve_remove(&sk->rxq_rsv) == 0);
	LB_ASSERT(mm_reserve_remove(&sk->tx_rsv) == 0);
	sk->flags &= ~SOCK_MEMALLOC;
	return 0;
}

void sock_wait_memory(struct sock *sk)
{
	if (sk->mem_waiter.parked)
		return;
	sk->want_writable = true;
	mm_wait(sk->net->mm, &sk->mem_waiter,
		sock_memalloc(sk) ? &sk->tx_rsv : NULL);
}

void sock_queue_rcv(struct sock *sk, struct netbuf *nb, uint32_t payload)
{
	list_add_tail(&nb->node, &sk->rxq);
	sk->rxq_bytes += nb->truesize;
	counter_inc(&sk->st.rx_datagrams);
	counter_add(&sk->st.rx_bytes, payload);
	if (sk->ops && sk->ops->readable)
		sk->ops->readable(sk);
}

ssize_t sock_recvfrom(struct sock *sk, void *buf, size_t len,
		      struct sock_addr *from)
{
	struct netbuf *nb;
	uint32_t n;

	if (list_empty(&sk->rxq))
		return -EAGAIN;
	nb = list_first_entry(&sk->rxq, struct netbuf, node);
	list_del(&nb->node);
	sk->rxq_bytes -= nb->truesize;
	n = (uint32_t)lb_min(len, (size_t)netbuf_total(nb));
	netbuf_copy_bits(nb, 0, buf, n);
	if (from)
		memcpy(from, nb->cb, sizeof(*from));
	netbuf_free(nb);
	return n;
}

void sock_close(struct sock *sk)
{
	struct net *net = sk->net;
	struct netbuf *nb, *tmp;
	struct stats *s = &net->host->stats;

	list_del(&sk->hash_node);
	list_for_each_entry_safe(nb, tmp, &sk->rxq, node) {
		list_del(&nb->node);
		netbuf_free(nb);
	}
	sk->rxq_bytes = 0;
	if (sk->mem_waiter.parked)
		mm_wait_cancel(net->mm, &sk->mem_waiter);
	if (sock_memalloc(sk)) {
		/* Frames still waiting on ARP hold the socket's reserve. */
		arp_purge_reserve(net, &sk->tx_rsv);
		LB_ASSERT(sock_clear_memalloc(sk) == 0);
	}
	stats_remove(s, &sk->st.rx_datagrams);
	stats_remove(s, &sk->st.tx_datagrams);
	stats_remove(s, &sk->st.rx_drop_queue_full);
	stats_remove(s, &sk->st.tx_no_memory);
	kmem_cache_free(&net->sock_cache, sk);
}
