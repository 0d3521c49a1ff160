/* SPDX-License-Identifier: MIT */
/*
 * iscsi_proto.h - the iSCSI wire format (RFC 7143) and the bits of SCSI
 * (SPC-4/SBC-3) that ride on it, shared by the target and the initiator.
 *
 * Only constants and pure functions live here, as in nbd_proto.h: the
 * 48-byte Basic Header Segment decoded into and encoded from a plain
 * struct, the key=value text codec and the RFC's negotiation rules
 * (numbers take the minimum or maximum, InitialR2T is OR, ImmediateData is
 * AND, digests take the first common value), CRC32C for header and data
 * digests, CDB builders and sense decoding.  Nothing allocates, nothing
 * touches a socket, so every parser here can be fuzzed alone; all
 * lengths are checked against the caller's buffer.
 */
#ifndef LB_BLOCK_ISCSI_PROTO_H
#define LB_BLOCK_ISCSI_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nbd_proto.h" /* nbd_get/put16/32/64: big-endian helpers */

#define ISCSI_DEFAULT_PORT 3260
#define ISCSI_BHS_LEN 48
#define ISCSI_DIGEST_LEN 4
#define ISCSI_RSVD_TAG 0xffffffffu
#define ISCSI_NAME_MAX 223 /* RFC 7143 section 4.2.7.1 */

/* Opcodes (byte 0, bits 5-0); ISCSI_OP_IMMEDIATE is the I bit. */
#define ISCSI_OP_IMMEDIATE 0x40
#define ISCSI_OP_NOP_OUT 0x00
#define ISCSI_OP_SCSI_CMD 0x01
#define ISCSI_OP_TMF_REQ 0x02
#define ISCSI_OP_LOGIN_REQ 0x03
#define ISCSI_OP_TEXT_REQ 0x04
#define ISCSI_OP_DATA_OUT 0x05
#define ISCSI_OP_LOGOUT_REQ 0x06
#define ISCSI_OP_SNACK 0x10
#define ISCSI_OP_NOP_IN 0x20
#define ISCSI_OP_SCSI_RSP 0x21
#define ISCSI_OP_TMF_RSP 0x22
#define ISCSI_OP_LOGIN_RSP 0x23
#define ISCSI_OP_TEXT_RSP 0x24
#define ISCSI_OP_DATA_IN 0x25
#define ISCSI_OP_LOGOUT_RSP 0x26
#define ISCSI_OP_R2T 0x31
#define ISCSI_OP_ASYNC 0x32
#define ISCSI_OP_REJECT 0x3f

/* Byte 1 flags. */
#define ISCSI_FLAG_FINAL 0x80
#define ISCSI_CMD_READ 0x40
#define ISCSI_CMD_WRITE 0x20
#define ISCSI_CMD_ATTR_SIMPLE 0x01
#define ISCSI_DATA_ACK 0x40
#define ISCSI_FLAG_BIDI_OVER 0x10
#define ISCSI_FLAG_BIDI_UNDER 0x08
#define ISCSI_FLAG_OVER 0x04
#define ISCSI_FLAG_UNDER 0x02
#define ISCSI_DATA_STATUS 0x01
#define ISCSI_LOGIN_TRANSIT 0x80
#define ISCSI_LOGIN_CONTINUE 0x40
#define ISCSI_TEXT_CONTINUE 0x40

/* Login stages (CSG, NSG). */
#define ISCSI_STAGE_SECURITY 0
#define ISCSI_STAGE_OPERATIONAL 1
#define ISCSI_STAGE_FULL 3

/* Login status classes and details. */
#define ISCSI_LOGIN_SUCCESS 0x00
#define ISCSI_LOGIN_INIT_ERR 0x02
#define ISCSI_LOGIN_TARGET_ERR 0x03
#define ISCSI_LOGIN_DETAIL_AUTH 0x01
#define ISCSI_LOGIN_DETAIL_NOT_FOUND 0x03
#define ISCSI_LOGIN_DETAIL_VERSION 0x05
#define ISCSI_LOGIN_DETAIL_MISSING 0x07
#define ISCSI_LOGIN_DETAIL_INIT_ERROR 0x00
#define ISCSI_LOGIN_DETAIL_NO_RESOURCES 0x02

