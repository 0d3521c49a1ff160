// SPDX-License-Identifier: MIT
/*
 * nbd_server.c - an NBD server on our TCP, serving a struct blk_store.
 *
 * One request at a time per connection, executed synchronously on the
 * store.  A connection holds a small buffer for replies (out[]) and one
 * page through which payloads stream: a WRITE's data goes to the store a
 * page at a time as it arrives, a READ's data is read and sent a page at
 * a time as the send buffer drains.  While a reply is not wholly handed
 * to TCP no further request is read, so a client that does not read its
 * replies stalls only itself (TCP's window does the rest): memory per
 * connection is bounded whatever the client does.
 *
 * A malformed request (bad magic, unknown client flags, a payload past
 * our limit) ends the connection at once.  Connections are torn down
 * from a task, never inside a socket callback: TCP may still be using
 * the socket when the callback returns.
 */
#include <errno.h>
#include <string.h>
#include "core/log.h"
#include "nbd.h"
#include "nbd_proto.h"
#include "net/tcp.h"

#define NBD_SRV_DEFAULT_CLIENTS 8
/* Advertised block sizes: any 512-aligned request up to 32 MiB. */
#define NBD_SRV_MIN_BLOCK 512
#define NBD_SRV_PREF_BLOCK 4096
#define NBD_SRV_MAX_PAYLOAD (32u << 20)
#define NBD_SRV_OUT 512

// clang-format off
#define NBD_SERVER_STATS(X) \
	X(connections) \
	X(refused) \
	X(requests) \
	X(reads) \
	X(writes) \
	X(flushes) \
	X(trims) \
	X(write_zeroes) \
	X(errors) \
	X(proto_errors) \
	X(soft_disconnects) \
	X(bytes_read) \
	X(bytes_written) \
	X(stalls)
// clang-format on

#define NBD_STAT_FIELD(name) struct counter name;
struct nbd_server_stats {
	NBD_SERVER_STATS(NBD_STAT_FIELD)
};
#undef NBD_STAT_FIELD

static const char *const srv_stat_names[] = {
#define NBD_STAT_NAME(name) #name,
	NBD_SERVER_STATS(NBD_STAT_NAME)
#undef NBD_STAT_NAME
};

struct nbd_server {
	struct net *net;
	struct host *host;
	struct mm *mm;
	struct tcp_sock *listener;
	char export_name[NBD_EXPORT_NAME_MAX + 1];
	struct blk_store *store;
	bool read_only;
	uint16_t port;
	unsigned max_clients, nr_conns;
	struct list_head conns, reap;
	uint64_t stall_until;
	struct timer stall_timer;
	struct task reap_task, accept_task;
	struct nbd_server_stats st;
};

enum srv_state {
	SRV_FLAGS, /* the client's 4 flag bytes */
	SRV_OPT_HDR,
	SRV_OPT_DATA,
	SRV_REQ_HDR,
	SRV_WRITE_DATA,
	SRV_READ_DATA, /* sending a READ's data */
};

struct nbd_sconn {
	struct list_head node;
	struct nbd_server *srv;
	struct tcp_sock *tp;
	enum srv_state state;
	bool no_zeroes, closing, dead, abort;
	uint8_t hdr[NBD_REQUEST_LEN];
	uint32_t have; /* bytes of hdr */
	uint32_t opt, opt_len, opt_have;
	struct nbd_request req;
	uint32_t done; /* payload bytes dealt with */
	uint32_t buf_have; /* write data waiting in buf */
	int err; /* a WRITE's error, replied after its data */
	struct page *page;
	uint8_t *buf; /* one page */
	uint8_t out[NBD_SRV_OUT];
	uint32_t out_len, out_sent;
};

_Static_assert(sizeof(struct nbd_sconn) <= 2048 &&
		       sizeof(struct nbd_server) <= 2048,
	       "connection and server state come from kmalloc");

static void srv_run(struct nbd_sconn *c);

/* ---- connection lifetime ------------------------------------------------- */

static void srv_kill(struct nbd_sconn *c, bool abort)
{
	struct nbd_server *srv = c->srv;

	if (c->dead)
		return;
	c->dead = true;
	c->abort = abort;
	c->tp->sk.ops = NULL;
	list_del(&c->node);
	list_add_tail(&c->node, &srv->reap);
	task_queue(srv->host->loop, &srv->reap_task);
}

