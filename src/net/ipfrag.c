// SPDX-License-Identifier: MIT
/*
 * ipfrag.c - bounded IPv4 reassembly.
 *
 * At most net->ipfrag_queues datagrams (IPFRAG_QUEUES unless a world
 * models a larger bound, as Linux's ipfrag_high_thresh of 4 MiB: 64 of
 * them) are reassembled at once, each at most
 * IPFRAG_MAX_BYTES, each for at most IPFRAG_TIMEOUT_NS.  A fragment that
 * arrived in reserve memory is copied into the ip.frag reserve before it is
 * kept, so reassembly can never hold net.rx; if ip.frag is full it is
 * dropped and counted.  Overlapping fragments discard the whole datagram
 * (RFC 5722): there is no right answer to ambiguous data.
 */
#include <errno.h>
#include "net.h"
#include "proto.h"

static void queue_free(struct net *net, struct ipfrag_queue *q,
		       struct counter *why, const char *reason)
{
	struct netbuf *nb, *tmp;

	list_for_each_entry_safe(nb, tmp, &q->frags, node) {
		list_del(&nb->node);
		if (why)
			net_drop(net, nb, why, reason);
		else
			netbuf_free(nb);
	}
	q->used = false;
}

static void arm(struct net *net)
{
	uint64_t first = UINT64_MAX;

	for (size_t i = 0; i < net->ipfrag_queues; i++)
		if (net->frags[i].used && net->frags[i].expires < first)
			first = net->frags[i].expires;
	if (first == UINT64_MAX)
		timer_cancel(net->host->loop, &net->frag_timer);
	else
		timer_arm(net->host->loop, &net->frag_timer, first);
}

static void frag_timer_fn(struct timer *t)
{
	struct net *net = container_of(t, struct net, frag_timer);
	uint64_t now = host_now(net->host);

	for (size_t i = 0; i < net->ipfrag_queues; i++) {
		struct ipfrag_queue *q = &net->frags[i];

		if (q->used && q->expires <= now)
			queue_free(net, q, &net->st.ipfrag_drop_timeout,
				   "ipfrag_drop_timeout");
	}
	arm(net);
}

void ipfrag_init(struct net *net)
{
	timer_init(&net->frag_timer, frag_timer_fn);
}

void ipfrag_flush(struct net *net)
{
	for (size_t i = 0; i < net->ipfrag_queues; i++)
		if (net->frags[i].used)
			queue_free(net, &net->frags[i], NULL, NULL);
	timer_cancel(net->host->loop, &net->frag_timer);
}

static struct ipfrag_queue *find_queue(struct net *net, const struct ip_hdr *ip)
{
	struct ipfrag_queue *q, *free_q = NULL, *oldest = NULL;

	for (size_t i = 0; i < net->ipfrag_queues; i++) {
		q = &net->frags[i];
		if (!q->used) {
			if (!free_q)
				free_q = q;
			continue;
		}
		if (q->saddr == ip->saddr && q->daddr == ip->daddr &&
		    q->id == ip->id && q->proto == ip->proto)
			return q;
		if (!oldest || q->expires < oldest->expires)
			oldest = q;
	}
	q = free_q;
	if (!q) {
		/* All busy: the oldest datagram gives way to the newest. */
		q = oldest;
		queue_free(net, q, &net->st.ipfrag_drop_no_memory,
			   "ipfrag_drop_evicted");
	}
	q->used = true;
	q->saddr = ip->saddr;
	q->daddr = ip->daddr;
	q->id = ip->id;
	q->proto = ip->proto;
	q->total = 0;
	q->received = 0;
	q->pfmemalloc = false;
	q->expires = host_now(net->host) + IPFRAG_TIMEOUT_NS;
	list_init(&q->frags);
	arm(net);
	return q;
}

/* A reserve fragment is kept only as a copy charged to ip.frag. */
static struct netbuf *move_to_frag_reserve(struct net *net, struct netbuf *nb)
{
	uint32_t len = netbuf_total(nb);
	struct netbuf *copy;

	copy = netbuf_alloc(net, len, MM_ATOMIC | MM_MEMALLOC, &net->rsv_frag);
	if (!copy) {
		net_drop(net, nb, &net->st.ipfrag_drop_pfmemalloc,
			 "ipfrag_drop_pfmemalloc");
		return NULL;
	}
	netbuf_copy_bits(nb, 0, netbuf_put(copy, len), len);
	netbuf_set_network_header(copy);
	copy->dev = nb->dev;
	copy->protocol = nb->protocol;
	copy->csum_ok = nb->csum_ok;
	netbuf_free(nb);
	return copy;
}

static uint16_t frag_offset(const struct netbuf *nb)
{
	const struct ip_hdr *ip = (const void *)netbuf_network_header(nb);

	return (uint16_t)((ntohs(ip->frag_off) & IP_OFFMASK) * 8);
}

static uint32_t frag_payload(const struct netbuf *nb)
{
	const struct ip_hdr *ip = (const void *)netbuf_network_header(nb);

	return ntohs(ip->tot_len) - (ip->ver_ihl & 0xfu) * 4u;
}

