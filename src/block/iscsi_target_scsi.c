// SPDX-License-Identifier: MIT
/*
 * iscsi_target_scsi.c - the SCSI half of the iSCSI target: one direct-
 * access LU of 512-byte blocks on a struct blk_store.  Every CDB is
 * checked field by field (reserved protection bits, ranges, allocation
 * lengths) and answered with the sense SBC-3 names; see
 * iscsi_target_impl.h for how the iSCSI half drives it.
 */
#include <string.h>
#include "iscsi_proto.h"
#include "iscsi_target_impl.h"

void tscsi_check(struct tscsi_task *t, uint8_t key, uint16_t asc)
{
	t->kind = TSCSI_DONE;
	t->xfer = 0;
	t->in_len = 0;
	t->status = SCSI_CHECK_CONDITION;
	t->sense_key = key;
	t->asc = asc;
}

static uint64_t lu_blocks(const struct tscsi_lu *lu)
{
	return lu->store->size / TSCSI_BLOCK;
}

/* @lba + @n within the LU, else LBA OUT OF RANGE: true when fine */
static bool lu_range(const struct tscsi_lu *lu, struct tscsi_task *t,
		     uint64_t lba, uint64_t n)
{
	if (lba > lu_blocks(lu) || n > lu_blocks(lu) - lba) {
		tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST,
			    SCSI_ASC_LBA_OUT_OF_RANGE);
		return false;
	}
	return true;
}

static void bad_cdb(struct tscsi_task *t)
{
	tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST,
		    SCSI_ASC_INVALID_FIELD_IN_CDB);
}

/* Data-in built in @buf: at most @alloc bytes of the @len built go out. */
static void reply(struct tscsi_task *t, uint32_t len, uint32_t alloc)
{
	t->in_len = len < alloc ? len : alloc;
	t->xfer = t->in_len;
}

static void pad_copy(uint8_t *dst, const char *s, size_t n)
{
	size_t l = strlen(s);

	memset(dst, ' ', n);
	memcpy(dst, s, l < n ? l : n);
}

/* a stable 64-bit number from the IQN and LUN (FNV-1a), for NAA and serial */
static uint64_t lu_id(const struct tscsi_lu *lu)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = lu->iqn; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return (h ^ lu->lun) * 0x100000001b3ull;
}

static void inquiry(const struct tscsi_lu *lu, struct tscsi_task *t, uint8_t *b)
{
	const uint8_t *c = t->cdb;
	uint32_t alloc = nbd_get16(c + 3), n = 4;
	uint64_t id;

	memset(b, 0, 256);
	if (!(c[1] & 1)) {
		if (c[2]) {
			bad_cdb(t);
			return;
		}
		/* no LU here: qualifier 011b, type 0x1f (SPC-4 6.6.2) */
		b[0] = lu ? 0x00 : 0x7f;
		b[2] = 0x06; /* SPC-4 */
		b[3] = 0x02; /* response data format 2 */
		b[4] = 96 - 5;
		b[7] = 0x02; /* CmdQue */
		pad_copy(b + 8, "LIFEBOAT", 8);
		pad_copy(b + 16, "lifeboat disk", 16);
		pad_copy(b + 32, "0001", 4);
		/* version descriptors: SAM-5, iSCSI, SPC-4, SBC-3 */
		nbd_put16(b + 58, 0x00a0);
		nbd_put16(b + 60, 0x0960);
		nbd_put16(b + 62, 0x0460);
		nbd_put16(b + 64, 0x04c0);
		reply(t, 96, alloc);
		return;
	}
	if (!lu) {
		tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST,
			    SCSI_ASC_LUN_NOT_SUPPORTED);
		return;
	}
	id = lu_id(lu);
	b[1] = c[2];
	switch (c[2]) {
	case 0x00: {
		static const uint8_t pages[] = { 0x00, 0x80, 0x83,
						 0xb0, 0xb1, 0xb2 };

		memcpy(b + 4, pages, sizeof(pages));
		n += sizeof(pages);
		break;
	}
	case 0x80: /* unit serial number: 16 hex digits */
		for (int i = 0; i < 16; i++)
			b[4 + i] =
				"0123456789abcdef"[(id >> (60 - 4 * i)) & 0xf];
		n += 16;
		break;
	case 0x83: /* device identification: an NAA and the T10 vendor ID */
		b[4] = 0x01; /* binary */
		b[5] = 0x03; /* LU association, NAA */
		b[7] = 8;
		nbd_put64(b + 8,
			  (id & 0x0fffffffffffffffull) | 0x5000000000000000ull);
		b[16] = 0x02; /* ASCII */
		b[17] = 0x01; /* LU association, T10 vendor ID */
		b[19] = 24;
		pad_copy(b + 20, "LIFEBOAT", 8);
		for (int i = 0; i < 16; i++)
			b[28 + i] =
				"0123456789abcdef"[(id >> (60 - 4 * i)) & 0xf];
		n = 44;
		break;
	case 0xb0: /* block limits */
		b[4] = 0x01; /* WSNZ: WRITE SAME of 0 blocks is refused */
		nbd_put32(b + 8, TSCSI_MAX_XFER);
		nbd_put32(b + 12, 8); /* optimal: 4 KiB */
		if (!lu->thick) {
			nbd_put32(b + 20, lu->max_unmap);
			nbd_put32(b + 24, TSCSI_MAX_UNMAP_DESC);
		}
		nbd_put32(b + 28, 1);
		nbd_put64(b + 36, TSCSI_MAX_WSAME);
		n = 64;
		break;
	case 0xb1: /* block device characteristics: not rotating */
		nbd_put16(b + 4, 1);
		n = 64;
		break;
	case 0xb2: /* logical block provisioning: UNMAP, WRITE SAME unmap */
		if (!lu->thick) {
			/* LBPU LBPWS LBPWS10 LBPRZ */
			b[5] = 0x80 | 0x40 | 0x20 | 0x04;
			b[6] = 0x02; /* thin */
		}
		n = 8;
		break;
	default:
		bad_cdb(t);
		return;
	}
	nbd_put16(b + 2, (uint16_t)(n - 4));
	reply(t, n, alloc);
}