static void srv_free(struct nbd_sconn *c)
{
	struct nbd_server *srv = c->srv;

	list_del(&c->node);
	c->tp->sk.ops = NULL;
	c->tp->sk.user = NULL;
	if (c->abort)
		tcp_abort(c->tp);
	else
		tcp_close(c->tp);
	mm_page_put(srv->mm, c->page);
	mm_kfree(srv->mm, c);
	srv->nr_conns--;
}

static void srv_reap(struct task *t)
{
	struct nbd_server *srv = container_of(t, struct nbd_server, reap_task);

	while (!list_empty(&srv->reap))
		srv_free(list_first_entry(&srv->reap, struct nbd_sconn, node));
}

static void srv_malformed(struct nbd_sconn *c, const char *what)
{
	counter_inc(&c->srv->st.proto_errors);
	lb_warn(&c->srv->host->log,
		"nbd-server: %u: %s: disconnecting the client", c->srv->port,
		what);
	srv_kill(c, true);
}

/* ---- output --------------------------------------------------------------- */

static void out_add(struct nbd_sconn *c, const void *p, uint32_t len)
{
	LB_ASSERT(c->out_len + len <= sizeof(c->out));
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
}

static void out_opt_reply(struct nbd_sconn *c, uint32_t type, const void *data,
			  uint32_t len)
{
	uint8_t h[NBD_OPT_REPLY_HDR_LEN];

	nbd_encode_opt_reply(h, c->opt, type, len);
	out_add(c, h, sizeof(h));
	if (len)
		out_add(c, data, len);
}

static void out_reply(struct nbd_sconn *c, int err)
{
	uint8_t h[NBD_REPLY_LEN];

	if (err)
		counter_inc(&c->srv->st.errors);
	nbd_encode_reply(h, nbd_errno_to_wire(err), c->req.cookie);
	out_add(c, h, sizeof(h));
}

/* true when everything queued is with TCP */
static bool out_flush(struct nbd_sconn *c)
{
	while (c->out_sent < c->out_len) {
		ssize_t n = tcp_send(c->tp, c->out + c->out_sent,
				     c->out_len - c->out_sent);

		if (n == -EAGAIN || n == -ENOMEM)
			return false;
		if (n < 0) {
			srv_kill(c, true);
			return false;
		}
		c->out_sent += (uint32_t)n;
	}
	c->out_len = c->out_sent = 0;
	return true;
}

/* ---- handshake ------------------------------------------------------------ */

static uint16_t srv_tflags(const struct nbd_server *srv)
{
	return NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
	       NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES |
	       (srv->read_only ? NBD_FLAG_READ_ONLY : 0);
}

static bool srv_name_ok(const struct nbd_server *srv, const uint8_t *name,
			uint32_t len)
{
	return !len || (len == strlen(srv->export_name) &&
			!memcmp(name, srv->export_name, len));
}

static void srv_info_go(struct nbd_sconn *c)
{
	struct nbd_server *srv = c->srv;
	uint8_t *d = c->buf, info[14];
	uint32_t nlen, len = c->opt_len;
	static const char unknown[] = "no such export";

	if (len < 6 || len > PAGE_SIZE) {
		out_opt_reply(c, NBD_REP_ERR_INVALID, NULL, 0);
		return;
	}
	nlen = nbd_get32(d);
	if (nlen > len - 6 ||
	    4 + nlen + 2 + 2 * nbd_get16(d + 4 + nlen) != len) {
		out_opt_reply(c, NBD_REP_ERR_INVALID, NULL, 0);
		return;
	}
	if (!srv_name_ok(srv, d + 4, nlen)) {
		out_opt_reply(c, NBD_REP_ERR_UNKNOWN, unknown,
			      sizeof(unknown) - 1);
		return;
	}
	/* the block sizes are sent whether asked for or not (the spec allows) */
	nbd_put16(info, NBD_INFO_EXPORT);
	nbd_put64(info + 2, srv->store->size);
	nbd_put16(info + 10, srv_tflags(srv));
	out_opt_reply(c, NBD_REP_INFO, info, 12);
	nbd_put16(info, NBD_INFO_BLOCK_SIZE);
	nbd_put32(info + 2, NBD_SRV_MIN_BLOCK);
	nbd_put32(info + 6, NBD_SRV_PREF_BLOCK);
	nbd_put32(info + 10, NBD_SRV_MAX_PAYLOAD);
	out_opt_reply(c, NBD_REP_INFO, info, 14);
	out_opt_reply(c, NBD_REP_ACK, NULL, 0);
	if (c->opt == NBD_OPT_GO)
		c->state = SRV_REQ_HDR;
}

