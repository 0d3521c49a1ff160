// SPDX-License-Identifier: MIT
/*
 * nfs_client.c - an NFSv3 file as a block device.
 *
 * One connection at a time.  While setting up, the one control slot
 * carries GETPORT, MNT, FSINFO, LOOKUP, CREATE and GETATTR in turn, each
 * on a connection to the port it needs.  Once attached, the connection
 * to NFS carries the data calls (one slot per request of the queue
 * depth) and COMMIT (the control slot).  Every call's bytes can be
 * re-encoded from the request's state, so a call sent again after a
 * timeout or a reconnect is byte-identical, XID included.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "net/tcp.h"
#include "nfs.h"
#include "rpc/rpc_calls.h"
#include "rpc/rpc_proto.h"

#define NC_DEFAULT_DEPTH 16
#define NC_DEFAULT_MAX_REQUEST (64u * 1024)
#define NC_DEFAULT_TIMEO_NS (10 * NSEC_PER_SEC)
#define NC_MAX_TIMEO_NS (60 * NSEC_PER_SEC)
#define NC_DEFAULT_RECONNECT_NS (100 * NSEC_PER_MSEC)
#define NC_BACKOFF_MAX_NS (5 * NSEC_PER_SEC)
#define NC_JUKEBOX_NS (100 * NSEC_PER_MSEC)
#define NC_JUKEBOX_MAX_NS (5 * NSEC_PER_SEC)
#define NC_CTL_MAX 2048
/* record mark + RPC header with a short AUTH_SYS + handle + READ/WRITE args */
#define NC_HDR_MAX 256
#define NC_STAGE 4096
#define NC_MACHINE "lifeboat"
#define NC_MAX_PATH 1024
#define NC_SETUP_RETRIES 3

// clang-format off
#define NC_STATS(X) \
	X(connects) \
	X(reconnects) \
	X(connect_failures) \
	X(calls) \
	X(replies) \
	X(retransmits) \
	X(unknown_xids) \
	X(bad_replies) \
	X(rpc_errors) \
	X(nfs_errors) \
	X(jukebox) \
	X(short_transfers) \
	X(direct_reads) \
	X(commits) \
	X(verifier_changes) \
	X(resent_writes) \
	X(oversized_records)
// clang-format on

#define NC_STAT_FIELD(name) struct counter name;
struct nc_stats {
	NC_STATS(NC_STAT_FIELD)
};
#undef NC_STAT_FIELD

static const char *const nc_stat_names[] = {
#define NC_STAT_NAME(name) #name,
	NC_STATS(NC_STAT_NAME)
#undef NC_STAT_NAME
};

enum nc_phase {
	NC_PMAP_MNT,
	NC_MOUNT,
	NC_PMAP_NFS,
	NC_FSINFO,
	NC_LOOKUP,
	NC_FSSTAT, /* room for what CREATE or SETATTR will add? */
	NC_CREATE,
	NC_GETATTR,
	NC_SETATTR, /* grow a file smaller than create_size */
	NC_ACCESS, /* may we write it? */
	NC_READY,
	NC_REMOVE, /* nfs_client_remove(): REMOVE, then no more I/O */
	NC_FAILED,
};

enum nc_rq_state {
	NC_RQ_QUEUED, /* a call to send (again) */
	NC_RQ_SENDING, /* partly handed to TCP */
	NC_RQ_SENT, /* wholly handed to TCP: a reply may come */
	NC_RQ_UNSTABLE, /* written UNSTABLE: waiting for a COMMIT */
	NC_RQ_WAIT, /* JUKEBOX: waiting for not_before */
};

struct nc_rq {
	uint8_t state;
	bool stable; /* FILE_SYNC asked for */
	int16_t slot; /* the call's slot, or -1 */
	uint16_t jukebox;
	uint32_t progress; /* bytes of the bio done */
	uint32_t count; /* bytes this call moves */
	uint32_t sent; /* bytes of this call handed to TCP */
	uint32_t hdr_len;
	uint64_t unstable_seq, not_before;
	uint8_t verf[NFS3_VERFSIZE];
	uint8_t hdr[NC_HDR_MAX];
};

struct nfs_client {
	struct blkdev bd;
	struct net *net;
	struct host *host;
	struct mm *mm;
	struct sock_addr peer; /* port: the current connection's */
	uint16_t nfs_port, mount_port, pmap_port;
	char export_path[MNT3_PATHLEN + 1];
	char path[NC_MAX_PATH + 1];
	const char *component; /* the next path component to LOOKUP */
	struct rpc_auth auth;
	uint64_t create_size;
	bool grow, grown;
	uint64_t need_bytes; /* what the file will take beyond its size */
	enum nc_phase after_fsstat;
	unsigned queue_depth;
	uint32_t max_request;
	bool sync, secure;
	uint64_t reconnect_ns, backoff_ns;
	blk_ready_fn ready;
	void *ready_arg;
	void (*removed)(void *arg, int err);
	void *removed_arg;

	enum nc_phase phase;
	struct tcp_sock *tp;
	bool connected, destroying;
	size_t moved_pages; /* socket reserve pages held in block.<dev> */
	/*
	 * What a new socket's send reserve needs beyond the first one's:
	 * the first may be sized once connected (the peer's MSS, when MOUNT
	 * and NFS share a port), a reconnect's is sized before (with
	 * TCP_DEFAULT_MSS: more segments per buffer).  Held in
	 * block.<dev> from the attach until the first reconnect takes it.
	 */
	size_t mss_slack;
	uint16_t rsv_mss; /* the MSS the socket's reserves were sized with */
	unsigned setup_retries;
	struct nfs_fh3 root, dir, fh;
	uint64_t size;
	uint32_t rtmax, wtmax;

	/* calls */
	struct rpc_calls calls;
	struct rpc_slot *slots; /* queue_depth data slots + the control slot */
	struct blk_request **slot_rq;
	unsigned ctl; /* the control slot's index: queue_depth */
	bool ctl_busy; /* the control slot carries a call */
	uint32_t ctl_proc; /* and which (COMMIT once ready) */
	uint32_t ctl_len, ctl_sent;
	uint8_t ctl_buf[NC_CTL_MAX];

	/* COMMIT */
	bool have_verf;
	uint8_t verf[NFS3_VERFSIZE];
	uint64_t seq, commit_seq;
	unsigned nr_unstable;
	uint16_t commit_jukebox;

	/* receive */
	struct rpc_rec_rx rx;
	uint32_t rec_max, rec_len;
	uint8_t *rec;
	/*
	 * A READ reply's data goes straight into its bio's pages: rec[]
	 * takes a record's head only as far as nfs3_read_reply_head() needs
	 * to tell whether it is one, then the data goes to the pages.
	 */
	bool rx_dead; /* the connection is going down: read no more */
	bool rx_peek; /* the record may still be a READ reply to place */
	bool rx_data; /* receiving a READ reply's data and padding */
	uint32_t rx_need; /* record bytes wanted in rec[] before the next look */
	struct blk_request *rx_rq; /* the READ taking the data; NULL: dropped */
	uint32_t rx_count, rx_total, rx_done; /* data, data + pad, so far */
	bool rx_eof;
	uint8_t stage[NC_STAGE]; /* record marks and bytes to drop */

	struct list_head rqs; /* blk_request.node, in dispatch order */
	struct timer retry_timer, timeo_timer, wait_timer;
	struct task down_task, ready_task, step_task;
	int err;
	struct nc_stats st;
};

static void nc_tx(struct nfs_client *c);
static void nc_ctl_next(struct nfs_client *c);

static struct nfs_client *nc_of(struct blkdev *bd)
{
	return bd->driver;
}

static void nc_stats(struct nfs_client *c, bool add)
{
	struct counter *v = (struct counter *)&c->st;

	for (size_t i = 0; i < ARRAY_SIZE(nc_stat_names); i++) {
		if (add)
			stats_add_counter(&c->host->stats, &v[i], "nfs.%s.%s",
					  c->bd.name, nc_stat_names[i]);
		else
			stats_remove(&c->host->stats, &v[i]);
	}
}

/* ---- connections ----------------------------------------------------------- */

