// SPDX-License-Identifier: MIT
/*
 * mempool.c - preallocated elements behind an allocator, kernel semantics.
 */
#include <errno.h>
#include <string.h>
#include "mempool.h"
#include "mm_internal.h"

static void pool_push(struct mempool *p, void *elem)
{
	*(void **)elem = p->elements;
	p->elements = elem;
	p->curr_nr++;
	p->st_curr.v = p->curr_nr;
}

static void *pool_pop(struct mempool *p)
{
	void *elem = p->elements;

	p->elements = *(void **)elem;
	p->curr_nr--;
	p->st_curr.v = p->curr_nr;
	return elem;
}

static void mempool_wake_fn(struct task *t)
{
	struct mempool *p = container_of(t, struct mempool, wake_task);
	struct list_head pass;

	list_init(&pass);
	list_splice_init(&p->waiters, &pass);
	while (!list_empty(&pass) && p->curr_nr) {
		struct mm_waiter *w =
			list_first_entry(&pass, struct mm_waiter, node);

		list_del(&w->node);
		w->parked = false;
		p->mm->nr_waiting.v--;
		w->fn(w);
	}
	list_splice_init(&pass, &p->waiters);
}

static int pool_setup(struct mempool *p, struct mm *mm, const char *name,
		      unsigned min_nr, mempool_alloc_fn alloc,
		      mempool_free_fn free, struct mm_reserve *rsv,
		      struct kmem_cache *cache)
{
	struct stats *s = &mm->host->stats;

	memset(p, 0, sizeof(*p));
	p->mm = mm;
	p->cache = cache;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->min_nr = min_nr;
	p->alloc = alloc;
	p->free = free;
	p->rsv = rsv;
	list_init(&p->waiters);
	task_init(&p->wake_task, mempool_wake_fn);
	while (p->curr_nr < min_nr) {
		void *elem = p->alloc(p, MM_NORMAL, MM_SITE);

		if (!elem) {
			lb_err(&mm->host->log,
			       "mempool %s: cannot preallocate %u elements",
			       name, min_nr);
			while (p->curr_nr)
				p->free(p, pool_pop(p));
			return -ENOMEM;
		}
		pool_push(p, elem);
	}
	p->registered =
		!(stats_add_counter(s, &p->st_alloc, "mempool.%s.alloc", name) |
		  stats_add_counter(s, &p->st_from_pool, "mempool.%s.from_pool",
				    name) |
		  stats_add_counter(s, &p->st_fail, "mempool.%s.fail", name) |
		  stats_add_counter(s, &p->st_waits, "mempool.%s.waits", name) |
		  stats_add_gauge(s, &p->st_curr, "mempool.%s.curr", name));
	return 0;
}

int mempool_init(struct mempool *p, struct mm *mm, const char *name,
		 unsigned min_nr, mempool_alloc_fn alloc, mempool_free_fn free,
		 struct mm_reserve *rsv)
{
	return pool_setup(p, mm, name, min_nr, alloc, free, rsv, NULL);
}

static void *slab_elem_alloc(struct mempool *p, unsigned flags,
			     const struct mm_site *site)
{
	return __kmem_cache_alloc(p->cache, flags, p->rsv, site);
}

static void slab_elem_free(struct mempool *p, void *elem)
{
	kmem_cache_free(p->cache, elem);
}

int mempool_init_slab(struct mempool *p, struct kmem_cache *cache,
		      const char *name, unsigned min_nr, struct mm_reserve *rsv)
{
	return pool_setup(p, cache->mm, name, min_nr, slab_elem_alloc,
			  slab_elem_free, rsv, cache);
}

static void *page_elem_alloc(struct mempool *p, unsigned flags,
			     const struct mm_site *site)
{
	struct page *pg = __mm_page_alloc(p->mm, flags, p->rsv, site);

	return pg ? page_address(p->mm, pg) : NULL;
}

static void page_elem_free(struct mempool *p, void *elem)
{
	mm_page_put(p->mm, virt_to_page(p->mm, elem));
}

int mempool_init_pages(struct mempool *p, struct mm *mm, const char *name,
		       unsigned min_nr, struct mm_reserve *rsv)
{
	return mempool_init(p, mm, name, min_nr, page_elem_alloc,
			    page_elem_free, rsv);
}

void mempool_destroy(struct mempool *p)
{
	struct stats *s = &p->mm->host->stats;

	LB_ASSERTF(list_empty(&p->waiters), "mempool %s destroyed with waiters",
		   p->name);
	task_cancel(p->mm->host->loop, &p->wake_task);
	while (p->curr_nr)
		p->free(p, pool_pop(p));
	stats_remove(s, &p->st_alloc);
	stats_remove(s, &p->st_from_pool);
	stats_remove(s, &p->st_fail);
	stats_remove(s, &p->st_waits);
	stats_remove(s, &p->st_curr);
}

void *__mempool_alloc(struct mempool *p, unsigned flags,
		      const struct mm_site *site)
{
	void *elem;

	/* Leave the reserve and the pool for when they are needed. */
	elem = p->alloc(p, (flags | MM_NOMEMALLOC | MM_ATOMIC) & ~MM_ZERO,
			site);
	if (!elem && p->curr_nr) {
		elem = pool_pop(p);
		counter_inc(&p->st_from_pool);
	}
	if (!elem && mm_memalloc_allowed(p->mm, flags))
		elem = p->alloc(p, flags & ~MM_ZERO, site);
	if (!elem) {
		counter_inc(&p->st_fail);
		return NULL;
	}
	counter_inc(&p->st_alloc);
	return elem;
}

void mempool_free(struct mempool *p, void *elem)
{
	if (!elem)
		return;
	if (p->curr_nr < p->min_nr) {
		pool_push(p, elem);
		if (!list_empty(&p->waiters))
			task_queue(p->mm->host->loop, &p->wake_task);
		return;
	}
	p->free(p, elem);
}

void mempool_wait(struct mempool *p, struct mm_waiter *w)
{
	LB_ASSERT(!w->parked);
	w->parked = true;
	w->rsv = NULL;
	w->since = host_now(p->mm->host);
	p->mm->nr_waiting.v++;
	counter_inc(&p->st_waits);
	list_add_tail(&w->node, &p->waiters);
	if (p->curr_nr)
		task_queue(p->mm->host->loop, &p->wake_task);
}