static void srv_option(struct nbd_sconn *c)
{
	struct nbd_server *srv = c->srv;
	uint8_t d[NBD_EXPORT_NAME_REPLY_LEN + NBD_EXPORT_NAME_ZEROES] = { 0 };
	uint32_t nlen = (uint32_t)strlen(srv->export_name);

	c->state = SRV_OPT_HDR;
	c->have = 0;
	switch (c->opt) {
	case NBD_OPT_EXPORT_NAME:
		/* no way to say no but closing */
		if (c->opt_len > PAGE_SIZE ||
		    !srv_name_ok(srv, c->buf, c->opt_len)) {
			c->closing = true;
			return;
		}
		nbd_put64(d, srv->store->size);
		nbd_put16(d + 8, srv_tflags(srv));
		out_add(c, d,
			c->no_zeroes ? NBD_EXPORT_NAME_REPLY_LEN : sizeof(d));
		c->state = SRV_REQ_HDR;
		return;
	case NBD_OPT_ABORT:
		out_opt_reply(c, NBD_REP_ACK, NULL, 0);
		c->closing = true;
		return;
	case NBD_OPT_LIST:
		if (c->opt_len) {
			out_opt_reply(c, NBD_REP_ERR_INVALID, NULL, 0);
			return;
		}
		nbd_put32(d, nlen);
		out_opt_reply(c, NBD_REP_SERVER, NULL, 0);
		/* the header said 0: rewrite its length, then the name */
		nbd_put32(c->out + c->out_len - 4, 4 + nlen);
		out_add(c, d, 4);
		out_add(c, srv->export_name, nlen);
		out_opt_reply(c, NBD_REP_ACK, NULL, 0);
		return;
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		srv_info_go(c);
		return;
	default:
		/* STRUCTURED_REPLY among them: clients fall back to simple */
		out_opt_reply(c,
			      c->opt_len > PAGE_SIZE ? NBD_REP_ERR_TOO_BIG :
						       NBD_REP_ERR_UNSUP,
			      NULL, 0);
		return;
	}
}

/* Read into c->hdr until @need bytes: 1 complete, 0 more needed, -1 gone. */
static int srv_fill(struct nbd_sconn *c, uint32_t need)
{
	while (c->have < need) {
		ssize_t n = tcp_recv(c->tp, c->hdr + c->have, need - c->have);

		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			srv_kill(c, n < 0);
			return -1;
		}
		c->have += (uint32_t)n;
	}
	return 1;
}

static int srv_handshake(struct nbd_sconn *c)
{
	uint32_t flags;
	int r;

	switch (c->state) {
	case SRV_FLAGS:
		r = srv_fill(c, 4);
		if (r <= 0)
			return r;
		flags = nbd_get32(c->hdr);
		if (flags &
		    ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) {
			srv_malformed(c, "unknown client flags");
			return -1;
		}
		c->no_zeroes = flags & NBD_FLAG_C_NO_ZEROES;
		c->state = SRV_OPT_HDR;
		c->have = 0;
		return 1;
	case SRV_OPT_HDR:
		r = srv_fill(c, NBD_OPT_HDR_LEN);
		if (r <= 0)
			return r;
		if (nbd_get64(c->hdr) != NBD_OPTS_MAGIC) {
			srv_malformed(c, "bad option magic");
			return -1;
		}
		c->opt = nbd_get32(c->hdr + 8);
		c->opt_len = nbd_get32(c->hdr + 12);
		c->opt_have = 0;
		c->state = SRV_OPT_DATA;
		return 1;
	default: /* SRV_OPT_DATA: kept up to a page, the rest dropped */
		while (c->opt_have < c->opt_len) {
			uint32_t left = c->opt_len - c->opt_have;
			uint32_t at = c->opt_have < PAGE_SIZE ? c->opt_have : 0;
			ssize_t n = tcp_recv(c->tp, c->buf + at,
					     lb_min(left,
						    (uint32_t)PAGE_SIZE - at));

			if (n == -EAGAIN)
				return 0;
			if (n <= 0) {
				srv_kill(c, n < 0);
				return -1;
			}
			c->opt_have += (uint32_t)n;
		}
		srv_option(c);
		return 1;
	}
}

