/* SPDX-License-Identifier: MIT */
/*
 * block.h - bios, requests and the block-device interface.
 *
 * A user builds a struct bio (operation, byte range, the pages that hold
 * the data, a completion callback) and submits it to a struct blkdev.  The
 * block layer gives each bio a struct blk_request, a slot of the device's
 * fixed queue depth, and hands it to the transport (AoE, NBD, ...), which
 * completes it with blk_end_request().  Bios that find every slot taken
 * wait, in order, on the device: a full queue never allocates.
 *
 * Memory rules.  Bios and requests come from per-device mempools whose
 * min_nr is the queue depth, allocated when the device is attached, so
 * write-back always gets one even with the arena exhausted.  The device's
 * reserve `block.<name>` is computed at attach from the queue depth, the
 * largest request and what the transport says it needs per request and
 * per connection; a device whose reserve does not fit is refused with a
 * message (the check swapon never made).  The transport charges that
 * reserve, and nothing else, when normal memory is gone.
 *
 * Bio data is referenced, never copied by the block layer: a transport
 * sends write pages by reference and receives read data into them.
 */
#ifndef LB_BLOCK_BLOCK_H
#define LB_BLOCK_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include "core/host.h"
#include "core/list.h"
#include "core/loop.h"
#include "core/stats.h"
#include "mm/mempool.h"
#include "mm/mm.h"

#define SECTOR_SHIFT 9
#define SECTOR_SIZE (1u << SECTOR_SHIFT)

enum bio_op {
	BIO_READ,
	BIO_WRITE,
	BIO_FLUSH, /* everything completed before it is on stable storage */
	BIO_TRIM,
	BIO_WRITE_ZEROES,
	BIO_NR_OPS,
};

const char *bio_op_name(enum bio_op op);

#define BIO_FUA (1u << 0) /* complete only once this write is stable */
/*
 * Set by blk_submit() when the submitter runs in memalloc context (reclaim
 * writing back): the transport then starts the request in memalloc context
 * charging the device's reserve, wherever the dispatch happens.
 */
#define BIO_MEMALLOC (1u << 31)

/* Enough for 64 KiB of whole pages; a bio may also be smaller pieces. */
#define BIO_MAX_VECS 16

struct bio_vec {
	struct page *page;
	uint32_t off, len;
};

struct bio;
typedef void (*bio_end_io_t)(struct bio *bio);

struct bio {
	struct blkdev *bdev;
	enum bio_op op;
	unsigned flags; /* BIO_FUA */
	uint64_t offset; /* bytes, a multiple of SECTOR_SIZE */
	uint32_t size; /* bytes; the sum of the vecs for READ and WRITE */
	uint16_t nr_vecs;
	struct bio_vec vec[BIO_MAX_VECS];
	int error; /* 0 or a negative errno, set before end_io */
	bio_end_io_t end_io;
	void *private; /* the submitter's */
	uint64_t submitted; /* host time at submission */
	struct list_head queue; /* the device's wait list while queued */
	bool from_pool;
};

/* A bio in flight at the transport: one slot of the queue depth. */
struct blk_request {
	struct blkdev *bdev;
	struct bio *bio;
	unsigned tag; /* 0 .. queue_depth - 1, unique while in flight */
	uint64_t started;
	struct list_head node; /* free for the transport's own lists */
	/* The transport's per-request area (ops->rq_pdu bytes) follows. */
	uint8_t pdu[] __attribute__((aligned(8)));
};

struct blk_limits {
	uint64_t capacity; /* bytes */
	uint32_t max_request; /* bytes per bio; a multiple of SECTOR_SIZE */
	unsigned queue_depth;
	bool read_only, flush, fua, trim, write_zeroes;
	/*
	 * What the transport needs from the reserve besides the requests
	 * themselves: per request in flight and once for the device (its
	 * connection, a reconnect).  In pages.
	 */
	size_t rsv_per_request;
	size_t rsv_fixed;
};

