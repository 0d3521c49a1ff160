// SPDX-License-Identifier: MIT
/*
 * nbd_client.c - the NBD client as a block device: its connection, losing
 * and re-establishing it, and sending requests.
 *
 * A connection is torn down from a task (down_task), never from inside a
 * socket callback, since TCP may still be using the socket when the
 * callback returns.  Requests are kept in dispatch order on c->rqs until
 * their reply (or until the device gives up), so after a reconnect they
 * are sent again in that order: overlapping writes land as first issued.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "core/log.h"
#include "mm/slab.h"
#include "nbd_client_impl.h"

#define NBD_DEFAULT_DEPTH 32
#define NBD_DEFAULT_MAX_REQUEST (128u * 1024)
#define NBD_DEFAULT_RECONNECT_NS (100 * NSEC_PER_MSEC)
#define NBD_DEFAULT_DEAD_NS (60 * NSEC_PER_SEC)
#define NBD_BACKOFF_MAX_NS (5 * NSEC_PER_SEC)
#define NBD_KEEPALIVE_IDLE_NS (2 * NSEC_PER_SEC)
#define NBD_KEEPALIVE_INTVL_NS (1 * NSEC_PER_SEC)
#define NBD_KEEPALIVE_PROBES 3

/*
 * What block.<dev> must hold for NBD besides the bio and request pools.
 *
 * Per request: nothing.  The 28-byte header is kept in the request's pdu
 * and copied into the socket's send queue, whose pages net.tx.<id> bounds
 * by the send buffer (so do the segment descriptors that reference write
 * pages); read data is received into the bio's own pages; replies land in
 * net.rx and are copied into net.rxq.<id>, bounded by the receive buffer.
 * Each of those reserves belongs to the socket, sized by TCP.
 *
 * Once per device: the tcp_sock of a reconnect, one slab page of the
 * tcp_sock cache (an object is under half a page).  The socket's own
 * reserves are not counted here: while there is no connection their
 * pages are moved into block.<dev> and moved back as the new socket is
 * flagged, so the device's share of `min` never changes.
 */
#define NBD_RSV_PER_REQUEST 0
#define NBD_RSV_FIXED (PAGES_FOR(sizeof(struct tcp_sock)))

_Static_assert(sizeof(struct nbd_client) <= PAGE_SIZE,
	       "the client lives in one page");
_Static_assert(sizeof(struct tcp_sock) <= PAGE_SIZE / 2,
	       "a tcp_sock slab page holds several");

static const char *const nbd_stat_names[] = {
#define NBD_STAT_NAME(name) #name,
	NBD_CLIENT_STATS(NBD_STAT_NAME)
#undef NBD_STAT_NAME
};

static void nbd_sk_readable(struct sock *sk);
static void nbd_sk_writable(struct sock *sk);
static void nbd_sk_error(struct sock *sk, int err);

static const struct sock_ops nbd_sock_ops = {
	.readable = nbd_sk_readable,
	.writable = nbd_sk_writable,
	.error = nbd_sk_error,
};

static const char *nbd_peer(const struct nbd_client *c, char *buf, size_t len)
{
	uint32_t ip = ntohl(c->peer.ip);

	snprintf(buf, len, "%u.%u.%u.%u:%u", ip >> 24, ip >> 16 & 255,
		 ip >> 8 & 255, ip & 255, c->peer.port);
	return buf;
}

void nbd_conn_broken(struct nbd_client *c, int err, const char *fmt, ...)
{
	char why[192];
	va_list ap;

	if (c->broken || c->destroying)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	c->broken = true;
	c->err = err > 0 ? err : ECONNRESET;
	/* no more callbacks from this socket: down_task drops it */
	if (c->tp)
		c->tp->sk.ops = NULL;
	lb_warn(&c->host->log, "nbd: %s: connection dropped: %s", c->bd.name,
		why);
	task_queue(c->host->loop, &c->down_task);
}

void nbd_proto_error(struct nbd_client *c, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	counter_inc(&c->st.proto_errors);
	nbd_conn_broken(c, EPROTO, "protocol error: %s", why);
}