/* ---- transmission --------------------------------------------------------- */

static void srv_write_done(struct nbd_sconn *c)
{
	struct nbd_server *srv = c->srv;

	if (!c->err && (c->req.flags & NBD_CMD_FLAG_FUA))
		c->err = store_flush(srv->store);
	if (!c->err) {
		counter_inc(&srv->st.writes);
		counter_add(&srv->st.bytes_written, c->req.len);
	}
	out_reply(c, c->err);
	c->state = SRV_REQ_HDR;
}

static int srv_write_data(struct nbd_sconn *c)
{
	struct nbd_server *srv = c->srv;

	while (c->done < c->req.len) {
		uint32_t want = lb_min((uint32_t)PAGE_SIZE - c->buf_have,
				       c->req.len - c->done - c->buf_have);
		ssize_t n = tcp_recv(c->tp, c->buf + c->buf_have, want);

		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			srv_kill(c, n < 0);
			return -1;
		}
		c->buf_have += (uint32_t)n;
		if (c->buf_have == PAGE_SIZE ||
		    c->done + c->buf_have == c->req.len) {
			if (!c->err)
				c->err = store_write(srv->store,
						     c->req.offset + c->done,
						     c->buf, c->buf_have);
			c->done += c->buf_have;
			c->buf_have = 0;
		}
	}
	srv_write_done(c);
	return 1;
}

/* 1: all data with TCP; 0: the send buffer is full */
static int srv_read_data(struct nbd_sconn *c)
{
	struct nbd_server *srv = c->srv;

	while (c->done < c->req.len) {
		size_t space = tcp_send_space(c->tp);
		uint32_t n =
			(uint32_t)lb_min((size_t)lb_min((uint32_t)PAGE_SIZE,
							c->req.len - c->done),
					 space);
		ssize_t sent;

		if (!n)
			return 0;
		/* after a zero-error header, failing is a hard disconnect */
		if (store_read(srv->store, c->req.offset + c->done, c->buf,
			       n)) {
			srv_malformed(c, "store read failed after the reply");
			return -1;
		}
		sent = tcp_send(c->tp, c->buf, n);
		if (sent == -EAGAIN || sent == -ENOMEM)
			return 0;
		if (sent < 0) {
			srv_kill(c, true);
			return -1;
		}
		c->done += (uint32_t)sent;
	}
	counter_inc(&srv->st.reads);
	counter_add(&srv->st.bytes_read, c->req.len);
	c->state = SRV_REQ_HDR;
	return 1;
}

static bool srv_range(const struct nbd_server *srv, const struct nbd_request *r)
{
	return store_range_ok(srv->store, r->offset, r->len);
}

static int srv_request(struct nbd_sconn *c)
{
	struct nbd_server *srv = c->srv;
	struct nbd_request *r = &c->req;
	unsigned allowed = NBD_CMD_FLAG_FUA;
	int err, rr = srv_fill(c, NBD_REQUEST_LEN);

	if (rr <= 0)
		return rr;
	c->have = 0;
	if (nbd_decode_request(c->hdr, r)) {
		srv_malformed(c, "bad request magic");
		return -1;
	}
	counter_inc(&srv->st.requests);
	if (r->type == NBD_CMD_WRITE_ZEROES)
		allowed |= NBD_CMD_FLAG_NO_HOLE;
	err = r->flags & ~allowed ? -EINVAL : 0;
	c->done = c->buf_have = 0;
	switch (r->type) {
	case NBD_CMD_READ:
		if (!err &&
		    (r->len > NBD_SRV_MAX_PAYLOAD || !srv_range(srv, r)))
			err = -EINVAL;
		out_reply(c, err);
		if (!err && r->len)
			c->state = SRV_READ_DATA;
		return 1;
	case NBD_CMD_WRITE:
		if (r->len > NBD_SRV_MAX_PAYLOAD) {
			srv_malformed(c, "WRITE payload over the limit");
			return -1;
		}
		if (!err && srv->read_only)
			err = -EPERM;
		if (!err && !srv_range(srv, r))
			err = -ENOSPC;
		/* the payload is read (and dropped on error) all the same */
		c->err = err;
		c->state = SRV_WRITE_DATA;
		if (!r->len)
			srv_write_done(c);
		return 1;
	case NBD_CMD_FLUSH:
		if (!err)
			err = store_flush(srv->store);
		counter_inc(&srv->st.flushes);
		out_reply(c, err);
		return 1;
	case NBD_CMD_TRIM:
	case NBD_CMD_WRITE_ZEROES:
		if (!err && srv->read_only)
			err = -EPERM;
		if (!err && !srv_range(srv, r))
			err = r->type == NBD_CMD_TRIM ? -EINVAL : -ENOSPC;
		if (!err)
			err = r->type == NBD_CMD_TRIM ?
				      store_trim(srv->store, r->offset,
						 r->len) :
				      store_write_zeroes(srv->store, r->offset,
							 r->len);
		if (!err && (r->flags & NBD_CMD_FLAG_FUA))
			err = store_flush(srv->store);
		counter_inc(r->type == NBD_CMD_TRIM ? &srv->st.trims :
						      &srv->st.write_zeroes);
		out_reply(c, err);
		return 1;
	case NBD_CMD_DISC:
		counter_inc(&srv->st.soft_disconnects);
		c->closing = true;
		return 1;
	default:
		out_reply(c, -EINVAL);
		return 1;
	}
}