static void nc_broken(struct nfs_client *c, int err, const char *why)
{
	if (!c->tp || c->destroying)
		return;
	lb_warn(&c->host->log, "nfs: %s: connection to port %u lost: %s",
		c->bd.name, c->peer.port, why);
	c->err = err;
	c->rx_dead = true;
	task_queue(c->host->loop, &c->down_task);
}

/*
 * Free the connection now.  A flagged socket's reserves go with it: their
 * pages are added to block.<dev> in the same step (the abort uncharges
 * and removes them synchronously, so `min` does not drop in between),
 * ready for the next connection's socket: a reconnect then needs no
 * memory beyond the device's reserve.
 */
static void nc_drop_socket(struct nfs_client *c)
{
	struct tcp_sock *tp = c->tp;
	size_t pages = 0;

	if (!tp)
		return;
	c->tp = NULL;
	c->connected = false;
	if (sock_memalloc(&tp->sk))
		pages = tp->sk.tx_rsv.own + tp->sk.rxq_rsv.own;
	tp->sk.ops = NULL;
	tp->sk.user = NULL;
	tcp_abort(tp);
	if (!pages || !c->bd.attached || c->destroying)
		return;
	if (mm_reserve_resize(&c->bd.rsv, c->bd.rsv.own + pages)) {
		lb_warn(&c->host->log,
			"nfs: %s: could not keep %zu socket reserve pages in %s: a reconnect will need free memory",
			c->bd.name, pages, c->bd.rsv.name);
		return;
	}
	c->moved_pages += pages;
}

static void nc_readable(struct sock *sk);
static void nc_writable(struct sock *sk);
static void nc_rx_reset(struct nfs_client *c);
static void nc_error(struct sock *sk, int err);

static const struct sock_ops nc_sock_ops = {
	.readable = nc_readable,
	.writable = nc_writable,
	.error = nc_error,
};

static int nc_open(struct nfs_client *c, uint16_t port)
{
	struct mm_memalloc_ctx ctx = { 0 };
	struct tcp_sock *tp;
	int err = 0;

	/* block.<dev> pays for the tcp_sock when normal memory is gone */
	if (c->bd.attached)
		ctx = mm_memalloc_save(c->mm, &c->bd.rsv);
	tp = tcp_socket(c->net, &nc_sock_ops, c);
	if (c->bd.attached)
		mm_memalloc_restore(c->mm, ctx);
	if (!tp)
		return -ENOMEM;
	if (c->secure) {
		/* servers that insist on a privileged port: try 1023 down */
		err = -EADDRINUSE;
		for (uint16_t p = 1023; p >= 512 && err; p--)
			err = tcp_bind(tp, 0, p);
		if (err) {
			tcp_close(tp);
			return err;
		}
	}
	if (port == c->nfs_port && c->phase >= NC_FSINFO) {
		size_t given = 0, slack = 0;

		/*
		 * Give back the socket reserve pages block.<dev> held: it
		 * shrinks and net.tx/net.rxq are registered with no
		 * allocation in between.
		 */
		if (c->moved_pages + c->mss_slack) {
			err = mm_reserve_resize(&c->bd.rsv,
						c->bd.rsv.own - c->moved_pages -
							c->mss_slack);
			if (err) {
				tcp_close(tp);
				return err;
			}
			given = c->moved_pages;
			slack = c->mss_slack;
			c->moved_pages = 0;
			c->mss_slack = 0;
		}
		c->rsv_mss = tp->mss;
		err = tcp_set_memalloc(tp);
		if (err) {
			lb_err(&c->host->log,
			       "nfs: %s: the connection's reserves do not fit",
			       c->bd.name);
			tcp_close(tp);
			if (given + slack &&
			    !mm_reserve_resize(&c->bd.rsv,
					       c->bd.rsv.own + given + slack)) {
				c->moved_pages = given;
				c->mss_slack = slack;
			}
			return err;
		}
	}
	tcp_set_nodelay(tp, true);
	tcp_set_keepalive_timing(tp, 2 * NSEC_PER_SEC, NSEC_PER_SEC, 3);
	c->peer.port = port;
	err = tcp_connect(tp, &c->peer);
	if (err) {
		tcp_abort(tp);
		return err;
	}
	c->tp = tp;
	c->connected = false;
	rpc_rec_init(&c->rx, c->rec_max);
	nc_rx_reset(c);
	c->rx_dead = false;
	return 0;
}

static uint64_t nc_next_backoff(struct nfs_client *c)
{
	uint64_t cur = c->backoff_ns;

	c->backoff_ns = lb_min(cur * 2, lb_max(c->reconnect_ns,
					       (uint64_t)NC_BACKOFF_MAX_NS));
	return cur;
}

/* From a socket callback too: the socket goes in down_task. */
static void nc_remove_over(struct nfs_client *c, int err)
{
	c->phase = NC_FAILED; /* the file is gone, or may be: no more I/O */
	if (c->slots[c->ctl].busy)
		rpc_call_done(&c->calls, c->ctl);
	c->ctl_busy = false;
	if (c->removed)
		c->removed(c->removed_arg, err);
}

static void nc_fail_setup(struct nfs_client *c, int err)
{
	if (c->phase == NC_REMOVE) {
		lb_err(&c->host->log, "nfs: %s: cannot remove %s: %s",
		       c->bd.name, c->path, strerror(-err));
		nc_remove_over(c, err);
		return;
	}
	c->err = -err;
	c->phase = NC_FAILED;
	task_queue(c->host->loop, &c->down_task);
}

/* Every call in flight is to go out again, with its XID. */
static void nc_requeue_all(struct nfs_client *c)
{
	struct blk_request *rq;

	rpc_calls_reconnected(&c->calls);
	c->ctl_sent = 0;
	list_for_each_entry(rq, &c->rqs, node) {
		struct nc_rq *p = blk_rq_pdu(rq);

		if (p->state == NC_RQ_SENDING || p->state == NC_RQ_SENT)
			p->state = NC_RQ_QUEUED;
		p->sent = 0;
	}
}

static void nc_down(struct task *t)
{
	struct nfs_client *c = container_of(t, struct nfs_client, down_task);

	nc_drop_socket(c);
	if (c->phase == NC_REMOVE) {
		nc_fail_setup(c, -c->err);
		return;
	}
	if (c->phase != NC_READY) {
		counter_inc(&c->st.connect_failures);
		lb_err(&c->host->log, "nfs: %s: cannot set up: %s", c->bd.name,
		       strerror(c->err));
		c->phase = NC_FAILED;
		if (c->ready)
			c->ready(&c->bd, -c->err, c->ready_arg);
		return; /* the callback may have destroyed us */
	}
	nc_requeue_all(c);
	lb_info(&c->host->log,
		"nfs: %s: reconnecting in %llu ms, %u requests outstanding",
		c->bd.name, (unsigned long long)(c->backoff_ns / NSEC_PER_MSEC),
		(unsigned)c->bd.st.inflight.v);
	timer_arm_in(c->host->loop, &c->retry_timer, nc_next_backoff(c));
}

static void nc_retry(struct timer *t)
{
	struct nfs_client *c = container_of(t, struct nfs_client, retry_timer);
	int err;

	counter_inc(&c->st.reconnects);
	err = nc_open(c, c->nfs_port);
	if (err) {
		counter_inc(&c->st.connect_failures);
		timer_arm_in(c->host->loop, &c->retry_timer,
			     nc_next_backoff(c));
	}
}

/* ---- sending ----------------------------------------------------------------- */

static void nc_arm_timeo(struct nfs_client *c)
{
	uint64_t d = rpc_calls_next_deadline(&c->calls);

	timer_cancel(c->host->loop, &c->timeo_timer);
	if (d != UINT64_MAX)
		timer_arm(c->host->loop, &c->timeo_timer, d);
}

