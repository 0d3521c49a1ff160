// SPDX-License-Identifier: MIT
/*
 * scan.c - a streaming reader on a block device (see scan.h).
 */
#include <errno.h>
#include <string.h>
#include "core/assert.h"
#include "mm/mm.h"
#include "scan.h"

static void scan_submit(struct scan *s, struct bio *bio);

static void scan_end_io(struct bio *bio)
{
	struct scan *s = bio->private;

	LB_ASSERT(s->inflight > 0);
	s->inflight--;
	if (bio->error)
		s->errors++;
	else {
		s->reads++;
		s->bytes += bio->size;
	}
	if (!s->stopping)
		scan_submit(s, bio);
}

/* Aim @bio (its pages kept) at the next range and queue it. */
static void scan_submit(struct scan *s, struct bio *bio)
{
	struct page *pg[BIO_MAX_VECS];
	unsigned n = bio->nr_vecs;
	uint32_t len = n * PAGE_SIZE;

	for (unsigned i = 0; i < n; i++)
		pg[i] = bio->vec[i].page;
	if (s->next + len > s->cfg.bytes)
		s->next = 0;
	bio_init(bio, s->bd, BIO_READ);
	for (unsigned i = 0; i < n; i++)
		LB_ASSERT(bio_add_page(bio, pg[i], 0, PAGE_SIZE) == 0);
	bio->offset = s->next;
	bio->end_io = scan_end_io;
	bio->private = s;
	s->next += len;
	s->inflight++;
	if (blk_submit(bio)) {
		/* refused (the device is going): this read is over */
		s->inflight--;
		s->errors++;
	}
}

int scan_start(struct scan *s, struct mm *mm, struct blkdev *bd,
	       const struct scan_config *cfg)
{
	unsigned depth, pages;

	memset(s, 0, sizeof(*s));
	s->mm = mm;
	s->bd = bd;
	s->cfg = *cfg;
	depth = cfg->depth ? cfg->depth : 8;
	pages = cfg->bio_pages ? cfg->bio_pages : BIO_MAX_VECS;
	if (depth > SCAN_DEPTH_MAX || pages > BIO_MAX_VECS ||
	    (uint64_t)pages * PAGE_SIZE > bd->lim.max_request)
		return -EINVAL;
	if (!s->cfg.bytes || s->cfg.bytes > bd->lim.capacity)
		s->cfg.bytes = bd->lim.capacity;
	if (s->cfg.bytes < (uint64_t)pages * PAGE_SIZE)
		return -EINVAL;
	s->cfg.depth = depth;
	s->cfg.bio_pages = pages;
	for (unsigned i = 0; i < depth; i++) {
		struct bio *bio = &s->bios[i];

		bio_init(bio, bd, BIO_READ);
		for (unsigned j = 0; j < pages; j++) {
			struct page *pg = mm_page_alloc(mm, MM_NORMAL, NULL);

			if (!pg) {
				scan_free(s);
				return -ENOMEM;
			}
			LB_ASSERT(bio_add_page(bio, pg, 0, PAGE_SIZE) == 0);
		}
	}
	for (unsigned i = 0; i < depth; i++)
		scan_submit(s, &s->bios[i]);
	return 0;
}

void scan_stop(struct scan *s)
{
	s->stopping = true;
}

void scan_free(struct scan *s)
{
	LB_ASSERT(s->inflight == 0);
	for (unsigned i = 0; i < SCAN_DEPTH_MAX; i++) {
		struct bio *bio = &s->bios[i];

		for (unsigned j = 0; j < bio->nr_vecs; j++)
			if (bio->vec[j].page)
				mm_page_put(s->mm, bio->vec[j].page);
		bio->nr_vecs = 0;
	}
}
