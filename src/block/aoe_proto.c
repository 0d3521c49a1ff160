// SPDX-License-Identifier: MIT
/*
 * aoe_proto.c - parsing AoE headers, the IDENTIFY block, and the port that
 * shares the ethertype between initiators and targets of one net.
 */
#include <errno.h>
#include <string.h>
#include "aoe_proto.h"
#include "core/log.h"
#include "net/net.h"
#include "net/netbuf.h"
#include "net/proto.h"

int aoe_parse(const struct netbuf *nb, struct aoe_msg *m)
{
	uint8_t b[AOE_HDR_LEN + AOE_ATA_LEN];
	uint32_t total = netbuf_total(nb);
	const uint8_t *eh = nb->head + nb->mac_off;

	memset(m, 0, sizeof(*m));
	if (nb->rx_len >= ETH_HLEN) {
		memcpy(m->dst, eh, ETH_ALEN);
		memcpy(m->src, eh + ETH_ALEN, ETH_ALEN);
	}
	if (netbuf_copy_bits(nb, 0, b, lb_min(total, (uint32_t)sizeof(b))) ||
	    total < AOE_HDR_LEN)
		return -EINVAL;
	if (b[0] >> 4 != AOE_VERSION)
		return -EPROTO;
	m->flags = b[0] & 0x0f;
	m->error = b[1];
	m->shelf = (uint16_t)(b[2] << 8 | b[3]);
	m->slot = b[4];
	m->cmd = b[5];
	m->tag = (uint32_t)b[6] << 24 | (uint32_t)b[7] << 16 |
		 (uint32_t)b[8] << 8 | b[9];
	m->len = total - AOE_HDR_LEN;
	switch (m->cmd) {
	case AOE_CMD_ATA:
		if (m->len < AOE_ATA_LEN)
			return -EINVAL;
		m->ata.aflags = b[10];
		m->ata.err_feature = b[11];
		m->ata.scnt = b[12];
		m->ata.cmd_status = b[13];
		for (int i = 0; i < 6; i++)
			m->ata.lba |= (uint64_t)b[14 + i] << (8 * i);
		return 0;
	case AOE_CMD_CFG:
		if (m->len < AOE_CFG_LEN)
			return -EINVAL;
		m->cfg.bufcnt = (uint16_t)(b[10] << 8 | b[11]);
		m->cfg.fwver = (uint16_t)(b[12] << 8 | b[13]);
		m->cfg.scnt = b[14];
		m->cfg.ccmd = b[15] & 0x0f;
		m->cfg.cslen = (uint16_t)(b[16] << 8 | b[17]);
		if (m->cfg.cslen > AOE_CFG_STR_MAX ||
		    m->cfg.cslen > m->len - AOE_CFG_LEN)
			return -EINVAL;
		return 0;
	default:
		/* MAC mask lists, reservations, vendor commands */
		return 0;
	}
}

/* ---- IDENTIFY ------------------------------------------------------------ */

static void put_word(uint8_t *id, unsigned w, uint16_t v)
{
	id[2 * w] = (uint8_t)v;
	id[2 * w + 1] = (uint8_t)(v >> 8);
}

static uint16_t get_word(const uint8_t *id, unsigned w)
{
	return (uint16_t)(id[2 * w] | id[2 * w + 1] << 8);
}

/* ATA strings: space padded, the two bytes of each word swapped. */
static void put_string(uint8_t *id, unsigned first, unsigned words,
		       const char *s)
{
	size_t n = strlen(s);

	for (unsigned i = 0; i < 2 * words; i++) {
		uint8_t c = i < n ? (uint8_t)s[i] : ' ';

		id[2 * first + (i ^ 1)] = c;
	}
}

void aoe_identify_build(uint8_t id[AOE_IDENTIFY_LEN], uint64_t sectors,
			const char *serial, const char *model)
{
	uint64_t lba28 = lb_min(sectors, AOE_LBA28_MAX - 1);

	memset(id, 0, AOE_IDENTIFY_LEN);
	put_word(id, 0, 0x0040); /* fixed, non-removable ATA device */
	put_string(id, 10, 10, serial);
	put_string(id, 23, 4, "V1");
	put_string(id, 27, 20, model);
	put_word(id, 47, 0x8001); /* one sector per READ/WRITE MULTIPLE */
	put_word(id, 49, 0x0200); /* LBA supported */
	put_word(id, 60, (uint16_t)lba28);
	put_word(id, 61, (uint16_t)(lba28 >> 16));
	put_word(id, 80, 0x00f0); /* ATA-4 .. ATA-7 */
	put_word(id, 82, 0x4000);
	/* bit 14 must be one, bit 13 FLUSH CACHE EXT, bit 12 FLUSH CACHE,
	 * bit 10 the 48-bit address feature set */
	put_word(id, 83, 0x7400);
	put_word(id, 84, 0x4000);
	put_word(id, 85, 0x4000);
	put_word(id, 86, 0x3400);
	put_word(id, 87, 0x4000);
	for (unsigned w = 0; w < 4; w++)
		put_word(id, 100 + w, (uint16_t)(sectors >> (16 * w)));
}

