// SPDX-License-Identifier: MIT
/*
 * reclaim.c - freeing pages: the background reclaimer and direct reclaim.
 *
 * Both scan the inactive lists from the tail with a second chance: a
 * referenced page is promoted to the active list, a clean idle page is
 * freed at once, a dirty one gets its write-back started and is freed when
 * the write completes (PG_RECLAIM).  Active lists are aged into the
 * inactive ones whenever they are the larger.
 *
 * Both run in memalloc context and with vm->in_reclaim set, so the bio
 * allocations of write-back never recurse into reclaim.  Direct reclaim
 * refuses to run when called from memalloc context (as PF_MEMALLOC tasks
 * never enter it in Linux): it is a hook inside someone else's allocation.
 */
#include <errno.h>
#include "vm_internal.h"

struct vm_scan {
	unsigned scanned, freed, started;
	/*
	 * A device's queue was full: the rest of this batch only frees clean
	 * pages, and the scan ends with it instead of rotating dirty pages
	 * past a full queue again and again; the next completion wakes the
	 * reclaimer (vm_io_done), so the work per completion stays bounded.
	 */
	bool congested;
};

static struct page *lru_tail(struct vm *vm, enum vm_lru l)
{
	return list_entry(vm->lru[l].prev, struct page, lru);
}

static void age_active(struct vm *vm, enum vm_lru active, unsigned nr)
{
	nr = lb_min(nr, (unsigned)vm->st.lru[active].v);
	for (unsigned n = 0; n < nr && !list_empty(&vm->lru[active]); n++) {
		struct page *p = lru_tail(vm, active);

		if (p->flags & PG_REFERENCED) {
			p->flags &= ~PG_REFERENCED;
			vm_lru_rotate(vm, p);
		} else {
			vm_lru_deactivate(vm, p);
		}
	}
}

static void shrink_inactive(struct vm *vm, enum vm_lru l, unsigned nr,
			    struct vm_scan *sc)
{
	nr = lb_min(nr, (unsigned)vm->st.lru[l].v);
	for (unsigned n = 0; n < nr && !list_empty(&vm->lru[l]); n++) {
		struct page *p = lru_tail(vm, l);
		int ret;

		sc->scanned++;
		if (p->flags & (PG_WRITEBACK | PG_LOCKED) || p->refcount != 1) {
			vm_lru_rotate(vm, p);
		} else if (p->flags & PG_REFERENCED) {
			p->flags &= ~PG_REFERENCED;
			vm_lru_activate(vm, p);
		} else if (p->flags & PG_DIRTY) {
			ret = sc->congested ? -EBUSY :
					      vm_writeback_page(vm, p, true);
			if (ret > 0)
				sc->started += (unsigned)ret;
			if (ret == -EBUSY)
				sc->congested = true;
			vm_lru_rotate(vm, p);
		} else {
			vm_page_evict(vm, p);
			counter_inc(&vm->st.reclaimed);
			sc->freed++;
		}
	}
}

/* One step over both kinds: file pages first, they are cheaper. */
static void shrink(struct vm *vm, unsigned nr, struct vm_scan *sc)
{
	static const enum vm_lru inactive[] = { VM_LRU_FILE_INACTIVE,
						VM_LRU_ANON_INACTIVE };

	for (unsigned i = 0; i < ARRAY_SIZE(inactive); i++) {
		enum vm_lru l = inactive[i], a = l + 1;

		if (vm->st.lru[a].v > vm->st.lru[l].v)
			age_active(vm, a, nr);
		shrink_inactive(vm, l, nr, sc);
	}
}

static uint64_t lru_pages(const struct vm *vm)
{
	uint64_t n = 0;

	for (unsigned l = 0; l < VM_LRU_NR; l++)
		n += (uint64_t)vm->st.lru[l].v;
	return n;
}

static bool kswapd_done(const struct vm *vm)
{
	return (uint64_t)vm->mm->nr_free.v + vm->nr_reclaim_wb >=
	       (uint64_t)vm->mm->wmark_high.v;
}

void vm_kswapd_fn(struct task *t)
{
	struct vm *vm = container_of(t, struct vm, kswapd_task);
	uint64_t budget = 2 * lru_pages(vm), scanned = 0;
	struct mm_memalloc_ctx old;
	struct vm_scan sc = { 0 };

	if (kswapd_done(vm) || vm->in_reclaim)
		return;
	counter_inc(&vm->st.kswapd_runs);
	old = mm_memalloc_save(vm->mm, NULL);
	vm->in_reclaim = true;
	while (!kswapd_done(vm) && scanned < budget) {
		unsigned before = sc.scanned;

		shrink(vm, vm->cfg.reclaim_batch, &sc);
		if (sc.scanned == before || sc.congested)
			break;
		scanned += sc.scanned - before;
	}
	vm->in_reclaim = false;
	mm_memalloc_restore(vm->mm, old);
	host_trace(vm->host, "vm.kswapd", sc.scanned, sc.freed, sc.started);
	/* Out of budget but getting somewhere: yield, then go on. */
	if (!kswapd_done(vm) && !sc.congested && scanned >= budget &&
	    (sc.freed || sc.started))
		task_queue(vm->host->loop, &vm->kswapd_task);
}

void vm_wake_kswapd(struct mm *mm, void *arg)
{
	struct vm *vm = arg;

	task_queue(vm->host->loop, &vm->kswapd_task);
}

size_t vm_direct_reclaim(struct mm *mm, size_t nr, void *arg)
{
	struct vm *vm = arg;
	unsigned target = (unsigned)lb_max(nr, (size_t)vm->cfg.reclaim_batch);
	struct mm_memalloc_ctx old;
	struct vm_scan sc = { 0 };

	if (vm->in_reclaim || mm_in_memalloc(mm))
		return 0;
	counter_inc(&vm->st.direct_runs);
	old = mm_memalloc_save(mm, NULL);
	vm->in_reclaim = true;
	while (sc.freed < target && sc.scanned < 4 * vm->cfg.reclaim_batch) {
		unsigned before = sc.scanned;

		shrink(vm, vm->cfg.reclaim_batch, &sc);
		if (sc.scanned == before || sc.congested)
			break;
	}
	vm->in_reclaim = false;
	mm_memalloc_restore(mm, old);
	counter_add(&vm->st.direct_freed, sc.freed);
	host_trace(vm->host, "vm.direct", sc.scanned, sc.freed, sc.started);
	return sc.freed;
}
