// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "mm/slab.h"
#include "vm_fixture.h"

static struct blkdev *new_ramdev(struct vfx *v, struct blk_store *st,
				 const char *name, uint64_t pages,
				 unsigned depth)
{
	struct ramdev_config rc = { .name = name,
				    .store = st,
				    .queue_depth = depth,
				    .latency_ns = VFX_LATENCY };
	struct blkdev *bd;

	assert_int_equal(store_open_ram(st, pages * PAGE_SIZE), 0);
	assert_int_equal(ramdev_create(v->fx->host, &rc, &bd), 0);
	return bd;
}

struct vfx *vfx_new(const struct vfx_config *cfg)
{
	struct vfx *v = calloc(1, sizeof(*v));
	size_t ram = cfg->ram_pages ? cfg->ram_pages : 256;
	unsigned depth = cfg->queue_depth ? cfg->queue_depth : 16;

	assert_non_null(v);
	v->fx = fx_new(ram, cfg->policy);
	v->swap = new_ramdev(v, &v->swap_st, "swap0",
			     cfg->swap_pages ? cfg->swap_pages : 8 * ram,
			     depth);
	v->disk = new_ramdev(v, &v->disk_st, "disk0",
			     cfg->disk_pages ? cfg->disk_pages : 8 * ram,
			     depth);
	v->vm = vm_create(v->fx->host, &cfg->vm);
	assert_non_null(v->vm);
	assert_int_equal(vm_swapon(v->vm, v->swap), 0);
	return v;
}

void vfx_free(struct vfx *v)
{
	vm_watchdog_disarm(v->vm);
	assert_int_equal(vm_swapoff(v->vm), 0);
	vm_destroy(v->vm);
	fx_run(v->fx);
	mm_check(v->fx->mm);
	assert_int_equal(ramdev_destroy(v->swap), 0);
	assert_int_equal(ramdev_destroy(v->disk), 0);
	store_close(&v->swap_st);
	store_close(&v->disk_st);
	/* every page back: nothing but the empty slabs kmalloc keeps */
	for (unsigned i = 0; i < MM_KMALLOC_CLASSES; i++)
		kmem_cache_shrink(v->fx->mm->kmalloc[i]);
	assert_int_equal(v->fx->mm->nr_free.v, v->fx->mm->nr_pages);
	fx_free(v->fx);
	free(v);
}

static void on_fire(struct vm *vm, void *arg)
{
	struct vfx *v = arg;

	v->fired = true;
}

void vfx_arm_watchdog(struct vfx *v, uint64_t timeout_ns)
{
	static FILE *devnull;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	assert_non_null(devnull);
	assert_int_equal(
		vm_watchdog_arm(v->vm, timeout_ns, devnull, on_fire, v), 0);
}

void vfx_run(struct vfx *v, struct vm_workload *w, uint64_t limit_ns)
{
	uint64_t end = host_now(v->fx->host) + limit_ns;

	while (!vm_workload_finished(w) && !v->fired &&
	       host_now(v->fx->host) < end)
		if (!loop_run_once(&v->fx->loop, UINT64_MAX))
			break;
	/* let the done task run */
	loop_run_once(&v->fx->loop, UINT64_MAX);
}

void vfx_destroy_workload(struct vfx *v, struct vm_workload *w)
{
	unsigned spins = 0;

	while (vm_workload_destroy(w) == -EBUSY) {
		loop_run_once(&v->fx->loop, UINT64_MAX);
		assert_true(++spins < 1000000);
	}
}

static void check_reserve(const struct mm_reserve *r)
{
	const struct mm_reserve *c;

	if (r->mm->policy == MM_POLICY_ACCOUNTED)
		assert_true(r->hwm.v <= r->size.v);
	list_for_each_entry(c, &r->children, sibling)
		check_reserve(c);
}

void vfx_check_reserves(struct vfx *v)
{
	check_reserve(mm_reserve_root(v->fx->mm));
}

int64_t vfx_stat(struct vfx *v, const char *name)
{
	return fx_stat(v->fx, name);
}
