/* SPDX-License-Identifier: MIT */
/*
 * blk_io.h - a deterministic I/O engine for block-device tests: many
 * concurrent bios of mixed sizes over a region, write data a function of
 * (offset, pass), every byte read checked against a shadow of the disk.
 * Pages for the bios are taken when the engine starts, so a test may then
 * exhaust the host's memory.
 */
#ifndef LB_TESTS_BLOCK_BLK_IO_H
#define LB_TESTS_BLOCK_BLK_IO_H

#include <stdbool.h>
#include <stdint.h>
#include "block/block.h"
#include "core/prng.h"

#define BIO_ENG_SLOTS 64

struct bio_eng;

struct bio_slot {
	struct bio bio;
	struct page *pages[BIO_MAX_VECS];
	struct bio_eng *e;
	bool busy;
};

struct bio_eng {
	struct blkdev *bd;
	struct mm *mm;
	struct prng prng;
	struct bio_slot slots[BIO_ENG_SLOTS];
	unsigned depth; /* bios in flight at most */
	enum bio_op op;
	unsigned flags; /* BIO_FUA */
	uint64_t base, end, next; /* region and progress */
	uint32_t min_size, max_size; /* bytes, multiples of 512 */
	uint8_t pass; /* written data is pattern(offset, pass) */
	uint8_t *shadow; /* the disk as it must read (size: capacity) */
	unsigned inflight;
	uint64_t bytes_done, bios_done, bad_bytes;
	unsigned errors;
	int last_error;
};

/* Takes depth * 16 pages from @bd's host now; a shadow of the capacity. */
void bio_eng_init(struct bio_eng *e, struct blkdev *bd, unsigned depth,
		  uint64_t seed);
void bio_eng_free(struct bio_eng *e);
/* Start @op over [base, base + len) with bios of min..max bytes. */
void bio_eng_start(struct bio_eng *e, enum bio_op op, uint64_t base,
		   uint64_t len, uint32_t min_size, uint32_t max_size);
bool bio_eng_done(const struct bio_eng *e);
uint8_t bio_eng_pattern(uint64_t off, uint8_t pass);

#endif
