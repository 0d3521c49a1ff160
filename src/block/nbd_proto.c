// SPDX-License-Identifier: MIT
/*
 * nbd_proto.c - encoding and decoding of NBD messages.
 */
#include <errno.h>
#include <string.h>
#include "nbd_proto.h"

void nbd_encode_request(uint8_t out[NBD_REQUEST_LEN],
			const struct nbd_request *rq)
{
	nbd_put32(out, NBD_REQUEST_MAGIC);
	nbd_put16(out + 4, rq->flags);
	nbd_put16(out + 6, rq->type);
	nbd_put64(out + 8, rq->cookie);
	nbd_put64(out + 16, rq->offset);
	nbd_put32(out + 24, rq->len);
}

int nbd_decode_request(const uint8_t in[NBD_REQUEST_LEN],
		       struct nbd_request *rq)
{
	if (nbd_get32(in) != NBD_REQUEST_MAGIC)
		return -EPROTO;
	rq->flags = nbd_get16(in + 4);
	rq->type = nbd_get16(in + 6);
	rq->cookie = nbd_get64(in + 8);
	rq->offset = nbd_get64(in + 16);
	rq->len = nbd_get32(in + 24);
	return 0;
}

void nbd_encode_reply(uint8_t out[NBD_REPLY_LEN], uint32_t error,
		      uint64_t cookie)
{
	nbd_put32(out, NBD_SIMPLE_REPLY_MAGIC);
	nbd_put32(out + 4, error);
	nbd_put64(out + 8, cookie);
}

void nbd_decode_reply(const uint8_t in[NBD_REPLY_LEN], struct nbd_reply *r)
{
	r->magic = nbd_get32(in);
	r->error = nbd_get32(in + 4);
	r->cookie = nbd_get64(in + 8);
}

void nbd_encode_opt(uint8_t out[NBD_OPT_HDR_LEN], uint32_t opt, uint32_t len)
{
	nbd_put64(out, NBD_OPTS_MAGIC);
	nbd_put32(out + 8, opt);
	nbd_put32(out + 12, len);
}

void nbd_encode_opt_reply(uint8_t out[NBD_OPT_REPLY_HDR_LEN], uint32_t opt,
			  uint32_t type, uint32_t len)
{
	nbd_put64(out, NBD_REP_MAGIC);
	nbd_put32(out + 8, opt);
	nbd_put32(out + 12, type);
	nbd_put32(out + 16, len);
}

void nbd_decode_opt_reply(const uint8_t in[NBD_OPT_REPLY_HDR_LEN],
			  struct nbd_opt_reply *r)
{
	r->magic = nbd_get64(in);
	r->opt = nbd_get32(in + 8);
	r->type = nbd_get32(in + 12);
	r->len = nbd_get32(in + 16);
}

int nbd_encode_go(uint8_t *out, uint32_t cap, const char *name,
		  const uint16_t *info, unsigned nr_info)
{
	size_t nlen = strlen(name);
	size_t len = 4 + nlen + 2 + 2 * (size_t)nr_info;

	if (len > cap || nr_info > UINT16_MAX)
		return -ENOSPC;
	nbd_put32(out, (uint32_t)nlen);
	memcpy(out + 4, name, nlen);
	nbd_put16(out + 4 + nlen, (uint16_t)nr_info);
	for (unsigned i = 0; i < nr_info; i++)
		nbd_put16(out + 6 + nlen + 2 * i, info[i]);
	return (int)len;
}

int nbd_errno_from_wire(uint32_t err)
{
	switch (err) {
	case 0:
		return 0;
	case NBD_EPERM:
		return -EPERM;
	case NBD_EIO:
		return -EIO;
	case NBD_ENOMEM:
		return -ENOMEM;
	case NBD_EINVAL:
		return -EINVAL;
	case NBD_ENOSPC:
		return -ENOSPC;
	case NBD_EOVERFLOW:
		return -EOVERFLOW;
	case NBD_ENOTSUP:
		return -EOPNOTSUPP;
	case NBD_ESHUTDOWN:
		return -ESHUTDOWN;
	default:
		/* the spec: an unknown value means EINVAL, not a disconnect */
		return -EINVAL;
	}
}

uint32_t nbd_errno_to_wire(int err)
{
	switch (err) {
	case 0:
		return 0;
	case -EPERM:
	case -EROFS:
		return NBD_EPERM;
	case -ENOMEM:
		return NBD_ENOMEM;
	case -EINVAL:
		return NBD_EINVAL;
	case -ENOSPC:
		return NBD_ENOSPC;
	case -EOVERFLOW:
		return NBD_EOVERFLOW;
	case -EOPNOTSUPP:
		return NBD_ENOTSUP;
	case -ESHUTDOWN:
		return NBD_ESHUTDOWN;
	default:
		return NBD_EIO;
	}
}

const char *nbd_opt_name(uint32_t opt)
{
	switch (opt) {
	case NBD_OPT_EXPORT_NAME:
		return "EXPORT_NAME";
	case NBD_OPT_ABORT:
		return "ABORT";
	case NBD_OPT_LIST:
		return "LIST";
	case NBD_OPT_STARTTLS:
		return "STARTTLS";
	case NBD_OPT_INFO:
		return "INFO";
	case NBD_OPT_GO:
		return "GO";
	case NBD_OPT_STRUCTURED_REPLY:
		return "STRUCTURED_REPLY";
	default:
		return "unknown option";
	}
}

const char *nbd_rep_name(uint32_t type)
{
	switch (type) {
	case NBD_REP_ACK:
		return "ACK";
	case NBD_REP_SERVER:
		return "SERVER";
	case NBD_REP_INFO:
		return "INFO";
	case NBD_REP_ERR_UNSUP:
		return "ERR_UNSUP";
	case NBD_REP_ERR_POLICY:
		return "ERR_POLICY";
	case NBD_REP_ERR_INVALID:
		return "ERR_INVALID";
	case NBD_REP_ERR_PLATFORM:
		return "ERR_PLATFORM";
	case NBD_REP_ERR_TLS_REQD:
		return "ERR_TLS_REQD";
	case NBD_REP_ERR_UNKNOWN:
		return "ERR_UNKNOWN";
	case NBD_REP_ERR_SHUTDOWN:
		return "ERR_SHUTDOWN";
	case NBD_REP_ERR_BLOCK_SIZE_REQD:
		return "ERR_BLOCK_SIZE_REQD";
	case NBD_REP_ERR_TOO_BIG:
		return "ERR_TOO_BIG";
	default:
		return type & NBD_REP_FLAG_ERROR ? "unknown error" :
						   "unknown reply";
	}
}

const char *nbd_cmd_name(uint16_t type)
{
	switch (type) {
	case NBD_CMD_READ:
		return "READ";
	case NBD_CMD_WRITE:
		return "WRITE";
	case NBD_CMD_DISC:
		return "DISC";
	case NBD_CMD_FLUSH:
		return "FLUSH";
	case NBD_CMD_TRIM:
		return "TRIM";
	case NBD_CMD_CACHE:
		return "CACHE";
	case NBD_CMD_WRITE_ZEROES:
		return "WRITE_ZEROES";
	default:
		return "unknown command";
	}
}