/* Small control messages: all or nothing (the send buffer is empty). */
int nbd_send_bytes(struct nbd_client *c, const void *buf, size_t len)
{
	ssize_t n;

	if (!c->tp)
		return -ENOTCONN;
	n = tcp_send(c->tp, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -ENOBUFS;
}

/* ---- sockets and their reserves ------------------------------------------ */

/*
 * Free @tp now.  A flagged socket's reserves go with it: their pages are
 * added to block.<dev> in the same step (the abort uncharges and removes
 * them synchronously, so `min` does not drop in between and the pages
 * stay free), ready for the next connection's socket.
 */
static void nbd_drop_socket(struct nbd_client *c, struct tcp_sock *tp,
			    bool graceful)
{
	size_t pages = 0;

	if (sock_memalloc(&tp->sk))
		pages = tp->sk.tx_rsv.own + tp->sk.rxq_rsv.own;
	tp->sk.ops = NULL;
	tp->sk.user = NULL;
	/*
	 * A graceful close lets the socket linger with its reserves, so only
	 * a socket in normal memory may: block.<dev> goes when we do.
	 */
	if (graceful && !mm_addr_pfmemalloc(c->mm, tp)) {
		tcp_close(tp);
		return;
	}
	tcp_abort(tp);
	if (!pages || !c->bd.attached || c->destroying)
		return;
	if (mm_reserve_resize(&c->bd.rsv, c->bd.rsv.own + pages)) {
		lb_warn(&c->host->log,
			"nbd: %s: could not keep %zu socket reserve pages in %s: a reconnect will need free memory",
			c->bd.name, pages, c->bd.rsv.name);
		return;
	}
	c->moved_pages += pages;
}

/* A new socket, flagged memory-critical, connecting to the server. */
static int nbd_open(struct nbd_client *c)
{
	struct mm_memalloc_ctx ctx = { 0 };
	struct tcp_sock *tp;
	size_t given = 0;
	int err;

	/* block.<dev> pays for the tcp_sock when normal memory is gone */
	if (c->bd.attached)
		ctx = mm_memalloc_save(c->mm, &c->bd.rsv);
	tp = tcp_socket(c->net, &nbd_sock_ops, c);
	if (c->bd.attached)
		mm_memalloc_restore(c->mm, ctx);
	if (!tp)
		return -ENOMEM;
	/*
	 * Give back the socket reserve pages block.<dev> held: it shrinks and
	 * net.tx/net.rxq are registered with no allocation in between.
	 */
	if (c->moved_pages) {
		err = mm_reserve_resize(&c->bd.rsv,
					c->bd.rsv.own - c->moved_pages);
		if (err) {
			tcp_close(tp);
			return err;
		}
		given = c->moved_pages;
		c->moved_pages = 0;
	}
	err = tcp_set_memalloc(tp);
	if (err) {
		lb_err(&c->host->log,
		       "nbd: %s: the connection's reserves (net.tx and net.rxq, %zu pages) do not fit",
		       c->bd.name,
		       tcp_reserve_tx_pages(tp->sndbuf, tp->mss) +
			       tcp_reserve_rx_pages(tp->rcvbuf, tp->mss));
		tcp_close(tp);
		if (given &&
		    !mm_reserve_resize(&c->bd.rsv, c->bd.rsv.own + given))
			c->moved_pages = given;
		return err;
	}
	if (given && (size_t)(tp->sk.tx_rsv.own + tp->sk.rxq_rsv.own) != given)
		lb_warn(&c->host->log,
			"nbd: %s: socket reserves changed size: %zu pages, were %zu",
			c->bd.name, tp->sk.tx_rsv.own + tp->sk.rxq_rsv.own,
			given);
	tcp_set_nodelay(tp, true);
	/*
	 * Requests the server's TCP acknowledged but the server never
	 * answered leave the connection idle: if the server lost it (a
	 * restart whose RST was lost), only a probe finds out.  A stalled
	 * but live server answers probes, so a long stall is not cut short.
	 */
	tcp_set_keepalive_timing(tp, NBD_KEEPALIVE_IDLE_NS,
				 NBD_KEEPALIVE_INTVL_NS, NBD_KEEPALIVE_PROBES);
	err = tcp_connect(tp, &c->peer);
	if (err) {
		nbd_drop_socket(c, tp, false);
		return err;
	}
	c->tp = tp;
	c->state = NBD_C_CONNECTING;
	nbd_hs_start(c);
	return 0;
}

static uint64_t nbd_next_backoff(struct nbd_client *c)
{
	uint64_t cur = c->backoff_ns;
	uint64_t cap = lb_max(c->reconnect_ns, (uint64_t)NBD_BACKOFF_MAX_NS);

	c->backoff_ns = lb_min(cur * 2, cap);
	return cur;
}

static void nbd_down(struct task *t)
{
	struct nbd_client *c = container_of(t, struct nbd_client, down_task);
	bool was_up = c->state == NBD_C_READY || c->state == NBD_C_DRAINING;
	struct blk_request *rq;
	char peer[32];

	c->broken = false;
	if (c->tp) {
		struct tcp_sock *tp = c->tp;

		c->tp = NULL;
		nbd_drop_socket(c, tp, false);
	}
	c->rx_rq = NULL;
	c->rxh_have = 0;
	list_for_each_entry(rq, &c->rqs, node) {
		struct nbd_rq *p = blk_rq_pdu(rq);

		p->state = NBD_RQ_QUEUED;
		p->done = 0;
	}
	if (was_up)
		counter_inc(&c->st.disconnects);
	else
		counter_inc(&c->st.connect_failures);
	if (!c->bd.attached) {
		c->state = NBD_C_FAILED;
		lb_err(&c->host->log, "nbd: %s: cannot use %s: %s", c->bd.name,
		       nbd_peer(c, peer, sizeof(peer)), strerror(c->err));
		if (c->ready)
			c->ready(&c->bd, -c->err, c->ready_arg);
		return; /* the callback may have destroyed us */
	}
	c->state = NBD_C_DOWN;
	if (!c->down_since) {
		c->down_since = host_now(c->host);
		timer_arm_in(c->host->loop, &c->dead_timer, c->dead_ns);
	}
	lb_info(&c->host->log,
		"nbd: %s: reconnecting to %s in %llu ms, %u requests outstanding",
		c->bd.name, nbd_peer(c, peer, sizeof(peer)),
		(unsigned long long)(c->backoff_ns / NSEC_PER_MSEC),
		(unsigned)c->bd.st.inflight.v);
	timer_arm_in(c->host->loop, &c->retry_timer, nbd_next_backoff(c));
}

static void nbd_retry(struct timer *t)
{
	struct nbd_client *c = container_of(t, struct nbd_client, retry_timer);
	int err;

	counter_inc(&c->st.reconnects);
	err = nbd_open(c);
	if (err) {
		counter_inc(&c->st.connect_failures);
		lb_warn(&c->host->log, "nbd: %s: reconnect failed: %s",
			c->bd.name, strerror(-err));
		timer_arm_in(c->host->loop, &c->retry_timer,
			     nbd_next_backoff(c));
	}
}

void nbd_complete(struct nbd_client *c, struct blk_request *rq, int err)
{
	list_del(&rq->node);
	blk_end_request(rq, err);
}

static void nbd_dead(struct timer *t)
{
	struct nbd_client *c = container_of(t, struct nbd_client, dead_timer);
	unsigned n = 0;
	struct blk_request *rq;

	if (c->state == NBD_C_READY || c->state == NBD_C_DRAINING)
		return;
	c->dead = true;
	list_for_each_entry(rq, &c->rqs, node)
		n++;
	lb_err(&c->host->log,
	       "nbd: %s: no connection for %llu ms: failing %u requests with EIO until the server is back",
	       c->bd.name, (unsigned long long)(c->dead_ns / NSEC_PER_MSEC), n);
	while (!list_empty(&c->rqs)) {
		counter_inc(&c->st.failed_dead);
		nbd_complete(
			c, list_first_entry(&c->rqs, struct blk_request, node),
			-EIO);
	}
}

static void nbd_ready(struct task *t)
{
	struct nbd_client *c = container_of(t, struct nbd_client, ready_task);

	if (c->ready)
		c->ready(&c->bd, 0, c->ready_arg);
}

/* ---- handshake results --------------------------------------------------- */

static int nbd_limits(struct nbd_client *c, struct blk_limits *lim)
{
	const char *n = c->bd.name;
	uint32_t max = c->cfg_max_request;
	uint32_t bmin = c->bs_min ? c->bs_min : 1;
	struct log *log = &c->host->log;

	memset(lim, 0, sizeof(*lim));
	if (!(c->tflags & NBD_FLAG_HAS_FLAGS)) {
		lb_err(log, "nbd: %s: transmission flags %#x lack HAS_FLAGS", n,
		       c->tflags);
		return -EPROTO;
	}
	/* bmin is a power of two: up to 512 it divides every sector */
	if (bmin > SECTOR_SIZE) {
		lb_err(log,
		       "nbd: %s: the server's minimum block size %u exceeds the %u-byte sectors we issue",
		       n, bmin, SECTOR_SIZE);
		return -EOPNOTSUPP;
	}
	max = lb_min(max, c->bs_max ? c->bs_max : NBD_DEFAULT_MAX_PAYLOAD);
	max = lb_min(max, (uint32_t)(BIO_MAX_VECS * PAGE_SIZE));
	max -= max % SECTOR_SIZE;
	if (!max) {
		lb_err(log,
		       "nbd: %s: the server's maximum payload %u is below a sector",
		       n, c->bs_max);
		return -EOPNOTSUPP;
	}
	lim->capacity = c->size & ~(uint64_t)(SECTOR_SIZE - 1);
	if (!lim->capacity) {
		lb_err(log, "nbd: %s: export of %llu bytes is below a sector",
		       n, (unsigned long long)c->size);
		return -EINVAL;
	}
	if (lim->capacity != c->size)
		lb_warn(log,
			"nbd: %s: export of %llu bytes: the last %llu are not used",
			n, (unsigned long long)c->size,
			(unsigned long long)(c->size - lim->capacity));
	lim->max_request = max;
	lim->queue_depth = c->queue_depth;
	lim->read_only = c->tflags & NBD_FLAG_READ_ONLY;
	lim->flush = c->tflags & NBD_FLAG_SEND_FLUSH;
	lim->fua = c->tflags & NBD_FLAG_SEND_FUA;
	lim->trim = c->tflags & NBD_FLAG_SEND_TRIM;
	lim->write_zeroes = c->tflags & NBD_FLAG_SEND_WRITE_ZEROES;
	lim->rsv_per_request = NBD_RSV_PER_REQUEST;
	lim->rsv_fixed = NBD_RSV_FIXED;
	return 0;
}

/* After a reconnect the export must still take what we may have queued. */
static bool nbd_same_export(struct nbd_client *c, const struct blk_limits *n)
{
	const struct blk_limits *o = &c->bd.lim;

	if (n->capacity == o->capacity && n->read_only == o->read_only &&
	    n->max_request >= o->max_request && (n->flush || !o->flush) &&
	    (n->fua || !o->fua) && (n->trim || !o->trim) &&
	    (n->write_zeroes || !o->write_zeroes))
		return true;
	lb_err(&c->host->log,
	       "nbd: %s: the export changed across the reconnect: %llu bytes, flags %#x, max request %u (was %llu bytes, max request %u)",
	       c->bd.name, (unsigned long long)n->capacity, c->tflags,
	       n->max_request, (unsigned long long)o->capacity, o->max_request);
	return false;
}

void nbd_handshake_done(struct nbd_client *c)
{
	struct blk_limits lim;
	unsigned n = 0;
	struct blk_request *rq;
	int err = nbd_limits(c, &lim);

	if (err) {
		counter_inc(&c->st.handshake_failures);
		nbd_conn_broken(c, -err, "unusable export");
		return;
	}
	if (!c->bd.attached) {
		err = blk_attach(&c->bd, &lim);
		if (err) {
			nbd_conn_broken(c, -err, "the device cannot attach");
			return;
		}
		c->state = NBD_C_READY;
		counter_inc(&c->st.connects);
		task_queue(c->host->loop, &c->ready_task);
		return;
	}
	if (!nbd_same_export(c, &lim)) {
		counter_inc(&c->st.handshake_failures);
		nbd_conn_broken(c, EIO, "export changed");
		return;
	}
	list_for_each_entry(rq, &c->rqs, node)
		n++;
	lb_info(&c->host->log,
		"nbd: %s: reconnected after %llu ms; sending %u requests again",
		c->bd.name,
		(unsigned long long)((host_now(c->host) - c->down_since) /
				     NSEC_PER_MSEC),
		n);
	c->state = NBD_C_READY;
	counter_inc(&c->st.connects);
	c->down_since = 0;
	c->dead = false;
	c->backoff_ns = c->reconnect_ns;
	timer_cancel(c->host->loop, &c->dead_timer);
	nbd_tx(c);
}

/* ---- sending -------------------------------------------------------------- */

static uint16_t nbd_cmd(const struct bio *bio)
{
	switch (bio->op) {
	case BIO_READ:
		return NBD_CMD_READ;
	case BIO_WRITE:
		return NBD_CMD_WRITE;
	case BIO_FLUSH:
		return NBD_CMD_FLUSH;
	case BIO_TRIM:
		return NBD_CMD_TRIM;
	default:
		return NBD_CMD_WRITE_ZEROES;
	}
}

static void nbd_prepare(struct nbd_client *c, struct blk_request *rq)
{
	struct nbd_rq *p = blk_rq_pdu(rq);
	struct bio *bio = rq->bio;
	struct nbd_request r = {
		.type = nbd_cmd(bio),
		/* a tag names the request while in flight; the generation
		 * makes a stale reply (old connection, answered twice) miss */
		.cookie = ++c->gen << 16 | rq->tag,
		.offset = bio->offset,
		.len = bio->size,
	};

	if ((bio->flags & BIO_FUA) && bio->op != BIO_FLUSH)
		r.flags |= NBD_CMD_FLAG_FUA;
	if (bio->op == BIO_FLUSH)
		r.offset = r.len = 0;
	nbd_encode_request(p->hdr, &r);
	p->cookie = r.cookie;
	p->done = 0;
	p->state = NBD_RQ_SENDING;
	if (p->sent_before)
		counter_inc(&c->st.resent);
	p->sent_before = true;
}

/*
 * Hand the rest of @rq to TCP: the header copied, write data by page
 * reference.  0 when all is taken, -EAGAIN to continue on writable.
 */
static int nbd_send_rq(struct nbd_client *c, struct blk_request *rq)
{
	struct nbd_rq *p = blk_rq_pdu(rq);
	struct bio *bio = rq->bio;
	uint32_t total =
		NBD_REQUEST_LEN + (bio->op == BIO_WRITE ? bio->size : 0);
	struct tcp_sock *tp = c->tp;

	while (p->done < total) {
		size_t space = tcp_send_space(tp);
		ssize_t n;

		if (!space)
			return -EAGAIN;
		if (p->done < NBD_REQUEST_LEN) {
			n = tcp_send(tp, p->hdr + p->done,
				     NBD_REQUEST_LEN - p->done);
		} else {
			uint32_t off = p->done - NBD_REQUEST_LEN;
			const struct bio_vec *v = bio->vec;

			while (off >= v->len) {
				off -= v->len;
				v++;
			}
			n = tcp_send_page(
				tp, v->page, v->off + off,
				(uint32_t)lb_min((size_t)(v->len - off),
						 space));
		}
		if (n == -EAGAIN)
			return -EAGAIN;
		if (n == -ENOMEM) {
			/* the socket's reserve is busy: writable comes back */
			sock_wait_memory(&tp->sk);
			return -EAGAIN;
		}
		if (n < 0)
			return (int)n;
		p->done += (uint32_t)n;
	}
	return 0;
}

void nbd_tx(struct nbd_client *c)
{
	struct blk_request *rq;

	if ((c->state != NBD_C_READY && c->state != NBD_C_DRAINING) || !c->tp ||
	    c->broken)
		return;
	list_for_each_entry(rq, &c->rqs, node) {
		struct nbd_rq *p = blk_rq_pdu(rq);
		int err;

		if (p->state == NBD_RQ_SENT)
			continue;
		/* draining: only the request half in the stream goes on */
		if (p->state == NBD_RQ_QUEUED && c->state == NBD_C_DRAINING)
			return;
		if (p->state == NBD_RQ_QUEUED)
			nbd_prepare(c, rq);
		err = nbd_send_rq(c, rq);
		if (err == -EAGAIN)
			return;
		if (err) {
			nbd_conn_broken(c, -err, "send failed: %s",
					strerror(-err));
			return;
		}
		p->state = NBD_RQ_SENT;
		counter_inc(&c->st.requests_sent);
	}
}

/* Draining for ESHUTDOWN: once nothing sent is unanswered, say goodbye. */
void nbd_send_disc(struct nbd_client *c)
{
	struct blk_request *rq;
	uint8_t hdr[NBD_REQUEST_LEN];
	struct nbd_request r = { .type = NBD_CMD_DISC };

	if (c->rx_rq)
		return;
	list_for_each_entry(rq, &c->rqs, node)
		if (((struct nbd_rq *)blk_rq_pdu(rq))->state != NBD_RQ_QUEUED)
			return;
	nbd_encode_request(hdr, &r);
	nbd_send_bytes(c, hdr, sizeof(hdr));
	counter_inc(&c->st.soft_disconnects);
	nbd_conn_broken(c, ESHUTDOWN,
			"the server is shutting down: disconnected softly");
}

static void nbd_queue_rq(struct blkdev *bd, struct blk_request *rq)
{
	struct nbd_client *c = nbd_client(bd);
	struct nbd_rq *p = blk_rq_pdu(rq);

	memset(p, 0, sizeof(*p));
	p->state = NBD_RQ_QUEUED;
	if (c->dead || c->destroying || c->state == NBD_C_FAILED) {
		blk_end_request(rq, -EIO);
		return;
	}
	list_add_tail(&rq->node, &c->rqs);
	nbd_stall_watch(c);
	nbd_tx(c);
}

static const struct blkdev_ops nbd_blk_ops = {
	.queue_rq = nbd_queue_rq,
	.rq_pdu = sizeof(struct nbd_rq),
};

/* ---- socket callbacks ----------------------------------------------------- */

static struct nbd_client *nbd_of(struct sock *sk)
{
	struct nbd_client *c = sk->user;

	return c && c->tp == tcp_sk(sk) && !c->broken ? c : NULL;
}

static void nbd_sk_readable(struct sock *sk)
{
	struct nbd_client *c = nbd_of(sk);

	if (c) {
		nbd_stall_progress(c);
		nbd_rx(c);
	}
}

static void nbd_sk_writable(struct sock *sk)
{
	struct nbd_client *c = nbd_of(sk);

	if (!c)
		return;
	if (c->state == NBD_C_CONNECTING) {
		/* established: the server speaks first */
		c->state = NBD_C_HANDSHAKE;
		nbd_hs_start(c);
		nbd_rx(c);
		return;
	}
	nbd_tx(c);
}

static void nbd_sk_error(struct sock *sk, int err)
{
	struct nbd_client *c = nbd_of(sk);

	if (c)
		nbd_conn_broken(c, err, "%s", strerror(err));
}

/* ---- lifetime ------------------------------------------------------------- */

static void nbd_stats(struct nbd_client *c, bool add)
{
	struct stats *s = &c->host->stats;
	struct counter *v = (struct counter *)&c->st;

	for (size_t i = 0; i < ARRAY_SIZE(nbd_stat_names); i++) {
		if (add)
			stats_add_counter(s, &v[i], "nbd.%s.%s", c->bd.name,
					  nbd_stat_names[i]);
		else
			stats_remove(s, &v[i]);
	}
}

int nbd_client_create(struct net *net, const struct nbd_client_config *cfg,
		      blk_ready_fn ready, void *arg, struct blkdev **out)
{
	const char *name = cfg->name ? cfg->name : "nbd0";
	const char *export = cfg->export_name ? cfg->export_name : "";
	struct mm *mm = net->mm;
	struct nbd_client *c;
	struct page *pg;
	char peer[32];
	int err;

	if (strlen(export) > NBD_EXPORT_NAME_MAX || !cfg->ip ||
	    strlen(name) >= sizeof(c->bd.name))
		return -EINVAL;
	pg = mm_page_alloc(mm, MM_NORMAL, NULL);
	if (!pg)
		return -ENOMEM;
	c = page_address(mm, pg);
	memset(c, 0, sizeof(*c));
	blk_init(&c->bd, net->host, name, &nbd_blk_ops, c);
	c->net = net;
	c->host = net->host;
	c->mm = mm;
	snprintf(c->export_name, sizeof(c->export_name), "%s", export);
	c->peer.ip = htonl(cfg->ip);
	c->peer.port = cfg->port ? cfg->port : NBD_DEFAULT_PORT;
	c->queue_depth = cfg->queue_depth ? cfg->queue_depth :
					    NBD_DEFAULT_DEPTH;
	c->cfg_max_request = cfg->max_request ? cfg->max_request :
						NBD_DEFAULT_MAX_REQUEST;
	c->reconnect_ns = cfg->reconnect_ns ? cfg->reconnect_ns :
					      NBD_DEFAULT_RECONNECT_NS;
	c->backoff_ns = c->reconnect_ns;
	c->dead_ns = cfg->dead_ns ? cfg->dead_ns : NBD_DEFAULT_DEAD_NS;
	c->ready = ready;
	c->ready_arg = arg;
	list_init(&c->rqs);
	timer_init(&c->retry_timer, nbd_retry);
	timer_init(&c->dead_timer, nbd_dead);
	nbd_stall_init(c, cfg->stall_ns);
	task_init(&c->down_task, nbd_down);
	task_init(&c->ready_task, nbd_ready);
	nbd_stats(c, true);
	err = nbd_open(c);
	if (err) {
		lb_err(&c->host->log, "nbd: %s: cannot connect to %s: %s", name,
		       nbd_peer(c, peer, sizeof(peer)), strerror(-err));
		nbd_stats(c, false);
		mm_page_put(mm, pg);
		return err;
	}
	lb_info(&c->host->log, "nbd: %s: connecting to %s, export \"%s\"", name,
		nbd_peer(c, peer, sizeof(peer)), c->export_name);
	*out = &c->bd;
	return 0;
}

void nbd_client_destroy(struct blkdev *bd)
{
	struct nbd_client *c = nbd_client(bd);
	struct loop *l = c->host->loop;
	bool graceful = false;

	timer_cancel(l, &c->retry_timer);
	timer_cancel(l, &c->dead_timer);
	nbd_stall_stop(c);
	task_cancel(l, &c->down_task);
	task_cancel(l, &c->ready_task);
	/* soft disconnect: only with nothing in flight (the spec's rule) */
	if (c->tp && !c->broken && c->state == NBD_C_READY &&
	    list_empty(&c->rqs)) {
		uint8_t hdr[NBD_REQUEST_LEN];
		struct nbd_request r = { .type = NBD_CMD_DISC };

		nbd_encode_request(hdr, &r);
		if (!nbd_send_bytes(c, hdr, sizeof(hdr))) {
			graceful = true;
			counter_inc(&c->st.soft_disconnects);
		}
	}
	c->destroying = true;
	while (!list_empty(&c->rqs))
		nbd_complete(
			c, list_first_entry(&c->rqs, struct blk_request, node),
			-EIO);
	/* bios still waiting for a slot fail through queue_rq */
	while (bd->attached && !list_empty(&bd->waiting))
		bd->kick.fn(&bd->kick);
	if (c->tp) {
		struct tcp_sock *tp = c->tp;

		c->tp = NULL;
		nbd_drop_socket(c, tp, graceful);
	}
	if (bd->attached)
		LB_ASSERT(blk_detach(bd) == 0);
	nbd_stats(c, false);
	mm_page_put(c->mm, virt_to_page(c->mm, c));
}
