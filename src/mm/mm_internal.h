/* SPDX-License-Identifier: MIT */
/*
 * mm_internal.h - what the mm files share and nobody else sees.
 */
#ifndef LB_MM_INTERNAL_H
#define LB_MM_INTERNAL_H

#include "mm.h"

/*
 * Under ASan, free pages and free slab objects are poisoned so a stray
 * access into the arena is caught like a use-after-free of malloc memory.
 */
#if defined(__SANITIZE_ADDRESS__)
#define LB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LB_ASAN 1
#endif
#endif

#ifdef LB_ASAN
#include <sanitizer/asan_interface.h>
#define mm_poison(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define mm_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define mm_poison(p, n) ((void)(p), (void)(n))
#define mm_unpoison(p, n) ((void)(p), (void)(n))
#endif

/* Page allocation after failure injection has been decided. */
struct page *mm_page_alloc_noinj(struct mm *mm, unsigned flags,
				 struct mm_reserve *rsv);
void mm_page_release(struct mm *mm, struct page *p);

/* Would a request with @flags be allowed to use the reserve? */
static inline bool mm_memalloc_allowed(const struct mm *mm, unsigned flags)
{
	if (flags & MM_NOMEMALLOC)
		return false;
	return (flags & MM_MEMALLOC) || mm->ctx.active;
}

/*
 * The reserve a memalloc request charges: the one it names, else its
 * context's; under mainline always the shared root.  NULL: none named.
 */
static inline struct mm_reserve *mm_effective_reserve(struct mm *mm,
						      struct mm_reserve *rsv)
{
	if (mm->policy == MM_POLICY_MAINLINE)
		return &mm->root;
	return rsv ? rsv : mm->ctx.rsv;
}

/* Pages that normal requests must leave free. */
static inline size_t mm_floor(const struct mm *mm)
{
	switch (mm->policy) {
	case MM_POLICY_NONE:
		return 0;
	case MM_POLICY_MAINLINE:
		return (size_t)mm->wmark_min.v;
	case MM_POLICY_ACCOUNTED:
		break;
	}
	return (size_t)(mm->wmark_min.v - mm->root.used.v);
}

bool __mm_failinj_hit(struct mm *mm, const struct mm_site *site);

static inline bool mm_failinj_hit(struct mm *mm, const struct mm_site *site)
{
	if (likely(!mm->track_sites && mm->inj.mode == MM_FAILINJ_OFF))
		return false;
	return __mm_failinj_hit(mm, site);
}

int mm_sites_init(struct mm *mm, unsigned cap);
void mm_sites_destroy(struct mm *mm);

/*
 * Charge/uncharge @pages to @r and its ancestors.  Charge returns 0 or
 * -ENOMEM (counted in ->failures) and never lets used exceed size under
 * `accounted`.  Callers keep ->self_used in step with the pages they hold.
 */
int mm_reserve_charge(struct mm_reserve *r, size_t pages);
void mm_reserve_uncharge(struct mm_reserve *r, size_t pages);

void mm_update_watermarks(struct mm *mm);
void mm_reserve_root_init(struct mm *mm);
void mm_reserve_root_destroy(struct mm *mm);
void mm_reserve_check(const struct mm *mm, const struct mm_reserve *r);
/* A charge to @r was released: its waiters may run. */
void mm_reserve_note_room(struct mm_reserve *r);

#endif
