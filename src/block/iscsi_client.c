// SPDX-License-Identifier: MIT
/*
 * iscsi_client.c - the iSCSI initiator as a block device: its connection,
 * losing and re-establishing it, the setup commands, and sending.
 *
 * The connection is torn down from a task (down_task), never inside a
 * socket callback.  Requests stay on c->rqs in dispatch order until their
 * status arrives, so after a new login every one without status is sent
 * again in that order (ERL 0 has no task recovery: the new session
 * re-issues).  Sending is one PDU at a time: Data-Out answering an R2T
 * goes before new commands so the target's transfers finish, and a
 * command goes only while its CmdSN is within MaxCmdSN.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "blk_sock.h"
#include "core/log.h"
#include "core/prng.h"
#include "iscsi_client_impl.h"
#include "mm/slab.h"

#define ISCSI_DEFAULT_DEPTH 32
#define ISCSI_DEFAULT_MAX_REQUEST (64u * 1024)
#define ISCSI_DEFAULT_RECONNECT_NS (100 * NSEC_PER_MSEC)
#define ISCSI_DEFAULT_DEAD_NS (60 * NSEC_PER_SEC)
#define ISCSI_DEFAULT_TIMEOUT_NS (15 * NSEC_PER_SEC)
#define ISCSI_BACKOFF_MAX_NS (5 * NSEC_PER_SEC)
#define ISCSI_TICK_NS (500 * NSEC_PER_MSEC)

/*
 * What block.<dev> holds for iSCSI besides the bio and request pools: per
 * request nothing (the task's state, R2T included, is in the request's
 * pdu; headers are copied into the socket's send queue, bounded by
 * net.tx.<id>; read data lands in the bio), once per device the tcp_sock
 * of a reconnect.  The socket reserves move into block.<dev> while there
 * is no connection (blk_sock.h).  None of it grows with the negotiated
 * MaxBurstLength or MaxRecvDataSegmentLength: data is never staged.
 */
#define ISCSI_RSV_PER_REQUEST 0
#define ISCSI_RSV_FIXED (PAGES_FOR(sizeof(struct tcp_sock)))

_Static_assert(sizeof(struct iscsi_client) <= PAGE_SIZE,
	       "the client lives in one page");
_Static_assert(sizeof(struct iscsi_rq) <= 128, "small per-request state");

static const char *const iscsi_stat_names[] = {
#define ISCSI_STAT_NAME(name) #name,
	ISCSI_CLIENT_STATS(ISCSI_STAT_NAME)
#undef ISCSI_STAT_NAME
};

static void iscsi_sk_readable(struct sock *sk);
static void iscsi_sk_writable(struct sock *sk);
static void iscsi_sk_error(struct sock *sk, int err);

static const struct sock_ops iscsi_sock_ops = {
	.readable = iscsi_sk_readable,
	.writable = iscsi_sk_writable,
	.error = iscsi_sk_error,
};

static const char *iscsi_peer(const struct iscsi_client *c, char *buf,
			      size_t len)
{
	uint32_t ip = ntohl(c->peer.ip);

	snprintf(buf, len, "%u.%u.%u.%u:%u", ip >> 24, ip >> 16 & 255,
		 ip >> 8 & 255, ip & 255, c->peer.port);
	return buf;
}

void iscsi_conn_broken(struct iscsi_client *c, int err, const char *fmt, ...)
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
	if (c->tp)
		c->tp->sk.ops = NULL;
	lb_warn(&c->host->log, "iscsi: %s: connection dropped: %s", c->bd.name,
		why);
	task_queue(c->host->loop, &c->down_task);
}

void iscsi_proto_error(struct iscsi_client *c, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	counter_inc(&c->st.proto_errors);
	iscsi_conn_broken(c, EPROTO, "protocol error: %s", why);
}

static bool iscsi_busy(const struct iscsi_client *c)
{
	struct blk_request *rq;

	if (c->state == ISCSI_C_LOGIN || c->state == ISCSI_C_SETUP)
		return true;
	list_for_each_entry(rq, &c->rqs, node)
		if (((struct iscsi_rq *)blk_rq_pdu(rq))->state == ISCSI_RQ_SENT)
			return true;
	return false;
}

static void iscsi_tick_arm(struct iscsi_client *c)
{
	if (!timer_armed(&c->tick_timer))
		timer_arm_in(c->host->loop, &c->tick_timer, ISCSI_TICK_NS);
}

/* ---- connection ----------------------------------------------------------- */

/*
 * The connection's send and receive buffers, which size its reserves
 * net.tx and net.rxq: ISCSI_SOCK_BURSTS bursts each way, a burst being the
 * MaxBurstLength we offer at login (the largest request: no sequence of a
 * bio is longer), which bounds the negotiated one (numbers take the
 * minimum).  Data-In streams into the bio's pages as it arrives and write
 * data goes by page reference, so the buffers hold no PDU whole; they set
 * how much is in flight, one burst on the wire while the next is queued.
 * TCP's defaults (256 KiB each) would give 1.1 MB of reserve at queue depth
 * 32 for no gain: a burst is at most 64 KiB.
 */
#define ISCSI_SOCK_BURSTS 2
#define ISCSI_SOCK_BUF_MIN (64u * 1024) /* small requests: still a window */

static uint32_t iscsi_sock_buf(const struct iscsi_client *c)
{
	return lb_max(ISCSI_SOCK_BURSTS * iscsi_offer_burst(c),
		      ISCSI_SOCK_BUF_MIN);
}

