// SPDX-License-Identifier: MIT
/*
 * arena.c - the page arena: creation, page allocation and free, the policy
 * rules, watermarks, reclaim hooks and the memory waitqueue.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "mm_internal.h"
#include "slab.h"

static const char *const policy_names[] = {
	[MM_POLICY_NONE] = "none",
	[MM_POLICY_MAINLINE] = "mainline",
	[MM_POLICY_ACCOUNTED] = "accounted",
};

const char *mm_policy_name(enum mm_policy p)
{
	return p < ARRAY_SIZE(policy_names) ? policy_names[p] : "?";
}

int mm_policy_parse(const char *s, enum mm_policy *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(policy_names); i++) {
		if (s && !strcmp(s, policy_names[i])) {
			*out = (enum mm_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void mm_wake_fn(struct task *t);

static void mm_register_stats(struct mm *mm)
{
	struct stats *s = &mm->host->stats;

	stats_add_gauge(s, &mm->nr_free, "mm.pages.free");
	stats_add_gauge(s, &mm->wmark_min, "mm.wmark.min");
	stats_add_gauge(s, &mm->wmark_low, "mm.wmark.low");
	stats_add_gauge(s, &mm->wmark_high, "mm.wmark.high");
	stats_add_gauge(s, &mm->nr_waiting, "mm.waiters");
	stats_add_counter(s, &mm->st_alloc, "mm.alloc.ok");
	stats_add_counter(s, &mm->st_free, "mm.free");
	stats_add_counter(s, &mm->st_fail, "mm.alloc.fail");
	stats_add_counter(s, &mm->st_fail_injected, "mm.alloc.fail.injected");
	stats_add_counter(s, &mm->st_fail_reserve,
			  "mm.alloc.fail.reserve_full");
	stats_add_counter(s, &mm->st_fail_noreserve,
			  "mm.alloc.fail.no_reserve_named");
	stats_add_counter(s, &mm->st_fail_memalloc_none,
			  "mm.alloc.fail.memalloc_no_reserve_policy");
	stats_add_counter(s, &mm->st_pfmemalloc, "mm.alloc.pfmemalloc");
	stats_add_counter(s, &mm->st_direct_reclaim, "mm.reclaim.direct");
	stats_add_counter(s, &mm->st_kswapd_wake, "mm.reclaim.kswapd_wakeups");
	stats_add_counter(s, &mm->st_wakeups, "mm.waiters.woken");
}

static int mm_kmalloc_init(struct mm *mm)
{
	for (unsigned i = 0; i < MM_KMALLOC_CLASSES; i++) {
		char name[32];
		size_t size = (size_t)1 << (MM_KMALLOC_MIN_SHIFT + i);

		mm->kmalloc[i] = calloc(1, sizeof(*mm->kmalloc[i]));
		if (!mm->kmalloc[i])
			return -ENOMEM;
		snprintf(name, sizeof(name), "kmalloc-%zu", size);
		if (kmem_cache_init(mm->kmalloc[i], mm, name, size, 0))
			return -ENOMEM;
	}
	return 0;
}

struct mm *mm_create(struct host *h, const struct mm_config *cfg)
{
	struct mm *mm;
	size_t bytes;

	if (cfg->nr_pages < 16) {
		lb_err(&h->log,
		       "mm: an arena needs at least 16 pages (got %zu)",
		       cfg->nr_pages);
		return NULL;
	}
	mm = calloc(1, sizeof(*mm));
	if (!mm)
		return NULL;
	mm->host = h;
	mm->nr_pages = cfg->nr_pages;
	mm->policy = cfg->policy;
	mm->reserve_max_pct = cfg->reserve_max_pct ? cfg->reserve_max_pct : 50;
	mm->mainline_min = cfg->mainline_min;
	mm->low_extra = cfg->low_extra ? cfg->low_extra :
					 lb_max(cfg->nr_pages / 64, (size_t)4);
	mm->high_extra = cfg->high_extra ? cfg->high_extra : mm->low_extra;
	mm->track_sites = cfg->track_sites;
	list_init(&mm->free_list);
	list_init(&mm->waiters);
	list_init(&mm->waiting_rsv);
	task_init(&mm->wake_task, mm_wake_fn);
	prng_fork(&h->prng, &mm->inj.prng, 0x6661696c696e6aull);

	bytes = mm->nr_pages << PAGE_SHIFT;
	mm->base = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mm->base == MAP_FAILED) {
		lb_err(&h->log, "mm: cannot map a %zu-page arena: %s",
		       mm->nr_pages, strerror(errno));
		free(mm);
		return NULL;
	}
	if (cfg->mlock) {
		if (mlock(mm->base, bytes))
			lb_warn(&h->log, "mm: mlock of the arena failed: %s",
				strerror(errno));
		else
			mm->mlocked = true;
	}
	mm->pages = calloc(mm->nr_pages, sizeof(*mm->pages));
	if (!mm->pages || mm_sites_init(mm, 1024))
		goto fail;
	/* Highest page last in, so allocation starts at the arena's base. */
	for (size_t i = mm->nr_pages; i-- > 0;) {
		struct page *p = &mm->pages[i];

		p->flags = PG_FREE;
		list_add(&p->lru, &mm->free_list);
	}
	mm->nr_free.v = (int64_t)mm->nr_pages;
	mm_poison(mm->base, bytes);
	h->mm = mm;
	mm_reserve_root_init(mm);
	mm_update_watermarks(mm);
	mm_register_stats(mm);
	if (mm_kmalloc_init(mm))
		goto fail;
	return mm;
