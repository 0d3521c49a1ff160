// SPDX-License-Identifier: MIT
/*
 * net.c - creating a host's stack, its reserves, routing, drops, capture,
 * and address helpers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "net.h"
#include "pcap.h"
#include "proto.h"
#include "sock.h"
#include "tcp.h"

static const char *const net_stat_names[] = {
#define NET_STAT_NAME(name) #name,
	NET_STATS(NET_STAT_NAME)
#undef NET_STAT_NAME
};

static struct counter *net_counter(struct net *net, size_t i)
{
	return (struct counter *)&net->st + i;
}

/*
 * Reserve sizes follow from the stack's bounds, not guesses:
 * - net.rx: a reserve frame lives only while the stack processes it
 *   (flagged sockets copy what they keep into their own reserve), so one
 *   frame in flight: a descriptor slab page and a data page, and the
 *   page fragments of a frame larger than a page when a device with a
 *   larger MTU registers (net_rx_reserve_fit).
 * - net.ctl: one ARP or ICMP control frame in flight, the same.
 * - ip.frag: one maximal datagram of MTU-sized fragments, each a data slot
 *   (two per page) and a descriptor (eight per page), plus partial pages,
 *   plus the reassembled copy (16 pages and a header buffer).
 */
#define NET_RX_FRAMES_IN_FLIGHT 1
#define PAGES_PER_FRAME 2

static size_t frag_reserve_pages(unsigned mtu)
{
	size_t per = mtu - 20, frags = DIV_ROUND_UP(65535, per);

	return DIV_ROUND_UP(frags, 2) + DIV_ROUND_UP(frags, 8) + 2 +
	       PAGES_FOR(65536) + 2;
}

static int net_reserves_add(struct net *net, const struct net_config *cfg)
{
	size_t rx = cfg->rx_reserve_pages ?
			    cfg->rx_reserve_pages :
			    NET_RX_FRAMES_IN_FLIGHT * PAGES_PER_FRAME;
	size_t ctl = cfg->ctl_reserve_pages ? cfg->ctl_reserve_pages :
					      PAGES_PER_FRAME;
	size_t frag = cfg->frag_reserve_pages ? cfg->frag_reserve_pages :
						frag_reserve_pages(1500);
	int err;

	err = mm_reserve_add(net->mm, &net->rsv_net, NULL, "net", 0);
	if (err)
		return err;
	err = mm_reserve_add(net->mm, &net->rsv_rx, &net->rsv_net, "net.rx",
			     rx);
	if (!err)
		err = mm_reserve_add(net->mm, &net->rsv_ctl, &net->rsv_net,
				     "net.ctl", ctl);
	if (!err)
		err = mm_reserve_add(net->mm, &net->rsv_frag, &net->rsv_net,
				     "ip.frag", frag);
	return err;
}

int net_rx_reserve_fit(struct net *net, uint32_t frame_len)
{
	size_t need =
		(size_t)NET_RX_FRAMES_IN_FLIGHT * netbuf_frame_pages(frame_len);

	if (net->rsv_rx.own >= need)
		return 0;
	return mm_reserve_resize(&net->rsv_rx, need);
}

static void net_reserves_remove(struct net *net)
{
	struct mm_reserve *r[] = { &net->rsv_frag, &net->rsv_ctl, &net->rsv_rx,
				   &net->rsv_net };

	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		if (r[i]->parent)
			LB_ASSERT(mm_reserve_remove(r[i]) == 0);
}

struct net *net_create(struct host *h, const struct net_config *cfg)
{
	static const struct net_config defaults;
	struct net *net;
	int err;

	LB_ASSERT(h->mm);
	if (!cfg)
		cfg = &defaults;
	net = calloc(1, sizeof(*net));
	if (!net)
		return NULL;
	net->host = h;
	net->mm = h->mm;
	list_init(&net->devices);
	for (size_t i = 0; i < UDP_HASH_SIZE; i++)
		list_init(&net->udp_hash[i]);
	for (size_t i = 0; i < ARP_TABLE_SIZE; i++)
		list_init(&net->arp[i].pending);
	for (size_t i = 0; i < IPFRAG_QUEUES_MAX; i++)
		list_init(&net->frags[i].frags);
	net->ipfrag_queues = IPFRAG_QUEUES;
	net->next_ephemeral = 49152;
	net->ip_id = (uint16_t)prng_next(&h->prng);
	err = net_reserves_add(net, cfg);
	if (err) {
		lb_err(&h->log, "net: the network reserves do not fit");
		net_reserves_remove(net);
		free(net);
		return NULL;
	}
	kmem_cache_init(&net->netbuf_cache, net->mm, "netbuf",
			sizeof(struct netbuf), 64);
	kmem_cache_init(&net->sock_cache, net->mm, "sock", sizeof(struct sock),
			64);
	for (size_t i = 0; i < ARRAY_SIZE(net_stat_names); i++)
		stats_add_counter(&h->stats, net_counter(net, i), "net.%s",
				  net_stat_names[i]);
	arp_init(net);
	ipfrag_init(net);
	if (tcp_init(net)) {
		lb_err(&h->log, "net: out of memory attaching TCP");
		net_destroy(net);
		return NULL;
	}
	h->net = net;
	return net;
}