/* Send what is left of the control call. */
static int nc_ctl_tx(struct nfs_client *c)
{
	while (c->ctl_sent < c->ctl_len) {
		ssize_t n = tcp_send(c->tp, c->ctl_buf + c->ctl_sent,
				     c->ctl_len - c->ctl_sent);

		if (n == -EAGAIN)
			return -EAGAIN;
		if (n == -ENOMEM) {
			sock_wait_memory(&c->tp->sk);
			return -EAGAIN;
		}
		if (n < 0)
			return (int)n;
		c->ctl_sent += (uint32_t)n;
	}
	rpc_call_sent(&c->calls, c->ctl, host_now(c->host));
	return 0;
}

/* Start a control call: the header now, the arguments by the caller. */
static struct xdr_out nc_ctl_begin(struct nfs_client *c, uint32_t prog,
				   uint32_t vers, uint32_t proc)
{
	struct xdr_out x;

	LB_ASSERT(!c->ctl_busy && c->slots[c->ctl].busy);
	c->ctl_busy = true;
	c->ctl_proc = proc;
	c->ctl_sent = 0;
	xdr_out_init(&x, c->ctl_buf + RPC_REC_MARK_LEN,
		     NC_CTL_MAX - RPC_REC_MARK_LEN);
	rpc_encode_call(&x, c->slots[c->ctl].xid, prog, vers, proc,
			prog == PMAP_PROG ? NULL : &c->auth);
	return x;
}

static void nc_ctl_end(struct nfs_client *c, struct xdr_out *x)
{
	LB_ASSERT(!x->err);
	rpc_rec_mark(c->ctl_buf, x->pos, true);
	c->ctl_len = x->pos + RPC_REC_MARK_LEN;
	counter_inc(&c->st.calls);
	nc_tx(c);
}

/* The control slot: a fresh XID for a new control call. */
static void nc_ctl_slot(struct nfs_client *c)
{
	struct rpc_slot *s = &c->slots[c->ctl];

	LB_ASSERT(!c->ctl_busy);
	if (s->busy)
		rpc_call_done(&c->calls, c->ctl);
	LB_ASSERT(rpc_call_start_slot(&c->calls, c->ctl) == (int)c->ctl);
}

static void nc_prepare(struct nfs_client *c, struct blk_request *rq)
{
	struct nc_rq *p = blk_rq_pdu(rq);
	struct bio *bio = rq->bio;
	struct xdr_out x;
	uint32_t proc = bio->op == BIO_READ ? NFSPROC3_READ : NFSPROC3_WRITE;
	uint64_t off = bio->offset + p->progress;

	if (p->slot < 0) {
		/* the request's tag is its slot: unique while in flight */
		LB_ASSERT(rpc_call_start_slot(&c->calls, rq->tag) ==
			  (int)rq->tag);
		p->slot = (int16_t)rq->tag;
		c->slot_rq[rq->tag] = rq;
	} else {
		counter_inc(&c->st.retransmits);
	}
	p->count = bio->size - p->progress;
	xdr_out_init(&x, p->hdr + RPC_REC_MARK_LEN,
		     NC_HDR_MAX - RPC_REC_MARK_LEN);
	rpc_encode_call(&x, c->slots[p->slot].xid, NFS_PROG, NFS_V3, proc,
			&c->auth);
	if (proc == NFSPROC3_READ)
		nfs3_enc_read(&x, &c->fh, off, p->count);
	else
		nfs3_enc_write_hdr(&x, &c->fh, off, p->count,
				   p->stable ? NFS3_FILE_SYNC : NFS3_UNSTABLE);
	LB_ASSERT(!x.err);
	p->hdr_len = x.pos + RPC_REC_MARK_LEN;
	/* sector-sized bios: WRITE data needs no XDR padding */
	LB_ASSERT(p->count % 4 == 0);
	rpc_rec_mark(p->hdr, x.pos + (proc == NFSPROC3_WRITE ? p->count : 0),
		     true);
	p->sent = 0;
	p->state = NC_RQ_SENDING;
	counter_inc(&c->st.calls);
}

static int nc_send_rq(struct nfs_client *c, struct blk_request *rq)
{
	struct nc_rq *p = blk_rq_pdu(rq);
	struct bio *bio = rq->bio;
	uint32_t total = p->hdr_len + (bio->op == BIO_WRITE ? p->count : 0);
	struct tcp_sock *tp = c->tp;

	while (p->sent < total) {
		size_t space = tcp_send_space(tp);
		ssize_t n;

		if (!space)
			return -EAGAIN;
		if (p->sent < p->hdr_len) {
			n = tcp_send(tp, p->hdr + p->sent,
				     p->hdr_len - p->sent);
		} else {
			uint32_t off = p->progress + p->sent - p->hdr_len;
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
			sock_wait_memory(&tp->sk);
			return -EAGAIN;
		}
		if (n < 0)
			return (int)n;
		p->sent += (uint32_t)n;
	}
	return 0;
}

static void nc_tx(struct nfs_client *c)
{
	struct blk_request *rq;
	int err;

	if (!c->tp || !c->connected)
		return;
	/*
	 * A call half in the stream goes first: a COMMIT started meanwhile
	 * must not land inside a WRITE's data.
	 */
	list_for_each_entry(rq, &c->rqs, node) {
		struct nc_rq *p = blk_rq_pdu(rq);

		if (p->state != NC_RQ_SENDING)
			continue;
		err = nc_send_rq(c, rq);
		if (err == -EAGAIN)
			return;
		if (err) {
			nc_broken(c, -err, "send failed");
			return;
		}
		p->state = NC_RQ_SENT;
		rpc_call_sent(&c->calls, (unsigned)p->slot, host_now(c->host));
		break; /* only one can be half sent */
	}
	if (c->ctl_busy && c->ctl_sent < c->ctl_len) {
		err = nc_ctl_tx(c);
		if (err == -EAGAIN)
			return;
		if (err) {
			nc_broken(c, -err, "send failed");
			return;
		}
		nc_arm_timeo(c);
	}
	if (c->phase != NC_READY)
		return;
	list_for_each_entry(rq, &c->rqs, node) {
		struct nc_rq *p = blk_rq_pdu(rq);

		if (p->state != NC_RQ_QUEUED && p->state != NC_RQ_SENDING)
			continue;
		if (p->state == NC_RQ_QUEUED)
			nc_prepare(c, rq);
		err = nc_send_rq(c, rq);
		if (err == -EAGAIN)
			return;
		if (err) {
			nc_broken(c, -err, "send failed");
			return;
		}
		p->state = NC_RQ_SENT;
		rpc_call_sent(&c->calls, (unsigned)p->slot, host_now(c->host));
	}
	nc_arm_timeo(c);
}

/* ---- completing ------------------------------------------------------------- */

static void nc_complete(struct nfs_client *c, struct blk_request *rq, int err)
{
	struct nc_rq *p = blk_rq_pdu(rq);

	if (p->slot >= 0) {
		c->slot_rq[p->slot] = NULL;
		rpc_call_done(&c->calls, (unsigned)p->slot);
		p->slot = -1;
	}
	if (p->state == NC_RQ_UNSTABLE) {
		LB_ASSERT(c->nr_unstable > 0);
		c->nr_unstable--;
	}
	/* READ data still arriving for it now goes nowhere */
	if (c->rx_rq == rq)
		c->rx_rq = NULL;
	list_del(&rq->node);
	blk_end_request(rq, err);
}

/* The call of @rq is answered; what remains is a new call. */
static void nc_call_over(struct nfs_client *c, struct nc_rq *p)
{
	c->slot_rq[p->slot] = NULL;
	rpc_call_done(&c->calls, (unsigned)p->slot);
	p->slot = -1;
}

static unsigned nc_writes_in_flight(struct nfs_client *c)
{
	struct blk_request *rq;
	unsigned n = 0;

	list_for_each_entry(rq, &c->rqs, node) {
		struct nc_rq *p = blk_rq_pdu(rq);

		n += rq->bio->op == BIO_WRITE && p->state != NC_RQ_UNSTABLE;
	}
	return n;
}