/* Reject reasons. */
#define ISCSI_REJECT_PROTOCOL 0x04
#define ISCSI_REJECT_CMD_NOT_SUPPORTED 0x05
#define ISCSI_REJECT_INVALID_FIELD 0x09

/* SCSI status. */
#define SCSI_GOOD 0x00
#define SCSI_CHECK_CONDITION 0x02
#define SCSI_BUSY 0x08
#define SCSI_TASK_SET_FULL 0x28

/* Sense keys. */
#define SCSI_SENSE_NO_SENSE 0x0
#define SCSI_SENSE_RECOVERED 0x1
#define SCSI_SENSE_NOT_READY 0x2
#define SCSI_SENSE_MEDIUM_ERROR 0x3
#define SCSI_SENSE_HARDWARE_ERROR 0x4
#define SCSI_SENSE_ILLEGAL_REQUEST 0x5
#define SCSI_SENSE_UNIT_ATTENTION 0x6
#define SCSI_SENSE_DATA_PROTECT 0x7
#define SCSI_SENSE_ABORTED_COMMAND 0xb
#define SCSI_SENSE_MISCOMPARE 0xe

/* Additional sense codes (ASC << 8 | ASCQ). */
#define SCSI_ASC_INVALID_OPCODE 0x2000
#define SCSI_ASC_LBA_OUT_OF_RANGE 0x2100
#define SCSI_ASC_INVALID_FIELD_IN_CDB 0x2400
#define SCSI_ASC_LUN_NOT_SUPPORTED 0x2500
#define SCSI_ASC_INVALID_FIELD_IN_PARAM 0x2600
#define SCSI_ASC_PARAM_LIST_LENGTH 0x1a00
#define SCSI_ASC_WRITE_PROTECTED 0x2700
#define SCSI_ASC_POWER_ON_RESET 0x2900
#define SCSI_ASC_MISCOMPARE_VERIFY 0x1d00
#define SCSI_ASC_UNRECOVERED_READ 0x1100
#define SCSI_ASC_WRITE_ERROR 0x0c00

/* SCSI opcodes the target serves and the initiator sends. */
#define SCSI_TEST_UNIT_READY 0x00
#define SCSI_INQUIRY 0x12
#define SCSI_MODE_SENSE_6 0x1a
#define SCSI_READ_CAPACITY_10 0x25
#define SCSI_READ_10 0x28
#define SCSI_WRITE_10 0x2a
#define SCSI_VERIFY_10 0x2f
#define SCSI_SYNC_CACHE_10 0x35
#define SCSI_WRITE_SAME_10 0x41
#define SCSI_UNMAP 0x42
#define SCSI_MODE_SENSE_10 0x5a
#define SCSI_READ_16 0x88
#define SCSI_WRITE_16 0x8a
#define SCSI_VERIFY_16 0x8f
#define SCSI_SYNC_CACHE_16 0x91
#define SCSI_WRITE_SAME_16 0x93
#define SCSI_SERVICE_ACTION_IN_16 0x9e
#define SCSI_SAI_READ_CAPACITY_16 0x10
#define SCSI_REPORT_LUNS 0xa0
#define SCSI_READ_12 0xa8
#define SCSI_WRITE_12 0xaa
#define SCSI_VERIFY_12 0xaf

/* CDB flag bits. */
#define SCSI_CDB_FUA 0x08
#define SCSI_CDB_DPO 0x10

/*
 * A decoded Basic Header Segment.  The opcode-specific words at offsets
 * 20..44 are kept raw in w[] (w[0] is offset 20, w[6] offset 44); the
 * named helpers below say which word holds what, so a new PDU type needs
 * no new struct.
 */
struct iscsi_bhs {
	uint8_t op; /* without the I bit */
	bool immediate;
	uint8_t flags; /* byte 1 */
	uint8_t b2, b3;
	uint8_t ahs_words; /* TotalAHSLength */
	uint32_t dlen; /* DataSegmentLength */
	uint64_t lun; /* bytes 8..15 (or ISID+TSIH in login) */
	uint32_t itt;
	uint32_t w[7];
	uint8_t cdb[16]; /* SCSI Command only: bytes 32..47 */
};

