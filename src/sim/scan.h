/* SPDX-License-Identifier: MIT */
/*
 * scan.h - a streaming reader on a block device: a backup, an indexer or a
 * database scan reading a data volume in order, a fixed number of large
 * reads in flight, round and round.  In issue 14's worlds it keeps a second
 * memory-critical connection busy receiving, so that connection's receive
 * queues hold data (and, when memory is short, reserve pages) at the
 * moment its server goes silent.
 *
 * Memory: the bios and their pages are taken when the scan starts
 * (start-up, plain allocations from the host's arena); the running scan
 * allocates nothing of its own (the transport's requests are its own).
 * The data read is not checked: the scan stands for a consumer of memory
 * and bandwidth, not for a workload.
 */
#ifndef LB_SIM_SCAN_H
#define LB_SIM_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include "block/block.h"

#define SCAN_DEPTH_MAX 16

struct scan_config {
	unsigned depth; /* reads in flight; 0: 8 */
	unsigned bio_pages; /* pages per read; 0: BIO_MAX_VECS */
	uint64_t bytes; /* the range scanned from offset 0; 0: the device */
};

struct scan {
	struct mm *mm;
	struct blkdev *bd;
	struct scan_config cfg;
	struct bio bios[SCAN_DEPTH_MAX];
	unsigned inflight;
	bool stopping;
	uint64_t next; /* offset of the next read */
	uint64_t reads, bytes, errors;
};

/* Take the pages and start @depth reads.  0 or -errno (nothing left). */
int scan_start(struct scan *s, struct mm *mm, struct blkdev *bd,
	       const struct scan_config *cfg);
/* Submit no more reads; those in flight still complete. */
void scan_stop(struct scan *s);
static inline bool scan_idle(const struct scan *s)
{
	return s->inflight == 0;
}
/* Give the pages back; only when idle. */
void scan_free(struct scan *s);

#endif