static int iscsi_open(struct iscsi_client *c)
{
	struct tcp_sock *tp;
	uint32_t buf = iscsi_sock_buf(c);
	int err = blk_sock_open(&c->bd, c->net, &iscsi_sock_ops, c, &c->peer,
				buf, buf, &c->moved_pages, &tp);

	if (err)
		return err;
	c->tp = tp;
	c->state = ISCSI_C_CONNECTING;
	return 0;
}

static uint64_t iscsi_next_backoff(struct iscsi_client *c)
{
	uint64_t cur = c->backoff_ns;
	uint64_t cap = lb_max(c->reconnect_ns, (uint64_t)ISCSI_BACKOFF_MAX_NS);

	c->backoff_ns = lb_min(cur * 2, cap);
	return cur;
}

static void iscsi_down(struct task *t)
{
	struct iscsi_client *c =
		container_of(t, struct iscsi_client, down_task);
	bool was_up = c->state == ISCSI_C_READY;
	struct blk_request *rq;
	char peer[32];

	c->broken = false;
	if (c->tp) {
		struct tcp_sock *tp = c->tp;

		c->tp = NULL;
		blk_sock_drop(&c->bd, tp, false, !c->destroying,
			      &c->moved_pages);
	}
	timer_cancel(c->host->loop, &c->tick_timer);
	timer_cancel(c->host->loop, &c->busy_timer);
	c->nr_held = 0;
	c->busy_ns = ISCSI_BUSY_MIN_NS;
	c->rx_rq = NULL;
	c->rxh_have = 0;
	c->rx_in_data = false;
	c->tx.busy = false;
	c->tx.rq = NULL;
	c->icmd_pending = c->icmd_sent = false;
	c->nop_reply = c->ping_out = c->ping_due = false;
	c->digests_on = false;
	list_for_each_entry(rq, &c->rqs, node) {
		struct iscsi_rq *p = blk_rq_pdu(rq);

		p->state = ISCSI_RQ_QUEUED;
		p->cmd_in_tx = false;
		p->r2t_active = false;
	}
	if (was_up)
		counter_inc(&c->st.disconnects);
	else
		counter_inc(&c->st.connect_failures);
	if (!c->bd.attached) {
		c->state = ISCSI_C_FAILED;
		lb_err(&c->host->log, "iscsi: %s: cannot use %s at %s: %s",
		       c->bd.name, c->target, iscsi_peer(c, peer, sizeof(peer)),
		       strerror(c->err));
		if (c->ready)
			c->ready(&c->bd, -c->err, c->ready_arg);
		return; /* the callback may have destroyed us */
	}
	c->state = ISCSI_C_DOWN;
	if (!c->down_since) {
		c->down_since = host_now(c->host);
		timer_arm_in(c->host->loop, &c->dead_timer, c->dead_ns);
	}
	lb_info(&c->host->log,
		"iscsi: %s: logging in again to %s in %llu ms, %u requests outstanding",
		c->bd.name, iscsi_peer(c, peer, sizeof(peer)),
		(unsigned long long)(c->backoff_ns / NSEC_PER_MSEC),
		(unsigned)c->bd.st.inflight.v);
	timer_arm_in(c->host->loop, &c->retry_timer, iscsi_next_backoff(c));
}

static void iscsi_retry(struct timer *t)
{
	struct iscsi_client *c =
		container_of(t, struct iscsi_client, retry_timer);
	int err;

	counter_inc(&c->st.reconnects);
	err = iscsi_open(c);
	if (err) {
		counter_inc(&c->st.connect_failures);
		lb_warn(&c->host->log, "iscsi: %s: reconnect failed: %s",
			c->bd.name, strerror(-err));
		timer_arm_in(c->host->loop, &c->retry_timer,
			     iscsi_next_backoff(c));
	}
}

void iscsi_complete(struct iscsi_client *c, struct blk_request *rq, int err)
{
	struct iscsi_rq *p = blk_rq_pdu(rq);

	LB_ASSERT(c->tx.rq != rq || !c->tx.busy);
	if (p->state == ISCSI_RQ_HELD) {
		LB_ASSERT(c->nr_held > 0);
		c->nr_held--;
	}
	list_del(&rq->node);
	blk_end_request(rq, err);
}

void iscsi_requeue(struct iscsi_client *c, struct blk_request *rq)
{
	struct iscsi_rq *p = blk_rq_pdu(rq);

	p->state = ISCSI_RQ_QUEUED;
	p->r2t_active = false;
	counter_inc(&c->st.retries);
	iscsi_tx(c);
}

void iscsi_hold(struct iscsi_client *c, struct blk_request *rq, uint8_t status)
{
	struct iscsi_rq *p = blk_rq_pdu(rq);

	LB_ASSERT(p->state == ISCSI_RQ_SENT);
	p->state = ISCSI_RQ_HELD;
	p->r2t_active = false;
	c->nr_held++;
	counter_inc(status == SCSI_BUSY ? &c->st.busy : &c->st.task_set_full);
	if (!timer_armed(&c->busy_timer))
		timer_arm_in(c->host->loop, &c->busy_timer, c->busy_ns);
}

/* The oldest held task goes again; NULL if none is held. */
static struct blk_request *release_one(struct iscsi_client *c)
{
	struct blk_request *rq;

	if (!c->nr_held)
		return NULL;
	list_for_each_entry(rq, &c->rqs, node) {
		struct iscsi_rq *p = blk_rq_pdu(rq);

		if (p->state != ISCSI_RQ_HELD)
			continue;
		p->state = ISCSI_RQ_QUEUED;
		c->nr_held--;
		counter_inc(&c->st.retries);
		return rq;
	}
	LB_ASSERT(!"nr_held counts a held task");
	return NULL;
}

