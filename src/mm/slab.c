// SPDX-License-Identifier: MIT
/*
 * slab.c - object caches with pfmemalloc slabs kept apart per reserve.
 */
#include <errno.h>
#include <string.h>
#include "mm_internal.h"
#include "slab.h"

int kmem_cache_init(struct kmem_cache *c, struct mm *mm, const char *name,
		    size_t size, size_t align)
{
	struct stats *s = &mm->host->stats;

	if (!align)
		align = sizeof(void *);
	if ((align & (align - 1)) || size < sizeof(void *) ||
	    size > PAGE_SIZE / 2)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->mm = mm;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->size = ALIGN_UP(size, align);
	c->objs_per_slab = (unsigned)(PAGE_SIZE / c->size);
	list_init(&c->partial);
	list_init(&c->full);
	list_init(&c->pf_partial);
	list_init(&c->pf_full);
	c->registered =
		!(stats_add_counter(s, &c->st_alloc, "slab.%s.alloc", c->name) |
		  stats_add_counter(s, &c->st_free, "slab.%s.free", c->name) |
		  stats_add_counter(s, &c->st_fail, "slab.%s.fail", c->name) |
		  stats_add_counter(s, &c->st_pfmemalloc, "slab.%s.pfmemalloc",
				    c->name) |
		  stats_add_gauge(s, &c->nr_slabs, "slab.%s.slabs", c->name) |
		  stats_add_gauge(s, &c->nr_objs, "slab.%s.objects", c->name));
	return 0;
}

static void release_slab(struct kmem_cache *c, struct page *p)
{
	LB_ASSERT(p->inuse == 0);
	p->flags &= ~PG_SLAB;
	c->nr_slabs.v--;
	mm_page_release(c->mm, p);
}

void kmem_cache_shrink(struct kmem_cache *c)
{
	if (c->empty) {
		release_slab(c, c->empty);
		c->empty = NULL;
	}
}

void kmem_cache_destroy(struct kmem_cache *c)
{
	struct stats *s = &c->mm->host->stats;

	LB_ASSERTF(c->nr_objs.v == 0, "cache %s destroyed with %lld objects",
		   c->name, (long long)c->nr_objs.v);
	kmem_cache_shrink(c);
	LB_ASSERT(list_empty(&c->partial) && list_empty(&c->full) &&
		  list_empty(&c->pf_partial) && list_empty(&c->pf_full));
	stats_remove(s, &c->st_alloc);
	stats_remove(s, &c->st_free);
	stats_remove(s, &c->st_fail);
	stats_remove(s, &c->st_pfmemalloc);
	stats_remove(s, &c->nr_slabs);
	stats_remove(s, &c->nr_objs);
}

/* Turn a fresh page into an empty slab on the right partial list. */
static struct page *new_slab(struct kmem_cache *c, struct page *p)
{
	uint8_t *base = page_address(c->mm, p);
	void **link = &p->freelist;

	p->flags |= PG_SLAB;
	p->slab_cache = c;
	p->inuse = 0;
	for (unsigned i = 0; i < c->objs_per_slab; i++) {
		*link = base + i * c->size;
		link = (void **)*link;
	}
	*link = NULL;
	mm_poison(base, PAGE_SIZE);
	list_add(&p->lru, page_pfmemalloc(p) ? &c->pf_partial : &c->partial);
	c->nr_slabs.v++;
	return p;
}

static struct page *find_pf_slab(struct kmem_cache *c, struct mm_reserve *r)
{
	struct page *p;

	list_for_each_entry(p, &c->pf_partial, lru)
		if (p->reserve == r)
			return p;
	return NULL;
}

/*
 * Normal memory first, always; the reserve only for memalloc requests and
 * only through slabs charged to the reserve the request names.
 */
static struct page *get_slab(struct kmem_cache *c, unsigned flags,
			     struct mm_reserve *rsv)
{
	struct mm *mm = c->mm;
	bool memalloc = mm_memalloc_allowed(mm, flags) &&
			mm->policy != MM_POLICY_NONE;
	struct page *p;

	if (!list_empty(&c->partial))
		return list_first_entry(&c->partial, struct page, lru);
	if (c->empty) {
		p = c->empty;
		c->empty = NULL;
		list_add(&p->lru, &c->partial);
		return p;
	}
	p = mm_page_alloc_noinj(mm, flags | (memalloc ? MM_NOMEMALLOC : 0),
				rsv);
	if (p)
		return new_slab(c, p);
	if (!memalloc)
		return NULL;
	p = find_pf_slab(c, mm_effective_reserve(mm, rsv));
	if (p)
		return p;
	p = mm_page_alloc_noinj(mm, flags | MM_ATOMIC, rsv);
	return p ? new_slab(c, p) : NULL;
}

void *__kmem_cache_alloc(struct kmem_cache *c, unsigned flags,
			 struct mm_reserve *rsv, const struct mm_site *site)
{
	struct page *s;
	void *obj;

	if (unlikely(mm_failinj_hit(c->mm, site))) {
		counter_inc(&c->mm->st_fail_injected);
		counter_inc(&c->st_fail);
		return NULL;
	}
	s = get_slab(c, flags, rsv);
	if (unlikely(!s)) {
		counter_inc(&c->st_fail);
		return NULL;
	}
	obj = s->freelist;
	mm_unpoison(obj, c->size);
	s->freelist = *(void **)obj;
	if (++s->inuse == c->objs_per_slab)
		list_move_tail(&s->lru,
			       page_pfmemalloc(s) ? &c->pf_full : &c->full);
	if (page_pfmemalloc(s))
		counter_inc(&c->st_pfmemalloc);
	counter_inc(&c->st_alloc);
	c->nr_objs.v++;
	if (flags & MM_ZERO)
		memset(obj, 0, c->size);
	return obj;
}

void kmem_cache_free(struct kmem_cache *c, void *obj)
{
	struct page *s = virt_to_page(c->mm, obj);
	size_t off =
		(size_t)((uint8_t *)obj - (uint8_t *)page_address(c->mm, s));
	bool was_full, pf = page_pfmemalloc(s);

	LB_ASSERTF((s->flags & PG_SLAB) && s->slab_cache == c,
		   "free of %p to cache %s: not its object", obj, c->name);
	LB_ASSERTF(off % c->size == 0 && s->inuse > 0,
		   "free of %p to cache %s: bad pointer or double free", obj,
		   c->name);
	was_full = s->inuse == c->objs_per_slab;
	*(void **)obj = s->freelist;
	s->freelist = obj;
	mm_poison(obj, c->size);
	s->inuse--;
	c->nr_objs.v--;
	counter_inc(&c->st_free);
	if (s->inuse == 0) {
		list_del(&s->lru);
		/* A reserve page goes straight back to its reserve. */
		if (pf || c->empty)
			release_slab(c, s);
		else
			c->empty = s;
	} else if (was_full) {
		list_move_tail(&s->lru, pf ? &c->pf_partial : &c->partial);
	}
}
