// SPDX-License-Identifier: MIT
/*
 * block.c - the block layer: bio and request pools, the queue depth, the
 * device's reserve.
 *
 * Dispatch always happens from the device's kick task, never inside
 * blk_submit(), so a submitter is never re-entered by its own completion.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "block.h"
#include "core/log.h"

#define BLK_MAX_DEPTH 256

const char *bio_op_name(enum bio_op op)
{
	static const char *const names[BIO_NR_OPS] = {
		[BIO_READ] = "read",
		[BIO_WRITE] = "write",
		[BIO_FLUSH] = "flush",
		[BIO_TRIM] = "trim",
		[BIO_WRITE_ZEROES] = "write_zeroes",
	};
	return op < BIO_NR_OPS ? names[op] : "?";
}

static void blk_kick(struct task *t);

void blk_init(struct blkdev *bd, struct host *h, const char *name,
	      const struct blkdev_ops *ops, void *driver)
{
	memset(bd, 0, sizeof(*bd));
	snprintf(bd->name, sizeof(bd->name), "%s", name);
	bd->host = h;
	bd->mm = h->mm;
	bd->ops = ops;
	bd->driver = driver;
	list_init(&bd->waiting);
	task_init(&bd->kick, blk_kick);
}

size_t blk_reserve_pages(const struct blk_limits *lim)
{
	return lim->rsv_fixed + (size_t)lim->queue_depth * lim->rsv_per_request;
}

static int blk_check_limits(const struct blkdev *bd,
			    const struct blk_limits *lim)
{
	const char *why = NULL;

	if (!lim->queue_depth || lim->queue_depth > BLK_MAX_DEPTH)
		why = "queue depth must be 1..256";
	else if (!lim->max_request || lim->max_request % SECTOR_SIZE ||
		 lim->max_request > BIO_MAX_VECS * PAGE_SIZE)
		why = "max request must be a multiple of 512 up to 64 KiB";
	else if (lim->capacity % SECTOR_SIZE)
		why = "capacity must be a multiple of 512";
	else if (sizeof(struct blk_request) + bd->ops->rq_pdu > PAGE_SIZE / 2)
		why = "transport request state too large";
	if (!why)
		return 0;
	lb_err(&bd->host->log, "block: %s: %s", bd->name, why);
	return -EINVAL;
}

static void blk_register_stats(struct blkdev *bd)
{
	struct stats *s = &bd->host->stats;
	const char *n = bd->name;

	for (int op = 0; op < BIO_NR_OPS; op++) {
		stats_add_counter(s, &bd->st.submitted[op], "block.%s.%s", n,
				  bio_op_name(op));
		stats_add_counter(s, &bd->st.completed[op], "block.%s.%s_done",
				  n, bio_op_name(op));
	}
	stats_add_counter(s, &bd->st.errors, "block.%s.errors", n);
	stats_add_counter(s, &bd->st.bytes_read, "block.%s.bytes_read", n);
	stats_add_counter(s, &bd->st.bytes_written, "block.%s.bytes_written",
			  n);
	stats_add_counter(s, &bd->st.queued, "block.%s.queued_for_slot", n);
	stats_add_counter(s, &bd->st.latency_ns, "block.%s.latency_ns", n);
	stats_add_gauge(s, &bd->st.inflight, "block.%s.inflight", n);
	stats_add_gauge(s, &bd->st.waiting, "block.%s.waiting", n);
}

int blk_attach(struct blkdev *bd, const struct blk_limits *lim)
{
	char rname[MM_RESERVE_NAME_MAX], pname[32];
	size_t pages;
	int err;

	LB_ASSERT(!bd->attached);
	err = blk_check_limits(bd, lim);
	if (err)
		return err;
	bd->lim = *lim;
	pages = blk_reserve_pages(lim);
	snprintf(rname, sizeof(rname), "block.%s", bd->name);
	err = mm_reserve_add(bd->mm, &bd->rsv, NULL, rname, pages);
	if (err) {
		lb_err(&bd->host->log,
		       "block: %s: reserve %s of %zu pages (%u requests x %zu + %zu) does not fit: %zu pages free, min already %lld",
		       bd->name, rname, pages, lim->queue_depth,
		       lim->rsv_per_request, lim->rsv_fixed,
		       (size_t)bd->mm->nr_free.v,
		       (long long)bd->mm->wmark_min.v);
		return err;
	}
	err = -ENOMEM;
	snprintf(pname, sizeof(pname), "bio.%s", bd->name);
	if (kmem_cache_init(&bd->bio_cache, bd->mm, pname, sizeof(struct bio),
			    8))
		goto out_rsv;
	snprintf(pname, sizeof(pname), "rq.%s", bd->name);
	if (kmem_cache_init(&bd->rq_cache, bd->mm, pname,
			    sizeof(struct blk_request) + bd->ops->rq_pdu, 8))
		goto out_bio_cache;
	snprintf(pname, sizeof(pname), "bio.%s", bd->name);
	if (mempool_init_slab(&bd->bio_pool, &bd->bio_cache, pname,
			      lim->queue_depth, &bd->rsv))
		goto out_rq_cache;
	snprintf(pname, sizeof(pname), "rq.%s", bd->name);
	if (mempool_init_slab(&bd->rq_pool, &bd->rq_cache, pname,
			      lim->queue_depth, &bd->rsv))
		goto out_bio_pool;
	bd->rqs = mm_kmalloc(bd->mm, lim->queue_depth * sizeof(*bd->rqs),
			     MM_NORMAL | MM_ZERO, NULL);
	if (!bd->rqs)
		goto out_rq_pool;
	blk_register_stats(bd);
	bd->attached = true;
	lb_info(&bd->host->log,
		"block: %s attached: %llu bytes, queue depth %u, max request %u, reserve %s %zu pages",
		bd->name, (unsigned long long)lim->capacity, lim->queue_depth,
		lim->max_request, rname, pages);
	return 0;

out_rq_pool:
	mempool_destroy(&bd->rq_pool);
out_bio_pool:
	mempool_destroy(&bd->bio_pool);
out_rq_cache:
	kmem_cache_destroy(&bd->rq_cache);
out_bio_cache:
	kmem_cache_destroy(&bd->bio_cache);
out_rsv:
	lb_err(&bd->host->log, "block: %s: no memory for the request pools",
	       bd->name);
	mm_reserve_remove(&bd->rsv);
	return err;
}

int blk_detach(struct blkdev *bd)
{
	if (!bd->attached)
		return 0;
	if (!list_empty(&bd->waiting) || bd->st.inflight.v)
		return -EBUSY;
	task_cancel(bd->host->loop, &bd->kick);
	for (int op = 0; op < BIO_NR_OPS; op++) {
		stats_remove(&bd->host->stats, &bd->st.submitted[op]);
		stats_remove(&bd->host->stats, &bd->st.completed[op]);
	}
	stats_remove(&bd->host->stats, &bd->st.errors);
	stats_remove(&bd->host->stats, &bd->st.bytes_read);
	stats_remove(&bd->host->stats, &bd->st.bytes_written);
	stats_remove(&bd->host->stats, &bd->st.queued);
	stats_remove(&bd->host->stats, &bd->st.latency_ns);
	stats_remove(&bd->host->stats, &bd->st.inflight);
	stats_remove(&bd->host->stats, &bd->st.waiting);
	mm_kfree(bd->mm, bd->rqs);
	bd->rqs = NULL;
	mempool_destroy(&bd->rq_pool);
	mempool_destroy(&bd->bio_pool);
	kmem_cache_destroy(&bd->rq_cache);
	kmem_cache_destroy(&bd->bio_cache);
	LB_ASSERT(mm_reserve_remove(&bd->rsv) == 0);
	bd->attached = false;
	return 0;
}

void bio_init(struct bio *bio, struct blkdev *bd, enum bio_op op)
{
	memset(bio, 0, sizeof(*bio));
	bio->bdev = bd;
	bio->op = op;
	list_init(&bio->queue);
}

struct bio *__bio_alloc(struct blkdev *bd, enum bio_op op, unsigned flags,
			const struct mm_site *site)
{
	struct bio *bio;

	LB_ASSERT(bd->attached);
	bio = __mempool_alloc(&bd->bio_pool, flags & ~MM_ZERO, site);
	if (!bio)
		return NULL;
	bio_init(bio, bd, op);
	bio->from_pool = true;
	return bio;
}

void bio_free(struct bio *bio)
{
	LB_ASSERT(bio->from_pool);
	LB_ASSERT(list_empty(&bio->queue));
	mempool_free(&bio->bdev->bio_pool, bio);
}

int bio_add_page(struct bio *bio, struct page *pg, uint32_t off, uint32_t len)
{
	LB_ASSERT(off < PAGE_SIZE && len && len <= PAGE_SIZE - off);
	if (bio->nr_vecs == BIO_MAX_VECS)
		return -E2BIG;
	bio->vec[bio->nr_vecs++] = (struct bio_vec){ pg, off, len };
	bio->size += len;
	return 0;
}

static int blk_check_bio(const struct blkdev *bd, const struct bio *bio)
{
	const struct blk_limits *lim = &bd->lim;
	bool data = bio->op == BIO_READ || bio->op == BIO_WRITE;
	uint32_t sum = 0;

	if (!bd->attached)
		return -ENODEV;
	if (bio->op >= BIO_NR_OPS)
		return -EINVAL;
	if (bio->op == BIO_FLUSH) {
		if (!lim->flush)
			return -EOPNOTSUPP;
		return bio->size || bio->nr_vecs ? -EINVAL : 0;
	}
	if (bio->op != BIO_READ && lim->read_only)
		return -EROFS;
	if ((bio->op == BIO_TRIM && !lim->trim) ||
	    (bio->op == BIO_WRITE_ZEROES && !lim->write_zeroes) ||
	    ((bio->flags & BIO_FUA) && (bio->op == BIO_READ || !lim->fua)))
		return -EOPNOTSUPP;
	if (!bio->size || bio->size % SECTOR_SIZE ||
	    bio->offset % SECTOR_SIZE || bio->offset > lim->capacity ||
	    bio->size > lim->capacity - bio->offset ||
	    bio->size > lim->max_request)
		return -EINVAL;
	for (unsigned i = 0; i < bio->nr_vecs; i++)
		sum += bio->vec[i].len;
	if (data ? sum != bio->size : bio->nr_vecs != 0)
		return -EINVAL;
	return 0;
}

int blk_submit(struct bio *bio)
{
	struct blkdev *bd = bio->bdev;
	int err = blk_check_bio(bd, bio);

	if (err) {
		lb_debug(&bd->host->log,
			 "block: %s: %s of %u at %llu refused: %s", bd->name,
			 bio_op_name(bio->op), bio->size,
			 (unsigned long long)bio->offset, strerror(-err));
		return err;
	}
	bio->error = 0;
	bio->flags &= ~BIO_MEMALLOC;
	if (mm_in_memalloc(bd->mm))
		bio->flags |= BIO_MEMALLOC;
	bio->submitted = host_now(bd->host);
	counter_inc(&bd->st.submitted[bio->op]);
	if ((uint64_t)(bd->st.inflight.v + bd->st.waiting.v) >=
	    bd->lim.queue_depth)
		counter_inc(&bd->st.queued);
	list_add_tail(&bio->queue, &bd->waiting);
	gauge_set(&bd->st.waiting, bd->st.waiting.v + 1);
	task_queue(bd->host->loop, &bd->kick);
	return 0;
}

static int blk_free_tag(const struct blkdev *bd)
{
	for (unsigned t = 0; t < bd->lim.queue_depth; t++)
		if (!bd->rqs[t])
			return (int)t;
	return -1;
}

static void blk_kick(struct task *t)
{
	struct blkdev *bd = container_of(t, struct blkdev, kick);

	while (!list_empty(&bd->waiting) &&
	       (unsigned)bd->st.inflight.v < bd->lim.queue_depth) {
		struct bio *bio =
			list_first_entry(&bd->waiting, struct bio, queue);
		int tag = blk_free_tag(bd);
		struct blk_request *rq;

		LB_ASSERT(tag >= 0);
		/* min_nr == queue depth: a slot always has its request */
		rq = mempool_alloc(&bd->rq_pool, MM_MEMALLOC);
		LB_ASSERT(rq);
		list_del(&bio->queue);
		gauge_set(&bd->st.waiting, bd->st.waiting.v - 1);
		memset(rq, 0, sizeof(*rq) + bd->ops->rq_pdu);
		rq->bdev = bd;
		rq->bio = bio;
		rq->tag = (unsigned)tag;
		rq->started = host_now(bd->host);
		list_init(&rq->node);
		bd->rqs[tag] = rq;
		gauge_set(&bd->st.inflight, bd->st.inflight.v + 1);
		if (bio->flags & BIO_MEMALLOC) {
			struct mm_memalloc_ctx old =
				mm_memalloc_save(bd->mm, &bd->rsv);

			bd->ops->queue_rq(bd, rq);
			mm_memalloc_restore(bd->mm, old);
		} else {
			bd->ops->queue_rq(bd, rq);
		}
	}
}