void net_destroy(struct net *net)
{
	struct net_device *dev, *tmp;

	if (!net)
		return;
	tcp_fini(net);
	ipfrag_flush(net);
	arp_flush(net);
	list_for_each_entry_safe(dev, tmp, &net->devices, node)
		netdev_unregister(dev);
	net_capture_close(net);
	for (size_t i = 0; i < ARRAY_SIZE(net_stat_names); i++)
		stats_remove(&net->host->stats, net_counter(net, i));
	kmem_cache_destroy(&net->sock_cache);
	kmem_cache_destroy(&net->netbuf_cache);
	net_reserves_remove(net);
	if (net->host->net == net)
		net->host->net = NULL;
	free(net);
}

struct net_device *net_route(struct net *net, uint32_t ip, uint32_t *next_hop)
{
	struct net_device *dev, *gw_dev = NULL;

	list_for_each_entry(dev, &net->devices, node) {
		if (!dev->up || !dev->ip)
			continue;
		if ((ip & dev->netmask) == (dev->ip & dev->netmask)) {
			*next_hop = ip;
			return dev;
		}
		if (dev->gateway && !gw_dev)
			gw_dev = dev;
	}
	if (gw_dev)
		*next_hop = gw_dev->gateway;
	return gw_dev;
}

void net_drop(struct net *net, struct netbuf *nb, struct counter *c,
	      const char *reason)
{
	counter_inc(c);
	host_trace(net->host, "net.drop", nb->protocol, netbuf_total(nb), 0);
	if (nb == net->rx_cur) {
		net->rx_verdict = reason;
	} else if (net->pcap && nb->dev && nb->rx_len) {
		const uint8_t *frame = nb->head + nb->mac_off;
		uint32_t len = nb->rx_len;
		char comment[128];

		/*
		 * A frame with page fragments is gathered (the device's
		 * transmit buffer is free between transmissions); what
		 * processing has trimmed is gone.
		 */
		if (nb->nr_frags) {
			uint32_t lin = (uint32_t)(nb->data + nb->len - frame);

			len = lb_min(len, lin + nb->data_len);
			lin = lb_min(lin, len);
			memcpy(nb->dev->txbuf, frame, lin);
			netbuf_copy_bits(nb, nb->len, nb->dev->txbuf + lin,
					 len - lin);
			frame = nb->dev->txbuf;
		}
		snprintf(comment, sizeof(comment), "dropped later: %s", reason);
		net_capture(net, nb->dev, frame, len, false, comment);
	}
	list_del(&nb->node);
	netbuf_free(nb);
}

/* ---- capture ------------------------------------------------------------ */

int net_capture_open(struct net *net, const char *path)
{
	struct net_device *dev;

	if (net->pcap)
		return -EBUSY;
	net->pcap = pcap_open(path);
	if (!net->pcap)
		return -errno;
	list_for_each_entry(dev, &net->devices, node)
		dev->pcap_ifid = pcap_add_interface(net->pcap, dev->name);
	return 0;
}

void net_capture_close(struct net *net)
{
	struct net_device *dev;

	if (!net->pcap)
		return;
	pcap_close(net->pcap);
	net->pcap = NULL;
	list_for_each_entry(dev, &net->devices, node)
		dev->pcap_ifid = -1;
}

void net_capture(struct net *net, struct net_device *dev, const uint8_t *frame,
		 uint32_t len, bool out, const char *comment)
{
	struct pcap_seg seg = { frame, len };

	if (!net->pcap)
		return;
	if (dev->pcap_ifid < 0)
		dev->pcap_ifid = pcap_add_interface(net->pcap, dev->name);
	if (dev->pcap_ifid < 0)
		return;
	pcap_write(net->pcap, dev->pcap_ifid, host_now(net->host), &seg, 1, len,
		   out ? PCAP_DIR_OUT : PCAP_DIR_IN, comment);
}

/* ---- addresses ---------------------------------------------------------- */

int ip_parse(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = a.s_addr;
	return 0;
}

const char *ip_str(uint32_t ip, char buf[16])
{
	struct in_addr a = { ip };

	return inet_ntop(AF_INET, &a, buf, 16);
}

int mac_parse(const char *s, uint8_t mac[ETH_ALEN])
{
	unsigned v[ETH_ALEN];
	char tail;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2],
			 &v[3], &v[4], &v[5], &tail) != ETH_ALEN)
		return -EINVAL;
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

const char *mac_str(const uint8_t mac[ETH_ALEN], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
