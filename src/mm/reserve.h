/* SPDX-License-Identifier: MIT */
/*
 * reserve.h - the reserve tree: named, sized, accounted emergency reserves.
 *
 * The memory below the `min` watermark is not one shared pool but a tree of
 * reserves ("net.rx", "net.tx.<sock>", "ip.frag", "block.<dev>",
 * "vm.reclaim", ...).  A node's size is its own pages plus its children's
 * sizes; the root's size is `min`.  A charge of n pages to a node succeeds
 * only if the node and every ancestor stay within their sizes, so a
 * consumer can exhaust only its own share: a flood that fills net.rx cannot
 * touch block.nbd0.
 *
 * Sizes are in pages because the reserve is spent a page at a time (pages
 * taken below min; slab pages are charged whole to one reserve).
 *
 * Adding or growing a reserve raises `min` and fails with -ENOMEM when the
 * new reserve does not fit: when fewer pages are free than the unused
 * reserve would need, or when min would pass the arena's cap.  That is the
 * check swapon never did.
 *
 * Under policy `accounted` used <= size always holds.  Under `mainline`
 * charges go to the root and are not bounded (that is mainline's flaw);
 * under `none` nothing is charged.
 */
#ifndef LB_MM_RESERVE_H
#define LB_MM_RESERVE_H

#include <stdbool.h>
#include <stddef.h>
#include "core/list.h"
#include "core/stats.h"

#define MM_RESERVE_NAME_MAX 40

struct mm;

struct mm_reserve {
	char name[MM_RESERVE_NAME_MAX];
	struct mm *mm;
	struct mm_reserve *parent;
	struct list_head children;
	struct list_head sibling;
	size_t own; /* pages set for this node itself */
	size_t self_used; /* pages charged to this node directly */
	struct gauge size; /* own + children's sizes */
	struct gauge used; /* pages charged in this subtree */
	struct gauge hwm; /* high-water mark of used */
	struct counter charges, failures;
	struct list_head waiters; /* struct mm_waiter, FIFO */
	struct list_head wait_node; /* on mm->waiting_rsv while waiters */
	bool registered;
};

/*
 * Add @r as a child of @parent (NULL: the root) with @pages of its own.
 * Registers "mm.reserve.<name>.{size,used,hwm,charges,failures}".
 * 0, -EEXIST (name taken), -ENOMEM (does not fit), -EINVAL.
 */
int mm_reserve_add(struct mm *mm, struct mm_reserve *r,
		   struct mm_reserve *parent, const char *name, size_t pages);
/* Change @r's own pages; -EBUSY if it would drop below use, -ENOMEM. */
int mm_reserve_resize(struct mm_reserve *r, size_t pages);
/* Remove an unused leaf; -EBUSY while charged or with children. */
int mm_reserve_remove(struct mm_reserve *r);
struct mm_reserve *mm_reserve_find(struct mm *mm, const char *name);

/* Pages that @r could still be charged (bounded by its ancestors). */
size_t mm_reserve_room(const struct mm_reserve *r);

/* Call @fn on @r and on every reserve below it, parents first. */
void mm_reserve_walk(const struct mm_reserve *r,
		     void (*fn)(const struct mm_reserve *r, unsigned depth,
				void *arg),
		     void *arg);

#endif
