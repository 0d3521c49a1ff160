// SPDX-License-Identifier: MIT
/*
 * reserve.c - the reserve tree: sizes, charges, and keeping `min` equal to
 * the root's size.
 */
#include <errno.h>
#include <string.h>
#include "mm_internal.h"

static void reserve_stats_add(struct mm_reserve *r)
{
	struct stats *s = &r->mm->host->stats;
	int err = 0;

	err |= stats_add_gauge(s, &r->size, "mm.reserve.%s.size", r->name);
	err |= stats_add_gauge(s, &r->used, "mm.reserve.%s.used", r->name);
	err |= stats_add_gauge(s, &r->hwm, "mm.reserve.%s.hwm", r->name);
	err |= stats_add_counter(s, &r->charges, "mm.reserve.%s.charges",
				 r->name);
	err |= stats_add_counter(s, &r->failures, "mm.reserve.%s.failures",
				 r->name);
	r->registered = !err;
}

static void reserve_stats_del(struct mm_reserve *r)
{
	struct stats *s = &r->mm->host->stats;

	stats_remove(s, &r->size);
	stats_remove(s, &r->used);
	stats_remove(s, &r->hwm);
	stats_remove(s, &r->charges);
	stats_remove(s, &r->failures);
}

static void reserve_init(struct mm_reserve *r, struct mm *mm, const char *name,
			 size_t pages)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->mm = mm;
	r->own = pages;
	r->size.v = (int64_t)pages;
	list_init(&r->children);
	list_init(&r->sibling);
	list_init(&r->waiters);
	list_init(&r->wait_node);
}

void mm_reserve_root_init(struct mm *mm)
{
	reserve_init(&mm->root, mm, "root", 0);
	reserve_stats_add(&mm->root);
}

void mm_reserve_root_destroy(struct mm *mm)
{
	LB_ASSERTF(list_empty(&mm->root.children),
		   "reserves still registered at mm_destroy");
	reserve_stats_del(&mm->root);
}

static struct mm_reserve *find_in(struct mm_reserve *r, const char *name)
{
	struct mm_reserve *c, *hit;

	if (!strcmp(r->name, name))
		return r;
	list_for_each_entry(c, &r->children, sibling) {
		hit = find_in(c, name);
		if (hit)
			return hit;
	}
	return NULL;
}

struct mm_reserve *mm_reserve_find(struct mm *mm, const char *name)
{
	return find_in(&mm->root, name);
}

/*
 * Can `min` grow by @delta pages?  Under none and mainline only the cap
 * applies; under accounted the reserve's unused part must also be free
 * right now, or the guarantee would be a promise on memory held by others.
 */
static int reserve_fits(struct mm *mm, size_t delta)
{
	size_t new_min = (size_t)mm->root.size.v + delta;
	size_t cap = mm->nr_pages * mm->reserve_max_pct / 100;

	if (new_min > cap) {
		lb_err(&mm->host->log,
		       "mm: reserve of %zu pages would exceed the cap of %zu pages (%u%% of the arena)",
		       new_min, cap, mm->reserve_max_pct);
		return -ENOMEM;
	}
	if (mm->policy == MM_POLICY_ACCOUNTED &&
	    (size_t)mm->nr_free.v < new_min - (size_t)mm->root.used.v) {
		lb_err(&mm->host->log,
		       "mm: reserve of %zu pages does not fit: %lld pages free, %lld in use by the reserve",
		       new_min, (long long)mm->nr_free.v,
		       (long long)mm->root.used.v);
		return -ENOMEM;
	}
	return 0;
}

static void propagate_size(struct mm_reserve *r, int64_t delta)
{
	for (; r; r = r->parent)
		r->size.v += delta;
}

int mm_reserve_add(struct mm *mm, struct mm_reserve *r,
		   struct mm_reserve *parent, const char *name, size_t pages)
{
	int err;

	if (!name || !*name || strlen(name) >= MM_RESERVE_NAME_MAX)
		return -EINVAL;
	if (mm_reserve_find(mm, name))
		return -EEXIST;
	if (!parent)
		parent = &mm->root;
	err = reserve_fits(mm, pages);
	if (err)
		return err;
	reserve_init(r, mm, name, pages);
	r->parent = parent;
	list_add_tail(&r->sibling, &parent->children);
	propagate_size(parent, (int64_t)pages);
	mm_update_watermarks(mm);
	reserve_stats_add(r);
	lb_debug(&mm->host->log, "mm: reserve %s: %zu pages (min now %lld)",
		 name, pages, (long long)mm->wmark_min.v);
	return 0;
}

int mm_reserve_resize(struct mm_reserve *r, size_t pages)
{
	struct mm *mm = r->mm;
	int64_t delta = (int64_t)pages - (int64_t)r->own;
	int err;

	if (r == &mm->root)
		return -EINVAL;
	if (delta < 0 && r->size.v + delta < r->used.v)
		return -EBUSY;
	if (delta > 0) {
		err = reserve_fits(mm, (size_t)delta);
		if (err)
			return err;
	}
	r->own = pages;
	propagate_size(r, delta);
	mm_update_watermarks(mm);
	if (delta > 0)
		mm_reserve_note_room(r);
	return 0;
}

