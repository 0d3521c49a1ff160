/* SPDX-License-Identifier: MIT */
/*
 * rx_ring.h - a device's ring of pre-allocated receive pages (the page
 * pool of a NIC's RX ring).
 *
 * A wire that can deliver frames larger than one linear buffer (jumbo
 * MTU, TAP with coalesced GSO frames up to 64 KiB) must offer room for
 * its largest frame to every read, since it cannot tell in advance how
 * long the next one is.  Allocating those pages per read and freeing the
 * unused ones afterwards cost sixteen page allocations for a bare ACK.
 * The ring keeps the pages: a read scatters into them, the netbuf keeps
 * only the pages the frame reached, and only those are replaced.
 *
 * Memory rules: ring pages are normal memory (MM_ATOMIC|MM_NOMEMALLOC,
 * site "rx_ring_refill"), never the reserve; the pages the ring holds
 * are shown as dev.<if>.rx_ring_pages and failed refills as
 * dev.<if>.rx_ring_refill_fail.  When the ring cannot be filled (normal
 * memory gone) the receive ladder goes on as before: the scratch area,
 * the classifier, and net.rx charged at the frame's true size.  A frame
 * taken from the ring is charged (truesize) for the pages it keeps only.
 */
#ifndef LB_NET_RX_RING_H
#define LB_NET_RX_RING_H

#include <stdint.h>
#include "netdev.h"

/* Size @dev's ring for frames of up to @cap bytes; stats registered. */
void rx_ring_init(struct net_device *dev, uint32_t cap);
/* Free the pages held, remove the stats. */
void rx_ring_fini(struct net_device *dev);

/*
 * A netbuf with room for @cap bytes: a linear part and every ring page
 * attached as a fragment.  NULL when @dev has no ring, the ring cannot
 * be filled, or the linear part cannot be allocated (the caller goes on
 * down the ladder).
 */
struct netbuf *rx_ring_take(struct net_device *dev, uint32_t cap);

/*
 * The read into @nb (from rx_ring_take) returned @n bytes (0 when none):
 * the fragments it did not reach go back to the ring, so the netbuf
 * keeps only the pages the frame used.
 */
void rx_ring_give_back(struct net_device *dev, struct netbuf *nb, uint32_t n);

#endif