/* Where the queued data ends: the fragments are sorted and never overlap. */
static uint32_t queued_end(const struct ipfrag_queue *q)
{
	const struct netbuf *last;

	if (list_empty(&q->frags))
		return 0;
	last = list_entry(q->frags.prev, struct netbuf, node);
	return frag_offset(last) + frag_payload(last);
}

/*
 * Build the datagram: the header and the start of the payload (transport
 * headers included) in the linear part, the rest in whole pages.
 */
static struct netbuf *reassemble(struct net *net, struct ipfrag_queue *q)
{
	struct netbuf *first = list_first_entry(&q->frags, struct netbuf, node);
	const struct ip_hdr *fip = (const void *)netbuf_network_header(first);
	uint32_t ihl = (fip->ver_ihl & 0xfu) * 4u;
	unsigned flags = MM_ATOMIC | (q->pfmemalloc ? MM_MEMALLOC : 0);
	struct netbuf *nb, *f;
	struct ip_hdr *ip;

	nb = netbuf_alloc_paged(net, ihl + q->total, flags, &net->rsv_frag);
	if (!nb)
		return NULL;
	netbuf_set_network_header(nb);
	list_for_each_entry(f, &q->frags, node) {
		uint32_t off = frag_offset(f), len = frag_payload(f);
		uint8_t tmp[512];

		for (uint32_t k = 0; k < len; k += sizeof(tmp)) {
			uint32_t c = lb_min((uint32_t)sizeof(tmp), len - k);

			netbuf_copy_bits(f, k, tmp, c);
			netbuf_store_bits(nb, ihl + off + k, tmp, c);
		}
	}
	ip = (struct ip_hdr *)nb->data;
	memcpy(ip, fip, ihl);
	ip->tot_len = htons((uint16_t)(ihl + q->total));
	ip->frag_off = 0;
	ip->check = 0;
	ip->check = csum_fold(csum_partial(ip, ihl, 0));
	nb->dev = first->dev;
	nb->protocol = first->protocol;
	nb->csum_ok = false;
	nb->pfmemalloc |= q->pfmemalloc;
	return nb;
}

struct netbuf *ipfrag_input(struct net *net, struct netbuf *nb)
{
	struct ip_hdr *ip = (struct ip_hdr *)netbuf_network_header(nb);
	uint16_t fo = ntohs(ip->frag_off);
	uint32_t off = (fo & IP_OFFMASK) * 8u, len = frag_payload(nb);
	bool more = fo & IP_MF;
	struct ipfrag_queue *q;
	struct netbuf *pos, *whole;

	counter_inc(&net->st.ipfrag_rx);
	if (!len || (more && (len & 7)) || off + len > 65535 - 20) {
		net_drop(net, nb, &net->st.ipfrag_drop_bad, "ipfrag_drop_bad");
		return NULL;
	}
	/* ipv4_rcv checked the header; data is at it, and moves past it. */
	if (nb->pfmemalloc) {
		nb = move_to_frag_reserve(net, nb);
		if (!nb)
			return NULL;
		ip = (struct ip_hdr *)netbuf_network_header(nb);
	}
	netbuf_pull(nb, (ip->ver_ihl & 0xfu) * 4u);
	q = find_queue(net, ip);
	/*
	 * A last fragment must not end before data already queued: the byte
	 * count could then match the length with a hole left inside.
	 */
	if (q->received + len > IPFRAG_MAX_BYTES ||
	    (!more && q->total && q->total != off + len) ||
	    (!more && queued_end(q) > off + len) ||
	    (q->total && off + len > q->total)) {
		net_drop(net, nb, &net->st.ipfrag_drop_bad, "ipfrag_drop_bad");
		queue_free(net, q, &net->st.ipfrag_drop_bad, "ipfrag_drop_bad");
		arm(net);
		return NULL;
	}
	/* Sorted insert; an exact duplicate is dropped, an overlap kills all. */
	list_for_each_entry(pos, &q->frags, node) {
		uint32_t po = frag_offset(pos), pl = frag_payload(pos);

		if (po == off && pl == len) {
			net_drop(net, nb, &net->st.ipfrag_drop_bad,
				 "ipfrag_duplicate");
			return NULL;
		}
		if (off < po + pl && po < off + len) {
			net_drop(net, nb, &net->st.ipfrag_drop_bad,
				 "ipfrag_overlap");
			queue_free(net, q, &net->st.ipfrag_drop_bad,
				   "ipfrag_overlap");
			arm(net);
			return NULL;
		}
		if (po > off)
			break;
	}
	list_add_tail(&nb->node, &pos->node);
	q->received += len;
	q->pfmemalloc |= nb->pfmemalloc;
	if (!more)
		q->total = off + len;
	if (!q->total || q->received != q->total)
		return NULL;
	whole = reassemble(net, q);
	queue_free(net, q, whole ? NULL : &net->st.ipfrag_drop_no_memory,
		   "ipfrag_drop_no_memory");
	arm(net);
	if (whole)
		counter_inc(&net->st.ipfrag_reassembled);
	return whole;
}
