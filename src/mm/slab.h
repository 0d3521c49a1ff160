/* SPDX-License-Identifier: MIT */
/*
 * slab.h - object caches carved from arena pages, with the pfmemalloc rule.
 *
 * A cache serves fixed-size objects from slabs of one page.  Slabs built
 * from normal pages serve everyone.  Slabs built from reserve pages
 * (pfmemalloc slabs) are kept apart, tagged with the reserve they charged,
 * and serve only memalloc requests charging that same reserve: the rest of
 * a reserve page never leaks to ordinary users (the check Linux weakened on
 * the SLUB fast path), and one consumer never spends another's share.
 * A pfmemalloc slab's page goes back to the reserve as soon as it empties.
 *
 * Order of preference for a memalloc request: partial normal slab, the
 * cached empty slab, a new normal page, a partial pfmemalloc slab of the
 * request's reserve, a new reserve page.
 *
 * The cache structure is the caller's (embedded); initialising one takes no
 * memory until the first allocation.
 */
#ifndef LB_MM_SLAB_H
#define LB_MM_SLAB_H

#include <stddef.h>
#include "mm.h"

struct kmem_cache {
	struct mm *mm;
	char name[32];
	size_t size; /* object stride */
	unsigned objs_per_slab;
	struct list_head partial, full; /* normal slabs */
	struct list_head pf_partial, pf_full; /* pfmemalloc slabs */
	struct page *empty; /* one empty normal slab kept for reuse */
	struct counter st_alloc, st_free, st_fail, st_pfmemalloc;
	struct gauge nr_slabs, nr_objs;
	bool registered;
};

/* @size >= 8 and <= PAGE_SIZE / 2; @align a power of two (0: 8). */
int kmem_cache_init(struct kmem_cache *c, struct mm *mm, const char *name,
		    size_t size, size_t align);
/* Panics if objects are still allocated; releases the cached slab. */
void kmem_cache_destroy(struct kmem_cache *c);
/* Give the cached empty slab back to the arena. */
void kmem_cache_shrink(struct kmem_cache *c);

void *__kmem_cache_alloc(struct kmem_cache *c, unsigned flags,
			 struct mm_reserve *rsv, const struct mm_site *site);
#define kmem_cache_alloc(c, flags, rsv) \
	__kmem_cache_alloc(c, flags, rsv, MM_SITE)
void kmem_cache_free(struct kmem_cache *c, void *obj);

static inline struct kmem_cache *kmem_obj_cache(const struct mm *mm,
						const void *obj)
{
	return virt_to_page(mm, obj)->slab_cache;
}

#endif