static void mode_sense(const struct tscsi_lu *lu, struct tscsi_task *t,
		       uint8_t *b, bool ten)
{
	const uint8_t *c = t->cdb;
	uint8_t page = c[2] & 0x3f, pc = c[2] >> 6;
	uint32_t hdr = ten ? 8 : 4, n = hdr;
	uint32_t alloc = ten ? nbd_get16(c + 7) : c[4];
	/* WP, and DPOFUA: DPO and FUA are honoured in READ and WRITE */
	uint8_t dev_specific = (lu->read_only ? 0x80 : 0) |
			       (lu->no_dpofua ? 0 : 0x10);

	memset(b, 0, 256);
	if (c[3] && c[3] != 0xff) { /* subpages */
		bad_cdb(t);
		return;
	}
	if (pc == 3) { /* saved values are not supported */
		tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST, 0x3900);
		return;
	}
	if (page == 0x08 || page == 0x3f) { /* caching: write cache on */
		b[n] = 0x08;
		b[n + 1] = 0x12;
		b[n + 2] = pc == 1 ? 0 : 0x04;
		n += 20;
	}
	if (page == 0x0a || page == 0x3f) { /* control */
		b[n] = 0x0a;
		b[n + 1] = 0x0a;
		n += 12;
	}
	if (n == hdr) {
		bad_cdb(t);
		return;
	}
	if (ten) {
		nbd_put16(b, (uint16_t)(n - 2));
		b[3] = dev_specific;
	} else {
		b[0] = (uint8_t)(n - 1);
		b[2] = dev_specific;
	}
	reply(t, n, alloc);
}

static void report_luns(const struct tscsi_lu *lu, struct tscsi_task *t,
			uint8_t *b)
{
	uint32_t alloc = nbd_get32(t->cdb + 6);

	if (alloc < 16 || t->cdb[2] > 2) {
		bad_cdb(t);
		return;
	}
	memset(b, 0, 16);
	nbd_put32(b, 8);
	nbd_put64(b + 8, iscsi_lun_encode(lu->lun));
	reply(t, 16, alloc);
}

static void read_capacity(const struct tscsi_lu *lu, struct tscsi_task *t,
			  uint8_t *b, bool sixteen)
{
	uint64_t last = lu_blocks(lu) - 1;

	if (!sixteen) {
		nbd_put32(b,
			  last > 0xffffffffull ? 0xffffffffu : (uint32_t)last);
		nbd_put32(b + 4, TSCSI_BLOCK);
		reply(t, 8, 8);
		return;
	}
	memset(b, 0, 32);
	nbd_put64(b, last);
	nbd_put32(b + 8, TSCSI_BLOCK);
	if (!lu->thick)
		b[14] = 0x80 | 0x40; /* LBPME, LBPRZ */
	reply(t, 32, nbd_get32(t->cdb + 10));
}

