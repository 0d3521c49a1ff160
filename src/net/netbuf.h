/* SPDX-License-Identifier: MIT */
/*
 * netbuf.h - packet buffers.
 *
 * A netbuf is a descriptor (from the "netbuf" cache) plus a linear data
 * buffer (a kmalloc class, or a whole page for large frames) with headroom
 * for headers, plus up to NETBUF_MAX_FRAGS fragments that reference pages
 * owned by someone else: a page being written back is sent by reference
 * (its refcount held), never copied.
 *
 * The linear buffer starts with a small shared header holding its
 * reference count, so clones share the bytes; clones must not write the
 * shared bytes (push headers before cloning).
 *
 * Memory rules: every netbuf is allocated with explicit flags and the
 * reserve it may charge.  If the descriptor or the buffer came from the
 * reserve, ->pfmemalloc is set and ->reserve names what was charged;
 * freeing returns each part to the reserve it came from (the page knows).
 */
#ifndef LB_NET_NETBUF_H
#define LB_NET_NETBUF_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "core/list.h"
#include "mm/mm.h"
#include "mm/slab.h"

#define NETBUF_MAX_FRAGS 17
#define NETBUF_HEADROOM 128

struct net_device;
struct net;

struct netbuf_frag {
	struct page *page;
	uint32_t off, len;
};

struct netbuf_shared {
	int32_t refs;
	uint32_t size; /* usable bytes after this header */
};

struct netbuf {
	struct list_head node; /* for whoever queues it */
	struct net *net;
	struct netbuf_shared *shared;
	uint8_t *head; /* first usable byte of the buffer */
	uint8_t *data; /* first byte of the packet */
	uint32_t len; /* bytes at data (linear) */
	uint32_t data_len; /* bytes in frags */
	uint16_t nr_frags;
	/*
	 * A TCP super-frame for a wire that segments (TAP GSO): the payload
	 * bytes of each segment it stands for; 0 for an ordinary packet.
	 */
	uint16_t gso_size;
	/*
	 * A stateless reply (a SYN-cookie SYN-ACK): sent when the next hop is
	 * resolved, never queued waiting for ARP, so that replies to spoofed
	 * on-link sources cannot fill the pending queue real traffic needs.
	 */
	bool arp_no_queue;
	struct netbuf_frag frags[NETBUF_MAX_FRAGS];

	bool pfmemalloc; /* some of it came from the reserve */
	bool csum_ok; /* L4 checksum known good (or not computed) */
	struct mm_reserve *reserve; /* the reserve it may charge, if any */
	struct net_device *dev;
	uint16_t protocol; /* ethertype, host order */
	uint16_t network_off; /* from head */
	uint16_t transport_off; /* from head */
	uint16_t mac_off; /* received frames: where the frame starts */
	uint32_t rx_len; /* received frames: its length on arrival */
	uint32_t truesize; /* memory it holds: descriptor + buffer */
	uint64_t tstamp;
	/* scratch for the layer that owns the netbuf (e.g. sender address) */
	uint8_t cb[16] __attribute__((aligned(8)));
};

/* Total bytes (linear + fragments). */
static inline uint32_t netbuf_total(const struct netbuf *nb)
{
	return nb->len + nb->data_len;
}

static inline uint32_t netbuf_headroom(const struct netbuf *nb)
{
	return (uint32_t)(nb->data - nb->head);
}

static inline uint32_t netbuf_tailroom(const struct netbuf *nb)
{
	return nb->shared->size - netbuf_headroom(nb) - nb->len;
}

/*
 * Allocate a netbuf with @size bytes of linear room after NETBUF_HEADROOM.
 * @flags and @rsv as for mm allocations (MM_MEMALLOC + the reserve the
 * caller may charge).  NULL on failure; never waits.
 */
struct netbuf *__netbuf_alloc(struct net *net, uint32_t size, unsigned flags,
			      struct mm_reserve *rsv,
			      const struct mm_site *site);
#define netbuf_alloc(net, size, flags, rsv) \
	__netbuf_alloc(net, size, flags, rsv, MM_SITE)

/*
 * A netbuf holding @len bytes of (uninitialised) packet: as much as fits in
 * the linear part, the rest in whole pages attached as fragments, all from
 * @flags/@rsv.  For data of any size up to 64 KiB; fill it with
 * netbuf_store_bits().
 */
struct netbuf *__netbuf_alloc_paged(struct net *net, uint32_t len,
				    unsigned flags, struct mm_reserve *rsv,
				    const struct mm_site *site);
