// SPDX-License-Identifier: MIT
/*
 * udp.c - UDP datagrams in and out, with the reserve rules: a reserve
 * frame reaches only a flagged socket, which keeps a copy charged to its
 * own receive reserve; sends of a flagged socket may fall back to its
 * transmit reserve; nobody else ever touches a reserve.
 */
#include <errno.h>
#include "net.h"
#include "proto.h"
#include "sock.h"

struct sock *udp_socket(struct net *net, const struct sock_ops *ops, void *user)
{
	return sock_alloc(net, IPPROTO_UDP, ops, user);
}

static uint16_t udp_csum(uint32_t saddr, uint32_t daddr, struct netbuf *nb,
			 uint32_t len)
{
	uint16_t c = csum_fold(netbuf_csum(
		nb, 0, len, csum_pseudo(saddr, daddr, IPPROTO_UDP, len)));

	return c ? c : 0xffff; /* zero means "no checksum" on the wire */
}

ssize_t sock_sendto(struct sock *sk, const void *buf, size_t len,
		    const struct sock_addr *to)
{
	struct net *net = sk->net;
	struct sock_addr dst;
	struct net_device *dev;
	uint32_t next_hop, saddr;
	struct udp_hdr *uh;
	struct netbuf *nb;
	unsigned flags;
	int err;

	if (to)
		dst = *to;
	else if (sk->connected)
		dst = sk->remote;
	else
		return -EDESTADDRREQ;
	dev = net_route(net, dst.ip, &next_hop);
	if (!dev)
		return -ENETUNREACH;
	if (len > dev->mtu - sizeof(struct ip_hdr) - sizeof(*uh))
		return -EMSGSIZE;
	if (!sk->local.port) {
		err = sock_bind(sk, 0, 0);
		if (err)
			return err;
	}
	/* Normal memory first; the socket's own reserve only if flagged. */
	flags = MM_ATOMIC | (sock_memalloc(sk) ? MM_MEMALLOC : MM_NOMEMALLOC);
	nb = netbuf_alloc(net, (uint32_t)(sizeof(*uh) + len), flags,
			  sock_memalloc(sk) ? &sk->tx_rsv : NULL);
	if (!nb) {
		counter_inc(&net->st.udp_tx_no_memory);
		counter_inc(&sk->st.tx_no_memory);
		return -ENOMEM;
	}
	if (nb->pfmemalloc)
		counter_inc(&sk->st.tx_from_reserve);
	saddr = sk->local.ip ? sk->local.ip : dev->ip;
	uh = (struct udp_hdr *)netbuf_put(nb, sizeof(*uh));
	memcpy(netbuf_put(nb, (uint32_t)len), buf, len);
	uh->source = htons(sk->local.port);
	uh->dest = htons(dst.port);
	uh->len = htons((uint16_t)(sizeof(*uh) + len));
	uh->check = 0;
	uh->check = udp_csum(saddr, dst.ip, nb, (uint32_t)(sizeof(*uh) + len));
	counter_inc(&net->st.udp_tx);
	counter_inc(&sk->st.tx_datagrams);
	counter_add(&sk->st.tx_bytes, len);
	err = ipv4_output(net, nb, saddr, dst.ip, IPPROTO_UDP, IP_DEFAULT_TTL);
	/* Queued behind ARP counts as sent, as a real stack would say. */
	return err && err != -ENOBUFS ? err : (ssize_t)len;
}

void udp_rcv(struct net *net, struct netbuf *nb)
{
	const struct ip_hdr *ip = (const void *)netbuf_network_header(nb);
	struct udp_hdr *uh = (struct udp_hdr *)nb->data;
	uint32_t total = netbuf_total(nb), ulen, payload;
	struct sock_addr from;
	struct sock *sk;

	counter_inc(&net->st.udp_rx);
	if (nb->len < sizeof(*uh)) {
		net_drop(net, nb, &net->st.udp_rx_bad_len, "udp_rx_bad_len");
		return;
	}
	ulen = ntohs(uh->len);
	if (ulen < sizeof(*uh) || ulen > total) {
		net_drop(net, nb, &net->st.udp_rx_bad_len, "udp_rx_bad_len");
		return;
	}
	netbuf_trim(nb, ulen);
	if (uh->check && !nb->csum_ok &&
	    csum_fold(netbuf_csum(nb, 0, ulen,
				  csum_pseudo(ip->saddr, ip->daddr, IPPROTO_UDP,
					      (uint16_t)ulen))) != 0) {
		net_drop(net, nb, &net->st.udp_rx_bad_csum, "udp_rx_bad_csum");
		return;
	}
	from.ip = ip->saddr;
	from.port = ntohs(uh->source);
	sk = sock_lookup(net, ip->saddr, from.port, ip->daddr, ntohs(uh->dest));
	if (!sk) {
		net_drop(net, nb, &net->st.udp_rx_no_port, "udp_rx_no_port");
		return;
	}
	/* The point of it all: reserve memory is only for flagged sockets. */
	if (nb->pfmemalloc && !sock_memalloc(sk)) {
		net_drop(net, nb, &net->st.udp_drop_pfmemalloc,
			 "udp_drop_pfmemalloc");
		return;
	}
	payload = ulen - (uint32_t)sizeof(*uh);
	netbuf_pull(nb, sizeof(*uh));
	if (nb->pfmemalloc) {
		/* Keep a copy in the socket's reserve; net.rx is freed now. */
		struct netbuf *copy = netbuf_alloc_paged(
			net, payload, MM_ATOMIC | MM_MEMALLOC, &sk->rxq_rsv);

		if (!copy || netbuf_copy_into(copy, nb, payload)) {
			netbuf_free(copy);
			net_drop(net, nb, &net->st.udp_drop_rxq_reserve,
				 "udp_drop_rxq_reserve");
			return;
		}
		netbuf_free(nb);
		nb = copy;
		counter_inc(&sk->st.rx_pfmemalloc_kept);
	}
	/*
	 * An empty queue takes any datagram (as Linux lets one datagram
	 * overshoot): with its overhead a maximal one exceeds the default
	 * rcvbuf and could otherwise never be received.
	 */
	if (sk->rxq_bytes && sk->rxq_bytes + nb->truesize > sk->rcvbuf) {
		counter_inc(&sk->st.rx_drop_queue_full);
		net_drop(net, nb, &net->st.udp_drop_queue_full,
			 "udp_drop_queue_full");
		return;
	}
	memcpy(nb->cb, &from, sizeof(from));
	sock_queue_rcv(sk, nb, payload);
}