void blk_end_request(struct blk_request *rq, int error)
{
	struct blkdev *bd = rq->bdev;
	struct bio *bio = rq->bio;

	LB_ASSERT(error <= 0);
	LB_ASSERT(bd->rqs[rq->tag] == rq);
	bd->rqs[rq->tag] = NULL;
	gauge_set(&bd->st.inflight, bd->st.inflight.v - 1);
	mempool_free(&bd->rq_pool, rq);

	bio->error = error;
	counter_inc(&bd->st.completed[bio->op]);
	counter_add(&bd->st.latency_ns, host_now(bd->host) - bio->submitted);
	if (error)
		counter_inc(&bd->st.errors);
	else if (bio->op == BIO_READ)
		counter_add(&bd->st.bytes_read, bio->size);
	else if (bio->op == BIO_WRITE)
		counter_add(&bd->st.bytes_written, bio->size);
	if (!list_empty(&bd->waiting))
		task_queue(bd->host->loop, &bd->kick);
	if (bio->end_io)
		bio->end_io(bio);
}

struct blk_request *blk_rq_from_tag(struct blkdev *bd, unsigned tag)
{
	return tag < bd->lim.queue_depth ? bd->rqs[tag] : NULL;
}

/* Walk the bio's vecs from byte @off, calling @fn on each contiguous piece. */
#define bio_for_each_piece(bio, off, len, ptr, n, body)                      \
	do {                                                                 \
		uint32_t __off = (off), __left = (len);                      \
		for (unsigned __i = 0; __i < (bio)->nr_vecs && __left;       \
		     __i++) {                                                \
			const struct bio_vec *__v = &(bio)->vec[__i];        \
			if (__off >= __v->len) {                             \
				__off -= __v->len;                           \
				continue;                                    \
			}                                                    \
			uint8_t *ptr = (uint8_t *)page_address(              \
					       (bio)->bdev->mm, __v->page) + \
				       __v->off + __off;                     \
			uint32_t n = __v->len - __off;                       \
			if (n > __left)                                      \
				n = __left;                                  \
			body;                                                \
			__left -= n;                                         \
			__off = 0;                                           \
		}                                                            \
		LB_ASSERT(!__left);                                          \
	} while (0)

void bio_copy_to(const struct bio *bio, uint32_t off, void *dst, uint32_t len)
{
	uint8_t *d = dst;

	bio_for_each_piece(bio, off, len, p, n, {
		memcpy(d, p, n);
		d += n;
	});
}

void bio_copy_from(struct bio *bio, uint32_t off, const void *src, uint32_t len)
{
	const uint8_t *s = src;

	bio_for_each_piece(bio, off, len, p, n, {
		memcpy(p, s, n);
		s += n;
	});
}