/* COMMIT once the writes settle, or when half the queue waits for it. */
static void nc_maybe_commit(struct nfs_client *c)
{
	struct xdr_out x;

	if (c->phase != NC_READY || c->ctl_busy || !c->nr_unstable ||
	    timer_armed(&c->wait_timer))
		return;
	if (nc_writes_in_flight(c) && c->nr_unstable < c->queue_depth / 2)
		return;
	nc_ctl_slot(c);
	x = nc_ctl_begin(c, NFS_PROG, NFS_V3, NFSPROC3_COMMIT);
	nfs3_enc_commit(&x, &c->fh, 0, 0);
	c->commit_seq = c->seq;
	counter_inc(&c->st.commits);
	nc_ctl_end(c, &x);
}

/* Uncommitted writes whose verifier is not @verf were lost: again. */
static void nc_resend_lost(struct nfs_client *c, const uint8_t *verf)
{
	struct blk_request *rq;

	list_for_each_entry(rq, &c->rqs, node) {
		struct nc_rq *p = blk_rq_pdu(rq);

		if (p->state != NC_RQ_UNSTABLE ||
		    !memcmp(p->verf, verf, NFS3_VERFSIZE))
			continue;
		c->nr_unstable--;
		p->state = NC_RQ_QUEUED;
		p->progress = 0;
		counter_inc(&c->st.resent_writes);
	}
}

static void nc_new_verf(struct nfs_client *c, const uint8_t *verf)
{
	if (c->have_verf && memcmp(c->verf, verf, NFS3_VERFSIZE)) {
		counter_inc(&c->st.verifier_changes);
		lb_warn(&c->host->log,
			"nfs: %s: the server's write verifier changed (a restart?): sending %u uncommitted writes again",
			c->bd.name, c->nr_unstable);
	}
	memcpy(c->verf, verf, NFS3_VERFSIZE);
	c->have_verf = true;
	nc_resend_lost(c, verf);
}

static void nc_wait_fire(struct timer *t)
{
	struct nfs_client *c = container_of(t, struct nfs_client, wait_timer);
	uint64_t now = host_now(c->host), next = UINT64_MAX;
	struct blk_request *rq;

	list_for_each_entry(rq, &c->rqs, node) {
		struct nc_rq *p = blk_rq_pdu(rq);

		if (p->state != NC_RQ_WAIT)
			continue;
		if (p->not_before <= now)
			p->state = NC_RQ_QUEUED;
		else
			next = lb_min(next, p->not_before);
	}
	if (next != UINT64_MAX)
		timer_arm(c->host->loop, &c->wait_timer, next);
	nc_maybe_commit(c);
	nc_tx(c);
}

static void nc_jukebox(struct nfs_client *c, struct nc_rq *p)
{
	uint64_t d = nfs3_jukebox_delay(p->jukebox++, NC_JUKEBOX_NS,
					NC_JUKEBOX_MAX_NS);

	counter_inc(&c->st.jukebox);
	p->state = NC_RQ_WAIT;
	p->not_before = host_now(c->host) + d;
	if (!timer_armed(&c->wait_timer) ||
	    c->wait_timer.expires > p->not_before) {
		timer_cancel(c->host->loop, &c->wait_timer);
		timer_arm(c->host->loop, &c->wait_timer, p->not_before);
	}
}

static void nc_nfs_error(struct nfs_client *c, struct blk_request *rq,
			 uint32_t proc, uint32_t status, int err)
{
	counter_inc(&c->st.nfs_errors);
	lb_warn(&c->host->log, "nfs: %s: %s at %llu: %s", c->bd.name,
		nfs3_proc_name(proc),
		(unsigned long long)(rq->bio->offset +
				     ((struct nc_rq *)blk_rq_pdu(rq))->progress),
		nfs3_stat_name(status));
	nc_complete(c, rq, err);
}

/*
 * @n more bytes of a READ are in the bio's pages (copied from the record,
 * or received straight into them): zero-fill past the end of the file,
 * send the rest again after a short read, or complete.
 */
static void nc_read_advance(struct nfs_client *c, struct blk_request *rq,
			    uint32_t n, bool eof)
{
	struct nc_rq *p = blk_rq_pdu(rq);
	struct bio *bio = rq->bio;

	p->progress += n;
	if (p->progress < bio->size && eof) {
		/* past the end of the file reads as zeroes */
		static const uint8_t zero[512];

		while (p->progress < bio->size) {
			uint32_t z = lb_min(bio->size - p->progress,
					    (uint32_t)sizeof(zero));

			bio_copy_from(bio, p->progress, zero, z);
			p->progress += z;
		}
	}
	if (p->progress < bio->size) {
		counter_inc(&c->st.short_transfers);
		p->state = NC_RQ_QUEUED;
		return;
	}
	nc_complete(c, rq, 0);
}

static void nc_data_reply(struct nfs_client *c, struct blk_request *rq,
			  struct xdr_in *x)
{
	struct nc_rq *p = blk_rq_pdu(rq);
	struct bio *bio = rq->bio;
	int err;

	if (bio->op == BIO_READ) {
		struct nfs3_read_res r;

		err = nfs3_dec_read(x, p->count, &r);
		if (err == -EBADMSG)
			goto bad;
		nc_call_over(c, p);
		if (err == -EAGAIN) {
			nc_jukebox(c, p);
			return;
		}
		if (err) {
			nc_nfs_error(c, rq, NFSPROC3_READ, r.status, err);
			return;
		}
		bio_copy_from(bio, p->progress, r.data, r.count);
		nc_read_advance(c, rq, r.count, r.eof);
		return;
	}

	struct nfs3_write_res w;

	err = nfs3_dec_write(x, p->count, &w);
	if (err == -EBADMSG)
		goto bad;
	nc_call_over(c, p);
	if (err == -EAGAIN) {
		nc_jukebox(c, p);
		return;
	}
	if (err) {
		nc_nfs_error(c, rq, NFSPROC3_WRITE, w.status, err);
		return;
	}
	nc_new_verf(c, w.verf);
	p->progress += w.count;
	if (p->progress < bio->size) {
		/* a short write, or a lost one sent again from the start */
		if (w.count)
			counter_inc(&c->st.short_transfers);
		p->state = NC_RQ_QUEUED;
		return;
	}
	if (w.committed != NFS3_UNSTABLE) {
		nc_complete(c, rq, 0);
		return;
	}
	memcpy(p->verf, w.verf, NFS3_VERFSIZE);
	p->state = NC_RQ_UNSTABLE;
	p->unstable_seq = ++c->seq;
	c->nr_unstable++;
	return;
bad:
	counter_inc(&c->st.bad_replies);
	nc_broken(c, EPROTO, "a malformed READ or WRITE result");
}

static void nc_commit_reply(struct nfs_client *c, struct xdr_in *x)
{
	struct nfs3_commit_res r;
	struct blk_request *rq, *tmp;
	int err = nfs3_dec_commit(x, &r);

	if (err == -EBADMSG) {
		counter_inc(&c->st.bad_replies);
		nc_broken(c, EPROTO, "a malformed COMMIT result");
		return;
	}
	c->ctl_busy = false;
	rpc_call_done(&c->calls, c->ctl);
	if (err == -EAGAIN) {
		counter_inc(&c->st.jukebox);
		timer_arm_in(c->host->loop, &c->wait_timer,
			     nfs3_jukebox_delay(c->commit_jukebox++,
						NC_JUKEBOX_NS,
						NC_JUKEBOX_MAX_NS));
		return;
	}
	c->commit_jukebox = 0;
	if (!err)
		nc_new_verf(c, r.verf);
	else
		lb_warn(&c->host->log, "nfs: %s: COMMIT: %s", c->bd.name,
			nfs3_stat_name(r.status));
	list_for_each_entry_safe(rq, tmp, &c->rqs, node) {
		struct nc_rq *p = blk_rq_pdu(rq);

		if (p->state != NC_RQ_UNSTABLE ||
		    p->unstable_seq > c->commit_seq)
			continue;
		/* verifiers that differ were sent again by nc_new_verf */
		nc_complete(c, rq, err);
	}
}

/* ---- setup ------------------------------------------------------------------ */

static const char *nc_next_component(struct nfs_client *c, char *out)
{
	const char *s = c->component, *e;

	while (*s == '/')
		s++;
	if (!*s)
		return NULL;
	e = strchr(s, '/');
	if (!e)
		e = s + strlen(s);
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	c->component = e;
	return out;
}

