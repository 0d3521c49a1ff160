/* SPDX-License-Identifier: MIT */
/*
 * vm.h - the pager: page descriptors, LRU lists, reclaim, write-back, swap,
 * shared mappings and the page cache, and the application's touch API.
 *
 * The pager is what creates memory pressure and what relieves it by
 * writing pages to storage (any struct blkdev: a RAM device in tests, NBD
 * or AoE over the network).  Every arena page it holds is a page of a
 * region:
 *
 *  anon    anonymous memory backed by the swap device (vm_swapon): a dirty
 *          page is written to a swap slot, then freed; a fault reads it
 *          back.  Slots come from a bitmap sized at swapon.
 *  shared  a MAP_SHARED mapping of a device range: dirty pages are written
 *          back to their own blocks.
 *  file    the page cache of a device range with buffered writes; writers
 *          that would pass the dirty limit park until write-back catches up.
 *
 * Memory rules.  Region tables (page pointers, swap slots) and the slot
 * bitmap are allocated when a region is mapped or swap is attached, never
 * on the data path.  A fault takes its page with MM_NORMAL | MM_NOMEMALLOC
 * (the application never touches the reserve) and parks an mm_waiter
 * ("page fault") when there is none.  Reclaim (the background reclaimer
 * below `low`, direct reclaim when a normal request finds nothing) runs in
 * memalloc context; write-back takes its bio with MM_MEMALLOC from the
 * device's mempool and submits in memalloc context charging the device's
 * reserve (block.<dev>), which is the only reserve write-back ever draws
 * on.  The pager itself allocates nothing while reclaiming, so it
 * registers no reserve of its own.  A page under write-back is freed only
 * when its bio completes.
 *
 * Nothing blocks: vm_touch() queues a touch and calls its callback from the
 * loop once the page is resident, with the page's data; it never calls back
 * from inside vm_touch().
 */
#ifndef LB_VM_VM_H
#define LB_VM_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "block/block.h"
#include "core/host.h"
#include "core/list.h"
#include "core/loop.h"
#include "core/stats.h"
#include "mm/mm.h"

#define VM_MAX_REGIONS 64

enum vm_lru {
	VM_LRU_ANON_INACTIVE,
	VM_LRU_ANON_ACTIVE,
	VM_LRU_FILE_INACTIVE,
	VM_LRU_FILE_ACTIVE,
	VM_LRU_NR,
};

enum vm_region_kind {
	VM_ANON,
	VM_SHARED,
	VM_FILE,
};

struct vm;

struct vm_region {
	struct vm *vm;
	unsigned id; /* index in vm->regions; in every page's private word */
	enum vm_region_kind kind;
	char name[24];
	uint64_t nr_pages;
	struct page **pages; /* the region's page table: index -> page */
	uint32_t *slots; /* anon: index -> swap slot + 1 (0: none) */
	struct blkdev *bd; /* shared, file: the backing device */
	uint64_t offset; /* shared, file: byte offset of page 0 on bd */
	uint64_t nr_resident;
	unsigned nr_touches; /* touches queued or in progress */
};

/* Swap: the device and its slot map (one bit a page-sized slot). */
struct vm_swap {
	struct blkdev *bd;
	uint64_t offset; /* byte offset of slot 0 on bd */
	uint64_t nr_slots, nr_used, hint;
	unsigned long *map;
};

#define VM_TOUCH_WRITE (1u << 0)
/* The whole page will be written: do not read its old content. */
#define VM_TOUCH_OVERWRITE (1u << 1)

struct vm_touch;
/*
 * The page is resident (and for writes marked dirty): @data is its 4 KiB,
 * valid only during the call.  On error @data is NULL and @err < 0.
 */
typedef void (*vm_touch_fn)(struct vm_touch *t, void *data, int err);

struct vm_touch {
	/* the caller's */
	struct vm_region *region;
	uint64_t index;
	unsigned flags; /* VM_TOUCH_* */
	vm_touch_fn fn;
	void *private;
	/* the pager's */
	struct list_head node; /* on the run queue or a wait list */
	struct mm_waiter waiter; /* for memory: "page fault" */
	struct bio bio; /* page-in: a read never takes write-back's bios */
	struct page *pinned; /* read in for this touch: kept till it runs */
	bool busy, counted_fault;
	int err;
};

