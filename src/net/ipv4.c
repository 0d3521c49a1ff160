// SPDX-License-Identifier: MIT
/*
 * ipv4.c - IPv4 input validation and output with routing through ARP.
 *
 * Input checks every header field a hostile sender controls before it is
 * used: version, header length, total length against the frame, checksum,
 * and TTL.  We are a host, not a router: datagrams for other addresses are
 * dropped and counted, never forwarded.
 */
#include <errno.h>
#include "net.h"
#include "proto.h"
#include "sock.h"

static bool is_for_us(const struct net_device *dev, uint32_t daddr)
{
	uint32_t bcast = dev->ip | ~dev->netmask;

	return daddr == dev->ip || daddr == 0xffffffffu ||
	       (dev->netmask && daddr == bcast);
}

void ipv4_rcv(struct net_device *dev, struct netbuf *nb)
{
	struct net *net = dev->net;
	struct ip_hdr *ip = (struct ip_hdr *)nb->data;
	uint32_t ihl, tot;

	counter_inc(&net->st.ip_rx);
	if (nb->len < sizeof(*ip) || (ip->ver_ihl >> 4) != 4) {
		net_drop(net, nb, &net->st.ip_rx_bad_header,
			 "ip_rx_bad_header");
		return;
	}
	ihl = (ip->ver_ihl & 0xfu) * 4;
	tot = ntohs(ip->tot_len);
	if (ihl < sizeof(*ip) || ihl > nb->len) {
		net_drop(net, nb, &net->st.ip_rx_bad_header,
			 "ip_rx_bad_header");
		return;
	}
	if (tot < ihl || tot > netbuf_total(nb)) {
		net_drop(net, nb, &net->st.ip_rx_bad_len, "ip_rx_bad_len");
		return;
	}
	if (csum_fold(csum_partial(ip, ihl, 0)) != 0) {
		net_drop(net, nb, &net->st.ip_rx_bad_csum, "ip_rx_bad_csum");
		return;
	}
	if (!is_for_us(dev, ip->daddr)) {
		net_drop(net, nb, &net->st.ip_rx_not_for_us,
			 "ip_rx_not_for_us");
		return;
	}
	if (ip->ttl == 0) {
		net_drop(net, nb, &net->st.ip_rx_ttl_expired,
			 "ip_rx_ttl_expired");
		return;
	}
	/* Ethernet padding and anything past the datagram go. */
	netbuf_trim(nb, tot);
	LB_ASSERT(ihl >= sizeof(*ip) && ihl <= tot && ihl <= nb->len &&
		  netbuf_total(nb) == tot);
	if (ntohs(ip->frag_off) & (IP_MF | IP_OFFMASK)) {
		nb = ipfrag_input(net, nb);
		if (!nb)
			return;
		ip = (struct ip_hdr *)netbuf_network_header(nb);
		ihl = (ip->ver_ihl & 0xfu) * 4;
		/* reassembly hands back a whole datagram behind its header */
		LB_ASSERT(ihl >= sizeof(*ip) && ihl <= nb->len);
	}
	netbuf_pull(nb, ihl);
	netbuf_set_transport_header(nb);
	switch (ip->proto) {
	case IPPROTO_ICMP:
		icmp_rcv(net, nb);
		break;
	case IPPROTO_UDP:
		udp_rcv(net, nb);
		break;
	case IPPROTO_TCP:
		if (net->tcp_rcv) {
			net->tcp_rcv(net, nb);
			break;
		}
		/* fall through */
	default:
		net_drop(net, nb, &net->st.ip_rx_unknown_proto,
			 "ip_rx_unknown_proto");
		break;
	}
}

int ipv4_output(struct net *net, struct netbuf *nb, uint32_t saddr,
		uint32_t daddr, uint8_t proto, uint8_t ttl)
{
	uint32_t next_hop = daddr;
	struct net_device *dev = net_route(net, daddr, &next_hop);
	struct ip_hdr *ip;
	uint32_t tot = netbuf_total(nb) + sizeof(*ip);

	if (!dev) {
		net_drop(net, nb, &net->st.ip_tx_no_route, "ip_tx_no_route");
		return -ENETUNREACH;
	}
	/* a TCP super-frame goes whole to a wire that segments it */
	if (tot > dev->mtu && !(nb->gso_size && tot <= 0xffff &&
				tot + ETH_HLEN <= dev->tx_gso_max)) {
		/* Senders keep datagrams within the MTU; we do not fragment. */
		net_drop(net, nb, &net->st.ip_tx_too_big, "ip_tx_too_big");
		return -EMSGSIZE;
	}
	ip = (struct ip_hdr *)netbuf_push(nb, sizeof(*ip));
	netbuf_set_network_header(nb);
	ip->ver_ihl = 0x45;
	ip->tos = 0;
	ip->tot_len = htons((uint16_t)tot);
	ip->id = htons(net->ip_id++);
	ip->frag_off = htons(IP_DF);
	ip->ttl = ttl;
	ip->proto = proto;
	ip->check = 0;
	ip->saddr = saddr ? saddr : dev->ip;
	ip->daddr = daddr;
	ip->check = csum_fold(csum_partial(ip, sizeof(*ip), 0));
	counter_inc(&net->st.ip_tx);
	if (daddr == 0xffffffffu || (daddr | dev->netmask) == 0xffffffffu)
		return eth_output(dev, nb, eth_broadcast, ETH_P_IP);
	return arp_resolve_and_send(net, dev, next_hop, nb);
}