/* Word indexes into iscsi_bhs.w[] by field name. */
#define ISCSI_W_TTT 0 /* 20: TTT, EDTL (SCSI Command), CID (login) */
#define ISCSI_W_EDTL 0
#define ISCSI_W_CMDSN 1 /* 24: CmdSN (requests) / StatSN (responses) */
#define ISCSI_W_STATSN 1
#define ISCSI_W_EXPSTATSN 2 /* 28: ExpStatSN / ExpCmdSN */
#define ISCSI_W_EXPCMDSN 2
#define ISCSI_W_MAXCMDSN 3 /* 32 */
#define ISCSI_W_DATASN 4 /* 36: DataSN, R2TSN, ExpDataSN */
#define ISCSI_W_OFFSET 5 /* 40: Buffer Offset */
#define ISCSI_W_RESIDUAL 6 /* 44: Residual, Desired Data Transfer Length */
#define ISCSI_W_DDTL 6

void iscsi_bhs_encode(uint8_t out[ISCSI_BHS_LEN], const struct iscsi_bhs *h);
/*
 * 0, or -EPROTO when a reserved bit that must be zero is set or the opcode
 * is not one @from_target side may send (a target sends 0x20..0x3f, an
 * initiator 0x00..0x1f).  Lengths are checked by the caller against what
 * it negotiated.
 */
int iscsi_bhs_decode(const uint8_t in[ISCSI_BHS_LEN], bool from_target,
		     struct iscsi_bhs *h);

/* The data segment's length on the wire, padded to 4 bytes. */
static inline uint32_t iscsi_pad4(uint32_t len)
{
	return (len + 3) & ~3u;
}

/* Single-level LUN (SAM-2 peripheral / flat addressing) to wire and back. */
uint64_t iscsi_lun_encode(unsigned lun);
/* the LUN number, or -1 for an addressing method we do not understand */
int iscsi_lun_decode(uint64_t wire);

/* RFC 1982 serial arithmetic on 32 bits: a < b. */
static inline bool iscsi_sn_lt(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(b - a) < 0x80000000u;
}

static inline bool iscsi_sn_le(uint32_t a, uint32_t b)
{
	return a == b || iscsi_sn_lt(a, b);
}

/* CRC32C (Castagnoli), as RFC 7143 digests use it: crc32c(0, p, n). */
uint32_t iscsi_crc32c(uint32_t crc, const void *p, size_t len);
/* A digest travels little-endian-ish: the CRC's bytes as the RFC orders. */
void iscsi_digest_put(uint8_t out[4], uint32_t crc);
uint32_t iscsi_digest_get(const uint8_t in[4]);

/* ---- text: key=value\0 ---------------------------------------------------- */

struct iscsi_kv {
	const char *key, *val; /* not NUL-terminated in general */
	uint32_t klen, vlen;
};

/*
 * The next pair at *@pos in @buf[0..@len): 1 and *@pos advanced, 0 at the
 * end, -EPROTO for a pair without '=', an empty key, or a pair that runs
 * off the buffer without its NUL.
 */
int iscsi_text_next(const uint8_t *buf, uint32_t len, uint32_t *pos,
		    struct iscsi_kv *kv);
/* Append "key=val\0" to @buf (room @cap, *@len used): 0 or -ENOSPC. */
int iscsi_text_add(uint8_t *buf, uint32_t cap, uint32_t *len, const char *key,
		   const char *val);
int iscsi_text_add_num(uint8_t *buf, uint32_t cap, uint32_t *len,
		       const char *key, uint64_t val);
bool iscsi_kv_is(const struct iscsi_kv *kv, const char *key);
/* @kv's value as a number (decimal or 0x hex) within [lo, hi]: 0 or -EINVAL */
int iscsi_kv_num(const struct iscsi_kv *kv, uint64_t lo, uint64_t hi,
		 uint64_t *out);

/* ---- operational parameters and their negotiation ------------------------ */

struct iscsi_params {
	bool header_digest, data_digest; /* CRC32C if true */
	uint32_t max_recv_dsl; /* what we declared we accept */
	uint32_t max_xmit_dsl; /* what the peer declared: caps what we send */
	uint32_t first_burst, max_burst;
	bool initial_r2t, immediate_data;
	bool data_pdu_in_order, data_seq_in_order;
	uint32_t max_outstanding_r2t, erl, max_connections;
	uint32_t time2wait, time2retain;
};

