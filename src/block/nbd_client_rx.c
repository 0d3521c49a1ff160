// SPDX-License-Identifier: MIT
/*
 * nbd_client_rx.c - what the NBD client receives: the fixed newstyle
 * handshake and simple replies.
 *
 * Both parsers are state machines fed by whatever TCP has, so a message
 * split anywhere (even a 16-byte reply header over three segments) parses
 * the same.  Every check that fails is a protocol error: logged with the
 * offending value, counted, and the connection is dropped (the requests
 * stay and are sent again on the next one).  An error *value* in a reply
 * is not a protocol error: it completes that request.
 */
#include <errno.h>
#include <string.h>
#include "core/log.h"
#include "nbd_client_impl.h"

/*
 * Read into c->hbuf until it holds @need bytes.  1: complete; 0: wait for
 * more; -1: the connection is gone (already reported).
 */
static int hs_fill(struct nbd_client *c, uint32_t need)
{
	LB_ASSERT(need <= sizeof(c->hbuf));
	while (c->hs_have < need) {
		ssize_t n = tcp_recv(c->tp, c->hbuf + c->hs_have,
				     need - c->hs_have);

		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			nbd_conn_broken(
				c, n ? (int)-n : ECONNRESET,
				"connection closed during the handshake");
			return -1;
		}
		c->hs_have += (uint32_t)n;
	}
	return 1;
}

static void hs_send_opt(struct nbd_client *c, uint32_t opt, const void *data,
			uint32_t len)
{
	uint8_t hdr[NBD_OPT_HDR_LEN];

	nbd_encode_opt(hdr, opt, len);
	c->opt_sent = opt;
	if (nbd_send_bytes(c, hdr, sizeof(hdr)) ||
	    (len && nbd_send_bytes(c, data, len)))
		nbd_conn_broken(c, ENOBUFS, "cannot send option %s",
				nbd_opt_name(opt));
}

static void hs_send_go(struct nbd_client *c)
{
	static const uint16_t info[] = { NBD_INFO_BLOCK_SIZE };
	uint8_t data[4 + NBD_EXPORT_NAME_MAX + 2 + 2];
	int len = nbd_encode_go(data, sizeof(data), c->export_name, info,
				ARRAY_SIZE(info));

	LB_ASSERT(len > 0);
	c->have_export = false;
	c->bs_min = c->bs_pref = c->bs_max = 0;
	hs_send_opt(c, NBD_OPT_GO, data, (uint32_t)len);
	c->hs = NBD_HS_OPT_REPLY;
	c->hs_have = 0;
}

static void hs_send_export_name(struct nbd_client *c)
{
	hs_send_opt(c, NBD_OPT_EXPORT_NAME, c->export_name,
		    (uint32_t)strlen(c->export_name));
	c->hs = NBD_HS_EXPORT_NAME;
	c->hs_have = 0;
}

void nbd_hs_start(struct nbd_client *c)
{
	c->hs = NBD_HS_GREETING;
	c->hs_have = 0;
	c->bs_retried = false;
	c->have_export = false;
}

/* A refusal ends the attempt politely: ABORT, then the connection goes. */
static void hs_refused(struct nbd_client *c, int err, const char *msg,
		       const char *why)
{
	uint8_t hdr[NBD_OPT_HDR_LEN];

	counter_inc(&c->st.handshake_failures);
	nbd_encode_opt(hdr, NBD_OPT_ABORT, 0);
	nbd_send_bytes(c, hdr, sizeof(hdr));
	nbd_conn_broken(c, err, "%s to %s (\"%s\"): %s",
			nbd_rep_name(c->rep.type), nbd_opt_name(c->rep.opt),
			msg, why);
}

