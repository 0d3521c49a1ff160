// SPDX-License-Identifier: MIT
/*
 * ramdev.c - a block device on a store, completing after a latency.
 *
 * Requests complete in submission order from one timer, so the device is
 * deterministic in virtual time.
 */
#include <errno.h>
#include <string.h>
#include "ramdev.h"

struct ramdev {
	struct blkdev bd;
	struct blk_store *store;
	uint64_t latency_ns, stall_until;
	struct list_head pending; /* struct blk_request.node, by due time */
	struct timer timer;
};

struct ramdev_rq {
	uint64_t due;
};

static struct ramdev *to_ramdev(struct blkdev *bd)
{
	return container_of(bd, struct ramdev, bd);
}

static void ramdev_arm(struct ramdev *rd)
{
	struct blk_request *rq;
	uint64_t due;

	if (list_empty(&rd->pending) || timer_armed(&rd->timer))
		return;
	rq = list_first_entry(&rd->pending, struct blk_request, node);
	due = ((struct ramdev_rq *)blk_rq_pdu(rq))->due;
	if (due < rd->stall_until)
		due = rd->stall_until;
	timer_arm(rd->bd.host->loop, &rd->timer, due);
}

static void ramdev_queue_rq(struct blkdev *bd, struct blk_request *rq)
{
	struct ramdev *rd = to_ramdev(bd);
	struct ramdev_rq *p = blk_rq_pdu(rq);

	p->due = host_now(bd->host) + rd->latency_ns;
	list_add_tail(&rq->node, &rd->pending);
	ramdev_arm(rd);
}

/* Move data between the store and the bio's pages, a vec at a time. */
static int ramdev_rw(struct ramdev *rd, struct bio *bio)
{
	uint64_t off = bio->offset;

	for (unsigned i = 0; i < bio->nr_vecs; i++) {
		const struct bio_vec *v = &bio->vec[i];
		uint8_t *p =
			(uint8_t *)page_address(rd->bd.mm, v->page) + v->off;
		int err = bio->op == BIO_READ ?
				  store_read(rd->store, off, p, v->len) :
				  store_write(rd->store, off, p, v->len);

		if (err)
			return err;
		off += v->len;
	}
	return 0;
}

static int ramdev_execute(struct ramdev *rd, struct bio *bio)
{
	switch (bio->op) {
	case BIO_READ:
	case BIO_WRITE:
		return ramdev_rw(rd, bio);
	case BIO_FLUSH:
		return store_flush(rd->store);
	case BIO_TRIM:
		return store_trim(rd->store, bio->offset, bio->size);
	case BIO_WRITE_ZEROES:
		return store_write_zeroes(rd->store, bio->offset, bio->size);
	default:
		return -EINVAL;
	}
}

static void ramdev_timer(struct timer *t)
{
	struct ramdev *rd = container_of(t, struct ramdev, timer);
	uint64_t now = host_now(rd->bd.host);

	while (!list_empty(&rd->pending) && now >= rd->stall_until) {
		struct blk_request *rq = list_first_entry(
			&rd->pending, struct blk_request, node);

		if (((struct ramdev_rq *)blk_rq_pdu(rq))->due > now)
			break;
		list_del(&rq->node);
		blk_end_request(rq, ramdev_execute(rd, rq->bio));
	}
	ramdev_arm(rd);
}

static const struct blkdev_ops ramdev_ops = {
	.queue_rq = ramdev_queue_rq,
	.rq_pdu = sizeof(struct ramdev_rq),
};

int ramdev_create(struct host *h, const struct ramdev_config *cfg,
		  struct blkdev **out)
{
	struct ramdev *rd;
	struct blk_limits lim = {
		.capacity = cfg->store->size,
		.max_request = cfg->max_request ? cfg->max_request : 65536,
		.queue_depth = cfg->queue_depth ? cfg->queue_depth : 32,
		.flush = true,
		.fua = true,
		.trim = true,
		.write_zeroes = true,
		.rsv_fixed = 1,
	};
	int err;

	rd = mm_kmalloc(h->mm, sizeof(*rd), MM_NORMAL | MM_ZERO, NULL);
	if (!rd)
		return -ENOMEM;
	blk_init(&rd->bd, h, cfg->name ? cfg->name : "ram0", &ramdev_ops, rd);
	rd->store = cfg->store;
	rd->latency_ns = cfg->latency_ns;
	list_init(&rd->pending);
	timer_init(&rd->timer, ramdev_timer);
	err = blk_attach(&rd->bd, &lim);
	if (err) {
		mm_kfree(h->mm, rd);
		return err;
	}
	*out = &rd->bd;
	return 0;
}

int ramdev_destroy(struct blkdev *bd)
{
	struct ramdev *rd = to_ramdev(bd);
	struct mm *mm = bd->mm;
	int err = blk_detach(bd);

	if (err)
		return err;
	timer_cancel(bd->host->loop, &rd->timer);
	mm_kfree(mm, rd);
	return 0;
}

void ramdev_stall(struct blkdev *bd, uint64_t until)
{
	struct ramdev *rd = to_ramdev(bd);

	rd->stall_until = until;
	if (timer_armed(&rd->timer))
		timer_cancel(bd->host->loop, &rd->timer);
	ramdev_arm(rd);
}
