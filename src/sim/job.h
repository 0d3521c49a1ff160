/* SPDX-License-Identifier: MIT */
/*
 * job.h - the main job's client side: on a host with an attached block
 * device, a pager, a workload laid out on the device, the watchdog, and
 * the sink that lets unrelated traffic eat the host's memory.  The same
 * job runs in a simulated world (scenario.h) and on a real wire
 * (`lifeboat run`).
 *
 * Device layout: the swap area (with a quarter of slack: a page keeps its
 * slot while resident), then the shared mapping's range, then the file's
 * range; `mixed` splits the working set in three.  So every workload
 * writes back over the device's one flagged connection.
 *
 * Memory: everything is set up by job_start() (start-up); the running
 * job allocates only the pages its pager faults in.
 */
#ifndef LB_SIM_JOB_H
#define LB_SIM_JOB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "block/block.h"
#include "noise.h"
#include "vm/vm.h"
#include "vm/workload.h"

struct job_config {
	enum vm_workload_kind workload;
	uint64_t ws_pages; /* the working set */
	uint64_t ops; /* 0: the workload's default */
	unsigned concurrency; /* touches in flight; 0: 32 */
	uint64_t watchdog_ns; /* 0: 5 s */
	FILE *report; /* the watchdog's report; NULL: discarded */
	bool noise_sink; /* never-reading sockets holding up to half of RAM */
	/*
	 * When set, the shared mapping and the file are on this device (from
	 * offset 0) and only the swap area is on the job's: two
	 * memory-critical devices, as with swap on one server and files on
	 * another.
	 */
	struct blkdev *data_bd;
};

struct job;
typedef void (*job_end_fn)(struct job *j, void *arg);

struct job {
	struct host *host;
	struct blkdev *bd;
	struct job_config cfg;
	struct vm *vm;
	struct vm_workload *wl;
	struct noise_sink *sink;
	FILE *devnull;
	bool done, fired;
	job_end_fn end;
	void *arg;
};

/* Bytes of device the job needs for @c (all on one device). */
uint64_t job_device_bytes(const struct job_config *c);
/* With c->data_bd: what the swap device and the data device each need. */
uint64_t job_swap_bytes(const struct job_config *c);
uint64_t job_file_bytes(const struct job_config *c);

/*
 * Create the pager on @h, lay the workload out on @bd and start it; @end
 * runs from the loop when the workload has verified every page or the
 * watchdog fired (j->done / j->fired say which).  0 or -errno.
 */
int job_start(struct job *j, struct host *h, struct blkdev *bd,
	      const struct job_config *c, job_end_fn end, void *arg);

/*
 * Tear the job down; -EBUSY while the pager still has I/O in flight (run
 * the loop and call again).  Not after the watchdog fired: a deadlocked
 * pager's pages are stuck by definition.
 */
int job_stop(struct job *j);

#endif
