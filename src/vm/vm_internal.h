/* SPDX-License-Identifier: MIT */
/*
 * vm_internal.h - what the pager's files share: page flags, the page's
 * owner word, LRU helpers, write-back and reclaim entry points.
 */
#ifndef LB_VM_INTERNAL_H
#define LB_VM_INTERNAL_H

#include "vm.h"

/* Page flags of the pager (mm owns the bits below PG_VM_SHIFT). */
#define PG_LRU (1u << (PG_VM_SHIFT + 0)) /* on one of vm->lru */
#define PG_ACTIVE (1u << (PG_VM_SHIFT + 1)) /* on an active list */
#define PG_ANON (1u << (PG_VM_SHIFT + 2)) /* swap-backed */
#define PG_REFERENCED (1u << (PG_VM_SHIFT + 3)) /* touched since scanned */
#define PG_DIRTY (1u << (PG_VM_SHIFT + 4))
#define PG_WRITEBACK (1u << (PG_VM_SHIFT + 5))
#define PG_LOCKED (1u << (PG_VM_SHIFT + 6)) /* being read in */
#define PG_RECLAIM (1u << (PG_VM_SHIFT + 7)) /* free when write-back ends */

/* page->private: region id above bit 40, page index below. */
#define VM_PRIV_SHIFT 40

static inline uint64_t vm_page_priv(const struct vm_region *r, uint64_t idx)
{
	return ((uint64_t)r->id << VM_PRIV_SHIFT) | idx;
}

static inline struct vm_region *vm_page_region(const struct vm *vm,
					       const struct page *p)
{
	return vm->regions[p->private >> VM_PRIV_SHIFT];
}

static inline uint64_t vm_page_index(const struct page *p)
{
	return p->private & ((1ull << VM_PRIV_SHIFT) - 1);
}

static inline bool vm_region_filebacked(const struct vm_region *r)
{
	return r->kind != VM_ANON;
}

static inline void gauge_add(struct gauge *g, int64_t d)
{
	g->v += d;
}

static inline void vm_note_progress(struct vm *vm)
{
	vm->last_progress = host_now(vm->host);
}

/* lru.c */
void vm_lru_add(struct vm *vm, struct page *p);
void vm_lru_del(struct vm *vm, struct page *p);
/* Move to the head of its current list (second chance without promotion). */
void vm_lru_rotate(struct vm *vm, struct page *p);
void vm_lru_activate(struct vm *vm, struct page *p);
void vm_lru_deactivate(struct vm *vm, struct page *p);
enum vm_lru vm_page_lru(const struct page *p);

/* mapping.c: dirty accounting and taking a page out of its region */
void vm_page_set_dirty(struct vm *vm, struct page *p);
void vm_page_clear_dirty(struct vm *vm, struct page *p);
/* Unmap a clean, idle page and give it back to the arena. */
void vm_page_evict(struct vm *vm, struct page *p);
/* Nonzero when file-backed dirty + write-back pages reach the limit. */
bool vm_over_dirty_limit(const struct vm *vm);

/* swap.c */
/* A free slot (never allocates); -ENOSPC when swap is full or absent. */
int64_t vm_swap_slot_get(struct vm *vm);
void vm_swap_slot_put(struct vm *vm, uint64_t slot);

/* writeback.c */
/*
 * Start write-back of dirty page @p (and, for file-backed pages, the dirty
 * pages that follow it on the device, up to the device's request size).
 * @reclaim: free the pages when write-back completes.  Returns pages
 * started, or -EBUSY (device queue full), -ENOSPC (no swap slot), -ENOMEM.
 */
int vm_writeback_page(struct vm *vm, struct page *p, bool reclaim);
void vm_flush_fn(struct task *t);
/* A page's I/O ended: retry the touches that waited for it. */
void vm_io_done(struct vm *vm);

/* reclaim.c */
void vm_kswapd_fn(struct task *t);
void vm_wake_kswapd(struct mm *mm, void *arg);
size_t vm_direct_reclaim(struct mm *mm, size_t nr, void *arg);

/* fault.c */
void vm_run_fn(struct task *t);
void vm_touch_requeue(struct vm *vm, struct vm_touch *t);

#endif
