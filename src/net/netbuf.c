// SPDX-License-Identifier: MIT
/*
 * netbuf.c - packet buffers: allocation with flags and reserve, clone,
 * trim, fragments and checksums.
 */
#include <errno.h>
#include "net.h"
#include "netbuf.h"
#include "proto.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "csum_partial folds bytes as a little-endian host reads them");

static struct netbuf_shared *alloc_shared(struct net *net, uint32_t need,
					  unsigned flags,
					  struct mm_reserve *rsv,
					  const struct mm_site *site)
{
	struct netbuf_shared *sh;

	if (need <= NETBUF_KMALLOC_MAX) {
		size_t bytes = need + sizeof(*sh);

		sh = __mm_kmalloc(net->mm, bytes, flags, rsv, site);
		if (!sh)
			return NULL;
		/* the class may be larger than asked: use all of it */
		sh->size = (uint32_t)(kmem_obj_cache(net->mm, sh)->size -
				      sizeof(*sh));
	} else if (need <= PAGE_SIZE - sizeof(*sh)) {
		struct page *p = __mm_page_alloc(net->mm, flags, rsv, site);

		if (!p)
			return NULL;
		sh = page_address(net->mm, p);
		sh->size = (uint32_t)(PAGE_SIZE - sizeof(*sh));
	} else {
		return NULL;
	}
	sh->refs = 1;
	return sh;
}

static void put_shared(struct net *net, struct netbuf_shared *sh)
{
	LB_ASSERT(sh->refs > 0);
	if (--sh->refs)
		return;
	if (virt_to_page(net->mm, sh)->flags & PG_SLAB)
		mm_kfree(net->mm, sh);
	else
		mm_page_put(net->mm, virt_to_page(net->mm, sh));
}

static struct netbuf *alloc_desc(struct net *net, unsigned flags,
				 struct mm_reserve *rsv,
				 const struct mm_site *site)
{
	struct netbuf *nb =
		__kmem_cache_alloc(&net->netbuf_cache, flags, rsv, site);

	if (!nb)
		return NULL;
	memset(nb, 0, offsetof(struct netbuf, frags));
	nb->net = net;
	list_init(&nb->node);
	nb->reserve = rsv;
	nb->pfmemalloc = mm_addr_pfmemalloc(net->mm, nb);
	return nb;
}

struct netbuf *__netbuf_alloc(struct net *net, uint32_t size, unsigned flags,
			      struct mm_reserve *rsv,
			      const struct mm_site *site)
{
	struct netbuf *nb;

	flags &= ~MM_ZERO;
	nb = alloc_desc(net, flags, rsv, site);
	if (!nb)
		return NULL;
	nb->shared =
		alloc_shared(net, size + NETBUF_HEADROOM, flags, rsv, site);
	if (!nb->shared) {
		kmem_cache_free(&net->netbuf_cache, nb);
		return NULL;
	}
	nb->head = (uint8_t *)(nb->shared + 1);
	nb->data = nb->head + NETBUF_HEADROOM;
	nb->pfmemalloc |= mm_addr_pfmemalloc(net->mm, nb->shared);
	nb->truesize = (uint32_t)(net->netbuf_cache.size + sizeof(*nb->shared) +
				  nb->shared->size);
	return nb;
}

struct netbuf *__netbuf_alloc_paged(struct net *net, uint32_t len,
				    unsigned flags, struct mm_reserve *rsv,
				    const struct mm_site *site)
{
	uint32_t lin = lb_min(len, (uint32_t)NETBUF_PAGED_LINEAR);
	struct netbuf *nb = __netbuf_alloc(net, lin, flags, rsv, site);
	uint32_t left = len - lin;

	if (!nb)
		return NULL;
	nb->len = lin;
	while (left) {
		struct page *p =
			__mm_page_alloc(net->mm, flags & ~MM_ZERO, rsv, site);
		uint32_t n = lb_min(left, (uint32_t)PAGE_SIZE);

		if (!p || netbuf_add_frag(nb, p, 0, n)) {
			if (p)
				mm_page_put(net->mm, p);
			netbuf_free(nb);
			return NULL;
		}
		mm_page_put(net->mm, p); /* the netbuf's reference remains */
		nb->pfmemalloc |= page_pfmemalloc(p);
		nb->truesize += PAGE_SIZE;
		left -= n;
	}
	return nb;
}

