/* SPDX-License-Identifier: MIT */
/*
 * store.h - what a storage server serves: a file or RAM.
 *
 * The store is the server's disk, not the server host's memory: RAM is an
 * anonymous mapping made once at start-up (outside any arena), a file is
 * read and written with pread/pwrite.  A store outlives the server that
 * serves it, so a simulated server can crash and restart with its data.
 *
 * A stall makes the store refuse to answer until a given time; servers
 * check store_stalled() and hold requests (the simulator's "server stall").
 */
#ifndef LB_BLOCK_STORE_H
#define LB_BLOCK_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct blk_store {
	uint64_t size; /* bytes, a multiple of 512 */
	int fd; /* -1 for RAM */
	uint8_t *ram;
	bool sync; /* file opened O_DSYNC */
	uint64_t reads, writes, flushes, trims;
};

/* RAM of @size bytes, zeroed.  0 or -errno. */
int store_open_ram(struct blk_store *st, uint64_t size);
/*
 * A file; created with @size bytes if missing (and @size != 0), otherwise
 * its size (rounded down to 512) unless @size is given and smaller.
 */
int store_open_file(struct blk_store *st, const char *path, uint64_t size);
void store_close(struct blk_store *st);

/* 0 or -errno; -EINVAL when the range is outside the store. */
int store_read(struct blk_store *st, uint64_t off, void *buf, uint32_t len);
int store_write(struct blk_store *st, uint64_t off, const void *buf,
		uint32_t len);
int store_write_zeroes(struct blk_store *st, uint64_t off, uint32_t len);
int store_trim(struct blk_store *st, uint64_t off, uint32_t len);
int store_flush(struct blk_store *st);

static inline bool store_range_ok(const struct blk_store *st, uint64_t off,
				  uint64_t len)
{
	return off <= st->size && len <= st->size - off;
}

#endif
