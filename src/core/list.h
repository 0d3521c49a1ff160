/* SPDX-License-Identifier: MIT */
/*
 * list.h - intrusive circular doubly linked lists, kernel style.
 *
 * The node lives inside the object, so linking never allocates.
 */
#ifndef LB_CORE_LIST_H
#define LB_CORE_LIST_H

#include <stdbool.h>
#include "compiler.h"

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name)     \
	{                        \
		&(name), &(name) \
	}

static inline void list_init(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline void __list_add(struct list_head *n, struct list_head *prev,
			      struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

/* Insert after @h (stack order). */
static inline void list_add(struct list_head *n, struct list_head *h)
{
	__list_add(n, h, h->next);
}

/* Insert before @h (queue order). */
static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	__list_add(n, h->prev, h);
}

/* Unlink and self-point, so a second list_del or list_empty is safe. */
static inline void list_del(struct list_head *n)
{
	n->next->prev = n->prev;
	n->prev->next = n->next;
	list_init(n);
}

static inline void list_move_tail(struct list_head *n, struct list_head *h)
{
	list_del(n);
	list_add_tail(n, h);
}

static inline void __list_splice(struct list_head *list, struct list_head *prev,
				 struct list_head *next)
{
	struct list_head *first = list->next, *last = list->prev;

	first->prev = prev;
	prev->next = first;
	last->next = next;
	next->prev = last;
}

/* Move all of @list to the front of @h; @list is left empty. */
static inline void list_splice_init(struct list_head *list, struct list_head *h)
{
	if (!list_empty(list)) {
		__list_splice(list, h, h->next);
		list_init(list);
	}
}

/* Move all of @list to the back of @h; @list is left empty. */
static inline void list_splice_tail_init(struct list_head *list,
					 struct list_head *h)
{
	if (!list_empty(list)) {
		__list_splice(list, h->prev, h);
		list_init(list);
	}
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(h, type, member) list_entry((h)->next, type, member)

#define list_for_each(pos, h) for (pos = (h)->next; pos != (h); pos = pos->next)
#define list_for_each_safe(pos, n, h) \
	for (pos = (h)->next, n = pos->next; pos != (h); pos = n, n = pos->next)
#define list_for_each_entry(pos, h, member)                         \
	for (pos = list_entry((h)->next, __typeof__(*pos), member); \
	     &pos->member != (h);                                   \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))
#define list_for_each_entry_safe(pos, n, h, member)                     \
	for (pos = list_entry((h)->next, __typeof__(*pos), member),     \
	    n = list_entry(pos->member.next, __typeof__(*pos), member); \
	     &pos->member != (h);                                       \
	     pos = n, n = list_entry(n->member.next, __typeof__(*n), member))

#endif
