// SPDX-License-Identifier: MIT
/*
 * arp.c - a bounded ARP cache with a bounded pending queue, and entries
 * pinned for memory-critical peers.
 *
 * The cache has ARP_TABLE_SIZE entries; a new one evicts the oldest entry
 * that is neither pinned nor holding frames.  Frames waiting for an answer
 * are bounded per entry and in total.  Only entries being resolved keep
 * the timer armed, so an idle host has no periodic work.
 */
#include <errno.h>
#include "net.h"
#include "proto.h"

#define ARP_RETRY_NS NSEC_PER_SEC
#define ARP_MAX_RETRIES 3
#define ARP_STALE_NS (60 * NSEC_PER_SEC)

static struct arp_entry *find(struct net *net, uint32_t ip)
{
	for (size_t i = 0; i < ARP_TABLE_SIZE; i++)
		if (net->arp[i].state != ARP_FREE && net->arp[i].ip == ip)
			return &net->arp[i];
	return NULL;
}

/*
 * The table's bounds: frames wait only on entries being resolved (or
 * refreshed), each entry holds what it counts, and the total is the sum.
 */
static void arp_check(const struct net *net)
{
	unsigned total = 0;

	for (size_t i = 0; i < ARP_TABLE_SIZE; i++) {
		const struct arp_entry *e = &net->arp[i];
		const struct netbuf *nb;
		unsigned n = 0;

		if (e->state == ARP_FREE) {
			LB_ASSERT(!e->nr_pending);
			continue;
		}
		list_for_each_entry(nb, &e->pending, node)
			n++;
		LB_ASSERT(n == e->nr_pending && n <= ARP_PENDING_PER_ENTRY);
		total += n;
	}
	LB_ASSERT(total == net->arp_pending_total && total <= ARP_PENDING_MAX);
}

const struct arp_entry *arp_lookup(const struct net *net, uint32_t ip)
{
	return find((struct net *)net, ip);
}

static void flush_pending(struct net *net, struct arp_entry *e,
			  struct counter *why, const char *reason)
{
	struct netbuf *nb, *tmp;

	list_for_each_entry_safe(nb, tmp, &e->pending, node) {
		list_del(&nb->node);
		net_drop(net, nb, why, reason);
	}
	net->arp_pending_total -= e->nr_pending;
	e->nr_pending = 0;
}

/* A free entry, or the oldest evictable one; NULL when all are pinned. */
static struct arp_entry *get_entry(struct net *net)
{
	struct arp_entry *victim = NULL;

	for (size_t i = 0; i < ARP_TABLE_SIZE; i++) {
		struct arp_entry *e = &net->arp[i];

		if (e->state == ARP_FREE)
			return e;
		if (e->critical || e->nr_pending)
			continue;
		if (!victim || e->updated < victim->updated)
			victim = e;
	}
	if (victim) {
		counter_inc(&net->st.arp_evictions);
		victim->state = ARP_FREE;
	}
	return victim;
}

static struct arp_entry *create(struct net *net, struct net_device *dev,
				uint32_t ip)
{
	struct arp_entry *e = get_entry(net);

	if (!e) {
		counter_inc(&net->st.arp_table_full);
		return NULL;
	}
	e->ip = ip;
	e->dev = dev;
	e->state = ARP_INCOMPLETE;
	e->updated = host_now(net->host);
	e->asked = false;
	e->retries = 0;
	e->critical = 0;
	e->nr_pending = 0;
	list_init(&e->pending);
	return e;
}

static int send_arp(struct net *net, struct net_device *dev, uint16_t op,
		    const uint8_t *tha, uint32_t tpa, const uint8_t *dst)
{
	struct netbuf *nb;
	struct arp_hdr *a;

	/* In memalloc context this charges net.ctl; elsewhere normal only. */
	nb = netbuf_alloc(net, sizeof(*a), MM_ATOMIC, &net->rsv_ctl);
	if (!nb) {
		counter_inc(&net->st.arp_drop_no_memory);
		return -ENOMEM;
	}
	a = (struct arp_hdr *)netbuf_put(nb, sizeof(*a));
	a->hrd = htons(ARP_HRD_ETHER);
	a->pro = htons(ETH_P_IP);
	a->hln = ETH_ALEN;
	a->pln = 4;
	a->op = htons(op);
	memcpy(a->sha, dev->mac, ETH_ALEN);
	a->spa = dev->ip;
	memcpy(a->tha, tha, ETH_ALEN);
	a->tpa = tpa;
	counter_inc(op == ARP_OP_REQUEST ? &net->st.arp_tx_request :
					   &net->st.arp_tx_reply);
	return eth_output(dev, nb, dst, ETH_P_ARP);
}

static void request(struct net *net, struct arp_entry *e)
{
	static const uint8_t zero[ETH_ALEN];

	e->last_request = host_now(net->host);
	e->asked = true;
	send_arp(net, e->dev, ARP_OP_REQUEST, zero, e->ip, eth_broadcast);
	if (e->state == ARP_INCOMPLETE)
		timer_arm_in(net->host->loop, &net->arp_timer, ARP_RETRY_NS);
}

static void arp_timer_fn(struct timer *t)
{
	struct net *net = container_of(t, struct net, arp_timer);
	uint64_t now = host_now(net->host);

	for (size_t i = 0; i < ARP_TABLE_SIZE; i++) {
		struct arp_entry *e = &net->arp[i];

		if (e->state != ARP_INCOMPLETE)
			continue;
		if (e->asked && now - e->last_request < ARP_RETRY_NS)
			continue;
		if (++e->retries > ARP_MAX_RETRIES && !e->critical) {
			flush_pending(net, e, &net->st.arp_drop_unresolved,
				      "arp_drop_unresolved");
			e->state = ARP_FREE;
			continue;
		}
		/* A pinned peer is asked for forever, but its queue is not kept. */
		if (e->retries > ARP_MAX_RETRIES)
			flush_pending(net, e, &net->st.arp_drop_unresolved,
				      "arp_drop_unresolved");
		request(net, e);
	}
	arp_check(net);
}

