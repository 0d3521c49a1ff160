/* SPDX-License-Identifier: MIT */
/*
 * nbd_proto.h - the NBD wire format (fixed newstyle handshake, simple
 * replies), shared by the client and the server.
 *
 * Only constants and pure helpers live here: encoding into and decoding
 * from caller-provided byte arrays, big-endian as on the wire, and the
 * mapping between NBD error values and errno.  Nothing allocates, nothing
 * touches a socket, so the parsers built on it can be fuzzed alone.
 */
#ifndef LB_BLOCK_NBD_PROTO_H
#define LB_BLOCK_NBD_PROTO_H

#include <stdbool.h>
#include <stdint.h>

/* Handshake magics. */
#define NBD_INIT_MAGIC 0x4e42444d41474943ull /* "NBDMAGIC" */
#define NBD_OPTS_MAGIC 0x49484156454f5054ull /* "IHAVEOPT" */
#define NBD_OLDSTYLE_MAGIC 0x00420281861253ull
#define NBD_REP_MAGIC 0x0003e889045565a9ull

/* Server handshake flags and client flags. */
#define NBD_FLAG_FIXED_NEWSTYLE (1u << 0)
#define NBD_FLAG_NO_ZEROES (1u << 1)
#define NBD_FLAG_C_FIXED_NEWSTYLE (1u << 0)
#define NBD_FLAG_C_NO_ZEROES (1u << 1)

/* Options. */
#define NBD_OPT_EXPORT_NAME 1
#define NBD_OPT_ABORT 2
#define NBD_OPT_LIST 3
#define NBD_OPT_STARTTLS 5
#define NBD_OPT_INFO 6
#define NBD_OPT_GO 7
#define NBD_OPT_STRUCTURED_REPLY 8

/* Option reply types; errors have bit 31 set. */
#define NBD_REP_ACK 1
#define NBD_REP_SERVER 2
#define NBD_REP_INFO 3
#define NBD_REP_FLAG_ERROR (1u << 31)
#define NBD_REP_ERR_UNSUP (NBD_REP_FLAG_ERROR | 1)
#define NBD_REP_ERR_POLICY (NBD_REP_FLAG_ERROR | 2)
#define NBD_REP_ERR_INVALID (NBD_REP_FLAG_ERROR | 3)
#define NBD_REP_ERR_PLATFORM (NBD_REP_FLAG_ERROR | 4)
#define NBD_REP_ERR_TLS_REQD (NBD_REP_FLAG_ERROR | 5)
#define NBD_REP_ERR_UNKNOWN (NBD_REP_FLAG_ERROR | 6)
#define NBD_REP_ERR_SHUTDOWN (NBD_REP_FLAG_ERROR | 7)
#define NBD_REP_ERR_BLOCK_SIZE_REQD (NBD_REP_FLAG_ERROR | 8)
#define NBD_REP_ERR_TOO_BIG (NBD_REP_FLAG_ERROR | 9)

/* Information types inside NBD_REP_INFO. */
#define NBD_INFO_EXPORT 0
#define NBD_INFO_NAME 1
#define NBD_INFO_DESCRIPTION 2
#define NBD_INFO_BLOCK_SIZE 3

/* Transmission flags. */
#define NBD_FLAG_HAS_FLAGS (1u << 0)
#define NBD_FLAG_READ_ONLY (1u << 1)
#define NBD_FLAG_SEND_FLUSH (1u << 2)
#define NBD_FLAG_SEND_FUA (1u << 3)
#define NBD_FLAG_ROTATIONAL (1u << 4)
#define NBD_FLAG_SEND_TRIM (1u << 5)
#define NBD_FLAG_SEND_WRITE_ZEROES (1u << 6)
#define NBD_FLAG_CAN_MULTI_CONN (1u << 8)

/* Transmission. */
#define NBD_REQUEST_MAGIC 0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698u
#define NBD_STRUCTURED_REPLY_MAGIC 0x668e33efu

#define NBD_CMD_READ 0
#define NBD_CMD_WRITE 1
#define NBD_CMD_DISC 2
#define NBD_CMD_FLUSH 3
#define NBD_CMD_TRIM 4
#define NBD_CMD_CACHE 5
#define NBD_CMD_WRITE_ZEROES 6