static int hs_greeting(struct nbd_client *c)
{
	uint64_t magic, opts;
	uint16_t flags;
	uint8_t cflags[4];
	int r = hs_fill(c, NBD_GREETING_LEN);

	if (r <= 0)
		return r;
	magic = nbd_get64(c->hbuf);
	opts = nbd_get64(c->hbuf + 8);
	flags = nbd_get16(c->hbuf + 16);
	if (magic != NBD_INIT_MAGIC) {
		nbd_proto_error(c, "bad greeting magic %#llx",
				(unsigned long long)magic);
		return -1;
	}
	if (opts == NBD_OLDSTYLE_MAGIC) {
		nbd_proto_error(c, "oldstyle server: not supported");
		return -1;
	}
	if (opts != NBD_OPTS_MAGIC) {
		nbd_proto_error(c, "bad greeting option magic %#llx",
				(unsigned long long)opts);
		return -1;
	}
	c->no_zeroes = flags & NBD_FLAG_NO_ZEROES;
	nbd_put32(cflags,
		  (flags & NBD_FLAG_FIXED_NEWSTYLE ? NBD_FLAG_C_FIXED_NEWSTYLE :
						     0) |
			  (c->no_zeroes ? NBD_FLAG_C_NO_ZEROES : 0));
	if (nbd_send_bytes(c, cflags, sizeof(cflags))) {
		nbd_conn_broken(c, ENOBUFS, "cannot send client flags");
		return -1;
	}
	/* Without fixed newstyle only EXPORT_NAME is safe to send. */
	if (flags & NBD_FLAG_FIXED_NEWSTYLE)
		hs_send_go(c);
	else
		hs_send_export_name(c);
	return c->broken ? -1 : 1;
}

static int hs_info(struct nbd_client *c, uint32_t len)
{
	uint16_t type;

	if (len < 2) {
		nbd_proto_error(c, "NBD_REP_INFO of %u bytes", len);
		return -1;
	}
	type = nbd_get16(c->hbuf);
	switch (type) {
	case NBD_INFO_EXPORT:
		if (len != 12) {
			nbd_proto_error(c, "NBD_INFO_EXPORT of %u bytes", len);
			return -1;
		}
		c->size = nbd_get64(c->hbuf + 2);
		c->tflags = nbd_get16(c->hbuf + 10);
		c->have_export = true;
		return 1;
	case NBD_INFO_BLOCK_SIZE:
		if (len != 14) {
			nbd_proto_error(c, "NBD_INFO_BLOCK_SIZE of %u bytes",
					len);
			return -1;
		}
		c->bs_min = nbd_get32(c->hbuf + 2);
		c->bs_pref = nbd_get32(c->hbuf + 6);
		c->bs_max = nbd_get32(c->hbuf + 10);
		/* the spec's constraints: powers of two, max a multiple of min */
		if (!c->bs_min || c->bs_min & (c->bs_min - 1) ||
		    c->bs_min > 65536 || !c->bs_pref ||
		    c->bs_pref & (c->bs_pref - 1) || c->bs_pref < c->bs_min ||
		    c->bs_max < c->bs_min ||
		    (c->bs_max != UINT32_MAX && c->bs_max % c->bs_min)) {
			nbd_proto_error(
				c, "invalid block sizes min %u pref %u max %u",
				c->bs_min, c->bs_pref, c->bs_max);
			return -1;
		}
		return 1;
	default:
		return 1; /* NAME, DESCRIPTION and the unknown: not needed */
	}
}

/* The whole payload of an option reply is in (its head in c->hbuf). */
static int hs_opt_reply(struct nbd_client *c)
{
	uint32_t len = c->rep.len, type = c->rep.type;
	char msg[NBD_HBUF + 1];

	c->hs = NBD_HS_OPT_REPLY;
	c->hs_have = 0;
	if (type == NBD_REP_INFO)
		return hs_info(c, len);
	if (type == NBD_REP_ACK) {
		if (!c->have_export) {
			nbd_proto_error(
				c, "GO acknowledged without NBD_INFO_EXPORT");
			return -1;
		}
		nbd_handshake_done(c);
		return c->broken ? -1 : 1;
	}
	if (!(type & NBD_REP_FLAG_ERROR))
		return 1; /* a reply type we did not ask for: skipped */

	/* An error: its payload, if any, is a message for a human. */
	len = lb_min(len, (uint32_t)NBD_HBUF);
	memcpy(msg, c->hbuf, len);
	msg[len] = 0;
	for (uint32_t i = 0; i < len; i++)
		if (msg[i] < 0x20 || msg[i] > 0x7e)
			msg[i] = '?';
	lb_warn(&c->host->log, "nbd: %s: server answered %s with %s: \"%s\"",
		c->bd.name, nbd_opt_name(c->rep.opt), nbd_rep_name(type), msg);
	switch (type) {
	case NBD_REP_ERR_UNSUP:
		/* a server without GO: the old way still works */
		hs_send_export_name(c);
		return c->broken ? -1 : 1;
	case NBD_REP_ERR_BLOCK_SIZE_REQD:
		if (!c->bs_retried) {
			c->bs_retried = true;
			hs_send_go(c);
			return c->broken ? -1 : 1;
		}
		hs_refused(c, EPROTO, msg, "asked twice");
		return -1;
	case NBD_REP_ERR_SHUTDOWN:
		hs_refused(c, ESHUTDOWN, msg, "server shutting down");
		return -1;
	case NBD_REP_ERR_UNKNOWN:
		hs_refused(c, ENOENT, msg, "no such export");
		return -1;
	case NBD_REP_ERR_POLICY:
	case NBD_REP_ERR_TLS_REQD:
		hs_refused(c, EACCES, msg, "refused");
		return -1;
	default:
		hs_refused(c, EPROTO, msg, "refused");
		return -1;
	}
}