static bool srv_stalled(struct nbd_server *srv)
{
	if (host_now(srv->host) >= srv->stall_until)
		return false;
	if (!timer_armed(&srv->stall_timer))
		timer_arm(srv->host->loop, &srv->stall_timer, srv->stall_until);
	return true;
}

static void srv_run(struct nbd_sconn *c)
{
	int r = 1;

	while (r > 0 && !c->dead) {
		if (!out_flush(c))
			return;
		if (c->closing) {
			srv_kill(c, false);
			return;
		}
		if (srv_stalled(c->srv))
			return;
		switch (c->state) {
		case SRV_FLAGS:
		case SRV_OPT_HDR:
		case SRV_OPT_DATA:
			r = srv_handshake(c);
			break;
		case SRV_REQ_HDR:
			r = srv_request(c);
			break;
		case SRV_WRITE_DATA:
			r = srv_write_data(c);
			break;
		case SRV_READ_DATA:
			r = srv_read_data(c);
			break;
		}
	}
}

/* ---- sockets -------------------------------------------------------------- */

static void srv_readable(struct sock *sk)
{
	struct nbd_sconn *c = sk->user;

	if (c && !c->dead)
		srv_run(c);
}

static void srv_error(struct sock *sk, int err)
{
	struct nbd_sconn *c = sk->user;

	if (c)
		srv_kill(c, false);
}

static const struct sock_ops srv_conn_ops = {
	.readable = srv_readable,
	.writable = srv_readable,
	.error = srv_error,
};

/*
 * From a task: TCP wakes the listener while it still works on the new
 * child, so refusing (freeing) the child inside that callback is unsafe.
 */