fail:
	lb_err(&h->log, "mm: out of memory creating the arena");
	h->mm = NULL;
	for (unsigned i = 0; i < MM_KMALLOC_CLASSES; i++)
		free(mm->kmalloc[i]);
	mm_sites_destroy(mm);
	free(mm->pages);
	munmap(mm->base, bytes);
	free(mm);
	return NULL;
}

void mm_destroy(struct mm *mm)
{
	if (!mm)
		return;
	for (unsigned i = 0; i < MM_KMALLOC_CLASSES; i++) {
		kmem_cache_destroy(mm->kmalloc[i]);
		free(mm->kmalloc[i]);
	}
	LB_ASSERTF((size_t)mm->nr_free.v == mm->nr_pages,
		   "%zu pages still allocated at mm_destroy",
		   mm->nr_pages - (size_t)mm->nr_free.v);
	LB_ASSERT(list_empty(&mm->waiters));
	task_cancel(mm->host->loop, &mm->wake_task);
	mm_reserve_root_destroy(mm);
	stats_remove(&mm->host->stats, &mm->nr_free);
	stats_remove(&mm->host->stats, &mm->wmark_min);
	stats_remove(&mm->host->stats, &mm->wmark_low);
	stats_remove(&mm->host->stats, &mm->wmark_high);
	stats_remove(&mm->host->stats, &mm->nr_waiting);
	stats_remove(&mm->host->stats, &mm->st_alloc);
	stats_remove(&mm->host->stats, &mm->st_free);
	stats_remove(&mm->host->stats, &mm->st_fail);
	stats_remove(&mm->host->stats, &mm->st_fail_injected);
	stats_remove(&mm->host->stats, &mm->st_fail_reserve);
	stats_remove(&mm->host->stats, &mm->st_fail_noreserve);
	stats_remove(&mm->host->stats, &mm->st_fail_memalloc_none);
	stats_remove(&mm->host->stats, &mm->st_pfmemalloc);
	stats_remove(&mm->host->stats, &mm->st_direct_reclaim);
	stats_remove(&mm->host->stats, &mm->st_kswapd_wake);
	stats_remove(&mm->host->stats, &mm->st_wakeups);
	if (mm->host->mm == mm)
		mm->host->mm = NULL;
	mm_sites_destroy(mm);
	if (mm->mlocked)
		munlock(mm->base, mm->nr_pages << PAGE_SHIFT);
	mm_unpoison(mm->base, mm->nr_pages << PAGE_SHIFT);
	munmap(mm->base, mm->nr_pages << PAGE_SHIFT);
	free(mm->pages);
	free(mm);
}

int mm_set_policy(struct mm *mm, enum mm_policy p)
{
	if (mm->root.used.v)
		return -EBUSY;
	mm->policy = p;
	mm_update_watermarks(mm);
	return 0;
}

void mm_set_reclaim(struct mm *mm, const struct mm_reclaim_ops *ops)
{
	mm->reclaim = *ops;
}

/* What `min` is: the reserve tree's sum, or mainline's fixed size. */
static size_t mm_min_target(const struct mm *mm)
{
	if (mm->policy == MM_POLICY_MAINLINE && mm->mainline_min)
		return lb_min(mm->mainline_min, mm->nr_pages);
	return (size_t)mm->root.size.v;
}

