/* SPDX-License-Identifier: MIT */
/*
 * mm.h - the host's memory: page arena, watermarks, policies, memalloc
 * context, allocation flags, waiters for memory and failure injection.
 *
 * The arena is the host's RAM: nr_pages 4 KiB pages, mmap()ed (and
 * optionally mlock()ed) once at start-up.  Nothing on the data path uses
 * malloc; every byte comes from here.
 *
 * Watermarks min <= low <= high.  Below low the background reclaimer is
 * woken; `min` is the emergency reserve and is the size of the reserve tree
 * (reserve.h).  The rules, per policy:
 *
 *  none       no reserve.  min is not enforced (floor 0) and MM_MEMALLOC
 *             behaves exactly like a normal request.  The classic deadlock.
 *  mainline   one shared, unaccounted reserve, as Linux since 3.6: normal
 *             requests need nr_free > min; memalloc requests may take any
 *             free page.  Reserve pages are charged to the root only.
 *  accounted  (default) the reserve is a tree of named, sized reserves and
 *             its unused part is always physically free: a normal request
 *             needs nr_free > min - reserve_used.  A memalloc request that
 *             finds no normal memory charges the reserve it names, and
 *             fails once that reserve (or an ancestor) is full even if
 *             others have room.
 *
 * A page taken from the reserve carries PG_PFMEMALLOC and remembers the
 * reserve it charged; freeing it uncharges that reserve.
 *
 * Flags (every allocation names them):
 *  MM_NORMAL      may run direct reclaim; the caller may park on failure
 *  MM_ATOMIC      never reclaims, never waits
 *  MM_MEMALLOC    may use the reserve it charges when normal memory is gone
 *  MM_NOMEMALLOC  never the reserve, even in memalloc context
 *  MM_ZERO        zero the memory
 *
 * Memalloc context (mm_memalloc_save/restore) makes every allocation in a
 * stretch of code behave as MM_MEMALLOC charging the context's reserve
 * unless the call names its own reserve or passes MM_NOMEMALLOC.
 *
 * Waiters: a step that cannot allocate parks a struct mm_waiter and
 * returns.  Frees wake waiters FIFO from the loop (never from inside the
 * free); a waiter parked on a reserve is also woken when that reserve
 * regains room.
 */
#ifndef LB_MM_MM_H
#define LB_MM_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/host.h"
#include "core/list.h"
#include "core/loop.h"
#include "core/prng.h"
#include "core/stats.h"
#include "reserve.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
#define PAGES_FOR(bytes) DIV_ROUND_UP((size_t)(bytes), PAGE_SIZE)

#define MM_NORMAL 0u
#define MM_ATOMIC (1u << 0)
#define MM_MEMALLOC (1u << 1)
#define MM_NOMEMALLOC (1u << 2)
#define MM_ZERO (1u << 3)

/* Accounted is the default, so a zeroed configuration gets it. */
enum mm_policy {
	MM_POLICY_ACCOUNTED,
	MM_POLICY_MAINLINE,
	MM_POLICY_NONE,
};

const char *mm_policy_name(enum mm_policy p);
/* "none" | "mainline" | "accounted"; 0 or -EINVAL. */
int mm_policy_parse(const char *s, enum mm_policy *out);

/* Page flags.  The vm layer adds its own from PG_VM_SHIFT up. */
#define PG_FREE (1u << 0)
#define PG_PFMEMALLOC (1u << 1)
#define PG_SLAB (1u << 2)
#define PG_VM_SHIFT 8

struct kmem_cache;

struct page {
	uint32_t flags;
	int32_t refcount;
	struct list_head lru; /* free list, slab list, or the vm's LRU */
	struct mm_reserve *reserve; /* charged reserve when PG_PFMEMALLOC */
	/* slab state (PG_SLAB) */
	struct kmem_cache *slab_cache;
	void *freelist;
	uint32_t inuse;
	/* owner's word (vm: mapping index, netbuf: ...) */
	uint64_t private;
};

/*
 * An allocation site, for failure injection and for counting the sites a
 * run reaches.  MM_SITE makes a static const one per call site.
 */
struct mm_site {
	const char *file;
	const char *func;
	int line;
};

#define MM_SITE                                                               \
	({                                                                    \
		static const struct mm_site __mm_site = { __FILE__, __func__, \
							  __LINE__ };         \
		&__mm_site;                                                   \
	})

