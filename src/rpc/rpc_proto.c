// SPDX-License-Identifier: MIT
/*
 * rpc_proto.c - RPC message headers, record marking and GETPORT.
 */
#include <errno.h>
#include "rpc_proto.h"

static void rpc_put_auth(struct xdr_out *x, const struct rpc_auth *a)
{
	uint32_t name_len, body;

	if (!a || a->flavor != RPC_AUTH_SYS) {
		xdr_put_u32(x, RPC_AUTH_NONE);
		xdr_put_u32(x, 0);
		return;
	}
	name_len = (uint32_t)strnlen(a->machine, RPC_AUTH_SYS_MAX_NAME);
	body = 4 + 4 + xdr_pad4(name_len) + 4 + 4 + 4 +
	       4 * (a->nr_gids > RPC_AUTH_SYS_MAX_GIDS ? RPC_AUTH_SYS_MAX_GIDS :
							 a->nr_gids);
	xdr_put_u32(x, RPC_AUTH_SYS);
	xdr_put_u32(x, body);
	xdr_put_u32(x, a->stamp);
	xdr_put_opaque(x, a->machine, name_len);
	xdr_put_u32(x, a->uid);
	xdr_put_u32(x, a->gid);
	xdr_put_u32(x, body / 4 - 5 - xdr_pad4(name_len) / 4);
	for (uint32_t i = 0; i < a->nr_gids && i < RPC_AUTH_SYS_MAX_GIDS; i++)
		xdr_put_u32(x, a->gids[i]);
}

void rpc_encode_call(struct xdr_out *x, uint32_t xid, uint32_t prog,
		     uint32_t vers, uint32_t proc, const struct rpc_auth *auth)
{
	xdr_put_u32(x, xid);
	xdr_put_u32(x, RPC_CALL);
	xdr_put_u32(x, RPC_VERSION);
	xdr_put_u32(x, prog);
	xdr_put_u32(x, vers);
	xdr_put_u32(x, proc);
	rpc_put_auth(x, auth);
	xdr_put_u32(x, RPC_AUTH_NONE); /* verifier */
	xdr_put_u32(x, 0);
}

int rpc_decode_reply(struct xdr_in *x, struct rpc_reply_hdr *r)
{
	uint32_t len;

	memset(r, 0, sizeof(*r));
	r->xid = xdr_get_u32(x);
	if (xdr_get_u32(x) != RPC_REPLY && !x->err)
		x->err = -EBADMSG;
	r->reply_stat = xdr_get_u32(x);
	if (x->err)
		return -EBADMSG;
	if (r->reply_stat == RPC_MSG_ACCEPTED) {
		xdr_get_u32(x); /* verifier flavor: we asked for none */
		xdr_get_opaque(x, RPC_AUTH_MAX_BODY, &len);
		r->stat = xdr_get_u32(x);
		if (x->err)
			return -EBADMSG;
		switch (r->stat) {
		case RPC_SUCCESS:
			return 0;
		case RPC_PROG_MISMATCH:
			r->low = xdr_get_u32(x);
			r->high = xdr_get_u32(x);
			return x->err ? -EBADMSG : -EPROTONOSUPPORT;
		case RPC_PROG_UNAVAIL:
			return -EPROTONOSUPPORT;
		case RPC_PROC_UNAVAIL:
			return -EOPNOTSUPP;
		case RPC_GARBAGE_ARGS:
			return -EINVAL;
		case RPC_SYSTEM_ERR:
			return -EIO;
		default:
			x->err = -EBADMSG;
			return -EBADMSG;
		}
	}
	if (r->reply_stat != RPC_MSG_DENIED) {
		x->err = -EBADMSG;
		return -EBADMSG;
	}
	r->stat = xdr_get_u32(x);
	if (r->stat == RPC_MISMATCH) {
		r->low = xdr_get_u32(x);
		r->high = xdr_get_u32(x);
		return x->err ? -EBADMSG : -EPROTONOSUPPORT;
	}
	if (r->stat == RPC_AUTH_ERROR) {
		r->auth_stat = xdr_get_u32(x);
		return x->err ? -EBADMSG : -EACCES;
	}
	x->err = -EBADMSG;
	return -EBADMSG;
}

