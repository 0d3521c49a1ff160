/* SPDX-License-Identifier: MIT */
/*
 * workload.h - generators of memory pressure with checked data.
 *
 *  swap    random reads and read-modify-writes over an anonymous working
 *          set (several times RAM: it lives on the swap device)
 *  mmap    the same over a shared mapping of a device range, after a
 *          populate pass that writes every page once
 *  write   sequential buffered writes through the page cache (larger than
 *          RAM: dirty throttling and write-back), then read back
 *  mixed   populate, then every op picks one of the three at random
 *
 * A bounded number of touches is in flight.  Every page written holds a
 * pattern encoding (region, index, version) and a checksum (pattern.h);
 * the workload tracks the version each page must have, and every read and
 * every read-modify-write checks it (vm.verify_ok / vm.verify_fail): lost
 * or stale data is detected, not assumed.  A workload ends after its ops
 * and a final pass that reads and checks every page of its regions.
 * Randomness comes from a stream forked from the host's PRNG.
 *
 * Memory: the workload's regions, version tables and touches are
 * allocated by vm_workload_create() (start-up); running allocates nothing
 * but the pages the pager faults in.
 */
#ifndef LB_VM_WORKLOAD_H
#define LB_VM_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include "vm.h"

enum vm_workload_kind {
	VM_WL_SWAP,
	VM_WL_MMAP,
	VM_WL_WRITE,
	VM_WL_MIXED,
};

const char *vm_workload_name(enum vm_workload_kind k);
/* "swap" | "mmap" | "write" | "mixed"; 0 or -EINVAL. */
int vm_workload_parse(const char *s, enum vm_workload_kind *out);

struct vm_workload_config {
	enum vm_workload_kind kind;
	uint64_t ops; /* touches of the main phase; 0: 2x the working set */
	unsigned concurrency; /* touches in flight; 0: 16 */
	unsigned write_pct; /* random ops that write; 0: 50 */
	uint64_t anon_pages; /* swap, mixed (needs vm_swapon) */
	struct blkdev *shared_bd; /* mmap, mixed */
	uint64_t shared_offset, shared_pages;
	struct blkdev *file_bd; /* write, mixed */
	uint64_t file_offset, file_pages;
};

enum vm_workload_phase {
	VM_WL_IDLE,
	VM_WL_POPULATE,
	VM_WL_RUN,
	VM_WL_VERIFY,
	VM_WL_DONE,
};

/* Numbers for a live progress line. */
struct vm_progress {
	enum vm_workload_phase phase;
	const char *phase_name;
	uint64_t done, total; /* touches of the current phase */
	uint64_t ops_done, ops_total; /* main phase */
	uint64_t verified, verify_total; /* final pass */
	uint64_t verify_ok, verify_fail, io_errors; /* this workload's */
	unsigned inflight;
	uint64_t elapsed_ns;
	/* the host's */
	int64_t free_pages, dirty, writeback;
	uint64_t faults, swap_in, swap_out, written_back, mb_written_back;
	uint64_t throttled, direct_reclaims, reclaimed;
};

struct vm_workload;
typedef void (*vm_workload_done_fn)(struct vm_workload *w, void *arg);

/* Map the workload's regions and allocate its tables.  0, -EINVAL, -ENOMEM. */
int vm_workload_create(struct vm *vm, const struct vm_workload_config *cfg,
		       struct vm_workload **out);
/* Start; @done runs from the loop once the final pass is over. */
int vm_workload_start(struct vm_workload *w, vm_workload_done_fn done,
		      void *arg);
bool vm_workload_finished(const struct vm_workload *w);
void vm_workload_progress(const struct vm_workload *w, struct vm_progress *p);
/* The workload's regions, for inspection (NULL when it has none). */
struct vm_region *vm_workload_region(const struct vm_workload *w,
				     enum vm_region_kind kind);
/*
 * Unmap the regions and free the tables.  -EBUSY while touches are pending
 * or the pager still has I/O in flight on its pages: run the loop, retry.
 */
int vm_workload_destroy(struct vm_workload *w);

#endif
