/* SPDX-License-Identifier: MIT */
/*
 * iscsi_target_impl.h - between the target's iSCSI half (iscsi_target.c:
 * connections, login, PDUs) and its SCSI half (iscsi_target_scsi.c: what
 * each CDB does to the store).  The SCSI half allocates nothing: it works
 * in the page-sized buffers the connection owns.
 */
#ifndef LB_BLOCK_ISCSI_TARGET_IMPL_H
#define LB_BLOCK_ISCSI_TARGET_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include "store.h"

#define TSCSI_BLOCK 512u
#define TSCSI_BUF 4096u /* the connection's pages */
/* limits advertised in the Block Limits VPD page (blocks) */
#define TSCSI_MAX_XFER 65536u
#define TSCSI_MAX_UNMAP 65536u
#define TSCSI_MAX_UNMAP_DESC 32u
#define TSCSI_MAX_WSAME 65536u

struct tscsi_lu {
	struct blk_store *store;
	unsigned lun;
	bool read_only;
	const char *iqn;
	uint32_t max_unmap; /* blocks per UNMAP descriptor */
	bool thick; /* no logical block provisioning: UNMAP refused */
	bool no_dpofua; /* MODE SENSE does not offer FUA */
};

enum tscsi_kind {
	TSCSI_DONE, /* status (and any data-in in the buffer) is ready */
	TSCSI_READ, /* data-in streamed from the store */
	TSCSI_WRITE, /* data-out streamed to the store */
	TSCSI_VERIFY, /* data-out compared with the store */
	TSCSI_PARAM, /* data-out collected into the buffer (UNMAP, WRITE SAME) */
};

struct tscsi_task {
	uint8_t cdb[16];
	enum tscsi_kind kind;
	uint64_t off; /* byte offset on the store */
	uint32_t xfer; /* bytes the CDB moves (data-in or data-out) */
	uint32_t in_len; /* TSCSI_DONE: bytes of data-in in the buffer */
	bool fua;
	uint8_t status;
	uint8_t sense_key;
	uint16_t asc; /* ASC << 8 | ASCQ */
};

/*
 * Decode @t->cdb for the LU (@lu NULL: the LUN does not exist) and do
 * what needs no data-out; data-in of TSCSI_DONE commands goes to @buf.
 */
void tscsi_prepare(const struct tscsi_lu *lu, struct tscsi_task *t,
		   uint8_t *buf);
/* Data-out bytes [@at, @at+@len) of the command; @scratch is a page. */
void tscsi_data_out(const struct tscsi_lu *lu, struct tscsi_task *t,
		    uint32_t at, const uint8_t *data, uint32_t len,
		    uint8_t *param, uint8_t *scratch);
/* All data-out is in: finish the command (FUA, WRITE SAME, UNMAP). */
void tscsi_finish(const struct tscsi_lu *lu, struct tscsi_task *t,
		  uint8_t *param);
void tscsi_check(struct tscsi_task *t, uint8_t key, uint16_t asc);

#endif