#define NBD_CMD_FLAG_FUA (1u << 0)
#define NBD_CMD_FLAG_NO_HOLE (1u << 1)

/* Error values of a simple reply. */
#define NBD_EPERM 1
#define NBD_EIO 5
#define NBD_ENOMEM 12
#define NBD_EINVAL 22
#define NBD_ENOSPC 28
#define NBD_EOVERFLOW 75
#define NBD_ENOTSUP 95
#define NBD_ESHUTDOWN 108

/* Sizes of the fixed parts. */
#define NBD_GREETING_LEN 18 /* NBDMAGIC, IHAVEOPT, u16 flags */
#define NBD_OPT_HDR_LEN 16 /* IHAVEOPT, u32 option, u32 length */
#define NBD_OPT_REPLY_HDR_LEN 20 /* magic, u32 option, u32 type, u32 len */
#define NBD_REQUEST_LEN 28
#define NBD_REPLY_LEN 16
#define NBD_EXPORT_NAME_REPLY_LEN 10 /* u64 size, u16 flags */
#define NBD_EXPORT_NAME_ZEROES 124

/* The defaults a client is bound by when no block size is advertised. */
#define NBD_DEFAULT_MAX_PAYLOAD (32u << 20)

static inline void nbd_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void nbd_put32(uint8_t *p, uint32_t v)
{
	nbd_put16(p, (uint16_t)(v >> 16));
	nbd_put16(p + 2, (uint16_t)v);
}

static inline void nbd_put64(uint8_t *p, uint64_t v)
{
	nbd_put32(p, (uint32_t)(v >> 32));
	nbd_put32(p + 4, (uint32_t)v);
}

static inline uint16_t nbd_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t nbd_get32(const uint8_t *p)
{
	return (uint32_t)nbd_get16(p) << 16 | nbd_get16(p + 2);
}

static inline uint64_t nbd_get64(const uint8_t *p)
{
	return (uint64_t)nbd_get32(p) << 32 | nbd_get32(p + 4);
}

struct nbd_request {
	uint16_t flags, type;
	uint64_t cookie, offset;
	uint32_t len;
};

struct nbd_reply {
	uint32_t magic, error;
	uint64_t cookie;
};

struct nbd_opt_reply {
	uint64_t magic;
	uint32_t opt, type, len;
};

void nbd_encode_request(uint8_t out[NBD_REQUEST_LEN],
			const struct nbd_request *rq);
/* 0, or -EPROTO when the magic is wrong. */
int nbd_decode_request(const uint8_t in[NBD_REQUEST_LEN],
		       struct nbd_request *rq);
void nbd_encode_reply(uint8_t out[NBD_REPLY_LEN], uint32_t error,
		      uint64_t cookie);
void nbd_decode_reply(const uint8_t in[NBD_REPLY_LEN], struct nbd_reply *r);

/* An option request header; the @len bytes of data follow it. */
void nbd_encode_opt(uint8_t out[NBD_OPT_HDR_LEN], uint32_t opt, uint32_t len);
void nbd_encode_opt_reply(uint8_t out[NBD_OPT_REPLY_HDR_LEN], uint32_t opt,
			  uint32_t type, uint32_t len);
void nbd_decode_opt_reply(const uint8_t in[NBD_OPT_REPLY_HDR_LEN],
			  struct nbd_opt_reply *r);

/*
 * NBD_OPT_GO / NBD_OPT_INFO data for @name asking for @nr_info types:
 * writes it to @out (room @cap) and returns its length, or -ENOSPC.
 */
int nbd_encode_go(uint8_t *out, uint32_t cap, const char *name,
		  const uint16_t *info, unsigned nr_info);

/* A reply's error value as a negative errno; unknown nonzero: -EINVAL. */
int nbd_errno_from_wire(uint32_t err);
/* A negative errno as the value to send; anything unlisted: NBD_EIO. */
uint32_t nbd_errno_to_wire(int err);

const char *nbd_opt_name(uint32_t opt);
const char *nbd_rep_name(uint32_t type);
const char *nbd_cmd_name(uint16_t type);

#endif