void iscsi_release_held(struct iscsi_client *c)
{
	/* progress at the target: back-offs start short again */
	c->busy_ns = ISCSI_BUSY_MIN_NS;
	if (!release_one(c))
		return;
	timer_cancel(c->host->loop, &c->busy_timer);
	if (c->nr_held)
		timer_arm_in(c->host->loop, &c->busy_timer, c->busy_ns);
	iscsi_tx(c);
}

/* Nothing of ours ended for a back-off: the oldest held task tries again. */
static void iscsi_busy_expired(struct timer *t)
{
	struct iscsi_client *c =
		container_of(t, struct iscsi_client, busy_timer);
	struct blk_request *rq = release_one(c);
	struct iscsi_rq *p;

	if (!rq)
		return;
	c->busy_ns = lb_min(c->busy_ns * 2, (uint64_t)ISCSI_BUSY_MAX_NS);
	if (c->nr_held)
		timer_arm_in(c->host->loop, &c->busy_timer, c->busy_ns);
	p = blk_rq_pdu(rq);
	if (++p->busy_waits > ISCSI_MAX_BUSY_WAITS) {
		counter_inc(&c->st.busy_giveups);
		lb_err(&c->host->log,
		       "iscsi: %s: %s of %u at %llu: the target stayed busy through %u back-offs: EIO",
		       c->bd.name, bio_op_name(rq->bio->op), rq->bio->size,
		       (unsigned long long)rq->bio->offset,
		       ISCSI_MAX_BUSY_WAITS);
		iscsi_complete(c, rq, -EIO);
		return;
	}
	iscsi_tx(c);
}

struct blk_request *iscsi_rq_by_itt(struct iscsi_client *c, uint32_t itt)
{
	struct blk_request *rq;

	if (!c->bd.attached || (itt & 0xffff) >= c->bd.lim.queue_depth)
		return NULL;
	rq = blk_rq_from_tag(&c->bd, itt & 0xffff);
	if (!rq || ((struct iscsi_rq *)blk_rq_pdu(rq))->itt != itt ||
	    ((struct iscsi_rq *)blk_rq_pdu(rq))->state != ISCSI_RQ_SENT)
		return NULL;
	return rq;
}

static void iscsi_dead(struct timer *t)
{
	struct iscsi_client *c =
		container_of(t, struct iscsi_client, dead_timer);
	unsigned n = 0;
	struct blk_request *rq;

	if (c->state == ISCSI_C_READY)
		return;
	c->dead = true;
	list_for_each_entry(rq, &c->rqs, node)
		n++;
	lb_err(&c->host->log,
	       "iscsi: %s: no session for %llu ms: failing %u requests with EIO until the target is back",
	       c->bd.name, (unsigned long long)(c->dead_ns / NSEC_PER_MSEC), n);
	while (!list_empty(&c->rqs)) {
		counter_inc(&c->st.failed_dead);
		iscsi_complete(
			c, list_first_entry(&c->rqs, struct blk_request, node),
			-EIO);
	}
}

static void iscsi_ready(struct task *t)
{
	struct iscsi_client *c =
		container_of(t, struct iscsi_client, ready_task);

	if (c->ready)
		c->ready(&c->bd, 0, c->ready_arg);
}

/* Silence with work outstanding: ping, then give up on the connection. */
static void iscsi_tick(struct timer *t)
{
	struct iscsi_client *c =
		container_of(t, struct iscsi_client, tick_timer);
	uint64_t silent = host_now(c->host) - c->last_rx;

	if (!c->tp || c->broken || !iscsi_busy(c))
		return;
	if (silent >= c->task_timeout_ns) {
		counter_inc(&c->st.timeouts);
		iscsi_conn_broken(c, ETIMEDOUT,
				  "no answer from the target for %llu ms",
				  (unsigned long long)(silent / NSEC_PER_MSEC));
		return;
	}
	if (silent >= c->ping_ns && !c->ping_out && c->state >= ISCSI_C_SETUP) {
		c->ping_due = true;
		iscsi_tx(c);
	}
	iscsi_tick_arm(c);
}

/* ---- setup: TEST UNIT READY, READ CAPACITY -------------------------------- */

void iscsi_setup_next(struct iscsi_client *c)
{
	switch (c->setup_step) {
	case ISCSI_SETUP_TUR:
		scsi_cdb_test_unit_ready(c->icdb);
		c->icmd_len = 0;
		break;
	case ISCSI_SETUP_RC16:
		scsi_cdb_read_capacity16(c->icdb, 32);
		c->icmd_len = 32;
		break;
	case ISCSI_SETUP_RC10:
		scsi_cdb_read_capacity10(c->icdb);
		c->icmd_len = 8;
		break;
	case ISCSI_SETUP_MODE_SENSE:
		scsi_cdb_mode_sense6(c->icdb, 4);
		c->icmd_len = 4;
		break;
	case ISCSI_SETUP_VPD_LBP:
		scsi_cdb_inquiry(c->icdb, true, 0xb2, 8);
		c->icmd_len = 8;
		break;
	default:
		scsi_cdb_inquiry(c->icdb, true, 0xb0, 64);
		c->icmd_len = 64;
		break;
	}
	_Static_assert(ISCSI_IBUF >= 64, "the Block Limits page fits");
	c->icmd_got = 0;
	c->icmd_pending = true;
	c->icmd_sent = false;
	iscsi_tx(c);
}