/* LBA and block count of a READ/WRITE/VERIFY/WRITE SAME/SYNC CDB */
static void cdb_lba_len(const uint8_t *c, uint64_t *lba, uint32_t *n)
{
	switch (c[0] >> 5) {
	case 1: /* 10-byte */
	case 2:
		*lba = nbd_get32(c + 2);
		*n = nbd_get16(c + 7);
		break;
	case 5: /* 12-byte */
		*lba = nbd_get32(c + 2);
		*n = nbd_get32(c + 6);
		break;
	default: /* 16-byte */
		*lba = nbd_get64(c + 2);
		*n = nbd_get32(c + 10);
		break;
	}
}

static void rw(const struct tscsi_lu *lu, struct tscsi_task *t, bool write)
{
	uint64_t lba;
	uint32_t n;

	cdb_lba_len(t->cdb, &lba, &n);
	/* no protection information: RDPROTECT/WRPROTECT must be 0 */
	if (t->cdb[1] & 0xe0) {
		bad_cdb(t);
		return;
	}
	if (!lu_range(lu, t, lba, n))
		return;
	if (n > TSCSI_MAX_XFER) {
		bad_cdb(t);
		return;
	}
	if (write && lu->read_only) {
		tscsi_check(t, SCSI_SENSE_DATA_PROTECT,
			    SCSI_ASC_WRITE_PROTECTED);
		return;
	}
	t->kind = write ? TSCSI_WRITE : TSCSI_READ;
	t->off = lba * TSCSI_BLOCK;
	t->xfer = n * TSCSI_BLOCK;
	t->fua = t->cdb[1] & SCSI_CDB_FUA;
}

static void verify(const struct tscsi_lu *lu, struct tscsi_task *t)
{
	uint64_t lba;
	uint32_t n;
	uint8_t bytchk = (t->cdb[1] >> 1) & 3;

	cdb_lba_len(t->cdb, &lba, &n);
	if ((t->cdb[1] & 0xe0) || bytchk > 1 || n > TSCSI_MAX_XFER) {
		bad_cdb(t);
		return;
	}
	if (!lu_range(lu, t, lba, n) || !bytchk)
		return;
	t->kind = TSCSI_VERIFY;
	t->off = lba * TSCSI_BLOCK;
	t->xfer = n * TSCSI_BLOCK;
}

static void write_same(const struct tscsi_lu *lu, struct tscsi_task *t)
{
	uint64_t lba;
	uint32_t n;
	bool sixteen = t->cdb[0] == SCSI_WRITE_SAME_16;

	cdb_lba_len(t->cdb, &lba, &n);
	/* WRPROTECT, ANCHOR; NDOB only in the 16-byte form */
	if ((t->cdb[1] & 0xe0) || (t->cdb[1] & 0x10) || !n ||
	    n > TSCSI_MAX_WSAME) {
		bad_cdb(t);
		return;
	}
	if (!lu_range(lu, t, lba, n))
		return;
	if (lu->read_only) {
		tscsi_check(t, SCSI_SENSE_DATA_PROTECT,
			    SCSI_ASC_WRITE_PROTECTED);
		return;
	}
	t->off = lba * TSCSI_BLOCK;
	t->kind = TSCSI_PARAM;
	t->xfer = sixteen && (t->cdb[1] & 0x01) ? 0 : TSCSI_BLOCK;
	t->in_len = n; /* blocks to write, kept for tscsi_finish */
}

static void unmap_prepare(const struct tscsi_lu *lu, struct tscsi_task *t)
{
	uint32_t len = nbd_get16(t->cdb + 7);

	if (t->cdb[1] & 0x01) { /* ANCHOR */
		bad_cdb(t);
		return;
	}
	if (lu->read_only) {
		tscsi_check(t, SCSI_SENSE_DATA_PROTECT,
			    SCSI_ASC_WRITE_PROTECTED);
		return;
	}
	if (len > TSCSI_BUF) {
		tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST,
			    SCSI_ASC_PARAM_LIST_LENGTH);
		return;
	}
	t->kind = TSCSI_PARAM;
	t->xfer = len;
}