static bool nc_last_component(const struct nfs_client *c)
{
	const char *s = c->component;

	while (*s == '/')
		s++;
	return !*s;
}

/* From a task: the connection to @port, memory-critical for NFS. */
static int nc_switch(struct nfs_client *c, uint16_t port)
{
	int err = 0;

	if (c->tp && c->peer.port == port) {
		if (port == c->nfs_port && c->phase >= NC_FSINFO &&
		    !sock_memalloc(&c->tp->sk)) {
			c->rsv_mss = c->tp->mss;
			err = tcp_set_memalloc(c->tp);
		}
	} else {
		nc_drop_socket(c);
		err = nc_open(c, port);
	}
	if (err)
		nc_fail_setup(c, err);
	return err;
}

static void nc_attach(struct nfs_client *c)
{
	struct blk_limits lim = {
		.capacity = c->size & ~(uint64_t)(SECTOR_SIZE - 1),
		.max_request = c->max_request,
		.queue_depth = c->queue_depth,
		.flush = true,
		.fua = true,
		.rsv_per_request = 0,
		.rsv_fixed = PAGES_FOR(sizeof(struct tcp_sock)),
	};
	size_t fresh, now;
	int err;

	fresh = tcp_reserve_tx_pages(c->tp->sndbuf, TCP_DEFAULT_MSS);
	now = tcp_reserve_tx_pages(c->tp->sndbuf, c->rsv_mss);
	c->mss_slack = fresh > now ? fresh - now : 0;
	lim.rsv_fixed += c->mss_slack;
	if (!lim.capacity) {
		lb_err(&c->host->log, "nfs: %s: %s is %llu bytes: too small",
		       c->bd.name, c->path, (unsigned long long)c->size);
		nc_fail_setup(c, -EINVAL);
		return;
	}
	err = blk_attach(&c->bd, &lim);
	if (err) {
		nc_fail_setup(c, err);
		return;
	}
	LB_ASSERT(sock_memalloc(&c->tp->sk));
	c->phase = NC_READY;
	counter_inc(&c->st.connects);
	lb_info(&c->host->log,
		"nfs: %s: %s:%s on port %u: %llu bytes, requests up to %u bytes, queue depth %u, reserve %zu pages",
		c->bd.name, c->export_path, c->path, c->nfs_port,
		(unsigned long long)lim.capacity, lim.max_request,
		lim.queue_depth, blk_reserve_pages(&lim));
	task_queue(c->host->loop, &c->ready_task);
}

/* Issue the control call of the current phase. */
static void nc_ctl_next(struct nfs_client *c)
{
	struct xdr_out x;
	char name[NFS3_NAMELEN + 1];
	struct nfs_sattr3 sa = { .set_mode = true,
				 .mode = 0600,
				 .set_size = true };

	nc_ctl_slot(c);
	switch (c->phase) {
	case NC_PMAP_MNT:
	case NC_PMAP_NFS:
		if (nc_switch(c, c->pmap_port))
			return;
		x = nc_ctl_begin(c, PMAP_PROG, PMAP_VERS, PMAPPROC_GETPORT);
		pmap_encode_getport(
			&x, c->phase == NC_PMAP_MNT ? MOUNT_PROG : NFS_PROG, 3,
			PMAP_IPPROTO_TCP);
		break;
	case NC_MOUNT:
		if (nc_switch(c, c->mount_port))
			return;
		x = nc_ctl_begin(c, MOUNT_PROG, MOUNT_V3, MOUNTPROC3_MNT);
		mnt3_enc_dirpath(&x, c->export_path);
		break;
	case NC_FSINFO:
		if (nc_switch(c, c->nfs_port))
			return;
		x = nc_ctl_begin(c, NFS_PROG, NFS_V3, NFSPROC3_FSINFO);
		nfs3_enc_fh_args(&x, &c->root);
		break;
	case NC_LOOKUP:
		if (!nc_next_component(c, name)) {
			c->phase = NC_GETATTR;
			nc_ctl_next(c);
			return;
		}
		x = nc_ctl_begin(c, NFS_PROG, NFS_V3, NFSPROC3_LOOKUP);
		nfs3_enc_diropargs(&x, &c->dir, name);
		break;
	case NC_CREATE: {
		const char *base = strrchr(c->path, '/');

		sa.size = c->create_size;
		x = nc_ctl_begin(c, NFS_PROG, NFS_V3, NFSPROC3_CREATE);
		nfs3_enc_create(&x, &c->dir, base ? base + 1 : c->path,
				NFS3_CREATE_GUARDED, &sa, NULL);
		break;
	}
	case NC_GETATTR:
		x = nc_ctl_begin(c, NFS_PROG, NFS_V3, NFSPROC3_GETATTR);
		nfs3_enc_fh_args(&x, &c->fh);
		break;
	case NC_FSSTAT:
		x = nc_ctl_begin(c, NFS_PROG, NFS_V3, NFSPROC3_FSSTAT);
		nfs3_enc_fh_args(&x, &c->dir);
		break;
	case NC_SETATTR: {
		struct nfs_sattr3 grow = { .set_size = true,
					   .size = c->create_size };

		x = nc_ctl_begin(c, NFS_PROG, NFS_V3, NFSPROC3_SETATTR);
		nfs3_enc_setattr(&x, &c->fh, &grow);
		break;
	}
	case NC_REMOVE: {
		const char *base = strrchr(c->path, '/');

		x = nc_ctl_begin(c, NFS_PROG, NFS_V3, NFSPROC3_REMOVE);
		nfs3_enc_diropargs(&x, &c->dir, base ? base + 1 : c->path);
		break;
	}
	case NC_ACCESS:
		x = nc_ctl_begin(c, NFS_PROG, NFS_V3, NFSPROC3_ACCESS);
		nfs3_enc_access(&x, &c->fh,
				NFS3_ACCESS_READ | NFS3_ACCESS_MODIFY |
					NFS3_ACCESS_EXTEND);
		break;
	default:
		LB_ASSERT(!"no control call in this phase");
		return;
	}
	nc_ctl_end(c, &x);
}

static void nc_step(struct task *t)
{
	struct nfs_client *c = container_of(t, struct nfs_client, step_task);

	if (c->phase != NC_FAILED && c->phase != NC_READY)
		nc_ctl_next(c);
}

static void nc_setup_fail(struct nfs_client *c, const char *what, int err,
			  const char *name)
{
	lb_err(&c->host->log, "nfs: %s: %s: %s", c->bd.name, what,
	       name ? name : strerror(-err));
	nc_fail_setup(c, err);
}

