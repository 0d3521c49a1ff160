// SPDX-License-Identifier: MIT
/*
 * writeback.c - writing dirty pages to their blocks or swap slots, the
 * completion that makes them freeable, and the flusher that keeps file
 * pages under the dirty limit.
 *
 * Submission runs in memalloc context charging the device's reserve: the
 * bio comes from the device's mempool (MM_MEMALLOC), and whatever the
 * transport allocates while taking the bio may fall back to block.<dev>.
 * The pager keeps at most a queue depth of bios per device, so write-back
 * never needs more bios than the pool holds.
 */
#include <errno.h>
#include "vm_internal.h"

static struct blkdev *vm_page_bdev(struct vm *vm, struct vm_region *r)
{
	return r->kind == VM_ANON ? vm->swap.bd : r->bd;
}

static bool vm_bdev_full(const struct blkdev *bd)
{
	return (uint64_t)(bd->st.inflight.v + bd->st.waiting.v) >=
	       bd->lim.queue_depth;
}

static void vm_wb_start_page(struct vm *vm, struct page *p, bool reclaim)
{
	mm_page_get(p); /* the bio's reference */
	vm_page_clear_dirty(vm, p);
	p->flags |= PG_WRITEBACK;
	if (reclaim) {
		p->flags |= PG_RECLAIM;
		vm->nr_reclaim_wb++;
	}
	gauge_add(&vm->st.writeback, 1);
	if (!(p->flags & PG_ANON))
		vm->nr_wb_file++;
	counter_inc(&vm->st.wb_started);
}

static void vm_wb_end_page(struct vm *vm, struct page *p, int err)
{
	bool reclaim = p->flags & PG_RECLAIM;

	LB_ASSERT(p->flags & PG_WRITEBACK);
	p->flags &= ~(PG_WRITEBACK | PG_RECLAIM);
	gauge_add(&vm->st.writeback, -1);
	if (!(p->flags & PG_ANON))
		vm->nr_wb_file--;
	if (reclaim)
		vm->nr_reclaim_wb--;
	if (err) {
		/* the data is still only here: keep it dirty, retry later */
		vm_page_set_dirty(vm, p);
		counter_inc(&vm->st.wb_errors);
	} else {
		counter_inc(&vm->st.written_back);
		counter_add(&vm->st.wb_bytes, PAGE_SIZE);
		if (p->flags & PG_ANON)
			counter_inc(&vm->st.swap_out);
	}
	mm_page_put(vm->mm, p);
	/* Swap-out is "write, then free": unless touched meanwhile. */
	if (reclaim && !(p->flags & (PG_DIRTY | PG_REFERENCED | PG_LOCKED)) &&
	    p->refcount == 1) {
		vm_page_evict(vm, p);
		counter_inc(&vm->st.reclaimed);
	}
}

static void vm_wb_end_io(struct bio *bio)
{
	struct vm *vm = bio->private;

	host_trace(vm->host, "vm.wb.done", bio->offset, bio->nr_vecs,
		   (uint64_t)-bio->error);
	for (unsigned i = 0; i < bio->nr_vecs; i++)
		vm_wb_end_page(vm, bio->vec[i].page, bio->error);
	bio_free(bio);
	vm_note_progress(vm);
	vm_io_done(vm);
}