void iscsi_logged_in(struct iscsi_client *c)
{
	c->state = ISCSI_C_SETUP;
	c->setup_step = 0;
	c->setup_tries = 0;
	iscsi_setup_next(c);
}

static int iscsi_limits(struct iscsi_client *c, struct blk_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	if (c->block_size != SECTOR_SIZE) {
		lb_err(&c->host->log,
		       "iscsi: %s: logical blocks of %u bytes: only %u is supported",
		       c->bd.name, c->block_size, SECTOR_SIZE);
		return -EOPNOTSUPP;
	}
	lim->capacity = c->capacity;
	lim->max_request = lb_min(c->cfg_max_request,
				  (uint32_t)(BIO_MAX_VECS * PAGE_SIZE));
	lim->max_request -= lim->max_request % SECTOR_SIZE;
	lim->queue_depth = c->queue_depth;
	lim->flush = true;
	/* FUA only where MODE SENSE says the target honours it (DPOFUA) */
	lim->fua = c->dpofua;
	/* UNMAP per the Block Limits VPD; zeroes by WRITE SAME(16) */
	lim->trim = c->lbpu && c->unmap_max && c->unmap_max_desc;
	lim->write_zeroes = c->lbpws;
	lim->rsv_per_request = ISCSI_RSV_PER_REQUEST;
	lim->rsv_fixed = ISCSI_RSV_FIXED;
	return 0;
}

void iscsi_setup_done(struct iscsi_client *c)
{
	struct blk_limits lim;
	struct blk_request *rq;
	unsigned n = 0;
	int err = iscsi_limits(c, &lim);

	if (err) {
		counter_inc(&c->st.login_failures);
		iscsi_conn_broken(c, -err, "unusable LUN");
		return;
	}
	if (!c->bd.attached) {
		/* after login: the reserve follows what was negotiated */
		err = blk_attach(&c->bd, &lim);
		if (err) {
			iscsi_conn_broken(c, -err, "the device cannot attach");
			return;
		}
		c->state = ISCSI_C_READY;
		counter_inc(&c->st.connects);
		lb_info(&c->host->log,
			"iscsi: %s: %s LUN %u, %llu bytes; MaxRecvDataSegmentLength %u/%u, FirstBurst %u, MaxBurst %u, ImmediateData %s, InitialR2T %s, digests %s/%s; FUA %s, UNMAP %s (%u blocks, granularity %u), WRITE SAME %s",
			c->bd.name, c->target, c->lun,
			(unsigned long long)c->capacity, c->p.max_recv_dsl,
			c->p.max_xmit_dsl, c->p.first_burst, c->p.max_burst,
			c->p.immediate_data ? "Yes" : "No",
			c->p.initial_r2t ? "Yes" : "No",
			c->p.header_digest ? "CRC32C" : "None",
			c->p.data_digest ? "CRC32C" : "None",
			lim.fua ? "yes" : "no", lim.trim ? "yes" : "no",
			c->unmap_max, c->unmap_gran,
			!lim.write_zeroes ? "no" :
			c->lbprz	  ? "with UNMAP" :
					    "writing zeroes");
		task_queue(c->host->loop, &c->ready_task);
		return;
	}
	/* what may be queued must still be possible */
	if (lim.capacity != c->bd.lim.capacity || (c->bd.lim.fua && !lim.fua) ||
	    (c->bd.lim.trim && !lim.trim) ||
	    (c->bd.lim.write_zeroes && !lim.write_zeroes)) {
		counter_inc(&c->st.login_failures);
		lb_err(&c->host->log,
		       "iscsi: %s: the LUN changed across the reconnect: %llu bytes, FUA %d, UNMAP %d, WRITE SAME %d; was %llu bytes, %d, %d, %d",
		       c->bd.name, (unsigned long long)lim.capacity, lim.fua,
		       lim.trim, lim.write_zeroes,
		       (unsigned long long)c->bd.lim.capacity, c->bd.lim.fua,
		       c->bd.lim.trim, c->bd.lim.write_zeroes);
		iscsi_conn_broken(c, EIO, "LUN changed");
		return;
	}
	list_for_each_entry(rq, &c->rqs, node)
		n++;
	lb_info(&c->host->log,
		"iscsi: %s: logged in again after %llu ms; re-issuing %u commands",
		c->bd.name,
		(unsigned long long)((host_now(c->host) - c->down_since) /
				     NSEC_PER_MSEC),
		n);
	c->state = ISCSI_C_READY;
	counter_inc(&c->st.connects);
	c->down_since = 0;
	c->dead = false;
	c->backoff_ns = c->reconnect_ns;
	timer_cancel(c->host->loop, &c->dead_timer);
	iscsi_tx(c);
}

/* ---- sending -------------------------------------------------------------- */

static uint32_t bio_crc(const struct iscsi_client *c, const struct bio *bio,
			uint32_t off, uint32_t len)
{
	const struct bio_vec *v = bio->vec;
	uint32_t crc = 0;

	while (off >= v->len) {
		off -= v->len;
		v++;
	}
	while (len) {
		uint32_t n = lb_min(len, v->len - off);

		crc = iscsi_crc32c(crc,
				   (const uint8_t *)page_address(c->mm,
								 v->page) +
					   v->off + off,
				   n);
		len -= n;
		off = 0;
		v++;
	}
	return crc;
}

/*
 * Start sending @h with @dlen bytes of data: @flat's if given (control
 * data, an UNMAP parameter list, WRITE SAME's block), else @rq's bio's
 * from @off.
 */