static void nc_setup_reply(struct nfs_client *c, struct xdr_in *x)
{
	int err;

	c->ctl_busy = false;
	switch (c->phase) {
	case NC_PMAP_MNT:
	case NC_PMAP_NFS:
		err = pmap_decode_getport(x);
		if (err < 0) {
			nc_setup_fail(
				c,
				c->phase == NC_PMAP_MNT ?
					"no MOUNT v3 over TCP at the portmapper" :
					"no NFSv3 over TCP at the portmapper",
				err, NULL);
			return;
		}
		if (c->phase == NC_PMAP_MNT) {
			c->mount_port = (uint16_t)err;
			c->phase = NC_MOUNT;
		} else {
			c->nfs_port = (uint16_t)err;
			c->phase = NC_FSINFO;
		}
		break;
	case NC_MOUNT: {
		struct mnt3_res m;

		err = mnt3_dec_mnt(x, &m);
		if (err) {
			nc_setup_fail(c, "MNT", err,
				      err == -EBADMSG ?
					      NULL :
					      mnt3_stat_name(m.status));
			return;
		}
		if (!m.auth_sys)
			lb_warn(&c->host->log,
				"nfs: %s: the export does not list AUTH_SYS; trying it anyway",
				c->bd.name);
		c->root = c->dir = m.fh;
		c->phase = c->nfs_port ? NC_FSINFO : NC_PMAP_NFS;
		break;
	}
	case NC_FSINFO: {
		struct nfs3_fsinfo_res f;

		err = nfs3_dec_fsinfo(x, &f);
		if (err) {
			nc_setup_fail(c, "FSINFO", err,
				      err == -EBADMSG ?
					      NULL :
					      nfs3_stat_name(f.status));
			return;
		}
		c->rtmax = f.rtmax;
		c->wtmax = f.wtmax;
		c->max_request =
			lb_min(c->max_request, lb_min(f.rtmax, f.wtmax));
		c->max_request -= c->max_request % SECTOR_SIZE;
		if (!c->max_request) {
			nc_setup_fail(c, "FSINFO: rtmax/wtmax below a sector",
				      -EINVAL, NULL);
			return;
		}
		c->phase = NC_LOOKUP;
		break;
	}
	case NC_LOOKUP: {
		struct nfs3_lookup_res l;

		err = nfs3_dec_lookup(x, &l);
		if (err == -ENOENT && c->create_size && nc_last_component(c)) {
			c->need_bytes = c->create_size;
			c->after_fsstat = NC_CREATE;
			c->phase = NC_FSSTAT;
			break;
		}
		if (err) {
			nc_setup_fail(c, "LOOKUP", err,
				      err == -EBADMSG ?
					      NULL :
					      nfs3_stat_name(l.status));
			return;
		}
		c->fh = l.fh;
		if (!nc_last_component(c))
			c->dir = l.fh;
		break;
	}
	case NC_CREATE: {
		struct nfs3_create_res r;

		err = nfs3_dec_create(x, &r);
		if (err) {
			nc_setup_fail(c, "CREATE", err,
				      err == -EBADMSG ?
					      NULL :
					      nfs3_stat_name(r.status));
			return;
		}
		if (!r.has_fh) {
			/* no handle returned: LOOKUP the name again */
			const char *base = strrchr(c->path, '/');

			c->component = base ? base : c->path;
			c->phase = NC_LOOKUP;
			break;
		}
		c->fh = r.fh;
		c->phase = NC_GETATTR;
		break;
	}
	case NC_GETATTR: {
		struct nfs3_attr_res a;

		err = nfs3_dec_getattr(x, &a);
		if (err) {
			nc_setup_fail(c, "GETATTR", err,
				      err == -EBADMSG ?
					      NULL :
					      nfs3_stat_name(a.status));
			return;
		}
		if (a.attr.type != NF3REG) {
			nc_setup_fail(c, c->path, -EINVAL,
				      "not a regular file");
			return;
		}
		c->size = a.attr.size;
		if (c->grow && !c->grown && c->size < c->create_size) {
			c->need_bytes = c->create_size - c->size;
			c->after_fsstat = NC_SETATTR;
			c->phase = NC_FSSTAT;
			break;
		}
		c->phase = NC_ACCESS;
		break;
	}
	case NC_FSSTAT: {
		struct nfs3_fsstat_res f;

		err = nfs3_dec_fsstat(x, &f);
		if (err) {
			nc_setup_fail(c, "FSSTAT", err,
				      err == -EBADMSG ?
					      NULL :
					      nfs3_stat_name(f.status));
			return;
		}
		/* a sparse file may take less; a swap file must not fail later */
		if (f.abytes < c->need_bytes) {
			lb_err(&c->host->log,
			       "nfs: %s: %s needs %llu more bytes, the export has %llu bytes free",
			       c->bd.name, c->path,
			       (unsigned long long)c->need_bytes,
			       (unsigned long long)f.abytes);
			nc_fail_setup(c, -ENOSPC);
			return;
		}
		c->phase = c->after_fsstat;
		break;
	}
	case NC_SETATTR: {
		struct nfs3_wcc_res r;

		err = nfs3_dec_wcc_res(x, &r);
		if (err) {
			nc_setup_fail(c, "SETATTR (growing the file)", err,
				      err == -EBADMSG ?
					      NULL :
					      nfs3_stat_name(r.status));
			return;
		}
		lb_info(&c->host->log,
			"nfs: %s: %s grown from %llu to %llu bytes", c->bd.name,
			c->path, (unsigned long long)c->size,
			(unsigned long long)c->create_size);
		c->grown = true;
		c->phase = NC_GETATTR;
		break;
	}
	case NC_REMOVE: {
		struct nfs3_wcc_res r;

		err = nfs3_dec_wcc_res(x, &r);
		if (err) {
			nc_setup_fail(c, "REMOVE", err,
				      err == -EBADMSG ?
					      NULL :
					      nfs3_stat_name(r.status));
			return;
		}
		lb_info(&c->host->log, "nfs: %s: removed %s", c->bd.name,
			c->path);
		nc_remove_over(c, 0);
		return;
	}
	case NC_ACCESS: {
		struct nfs3_access_res r;
		const uint32_t want = NFS3_ACCESS_READ | NFS3_ACCESS_MODIFY |
				      NFS3_ACCESS_EXTEND;

		err = nfs3_dec_access(x, &r);
		if (err) {
			nc_setup_fail(c, "ACCESS", err,
				      err == -EBADMSG ?
					      NULL :
					      nfs3_stat_name(r.status));
			return;
		}
		if ((r.access & want) != want) {
			/* the pager writes back: refuse now, not at the first WRITE */
			lb_err(&c->host->log,
			       "nfs: %s: no permission to %s %s (uid %u gid %u; the server grants access 0x%x)",
			       c->bd.name,
			       r.access & NFS3_ACCESS_READ ? "write" :
							     "read and write",
			       c->path, c->auth.uid, c->auth.gid, r.access);
			nc_fail_setup(c, -EACCES);
			return;
		}
		rpc_call_done(&c->calls, c->ctl);
		nc_attach(c);
		return;
	}
	default:
		return;
	}
	/* a step may change connections: not inside this socket's callback */
	task_queue(c->host->loop, &c->step_task);
}

/* ---- receiving ---------------------------------------------------------------- */

/* The slot of the call a reply with @xid answers, or -1. */
static int nc_reply_slot(struct nfs_client *c, uint32_t xid)
{
	int slot = rpc_call_find(&c->calls, xid);

	if (slot < 0 || c->calls.slot[slot].resend)
		return -1;
	if ((unsigned)slot == c->ctl)
		return c->ctl_busy && c->ctl_sent >= c->ctl_len ? slot : -1;
	if (!c->slot_rq[slot] ||
	    ((struct nc_rq *)blk_rq_pdu(c->slot_rq[slot]))->state != NC_RQ_SENT)
		return -1;
	return slot;
}

static void nc_record(struct nfs_client *c)
{
	struct rpc_reply_hdr h;
	struct xdr_in x;
	int slot, err;

	xdr_in_init(&x, c->rec, c->rec_len);
	err = rpc_decode_reply(&x, &h);
	if (err == -EBADMSG) {
		counter_inc(&c->st.bad_replies);
		lb_warn(&c->host->log,
			"nfs: %s: dropped a record that is not an RPC reply",
			c->bd.name);
		return;
	}
	slot = nc_reply_slot(c, h.xid);
	if (slot < 0) {
		/* a late duplicate, or a server answering what we never asked */
		counter_inc(&c->st.unknown_xids);
		return;
	}
	counter_inc(&c->st.replies);
	if (err) {
		counter_inc(&c->st.rpc_errors);
		lb_warn(&c->host->log, "nfs: %s: the server refused a call: %s",
			c->bd.name, rpc_reply_name(&h));
		if ((unsigned)slot == c->ctl) {
			c->ctl_busy = false;
			if (c->phase != NC_READY) {
				if (h.reply_stat == RPC_MSG_DENIED &&
				    h.stat == RPC_AUTH_ERROR &&
				    h.auth_stat == RPC_AUTH_TOOWEAK &&
				    !c->secure)
					lb_err(&c->host->log,
					       "nfs: %s: the server wants a privileged source port: add ?secure=1 to the URI",
					       c->bd.name);
				nc_fail_setup(c, err);
				return;
			}
			/* a refused COMMIT: the writes waiting on it fail */
			c->commit_seq = c->seq;
			rpc_call_done(&c->calls, c->ctl);
			struct blk_request *rq, *tmp;

			list_for_each_entry_safe(rq, tmp, &c->rqs, node)
				if (((struct nc_rq *)blk_rq_pdu(rq))->state ==
				    NC_RQ_UNSTABLE)
					nc_complete(c, rq, -EIO);
			return;
		}
		nc_complete(c, c->slot_rq[slot], -EIO);
		return;
	}
	if ((unsigned)slot == c->ctl) {
		if (c->phase == NC_READY)
			nc_commit_reply(c, &x);
		else
			nc_setup_reply(c, &x);
		return;
	}
	nc_data_reply(c, c->slot_rq[slot], &x);
}