size_t mm_linux_min_free_pages(size_t nr_pages)
{
	uint64_t kib = (uint64_t)nr_pages * (PAGE_SIZE / 1024), x = 0;
	uint64_t v = 16 * kib;

	/* int_sqrt, as the kernel: the largest x with x * x <= v */
	while ((x + 1) * (x + 1) <= v)
		x++;
	x = lb_max(x, (uint64_t)128);
	x = lb_min(x, (uint64_t)262144);
	return (size_t)(x / (PAGE_SIZE / 1024));
}

void mm_update_watermarks(struct mm *mm)
{
	size_t min = mm_min_target(mm);
	size_t low = lb_min(min + mm->low_extra, mm->nr_pages);
	size_t high = lb_min(low + mm->high_extra, mm->nr_pages);

	mm->wmark_min.v = (int64_t)min;
	mm->wmark_low.v = (int64_t)low;
	mm->wmark_high.v = (int64_t)high;
}

size_t mm_normal_available(const struct mm *mm)
{
	size_t floor = mm_floor(mm), nr_free = (size_t)mm->nr_free.v;

	return nr_free > floor ? nr_free - floor : 0;
}

bool mm_below_low(const struct mm *mm)
{
	return mm->nr_free.v < mm->wmark_low.v;
}

static struct page *take_free_page(struct mm *mm)
{
	struct page *p = list_first_entry(&mm->free_list, struct page, lru);

	LB_ASSERT(p->flags == PG_FREE && p->refcount == 0);
	list_del(&p->lru);
	mm->nr_free.v--;
	p->flags = 0;
	p->refcount = 1;
	p->reserve = NULL;
	p->private = 0;
	mm_unpoison(page_address(mm, p), PAGE_SIZE);
	return p;
}

static void maybe_wake_kswapd(struct mm *mm)
{
	if (mm->reclaim.wake_kswapd && mm_below_low(mm)) {
		counter_inc(&mm->st_kswapd_wake);
		mm->reclaim.wake_kswapd(mm, mm->reclaim.arg);
	}
}

/*
 * The reserve path: normal memory is gone and the request may use the
 * reserve.  Charge first, so a full reserve fails without touching a page.
 */
static struct page *alloc_from_reserve(struct mm *mm, unsigned flags,
				       struct mm_reserve *rsv)
{
	struct mm_reserve *eff = mm_effective_reserve(mm, rsv);
	struct page *p;

	if (mm->policy == MM_POLICY_NONE) {
		counter_inc(&mm->st_fail_memalloc_none);
		return NULL;
	}
	if (!eff) {
		counter_inc(&mm->st_fail_noreserve);
		return NULL;
	}
	if (!mm->nr_free.v) {
		counter_inc(&eff->failures);
		counter_inc(&mm->st_fail_reserve);
		return NULL;
	}
	if (mm_reserve_charge(eff, 1)) {
		counter_inc(&mm->st_fail_reserve);
		return NULL;
	}
	p = take_free_page(mm);
	p->flags |= PG_PFMEMALLOC;
	p->reserve = eff;
	eff->self_used++;
	counter_inc(&mm->st_pfmemalloc);
	return p;
}

struct page *mm_page_alloc_noinj(struct mm *mm, unsigned flags,
				 struct mm_reserve *rsv)
{
	struct page *p = NULL;

	if (likely(mm_normal_available(mm))) {
		p = take_free_page(mm);
	} else {
		if (!(flags & MM_ATOMIC) && mm->reclaim.direct &&
		    !mm->in_direct_reclaim) {
			mm->in_direct_reclaim = true;
			counter_inc(&mm->st_direct_reclaim);
			mm->reclaim.direct(mm, 1, mm->reclaim.arg);
			mm->in_direct_reclaim = false;
		}
		if (mm_normal_available(mm))
			p = take_free_page(mm);
		else if (mm_memalloc_allowed(mm, flags))
			p = alloc_from_reserve(mm, flags, rsv);
	}
	maybe_wake_kswapd(mm);
	if (unlikely(!p)) {
		counter_inc(&mm->st_fail);
		host_trace(mm->host, "mm.alloc.fail", flags,
			   (uint64_t)mm->nr_free.v, 0);
		return NULL;
	}
	counter_inc(&mm->st_alloc);
	if (flags & MM_ZERO)
		memset(page_address(mm, p), 0, PAGE_SIZE);
	return p;
}