void netbuf_free(struct netbuf *nb)
{
	struct net *net;

	if (!nb)
		return;
	net = nb->net;
	LB_ASSERT(list_empty(&nb->node));
	for (unsigned i = 0; i < nb->nr_frags; i++)
		mm_page_put(net->mm, nb->frags[i].page);
	put_shared(net, nb->shared);
	kmem_cache_free(&net->netbuf_cache, nb);
}

struct netbuf *__netbuf_clone(struct netbuf *nb, unsigned flags,
			      struct mm_reserve *rsv,
			      const struct mm_site *site)
{
	struct netbuf *c = alloc_desc(nb->net, flags, rsv, site);
	bool pf;

	if (!c)
		return NULL;
	pf = c->pfmemalloc;
	memcpy(c, nb, sizeof(*c));
	list_init(&c->node);
	c->reserve = rsv ? rsv : nb->reserve;
	c->pfmemalloc = pf || nb->pfmemalloc;
	c->shared->refs++;
	for (unsigned i = 0; i < c->nr_frags; i++)
		mm_page_get(c->frags[i].page);
	return c;
}

void netbuf_trim(struct netbuf *nb, uint32_t len)
{
	if (len >= netbuf_total(nb))
		return;
	if (len <= nb->len) {
		nb->len = len;
		for (unsigned i = 0; i < nb->nr_frags; i++)
			mm_page_put(nb->net->mm, nb->frags[i].page);
		nb->nr_frags = 0;
		nb->data_len = 0;
		return;
	}
	len -= nb->len; /* > 0: the cut falls inside the fragments */
	nb->data_len = 0;
	for (unsigned i = 0; i < nb->nr_frags; i++) {
		struct netbuf_frag *f = &nb->frags[i];

		if (f->len > len)
			f->len = len;
		len -= f->len;
		nb->data_len += f->len;
		if (!len) {
			for (unsigned k = i + 1; k < nb->nr_frags; k++)
				mm_page_put(nb->net->mm, nb->frags[k].page);
			nb->nr_frags = (uint16_t)(i + 1);
			return;
		}
	}
}

void netbuf_consume(struct netbuf *nb, uint32_t n)
{
	uint32_t lin = lb_min(n, nb->len), drop = 0;

	netbuf_pull(nb, lin);
	n -= lin;
	while (n && drop < nb->nr_frags) {
		struct netbuf_frag *f = &nb->frags[drop];

		if (f->len <= n) {
			n -= f->len;
			nb->data_len -= f->len;
			mm_page_put(nb->net->mm, f->page);
			drop++;
		} else {
			f->off += n;
			f->len -= n;
			nb->data_len -= n;
			n = 0;
		}
	}
	if (drop) {
		memmove(nb->frags, nb->frags + drop,
			(nb->nr_frags - drop) * sizeof(nb->frags[0]));
		nb->nr_frags = (uint16_t)(nb->nr_frags - drop);
	}
}

int netbuf_add_frag(struct netbuf *nb, struct page *page, uint32_t off,
		    uint32_t len)
{
	if (nb->nr_frags == NETBUF_MAX_FRAGS)
		return -ENOSPC;
	LB_ASSERT(off + len <= PAGE_SIZE);
	mm_page_get(page);
	nb->frags[nb->nr_frags++] = (struct netbuf_frag){ page, off, len };
	nb->data_len += len;
	return 0;
}

uint32_t netbuf_truesize_for(const struct net *net, uint32_t size)
{
	uint32_t need = size + NETBUF_HEADROOM + sizeof(struct netbuf_shared);
	uint32_t buf = 1u << MM_KMALLOC_MIN_SHIFT;

	if (size > NETBUF_LINEAR_MAX)
		buf = 2048 + (uint32_t)PAGES_FOR(size - NETBUF_PAGED_LINEAR) *
				     PAGE_SIZE;
	else if (need > NETBUF_KMALLOC_MAX + sizeof(struct netbuf_shared))
		buf = PAGE_SIZE;
	else
		while (buf < need)
			buf <<= 1;
	return (uint32_t)net->netbuf_cache.size + buf;
}

