/* SPDX-License-Identifier: MIT */
/*
 * hog.h - take every page and every free cached object a normal
 * allocation could get, and give them back: how tests, fuzzers and
 * benchmarks put a host into the emergency (free memory at the reserve)
 * that write-back must survive.
 *
 * The hog allocates nothing itself: the caller hands it the arrays that
 * hold what it takes.
 */
#ifndef LB_MM_HOG_H
#define LB_MM_HOG_H

#include <stddef.h>
#include "slab.h"

struct mm_hog {
	struct mm *mm;
	struct page **pages;
	size_t nr_pages, max_pages;
	void **objs;
	size_t nr_objs, max_objs;
};

void mm_hog_init(struct mm_hog *h, struct mm *mm, struct page **pages,
		 size_t max_pages, void **objs, size_t max_objs);
/*
 * Take pages (MM_ATOMIC | MM_NOMEMALLOC) until none is left, then the free
 * objects of @caches and of every kmalloc class, so that no allocation
 * short of the reserve can succeed.  Returns the pages taken by this call.
 */
size_t mm_hog_take(struct mm_hog *h, struct kmem_cache *const *caches,
		   unsigned nr_caches);
/* Give back everything taken. */
void mm_hog_release(struct mm_hog *h);

#endif