static void tx_start(struct iscsi_client *c, struct iscsi_bhs *h,
		     struct blk_request *rq, uint32_t off, const uint8_t *flat,
		     uint32_t dlen)
{
	struct iscsi_txpdu *x = &c->tx;
	uint32_t pad = iscsi_pad4(dlen) - dlen;
	static const uint8_t zero[3];

	LB_ASSERT(!x->busy);
	LB_ASSERT(dlen <= c->p.max_xmit_dsl);
	h->dlen = dlen;
	h->w[ISCSI_W_EXPSTATSN] = c->exp_statsn;
	iscsi_bhs_encode(x->hdr, h);
	x->hlen = ISCSI_BHS_LEN;
	if (c->digests_on && c->p.header_digest) {
		iscsi_digest_put(x->hdr + ISCSI_BHS_LEN,
				 iscsi_crc32c(0, x->hdr, ISCSI_BHS_LEN));
		x->hlen += ISCSI_DIGEST_LEN;
	}
	x->rq = rq;
	x->flat = flat;
	x->data_off = off;
	x->dlen = dlen;
	memset(x->trl, 0, sizeof(x->trl));
	x->trl_len = pad;
	if (dlen && c->digests_on && c->p.data_digest) {
		uint32_t crc = flat ? iscsi_crc32c(0, flat, dlen) :
				      bio_crc(c, rq->bio, off, dlen);

		iscsi_digest_put(x->trl + pad, iscsi_crc32c(crc, zero, pad));
		x->trl_len += ISCSI_DIGEST_LEN;
	}
	x->done = 0;
	x->busy = true;
}

/* 0: the PDU is with TCP; -EAGAIN: continue on writable; -errno */
static int tx_continue(struct iscsi_client *c)
{
	struct iscsi_txpdu *x = &c->tx;
	struct tcp_sock *tp = c->tp;

	while (x->done < x->hlen + x->dlen + x->trl_len) {
		size_t space = tcp_send_space(tp);
		ssize_t n;

		if (!space)
			return -EAGAIN;
		if (x->done < x->hlen) {
			n = tcp_send(tp, x->hdr + x->done, x->hlen - x->done);
		} else if (x->done < x->hlen + x->dlen && x->flat) {
			uint32_t at = x->done - x->hlen;

			n = tcp_send(tp, x->flat + at, x->dlen - at);
		} else if (x->done < x->hlen + x->dlen) {
			uint32_t at = x->done - x->hlen;
			uint32_t off = x->data_off + at;
			const struct bio_vec *v = x->rq->bio->vec;

			while (off >= v->len) {
				off -= v->len;
				v++;
			}
			n = tcp_send_page(
				tp, v->page, v->off + off,
				(uint32_t)lb_min((size_t)lb_min(v->len - off,
								x->dlen - at),
						 space));
		} else {
			uint32_t at = x->done - x->hlen - x->dlen;

			n = tcp_send(tp, x->trl + at, x->trl_len - at);
		}
		if (n == -EAGAIN)
			return -EAGAIN;
		if (n == -ENOMEM) {
			sock_wait_memory(&tp->sk);
			return -EAGAIN;
		}
		if (n < 0)
			return (int)n;
		x->done += (uint32_t)n;
	}
	x->busy = false;
	x->rq = NULL;
	return 0;
}

static bool window_open(const struct iscsi_client *c)
{
	return iscsi_sn_le(c->cmdsn, c->max_cmdsn);
}

static void tx_nop(struct iscsi_client *c, bool reply)
{
	struct iscsi_bhs h = { .op = ISCSI_OP_NOP_OUT,
			       .immediate = true,
			       .flags = ISCSI_FLAG_FINAL };

	if (reply) {
		h.itt = ISCSI_RSVD_TAG;
		h.lun = c->nop_lun;
		h.w[ISCSI_W_TTT] = c->nop_ttt;
		c->nop_reply = false;
	} else {
		h.itt = ISCSI_ITT_PING | c->gen;
		h.w[ISCSI_W_TTT] = ISCSI_RSVD_TAG;
	}
	h.w[ISCSI_W_CMDSN] = c->cmdsn; /* immediate: not advanced */
	counter_inc(&c->st.nop_out);
	tx_start(c, &h, NULL, 0, NULL, 0);
}

static void tx_icmd(struct iscsi_client *c)
{
	struct iscsi_bhs h = { .op = ISCSI_OP_SCSI_CMD };

	h.flags = ISCSI_FLAG_FINAL | ISCSI_CMD_ATTR_SIMPLE |
		  (c->icmd_len ? ISCSI_CMD_READ : 0);
	h.lun = iscsi_lun_encode(c->lun);
	h.itt = ISCSI_ITT_INTERNAL | c->setup_step;
	h.w[ISCSI_W_EDTL] = c->icmd_len;
	h.w[ISCSI_W_CMDSN] = c->cmdsn++;
	memcpy(h.cdb, c->icdb, 16);
	c->icmd_sent = true;
	counter_inc(&c->st.commands_sent);
	tx_start(c, &h, NULL, 0, NULL, 0);
	iscsi_tick_arm(c);
}

/* WRITE SAME's data: one zero block, never written to. */
static const uint8_t iscsi_zero_block[SECTOR_SIZE];