#define netbuf_alloc_paged(net, len, flags, rsv) \
	__netbuf_alloc_paged(net, len, flags, rsv, MM_SITE)

/* Free the descriptor, its frag references and its share of the buffer. */
void netbuf_free(struct netbuf *nb);

/* Share the linear data and the frag pages; NULL on failure. */
struct netbuf *__netbuf_clone(struct netbuf *nb, unsigned flags,
			      struct mm_reserve *rsv,
			      const struct mm_site *site);
#define netbuf_clone(nb, flags, rsv) __netbuf_clone(nb, flags, rsv, MM_SITE)

/* Grow the packet at the front (for a header); returns the new start. */
static inline uint8_t *netbuf_push(struct netbuf *nb, uint32_t n)
{
	LB_ASSERT(netbuf_headroom(nb) >= n);
	nb->data -= n;
	nb->len += n;
	return nb->data;
}

/* Consume @n bytes at the front; NULL if the linear part is shorter. */
static inline uint8_t *netbuf_pull(struct netbuf *nb, uint32_t n)
{
	if (n > nb->len)
		return NULL;
	nb->data += n;
	nb->len -= n;
	return nb->data;
}

/* Append @n bytes of linear room at the end; returns where they start. */
static inline uint8_t *netbuf_put(struct netbuf *nb, uint32_t n)
{
	uint8_t *p = nb->data + nb->len;

	LB_ASSERT(!nb->nr_frags && netbuf_tailroom(nb) >= n);
	nb->len += n;
	return p;
}

/* Remove @n bytes from the front, across the linear part and frags. */
void netbuf_consume(struct netbuf *nb, uint32_t n);

/* Cut the packet to @len bytes total (drops or shortens frags). */
void netbuf_trim(struct netbuf *nb, uint32_t len);

/* Reference @len bytes of @page at @off as the next fragment; -ENOSPC. */
int netbuf_add_frag(struct netbuf *nb, struct page *page, uint32_t off,
		    uint32_t len);

/* Copy @len bytes from packet offset @off into @to; -EINVAL if short. */
int netbuf_copy_bits(const struct netbuf *nb, uint32_t off, void *to,
		     uint32_t len);

/* Copy @len bytes from @from into the packet at offset @off; -EINVAL. */
int netbuf_store_bits(struct netbuf *nb, uint32_t off, const void *from,
		      uint32_t len);

/* Copy the first @len bytes of @from's packet into @to's; -EINVAL. */
int netbuf_copy_into(struct netbuf *to, const struct netbuf *from,
		     uint32_t len);

/*
 * Memory a netbuf of @size bytes holds (for queue and reserve sums): linear
 * up to a page, beyond that as netbuf_alloc_paged() lays it out.
 */
uint32_t netbuf_truesize_for(const struct net *net, uint32_t size);

/*
 * Pages one received frame of @len bytes can pin, as the receive path
 * allocates it (linear up to a page, page fragments beyond): a partly used
 * slab page for the descriptor, one for the buffer, plus the fragments.
 * What net.rx must hold per frame in flight.
 */
uint32_t netbuf_frame_pages(uint32_t len);

/* Largest linear area a kmalloc class can give (2048-byte class). */
#define NETBUF_KMALLOC_MAX (2048 - sizeof(struct netbuf_shared))
/* Linear bytes netbuf_alloc_paged() puts before its page fragments. */
#define NETBUF_PAGED_LINEAR (NETBUF_KMALLOC_MAX - NETBUF_HEADROOM)

/* Largest frame the receive path keeps in one linear buffer (a page). */
#define NETBUF_LINEAR_MAX \
	(PAGE_SIZE - NETBUF_HEADROOM - sizeof(struct netbuf_shared))

/* Internet checksum (unfolded 32-bit sum) of @len bytes from @off. */
uint32_t netbuf_csum(const struct netbuf *nb, uint32_t off, uint32_t len,
		     uint32_t sum);

static inline uint8_t *netbuf_network_header(const struct netbuf *nb)
{
	return nb->head + nb->network_off;
}

static inline uint8_t *netbuf_transport_header(const struct netbuf *nb)
{
	return nb->head + nb->transport_off;
}

static inline void netbuf_set_network_header(struct netbuf *nb)
{
	nb->network_off = (uint16_t)(nb->data - nb->head);
}

static inline void netbuf_set_transport_header(struct netbuf *nb)
{
	nb->transport_off = (uint16_t)(nb->data - nb->head);
}

#endif
