// SPDX-License-Identifier: MIT
/*
 * The block layer on a RAM device: bios checked at submission, the queue
 * depth holding excess bios in order, the reserve registered at attach and
 * refused when it does not fit, and data through the pools intact.
 */
#include <errno.h>
#include <string.h>
#include "../mm/mm_fixture.h"
#include "block/ramdev.h"
#include "core/loop.h"

#define LATENCY 1000000ull /* 1 ms */

struct done {
	bool free_bio;
	unsigned n, order[64];
	int err[64];
};

static void on_done(struct bio *bio)
{
	struct done *d = bio->private;

	d->err[d->n] = bio->error;
	d->order[d->n++] = (unsigned)(uintptr_t)bio->vec[0].page->private;
	if (d->free_bio)
		bio_free(bio);
}

static struct blkdev *new_dev(struct fx *f, struct blk_store *st,
			      unsigned depth)
{
	struct ramdev_config rc = { .store = st,
				    .queue_depth = depth,
				    .latency_ns = LATENCY };
	struct blkdev *bd;

	assert_int_equal(store_open_ram(st, 1 << 20), 0);
	assert_int_equal(ramdev_create(f->host, &rc, &bd), 0);
	return bd;
}

static void run_until_idle(struct fx *f, struct blkdev *bd)
{
	while (bd->st.inflight.v || bd->st.waiting.v)
		loop_run_once(&f->loop, UINT64_MAX);
}

static void test_write_read_back(void **state)
{
	struct fx *f = fx_new(256, MM_POLICY_ACCOUNTED);
	struct blk_store st;
	struct blkdev *bd = new_dev(f, &st, 4);
	struct page *pg[16];
	struct done d = { .free_bio = true };

	for (unsigned i = 0; i < 16; i++) {
		struct bio *bio = bio_alloc(bd, BIO_WRITE, MM_NORMAL);

		pg[i] = mm_page_alloc(f->mm, MM_NORMAL, NULL);
		pg[i]->private = i;
		memset(page_address(f->mm, pg[i]), 'a' + i, PAGE_SIZE);
		bio->offset = (uint64_t)i * PAGE_SIZE;
		assert_int_equal(bio_add_page(bio, pg[i], 0, PAGE_SIZE), 0);
		bio->end_io = on_done;
		bio->private = &d;
		assert_int_equal(blk_submit(bio), 0);
	}
	/* 16 bios, 4 slots: 12 wait, and complete in submission order */
	assert_int_equal(bd->st.waiting.v, 16);
	loop_run_once(&f->loop, 0);
	assert_int_equal(bd->st.inflight.v, 4);
	assert_int_equal(bd->st.waiting.v, 12);
	run_until_idle(f, bd);
	assert_int_equal(d.n, 16);
	for (unsigned i = 0; i < 16; i++) {
		assert_int_equal(d.order[i], i);
		assert_int_equal(d.err[i], 0);
		assert_int_equal(((uint8_t *)st.ram)[i * PAGE_SIZE + 7],
				 'a' + i);
	}
	assert_int_equal(fx_stat(f, "block.ram0.queued_for_slot"), 12);
	assert_int_equal(fx_stat(f, "block.ram0.bytes_written"),
			 16 * PAGE_SIZE);

	/* read back into fresh pages, split over two vecs each */
	memset(&d, 0, sizeof(d));
	for (unsigned i = 0; i < 16; i++) {
		struct bio *bio = bio_alloc(bd, BIO_READ, MM_NORMAL);
		uint8_t buf[PAGE_SIZE];

		memset(page_address(f->mm, pg[i]), 0, PAGE_SIZE);
		bio->offset = (uint64_t)i * PAGE_SIZE;
		bio_add_page(bio, pg[i], 0, 1024);
		bio_add_page(bio, pg[i], 1024, PAGE_SIZE - 1024);
		bio->end_io = on_done;
		bio->private = &d;
		assert_int_equal(blk_submit(bio), 0);
		run_until_idle(f, bd);
		bio_copy_to(bio, 0, buf, PAGE_SIZE);
		assert_int_equal(buf[0], 'a' + i);
		assert_int_equal(buf[PAGE_SIZE - 1], 'a' + i);
		bio_free(bio);
	}
	assert_int_equal(d.n, 16);
	for (unsigned i = 0; i < 16; i++)
		mm_page_put(f->mm, pg[i]);
	assert_int_equal(ramdev_destroy(bd), 0);
	store_close(&st);
	fx_free(f);
}