static int hs_opt_header(struct nbd_client *c)
{
	int r = hs_fill(c, NBD_OPT_REPLY_HDR_LEN);

	if (r <= 0)
		return r;
	nbd_decode_opt_reply(c->hbuf, &c->rep);
	if (c->rep.magic != NBD_REP_MAGIC) {
		nbd_proto_error(c, "bad option reply magic %#llx",
				(unsigned long long)c->rep.magic);
		return -1;
	}
	if (c->rep.opt != c->opt_sent) {
		nbd_proto_error(c, "reply for option %u, but %s was sent",
				c->rep.opt, nbd_opt_name(c->opt_sent));
		return -1;
	}
	if (c->rep.len > NBD_OPT_REPLY_MAX) {
		nbd_proto_error(c, "option reply %s of %u bytes (limit %u)",
				nbd_rep_name(c->rep.type), c->rep.len,
				NBD_OPT_REPLY_MAX);
		return -1;
	}
	c->hs = NBD_HS_OPT_PAYLOAD;
	c->hs_have = 0;
	return 1;
}

/* The payload: its first NBD_HBUF bytes kept, the rest read and dropped. */
static int hs_opt_payload(struct nbd_client *c)
{
	uint8_t sink[256];

	while (c->hs_have < c->rep.len) {
		uint32_t left = c->rep.len - c->hs_have;
		uint8_t *dst = c->hs_have < NBD_HBUF ? c->hbuf + c->hs_have :
						       sink;
		uint32_t room = c->hs_have < NBD_HBUF ? NBD_HBUF - c->hs_have :
							sizeof(sink);
		ssize_t n = tcp_recv(c->tp, dst, lb_min(left, room));

		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			nbd_conn_broken(c, n ? (int)-n : ECONNRESET,
					"connection closed in an option reply");
			return -1;
		}
		c->hs_have += (uint32_t)n;
	}
	return hs_opt_reply(c);
}

static int hs_export_name(struct nbd_client *c)
{
	uint32_t need = NBD_EXPORT_NAME_REPLY_LEN +
			(c->no_zeroes ? 0 : NBD_EXPORT_NAME_ZEROES);
	int r = hs_fill(c, need);

	if (r <= 0) {
		if (r < 0)
			c->err = ENOENT; /* the only refusal EXPORT_NAME has */
		return r;
	}
	c->size = nbd_get64(c->hbuf);
	c->tflags = nbd_get16(c->hbuf + 8);
	c->have_export = true;
	c->bs_min = c->bs_pref = c->bs_max = 0;
	nbd_handshake_done(c);
	return c->broken ? -1 : 1;
}

static int hs_input(struct nbd_client *c)
{
	switch (c->hs) {
	case NBD_HS_GREETING:
		return hs_greeting(c);
	case NBD_HS_OPT_REPLY:
		return hs_opt_header(c);
	case NBD_HS_OPT_PAYLOAD:
		return hs_opt_payload(c);
	case NBD_HS_EXPORT_NAME:
		return hs_export_name(c);
	}
	return -1;
}

/* ---- transmission: simple replies ------------------------------------- */

