// SPDX-License-Identifier: MIT
/*
 * vm.c - the pager's life cycle: creation on a host, configuration, the
 * reclaim hooks into mm, statistics and printing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vm_internal.h"

#define VM_STAT_COUNTERS(X)                     \
	X(faults, "faults")                     \
	X(major_faults, "faults.major")         \
	X(fault_waits, "faults.waits")          \
	X(touches, "touches")                   \
	X(swap_out, "swap.out")                 \
	X(swap_in, "swap.in")                   \
	X(written_back, "writeback.pages")      \
	X(wb_bytes, "writeback.bytes")          \
	X(wb_started, "writeback.started")      \
	X(wb_errors, "writeback.errors")        \
	X(read_errors, "read.errors")           \
	X(reclaimed, "reclaimed")               \
	X(direct_runs, "reclaim.direct")        \
	X(direct_freed, "reclaim.direct_freed") \
	X(kswapd_runs, "reclaim.kswapd_runs")   \
	X(throttled, "throttled")               \
	X(verify_ok, "verify_ok")               \
	X(verify_fail, "verify_fail")

#define VM_STAT_GAUGES(X)                                 \
	X(dirty, "dirty")                                 \
	X(dirty_file, "dirty.file")                       \
	X(dirty_file_hwm, "dirty.file_hwm")               \
	X(writeback, "writeback")                         \
	X(resident, "resident")                           \
	X(swap_used, "swap.used")                         \
	X(lru[VM_LRU_ANON_INACTIVE], "lru.anon_inactive") \
	X(lru[VM_LRU_ANON_ACTIVE], "lru.anon_active")     \
	X(lru[VM_LRU_FILE_INACTIVE], "lru.file_inactive") \
	X(lru[VM_LRU_FILE_ACTIVE], "lru.file_active")

static void vm_register_stats(struct vm *vm)
{
	struct stats *s = &vm->host->stats;

#define REG_C(f, n) stats_add_counter(s, &vm->st.f, "vm." n);
#define REG_G(f, n) stats_add_gauge(s, &vm->st.f, "vm." n);
	VM_STAT_COUNTERS(REG_C)
	VM_STAT_GAUGES(REG_G)
#undef REG_C
#undef REG_G
}

static void vm_unregister_stats(struct vm *vm)
{
	struct stats *s = &vm->host->stats;

#define UNREG(f, n) stats_remove(s, &vm->st.f);
	VM_STAT_COUNTERS(UNREG)
	VM_STAT_GAUGES(UNREG)
#undef UNREG
}

struct vm *vm_create(struct host *h, const struct vm_config *cfg)
{
	static const struct vm_config defaults = { 0 };
	struct mm_reclaim_ops ops;
	struct vm *vm;

	if (!h->mm || h->vm)
		return NULL;
	if (!cfg)
		cfg = &defaults;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->host = h;
	vm->mm = h->mm;
	vm->cfg = *cfg;
	if (!vm->cfg.dirty_ratio || vm->cfg.dirty_ratio > 100)
		vm->cfg.dirty_ratio = 20;
	if (!vm->cfg.dirty_background_ratio ||
	    vm->cfg.dirty_background_ratio > vm->cfg.dirty_ratio)
		vm->cfg.dirty_background_ratio = vm->cfg.dirty_ratio / 2;
	if (!vm->cfg.reclaim_batch)
		vm->cfg.reclaim_batch = 32;
	vm->dirty_limit =
		lb_max(vm->mm->nr_pages * vm->cfg.dirty_ratio / 100, (size_t)4);
	vm->dirty_background =
		vm->mm->nr_pages * vm->cfg.dirty_background_ratio / 100;
	for (unsigned l = 0; l < VM_LRU_NR; l++)
		list_init(&vm->lru[l]);
	list_init(&vm->runq);
	list_init(&vm->io_wait);
	list_init(&vm->throttle);
	task_init(&vm->run_task, vm_run_fn);
	task_init(&vm->kswapd_task, vm_kswapd_fn);
	task_init(&vm->flush_task, vm_flush_fn);
	vm->last_progress = host_now(h);
	vm_register_stats(vm);
	ops = (struct mm_reclaim_ops){ .wake_kswapd = vm_wake_kswapd,
				       .direct = vm_direct_reclaim,
				       .arg = vm };
	mm_set_reclaim(vm->mm, &ops);
	h->vm = vm;
	lb_info(&h->log,
		"vm: dirty limit %llu pages, background %llu, reclaim batch %u",
		(unsigned long long)vm->dirty_limit,
		(unsigned long long)vm->dirty_background,
		vm->cfg.reclaim_batch);
	return vm;
}

void vm_destroy(struct vm *vm)
{
	static const struct mm_reclaim_ops none = { 0 };
	struct loop *l;

	if (!vm)
		return;
	l = vm->host->loop;
	for (unsigned i = 0; i < VM_MAX_REGIONS; i++)
		LB_ASSERTF(!vm->regions[i], "vm_destroy with region %s mapped",
			   vm->regions[i]->name);
	LB_ASSERT(!vm->swap.bd && !vm->nr_touches && !vm->watchdog);
	task_cancel(l, &vm->run_task);
	task_cancel(l, &vm->kswapd_task);
	task_cancel(l, &vm->flush_task);
	mm_set_reclaim(vm->mm, &none);
	vm_unregister_stats(vm);
	vm->host->vm = NULL;
	free(vm);
}

static unsigned list_len(const struct list_head *h)
{
	const struct list_head *pos;
	unsigned n = 0;

	list_for_each(pos, h)
		n++;
	return n;
}

void vm_print(const struct vm *vm, FILE *out)
{
	fprintf(out,
		"vm: resident %lld (anon %lld/%lld, file %lld/%lld inactive/active)\n"
		"vm: dirty %lld (file %lld, limit %llu), writeback %lld (to free %llu), reads %llu\n"
		"vm: touches %u: %u runnable, %u waiting for page I/O, %u throttled at the dirty limit\n",
		(long long)vm->st.resident.v,
		(long long)vm->st.lru[VM_LRU_ANON_INACTIVE].v,
		(long long)vm->st.lru[VM_LRU_ANON_ACTIVE].v,
		(long long)vm->st.lru[VM_LRU_FILE_INACTIVE].v,
		(long long)vm->st.lru[VM_LRU_FILE_ACTIVE].v,
		(long long)vm->st.dirty.v, (long long)vm->st.dirty_file.v,
		(unsigned long long)vm->dirty_limit,
		(long long)vm->st.writeback.v,
		(unsigned long long)vm->nr_reclaim_wb,
		(unsigned long long)vm->nr_reads, vm->nr_touches,
		list_len(&vm->runq), list_len(&vm->io_wait),
		list_len(&vm->throttle));
	if (vm->swap.bd)
		fprintf(out, "vm: swap %s: %llu of %llu slots used\n",
			vm->swap.bd->name, (unsigned long long)vm->swap.nr_used,
			(unsigned long long)vm->swap.nr_slots);
	for (unsigned i = 0; i < VM_MAX_REGIONS; i++) {
		const struct vm_region *r = vm->regions[i];
		static const char *const kinds[] = { "anon", "shared", "file" };

		if (!r)
			continue;
		fprintf(out,
			"vm: region %u %s (%s%s%s): %llu pages, %llu resident, %u touches\n",
			r->id, r->name, kinds[r->kind], r->bd ? " on " : "",
			r->bd ? r->bd->name : "",
			(unsigned long long)r->nr_pages,
			(unsigned long long)r->nr_resident, r->nr_touches);
	}
}
