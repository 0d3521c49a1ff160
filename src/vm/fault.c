// SPDX-License-Identifier: MIT
/*
 * fault.c - touches: the application's asynchronous page accesses.
 *
 * A touch runs from the pager's run task, never inside vm_touch().  Each
 * step either completes the touch or parks it: on the memory waitqueue
 * ("page fault", when no page could be had), on the pager's I/O list (the
 * page is being read in, or written back and the touch would write), or at
 * the dirty limit (a file-backed write that would dirty one page too many).
 * Whatever wakes it puts it back on the run queue, and the step starts
 * over: nothing is assumed about a page across a park.
 *
 * A fault takes one page (MM_NORMAL | MM_NOMEMALLOC: the application never
 * touches the reserve) and reads it in with the bio embedded in the touch,
 * so page-in takes nothing from the device pools write-back relies on.
 */
#include <errno.h>
#include "vm_internal.h"

static void touch_finish(struct vm *vm, struct vm_touch *t, void *data, int err)
{
	struct page *pin = t->pinned;

	t->pinned = NULL;
	t->region->nr_touches--;
	vm->nr_touches--;
	t->busy = false;
	vm_note_progress(vm);
	t->fn(t, data, err);
	if (pin)
		mm_page_put(vm->mm, pin);
}

void vm_touch_requeue(struct vm *vm, struct vm_touch *t)
{
	list_add_tail(&t->node, &vm->runq);
	task_queue(vm->host->loop, &vm->run_task);
}

static void touch_wake(struct mm_waiter *w)
{
	struct vm_touch *t = container_of(w, struct vm_touch, waiter);

	vm_touch_requeue(t->region->vm, t);
}

int vm_touch(struct vm_touch *t)
{
	struct vm_region *r = t->region;
	struct vm *vm;

	if (!r || !t->fn || t->index >= r->nr_pages)
		return -EINVAL;
	if (t->busy)
		return -EBUSY;
	vm = r->vm;
	t->busy = true;
	t->err = 0;
	t->counted_fault = false;
	mm_waiter_init(&t->waiter, touch_wake, "page fault");
	r->nr_touches++;
	vm->nr_touches++;
	counter_inc(&vm->st.touches);
	vm_touch_requeue(vm, t);
	return 0;
}

static void install(struct vm *vm, struct vm_region *r, uint64_t idx,
		    struct page *p)
{
	LB_ASSERT(!r->pages[idx]);
	if (r->kind == VM_ANON)
		p->flags |= PG_ANON;
	p->private = vm_page_priv(r, idx);
	r->pages[idx] = p;
	r->nr_resident++;
	gauge_add(&vm->st.resident, 1);
	vm_lru_add(vm, p);
}

static void read_end_io(struct bio *bio)
{
	struct vm_touch *t = bio->private;
	struct vm *vm = t->region->vm;
	struct page *p = bio->vec[0].page;

	LB_ASSERT(p->flags & PG_LOCKED);
	p->flags &= ~PG_LOCKED;
	vm->nr_reads--;
	host_trace(vm->host, "vm.read.done", t->region->id, t->index,
		   (uint64_t)-bio->error);
	if (bio->error) {
		counter_inc(&vm->st.read_errors);
		t->err = bio->error;
		vm_page_evict(vm, p);
	} else {
		/*
		 * About to be touched: pinned until the touch has run, or
		 * under enough pressure reclaim frees it first and the read
		 * starts over, for ever (a livelock the simulator found).
		 */
		p->flags |= PG_REFERENCED;
		mm_page_get(p);
		t->pinned = p;
		if (p->flags & PG_ANON)
			counter_inc(&vm->st.swap_in);
	}
	vm_note_progress(vm);
	vm_touch_requeue(vm, t);
	vm_io_done(vm);
}