static int reply_header(struct nbd_client *c)
{
	struct nbd_reply r;
	struct blk_request *rq;
	struct nbd_rq *p;
	int err;

	while (c->rxh_have < NBD_REPLY_LEN) {
		ssize_t n = tcp_recv(c->tp, c->rxh + c->rxh_have,
				     NBD_REPLY_LEN - c->rxh_have);

		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			nbd_conn_broken(
				c, n ? (int)-n : ECONNRESET,
				c->rxh_have ?
					"connection closed in a reply header" :
					"connection closed by the server");
			return -1;
		}
		c->rxh_have += (uint32_t)n;
	}
	c->rxh_have = 0;
	nbd_decode_reply(c->rxh, &r);
	if (r.magic == NBD_STRUCTURED_REPLY_MAGIC) {
		nbd_proto_error(c, "structured reply, never negotiated");
		return -1;
	}
	if (r.magic != NBD_SIMPLE_REPLY_MAGIC) {
		nbd_proto_error(c, "bad reply magic %#x", r.magic);
		return -1;
	}
	rq = blk_rq_from_tag(&c->bd, (unsigned)(r.cookie & 0xffff));
	p = rq ? blk_rq_pdu(rq) : NULL;
	/*
	 * Only a request wholly handed to TCP can be answered; a cookie of a
	 * finished request (a second reply) or of an older send of it (a
	 * previous connection) no longer matches.
	 */
	if (!p || p->cookie != r.cookie || p->state != NBD_RQ_SENT) {
		counter_inc(&c->st.bad_cookies);
		nbd_proto_error(c, "reply for cookie %#llx, not outstanding",
				(unsigned long long)r.cookie);
		return -1;
	}
	counter_inc(&c->st.replies);
	if (r.error) {
		err = nbd_errno_from_wire(r.error);
		counter_inc(&c->st.server_errors);
		lb_warn(&c->host->log,
			"nbd: %s: %s of %u at %llu: server error %u (%s)",
			c->bd.name, bio_op_name(rq->bio->op), rq->bio->size,
			(unsigned long long)rq->bio->offset, r.error,
			strerror(-err));
		if (err == -ESHUTDOWN) {
			/*
			 * The server is going away and did not do it: keep the
			 * request for the next connection, send no more, and
			 * disconnect softly once the others are answered.
			 */
			p->state = NBD_RQ_QUEUED;
			c->state = NBD_C_DRAINING;
			nbd_send_disc(c);
			return c->broken ? -1 : 1;
		}
		nbd_complete(c, rq, err);
		return 1;
	}
	if (rq->bio->op == BIO_READ) {
		c->rx_rq = rq;
		c->rx_off = 0;
		return 1;
	}
	nbd_complete(c, rq, 0);
	if (c->state == NBD_C_DRAINING)
		nbd_send_disc(c);
	return c->broken ? -1 : 1;
}

/* READ data goes straight into the bio's pages. */
static int reply_data(struct nbd_client *c)
{
	struct blk_request *rq = c->rx_rq;
	struct bio *bio = rq->bio;

	while (c->rx_off < bio->size) {
		uint32_t off = c->rx_off;
		const struct bio_vec *v = bio->vec;
		ssize_t n;

		while (off >= v->len) {
			off -= v->len;
			v++;
		}
		n = tcp_recv(c->tp,
			     (uint8_t *)page_address(c->mm, v->page) + v->off +
				     off,
			     v->len - off);
		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			nbd_conn_broken(c, n ? (int)-n : ECONNRESET,
					"connection closed in READ data");
			return -1;
		}
		c->rx_off += (uint32_t)n;
	}
	c->rx_rq = NULL;
	nbd_complete(c, rq, 0);
	if (c->state == NBD_C_DRAINING)
		nbd_send_disc(c);
	return c->broken ? -1 : 1;
}

void nbd_rx(struct nbd_client *c)
{
	int r = 1;

	while (r > 0 && c->tp && !c->broken) {
		switch (c->state) {
		case NBD_C_HANDSHAKE:
			r = hs_input(c);
			break;
		case NBD_C_READY:
		case NBD_C_DRAINING:
			r = c->rx_rq ? reply_data(c) : reply_header(c);
			break;
		default:
			return;
		}
	}
}
