// SPDX-License-Identifier: MIT
/*
 * icmp.c - ICMP echo.  Requests are answered in place (the request's buffer
 * becomes the reply), so answering a ping allocates nothing.  A request
 * that arrived in reserve memory is not for any memory-critical socket and
 * is dropped.
 */
#include "net.h"
#include "proto.h"
#include "sock.h"

void icmp_rcv(struct net *net, struct netbuf *nb)
{
	const struct ip_hdr *ip = (const void *)netbuf_network_header(nb);
	uint32_t len = netbuf_total(nb);
	struct icmp_hdr *ic = (struct icmp_hdr *)nb->data;
	uint32_t saddr = ip->saddr, daddr = ip->daddr;

	counter_inc(&net->st.icmp_rx);
	if (nb->len < sizeof(*ic) ||
	    csum_fold(netbuf_csum(nb, 0, len, 0)) != 0) {
		net_drop(net, nb, &net->st.icmp_rx_bad, "icmp_rx_bad");
		return;
	}
	if (ic->type != ICMP_ECHO_REQUEST || ic->code != 0) {
		/* Replies and errors have no consumer here yet. */
		netbuf_free(nb);
		return;
	}
	if (nb->pfmemalloc) {
		net_drop(net, nb, &net->st.icmp_drop_pfmemalloc,
			 "icmp_drop_pfmemalloc");
		return;
	}
	/* Reply to a unicast request only (no smurf amplification). */
	if (daddr != nb->dev->ip) {
		netbuf_free(nb);
		return;
	}
	ic->type = ICMP_ECHO_REPLY;
	ic->check = 0;
	ic->check = csum_fold(netbuf_csum(nb, 0, len, 0));
	counter_inc(&net->st.icmp_echo_replies);
	ipv4_output(net, nb, daddr, saddr, IPPROTO_ICMP, IP_DEFAULT_TTL);
}
