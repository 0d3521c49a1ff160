// SPDX-License-Identifier: MIT
/*
 * eth.c - Ethernet in and out, and the pfmemalloc protocol filter.
 */
#include <errno.h>
#include "net.h"
#include "proto.h"

int net_register_ethertype(struct net *net, uint16_t type, bool memory_critical,
			   void (*rcv)(struct net_device *dev,
				       struct netbuf *nb, void *arg),
			   void *arg)
{
	struct ethertype_handler *free_slot = NULL;

	for (size_t i = 0; i < NET_ETHERTYPE_HANDLERS; i++) {
		struct ethertype_handler *h = &net->ethertypes[i];

		if (h->rcv && h->type == type)
			return -EEXIST;
		if (!h->rcv && !free_slot)
			free_slot = h;
	}
	if (!free_slot)
		return -ENOSPC;
	*free_slot =
		(struct ethertype_handler){ type, memory_critical, rcv, arg };
	return 0;
}

void net_unregister_ethertype(struct net *net, uint16_t type)
{
	for (size_t i = 0; i < NET_ETHERTYPE_HANDLERS; i++)
		if (net->ethertypes[i].rcv && net->ethertypes[i].type == type)
			net->ethertypes[i].rcv = NULL;
}

static const struct ethertype_handler *find_handler(struct net *net,
						    uint16_t type)
{
	for (size_t i = 0; i < NET_ETHERTYPE_HANDLERS; i++)
		if (net->ethertypes[i].rcv && net->ethertypes[i].type == type)
			return &net->ethertypes[i];
	return NULL;
}

/*
 * Only the protocols memory-critical traffic needs are processed for a
 * frame that came from the reserve; anything else is dropped before it
 * can allocate.
 */
static bool pfmemalloc_protocol(struct net *net, uint16_t type)
{
	const struct ethertype_handler *h;

	if (type == ETH_P_ARP || type == ETH_P_IP)
		return true;
	h = find_handler(net, type);
	return h && h->memory_critical;
}

void eth_rcv(struct net_device *dev, struct netbuf *nb)
{
	struct net *net = dev->net;
	const struct ethertype_handler *h;
	struct mm_memalloc_ctx ctx;
	struct eth_hdr *eh;

	if (nb->len < ETH_HLEN) {
		net_drop(net, nb, &net->st.eth_rx_runt, "eth_rx_runt");
		return;
	}
	eh = (struct eth_hdr *)nb->data;
	if (memcmp(eh->dst, dev->mac, ETH_ALEN) && !mac_is_multicast(eh->dst)) {
		net_drop(net, nb, &net->st.eth_rx_not_for_us,
			 "eth_rx_not_for_us");
		return;
	}
	nb->protocol = ntohs(eh->type);
	if (nb->pfmemalloc && !pfmemalloc_protocol(net, nb->protocol)) {
		net_drop(net, nb, &net->st.rx_drop_pfmemalloc_proto,
			 "rx_drop_pfmemalloc_proto");
		return;
	}
	netbuf_pull(nb, ETH_HLEN);
	netbuf_set_network_header(nb);
	ctx = net_rx_memalloc_enter(net, nb);
	switch (nb->protocol) {
	case ETH_P_ARP:
		arp_rcv(dev, nb);
		break;
	case ETH_P_IP:
		ipv4_rcv(dev, nb);
		break;
	default:
		h = find_handler(net, nb->protocol);
		if (h)
			h->rcv(dev, nb, h->arg);
		else
			net_drop(net, nb, &net->st.eth_rx_unknown_type,
				 "eth_rx_unknown_type");
		break;
	}
	mm_memalloc_restore(net->mm, ctx);
}

int eth_output(struct net_device *dev, struct netbuf *nb, const uint8_t *dst,
	       uint16_t ethertype)
{
	struct eth_hdr *eh = (struct eth_hdr *)netbuf_push(nb, ETH_HLEN);

	memcpy(eh->dst, dst, ETH_ALEN);
	memcpy(eh->src, dev->mac, ETH_ALEN);
	eh->type = htons(ethertype);
	return netdev_xmit(dev, nb);
}