/* RFC 7143 section 13 defaults (max_recv_dsl/max_xmit_dsl 8192). */
void iscsi_params_default(struct iscsi_params *p);

enum iscsi_neg_result {
	ISCSI_NEG_OK, /* applied; a reply (if asked for) written */
	ISCSI_NEG_UNKNOWN, /* not an operational key we know */
	ISCSI_NEG_BAD, /* a known key with an illegal value */
};

/*
 * Responder side (the target): the peer offered @kv; fold it into @p by
 * the key's rule against our own value in @p, and write the answer
 * "key=result" into @reply (room @cap, *@rlen used) unless the key is
 * declarative.  An unknown key is answered NotUnderstood by the caller.
 */
enum iscsi_neg_result iscsi_neg_respond(struct iscsi_params *p,
					const struct iscsi_kv *kv,
					uint8_t *reply, uint32_t cap,
					uint32_t *rlen);
/*
 * Originator side (the initiator): @kv is the responder's answer to what
 * we offered in @p; check it is a legal result of the rule (a minimum not
 * above our offer, AND not Yes when we said No, ...) and store it.
 */
enum iscsi_neg_result iscsi_neg_accept(struct iscsi_params *p,
				       const struct iscsi_kv *kv);
/* Our offers in @p as text (every negotiated key): 0 or -ENOSPC. */
int iscsi_neg_offer(const struct iscsi_params *p, uint8_t *buf, uint32_t cap,
		    uint32_t *len);

/* ---- SCSI ----------------------------------------------------------------- */

/*
 * READ/WRITE CDB for @nblocks at @lba: the 10-byte form when it fits and
 * @allow10, the 16-byte form otherwise.  Returns the CDB length, or
 * -ERANGE when neither fits (10 only and out of range).
 */
int scsi_cdb_rw(uint8_t cdb[16], bool write, uint64_t lba, uint32_t nblocks,
		bool fua, bool allow16);
void scsi_cdb_test_unit_ready(uint8_t cdb[16]);
void scsi_cdb_inquiry(uint8_t cdb[16], bool evpd, uint8_t page, uint16_t alloc);
void scsi_cdb_read_capacity10(uint8_t cdb[16]);
void scsi_cdb_read_capacity16(uint8_t cdb[16], uint32_t alloc);
void scsi_cdb_sync_cache(uint8_t cdb[16], bool use16);
void scsi_cdb_report_luns(uint8_t cdb[16], uint32_t alloc);
/* MODE SENSE(6) of every page, no block descriptors: for DPOFUA. */
void scsi_cdb_mode_sense6(uint8_t cdb[16], uint8_t alloc);
/*
 * UNMAP of @nblocks at @lba as one block descriptor: the CDB and its
 * SCSI_UNMAP_PARAM_LEN-byte parameter list.
 */
#define SCSI_UNMAP_PARAM_LEN 24
void scsi_cdb_unmap(uint8_t cdb[16], uint8_t param[SCSI_UNMAP_PARAM_LEN],
		    uint64_t lba, uint32_t nblocks);
/* WRITE SAME(16) of one block over @nblocks at @lba, UNMAP bit if @unmap. */
void scsi_cdb_write_same16(uint8_t cdb[16], uint64_t lba, uint32_t nblocks,
			   bool unmap);

struct scsi_sense {
	uint8_t key;
	uint8_t asc, ascq;
};

/* Fixed (0x70/0x71) or descriptor (0x72/0x73) sense: 0 or -EPROTO. */
int scsi_sense_decode(const uint8_t *s, uint32_t len, struct scsi_sense *out);
/* Fixed-format sense for the target: 18 bytes written, returns 18. */
uint32_t scsi_sense_build(uint8_t out[18], uint8_t key, uint16_t asc_ascq);
const char *scsi_sense_key_name(uint8_t key);
/* What a block device reports for a CHECK CONDITION with this sense. */
int scsi_sense_errno(const struct scsi_sense *s);

const char *iscsi_op_name(uint8_t op);

#endif
