// SPDX-License-Identifier: MIT
/*
 * job.c - the client side of the main job: pager, workload, watchdog and
 * the noise sink, on an attached device.
 */
#include <errno.h>
#include <string.h>
#include "job.h"
#include "net/net.h"
#include "vm/watchdog.h"

static uint64_t job_part(const struct job_config *c)
{
	return c->workload == VM_WL_MIXED ? c->ws_pages / 3 : c->ws_pages;
}

static bool has_swap(const struct job_config *c)
{
	return c->workload == VM_WL_SWAP || c->workload == VM_WL_MIXED;
}

uint64_t job_device_bytes(const struct job_config *c)
{
	uint64_t part = job_part(c), pages = 0;

	if (has_swap(c))
		pages += part + part / 4;
	if (c->workload == VM_WL_MMAP || c->workload == VM_WL_MIXED)
		pages += part;
	if (c->workload == VM_WL_WRITE || c->workload == VM_WL_MIXED)
		pages += part;
	return (pages + 16) * PAGE_SIZE;
}

uint64_t job_swap_bytes(const struct job_config *c)
{
	uint64_t part = job_part(c);

	return ((has_swap(c) ? part + part / 4 : 0) + 16) * PAGE_SIZE;
}

uint64_t job_file_bytes(const struct job_config *c)
{
	return job_device_bytes(c) - job_swap_bytes(c) + 16 * PAGE_SIZE;
}

static void job_done(struct vm_workload *wl, void *arg)
{
	struct job *j = arg;

	j->done = true;
	vm_watchdog_disarm(j->vm);
	if (j->end)
		j->end(j, j->arg);
}

static void job_watchdog(struct vm *vm, void *arg)
{
	struct job *j = arg;

	j->fired = true;
	if (j->end)
		j->end(j, j->arg);
}

static int job_layout(struct job *j, struct vm_workload_config *wc)
{
	const struct job_config *c = &j->cfg;
	uint64_t part = job_part(c), off = 0;
	int err;

	if (has_swap(c)) {
		err = vm_swapon_range(j->vm, j->bd, 0, part + part / 4);
		if (err)
			return err;
		wc->anon_pages = part;
		off += (part + part / 4) * PAGE_SIZE;
	}
	if (c->data_bd)
		off = 0; /* the second device holds only these ranges */
	if (c->workload == VM_WL_MMAP || c->workload == VM_WL_MIXED) {
		wc->shared_bd = c->data_bd ? c->data_bd : j->bd;
		wc->shared_offset = off;
		wc->shared_pages = part;
		off += part * PAGE_SIZE;
	}
	if (c->workload == VM_WL_WRITE || c->workload == VM_WL_MIXED) {
		wc->file_bd = c->data_bd ? c->data_bd : j->bd;
		wc->file_offset = off;
		wc->file_pages = part;
	}
	return 0;
}

int job_start(struct job *j, struct host *h, struct blkdev *bd,
	      const struct job_config *c, job_end_fn end, void *arg)
{
	struct vm_workload_config wc = {
		.kind = c->workload,
		.ops = c->ops,
		.concurrency = c->concurrency ? c->concurrency : 32,
	};
	int err;

	memset(j, 0, sizeof(*j));
	j->host = h;
	j->bd = bd;
	j->cfg = *c;
	j->end = end;
	j->arg = arg;
	if (c->data_bd ? job_swap_bytes(c) > bd->lim.capacity ||
				 job_file_bytes(c) > c->data_bd->lim.capacity :
			 job_device_bytes(c) > bd->lim.capacity)
		return -ENOSPC;
	/*
	 * The random ops are updates: every page touched gets dirty, the
	 * pressure under which write-back must not need memory it cannot get.
	 */
	wc.write_pct = 100;
	if (!c->report) {
		j->devnull = fopen("/dev/null", "w");
		if (!j->devnull)
			return -errno;
		/*
		 * Unbuffered: a buffered stream gets its buffer from malloc
		 * at the first write, which would be the watchdog's report,
		 * in the middle of the run.
		 */
		setvbuf(j->devnull, NULL, _IONBF, 0);
	}
	j->vm = vm_create(h, NULL);
	if (!j->vm)
		return -ENOMEM;
	err = job_layout(j, &wc);
	if (!err)
		err = vm_workload_create(j->vm, &wc, &j->wl);
	if (!err)
		err = vm_watchdog_arm(
			j->vm, c->watchdog_ns ? c->watchdog_ns : 5000000000ull,
			c->report ? c->report : j->devnull, job_watchdog, j);
	if (!err && c->noise_sink) {
		/* four connections able to hold half the RAM between them */
		j->sink = noise_sink_start(
			h->net, 0, 0, 4,
			(uint32_t)(h->mm->nr_pages * PAGE_SIZE / 8));
		if (!j->sink)
			err = -ENOMEM;
	}
	if (!err)
		err = vm_workload_start(j->wl, job_done, j);
	return err;
}

int job_stop(struct job *j)
{
	int err;

	LB_ASSERT(!j->fired);
	if (j->sink) {
		noise_sink_stop(j->sink);
		j->sink = NULL;
	}
	if (j->vm)
		vm_watchdog_disarm(j->vm);
	if (j->wl) {
		err = vm_workload_destroy(j->wl);
		if (err)
			return err;
		j->wl = NULL;
	}
	if (j->vm) {
		vm_swapoff(j->vm);
		vm_destroy(j->vm);
		j->vm = NULL;
	}
	if (j->devnull) {
		fclose(j->devnull);
		j->devnull = NULL;
	}
	return 0;
}