static void nc_rx_reset(struct nfs_client *c)
{
	c->rec_len = 0;
	c->rx_peek = true;
	c->rx_data = false;
	c->rx_need = 4; /* the XID first */
	c->rx_rq = NULL;
}

static uint32_t nc_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* A malformed READ result: nothing completes, every call goes again. */
static void nc_rx_bad(struct nfs_client *c, const char *why)
{
	counter_inc(&c->st.bad_replies);
	nc_broken(c, EPROTO, why);
}

/*
 * rec[] holds rx_need bytes of a record's head: a reply to a READ we wait
 * for, with its data to follow?  Then the data goes to the bio's pages.
 */
static void nc_rx_peek(struct nfs_client *c)
{
	struct nfs3_read_res r;
	struct blk_request *rq;
	struct nc_rq *p;
	uint32_t head;
	int slot = nc_reply_slot(c, nc_be32(c->rec)), need;

	if (slot < 0 || (unsigned)slot == c->ctl ||
	    c->slot_rq[slot]->bio->op != BIO_READ) {
		/* not a READ we wait for: the whole record into rec[] */
		c->rx_peek = false;
		return;
	}
	need = nfs3_read_reply_head(c->rec, c->rec_len, &head, &r);
	if (need > 0) {
		LB_ASSERT((uint32_t)need > c->rec_len &&
			  (uint32_t)need <= c->rec_max);
		c->rx_need = (uint32_t)need;
		return;
	}
	c->rx_peek = false;
	if (need < 0)
		return; /* an error result, or malformed: decoded whole */
	rq = c->slot_rq[slot];
	p = blk_rq_pdu(rq);
	LB_ASSERT(head == c->rec_len);
	if (r.count > p->count) {
		nc_rx_bad(c, "a READ reply with more data than asked for");
		return;
	}
	LB_ASSERT(p->progress + p->count <= rq->bio->size);
	c->rx_data = true;
	c->rx_rq = rq;
	c->rx_count = r.count;
	c->rx_total = xdr_pad4(r.count);
	c->rx_done = 0;
	c->rx_eof = r.eof;
}

/*
 * Data and padding all in while the record goes on (a fragment not done):
 * more bytes than the READ result says.  A record may still end with an
 * empty last fragment.
 */
static bool nc_rx_data_fits(struct nfs_client *c)
{
	if (c->rx_done < c->rx_total || !c->rx.in_frag)
		return true;
	nc_rx_bad(c, "a READ reply longer than its data");
	return false;
}

/* Where the next bytes of READ data go, and how many may go there. */
static uint32_t nc_rx_data_dst(struct nfs_client *c, uint8_t **dst)
{
	struct blk_request *rq = c->rx_rq;

	if (rq && c->rx_done < c->rx_count) {
		struct nc_rq *p = blk_rq_pdu(rq);
		const struct bio_vec *v = rq->bio->vec;
		uint32_t off = p->progress + c->rx_done;

		while (off >= v->len) {
			off -= v->len;
			v++;
		}
		*dst = (uint8_t *)page_address(c->mm, v->page) + v->off + off;
		return lb_min(v->len - off, c->rx_count - c->rx_done);
	}
	/* the padding, or data of a READ that ended meanwhile */
	*dst = c->stage;
	return lb_min(c->rx_total - c->rx_done, (uint32_t)NC_STAGE);
}

/* The whole READ reply is in: the bio's pages hold its data. */
static void nc_read_done(struct nfs_client *c)
{
	struct blk_request *rq = c->rx_rq;
	struct nc_rq *p;

	p = rq ? blk_rq_pdu(rq) : NULL;
	if (!p || p->slot < 0 || c->slot_rq[p->slot] != rq ||
	    p->state != NC_RQ_SENT || c->calls.slot[p->slot].resend) {
		/* its call ended or went again while the data came */
		counter_inc(&c->st.unknown_xids);
		return;
	}
	counter_inc(&c->st.replies);
	counter_inc(&c->st.direct_reads);
	nc_call_over(c, p);
	nc_read_advance(c, rq, c->rx_count, c->rx_eof);
}

/*
 * Read the stream exactly: a record mark, a record's head into rec[], a
 * READ reply's data into its pages, anything else into rec[] whole.  No
 * read takes bytes beyond what the current step wants, so no data passes
 * through a buffer of ours.
 */
static void nc_rx(struct nfs_client *c)
{
	while (c->tp && !c->destroying && !c->rx_dead) {
		struct tcp_sock *tp = c->tp;
		struct rpc_rec_span sp;
		uint8_t *dst;
		uint32_t want;
		ssize_t n;
		int used;

		if (!c->rx.in_frag) {
			dst = c->stage;
			want = RPC_REC_MARK_LEN - c->rx.mark_have;
		} else if (c->rx_data) {
			want = lb_min(nc_rx_data_dst(c, &dst), c->rx.frag_left);
		} else {
			dst = c->rec + c->rec_len;
			want = c->rx.frag_left;
			if (c->rx_peek)
				want = lb_min(want, c->rx_need - c->rec_len);
		}
		LB_ASSERT(want > 0);
		n = tcp_recv(tp, dst, want);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			nc_broken(c, n ? (int)-n : ECONNRESET,
				  n ? "receive failed" :
				      "the server closed the connection");
			return;
		}
		used = rpc_rec_next(&c->rx, dst, (size_t)n, &sp);
		if (used < 0) {
			counter_inc(&c->st.oversized_records);
			nc_broken(c, EPROTO, "a record over our largest");
			return;
		}
		LB_ASSERT(used == n);
		if (c->rx_data) {
			c->rx_done += sp.len;
			if (sp.rec_end) {
				if (c->rx_done < c->rx_total) {
					nc_rx_bad(
						c,
						"a READ reply shorter than its count");
					return;
				}
				nc_read_done(c);
				nc_rx_reset(c);
			} else if (!nc_rx_data_fits(c)) {
				return;
			}
			continue;
		}
		LB_ASSERT(!sp.len || sp.data == c->rec + c->rec_len);
		c->rec_len += sp.len;
		LB_ASSERT(c->rec_len <= c->rec_max);
		if (sp.rec_end) {
			nc_record(c);
			nc_rx_reset(c);
			/* a setup step may have switched connections */
			if (c->tp != tp)
				return;
			continue;
		}
		if (c->rx_peek && c->rec_len == c->rx_need) {
			nc_rx_peek(c);
			if (c->rx_data && !nc_rx_data_fits(c))
				return;
		}
	}
}

static struct nfs_client *nc_sk(struct sock *sk)
{
	struct nfs_client *c = sk->user;

	return c && c->tp == tcp_sk(sk) ? c : NULL;
}

static void nc_readable(struct sock *sk)
{
	struct nfs_client *c = nc_sk(sk);

	if (!c)
		return;
	nc_rx(c);
	if (c->phase == NC_READY) {
		nc_maybe_commit(c);
		nc_tx(c);
	}
}

static void nc_writable(struct sock *sk)
{
	struct nfs_client *c = nc_sk(sk);

	if (!c)
		return;
	if (!c->connected) {
		c->connected = true;
		if (c->phase == NC_READY) {
			c->backoff_ns = c->reconnect_ns;
			counter_inc(&c->st.connects);
			lb_info(&c->host->log,
				"nfs: %s: reconnected; sending %u calls again",
				c->bd.name, (unsigned)c->calls.busy);
		}
	}
	nc_tx(c);
}

static void nc_error(struct sock *sk, int err)
{
	struct nfs_client *c = nc_sk(sk);

	if (c)
		nc_broken(c, err, strerror(err));
}