struct mm_site_stat {
	const struct mm_site *site;
	uint64_t calls, injected;
};

enum mm_failinj_mode {
	MM_FAILINJ_OFF,
	MM_FAILINJ_NTH, /* fail the nth matching allocation (1-based) */
	MM_FAILINJ_PROB, /* fail each matching allocation with probability p */
};

struct mm_failinj {
	enum mm_failinj_mode mode;
	uint64_t nth;
	bool always; /* NTH: keep failing from the nth on */
	double prob;
	char site[96]; /* "" = every site; else func name or file:line */
	uint64_t seen, injected;
	struct prng prng; /* forked from the host's: reproducible from seed */
};

struct mm_waiter {
	struct list_head node;
	struct mm_reserve *rsv; /* NULL: waits for normal memory */
	void (*fn)(struct mm_waiter *w);
	const char *what; /* for the watchdog's report; static string */
	uint64_t since;
	bool parked;
};

struct mm_memalloc_ctx {
	struct mm_reserve *rsv;
	bool active;
};

struct mm_reclaim_ops {
	/* free memory fell below low: wake the background reclaimer */
	void (*wake_kswapd)(struct mm *mm, void *arg);
	/* a MM_NORMAL request found no memory: try to free @nr pages now */
	size_t (*direct)(struct mm *mm, size_t nr, void *arg);
	void *arg;
};

struct mm_config {
	size_t nr_pages;
	enum mm_policy policy;
	bool mlock;
	size_t low_extra; /* pages between min and low; 0: default */
	size_t high_extra; /* pages between low and high; 0: default */
	unsigned reserve_max_pct; /* cap on min as % of the arena; 0: 50 */
	bool track_sites; /* count calls per allocation site */
	/*
	 * Policy mainline only: the one shared reserve is this many pages,
	 * as Linux sizes it (min_free_kbytes, a function of RAM alone: see
	 * mm_linux_min_free_pages()), instead of the reserve tree's sum.
	 * 0: the tree's sum.
	 */
	size_t mainline_min;
};

/*
 * Linux's default min_free_kbytes for @nr_pages of RAM, in pages:
 * sqrt(16 x RAM in KiB) KiB, clamped to [128 KiB, 256 MiB].
 */
size_t mm_linux_min_free_pages(size_t nr_pages);

#define MM_KMALLOC_MIN_SHIFT 5
#define MM_KMALLOC_CLASSES 7 /* 32 .. 2048 bytes */

struct mm {
	struct host *host;
	uint8_t *base;
	size_t nr_pages;
	struct page *pages;
	struct list_head free_list;
	struct gauge nr_free;
	enum mm_policy policy;
	size_t mainline_min; /* see struct mm_config */
	struct gauge wmark_min, wmark_low, wmark_high;
	size_t low_extra, high_extra;
	unsigned reserve_max_pct;
	bool mlocked;

	struct mm_reserve root;
	struct mm_memalloc_ctx ctx;

	struct list_head waiters; /* for normal memory, FIFO */
	struct list_head waiting_rsv; /* reserves with parked waiters */
	struct gauge nr_waiting;
	struct task wake_task;

	struct mm_reclaim_ops reclaim;
	bool in_direct_reclaim;

	struct mm_failinj inj;
	bool track_sites;
	struct mm_site_stat *sites;
	unsigned sites_cap, nr_sites;

	struct kmem_cache *kmalloc[MM_KMALLOC_CLASSES];

	struct counter st_alloc, st_free, st_fail, st_fail_injected;
	struct counter st_pfmemalloc, st_fail_reserve, st_fail_noreserve;
	struct counter st_direct_reclaim, st_kswapd_wake, st_wakeups;
	struct counter st_fail_memalloc_none;
};

/* Creates the arena and attaches it as h->mm; NULL on failure (logged). */
struct mm *mm_create(struct host *h, const struct mm_config *cfg);
/* Asserts nothing is allocated except what @mm owns itself. */
void mm_destroy(struct mm *mm);

/* Change policy; -EBUSY while any reserve page is charged. */
int mm_set_policy(struct mm *mm, enum mm_policy p);
void mm_set_reclaim(struct mm *mm, const struct mm_reclaim_ops *ops);

static inline void *page_address(const struct mm *mm, const struct page *p)
{
	return mm->base + ((size_t)(p - mm->pages) << PAGE_SHIFT);
}