static void test_bad_bios_refused(void **state)
{
	struct fx *f = fx_new(256, MM_POLICY_ACCOUNTED);
	struct blk_store st;
	struct blkdev *bd = new_dev(f, &st, 4);
	struct page *pg = mm_page_alloc(f->mm, MM_NORMAL, NULL);
	struct bio bio, flush;

	bio_init(&bio, bd, BIO_WRITE);
	assert_int_equal(blk_submit(&bio), -EINVAL); /* empty */
	bio_add_page(&bio, pg, 0, 100);
	assert_int_equal(blk_submit(&bio), -EINVAL); /* not sectors */
	bio_init(&bio, bd, BIO_WRITE);
	bio_add_page(&bio, pg, 0, 512);
	bio.offset = 100;
	assert_int_equal(blk_submit(&bio), -EINVAL); /* misaligned */
	bio.offset = st.size;
	assert_int_equal(blk_submit(&bio), -EINVAL); /* past the end */
	bio.offset = st.size - 512;
	bio.flags = BIO_FUA;
	bio.end_io = NULL;
	assert_int_equal(blk_submit(&bio), 0); /* the last sector, FUA */
	run_until_idle(f, bd);
	assert_int_equal(bio.error, 0);

	bio_init(&bio, bd, BIO_READ);
	bio_add_page(&bio, pg, 0, 512);
	bio.flags = BIO_FUA;
	assert_int_equal(blk_submit(&bio), -EOPNOTSUPP); /* FUA on a read */
	bio_init(&bio, bd, BIO_FLUSH);
	bio.size = 512;
	assert_int_equal(blk_submit(&bio), -EINVAL); /* flush has no range */
	bio_init(&flush, bd, BIO_FLUSH);
	assert_int_equal(blk_submit(&flush), 0);
	bio_init(&bio, bd, BIO_NR_OPS);
	assert_int_equal(blk_submit(&bio), -EINVAL);
	run_until_idle(f, bd);
	assert_int_equal(flush.error, 0);

	/* a bio over max_request */
	bio_init(&bio, bd, BIO_WRITE);
	for (unsigned i = 0; i < BIO_MAX_VECS; i++)
		assert_int_equal(bio_add_page(&bio, pg, 0, PAGE_SIZE), 0);
	assert_int_equal(bio_add_page(&bio, pg, 0, PAGE_SIZE), -E2BIG);
	bd->lim.max_request = 8192;
	assert_int_equal(blk_submit(&bio), -EINVAL);
	bd->lim.read_only = true;
	assert_int_equal(blk_submit(&bio), -EROFS);

	assert_int_equal(fx_stat(f, "block.ram0.write"), 1);
	assert_int_equal(fx_stat(f, "block.ram0.flush_done"), 1);
	mm_page_put(f->mm, pg);
	assert_int_equal(ramdev_destroy(bd), 0);
	store_close(&st);
	fx_free(f);
}

/* The reserve is registered at attach, and a device that cannot have it
 * is refused instead of deadlocking later. */
static void test_reserve_registered_or_refused(void **state)
{
	struct fx *f = fx_new(64, MM_POLICY_ACCOUNTED);
	struct blk_store st;
	struct blkdev *bd = new_dev(f, &st, 4);
	struct blkdev bd2;
	static const struct blkdev_ops ops = { .rq_pdu = 8 };
	struct blk_limits lim = { .capacity = 1 << 20,
				  .max_request = 4096,
				  .queue_depth = 8,
				  .rsv_per_request = 16 };

	assert_non_null(mm_reserve_find(f->mm, "block.ram0"));
	assert_int_equal(fx_stat(f, "mm.reserve.block.ram0.size"), 1);

	blk_init(&bd2, f->host, "big0", &ops, NULL);
	assert_int_equal(blk_reserve_pages(&lim), 128);
	assert_int_equal(blk_attach(&bd2, &lim), -ENOMEM);
	assert_null(mm_reserve_find(f->mm, "block.big0"));
	lim.rsv_per_request = 1;
	lim.max_request = 1000; /* not a multiple of 512 */
	assert_int_equal(blk_attach(&bd2, &lim), -EINVAL);
	lim.max_request = 4096;
	assert_int_equal(blk_attach(&bd2, &lim), 0);
	assert_int_equal(fx_stat(f, "mm.reserve.block.big0.size"), 8);
	assert_int_equal(blk_detach(&bd2), 0);
	assert_null(mm_reserve_find(f->mm, "block.big0"));

	assert_int_equal(ramdev_destroy(bd), 0);
	assert_null(mm_reserve_find(f->mm, "block.ram0"));
	store_close(&st);
	fx_free(f);
}

/* With every normal page taken, the pools still give write-back its bios
 * and requests, and a stalled device holds them without losing order. */
static void test_pools_survive_exhaustion(void **state)
{
	struct fx *f = fx_new(256, MM_POLICY_ACCOUNTED);
	struct blk_store st;
	struct blkdev *bd = new_dev(f, &st, 8);
	struct page *pg = mm_page_alloc(f->mm, MM_NORMAL, NULL);
	static struct page *hold[256];
	struct bio *bios[8];
	struct done d = { 0 };
	size_t n;

	pg->private = 42;
	n = fx_fill(f, MM_NORMAL, NULL, hold, 256);
	assert_true(n > 0);
	ramdev_stall(bd, LATENCY * 50);
	for (unsigned i = 0; i < 8; i++) {
		bios[i] = bio_alloc(bd, BIO_WRITE, MM_MEMALLOC);
		assert_non_null(bios[i]);
		bios[i]->offset = (uint64_t)i * PAGE_SIZE;
		bio_add_page(bios[i], pg, 0, PAGE_SIZE);
		bios[i]->end_io = on_done;
		bios[i]->private = &d;
		assert_int_equal(blk_submit(bios[i]), 0);
	}
	loop_run_until(&f->loop, LATENCY * 10);
	assert_int_equal(d.n, 0);
	assert_int_equal(bd->st.inflight.v, 8);
	run_until_idle(f, bd);
	assert_int_equal(d.n, 8);
	assert_true(host_now(f->host) >= LATENCY * 50);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(d.err[i], 0);
		bio_free(bios[i]);
	}
	fx_put_all(f, hold, n);
	mm_page_put(f->mm, pg);
	assert_int_equal(ramdev_destroy(bd), 0);
	store_close(&st);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read_back),
		cmocka_unit_test(test_bad_bios_refused),
		cmocka_unit_test(test_reserve_registered_or_refused),
		cmocka_unit_test(test_pools_survive_exhaustion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