static void srv_accept(struct task *t)
{
	struct nbd_server *srv =
		container_of(t, struct nbd_server, accept_task);
	struct tcp_sock *tp;

	while ((tp = tcp_accept(srv->listener))) {
		struct nbd_sconn *c = NULL;
		struct page *pg = NULL;
		uint8_t greet[NBD_GREETING_LEN];

		if (srv->nr_conns < srv->max_clients) {
			c = mm_kmalloc(srv->mm, sizeof(*c), MM_ATOMIC | MM_ZERO,
				       NULL);
			pg = c ? mm_page_alloc(srv->mm, MM_ATOMIC, NULL) : NULL;
		}
		if (!pg) {
			if (c)
				mm_kfree(srv->mm, c);
			counter_inc(&srv->st.refused);
			lb_warn(&srv->host->log,
				"nbd-server: %u: refusing a client (%u connected, limit %u, or no memory)",
				srv->port, srv->nr_conns, srv->max_clients);
			tp->sk.ops = NULL;
			tcp_abort(tp);
			continue;
		}
		c->srv = srv;
		c->tp = tp;
		c->page = pg;
		c->buf = page_address(srv->mm, pg);
		c->state = SRV_FLAGS;
		list_add_tail(&c->node, &srv->conns);
		srv->nr_conns++;
		counter_inc(&srv->st.connections);
		tp->sk.ops = &srv_conn_ops;
		tp->sk.user = c;
		tcp_set_nodelay(tp, true);
		nbd_put64(greet, NBD_INIT_MAGIC);
		nbd_put64(greet + 8, NBD_OPTS_MAGIC);
		nbd_put16(greet + 16,
			  NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
		out_add(c, greet, sizeof(greet));
		srv_run(c);
	}
}

static void srv_listen_readable(struct sock *sk)
{
	struct nbd_server *srv = sk->user;

	task_queue(srv->host->loop, &srv->accept_task);
}

static const struct sock_ops srv_listen_ops = { .readable =
							srv_listen_readable };

static void srv_unstall(struct timer *t)
{
	struct nbd_server *srv =
		container_of(t, struct nbd_server, stall_timer);
	struct nbd_sconn *c, *tmp;

	list_for_each_entry_safe(c, tmp, &srv->conns, node)
		srv_run(c);
}

void nbd_server_set_stall(struct nbd_server *srv, uint64_t until_ns)
{
	uint64_t now = host_now(srv->host);

	srv->stall_until = until_ns;
	timer_cancel(srv->host->loop, &srv->stall_timer);
	if (until_ns > now)
		counter_inc(&srv->st.stalls);
	/* ending a stall early also resumes what it held */
	timer_arm(srv->host->loop, &srv->stall_timer,
		  until_ns > now ? until_ns : now);
}

static void srv_stats(struct nbd_server *srv, bool add)
{
	struct stats *s = &srv->host->stats;
	struct counter *v = (struct counter *)&srv->st;

	for (size_t i = 0; i < ARRAY_SIZE(srv_stat_names); i++) {
		if (add)
			stats_add_counter(s, &v[i], "nbd.server.%u.%s",
					  srv->port, srv_stat_names[i]);
		else
			stats_remove(s, &v[i]);
	}
}

struct nbd_server *nbd_server_create(struct net *net,
				     const struct nbd_server_config *cfg)
{
	const char *name = cfg->export_name ? cfg->export_name : "";
	struct nbd_server *srv;
	int err;

	if (!cfg->store || strlen(name) > NBD_EXPORT_NAME_MAX)
		return NULL;
	srv = mm_kmalloc(net->mm, sizeof(*srv), MM_NORMAL | MM_ZERO, NULL);
	if (!srv)
		return NULL;
	srv->net = net;
	srv->host = net->host;
	srv->mm = net->mm;
	snprintf(srv->export_name, sizeof(srv->export_name), "%s", name);
	srv->store = cfg->store;
	srv->read_only = cfg->read_only;
	srv->port = cfg->port ? cfg->port : NBD_DEFAULT_PORT;
	srv->max_clients = cfg->max_clients ? cfg->max_clients :
					      NBD_SRV_DEFAULT_CLIENTS;
	list_init(&srv->conns);
	list_init(&srv->reap);
	timer_init(&srv->stall_timer, srv_unstall);
	task_init(&srv->reap_task, srv_reap);
	task_init(&srv->accept_task, srv_accept);
	srv->listener = tcp_socket(net, &srv_listen_ops, srv);
	if (!srv->listener) {
		mm_kfree(net->mm, srv);
		return NULL;
	}
	err = tcp_bind(srv->listener, htonl(cfg->ip), srv->port);
	if (!err)
		err = tcp_listen(srv->listener, srv->max_clients);
	if (err) {
		lb_err(&net->host->log, "nbd-server: cannot listen on %u: %s",
		       srv->port, strerror(-err));
		tcp_close(srv->listener);
		mm_kfree(net->mm, srv);
		return NULL;
	}
	srv_stats(srv, true);
	lb_info(&net->host->log,
		"nbd-server: serving \"%s\" (%llu bytes%s) on port %u",
		srv->export_name, (unsigned long long)srv->store->size,
		srv->read_only ? ", read-only" : "", srv->port);
	return srv;
}

void nbd_server_destroy(struct nbd_server *srv)
{
	struct loop *l = srv->host->loop;

	timer_cancel(l, &srv->stall_timer);
	task_cancel(l, &srv->reap_task);
	task_cancel(l, &srv->accept_task);
	tcp_close(srv->listener);
	while (!list_empty(&srv->conns)) {
		struct nbd_sconn *c =
			list_first_entry(&srv->conns, struct nbd_sconn, node);

		c->abort = true;
		srv_free(c);
	}
	while (!list_empty(&srv->reap))
		srv_free(list_first_entry(&srv->reap, struct nbd_sconn, node));
	srv_stats(srv, false);
	mm_kfree(srv->mm, srv);
}
