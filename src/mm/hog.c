// SPDX-License-Identifier: MIT
/*
 * hog.c - hold a host's memory at its reserve.
 */
#include "hog.h"

void mm_hog_init(struct mm_hog *h, struct mm *mm, struct page **pages,
		 size_t max_pages, void **objs, size_t max_objs)
{
	*h = (struct mm_hog){ .mm = mm,
			      .pages = pages,
			      .max_pages = max_pages,
			      .objs = objs,
			      .max_objs = max_objs };
}

static void hog_cache(struct mm_hog *h, struct kmem_cache *c)
{
	void *o;

	while (h->nr_objs < h->max_objs &&
	       (o = kmem_cache_alloc(c, MM_ATOMIC | MM_NOMEMALLOC, NULL)))
		h->objs[h->nr_objs++] = o;
}

size_t mm_hog_take(struct mm_hog *h, struct kmem_cache *const *caches,
		   unsigned nr_caches)
{
	size_t before = h->nr_pages;
	struct page *p;

	while (h->nr_pages < h->max_pages &&
	       (p = mm_page_alloc(h->mm, MM_ATOMIC | MM_NOMEMALLOC, NULL)))
		h->pages[h->nr_pages++] = p;
	for (unsigned i = 0; i < nr_caches; i++)
		hog_cache(h, caches[i]);
	for (unsigned i = 0; i < MM_KMALLOC_CLASSES; i++)
		hog_cache(h, h->mm->kmalloc[i]);
	return h->nr_pages - before;
}

void mm_hog_release(struct mm_hog *h)
{
	while (h->nr_objs) {
		void *o = h->objs[--h->nr_objs];

		kmem_cache_free(kmem_obj_cache(h->mm, o), o);
	}
	while (h->nr_pages)
		mm_page_put(h->mm, h->pages[--h->nr_pages]);
}