struct blkdev_ops {
	/* Start @rq; complete it later (or now) with blk_end_request(). */
	void (*queue_rq)(struct blkdev *bd, struct blk_request *rq);
	/* Bytes of per-request transport state (struct blk_request.pdu). */
	size_t rq_pdu;
};

struct blk_stats {
	struct counter submitted[BIO_NR_OPS], completed[BIO_NR_OPS];
	struct counter errors, bytes_read, bytes_written, queued;
	struct gauge inflight, waiting;
	struct counter latency_ns; /* summed over completions */
};

struct blkdev {
	char name[16];
	struct host *host;
	struct mm *mm;
	const struct blkdev_ops *ops;
	void *driver;
	struct blk_limits lim;
	struct mm_reserve rsv; /* block.<name> */
	struct kmem_cache bio_cache, rq_cache;
	struct mempool bio_pool, rq_pool;
	struct list_head waiting; /* bios without a request slot, FIFO */
	struct blk_request **rqs; /* tag -> request in flight */
	struct task kick;
	struct blk_stats st;
	bool attached;
};

/*
 * A transport that connects or discovers first calls this once when the
 * device is attached (err 0), or when it could not be (negative errno; the
 * device is unusable and must be destroyed).
 */
typedef void (*blk_ready_fn)(struct blkdev *bd, int err, void *arg);

/* Name the device and bind its transport.  No memory is taken. */
void blk_init(struct blkdev *bd, struct host *h, const char *name,
	      const struct blkdev_ops *ops, void *driver);

/*
 * Register the reserve computed from @lim, create the mempools and the tag
 * map.  0, -EINVAL (bad limits) or -ENOMEM (the reserve or the pools do not
 * fit; the log says which and by how much).
 */
int blk_attach(struct blkdev *bd, const struct blk_limits *lim);

/* The reserve blk_attach() would register for @lim, in pages. */
size_t blk_reserve_pages(const struct blk_limits *lim);

/* Fails with -EBUSY while bios are queued or in flight. */
int blk_detach(struct blkdev *bd);

/*
 * A bio from the device's pool, zeroed, with the given operation.  Never
 * fails for MM_MEMALLOC callers while fewer than queue_depth bios from the
 * pool are outstanding; NULL otherwise when memory is gone.
 */
struct bio *__bio_alloc(struct blkdev *bd, enum bio_op op, unsigned flags,
			const struct mm_site *site);
#define bio_alloc(bd, op, flags) __bio_alloc(bd, op, flags, MM_SITE)
void bio_free(struct bio *bio);

/* Initialise a caller-owned bio (on its stack or in its own struct). */
void bio_init(struct bio *bio, struct blkdev *bd, enum bio_op op);
/* Append a page piece; -E2BIG when the vecs are full. */
int bio_add_page(struct bio *bio, struct page *pg, uint32_t off, uint32_t len);

/*
 * Queue @bio.  Returns 0, or a negative errno without calling end_io when
 * the bio is malformed or the device cannot take it (-EINVAL: range,
 * alignment or size; -EROFS; -EOPNOTSUPP: the device lacks the operation
 * or FUA; -ENODEV: not attached).
 */
int blk_submit(struct bio *bio);

/* Transport side: finish @rq with 0 or a negative errno. */
void blk_end_request(struct blk_request *rq, int error);

/* The request in flight with @tag, or NULL. */
struct blk_request *blk_rq_from_tag(struct blkdev *bd, unsigned tag);

static inline void *blk_rq_pdu(struct blk_request *rq)
{
	return rq->pdu;
}

/* Copy between a bio's pages and a flat buffer, from byte @off of the bio. */
void bio_copy_to(const struct bio *bio, uint32_t off, void *dst, uint32_t len);
void bio_copy_from(struct bio *bio, uint32_t off, const void *src,
		   uint32_t len);

#endif