struct vm_config {
	unsigned dirty_ratio; /* % of the arena that may be dirty file pages; 0: 20 */
	unsigned dirty_background_ratio; /* flusher starts here; 0: half of dirty */
	unsigned reclaim_batch; /* pages scanned per reclaim step; 0: 32 */
};

struct vm_stats {
	struct counter faults, major_faults, fault_waits;
	struct counter swap_out, swap_in, written_back, wb_bytes, wb_started;
	struct counter wb_errors, read_errors, reclaimed, direct_runs;
	struct counter direct_freed, kswapd_runs, throttled, verify_ok;
	struct counter verify_fail, touches;
	struct gauge dirty, dirty_file, writeback, resident, dirty_file_hwm;
	struct gauge lru[VM_LRU_NR];
	struct gauge swap_used;
};

struct vm_watchdog;

struct vm {
	struct host *host;
	struct mm *mm;
	struct vm_config cfg;
	uint64_t dirty_limit, dirty_background; /* pages of file dirty + wb */

	struct vm_region *regions[VM_MAX_REGIONS];
	struct list_head lru[VM_LRU_NR];
	struct vm_swap swap;

	struct list_head runq; /* touches ready to (re)try */
	struct list_head io_wait; /* touches waiting for a page's I/O */
	struct list_head throttle; /* writers parked at the dirty limit */
	struct task run_task, kswapd_task, flush_task;
	unsigned nr_touches; /* queued or in progress, all regions */
	uint64_t nr_reclaim_wb; /* pages under write-back to be freed after */
	uint64_t nr_wb_file; /* file-backed pages under write-back */
	uint64_t nr_reads; /* pages being read in */
	bool in_reclaim;
	bool syncing; /* vm_sync(): flush until no file-backed page is dirty */

	uint64_t last_progress; /* host time of the last free, wb or touch */
	struct vm_watchdog *watchdog;
	struct vm_stats st;
};

/* Create the pager and hook it into h->mm's reclaim.  NULL on failure. */
struct vm *vm_create(struct host *h, const struct vm_config *cfg);
/* Every region must be unmapped and swap off. */
void vm_destroy(struct vm *vm);

/* Attach @bd as swap: one slot per page of its capacity.  0, -EBUSY, -ENOMEM. */
int vm_swapon(struct vm *vm, struct blkdev *bd);
/* Swap on @nr page-sized slots from byte @offset (page-aligned) of @bd. */
int vm_swapon_range(struct vm *vm, struct blkdev *bd, uint64_t offset,
		    uint64_t nr);
/* -EBUSY while slots are taken. */
int vm_swapoff(struct vm *vm);

/* Anonymous memory of @nr_pages (needs swap to be paged out). */
int vm_map_anon(struct vm *vm, const char *name, uint64_t nr_pages,
		struct vm_region **out);
/* A shared mapping of @nr_pages at byte @offset (512-aligned) of @bd. */
int vm_map_shared(struct vm *vm, const char *name, struct blkdev *bd,
		  uint64_t offset, uint64_t nr_pages, struct vm_region **out);
/* The page cache of @nr_pages at byte @offset of @bd (buffered writes). */
int vm_map_file(struct vm *vm, const char *name, struct blkdev *bd,
		uint64_t offset, uint64_t nr_pages, struct vm_region **out);
/*
 * Drop the region's pages (dirty data is discarded) and its swap slots.
 * -EBUSY while touches are pending or any of its pages is under I/O.
 */
int vm_unmap(struct vm_region *r);

/*
 * Start a touch of @t->region page @t->index; @t->fn runs from the loop.
 * 0, -EINVAL (index out of range, no callback), -EBUSY (@t still busy).
 */
int vm_touch(struct vm_touch *t);

/*
 * sync(2) without the wait: start writing back every dirty file-backed
 * page (shared mappings and the page cache).  The flusher keeps going, at
 * most a queue depth of bios per device as always, until none is dirty;
 * the pages stay resident, clean.  Nothing is allocated but write-back's
 * own bios.  vm_sync_pending() is true while a file-backed page is dirty
 * or under write-back.
 */
void vm_sync(struct vm *vm);
bool vm_sync_pending(const struct vm *vm);

/* Pages under I/O issued by the pager (write-back and reads). */
uint64_t vm_io_in_flight(const struct vm *vm);

/* Print the pager's state: LRU sizes, dirty, write-back, parked touches. */
void vm_print(const struct vm *vm, FILE *out);

#endif
