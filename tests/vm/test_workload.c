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

static void test_mmap(void **state)
{
	struct result r;

	run(VM_WL_MMAP, MM_POLICY_ACCOUNTED, 8 * RAM, &r);
	assert_true(r.wb >= 3 * RAM); /* populate alone overflows RAM */
	assert_int_equal(r.swap_out, 0);
	assert_true(r.p.verify_ok >= 4 * RAM + 8 * RAM / 2);
}

static void test_write_throttled(void **state)
{
	struct result r;

	run(VM_WL_WRITE, MM_POLICY_ACCOUNTED, 0, &r);
	/* 20% of 256 pages: writers parked rather than pass it */
	assert_true(r.throttled > 0);
	assert_true(r.dirty_hwm <= RAM * 20 / 100);
	assert_true(r.wb >= 4 * RAM);
	assert_int_equal(r.p.verify_ok, 4 * RAM);
}

static void test_mixed(void **state)
{
	struct result r;

	run(VM_WL_MIXED, MM_POLICY_ACCOUNTED, 16 * RAM, &r);
	assert_true(r.swap_out > 0 && r.swap_in > 0 && r.wb > r.swap_out);
}

static void test_policies(void **state)
{
	static const enum vm_workload_kind kinds[] = { VM_WL_SWAP,
						       VM_WL_MIXED };
	struct result r;

	/* a RAM device needs no memory to complete: none cannot deadlock */
	for (unsigned i = 0; i < ARRAY_SIZE(all_policies); i++)
		for (unsigned k = 0; k < ARRAY_SIZE(kinds); k++)
			run(kinds[k], all_policies[i], 8 * RAM, &r);
}

static void test_deterministic(void **state)
{
	struct result a, b;

	run(VM_WL_MIXED, MM_POLICY_ACCOUNTED, 4 * RAM, &a);
	run(VM_WL_MIXED, MM_POLICY_ACCOUNTED, 4 * RAM, &b);
	assert_int_equal(a.p.elapsed_ns, b.p.elapsed_ns);
	assert_int_equal(a.p.faults, b.p.faults);
	assert_int_equal(a.wb, b.wb);
	assert_int_equal(a.swap_in, b.swap_in);
	assert_int_equal(a.direct, b.direct);
}

static void test_watchdog_fires_on_stall(void **state)
{
	struct vfx_config cfg = { .ram_pages = RAM };
	struct vfx *v = vfx_new(&cfg);
	FILE *out = tmpfile();
	struct vm_workload *w;
	struct vm_progress p;
	struct result r;
	bool done = false;
	char buf[65536];
	size_t n;

	assert_non_null(out);
	assert_int_equal(vm_watchdog_arm(v->vm, WATCHDOG, out, NULL, NULL), 0);
	w = start(v, VM_WL_SWAP, 8 * RAM, &done);
	do {
		loop_run_once(&v->fx->loop, UINT64_MAX);
		vm_workload_progress(w, &p);
	} while (p.ops_done < RAM);
	ramdev_stall(v->swap, host_now(v->fx->host) + LIMIT);
	while (!vm_watchdog_fired(v->vm))
		loop_run_once(&v->fx->loop, UINT64_MAX);
	assert_false(done);
	assert_true(host_now(v->fx->host) - v->vm->last_progress >= WATCHDOG);
	rewind(out);
	n = fread(buf, 1, sizeof(buf) - 1, out);
	buf[n] = 0;
	fclose(out);
	assert_non_null(strstr(buf, "DEADLOCK"));
	assert_non_null(strstr(buf, "swap0    swap   in flight 16"));
	assert_non_null(strstr(buf, "block.swap0"));
	assert_non_null(strstr(buf, "trace ring"));

	/* the disk comes back: the run completes, every page intact */
	ramdev_stall(v->swap, 0);
	vfx_arm_watchdog(v, WATCHDOG);
	vfx_run(v, w, LIMIT);
	assert_true(done);
	finish(v, w, &r);
	assert_false(r.fired);
	assert_int_equal(r.p.verify_fail, 0);
	assert_int_equal(r.p.verified, r.p.verify_total);
}

static void test_corruption_detected(void **state)
{
	struct vfx_config cfg = { .ram_pages = RAM };
	struct vfx *v = vfx_new(&cfg);
	struct vm_workload *w;
	struct vm_progress p;
	struct result r;
	bool done = false;
	uint64_t victim = 2 * RAM; /* written back and evicted long ago */

	w = start(v, VM_WL_WRITE, 0, &done);
	do {
		loop_run_once(&v->fx->loop, UINT64_MAX);
		vm_workload_progress(w, &p);
	} while (p.phase != VM_WL_VERIFY);
	assert_null(vm_workload_region(w, VM_FILE)->pages[victim]);
	v->disk_st.ram[victim * PAGE_SIZE + 1000] ^= 0x01;
	vfx_run(v, w, LIMIT);
	assert_true(done);
	finish(v, w, &r);
	assert_int_equal(r.p.verify_fail, 1);
	assert_int_equal(r.p.verify_ok, 4 * RAM - 1);
	assert_int_equal(r.p.verified, r.p.verify_total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_4x_ram),
		cmocka_unit_test(test_direct_reclaim_taken),
		cmocka_unit_test(test_mmap),
		cmocka_unit_test(test_write_throttled),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_watchdog_fires_on_stall),
		cmocka_unit_test(test_corruption_detected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