/* Start reading page @idx into @p; false if the device refused. */
static bool page_in(struct vm *vm, struct vm_touch *t, struct page *p)
{
	struct vm_region *r = t->region;
	struct blkdev *bd = r->kind == VM_ANON ? vm->swap.bd : r->bd;
	int err;

	bio_init(&t->bio, bd, BIO_READ);
	if (r->kind == VM_ANON)
		t->bio.offset = vm->swap.offset +
				(uint64_t)(r->slots[t->index] - 1) * PAGE_SIZE;
	else
		t->bio.offset = r->offset + t->index * PAGE_SIZE;
	bio_add_page(&t->bio, p, 0, PAGE_SIZE);
	t->bio.end_io = read_end_io;
	t->bio.private = t;
	p->flags |= PG_LOCKED;
	install(vm, r, t->index, p);
	vm->nr_reads++;
	err = blk_submit(&t->bio);
	if (err) {
		p->flags &= ~PG_LOCKED;
		vm->nr_reads--;
		vm_page_evict(vm, p);
		t->err = err;
		return false;
	}
	counter_inc(&vm->st.major_faults);
	host_trace(vm->host, "vm.read.start", r->id, t->index, 0);
	return true;
}

static void throttle(struct vm *vm, struct vm_touch *t)
{
	counter_inc(&vm->st.throttled);
	host_trace(vm->host, "vm.throttle", (uint64_t)vm->st.dirty_file.v,
		   vm->nr_wb_file, t->index);
	list_add_tail(&t->node, &vm->throttle);
	task_queue(vm->host->loop, &vm->flush_task);
}

/* Bring the page in, or park; true when it is resident and unlocked. */
static bool fault(struct vm *vm, struct vm_touch *t)
{
	struct vm_region *r = t->region;
	bool write = t->flags & VM_TOUCH_WRITE, need_read;
	struct page *p;

	if (!t->counted_fault) {
		t->counted_fault = true;
		counter_inc(&vm->st.faults);
	}
	/*
	 * Only write(2) is throttled: stores through a shared mapping dirty
	 * pages the throttle never sees (as before Linux 2.6.19 tracked
	 * them), which is why the seed names MAP_SHARED beside swap.
	 */
	if (write && r->kind == VM_FILE && vm_over_dirty_limit(vm)) {
		throttle(vm, t);
		return false;
	}
	need_read = r->kind != VM_ANON || r->slots[t->index];
	if (write && (t->flags & VM_TOUCH_OVERWRITE))
		need_read = false;
	p = mm_page_alloc(vm->mm, MM_NORMAL | MM_NOMEMALLOC | MM_ZERO, NULL);
	if (!p) {
		counter_inc(&vm->st.fault_waits);
		host_trace(vm->host, "vm.fault.wait", r->id, t->index,
			   (uint64_t)vm->mm->nr_free.v);
		mm_wait(vm->mm, &t->waiter, NULL);
		return false;
	}
	LB_ASSERT(!r->pages[t->index]);
	if (!need_read) {
		install(vm, r, t->index, p);
		return true;
	}
	if (!page_in(vm, t, p))
		touch_finish(vm, t, NULL, t->err);
	return false;
}

static void touch_step(struct vm *vm, struct vm_touch *t)
{
	struct vm_region *r = t->region;
	bool write = t->flags & VM_TOUCH_WRITE;
	struct page *p;

	if (t->err) {
		touch_finish(vm, t, NULL, t->err);
		return;
	}
	p = r->pages[t->index];
	if (!p && !fault(vm, t))
		return;
	p = r->pages[t->index];
	if ((p->flags & PG_LOCKED) || (write && (p->flags & PG_WRITEBACK))) {
		list_add_tail(&t->node, &vm->io_wait);
		return;
	}
	if (write && r->kind == VM_FILE && !(p->flags & PG_DIRTY) &&
	    vm_over_dirty_limit(vm)) {
		throttle(vm, t);
		return;
	}
	p->flags |= PG_REFERENCED;
	if (write)
		vm_page_set_dirty(vm, p);
	touch_finish(vm, t, page_address(vm->mm, p), 0);
}

void vm_run_fn(struct task *task)
{
	struct vm *vm = container_of(task, struct vm, run_task);
	struct list_head pass;

	/* Only those queued now: a touch re-queued meanwhile waits a turn. */
	list_init(&pass);
	list_splice_init(&vm->runq, &pass);
	while (!list_empty(&pass)) {
		struct vm_touch *t =
			list_first_entry(&pass, struct vm_touch, node);

		list_del(&t->node);
		touch_step(vm, t);
	}
}