/* A command's data-out: @rq's bio (NULL returned) or a flat buffer. */
static const uint8_t *rq_out(const struct blk_request *rq, uint32_t *len)
{
	const struct iscsi_rq *p = (const struct iscsi_rq *)rq->pdu;

	switch (rq->bio->op) {
	case BIO_WRITE:
		*len = rq->bio->size;
		return NULL;
	case BIO_TRIM:
		*len = p->sp_cur ? SCSI_UNMAP_PARAM_LEN : 0;
		return p->param;
	case BIO_WRITE_ZEROES:
		*len = p->sp_cur ? SECTOR_SIZE : 0;
		return iscsi_zero_block;
	default:
		*len = 0;
		return NULL;
	}
}

uint32_t iscsi_rq_out_len(const struct blk_request *rq)
{
	uint32_t len;

	rq_out(rq, &len);
	return len;
}

/*
 * The next piece of a TRIM or WRITE_ZEROES: at most what the target takes
 * in one command (Block Limits VPD), or, the blocks all done, the
 * SYNCHRONIZE CACHE a FUA one ends with (sp_cur 0).
 */
static void cdb_range_op(struct iscsi_client *c, struct blk_request *rq,
			 uint8_t *cdb)
{
	struct iscsi_rq *p = blk_rq_pdu(rq);
	struct bio *bio = rq->bio;
	uint32_t total = bio->size >> SECTOR_SHIFT;
	uint64_t lba = (bio->offset >> SECTOR_SHIFT) + p->sp_done;
	uint32_t n = total - p->sp_done;

	if (!n) {
		LB_ASSERT(bio->flags & BIO_FUA);
		p->sp_cur = 0;
		scsi_cdb_sync_cache(cdb, false);
		return;
	}
	if (bio->op == BIO_TRIM) {
		LB_ASSERT(c->unmap_max);
		n = lb_min(n, c->unmap_max);
		scsi_cdb_unmap(cdb, p->param, lba, n);
		counter_inc(&c->st.unmaps);
	} else {
		if (c->wsame_max)
			n = (uint32_t)lb_min((uint64_t)n, c->wsame_max);
		/* deallocating only where unmapped blocks read as zeroes */
		scsi_cdb_write_same16(cdb, lba, n, c->lbprz);
		counter_inc(&c->st.write_sames);
	}
	p->sp_cur = n;
}

static void tx_command(struct iscsi_client *c, struct blk_request *rq)
{
	struct iscsi_rq *p = blk_rq_pdu(rq);
	struct bio *bio = rq->bio;
	struct iscsi_bhs h = { .op = ISCSI_OP_SCSI_CMD };
	bool fua = (bio->flags & BIO_FUA) && bio->op == BIO_WRITE;
	const uint8_t *flat = NULL;
	uint32_t imm = 0, out = 0;

	h.flags = ISCSI_FLAG_FINAL | ISCSI_CMD_ATTR_SIMPLE;
	if (bio->op == BIO_FLUSH) {
		scsi_cdb_sync_cache(h.cdb, false);
	} else if (bio->op == BIO_TRIM || bio->op == BIO_WRITE_ZEROES) {
		cdb_range_op(c, rq, h.cdb);
		flat = rq_out(rq, &out);
		h.flags |= out ? ISCSI_CMD_WRITE : 0;
		h.w[ISCSI_W_EDTL] = out;
	} else {
		/* bios are whole sectors: the 16-byte form only past 2^32 */
		LB_ASSERT(scsi_cdb_rw(h.cdb, bio->op == BIO_WRITE,
				      bio->offset >> SECTOR_SHIFT,
				      bio->size >> SECTOR_SHIFT, fua,
				      true) > 0);
		h.flags |= bio->op == BIO_WRITE ? ISCSI_CMD_WRITE :
						  ISCSI_CMD_READ;
		h.w[ISCSI_W_EDTL] = bio->size;
		out = bio->op == BIO_WRITE ? bio->size : 0;
	}
	if (out && c->p.immediate_data)
		imm = lb_min(lb_min(out, c->p.first_burst), c->p.max_xmit_dsl);
	/* a generation in the ITT: a late answer to an old send misses */
	c->gen = (uint16_t)((c->gen + 1) & 0x7fff);
	p->itt = (uint32_t)c->gen << 16 | rq->tag;
	p->cmdsn = c->cmdsn++;
	p->imm = imm;
	p->in_off = p->in_datasn = 0;
	p->r2t_active = false;
	p->r2tsn = 0;
	p->state = ISCSI_RQ_SENT;
	if (p->sent_before)
		counter_inc(&c->st.resent);
	p->sent_before = true;
	h.lun = iscsi_lun_encode(c->lun);
	h.itt = p->itt;
	h.w[ISCSI_W_CMDSN] = p->cmdsn;
	counter_inc(&c->st.commands_sent);
	tx_start(c, &h, imm ? rq : NULL, 0, imm ? flat : NULL, imm);
	iscsi_tick_arm(c);
}

static void tx_data_out(struct iscsi_client *c, struct blk_request *rq)
{
	struct iscsi_rq *p = blk_rq_pdu(rq);
	struct iscsi_bhs h = { .op = ISCSI_OP_DATA_OUT };
	uint32_t n = lb_min(p->r2t_end - p->r2t_next, c->p.max_xmit_dsl);
	uint32_t len;
	const uint8_t *flat = rq_out(rq, &len);

	h.lun = iscsi_lun_encode(c->lun);
	h.itt = p->itt;
	h.w[ISCSI_W_TTT] = p->r2t_ttt;
	h.w[ISCSI_W_DATASN] = p->r2t_datasn++;
	h.w[ISCSI_W_OFFSET] = p->r2t_next;
	if (p->r2t_next + n == p->r2t_end) {
		h.flags = ISCSI_FLAG_FINAL;
		p->r2t_active = false;
	}
	tx_start(c, &h, rq, p->r2t_next, flat ? flat + p->r2t_next : NULL, n);
	p->r2t_next += n;
	counter_inc(&c->st.data_out_pdus);
}