int mm_reserve_remove(struct mm_reserve *r)
{
	struct mm *mm = r->mm;

	if (r == &mm->root)
		return -EINVAL;
	if (r->used.v || !list_empty(&r->children) || !list_empty(&r->waiters))
		return -EBUSY;
	propagate_size(r->parent, -(int64_t)r->own);
	list_del(&r->sibling);
	reserve_stats_del(r);
	mm_update_watermarks(mm);
	r->parent = NULL;
	return 0;
}

size_t mm_reserve_room(const struct mm_reserve *r)
{
	const struct mm *mm = r->mm;
	size_t room = SIZE_MAX;

	switch (mm->policy) {
	case MM_POLICY_NONE:
		return 0;
	case MM_POLICY_MAINLINE:
		return (size_t)mm->nr_free.v;
	case MM_POLICY_ACCOUNTED:
		break;
	}
	for (; r; r = r->parent) {
		size_t left = r->size.v > r->used.v ?
				      (size_t)(r->size.v - r->used.v) :
				      0;
		room = lb_min(room, left);
	}
	return room;
}

int mm_reserve_charge(struct mm_reserve *r, size_t pages)
{
	struct mm *mm = r->mm;
	struct mm_reserve *a;

	if (mm->policy == MM_POLICY_ACCOUNTED && mm_reserve_room(r) < pages) {
		counter_inc(&r->failures);
		host_trace(mm->host, "mm.reserve.full", (uint64_t)r->used.v,
			   (uint64_t)r->size.v, pages);
		return -ENOMEM;
	}
	counter_inc(&r->charges);
	for (a = r; a; a = a->parent) {
		a->used.v += (int64_t)pages;
		if (a->used.v > a->hwm.v)
			a->hwm.v = a->used.v;
	}
	return 0;
}

void mm_reserve_uncharge(struct mm_reserve *r, size_t pages)
{
	struct mm_reserve *a;

	for (a = r; a; a = a->parent) {
		LB_ASSERTF(a->used.v >= (int64_t)pages,
			   "reserve %s uncharged below zero", a->name);
		a->used.v -= (int64_t)pages;
	}
	/*
	 * Room on the path may be room for reserves elsewhere (under mainline
	 * every reserve shares the root): let the wake pass decide.
	 */
	if (!list_empty(&r->mm->waiting_rsv))
		task_queue(r->mm->host->loop, &r->mm->wake_task);
}

void mm_reserve_check(const struct mm *mm, const struct mm_reserve *r)
{
	const struct mm_reserve *c;
	int64_t size = (int64_t)r->own, used = (int64_t)r->self_used;
	size_t pf = 0;

	list_for_each_entry(c, &r->children, sibling) {
		LB_ASSERT(c->parent == r);
		mm_reserve_check(mm, c);
		size += c->size.v;
		used += c->used.v;
	}
	for (size_t i = 0; i < mm->nr_pages; i++)
		if (mm->pages[i].reserve == r)
			pf++;
	LB_ASSERTF(pf == r->self_used, "reserve %s: %zu pages, self_used %zu",
		   r->name, pf, r->self_used);
	LB_ASSERTF(size == r->size.v, "reserve %s: size %lld, sum %lld",
		   r->name, (long long)r->size.v, (long long)size);
	LB_ASSERTF(used == r->used.v, "reserve %s: used %lld, sum %lld",
		   r->name, (long long)r->used.v, (long long)used);
	LB_ASSERT(r->hwm.v >= r->used.v);
	if (mm->policy == MM_POLICY_ACCOUNTED)
		LB_ASSERTF(r->used.v <= r->size.v,
			   "reserve %s over its size: %lld > %lld", r->name,
			   (long long)r->used.v, (long long)r->size.v);
}

static void walk(const struct mm_reserve *r, unsigned depth,
		 void (*fn)(const struct mm_reserve *r, unsigned depth,
			    void *arg),
		 void *arg)
{
	const struct mm_reserve *c;

	fn(r, depth, arg);
	list_for_each_entry(c, &r->children, sibling)
		walk(c, depth + 1, fn, arg);
}

void mm_reserve_walk(const struct mm_reserve *r,
		     void (*fn)(const struct mm_reserve *r, unsigned depth,
				void *arg),
		     void *arg)
{
	walk(r, 0, fn, arg);
}

static void print_one(const struct mm_reserve *r, unsigned depth, void *out)
{
	fprintf(out, "%*s%-*s %8lld %8lld %8lld %8llu\n", (int)depth * 2, "",
		28 - (int)depth * 2, r->name, (long long)r->size.v,
		(long long)r->used.v, (long long)r->hwm.v,
		(unsigned long long)r->failures.v);
}

void mm_print_reserves(const struct mm *mm, FILE *out)
{
	fprintf(out, "%-28s %8s %8s %8s %8s\n", "reserve", "size", "used",
		"hwm", "failures");
	mm_reserve_walk(&mm->root, print_one, out);
}