static const char *const rpc_accept_names[] = {
	"SUCCESS",	"PROG_UNAVAIL", "PROG_MISMATCH",
	"PROC_UNAVAIL", "GARBAGE_ARGS", "SYSTEM_ERR",
};

static const char *const rpc_auth_names[] = {
	"AUTH_OK",	    "AUTH_BADCRED",	 "AUTH_REJECTEDCRED",
	"AUTH_BADVERF",	    "AUTH_REJECTEDVERF", "AUTH_TOOWEAK",
	"AUTH_INVALIDRESP", "AUTH_FAILED",
};

const char *rpc_reply_name(const struct rpc_reply_hdr *r)
{
	if (r->reply_stat == RPC_MSG_ACCEPTED)
		return r->stat < 6 ? rpc_accept_names[r->stat] :
				     "ACCEPT_UNKNOWN";
	if (r->reply_stat != RPC_MSG_DENIED)
		return "REPLY_UNKNOWN";
	if (r->stat == RPC_MISMATCH)
		return "RPC_MISMATCH";
	if (r->stat == RPC_AUTH_ERROR)
		return r->auth_stat < 8 ? rpc_auth_names[r->auth_stat] :
					  "AUTH_UNKNOWN";
	return "REJECT_UNKNOWN";
}

/* An AUTH_SYS body, checked field by field against its declared length. */
static int rpc_get_auth_sys(struct xdr_in *body, struct rpc_auth *a)
{
	a->stamp = xdr_get_u32(body);
	xdr_get_string(body, a->machine, RPC_AUTH_SYS_MAX_NAME);
	a->uid = xdr_get_u32(body);
	a->gid = xdr_get_u32(body);
	a->nr_gids = xdr_get_u32(body);
	if (a->nr_gids > RPC_AUTH_SYS_MAX_GIDS) {
		a->nr_gids = 0;
		return -EACCES;
	}
	for (uint32_t i = 0; i < a->nr_gids; i++)
		a->gids[i] = xdr_get_u32(body);
	if (body->err || xdr_in_left(body))
		return -EACCES;
	return 0;
}

int rpc_decode_call(struct xdr_in *x, struct rpc_call_hdr *c,
		    uint32_t *auth_stat)
{
	const uint8_t *body;
	uint32_t clen, vlen, vflavor, rpcvers;
	struct xdr_in bx;
	int err = 0;

	memset(c, 0, sizeof(*c));
	*auth_stat = RPC_AUTH_OK;
	c->xid = xdr_get_u32(x);
	if (xdr_get_u32(x) != RPC_CALL && !x->err)
		x->err = -EBADMSG;
	rpcvers = xdr_get_u32(x);
	c->prog = xdr_get_u32(x);
	c->vers = xdr_get_u32(x);
	c->proc = xdr_get_u32(x);
	c->cred.flavor = xdr_get_u32(x);
	body = xdr_get_opaque(x, RPC_AUTH_MAX_BODY, &clen);
	vflavor = xdr_get_u32(x);
	xdr_get_opaque(x, RPC_AUTH_MAX_BODY, &vlen);
	if (x->err)
		return -EBADMSG;
	if (rpcvers != RPC_VERSION)
		return -EPROTONOSUPPORT;
	if (c->cred.flavor == RPC_AUTH_SYS) {
		xdr_in_init(&bx, body, clen);
		err = rpc_get_auth_sys(&bx, &c->cred);
		if (err)
			*auth_stat = RPC_AUTH_BADCRED;
	} else if (c->cred.flavor != RPC_AUTH_NONE) {
		*auth_stat = RPC_AUTH_REJECTEDCRED;
		err = -EACCES;
	}
	if (!err && vflavor != RPC_AUTH_NONE) {
		*auth_stat = RPC_AUTH_BADVERF;
		err = -EACCES;
	}
	return err;
}