static inline struct page *virt_to_page(const struct mm *mm, const void *addr)
{
	size_t off = (size_t)((const uint8_t *)addr - mm->base);

	LB_ASSERT(off < (mm->nr_pages << PAGE_SHIFT));
	return &mm->pages[off >> PAGE_SHIFT];
}

static inline bool mm_owns(const struct mm *mm, const void *addr)
{
	const uint8_t *a = addr;

	return a >= mm->base && a < mm->base + (mm->nr_pages << PAGE_SHIFT);
}

static inline struct mm_reserve *mm_reserve_root(struct mm *mm)
{
	return &mm->root;
}

static inline bool page_pfmemalloc(const struct page *p)
{
	return p->flags & PG_PFMEMALLOC;
}

struct page *__mm_page_alloc(struct mm *mm, unsigned flags,
			     struct mm_reserve *rsv,
			     const struct mm_site *site);
#define mm_page_alloc(mm, flags, rsv) __mm_page_alloc(mm, flags, rsv, MM_SITE)
/* Drop the caller's reference; the page is freed when the last one goes. */
void mm_page_put(struct mm *mm, struct page *p);
static inline void mm_page_get(struct page *p)
{
	LB_ASSERT(p->refcount > 0);
	p->refcount++;
}
#define mm_page_free mm_page_put

/* Power-of-two object classes (32..2048 bytes) on top of kmem caches. */
void *__mm_kmalloc(struct mm *mm, size_t size, unsigned flags,
		   struct mm_reserve *rsv, const struct mm_site *site);
#define mm_kmalloc(mm, size, flags, rsv) \
	__mm_kmalloc(mm, size, flags, rsv, MM_SITE)
void mm_kfree(struct mm *mm, void *p);

/* True when @addr (page or slab object) came from the reserve. */
bool mm_addr_pfmemalloc(const struct mm *mm, const void *addr);

static inline struct mm_memalloc_ctx mm_memalloc_save(struct mm *mm,
						      struct mm_reserve *rsv)
{
	struct mm_memalloc_ctx old = mm->ctx;

	mm->ctx.active = true;
	if (rsv)
		mm->ctx.rsv = rsv;
	return old;
}

static inline void mm_memalloc_restore(struct mm *mm,
				       struct mm_memalloc_ctx old)
{
	mm->ctx = old;
}

static inline bool mm_in_memalloc(const struct mm *mm)
{
	return mm->ctx.active;
}

/* Free pages that a normal (non-memalloc) request could take now. */
size_t mm_normal_available(const struct mm *mm);
/* Below the low watermark (the reclaimer should be running). */
bool mm_below_low(const struct mm *mm);

void mm_waiter_init(struct mm_waiter *w, void (*fn)(struct mm_waiter *w),
		    const char *what);
/*
 * Park @w until normal memory is available, or (when @rsv is set) until
 * normal memory is available or @rsv has room.  @w->fn runs from the loop.
 */
void mm_wait(struct mm *mm, struct mm_waiter *w, struct mm_reserve *rsv);
void mm_wait_cancel(struct mm *mm, struct mm_waiter *w);
/* Ask for a wake-up pass (after frees that bypassed mm, e.g. a mempool). */
void mm_kick_waiters(struct mm *mm);

/*
 * Failure injection, reproducible from the host's seed.  Spec:
 *   "off" | "nth=N[,always][,site=S]" | "prob=P[,site=S]"
 * where S is a function name or file:line (file may be a path suffix).
 * 0 or -EINVAL.
 */
int mm_failinj_set(struct mm *mm, const char *spec);
/* Copy up to @max site statistics into @out; returns how many exist. */
unsigned mm_sites(const struct mm *mm, struct mm_site_stat *out, unsigned max);
/* "func@file:line" into @buf. */
const char *mm_site_name(const struct mm_site *s, char *buf, size_t len);

/*
 * Check every accounting invariant (free list length, page states, reserve
 * sums and bounds, pfmemalloc pages per reserve); panics on violation.
 * O(nr_pages): for tests and the simulator's checker.
 */
void mm_check(const struct mm *mm);

/* Print the arena, watermarks and the reserve tree. */
void mm_print(const struct mm *mm, FILE *out);
/* The reserve tree: size, used, high-water mark, failures, a line each. */
void mm_print_reserves(const struct mm *mm, FILE *out);

#endif