void arp_init(struct net *net)
{
	timer_init(&net->arp_timer, arp_timer_fn);
}

void arp_flush(struct net *net)
{
	timer_cancel(net->host->loop, &net->arp_timer);
	for (size_t i = 0; i < ARP_TABLE_SIZE; i++) {
		struct arp_entry *e = &net->arp[i];

		if (e->state != ARP_FREE)
			flush_pending(net, e, &net->st.arp_drop_unresolved,
				      "arp_drop_unresolved");
		e->state = ARP_FREE;
	}
}

static void resolved(struct net *net, struct arp_entry *e, const uint8_t *mac)
{
	struct netbuf *nb, *tmp;

	memcpy(e->mac, mac, ETH_ALEN);
	e->state = ARP_REACHABLE;
	e->updated = host_now(net->host);
	e->retries = 0;
	list_for_each_entry_safe(nb, tmp, &e->pending, node) {
		list_del(&nb->node);
		e->nr_pending--;
		net->arp_pending_total--;
		eth_output(e->dev, nb, e->mac, ETH_P_IP);
	}
	LB_ASSERT(!e->nr_pending && list_empty(&e->pending));
	arp_check(net);
}

void arp_rcv(struct net_device *dev, struct netbuf *nb)
{
	struct net *net = dev->net;
	struct arp_hdr *a = (struct arp_hdr *)nb->data;
	struct arp_entry *e;
	bool for_us;

	counter_inc(&net->st.arp_rx);
	if (nb->len < sizeof(*a) || a->hrd != htons(ARP_HRD_ETHER) ||
	    a->pro != htons(ETH_P_IP) || a->hln != ETH_ALEN || a->pln != 4 ||
	    mac_is_multicast(a->sha)) {
		net_drop(net, nb, &net->st.arp_rx_bad, "arp_rx_bad");
		return;
	}
	for_us = dev->ip && a->tpa == dev->ip;
	/* RFC 826: refresh what we know; learn the sender if it asks us. */
	e = find(net, a->spa);
	if (!e && for_us && a->spa)
		e = create(net, dev, a->spa);
	if (e)
		resolved(net, e, a->sha);
	if (for_us && a->op == htons(ARP_OP_REQUEST))
		send_arp(net, dev, ARP_OP_REPLY, a->sha, a->spa, a->sha);
	netbuf_free(nb);
}

int arp_resolve_and_send(struct net *net, struct net_device *dev,
			 uint32_t next_hop, struct netbuf *nb)
{
	struct arp_entry *e = find(net, next_hop);
	uint64_t now = host_now(net->host);

	if (e && e->state == ARP_REACHABLE) {
		/* Still used while being refreshed; asked at most once a second. */
		if (now - e->updated > ARP_STALE_NS &&
		    (!e->asked || now - e->last_request > ARP_RETRY_NS))
			request(net, e);
		return eth_output(dev, nb, e->mac, ETH_P_IP);
	}
	if (!e) {
		e = create(net, dev, next_hop);
		if (!e) {
			net_drop(net, nb, &net->st.arp_drop_pending_full,
				 "arp_table_full");
			return -ENOBUFS;
		}
	}
	if (nb->arp_no_queue) {
		/*
		 * Asked, so that a real client's retried SYN finds its
		 * address; the reply itself is not kept (a cookie needs no
		 * state, and the client repeats its SYN).
		 */
		net_drop(net, nb, &net->st.arp_drop_stateless,
			 "arp_drop_stateless");
		if (!e->asked || now - e->last_request >= ARP_RETRY_NS)
			request(net, e);
		return -EHOSTUNREACH;
	}
	if (e->nr_pending >= ARP_PENDING_PER_ENTRY ||
	    net->arp_pending_total >= ARP_PENDING_MAX) {
		net_drop(net, nb, &net->st.arp_drop_pending_full,
			 "arp_drop_pending_full");
		if (!e->asked)
			request(net, e);
		return -ENOBUFS;
	}
	list_add_tail(&nb->node, &e->pending);
	e->nr_pending++;
	net->arp_pending_total++;
	arp_check(net);
	if (!e->asked || now - e->last_request >= ARP_RETRY_NS)
		request(net, e);
	return 0;
}

void arp_purge_reserve(struct net *net, struct mm_reserve *rsv)
{
	for (size_t i = 0; i < ARP_TABLE_SIZE; i++) {
		struct arp_entry *e = &net->arp[i];
		struct netbuf *nb, *tmp;

		if (e->state == ARP_FREE)
			continue;
		list_for_each_entry_safe(nb, tmp, &e->pending, node) {
			if (nb->reserve != rsv)
				continue;
			list_del(&nb->node);
			e->nr_pending--;
			net->arp_pending_total--;
			net_drop(net, nb, &net->st.arp_drop_unresolved,
				 "arp_drop_socket_closed");
		}
	}
}

int arp_set_critical(struct net *net, uint32_t ip, bool on)
{
	uint32_t next_hop = ip;
	struct net_device *dev = net_route(net, ip, &next_hop);
	struct arp_entry *e;

	if (!dev)
		return -ENETUNREACH;
	e = find(net, next_hop);
	if (!on) {
		if (e && e->critical)
			e->critical--;
		return 0;
	}
	if (!e) {
		e = create(net, dev, next_hop);
		if (!e)
			return -ENOBUFS;
		request(net, e);
	}
	e->critical++;
	return 0;
}