int vm_writeback_page(struct vm *vm, struct page *p, bool reclaim)
{
	struct vm_region *r = vm_page_region(vm, p);
	uint64_t idx = vm_page_index(p);
	struct blkdev *bd = vm_page_bdev(vm, r);
	struct mm_memalloc_ctx old;
	struct bio *bio;
	unsigned max;
	int err;

	LB_ASSERT((p->flags & PG_DIRTY) &&
		  !(p->flags & (PG_WRITEBACK | PG_LOCKED)));
	if (!bd)
		return -ENOSPC;
	if (vm_bdev_full(bd))
		return -EBUSY;
	if (r->kind == VM_ANON && !r->slots[idx]) {
		int64_t slot = vm_swap_slot_get(vm);

		if (slot < 0)
			return (int)slot;
		r->slots[idx] = (uint32_t)slot + 1;
	}
	old = mm_memalloc_save(vm->mm, &bd->rsv);
	bio = bio_alloc(bd, BIO_WRITE, MM_MEMALLOC);
	if (!bio) {
		mm_memalloc_restore(vm->mm, old);
		return -ENOMEM;
	}
	bio->private = vm;
	bio->end_io = vm_wb_end_io;
	if (r->kind == VM_ANON)
		bio->offset = vm->swap.offset +
			      (uint64_t)(r->slots[idx] - 1) * PAGE_SIZE;
	else
		bio->offset = r->offset + idx * PAGE_SIZE;
	bio_add_page(bio, p, 0, PAGE_SIZE);
	vm_wb_start_page(vm, p, reclaim);
	/* File pages that follow on the device go in the same request. */
	max = lb_min(bd->lim.max_request / PAGE_SIZE, BIO_MAX_VECS);
	for (uint64_t j = idx + 1;
	     r->kind != VM_ANON && j < r->nr_pages && bio->nr_vecs < max; j++) {
		struct page *q = r->pages[j];

		if (!q || !(q->flags & PG_DIRTY) ||
		    (q->flags & (PG_WRITEBACK | PG_LOCKED)))
			break;
		bio_add_page(bio, q, 0, PAGE_SIZE);
		vm_wb_start_page(vm, q, false);
	}
	host_trace(vm->host, "vm.wb.start", bio->offset, bio->nr_vecs, r->id);
	err = blk_submit(bio);
	mm_memalloc_restore(vm->mm, old);
	if (err) {
		lb_err(&vm->host->log, "vm: %s refused write-back: %d",
		       bd->name, err);
		bio->error = err;
		vm_wb_end_io(bio);
		return err;
	}
	return bio->nr_vecs;
}

/*
 * Write back file-backed dirty pages, oldest first, down to the
 * background threshold (or while writers are parked at the limit, or to
 * none at all after vm_sync()).
 */
void vm_flush_fn(struct task *t)
{
	static const enum vm_lru order[] = { VM_LRU_FILE_INACTIVE,
					     VM_LRU_FILE_ACTIVE };
	struct vm *vm = container_of(t, struct vm, flush_task);
	int ret;

	if (vm->syncing && !vm->st.dirty_file.v)
		vm->syncing = false;
	for (unsigned i = 0; i < ARRAY_SIZE(order); i++) {
		struct list_head *h = &vm->lru[order[i]], *pos;

		for (pos = h->prev; pos != h;) {
			struct page *p = list_entry(pos, struct page, lru);

			if ((uint64_t)vm->st.dirty_file.v <=
				    vm->dirty_background &&
			    list_empty(&vm->throttle) && !vm->syncing)
				return;
			pos = pos->prev;
			if (!(p->flags & PG_DIRTY) ||
			    (p->flags & (PG_WRITEBACK | PG_LOCKED)))
				continue;
			ret = vm_writeback_page(vm, p, false);
			/* the next completion queues the flusher again */
			if (ret == -ENOMEM || ret == -EBUSY)
				return;
		}
	}
}

void vm_sync(struct vm *vm)
{
	vm->syncing = true;
	task_queue(vm->host->loop, &vm->flush_task);
}

bool vm_sync_pending(const struct vm *vm)
{
	return vm->st.dirty_file.v || vm->nr_wb_file;
}

uint64_t vm_io_in_flight(const struct vm *vm)
{
	return (uint64_t)vm->st.writeback.v + vm->nr_reads;
}

void vm_io_done(struct vm *vm)
{
	struct loop *l = vm->host->loop;

	if (!list_empty(&vm->io_wait)) {
		list_splice_tail_init(&vm->io_wait, &vm->runq);
		task_queue(l, &vm->run_task);
	}
	if (!list_empty(&vm->throttle) && !vm_over_dirty_limit(vm)) {
		list_splice_tail_init(&vm->throttle, &vm->runq);
		task_queue(l, &vm->run_task);
	}
	if (vm->mm->nr_free.v < vm->mm->wmark_high.v)
		task_queue(l, &vm->kswapd_task);
	if ((uint64_t)vm->st.dirty_file.v > vm->dirty_background ||
	    !list_empty(&vm->throttle) || vm->syncing)
		task_queue(l, &vm->flush_task);
}
