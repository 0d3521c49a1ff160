/* SPDX-License-Identifier: MIT */
/*
 * rpc_proto.h - ONC RPC v2 (RFC 5531) messages, record marking over TCP,
 * and portmapper v2 GETPORT (RFC 1833), as pure codecs.
 *
 * The client side encodes a CALL header with AUTH_NONE or AUTH_SYS
 * credentials and decodes a REPLY header, turning every rejection into a
 * negative errno and a name for the log; the server side decodes a CALL
 * header (checking the credential's shape) and encodes accepted or denied
 * replies.  struct rpc_rec_rx splits a TCP byte stream into records,
 * fragment by fragment, refusing any record larger than its bound before
 * a byte of it is stored, and never copying: it tells the caller where
 * each payload span belongs so a READ's data can land in its pages.
 *
 * Memory rules: nothing here allocates or touches a socket; every state
 * lives in caller-provided structs, and the parsers are fuzzed alone.
 */
#ifndef LB_RPC_RPC_PROTO_H
#define LB_RPC_RPC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "xdr.h"

#define RPC_VERSION 2
#define RPC_CALL 0
#define RPC_REPLY 1

#define RPC_MSG_ACCEPTED 0
#define RPC_MSG_DENIED 1

#define RPC_SUCCESS 0
#define RPC_PROG_UNAVAIL 1
#define RPC_PROG_MISMATCH 2
#define RPC_PROC_UNAVAIL 3
#define RPC_GARBAGE_ARGS 4
#define RPC_SYSTEM_ERR 5

#define RPC_MISMATCH 0
#define RPC_AUTH_ERROR 1

#define RPC_AUTH_OK 0
#define RPC_AUTH_BADCRED 1
#define RPC_AUTH_REJECTEDCRED 2
#define RPC_AUTH_BADVERF 3
#define RPC_AUTH_REJECTEDVERF 4
#define RPC_AUTH_TOOWEAK 5
#define RPC_AUTH_INVALIDRESP 6
#define RPC_AUTH_FAILED 7

#define RPC_AUTH_NONE 0
#define RPC_AUTH_SYS 1

#define RPC_AUTH_MAX_BODY 400
#define RPC_AUTH_SYS_MAX_NAME 255
#define RPC_AUTH_SYS_MAX_GIDS 16

/* Record marking. */
#define RPC_REC_LAST (1u << 31)
#define RPC_REC_LEN_MASK 0x7fffffffu
#define RPC_REC_MARK_LEN 4

/* Portmapper. */
#define PMAP_PROG 100000
#define PMAP_VERS 2
#define PMAP_PORT 111
#define PMAPPROC_NULL 0
#define PMAPPROC_GETPORT 3
#define PMAP_IPPROTO_TCP 6
#define PMAP_IPPROTO_UDP 17

/* The credential a client sends with every call. */
struct rpc_auth {
	uint32_t flavor; /* RPC_AUTH_NONE or RPC_AUTH_SYS */
	uint32_t stamp;
	char machine[RPC_AUTH_SYS_MAX_NAME + 1];
	uint32_t uid, gid;
	uint32_t nr_gids;
	uint32_t gids[RPC_AUTH_SYS_MAX_GIDS];
};

struct rpc_call_hdr {
	uint32_t xid, prog, vers, proc;
	struct rpc_auth cred;
};

/* What a reply said before its results. */
struct rpc_reply_hdr {
	uint32_t xid;
	uint32_t reply_stat; /* RPC_MSG_ACCEPTED or RPC_MSG_DENIED */
	uint32_t stat; /* accept_stat, or reject_stat when denied */
	uint32_t auth_stat; /* when denied with RPC_AUTH_ERROR */
	uint32_t low, high; /* the versions, on a mismatch */
};

/* Encode a CALL header; the procedure's arguments follow. */
void rpc_encode_call(struct xdr_out *x, uint32_t xid, uint32_t prog,
		     uint32_t vers, uint32_t proc, const struct rpc_auth *auth);