/* The next PDU to send, if any may go now. */
static bool tx_pick(struct iscsi_client *c)
{
	struct blk_request *rq;

	if (c->nop_reply) {
		tx_nop(c, true);
		return true;
	}
	if (c->ping_due) {
		c->ping_due = false;
		c->ping_out = true;
		tx_nop(c, false);
		return true;
	}
	if (c->state == ISCSI_C_SETUP) {
		if (c->icmd_pending && !c->icmd_sent && window_open(c)) {
			tx_icmd(c);
			return true;
		}
		return false;
	}
	if (c->state != ISCSI_C_READY)
		return false;
	list_for_each_entry(rq, &c->rqs, node) {
		struct iscsi_rq *p = blk_rq_pdu(rq);

		if (p->state == ISCSI_RQ_SENT && p->r2t_active) {
			tx_data_out(c, rq);
			return true;
		}
	}
	list_for_each_entry(rq, &c->rqs, node) {
		struct iscsi_rq *p = blk_rq_pdu(rq);

		if (p->state != ISCSI_RQ_QUEUED)
			continue;
		if (!window_open(c)) {
			counter_inc(&c->st.window_stalls);
			return false;
		}
		tx_command(c, rq);
		return true;
	}
	return false;
}

void iscsi_tx(struct iscsi_client *c)
{
	if (!c->tp || c->broken || c->state < ISCSI_C_SETUP ||
	    c->state > ISCSI_C_READY)
		return;
	for (;;) {
		if (c->tx.busy) {
			int err = tx_continue(c);

			if (err == -EAGAIN)
				return;
			if (err) {
				iscsi_conn_broken(c, -err, "send failed: %s",
						  strerror(-err));
				return;
			}
		}
		if (!tx_pick(c))
			return;
	}
}

static void iscsi_queue_rq(struct blkdev *bd, struct blk_request *rq)
{
	struct iscsi_client *c = iscsi_client(bd);
	struct iscsi_rq *p = blk_rq_pdu(rq);

	memset(p, 0, sizeof(*p));
	p->state = ISCSI_RQ_QUEUED;
	if (c->dead || c->destroying || c->state == ISCSI_C_FAILED) {
		blk_end_request(rq, -EIO);
		return;
	}
	list_add_tail(&rq->node, &c->rqs);
	iscsi_tx(c);
}

static const struct blkdev_ops iscsi_blk_ops = {
	.queue_rq = iscsi_queue_rq,
	.rq_pdu = sizeof(struct iscsi_rq),
};

/* ---- socket callbacks ----------------------------------------------------- */

static struct iscsi_client *iscsi_of(struct sock *sk)
{
	struct iscsi_client *c = sk->user;

	return c && c->tp == tcp_sk(sk) && !c->broken ? c : NULL;
}

static void iscsi_sk_readable(struct sock *sk)
{
	struct iscsi_client *c = iscsi_of(sk);

	if (c)
		iscsi_rx(c);
}

static void iscsi_sk_writable(struct sock *sk)
{
	struct iscsi_client *c = iscsi_of(sk);

	if (!c)
		return;
	if (c->state == ISCSI_C_CONNECTING) {
		/* established: the initiator speaks first */
		c->last_rx = host_now(c->host);
		iscsi_tick_arm(c);
		iscsi_login_start(c);
		return;
	}
	iscsi_tx(c);
}

static void iscsi_sk_error(struct sock *sk, int err)
{
	struct iscsi_client *c = iscsi_of(sk);

	if (c)
		iscsi_conn_broken(c, err, "%s", strerror(err));
}

/* ---- lifetime ------------------------------------------------------------- */

static void iscsi_stats(struct iscsi_client *c, bool add)
{
	struct stats *s = &c->host->stats;
	struct counter *v = (struct counter *)&c->st;

	for (size_t i = 0; i < ARRAY_SIZE(iscsi_stat_names); i++) {
		if (add)
			stats_add_counter(s, &v[i], "iscsi.%s.%s", c->bd.name,
					  iscsi_stat_names[i]);
		else
			stats_remove(s, &v[i]);
	}
}

