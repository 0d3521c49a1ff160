/* SPDX-License-Identifier: MIT */
/*
 * ramdev.h - a block device backed directly by a struct blk_store, with a
 * fixed service latency: the storage for tests of what sits above the
 * block layer (the pager), and a baseline with no network in the way.
 *
 * It needs no reserve of its own beyond the request pools (rsv_fixed 1),
 * since completing a request allocates nothing.
 */
#ifndef LB_BLOCK_RAMDEV_H
#define LB_BLOCK_RAMDEV_H

#include "block.h"
#include "store.h"

struct ramdev_config {
	const char *name; /* "ram0" if NULL */
	struct blk_store *store;
	unsigned queue_depth; /* 0: 32 */
	uint32_t max_request; /* 0: 64 KiB */
	uint64_t latency_ns; /* service time of each request */
};

/* 0 or -errno; the device is attached on return. */
int ramdev_create(struct host *h, const struct ramdev_config *cfg,
		  struct blkdev **out);
/* -EBUSY while requests are in flight. */
int ramdev_destroy(struct blkdev *bd);
/* Hold every request until @until (host time): a stalled disk. */
void ramdev_stall(struct blkdev *bd, uint64_t until);

#endif
