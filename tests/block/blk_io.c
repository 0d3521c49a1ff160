// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>
#include "blk_io.h"

uint8_t bio_eng_pattern(uint64_t off, uint8_t pass)
{
	uint64_t x = (off >> 2) * 0x9e3779b97f4a7c15ull + pass * 0x51ull;

	return (uint8_t)(x >> 56 ^ (off & 3) * 0x35 ^ pass);
}

void bio_eng_init(struct bio_eng *e, struct blkdev *bd, unsigned depth,
		  uint64_t seed)
{
	memset(e, 0, sizeof(*e));
	e->bd = bd;
	e->mm = bd->mm;
	e->depth = depth;
	prng_seed(&e->prng, seed);
	e->shadow = calloc(1, bd->lim.capacity);
	if (!e->shadow)
		abort();
	for (unsigned i = 0; i < depth; i++) {
		e->slots[i].e = e;
		for (unsigned p = 0; p < BIO_MAX_VECS; p++) {
			e->slots[i].pages[p] =
				mm_page_alloc(e->mm, MM_NORMAL, NULL);
			if (!e->slots[i].pages[p])
				abort();
		}
	}
}

void bio_eng_free(struct bio_eng *e)
{
	for (unsigned i = 0; i < e->depth; i++)
		for (unsigned p = 0; p < BIO_MAX_VECS; p++)
			mm_page_put(e->mm, e->slots[i].pages[p]);
	free(e->shadow);
}

bool bio_eng_done(const struct bio_eng *e)
{
	return e->next >= e->end && !e->inflight;
}

static void bio_eng_pump(struct bio_eng *e);

static void bio_eng_end_io(struct bio *bio)
{
	struct bio_slot *s = bio->private;
	struct bio_eng *e = s->e;

	s->busy = false;
	e->inflight--;
	e->bios_done++;
	if (bio->error) {
		e->errors++;
		e->last_error = bio->error;
	} else {
		e->bytes_done += bio->size;
		if (bio->op == BIO_READ) {
			uint8_t *buf = malloc(bio->size);

			bio_copy_to(bio, 0, buf, bio->size);
			for (uint32_t i = 0; i < bio->size; i++)
				if (buf[i] != e->shadow[bio->offset + i])
					e->bad_bytes++;
			free(buf);
		}
	}
	bio_eng_pump(e);
}

static void bio_eng_pump(struct bio_eng *e)
{
	for (unsigned i = 0; i < e->depth && e->next < e->end; i++) {
		struct bio_slot *s = &e->slots[i];
		uint32_t size, off = 0;
		unsigned steps = (e->max_size - e->min_size) / 512 + 1;
		struct bio *bio = &s->bio;

		if (s->busy)
			continue;
		size = e->min_size +
		       512 * (uint32_t)prng_below(&e->prng, steps);
		size = (uint32_t)lb_min((uint64_t)size, e->end - e->next);
		bio_init(bio, e->bd, e->op);
		bio->flags = e->flags;
		bio->offset = e->next;
		bio->end_io = bio_eng_end_io;
		bio->private = s;
		/* small bios sometimes start inside their first page */
		if (size <= (BIO_MAX_VECS - 1) * PAGE_SIZE)
			off = 512 * (uint32_t)prng_below(&e->prng, 8);
		if (e->op == BIO_READ || e->op == BIO_WRITE)
			for (uint32_t p = 0, left = size; left; p++) {
				uint32_t n = (uint32_t)lb_min((uint64_t)left,
							      PAGE_SIZE - off);

				bio_add_page(bio, s->pages[p], off, n);
				left -= n;
				off = 0;
			}
		else
			bio->size = size;
		if (e->op == BIO_WRITE) {
			uint8_t *buf = malloc(size);

			for (uint32_t b = 0; b < size; b++)
				buf[b] = bio_eng_pattern(e->next + b, e->pass);
			bio_copy_from(bio, 0, buf, size);
			memcpy(e->shadow + e->next, buf, size);
			free(buf);
		} else if (e->op == BIO_TRIM || e->op == BIO_WRITE_ZEROES) {
			memset(e->shadow + e->next, 0, size);
		}
		s->busy = true;
		e->inflight++;
		e->next += size;
		if (blk_submit(bio)) {
			s->busy = false;
			e->inflight--;
			e->errors++;
		}
	}
}

void bio_eng_start(struct bio_eng *e, enum bio_op op, uint64_t base,
		   uint64_t len, uint32_t min_size, uint32_t max_size)
{
	e->op = op;
	e->base = e->next = base;
	e->end = base + len;
	e->min_size = min_size;
	e->max_size = max_size;
	if (op == BIO_WRITE)
		e->pass++;
	bio_eng_pump(e);
}
