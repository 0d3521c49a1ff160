/* SPDX-License-Identifier: MIT */
/*
 * mempool.h - pools with the kernel mempool_t guarantee.
 *
 * A pool keeps min_nr preallocated elements.  mempool_alloc() first tries
 * the underlying allocator without touching any reserve, then takes a
 * preallocated element, then retries the underlying allocator with the
 * caller's flags (which may reach the reserve).  mempool_free() refills the
 * pool before giving memory back.  So min_nr outstanding allocations always
 * succeed even with the arena exhausted, and a caller that finds the pool
 * empty parks on the pool and is woken by the next mempool_free().
 *
 * Free elements are linked through their own first word: the pool needs no
 * storage of its own beyond this structure.
 */
#ifndef LB_MM_MEMPOOL_H
#define LB_MM_MEMPOOL_H

#include "mm.h"
#include "slab.h"

struct mempool;

typedef void *(*mempool_alloc_fn)(struct mempool *p, unsigned flags,
				  const struct mm_site *site);
typedef void (*mempool_free_fn)(struct mempool *p, void *elem);

struct mempool {
	struct mm *mm;
	char name[32];
	unsigned min_nr, curr_nr;
	void *elements; /* singly linked through the first word */
	mempool_alloc_fn alloc;
	mempool_free_fn free;
	struct kmem_cache *cache; /* for slab-backed pools */
	struct mm_reserve *rsv; /* what the fallback charges */
	struct list_head waiters; /* struct mm_waiter, FIFO */
	struct task wake_task;
	struct counter st_alloc, st_from_pool, st_fail, st_waits;
	struct gauge st_curr;
	bool registered;
};

/* Generic; preallocates @min_nr elements with MM_NORMAL. 0 or -ENOMEM. */
int mempool_init(struct mempool *p, struct mm *mm, const char *name,
		 unsigned min_nr, mempool_alloc_fn alloc, mempool_free_fn free,
		 struct mm_reserve *rsv);
/* Objects of @cache. */
int mempool_init_slab(struct mempool *p, struct kmem_cache *cache,
		      const char *name, unsigned min_nr,
		      struct mm_reserve *rsv);
/* Whole pages (elements are page addresses). */
int mempool_init_pages(struct mempool *p, struct mm *mm, const char *name,
		       unsigned min_nr, struct mm_reserve *rsv);
/* Panics unless every element is back in the pool or freed. */
void mempool_destroy(struct mempool *p);

void *__mempool_alloc(struct mempool *p, unsigned flags,
		      const struct mm_site *site);
#define mempool_alloc(p, flags) __mempool_alloc(p, flags, MM_SITE)
void mempool_free(struct mempool *p, void *elem);
/* Park @w until an element is returned to @p. */
void mempool_wait(struct mempool *p, struct mm_waiter *w);

#endif
