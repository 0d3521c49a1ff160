// SPDX-License-Identifier: MIT
/*
 * store.c - a server's backing store: an anonymous mapping or a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store.h"

int store_open_ram(struct blk_store *st, uint64_t size)
{
	memset(st, 0, sizeof(*st));
	st->fd = -1;
	if (!size || size % 512)
		return -EINVAL;
	/* Untouched pages stay unallocated: a large sparse disk is cheap. */
	st->ram = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (st->ram == MAP_FAILED) {
		st->ram = NULL;
		return -errno;
	}
	st->size = size;
	return 0;
}

int store_open_file(struct blk_store *st, const char *path, uint64_t size)
{
	struct stat sb;
	int err;

	memset(st, 0, sizeof(*st));
	st->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (st->fd < 0)
		return -errno;
	if (fstat(st->fd, &sb) < 0)
		goto fail;
	if ((uint64_t)sb.st_size < size && ftruncate(st->fd, (off_t)size) < 0)
		goto fail;
	st->size = size ? size : (uint64_t)sb.st_size & ~511ull;
	if (!st->size) {
		close(st->fd);
		st->fd = -1;
		return -EINVAL;
	}
	return 0;
fail:
	err = -errno;
	close(st->fd);
	st->fd = -1;
	return err;
}

void store_close(struct blk_store *st)
{
	if (st->ram)
		munmap(st->ram, st->size);
	if (st->fd >= 0)
		close(st->fd);
	st->ram = NULL;
	st->fd = -1;
}

static int full_io(int fd, bool wr, uint8_t *buf, uint32_t len, uint64_t off)
{
	while (len) {
		ssize_t n = wr ? pwrite(fd, buf, len, (off_t)off) :
				 pread(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			/* A read past a short file reads zeroes. */
			if (wr)
				return -EIO;
			memset(buf, 0, len);
			return 0;
		}
		buf += n;
		off += (uint64_t)n;
		len -= (uint32_t)n;
	}
	return 0;
}

int store_read(struct blk_store *st, uint64_t off, void *buf, uint32_t len)
{
	if (!store_range_ok(st, off, len))
		return -EINVAL;
	st->reads++;
	if (st->ram) {
		memcpy(buf, st->ram + off, len);
		return 0;
	}
	return full_io(st->fd, false, buf, len, off);
}

int store_write(struct blk_store *st, uint64_t off, const void *buf,
		uint32_t len)
{
	if (!store_range_ok(st, off, len))
		return -EINVAL;
	st->writes++;
	if (st->ram) {
		memcpy(st->ram + off, buf, len);
		return 0;
	}
	return full_io(st->fd, true, (uint8_t *)buf, len, off);
}

int store_write_zeroes(struct blk_store *st, uint64_t off, uint32_t len)
{
	static const uint8_t zero[4096];

	if (!store_range_ok(st, off, len))
		return -EINVAL;
	if (st->ram) {
		st->writes++;
		memset(st->ram + off, 0, len);
		return 0;
	}
	if (fallocate(st->fd, FALLOC_FL_ZERO_RANGE, (off_t)off, len) == 0) {
		st->writes++;
		return 0;
	}
	while (len) {
		uint32_t n = len < sizeof(zero) ? len : sizeof(zero);
		int err = store_write(st, off, zero, n);

		if (err)
			return err;
		off += n;
		len -= n;
	}
	return 0;
}

int store_trim(struct blk_store *st, uint64_t off, uint32_t len)
{
	if (!store_range_ok(st, off, len))
		return -EINVAL;
	st->trims++;
	/* A trimmed range reads back as zeroes here, which TRIM permits. */
	if (st->ram) {
		memset(st->ram + off, 0, len);
		return 0;
	}
	if (fallocate(st->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, len) == 0)
		return 0;
	return store_write_zeroes(st, off, len);
}

int store_flush(struct blk_store *st)
{
	st->flushes++;
	if (st->ram)
		return 0;
	return fdatasync(st->fd) < 0 ? -errno : 0;
}
