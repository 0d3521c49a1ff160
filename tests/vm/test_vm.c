// SPDX-License-Identifier: MIT
/*
 * The pager's contracts: page patterns tell stale, misplaced and corrupt
 * data apart; a touch never calls back from inside vm_touch() and refuses
 * bad or busy requests; a region with pending touches cannot be unmapped;
 * pages survive a trip through swap.
 */
#include <errno.h>
#include <string.h>
#include "vm/pattern.h"
#include "vm_fixture.h"

static void test_pattern(void **state)
{
	static uint8_t page[PAGE_SIZE];
	uint32_t found;

	memset(page, 0, sizeof(page));
	assert_int_equal(vm_pattern_check(page, 1, 2, 0, &found),
			 VM_PATTERN_OK);
	vm_pattern_fill(page, 1, 2, 3);
	assert_int_equal(vm_pattern_check(page, 1, 2, 3, &found),
			 VM_PATTERN_OK);
	assert_int_equal(vm_pattern_check(page, 1, 2, 4, &found),
			 VM_PATTERN_STALE);
	assert_int_equal(found, 3);
	assert_int_equal(vm_pattern_check(page, 1, 7, 3, &found),
			 VM_PATTERN_MISPLACED);
	assert_int_equal(vm_pattern_check(page, 2, 2, 3, &found),
			 VM_PATTERN_MISPLACED);
	assert_int_equal(vm_pattern_check(page, 1, 2, 0, &found),
			 VM_PATTERN_NOT_ZERO);
	page[PAGE_SIZE - 1] ^= 0x10;
	assert_int_equal(vm_pattern_check(page, 1, 2, 3, &found),
			 VM_PATTERN_CORRUPT);
}

struct rec {
	unsigned calls;
	int err;
	uint32_t version;
	bool check;
	enum vm_pattern_result res;
};

static void on_touch(struct vm_touch *t, void *data, int err)
{
	struct rec *r = t->private;

	r->calls++;
	r->err = err;
	if (err)
		return;
	if (r->check) {
		uint32_t found;

		r->res = vm_pattern_check(data, t->region->id, t->index,
					  r->version, &found);
	}
	if (t->flags & VM_TOUCH_WRITE)
		vm_pattern_fill(data, t->region->id, t->index, r->version);
}

static void touch_sync(struct vfx *v, struct vm_region *r, uint64_t idx,
		       unsigned flags, struct rec *rec)
{
	struct vm_touch t = { .region = r,
			      .index = idx,
			      .flags = flags,
			      .fn = on_touch,
			      .private = rec };
	unsigned before = rec->calls;

	assert_int_equal(vm_touch(&t), 0);
	assert_int_equal(rec->calls, before); /* never from inside */
	assert_int_equal(vm_touch(&t), -EBUSY);
	for (unsigned n = 0; t.busy; n++) {
		if (n == 100000)
			vm_watchdog_report(v->vm, stderr);
		assert_true(n < 100000);
		loop_run_once(&v->fx->loop, UINT64_MAX);
	}
	assert_int_equal(rec->calls, before + 1);
}

static void test_touch_contract(void **state)
{
	struct vfx_config cfg = { .ram_pages = 128 };
	struct vfx *v = vfx_new(&cfg);
	struct vm_region *r;
	struct rec rec = { 0 };
	struct vm_touch bad = { .fn = on_touch, .private = &rec };
	struct vm_touch pending;

	assert_int_equal(vm_map_anon(v->vm, "a", 16, &r), 0);
	bad.region = r;
	bad.index = 16;
	assert_int_equal(vm_touch(&bad), -EINVAL);
	bad.index = 0;
	bad.fn = NULL;
	assert_int_equal(vm_touch(&bad), -EINVAL);

	/* a fresh anonymous page reads as zeroes */
	rec.check = true;
	touch_sync(v, r, 3, 0, &rec);
	assert_int_equal(rec.err, 0);
	assert_int_equal(rec.res, VM_PATTERN_OK);
	rec.version = 1;
	touch_sync(v, r, 3, VM_TOUCH_WRITE, &rec);
	touch_sync(v, r, 3, 0, &rec);
	assert_int_equal(rec.res, VM_PATTERN_OK);
	assert_int_equal(vfx_stat(v, "vm.dirty"), 1);

	pending = (struct vm_touch){
		.region = r, .index = 5, .fn = on_touch, .private = &rec
	};
	assert_int_equal(vm_touch(&pending), 0);
	assert_int_equal(vm_unmap(r), -EBUSY);
	while (pending.busy)
		loop_run_once(&v->fx->loop, UINT64_MAX);
	assert_int_equal(vm_unmap(r), 0);
	assert_int_equal(vfx_stat(v, "vm.dirty"), 0);
	assert_int_equal(vfx_stat(v, "vm.resident"), 0);
	vfx_free(v);
}

/* Write 4x RAM of anonymous pages one by one, then read each back. */
static void test_swap_roundtrip(void **state)
{
	struct vfx_config cfg = { .ram_pages = 128 };
	struct vfx *v = vfx_new(&cfg);
	struct vm_region *r;
	struct rec rec = { .check = true };

	assert_int_equal(vm_map_anon(v->vm, "a", 512, &r), 0);
	for (uint64_t i = 0; i < 512; i++) {
		rec.version = 0;
		touch_sync(v, r, i, 0, &rec);
		assert_int_equal(rec.res, VM_PATTERN_OK);
		rec.version = 1;
		touch_sync(v, r, i, VM_TOUCH_WRITE, &rec);
	}
	for (uint64_t i = 0; i < 512; i++) {
		touch_sync(v, r, i, 0, &rec);
		assert_int_equal(rec.err, 0);
		assert_int_equal(rec.res, VM_PATTERN_OK);
	}
	assert_true(vfx_stat(v, "vm.swap.out") >= 512 - 128);
	assert_true(vfx_stat(v, "vm.swap.in") > 0);
	assert_true(vfx_stat(v, "vm.resident") <= 128);
	while (vm_io_in_flight(v->vm))
		loop_run_once(&v->fx->loop, UINT64_MAX);
	assert_int_equal(vm_unmap(r), 0);
	assert_int_equal(vfx_stat(v, "vm.swap.used"), 0);
	vfx_free(v);
}

static void test_swapon_checks(void **state)
{
	struct vfx_config cfg = { .ram_pages = 128 };
	struct vfx *v = vfx_new(&cfg);
	struct vm_region *r;

	assert_int_equal(vm_swapon(v->vm, v->disk), -EBUSY);
	assert_int_equal(vm_map_shared(v->vm, "s", v->disk, 100, 4, &r),
			 -EINVAL);
	assert_int_equal(vm_map_shared(v->vm, "s", v->disk, 0, 8 * 128 + 1, &r),
			 -EINVAL);
	assert_int_equal(vm_map_file(v->vm, "f", v->disk, 4096, 8, &r), 0);
	assert_int_equal(vm_unmap(r), 0);
	vfx_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_touch_contract),
		cmocka_unit_test(test_swap_roundtrip),
		cmocka_unit_test(test_swapon_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