uint32_t netbuf_frame_pages(uint32_t len)
{
	if (len <= NETBUF_LINEAR_MAX)
		return 2;
	return 2 + (uint32_t)PAGES_FOR(len - NETBUF_PAGED_LINEAR);
}

/*
 * Walk [off, off+len) of the packet, calling @fn on each contiguous run.
 * The runs are the packet's own bytes; @fn may write them when the caller
 * owns the packet (netbuf_store_bits).
 */
static int walk(const struct netbuf *nb, uint32_t off, uint32_t len,
		void (*fn)(const uint8_t *p, uint32_t n, void *arg), void *arg)
{
	if ((uint64_t)off + len > netbuf_total(nb))
		return -EINVAL;
	if (off < nb->len) {
		uint32_t n = lb_min(len, nb->len - off);

		fn(nb->data + off, n, arg);
		len -= n;
		off = 0;
	} else {
		off -= nb->len;
	}
	for (unsigned i = 0; i < nb->nr_frags && len; i++) {
		const struct netbuf_frag *f = &nb->frags[i];
		uint32_t n;

		if (off >= f->len) {
			off -= f->len;
			continue;
		}
		n = lb_min(len, f->len - off);
		fn((const uint8_t *)page_address(nb->net->mm, f->page) +
			   f->off + off,
		   n, arg);
		len -= n;
		off = 0;
	}
	return 0;
}

static void copy_run(const uint8_t *p, uint32_t n, void *arg)
{
	uint8_t **to = arg;

	memcpy(*to, p, n);
	*to += n;
}

int netbuf_copy_bits(const struct netbuf *nb, uint32_t off, void *to,
		     uint32_t len)
{
	uint8_t *cursor = to;

	return walk(nb, off, len, copy_run, &cursor);
}

static void store_run(const uint8_t *p, uint32_t n, void *arg)
{
	const uint8_t **from = arg;

	memcpy((uint8_t *)p, *from, n);
	*from += n;
}

int netbuf_store_bits(struct netbuf *nb, uint32_t off, const void *from,
		      uint32_t len)
{
	const uint8_t *cursor = from;

	return walk(nb, off, len, store_run, &cursor);
}

int netbuf_copy_into(struct netbuf *to, const struct netbuf *from, uint32_t len)
{
	uint8_t tmp[512];

	if (len > netbuf_total(to) || len > netbuf_total(from))
		return -EINVAL;
	for (uint32_t k = 0; k < len; k += sizeof(tmp)) {
		uint32_t c = lb_min((uint32_t)sizeof(tmp), len - k);

		netbuf_copy_bits(from, k, tmp, c);
		netbuf_store_bits(to, k, tmp, c);
	}
	return 0;
}

struct csum_state {
	uint32_t sum;
	bool odd; /* the previous run ended on an odd byte */
};

static void csum_run(const uint8_t *p, uint32_t n, void *arg)
{
	struct csum_state *s = arg;
	uint32_t part;

	if (!n)
		return;
	part = csum_partial(p, n, 0);
	/* A run that starts at an odd packet offset has its bytes swapped. */
	if (s->odd)
		part = ((part & 0xff00ff) << 8) | ((part >> 8) & 0xff00ff);
	s->sum += part;
	if (s->sum < part)
		s->sum++;
	s->odd ^= n & 1;
}

uint32_t netbuf_csum(const struct netbuf *nb, uint32_t off, uint32_t len,
		     uint32_t sum)
{
	struct csum_state s = { sum, false };

	LB_ASSERT(walk(nb, off, len, csum_run, &s) == 0);
	return s.sum;
}

uint32_t csum_partial(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;
	uint64_t acc = sum;

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, b, 8);
		acc += (v & 0xffffffff) + (v >> 32);
		b += 8;
		len -= 8;
	}
	while (len >= 2) {
		uint16_t v;

		memcpy(&v, b, 2);
		acc += v;
		b += 2;
		len -= 2;
	}
	if (len)
		acc += *b; /* little-endian: a trailing byte is the low half */
	while (acc >> 32)
		acc = (acc & 0xffffffff) + (acc >> 32);
	return (uint32_t)acc;
}
