// SPDX-License-Identifier: MIT
/*
 * rx_ring.c - receive pages kept between reads (see rx_ring.h).
 */
#include "net.h"
#include "netbuf.h"
#include "rx_ring.h"

_Static_assert(NETDEV_RX_RING_MAX == NETBUF_MAX_FRAGS,
	       "a ring page per fragment a netbuf can hold");

void rx_ring_init(struct net_device *dev, uint32_t cap)
{
	struct netdev_rx_ring *r = &dev->rx_ring;
	struct stats *st = &dev->net->host->stats;

	memset(r, 0, sizeof(*r));
	/* Frames that fit a linear buffer never need pages. */
	if (dev->ops->recvv && cap > NETBUF_LINEAR_MAX)
		r->want = (unsigned)PAGES_FOR(cap - NETBUF_PAGED_LINEAR);
	LB_ASSERT(r->want <= NETDEV_RX_RING_MAX);
	stats_add_gauge(st, &r->nr_pages, "dev.%s.rx_ring_pages", dev->name);
	stats_add_counter(st, &r->refill_fail, "dev.%s.rx_ring_refill_fail",
			  dev->name);
}

void rx_ring_fini(struct net_device *dev)
{
	struct netdev_rx_ring *r = &dev->rx_ring;
	struct stats *st = &dev->net->host->stats;

	while (r->held)
		mm_page_put(dev->net->mm, r->pages[--r->held]);
	stats_remove(st, &r->nr_pages);
	stats_remove(st, &r->refill_fail);
}

/* Top the ring up from normal memory; true when it is full. */
static bool refill(struct net_device *dev)
{
	struct netdev_rx_ring *r = &dev->rx_ring;
	static const struct mm_site site = { __FILE__, "rx_ring_refill",
					     __LINE__ };

	while (r->held < r->want) {
		struct page *p = __mm_page_alloc(
			dev->net->mm, MM_ATOMIC | MM_NOMEMALLOC, NULL, &site);

		if (!p) {
			counter_inc(&r->refill_fail);
			break;
		}
		r->pages[r->held++] = p;
	}
	gauge_set(&r->nr_pages, r->held);
	return r->held == r->want;
}

struct netbuf *rx_ring_take(struct net_device *dev, uint32_t cap)
{
	struct netdev_rx_ring *r = &dev->rx_ring;
	uint32_t left = cap - NETBUF_PAGED_LINEAR;
	struct netbuf *nb;

	if (!r->want || !refill(dev))
		return NULL;
	LB_ASSERT(cap > NETBUF_PAGED_LINEAR && PAGES_FOR(left) == r->want);
	nb = netbuf_alloc(dev->net, NETBUF_PAGED_LINEAR,
			  MM_ATOMIC | MM_NOMEMALLOC, NULL);
	if (!nb)
		return NULL;
	nb->len = NETBUF_PAGED_LINEAR;
	for (unsigned i = 0; i < r->want; i++) {
		uint32_t n = lb_min(left, (uint32_t)PAGE_SIZE);
		struct page *p = r->pages[r->held - 1 - i];

		/* the ring's reference becomes the netbuf's */
		LB_ASSERT(!page_pfmemalloc(p));
		netbuf_add_frag(nb, p, 0, n);
		mm_page_put(dev->net->mm, p);
		left -= n;
	}
	r->held -= r->want;
	gauge_set(&r->nr_pages, r->held);
	return nb;
}

void rx_ring_give_back(struct net_device *dev, struct netbuf *nb, uint32_t n)
{
	struct netdev_rx_ring *r = &dev->rx_ring;
	uint32_t end = nb->len;
	unsigned keep = 0;

	/* the fragments the frame reached stay with it */
	while (keep < nb->nr_frags && end < n)
		end += nb->frags[keep++].len;
	while (nb->nr_frags > keep) {
		struct netbuf_frag *f = &nb->frags[--nb->nr_frags];

		/* just read into: nobody else can hold it */
		LB_ASSERT(f->page->refcount == 1 && r->held < r->want);
		r->pages[r->held++] = f->page;
		nb->data_len -= f->len;
	}
	gauge_set(&r->nr_pages, r->held);
}
