/* SPDX-License-Identifier: MIT */
/*
 * vm_fixture.h - a host with an arena, a pager and RAM block devices (swap
 * and data) on a virtual loop, for the vm tests.
 */
#ifndef LB_TESTS_VM_FIXTURE_H
#define LB_TESTS_VM_FIXTURE_H

#include "../mm/mm_fixture.h"
#include "block/ramdev.h"
#include "vm/vm.h"
#include "vm/watchdog.h"
#include "vm/workload.h"

#define VFX_LATENCY (100 * NSEC_PER_USEC)

struct vfx_config {
	size_t ram_pages; /* 0: 256 */
	enum mm_policy policy;
	uint64_t swap_pages, disk_pages; /* 0: 8x RAM */
	unsigned queue_depth; /* 0: 16 */
	struct vm_config vm;
};

struct vfx {
	struct fx *fx;
	struct blk_store swap_st, disk_st;
	struct blkdev *swap, *disk;
	struct vm *vm;
	bool fired;
};

struct vfx *vfx_new(const struct vfx_config *cfg);
/* Tears down the pager and devices; checks every page came back. */
void vfx_free(struct vfx *v);
/* Arm the watchdog (report to /dev/null) noting when it fires. */
void vfx_arm_watchdog(struct vfx *v, uint64_t timeout_ns);
/* Run until @w finishes, the watchdog fires or @limit_ns of virtual time. */
void vfx_run(struct vfx *v, struct vm_workload *w, uint64_t limit_ns);
/* Run until the pager has no I/O in flight, then destroy @w. */
void vfx_destroy_workload(struct vfx *v, struct vm_workload *w);
/* Every reserve: hwm <= size. */
void vfx_check_reserves(struct vfx *v);
int64_t vfx_stat(struct vfx *v, const char *name);

#endif