void rpc_encode_accepted(struct xdr_out *x, uint32_t xid, uint32_t accept_stat)
{
	xdr_put_u32(x, xid);
	xdr_put_u32(x, RPC_REPLY);
	xdr_put_u32(x, RPC_MSG_ACCEPTED);
	xdr_put_u32(x, RPC_AUTH_NONE);
	xdr_put_u32(x, 0);
	xdr_put_u32(x, accept_stat);
}

void rpc_encode_prog_mismatch(struct xdr_out *x, uint32_t xid, uint32_t low,
			      uint32_t high)
{
	rpc_encode_accepted(x, xid, RPC_PROG_MISMATCH);
	xdr_put_u32(x, low);
	xdr_put_u32(x, high);
}

void rpc_encode_denied_auth(struct xdr_out *x, uint32_t xid, uint32_t auth_stat)
{
	xdr_put_u32(x, xid);
	xdr_put_u32(x, RPC_REPLY);
	xdr_put_u32(x, RPC_MSG_DENIED);
	xdr_put_u32(x, RPC_AUTH_ERROR);
	xdr_put_u32(x, auth_stat);
}

void rpc_encode_denied_rpcvers(struct xdr_out *x, uint32_t xid)
{
	xdr_put_u32(x, xid);
	xdr_put_u32(x, RPC_REPLY);
	xdr_put_u32(x, RPC_MSG_DENIED);
	xdr_put_u32(x, RPC_MISMATCH);
	xdr_put_u32(x, RPC_VERSION);
	xdr_put_u32(x, RPC_VERSION);
}

void rpc_rec_mark(uint8_t out[RPC_REC_MARK_LEN], uint32_t len, bool last)
{
	uint32_t v = (len & RPC_REC_LEN_MASK) | (last ? RPC_REC_LAST : 0);

	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

void rpc_rec_init(struct rpc_rec_rx *rx, uint32_t max)
{
	memset(rx, 0, sizeof(*rx));
	rx->max = max;
}

int rpc_rec_next(struct rpc_rec_rx *rx, const uint8_t *in, size_t n,
		 struct rpc_rec_span *span)
{
	size_t used = 0;
	uint32_t v, flen;

	memset(span, 0, sizeof(*span));
	/* also when only header bytes were consumed: where the next data goes */
	span->off = rx->rec_len;
	while (!rx->in_frag) {
		if (used == n)
			return (int)used;
		rx->mark[rx->mark_have++] = in[used++];
		if (rx->mark_have < RPC_REC_MARK_LEN)
			continue;
		rx->mark_have = 0;
		v = (uint32_t)rx->mark[0] << 24 | (uint32_t)rx->mark[1] << 16 |
		    (uint32_t)rx->mark[2] << 8 | rx->mark[3];
		flen = v & RPC_REC_LEN_MASK;
		if (flen > rx->max - rx->rec_len)
			return -EMSGSIZE;
		span->rec_start = rx->rec_len == 0;
		rx->in_frag = true;
		rx->last = v & RPC_REC_LAST;
		rx->frag_left = flen;
	}
	span->off = rx->rec_len;
	span->len =
		(uint32_t)(n - used < rx->frag_left ? n - used : rx->frag_left);
	span->data = in + used;
	used += span->len;
	rx->frag_left -= span->len;
	rx->rec_len += span->len;
	if (!rx->frag_left) {
		rx->in_frag = false;
		if (rx->last) {
			span->rec_end = true;
			rx->rec_len = 0;
			rx->last = false;
		}
	}
	return (int)used;
}

void pmap_encode_getport(struct xdr_out *x, uint32_t prog, uint32_t vers,
			 uint32_t prot)
{
	xdr_put_u32(x, prog);
	xdr_put_u32(x, vers);
	xdr_put_u32(x, prot);
	xdr_put_u32(x, 0);
}

int pmap_decode_getport(struct xdr_in *x)
{
	uint32_t port = xdr_get_u32(x);

	if (x->err || port > 65535)
		return -EBADMSG;
	return port ? (int)port : -EPROTONOSUPPORT;
}