static void nc_timeo(struct timer *t)
{
	struct nfs_client *c = container_of(t, struct nfs_client, timeo_timer);
	unsigned idx;
	int r;

	bool expired = false;

	/*
	 * TCP repairs losses; a call unanswered for timeo means a dead
	 * connection or a server that lost it: reconnect, and every call
	 * goes out again with its XID (the server's DRC knows them).
	 */
	while ((r = rpc_calls_expire(&c->calls, host_now(c->host), &idx)) !=
	       -ENOENT) {
		LB_ASSERT(r == 0); /* hard: never out of tries */
		expired = true;
	}
	if (expired && c->phase == NC_READY) {
		nc_broken(c, ETIMEDOUT, "a call went unanswered");
	} else if (expired && c->phase != NC_FAILED &&
		   c->setup_retries++ < NC_SETUP_RETRIES) {
		/* a set-up call: a new connection, the same call and XID */
		uint16_t port = c->peer.port;

		counter_inc(&c->st.retransmits);
		lb_warn(&c->host->log,
			"nfs: %s: no answer on port %u: connecting again",
			c->bd.name, port);
		nc_drop_socket(c);
		if (nc_open(c, port)) {
			nc_fail_setup(c, -ECONNREFUSED);
			return;
		}
		c->ctl_sent = 0;
	} else if (expired) {
		nc_fail_setup(c, -ETIMEDOUT);
	}
}

int nfs_client_remove(struct blkdev *bd, void (*done)(void *arg, int err),
		      void *arg)
{
	struct nfs_client *c = nc_of(bd);

	if (c->phase != NC_READY || !list_empty(&c->rqs) || c->ctl_busy)
		return -EBUSY;
	c->removed = done;
	c->removed_arg = arg;
	c->phase = NC_REMOVE;
	c->setup_retries = 0;
	nc_ctl_next(c);
	return 0;
}

static void nc_ready_fire(struct task *t)
{
	struct nfs_client *c = container_of(t, struct nfs_client, ready_task);

	if (c->ready)
		c->ready(&c->bd, 0, c->ready_arg);
}

/* ---- the block device ----------------------------------------------------------- */

static void nc_queue_rq(struct blkdev *bd, struct blk_request *rq)
{
	struct nfs_client *c = nc_of(bd);
	struct nc_rq *p = blk_rq_pdu(rq);
	struct bio *bio = rq->bio;

	memset(p, 0, offsetof(struct nc_rq, hdr));
	p->slot = -1;
	if (c->destroying || c->phase != NC_READY) {
		blk_end_request(rq, -EIO);
		return;
	}
	if (bio->op == BIO_FLUSH) {
		/* a WRITE completes only once stable: nothing to flush */
		blk_end_request(rq, 0);
		return;
	}
	if (bio->op != BIO_READ && bio->op != BIO_WRITE) {
		blk_end_request(rq, -EOPNOTSUPP);
		return;
	}
	p->stable = c->sync || (bio->flags & BIO_FUA);
	p->state = NC_RQ_QUEUED;
	list_add_tail(&rq->node, &c->rqs);
	nc_tx(c);
}

static const struct blkdev_ops nc_blk_ops = {
	.queue_rq = nc_queue_rq,
	.rq_pdu = sizeof(struct nc_rq),
};

int nfs_client_create(struct net *net, const struct nfs_client_config *cfg,
		      blk_ready_fn ready, void *arg, struct blkdev **out)
{
	const char *name = cfg->name ? cfg->name : "nfs0";
	const char *exp = cfg->export_path ? cfg->export_path : "/";
	struct nfs_client *c;
	int err;

	if (!cfg->ip || !cfg->path || !cfg->path[0] ||
	    strlen(cfg->path) > NC_MAX_PATH || strlen(exp) > MNT3_PATHLEN ||
	    strlen(name) >= sizeof(c->bd.name))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->queue_depth = cfg->queue_depth ? cfg->queue_depth : NC_DEFAULT_DEPTH;
	c->max_request = cfg->max_request ? cfg->max_request :
					    NC_DEFAULT_MAX_REQUEST;
	c->max_request =
		lb_min(c->max_request, (uint32_t)(BIO_MAX_VECS * PAGE_SIZE));
	c->rec_max = c->max_request + 1024;
	c->ctl = c->queue_depth;
	c->slots = calloc(c->queue_depth + 1, sizeof(*c->slots));
	c->slot_rq = calloc(c->queue_depth + 1, sizeof(*c->slot_rq));
	c->rec = malloc(c->rec_max);
	if (!c->slots || !c->slot_rq || !c->rec) {
		err = -ENOMEM;
		goto fail;
	}
	blk_init(&c->bd, net->host, name, &nc_blk_ops, c);
	c->net = net;
	c->host = net->host;
	c->mm = net->mm;
	c->peer.ip = htonl(cfg->ip);
	c->nfs_port = cfg->nfs_port;
	c->mount_port = cfg->mount_port;
	c->pmap_port = cfg->pmap_port ? cfg->pmap_port : PMAP_PORT;
	snprintf(c->export_path, sizeof(c->export_path), "%s", exp);
	snprintf(c->path, sizeof(c->path), "%s", cfg->path);
	c->component = c->path;
	c->auth.flavor = RPC_AUTH_SYS;
	c->auth.stamp = (uint32_t)prng_next(&net->host->prng);
	strcpy(c->auth.machine, NC_MACHINE);
	c->auth.uid = cfg->uid;
	c->auth.gid = cfg->gid;
	c->create_size = cfg->create_size & ~(uint64_t)(SECTOR_SIZE - 1);
	c->grow = cfg->grow;
	c->sync = cfg->sync;
	c->secure = cfg->secure;
	c->reconnect_ns = cfg->reconnect_ns ? cfg->reconnect_ns :
					      NC_DEFAULT_RECONNECT_NS;
	c->backoff_ns = c->reconnect_ns;
	c->ready = ready;
	c->ready_arg = arg;
	rpc_calls_init(&c->calls, c->slots, c->queue_depth + 1,
		       (uint32_t)prng_next(&net->host->prng),
		       cfg->timeo_ns ? cfg->timeo_ns : NC_DEFAULT_TIMEO_NS,
		       lb_max(cfg->timeo_ns, (uint64_t)NC_MAX_TIMEO_NS), 0);
	list_init(&c->rqs);
	timer_init(&c->retry_timer, nc_retry);
	timer_init(&c->timeo_timer, nc_timeo);
	timer_init(&c->wait_timer, nc_wait_fire);
	task_init(&c->down_task, nc_down);
	task_init(&c->ready_task, nc_ready_fire);
	task_init(&c->step_task, nc_step);
	c->phase = c->mount_port ? NC_MOUNT : NC_PMAP_MNT;
	err = nc_open(c, c->mount_port ? c->mount_port : c->pmap_port);
	if (err) {
		lb_err(&c->host->log, "nfs: %s: cannot connect: %s", name,
		       strerror(-err));
		goto fail;
	}
	nc_stats(c, true);
	nc_ctl_next(c);
	*out = &c->bd;
	return 0;
fail:
	free(c->rec);
	free(c->slot_rq);
	free(c->slots);
	free(c);
	return err;
}

void nfs_client_destroy(struct blkdev *bd)
{
	struct nfs_client *c = nc_of(bd);
	struct loop *l = c->host->loop;

	timer_cancel(l, &c->retry_timer);
	timer_cancel(l, &c->timeo_timer);
	timer_cancel(l, &c->wait_timer);
	task_cancel(l, &c->down_task);
	task_cancel(l, &c->ready_task);
	task_cancel(l, &c->step_task);
	c->destroying = true;
	while (!list_empty(&c->rqs))
		nc_complete(c,
			    list_first_entry(&c->rqs, struct blk_request, node),
			    -EIO);
	while (bd->attached && !list_empty(&bd->waiting))
		bd->kick.fn(&bd->kick);
	nc_drop_socket(c);
	if (bd->attached)
		LB_ASSERT(blk_detach(bd) == 0);
	nc_stats(c, false);
	free(c->rec);
	free(c->slot_rq);
	free(c->slots);
	free(c);
}