int iscsi_client_create(struct net *net, const struct iscsi_client_config *cfg,
			blk_ready_fn ready, void *arg, struct blkdev **out)
{
	const char *name = cfg->name ? cfg->name : "iscsi0";
	const char *ini = cfg->initiator ? cfg->initiator :
					   ISCSI_DEFAULT_INITIATOR;
	struct mm *mm = net->mm;
	struct iscsi_client *c;
	struct page *pg, *rxp;
	char peer[32];
	uint64_t r;
	int err;

	if (!cfg->target || !*cfg->target ||
	    strlen(cfg->target) > ISCSI_NAME_MAX || !*ini ||
	    strlen(ini) > ISCSI_NAME_MAX || !cfg->ip || cfg->lun > 255 ||
	    strlen(name) >= sizeof(c->bd.name) ||
	    (cfg->queue_depth && cfg->queue_depth > 256))
		return -EINVAL;
	if (cfg->chap_user && *cfg->chap_user &&
	    (strlen(cfg->chap_user) > ISCSI_CHAP_MAX || !cfg->chap_secret ||
	     !*cfg->chap_secret || strlen(cfg->chap_secret) > ISCSI_CHAP_MAX))
		return -EINVAL;
	pg = mm_page_alloc(mm, MM_NORMAL, NULL);
	rxp = pg ? mm_page_alloc(mm, MM_NORMAL, NULL) : NULL;
	if (!rxp) {
		if (pg)
			mm_page_put(mm, pg);
		return -ENOMEM;
	}
	c = page_address(mm, pg);
	memset(c, 0, sizeof(*c));
	blk_init(&c->bd, net->host, name, &iscsi_blk_ops, c);
	c->net = net;
	c->host = net->host;
	c->mm = mm;
	c->rxbuf_page = rxp;
	c->rxbuf = page_address(mm, rxp);
	snprintf(c->target, sizeof(c->target), "%s", cfg->target);
	snprintf(c->initiator, sizeof(c->initiator), "%s", ini);
	if (cfg->chap_user && *cfg->chap_user) {
		snprintf(c->chap_user, sizeof(c->chap_user), "%s",
			 cfg->chap_user);
		snprintf(c->chap_secret, sizeof(c->chap_secret), "%s",
			 cfg->chap_secret);
	}
	c->peer.ip = htonl(cfg->ip);
	c->peer.port = cfg->port ? cfg->port : ISCSI_DEFAULT_PORT;
	c->lun = cfg->lun;
	c->queue_depth = cfg->queue_depth ? cfg->queue_depth :
					    ISCSI_DEFAULT_DEPTH;
	c->cfg_max_request = cfg->max_request ? cfg->max_request :
						ISCSI_DEFAULT_MAX_REQUEST;
	c->want_hdigest = cfg->header_digest;
	c->want_ddigest = cfg->data_digest;
	c->no_immediate = cfg->no_immediate_data;
	c->reconnect_ns = cfg->reconnect_ns ? cfg->reconnect_ns :
					      ISCSI_DEFAULT_RECONNECT_NS;
	c->backoff_ns = c->reconnect_ns;
	c->dead_ns = cfg->dead_ns ? cfg->dead_ns : ISCSI_DEFAULT_DEAD_NS;
	c->task_timeout_ns = cfg->task_timeout_ns ? cfg->task_timeout_ns :
						    ISCSI_DEFAULT_TIMEOUT_NS;
	c->ping_ns = c->task_timeout_ns / 3;
	c->ready = ready;
	c->ready_arg = arg;
	/* a random-type ISID (RFC 7143 10.12.5), the same for every login */
	r = prng_next(&net->host->prng);
	c->isid[0] = 0x80;
	for (int i = 1; i < 6; i++)
		c->isid[i] = (uint8_t)(r >> (8 * i));
	list_init(&c->rqs);
	timer_init(&c->retry_timer, iscsi_retry);
	timer_init(&c->dead_timer, iscsi_dead);
	timer_init(&c->tick_timer, iscsi_tick);
	timer_init(&c->busy_timer, iscsi_busy_expired);
	c->busy_ns = ISCSI_BUSY_MIN_NS;
	task_init(&c->down_task, iscsi_down);
	task_init(&c->ready_task, iscsi_ready);
	iscsi_stats(c, true);
	err = iscsi_open(c);
	if (err) {
		lb_err(&c->host->log, "iscsi: %s: cannot connect to %s: %s",
		       name, iscsi_peer(c, peer, sizeof(peer)), strerror(-err));
		iscsi_stats(c, false);
		mm_page_put(mm, rxp);
		mm_page_put(mm, pg);
		return err;
	}
	lb_info(&c->host->log, "iscsi: %s: connecting to %s, %s LUN %u", name,
		iscsi_peer(c, peer, sizeof(peer)), c->target, c->lun);
	*out = &c->bd;
	return 0;
}

void iscsi_client_destroy(struct blkdev *bd)
{
	struct iscsi_client *c = iscsi_client(bd);
	struct loop *l = c->host->loop;
	bool graceful = false;

	timer_cancel(l, &c->retry_timer);
	timer_cancel(l, &c->dead_timer);
	timer_cancel(l, &c->tick_timer);
	timer_cancel(l, &c->busy_timer);
	task_cancel(l, &c->down_task);
	task_cancel(l, &c->ready_task);
	/* Logout only with nothing in flight (RFC 7143 11.14) */
	if (c->tp && !c->broken && c->state == ISCSI_C_READY &&
	    list_empty(&c->rqs) && !c->tx.busy) {
		struct iscsi_bhs h = { .op = ISCSI_OP_LOGOUT_REQ,
				       .immediate = true,
				       .flags = ISCSI_FLAG_FINAL,
				       .itt = ISCSI_ITT_PING | 0xffff };

		h.w[ISCSI_W_CMDSN] = c->cmdsn;
		tx_start(c, &h, NULL, 0, NULL, 0);
		graceful = tx_continue(c) == 0;
	}
	c->destroying = true;
	c->tx.busy = false;
	c->tx.rq = NULL;
	while (!list_empty(&c->rqs))
		iscsi_complete(
			c, list_first_entry(&c->rqs, struct blk_request, node),
			-EIO);
	while (bd->attached && !list_empty(&bd->waiting))
		bd->kick.fn(&bd->kick);
	if (c->tp) {
		struct tcp_sock *tp = c->tp;

		c->tp = NULL;
		blk_sock_drop(bd, tp, graceful, false, &c->moved_pages);
	}
	if (bd->attached)
		LB_ASSERT(blk_detach(bd) == 0);
	iscsi_stats(c, false);
	mm_page_put(c->mm, c->rxbuf_page);
	mm_page_put(c->mm, virt_to_page(c->mm, c));
}