struct page *__mm_page_alloc(struct mm *mm, unsigned flags,
			     struct mm_reserve *rsv, const struct mm_site *site)
{
	if (unlikely(mm_failinj_hit(mm, site))) {
		counter_inc(&mm->st_fail);
		counter_inc(&mm->st_fail_injected);
		return NULL;
	}
	return mm_page_alloc_noinj(mm, flags, rsv);
}

static bool mm_has_waiters(const struct mm *mm)
{
	return mm->nr_waiting.v > 0;
}

void mm_page_release(struct mm *mm, struct page *p)
{
	LB_ASSERT(!(p->flags & PG_FREE));
	if (p->flags & PG_PFMEMALLOC) {
		struct mm_reserve *r = p->reserve;

		LB_ASSERT(r && r->self_used > 0);
		r->self_used--;
		mm_reserve_uncharge(r, 1);
	}
	p->flags = PG_FREE;
	p->refcount = 0;
	p->reserve = NULL;
	p->slab_cache = NULL;
	p->freelist = NULL;
	p->inuse = 0;
	mm_poison(page_address(mm, p), PAGE_SIZE);
	list_add(&p->lru, &mm->free_list);
	mm->nr_free.v++;
	counter_inc(&mm->st_free);
	if (mm_has_waiters(mm))
		task_queue(mm->host->loop, &mm->wake_task);
}

void mm_page_put(struct mm *mm, struct page *p)
{
	LB_ASSERT(!(p->flags & PG_FREE) && p->refcount > 0);
	if (--p->refcount)
		return;
	LB_ASSERT(!(p->flags & PG_SLAB));
	mm_page_release(mm, p);
}

static unsigned kmalloc_index(size_t size)
{
	unsigned i = 0;

	while (((size_t)1 << (MM_KMALLOC_MIN_SHIFT + i)) < size)
		i++;
	return i;
}

void *__mm_kmalloc(struct mm *mm, size_t size, unsigned flags,
		   struct mm_reserve *rsv, const struct mm_site *site)
{
	unsigned i = kmalloc_index(size ? size : 1);

	LB_ASSERTF(i < MM_KMALLOC_CLASSES, "kmalloc of %zu bytes", size);
	return __kmem_cache_alloc(mm->kmalloc[i], flags, rsv, site);
}

void mm_kfree(struct mm *mm, void *p)
{
	if (p)
		kmem_cache_free(kmem_obj_cache(mm, p), p);
}

bool mm_addr_pfmemalloc(const struct mm *mm, const void *addr)
{
	return page_pfmemalloc(virt_to_page(mm, addr));
}

/* ---- waiters ---------------------------------------------------------- */

void mm_waiter_init(struct mm_waiter *w, void (*fn)(struct mm_waiter *w),
		    const char *what)
{
	memset(w, 0, sizeof(*w));
	list_init(&w->node);
	w->fn = fn;
	w->what = what;
}

void mm_wait(struct mm *mm, struct mm_waiter *w, struct mm_reserve *rsv)
{
	LB_ASSERT(!w->parked);
	w->parked = true;
	w->rsv = rsv;
	w->since = host_now(mm->host);
	mm->nr_waiting.v++;
	if (rsv) {
		if (list_empty(&rsv->waiters))
			list_add_tail(&rsv->wait_node, &mm->waiting_rsv);
		list_add_tail(&w->node, &rsv->waiters);
	} else {
		list_add_tail(&w->node, &mm->waiters);
	}
	host_trace(mm->host, "mm.wait", (uint64_t)mm->nr_free.v,
		   (uint64_t)mm->nr_waiting.v, 0);
	/* Memory may have come back between the failure and the park. */
	if (mm_normal_available(mm) || (rsv && mm_reserve_room(rsv)))
		task_queue(mm->host->loop, &mm->wake_task);
}

void mm_wait_cancel(struct mm *mm, struct mm_waiter *w)
{
	if (!w->parked)
		return;
	list_del(&w->node);
	w->parked = false;
	mm->nr_waiting.v--;
	if (w->rsv && list_empty(&w->rsv->waiters))
		list_del(&w->rsv->wait_node);
}

void mm_kick_waiters(struct mm *mm)
{
	if (mm_has_waiters(mm))
		task_queue(mm->host->loop, &mm->wake_task);
}

void mm_reserve_note_room(struct mm_reserve *r)
{
	if (!list_empty(&r->waiters))
		task_queue(r->mm->host->loop, &r->mm->wake_task);
}