void aoe_identify_parse(const uint8_t id[AOE_IDENTIFY_LEN], uint64_t *sectors,
			bool *lba48)
{
	uint64_t n = 0;

	*lba48 = (get_word(id, 83) | get_word(id, 86)) & (1u << 10);
	if (*lba48) {
		for (unsigned w = 0; w < 4; w++)
			n |= (uint64_t)get_word(id, 100 + w) << (16 * w);
	} else {
		n = (uint64_t)get_word(id, 61) << 16 | get_word(id, 60);
	}
	*sectors = n;
}

/* ---- the port ------------------------------------------------------------ */

struct aoe_port {
	struct net *net;
	struct list_head endpoints;
	unsigned nr_critical;
	struct counter rx_bad, unclaimed;
};

static void aoe_port_rcv(struct net_device *dev, struct netbuf *nb, void *arg)
{
	struct aoe_port *port = arg;
	struct aoe_endpoint *ep;
	bool seen = false;
	struct aoe_msg m;

	if (aoe_parse(nb, &m)) {
		net_drop(port->net, nb, &port->rx_bad, "aoe_rx_bad");
		return;
	}
	list_for_each_entry(ep, &port->endpoints, node) {
		switch (ep->rcv(ep, dev, nb, &m)) {
		case AOE_RX_TAKEN:
			return;
		case AOE_RX_SEEN:
			seen = true;
			break;
		case AOE_RX_PASS:
			break;
		}
	}
	if (seen)
		netbuf_free(nb);
	else
		net_drop(port->net, nb, &port->unclaimed, "aoe_unclaimed");
}

static struct ethertype_handler *port_handler(struct net *net)
{
	for (size_t i = 0; i < NET_ETHERTYPE_HANDLERS; i++) {
		struct ethertype_handler *h = &net->ethertypes[i];

		if (h->rcv == aoe_port_rcv && h->type == ETH_P_AOE)
			return h;
	}
	return NULL;
}

int aoe_port_join(struct net *net, struct aoe_endpoint *ep)
{
	struct ethertype_handler *h = port_handler(net);
	struct aoe_port *port;
	int err;

	ep->critical = false;
	if (h) {
		port = h->arg;
		list_add_tail(&ep->node, &port->endpoints);
		return 0;
	}
	port = mm_kmalloc(net->mm, sizeof(*port), MM_NORMAL | MM_ZERO, NULL);
	if (!port)
		return -ENOMEM;
	port->net = net;
	list_init(&port->endpoints);
	err = net_register_ethertype(net, ETH_P_AOE, false, aoe_port_rcv, port);
	if (err) {
		mm_kfree(net->mm, port);
		return err;
	}
	stats_add_counter(&net->host->stats, &port->rx_bad, "aoe.rx_bad");
	stats_add_counter(&net->host->stats, &port->unclaimed, "aoe.unclaimed");
	list_add_tail(&ep->node, &port->endpoints);
	return 0;
}

void aoe_port_leave(struct net *net, struct aoe_endpoint *ep)
{
	struct ethertype_handler *h = port_handler(net);
	struct aoe_port *port;

	LB_ASSERT(h);
	port = h->arg;
	aoe_port_set_critical(net, ep, false);
	list_del(&ep->node);
	if (!list_empty(&port->endpoints))
		return;
	net_unregister_ethertype(net, ETH_P_AOE);
	stats_remove(&net->host->stats, &port->rx_bad);
	stats_remove(&net->host->stats, &port->unclaimed);
	mm_kfree(net->mm, port);
}

void aoe_port_set_critical(struct net *net, struct aoe_endpoint *ep, bool on)
{
	struct ethertype_handler *h = port_handler(net);
	struct aoe_port *port;

	LB_ASSERT(h);
	port = h->arg;
	if (ep->critical == on)
		return;
	ep->critical = on;
	port->nr_critical = on ? port->nr_critical + 1 : port->nr_critical - 1;
	h->memory_critical = port->nr_critical > 0;
}