static void sync_cache(const struct tscsi_lu *lu, struct tscsi_task *t)
{
	uint64_t lba;
	uint32_t n;

	cdb_lba_len(t->cdb, &lba, &n);
	if (t->cdb[0] == SCSI_SYNC_CACHE_10) {
		lba = nbd_get32(t->cdb + 2);
		n = nbd_get16(t->cdb + 7);
	}
	if (!lu_range(lu, t, lba, n))
		return;
	if (store_flush(lu->store))
		tscsi_check(t, SCSI_SENSE_MEDIUM_ERROR, SCSI_ASC_WRITE_ERROR);
}

void tscsi_prepare(const struct tscsi_lu *lu, struct tscsi_task *t,
		   uint8_t *buf)
{
	t->kind = TSCSI_DONE;
	t->xfer = t->in_len = 0;
	t->status = SCSI_GOOD;
	t->fua = false;
	/* INQUIRY and REPORT LUNS answer for any LUN (SPC-4 4.6.2) */
	if (t->cdb[0] == SCSI_INQUIRY) {
		inquiry(lu, t, buf);
		return;
	}
	if (!lu) {
		tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST,
			    SCSI_ASC_LUN_NOT_SUPPORTED);
		return;
	}
	switch (t->cdb[0]) {
	case SCSI_TEST_UNIT_READY:
		return;
	case SCSI_REPORT_LUNS:
		report_luns(lu, t, buf);
		return;
	case SCSI_READ_CAPACITY_10:
		read_capacity(lu, t, buf, false);
		return;
	case SCSI_SERVICE_ACTION_IN_16:
		if ((t->cdb[1] & 0x1f) != SCSI_SAI_READ_CAPACITY_16) {
			bad_cdb(t);
			return;
		}
		read_capacity(lu, t, buf, true);
		return;
	case SCSI_MODE_SENSE_6:
	case SCSI_MODE_SENSE_10:
		mode_sense(lu, t, buf, t->cdb[0] == SCSI_MODE_SENSE_10);
		return;
	case SCSI_READ_10:
	case SCSI_READ_12:
	case SCSI_READ_16:
		rw(lu, t, false);
		return;
	case SCSI_WRITE_10:
	case SCSI_WRITE_12:
	case SCSI_WRITE_16:
		rw(lu, t, true);
		return;
	case SCSI_VERIFY_10:
	case SCSI_VERIFY_12:
	case SCSI_VERIFY_16:
		verify(lu, t);
		return;
	case SCSI_WRITE_SAME_10:
	case SCSI_WRITE_SAME_16:
		write_same(lu, t);
		return;
	case SCSI_UNMAP:
		if (lu->thick) {
			tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST,
				    SCSI_ASC_INVALID_OPCODE);
			return;
		}
		unmap_prepare(lu, t);
		return;
	case SCSI_SYNC_CACHE_10:
	case SCSI_SYNC_CACHE_16:
		sync_cache(lu, t);
		return;
	default:
		tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST,
			    SCSI_ASC_INVALID_OPCODE);
		return;
	}
}

void tscsi_data_out(const struct tscsi_lu *lu, struct tscsi_task *t,
		    uint32_t at, const uint8_t *data, uint32_t len,
		    uint8_t *param, uint8_t *scratch)
{
	/* a failed command swallows the rest of its data */
	if (t->status != SCSI_GOOD || at >= t->xfer)
		return;
	if (len > t->xfer - at)
		len = t->xfer - at;
	switch (t->kind) {
	case TSCSI_WRITE:
		if (store_write(lu->store, t->off + at, data, len))
			tscsi_check(t, SCSI_SENSE_MEDIUM_ERROR,
				    SCSI_ASC_WRITE_ERROR);
		return;
	case TSCSI_VERIFY:
		while (len) {
			uint32_t n = len < TSCSI_BUF ? len : TSCSI_BUF;

			if (store_read(lu->store, t->off + at, scratch, n)) {
				tscsi_check(t, SCSI_SENSE_MEDIUM_ERROR,
					    SCSI_ASC_UNRECOVERED_READ);
				return;
			}
			if (memcmp(scratch, data, n)) {
				tscsi_check(t, SCSI_SENSE_MISCOMPARE,
					    SCSI_ASC_MISCOMPARE_VERIFY);
				return;
			}
			at += n;
			data += n;
			len -= n;
		}
		return;
	case TSCSI_PARAM:
		memcpy(param + at, data, len);
		return;
	default:
		return;
	}
}