/*
 * Wake the waiters of @q in FIFO order while @ready holds.  Only waiters
 * parked before the pass are considered, so one that re-parks goes to the
 * back and cannot spin the loop.
 */
static void wake_queue(struct mm *mm, struct list_head *q,
		       struct mm_reserve *rsv)
{
	struct list_head pass;

	list_init(&pass);
	list_splice_init(q, &pass);
	while (!list_empty(&pass)) {
		struct mm_waiter *w;

		if (!mm_normal_available(mm) && !(rsv && mm_reserve_room(rsv)))
			break;
		w = list_first_entry(&pass, struct mm_waiter, node);
		list_del(&w->node);
		w->parked = false;
		mm->nr_waiting.v--;
		counter_inc(&mm->st_wakeups);
		host_trace(mm->host, "mm.wake", (uint64_t)mm->nr_free.v,
			   (uint64_t)mm->nr_waiting.v, 0);
		w->fn(w);
	}
	/* Those not woken keep their place ahead of any that re-parked. */
	list_splice_init(&pass, q);
}

static void mm_wake_fn(struct task *t)
{
	struct mm *mm = container_of(t, struct mm, wake_task);
	struct list_head rsvs;

	wake_queue(mm, &mm->waiters, NULL);
	list_init(&rsvs);
	list_splice_init(&mm->waiting_rsv, &rsvs);
	while (!list_empty(&rsvs)) {
		struct mm_reserve *r =
			list_first_entry(&rsvs, struct mm_reserve, wait_node);

		list_del(&r->wait_node);
		wake_queue(mm, &r->waiters, r);
		if (!list_empty(&r->waiters) && list_empty(&r->wait_node))
			list_add_tail(&r->wait_node, &mm->waiting_rsv);
	}
}

/* ---- checking and printing -------------------------------------------- */

void mm_check(const struct mm *mm)
{
	size_t on_list = 0, flagged_free = 0;
	const struct list_head *pos;

	list_for_each(pos, &mm->free_list) {
		const struct page *p = list_entry(pos, struct page, lru);

		LB_ASSERT(p->flags == PG_FREE && p->refcount == 0);
		LB_ASSERT(on_list < mm->nr_pages);
		on_list++;
	}
	for (size_t i = 0; i < mm->nr_pages; i++) {
		const struct page *p = &mm->pages[i];

		if (p->flags & PG_FREE) {
			flagged_free++;
			continue;
		}
		LB_ASSERT(p->refcount > 0);
		LB_ASSERT(!(p->flags & PG_PFMEMALLOC) == !p->reserve);
		LB_ASSERT(mm->policy != MM_POLICY_NONE ||
			  !(p->flags & PG_PFMEMALLOC));
	}
	LB_ASSERTF(on_list == (size_t)mm->nr_free.v,
		   "free list %zu, nr_free %lld", on_list,
		   (long long)mm->nr_free.v);
	LB_ASSERT(flagged_free == on_list);
	LB_ASSERT((size_t)mm->wmark_min.v == mm_min_target(mm));
	LB_ASSERT(mm->wmark_min.v <= mm->wmark_low.v &&
		  mm->wmark_low.v <= mm->wmark_high.v);
	mm_reserve_check(mm, &mm->root);
	if (mm->policy == MM_POLICY_ACCOUNTED)
		LB_ASSERTF(
			mm->nr_free.v >= mm->wmark_min.v - mm->root.used.v,
			"unused reserve not free: free %lld min %lld used %lld",
			(long long)mm->nr_free.v, (long long)mm->wmark_min.v,
			(long long)mm->root.used.v);
	if (mm->policy == MM_POLICY_NONE)
		LB_ASSERT(mm->root.used.v == 0);
}

void mm_print(const struct mm *mm, FILE *out)
{
	fprintf(out,
		"arena %zu pages (%zu KiB)%s, policy %s\n"
		"free %lld  min %lld  low %lld  high %lld  waiters %lld\n",
		mm->nr_pages, mm->nr_pages * (PAGE_SIZE / 1024),
		mm->mlocked ? " mlocked" : "", mm_policy_name(mm->policy),
		(long long)mm->nr_free.v, (long long)mm->wmark_min.v,
		(long long)mm->wmark_low.v, (long long)mm->wmark_high.v,
		(long long)mm->nr_waiting.v);
	mm_print_reserves(mm, out);
}
