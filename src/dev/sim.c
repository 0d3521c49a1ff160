// SPDX-License-Identifier: MIT
/*
 * sim.c - the simulated switch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "net/net.h"
#include "net/proto.h"
#include "sim.h"

struct sim_slot {
	struct timer timer;
	struct list_head node;
	struct sim_port *port;
	uint32_t len;
	uint8_t *frame;
};

void sim_link_init(struct sim_link *l, struct loop *loop, uint64_t seed,
		   const struct sim_link_config *cfg)
{
	memset(l, 0, sizeof(*l));
	l->loop = loop;
	prng_seed(&l->prng, seed);
	if (cfg)
		l->cfg = *cfg;
	if (!l->cfg.latency_ns)
		l->cfg.latency_ns = 50 * NSEC_PER_USEC;
	if (!l->cfg.reorder_ns)
		l->cfg.reorder_ns = 4 * l->cfg.latency_ns;
	if (!l->cfg.slots)
		l->cfg.slots = 512;
	list_init(&l->ports);
}

void sim_link_destroy(struct sim_link *l)
{
	LB_ASSERT(list_empty(&l->ports));
}

static void slot_arrived(struct timer *t)
{
	struct sim_slot *s = container_of(t, struct sim_slot, timer);
	struct sim_port *p = s->port;

	list_add_tail(&s->node, &p->arrived);
	counter_inc(&p->link->st.delivered);
	netdev_schedule_poll(p->dev);
}

static void send_to(struct sim_port *from, struct sim_port *to,
		    const uint8_t *frame, size_t len, uint64_t at)
{
	struct sim_link *l = from->link;
	struct sim_slot *s;

	if (len > to->frame_cap || list_empty(&to->free_slots)) {
		counter_inc(&l->st.dropped_full);
		return;
	}
	s = list_first_entry(&to->free_slots, struct sim_slot, node);
	list_del(&s->node);
	memcpy(s->frame, frame, len);
	s->len = (uint32_t)len;
	if (l->cfg.corrupt > 0 && prng_chance(&l->prng, l->cfg.corrupt)) {
		size_t at_byte = prng_below(&l->prng, len);

		s->frame[at_byte] ^= (uint8_t)(1u << prng_below(&l->prng, 8));
		counter_inc(&l->st.corrupted);
	}
	if (l->cfg.reorder > 0 && prng_chance(&l->prng, l->cfg.reorder)) {
		at += l->cfg.reorder_ns;
		counter_inc(&l->st.reordered);
	}
	timer_arm(l->loop, &s->timer, at);
}

static bool wants(const struct sim_port *p, const uint8_t *dst)
{
	return (dst[0] & 1) || !memcmp(p->dev->mac, dst, 6);
}

static int sim_xmit(struct net_device *dev, const uint8_t *frame, size_t len)
{
	struct sim_port *from = dev->priv, *to;
	struct sim_link *l = from->link;
	uint64_t now = loop_now(l->loop), start, at;
	bool known = false;

	if (l->down) {
		counter_inc(&l->st.dropped_down);
		return 0;
	}
	/* Serialisation on the sender's port, then propagation. */
	start = lb_max(now, from->busy_until);
	if (l->cfg.bandwidth_bps)
		from->busy_until = start + (uint64_t)len * 8 * NSEC_PER_SEC /
						   l->cfg.bandwidth_bps;
	else
		from->busy_until = start;
	at = from->busy_until + l->cfg.latency_ns;
	if (l->cfg.loss > 0 && prng_chance(&l->prng, l->cfg.loss)) {
		counter_inc(&l->st.lost);
		return 0;
	}
	list_for_each_entry(to, &l->ports, node)
		if (to != from && !memcmp(to->dev->mac, frame, 6))
			known = true;
	list_for_each_entry(to, &l->ports, node) {
		if (to == from || (known && !wants(to, frame)))
			continue;
		send_to(from, to, frame, len, at);
		if (l->cfg.dup > 0 && prng_chance(&l->prng, l->cfg.dup)) {
			counter_inc(&l->st.duplicated);
			send_to(from, to, frame, len, at + 1);
		}
	}
	return 0;
}

/*
 * A TCP super-frame (cfg.gso): gathered and sent whole, its checksum
 * finished here as the receiving side's hardware would have checked the
 * segments it coalesced.
 */