static void unmap_finish(const struct tscsi_lu *lu, struct tscsi_task *t,
			 const uint8_t *p)
{
	uint32_t len = t->xfer, dlen, bdlen;

	if (!len)
		return; /* an empty list is no error */
	if (len < 8) {
		tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST,
			    SCSI_ASC_PARAM_LIST_LENGTH);
		return;
	}
	dlen = nbd_get16(p);
	bdlen = nbd_get16(p + 2);
	if (bdlen % 16 || bdlen > len - 8 || dlen < bdlen + 6) {
		tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST,
			    SCSI_ASC_PARAM_LIST_LENGTH);
		return;
	}
	if (bdlen / 16 > TSCSI_MAX_UNMAP_DESC) {
		tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST,
			    SCSI_ASC_INVALID_FIELD_IN_PARAM);
		return;
	}
	/* check every descriptor before touching the medium */
	for (uint32_t i = 0; i < bdlen; i += 16) {
		uint64_t lba = nbd_get64(p + 8 + i);
		uint32_t n = nbd_get32(p + 16 + i);

		if (n > lu->max_unmap) {
			tscsi_check(t, SCSI_SENSE_ILLEGAL_REQUEST,
				    SCSI_ASC_INVALID_FIELD_IN_PARAM);
			return;
		}
		if (!lu_range(lu, t, lba, n))
			return;
	}
	for (uint32_t i = 0; i < bdlen; i += 16) {
		uint64_t lba = nbd_get64(p + 8 + i);
		uint32_t n = nbd_get32(p + 16 + i);

		if (n &&
		    store_trim(lu->store, lba * TSCSI_BLOCK, n * TSCSI_BLOCK)) {
			tscsi_check(t, SCSI_SENSE_MEDIUM_ERROR,
				    SCSI_ASC_WRITE_ERROR);
			return;
		}
	}
}

static void write_same_finish(const struct tscsi_lu *lu, struct tscsi_task *t,
			      uint8_t *p)
{
	uint32_t n = t->in_len, per = TSCSI_BUF / TSCSI_BLOCK;
	bool zero = !t->xfer;
	uint64_t off = t->off;

	t->in_len = 0;
	if (t->xfer) {
		zero = true;
		for (uint32_t i = 0; i < TSCSI_BLOCK && zero; i++)
			zero = !p[i];
	}
	/* UNMAP bit with a zero block: deallocate (reads back zero) */
	if (zero) {
		int err = (t->cdb[1] & 0x08) ?
				  store_trim(lu->store, off, n * TSCSI_BLOCK) :
				  store_write_zeroes(lu->store, off,
						     n * TSCSI_BLOCK);

		if (err)
			tscsi_check(t, SCSI_SENSE_MEDIUM_ERROR,
				    SCSI_ASC_WRITE_ERROR);
		return;
	}
	for (uint32_t i = 1; i < per; i++)
		memcpy(p + i * TSCSI_BLOCK, p, TSCSI_BLOCK);
	while (n) {
		uint32_t k = n < per ? n : per;

		if (store_write(lu->store, off, p, k * TSCSI_BLOCK)) {
			tscsi_check(t, SCSI_SENSE_MEDIUM_ERROR,
				    SCSI_ASC_WRITE_ERROR);
			return;
		}
		off += k * TSCSI_BLOCK;
		n -= k;
	}
}

void tscsi_finish(const struct tscsi_lu *lu, struct tscsi_task *t,
		  uint8_t *param)
{
	if (t->status != SCSI_GOOD)
		return;
	switch (t->kind) {
	case TSCSI_WRITE:
		if (t->fua && store_flush(lu->store))
			tscsi_check(t, SCSI_SENSE_MEDIUM_ERROR,
				    SCSI_ASC_WRITE_ERROR);
		break;
	case TSCSI_PARAM:
		if (t->cdb[0] == SCSI_UNMAP)
			unmap_finish(lu, t, param);
		else
			write_same_finish(lu, t, param);
		break;
	default:
		break;
	}
	t->kind = TSCSI_DONE;
}