/*
 * Decode a REPLY header and leave @x at the results.  Returns 0 for an
 * accepted, successful reply; -EBADMSG when it is not a well-formed reply
 * (x->err says so as well); otherwise the rejection as an errno:
 * -EPROTONOSUPPORT (program unavailable, version or RPC mismatch),
 * -EOPNOTSUPP (procedure unavailable), -EINVAL (garbage arguments),
 * -EIO (system error), -EACCES (auth error).  @r is filled as far as read.
 */
int rpc_decode_reply(struct xdr_in *x, struct rpc_reply_hdr *r);
/* The name of what @r says, for the log ("PROG_MISMATCH", "AUTH_TOOWEAK"). */
const char *rpc_reply_name(const struct rpc_reply_hdr *r);

/*
 * Server side: decode a CALL header and leave @x at the arguments.
 * Returns 0, -EBADMSG (not a CALL, truncated: drop it), -EPROTONOSUPPORT
 * (rpcvers is not 2: answer RPC_MISMATCH) or -EACCES (a credential this
 * code does not accept or a malformed AUTH_SYS body: answer AUTH_ERROR
 * with @auth_stat).  @c->xid is valid whenever -EBADMSG is not returned.
 */
int rpc_decode_call(struct xdr_in *x, struct rpc_call_hdr *c,
		    uint32_t *auth_stat);
/* An accepted reply header with @accept_stat; results follow on SUCCESS. */
void rpc_encode_accepted(struct xdr_out *x, uint32_t xid, uint32_t accept_stat);
/* PROG_MISMATCH: the supported versions follow the header. */
void rpc_encode_prog_mismatch(struct xdr_out *x, uint32_t xid, uint32_t low,
			      uint32_t high);
void rpc_encode_denied_auth(struct xdr_out *x, uint32_t xid,
			    uint32_t auth_stat);
void rpc_encode_denied_rpcvers(struct xdr_out *x, uint32_t xid);

/* The 4-byte record mark for a single-fragment record of @len bytes. */
void rpc_rec_mark(uint8_t out[RPC_REC_MARK_LEN], uint32_t len, bool last);

/*
 * A record reassembler for one TCP stream.  Feed it bytes with
 * rpc_rec_next(); it consumes fragment headers itself and hands back each
 * run of payload with its offset in the record.  A record longer than
 * @max is refused with -EMSGSIZE as soon as a fragment header says so:
 * the stream cannot be resynchronised and the caller drops the connection.
 */
struct rpc_rec_rx {
	uint32_t max; /* the largest record accepted */
	uint32_t rec_len; /* payload bytes of the current record so far */
	uint32_t frag_left; /* bytes left in the current fragment */
	uint8_t mark[RPC_REC_MARK_LEN];
	uint8_t mark_have; /* bytes of the next fragment header held */
	bool in_frag, last;
};

struct rpc_rec_span {
	const uint8_t *data; /* NULL when the call returned only a header */
	uint32_t len;
	uint32_t off; /* of data within the record (of the next, if none) */
	bool rec_start; /* data (possibly empty) begins a new record */
	bool rec_end; /* the record is complete after data */
};

void rpc_rec_init(struct rpc_rec_rx *rx, uint32_t max);
/*
 * Consume at most @n bytes of @in.  Returns the number consumed (>= 0),
 * with @span describing the payload among them, or -EMSGSIZE.  Call again
 * with the rest until it returns 0.
 */
int rpc_rec_next(struct rpc_rec_rx *rx, const uint8_t *in, size_t n,
		 struct rpc_rec_span *span);

/* Portmapper v2 GETPORT. */
void pmap_encode_getport(struct xdr_out *x, uint32_t prog, uint32_t vers,
			 uint32_t prot);
/* The port, or -EBADMSG / -EPROTONOSUPPORT (not registered, port 0). */
int pmap_decode_getport(struct xdr_in *x);

#endif