static int sim_xmit_gso(struct net_device *dev, const struct iovec *iov,
			unsigned cnt, size_t len, const struct tx_gso *g)
{
	struct sim_port *p = dev->priv;
	size_t off = 0;
	uint16_t c;

	if (!p->gso_buf || len > p->frame_cap ||
	    (size_t)g->csum_start + g->csum_offset + 2 > len)
		return -EOPNOTSUPP;
	for (unsigned i = 0; i < cnt; i++) {
		LB_ASSERT(off + iov[i].iov_len <= len);
		memcpy(p->gso_buf + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	LB_ASSERT(off == len);
	c = csum_fold(csum_partial(p->gso_buf + g->csum_start,
				   len - g->csum_start, 0));
	memcpy(p->gso_buf + g->csum_start + g->csum_offset, &c, 2);
	counter_inc(&p->link->st.gso_frames);
	return sim_xmit(dev, p->gso_buf, len);
}

static ssize_t sim_recvv(struct net_device *dev, const struct iovec *iov,
			 unsigned cnt, struct rx_meta *meta)
{
	struct sim_port *p = dev->priv;
	struct sim_slot *s;
	size_t n = 0;

	if (list_empty(&p->arrived))
		return 0;
	s = list_first_entry(&p->arrived, struct sim_slot, node);
	list_del(&s->node);
	for (unsigned i = 0; i < cnt && n < s->len; i++) {
		size_t k = lb_min(iov[i].iov_len, (size_t)s->len - n);

		memcpy(iov[i].iov_base, s->frame + n, k);
		n += k;
	}
	meta->wire_len = s->len;
	meta->gso = s->len > dev->mtu + ETH_HLEN;
	list_add(&s->node, &p->free_slots);
	return (ssize_t)n;
}

static ssize_t sim_recv(struct net_device *dev, uint8_t *buf, size_t cap,
			struct rx_meta *meta)
{
	struct iovec iov = { buf, cap };

	return sim_recvv(dev, &iov, 1, meta);
}

static void sim_close(struct net_device *dev)
{
	struct sim_port *p = dev->priv;

	for (unsigned i = 0; i < p->link->cfg.slots; i++)
		timer_cancel(p->link->loop, &p->slots[i].timer);
	list_del(&p->node);
	free(p->slots[0].frame);
	free(p->slots);
	free(p->gso_buf);
	free(p);
	dev->priv = NULL;
}

static const struct net_device_ops sim_ops = {
	.xmit = sim_xmit,
	.recv = sim_recv,
	.close = sim_close,
};

/* cfg.gso: also scatter reads (the receive ring) and super-frames */
static const struct net_device_ops sim_gso_ops = {
	.xmit = sim_xmit,
	.recv = sim_recv,
	.recvv = sim_recvv,
	.xmit_gso = sim_xmit_gso,
	.close = sim_close,
};

int dev_sim_init(struct net_device *dev, struct sim_link *l)
{
	struct sim_port *p = calloc(1, sizeof(*p));
	unsigned n = l->cfg.slots, nr = 0;
	uint8_t *frames;
	struct sim_port *q;

	if (!dev->mtu)
		dev->mtu = 1500;
	if (!p)
		return -ENOMEM;
	p->frame_cap = l->cfg.gso ? NETDEV_RX_MAX : dev->mtu + ETH_HLEN;
	p->slots = calloc(n, sizeof(*p->slots));
	frames = malloc((size_t)n * p->frame_cap);
	if (l->cfg.gso)
		p->gso_buf = malloc(p->frame_cap);
	if (!p->slots || !frames || (l->cfg.gso && !p->gso_buf)) {
		free(p->slots);
		free(frames);
		free(p->gso_buf);
		free(p);
		return -ENOMEM;
	}
	p->link = l;
	p->dev = dev;
	list_init(&p->free_slots);
	list_init(&p->arrived);
	for (unsigned i = 0; i < n; i++) {
		struct sim_slot *s = &p->slots[i];

		timer_init(&s->timer, slot_arrived);
		s->port = p;
		s->frame = frames + (size_t)i * p->frame_cap;
		list_add_tail(&s->node, &p->free_slots);
	}
	list_for_each_entry(q, &l->ports, node)
		nr++;
	list_add_tail(&p->node, &l->ports);
	if (!memcmp(dev->mac, "\0\0\0\0\0\0", 6)) {
		uint8_t mac[6] = {
			0x02, 0, 0, 0, (uint8_t)(nr >> 8), (uint8_t)(nr + 1)
		};

		memcpy(dev->mac, mac, 6);
	}
	if (!dev->name[0])
		snprintf(dev->name, sizeof(dev->name), "sim%u", nr);
	dev->ops = l->cfg.gso ? &sim_gso_ops : &sim_ops;
	dev->priv = p;
	if (l->cfg.gso) {
		dev->rx_max = NETDEV_RX_MAX;
		dev->tx_gso_max = NETDEV_RX_MAX;
	}
	return 0;
}
