// SPDX-License-Identifier: MIT
/*
 * aoe_client.c - the AoE initiator: a struct blkdev whose requests become
 * ATA frames to one target (shelf.slot).
 *
 * Life: Query Config is broadcast until the target answers, then IDENTIFY
 * is sent to it for the capacity, then the device is attached and the AoE
 * ethertype becomes memory-critical.  The control frames of that phase are
 * sent from normal memory (there is no reserve yet); a discovery that
 * finds nothing within dead_ns reports -ETIMEDOUT.
 *
 * Data path.  A request is cut into frames of at most frame_sectors; the
 * frames of all requests share one window, a fixed array of AOE_MAX_WINDOW
 * slots made at create.  Each transmission of a frame gets a fresh tag
 * from a 31-bit counter, so a late answer to an earlier copy is known to
 * be stale (counted as dup) rather than mistaken for the current one, and
 * every matched answer is an unambiguous RTT sample.  A tag recurs only
 * after 2^31 transmissions.  One timer per device is armed at the earliest
 * frame deadline.
 *
 * Window: at most min(cwnd, nframes) frames are outstanding, nframes being
 * min(the target's Buffer Count, AOE_MAX_WINDOW).  cwnd starts at nframes,
 * not at 1 as Linux does: the Buffer Count is the target's own promise of
 * how many requests it queues, and AoE runs on one Ethernet segment with no
 * bottleneck that promise does not describe, so probing up from 1 would
 * only slow the write-back that most needs the throughput.  A timeout
 * (a frame lost, or a target slower than it claimed) halves cwnd, once per
 * timer pass; it grows again by one per response below ssthresh and by one
 * per window's worth of responses above it.
 *
 * Loss detection: besides the timeout, an answer to a copy sent clearly
 * after an unanswered frame's latest copy means that frame was lost (the
 * wire is one Ethernet segment, and vblade answers in order): it is
 * resent at once, without back-off or a window cut.  At 5 % loss each way
 * this turns nearly every timeout into an early resend.
 *
 * Memory.  Per-request state lives in the request's pdu and the frame
 * slots; nothing on the data path allocates except the header netbuf of a
 * transmission, which netdev_xmit consumes.  Write data goes by reference
 * to the bio's pages; the bio keeps them until the response, so a
 * retransmission sends them again.  Read data is copied from the response
 * (normal or net.rx reserve memory) straight into the bio's pages in the
 * receive handler.
 *
 * FUA is not offered: AoE has none, and emulating it with write+flush would
 * only promise what a FLUSH bio already says.  FLUSH is FLUSH CACHE EXT,
 * or FLUSH CACHE once the target rejected EXT with ABRT (vblade does).
 *
 * A device whose frame has waited dead_ns is dead: everything in flight
 * and everything submitted later fails with -EIO until it is destroyed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "aoe.h"
#include "aoe_proto.h"
#include "core/log.h"
#include "net/net.h"
#include "net/netbuf.h"

#define AOE_MAX_WINDOW 64
#define AOE_RECENT_TAGS 256
#define AOE_TAG_MASK 0x7fffffffu /* bit 31 is left to userland tools */

/*
 * Retransmission timeout bounds.  The floor sits above one vblade service
 * time with the window queued ahead (a frame's RTT sample includes that
 * queueing, so srtt + 4 rttvar already covers it once measured); the
 * initial value is used before any sample.
 */
#define AOE_RTO_MIN_NS (2 * NSEC_PER_MSEC)
#define AOE_RTO_INIT_NS (100 * NSEC_PER_MSEC)
#define AOE_RTO_MAX_NS (2 * NSEC_PER_SEC)
/* Answers this much out of send order are taken as reordering, not loss. */
#define AOE_REORDER_MIN_NS (20 * NSEC_PER_USEC)
#define AOE_FENCES 32
#define AOE_FENCE_MIN_NS (10 * NSEC_PER_MSEC)
/* A copy may still arrive this many of its own (backed-off) RTOs after it
 * was sent: past one the estimator calls it lost, the second is margin. */
#define AOE_FENCE_RTOS 2

#define AOE_DEFAULT_DEPTH 32
#define AOE_DEFAULT_MAX_REQUEST (64 * 1024)
#define AOE_DEFAULT_DEAD_NS (60 * NSEC_PER_SEC)

enum aoe_state {
	AOE_DISCOVER,
	AOE_IDENTIFY,
	AOE_RUNNING,
	AOE_DEAD,
	AOE_FAILED, /* discovery gave up; waiting to be destroyed */
};

// clang-format off
#define AOE_CLIENT_COUNTERS(X) \
	X(tx) \
	X(rx) \
	X(retransmits) \
	X(early_retransmits) \
	X(timeouts) \
	X(stray) \
	X(dup) \
	X(errors) \
	X(runt) \
	X(tx_no_memory) \
	X(tx_from_reserve) \
	X(flush_fallback) \
	X(fenced)
#define AOE_CLIENT_GAUGES(X) \
	X(window) \
	X(inflight) \
	X(srtt) \
	X(rto)
// clang-format on

#define AOE_FIELD_C(name) struct counter name;
#define AOE_FIELD_G(name) struct gauge name;
struct aoe_client_stats {
	AOE_CLIENT_COUNTERS(AOE_FIELD_C)
	AOE_CLIENT_GAUGES(AOE_FIELD_G)
};
#undef AOE_FIELD_C
#undef AOE_FIELD_G

/* One transmission unit: an ATA command and its data range. */
struct aoe_frame {
	struct blk_request *rq; /* NULL: the slot is free */
	uint32_t tag; /* of the latest copy sent */
	uint32_t off, len; /* bytes of the bio */
	uint64_t lba;
	uint8_t cmd;
	uint64_t sent; /* latest copy */
	uint64_t first_sent; /* for dead_ns */
	uint64_t deadline; /* retransmit at */
	/*
	 * Writes: the latest time any copy sent so far could still reach
	 * the target (the maximum over copies of sent + AOE_FENCE_RTOS x
	 * that copy's RTO).  A parked slot (no rq) is a fence itself: its
	 * lba and len stay fenced until then.
	 */
	uint64_t late;
	unsigned retries; /* timeouts: the RTO's back-off */
	unsigned copies; /* sent so far */
	bool parked;
};

/*
 * A write that was sent more than once completed, or a write of a failed
 * request was left unanswered, but copies of it may still be on the wire;
 * a target executes every copy that reaches it, so a late one would
 * overwrite whatever was written there next.  Until the fence expires no
 * new write may cover those sectors (AoE carries no sequence number a
 * target could use to refuse the stale copy).  The guarantee is
 * unconditional: a fence lasts until the frame's last copy could arrive
 * (frame.late), and when every one of the AOE_FENCES slots is live the
 * frame's own window slot is parked as the fence instead, so the window,
 * not a lost fence, is what gives way.
 */
struct aoe_fence {
	uint64_t lba, count, until;
};

/* Per-request transport state, in blk_request.pdu. */
struct aoe_rq {
	uint32_t issued; /* bytes handed to frames */
	uint32_t done; /* bytes answered */
	unsigned frames; /* outstanding */
	bool flush_issued;
};

struct aoe_client {
	struct blkdev bd;
	struct aoe_endpoint ep;
	struct net *net;
	struct net_device *dev;
	uint16_t shelf;
	uint8_t slot;
	uint8_t target[ETH_ALEN];
	enum aoe_state state;
	blk_ready_fn ready;
	void *ready_arg;
	unsigned queue_depth;
	uint32_t max_request;
	uint64_t dead_ns;

	/* what the target told us */
	unsigned bufcnt, frame_sectors;
	uint64_t sectors;
	bool lba48, flush28;

	/* window and timing */
	unsigned nframes, cwnd, ssthresh, acked, inflight;
	int64_t srtt, rttvar, rto;
	bool have_rtt;
	uint32_t next_tag;
	struct aoe_frame frames[AOE_MAX_WINDOW];
	struct aoe_frame ctl; /* Query Config / IDENTIFY */
	uint32_t recent[AOE_RECENT_TAGS]; /* retired tags, for dup vs stray */
	unsigned recent_pos, recent_nr;
	struct list_head pending; /* requests with frames still to cut */
	struct aoe_fence fences[AOE_FENCES];
	unsigned parked; /* window slots holding a fence */
	struct timer timer;
	struct critical_flow flow;
	bool flow_added;
	struct aoe_client_stats st;
};

static struct aoe_client *to_client(struct blkdev *bd)
{
	return bd->driver;
}

static struct aoe_rq *to_arq(struct blk_request *rq)
{
	return blk_rq_pdu(rq);
}

static uint64_t now_ns(const struct aoe_client *c)
{
	return host_now(c->net->host);
}

static uint32_t new_tag(struct aoe_client *c)
{
	c->next_tag = (c->next_tag + 1) & AOE_TAG_MASK;
	return c->next_tag;
}

static void retire_tag(struct aoe_client *c, uint32_t tag)
{
	c->recent[c->recent_pos] = tag;
	c->recent_pos = (c->recent_pos + 1) % AOE_RECENT_TAGS;
	if (c->recent_nr < AOE_RECENT_TAGS)
		c->recent_nr++;
}

static bool tag_recent(const struct aoe_client *c, uint32_t tag)
{
	for (unsigned i = 0; i < c->recent_nr; i++)
		if (c->recent[i] == tag)
			return true;
	return false;
}

/* ---- timing ---------------------------------------------------------------- */

/* Jacobson/Karels: gains 1/8 and 1/4, RTO = srtt + 4 rttvar. */
static void rtt_sample(struct aoe_client *c, uint64_t sent)
{
	int64_t r = (int64_t)(now_ns(c) - sent);

	if (!c->have_rtt) {
		c->srtt = r;
		c->rttvar = r / 2;
		c->have_rtt = true;
	} else {
		int64_t delta = r - c->srtt;

		c->srtt += delta / 8;
		c->rttvar += ((delta < 0 ? -delta : delta) - c->rttvar) / 4;
	}
	c->rto = lb_max(c->srtt + 4 * c->rttvar, (int64_t)AOE_RTO_MIN_NS);
	c->rto = lb_min(c->rto, (int64_t)AOE_RTO_MAX_NS);
	gauge_set(&c->st.srtt, c->srtt);
	gauge_set(&c->st.rto, c->rto);
}

/* The frame's timeout: the RTO doubled per retransmission, capped. */
static uint64_t frame_rto(const struct aoe_client *c, const struct aoe_frame *f)
{
	uint64_t rto = (uint64_t)c->rto;

	for (unsigned i = 0; i < f->retries && rto < AOE_RTO_MAX_NS; i++)
		rto *= 2;
	return lb_min(rto, (uint64_t)AOE_RTO_MAX_NS);
}

static uint64_t fence_end(const struct aoe_client *c);

static void arm_timer(struct aoe_client *c)
{
	uint64_t first = UINT64_MAX;

	if (c->ctl.rq || c->state == AOE_DISCOVER || c->state == AOE_IDENTIFY)
		first = c->ctl.deadline;
	for (unsigned i = 0; i < c->nframes; i++)
		if (c->frames[i].rq)
			first = lb_min(first, c->frames[i].deadline);
	if (!list_empty(&c->pending))
		first = lb_min(first, fence_end(c));
	if (first == UINT64_MAX)
		timer_cancel(c->net->host->loop, &c->timer);
	else
		timer_arm(c->net->host->loop, &c->timer, first);
}

static void set_window(struct aoe_client *c, unsigned cwnd)
{
	c->cwnd = lb_max(1u, lb_min(cwnd, c->nframes));
	gauge_set(&c->st.window, c->cwnd);
}

/* ---- transmit ------------------------------------------------------------- */

/* Reference @len bytes of the bio from @off as fragments of @nb. */
static int add_bio_frags(struct netbuf *nb, const struct bio *bio, uint32_t off,
			 uint32_t len)
{
	for (unsigned i = 0; i < bio->nr_vecs && len; i++) {
		const struct bio_vec *v = &bio->vec[i];
		uint32_t n;
		int err;

		if (off >= v->len) {
			off -= v->len;
			continue;
		}
		n = lb_min(v->len - off, len);
		err = netbuf_add_frag(nb, v->page, v->off + off, n);
		if (err)
			return err;
		len -= n;
		off = 0;
	}
	return 0;
}

/*
 * Send (or resend) @f with a fresh tag.  Without memory even in the
 * reserve the copy is simply not sent: the deadline stands and the timer
 * retries, as if the frame had been lost.
 */
static void xmit_frame(struct aoe_client *c, struct aoe_frame *f, bool ctl)
{
	uint64_t now = now_ns(c);
	struct bio *bio = f->rq ? f->rq->bio : NULL;
	bool wr = f->cmd == ATA_CMD_WRITE || f->cmd == ATA_CMD_WRITE_EXT;
	bool bcast = ctl && c->state == AOE_DISCOVER;
	uint32_t arglen = bcast ? AOE_CFG_LEN : AOE_ATA_LEN;
	static const uint8_t broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff,
						     0xff, 0xff, 0xff };
	/* Before attach there is no reserve: control frames use normal
	 * memory only. */
	unsigned flags = c->bd.attached ? MM_ATOMIC | MM_MEMALLOC :
					  MM_ATOMIC | MM_NOMEMALLOC;
	struct netbuf *nb;
	uint8_t *p;

	if (f->sent) {
		retire_tag(c, f->tag);
		counter_inc(&c->st.retransmits);
	}
	f->tag = new_tag(c);
	f->copies++;
	f->sent = now;
	if (!f->first_sent)
		f->first_sent = now;
	f->deadline = now + frame_rto(c, f);
	if (wr)
		f->late =
			lb_max(f->late, now + AOE_FENCE_RTOS * frame_rto(c, f));

	nb = netbuf_alloc(c->net, AOE_HDR_LEN + arglen, flags,
			  c->bd.attached ? &c->bd.rsv : NULL);
	if (!nb) {
		counter_inc(&c->st.tx_no_memory);
		return;
	}
	p = netbuf_put(nb, AOE_HDR_LEN + arglen);
	if (bcast) {
		aoe_put_hdr(p, 0, 0, AOE_SHELF_ANY, AOE_SLOT_ANY, AOE_CMD_CFG,
			    f->tag);
		aoe_put_cfg(p + AOE_HDR_LEN, 0, 0, 0, AOE_CCMD_READ, 0);
	} else {
		uint8_t aflags = wr ? AOE_AFL_WRITE : 0;

		if (f->cmd == ATA_CMD_READ_EXT || f->cmd == ATA_CMD_WRITE_EXT ||
		    f->cmd == ATA_CMD_FLUSH_EXT)
			aflags |= AOE_AFL_EXT;
		aoe_put_hdr(p, 0, 0, c->shelf, c->slot, AOE_CMD_ATA, f->tag);
		aoe_put_ata(p + AOE_HDR_LEN, aflags, 0,
			    (uint8_t)(f->len / SECTOR_SIZE), f->cmd, f->lba);
		if (!f->len && f->cmd == ATA_CMD_IDENTIFY)
			p[AOE_HDR_LEN + 2] = 1;
	}
	if (wr && add_bio_frags(nb, bio, f->off, f->len)) {
		/* cannot happen: a bio has fewer vecs than a netbuf frags */
		netbuf_free(nb);
		counter_inc(&c->st.tx_no_memory);
		return;
	}
	if (nb->pfmemalloc)
		counter_inc(&c->st.tx_from_reserve);
	counter_inc(&c->st.tx);
	eth_output(c->dev, nb, bcast ? broadcast : c->target, ETH_P_AOE);
}

static void unpark(struct aoe_client *c, struct aoe_frame *f)
{
	LB_ASSERT(f->parked && !f->rq && c->parked > 0);
	f->parked = false;
	c->parked--;
}

/* A window slot neither in flight nor holding a live fence. */
static struct aoe_frame *free_frame(struct aoe_client *c)
{
	uint64_t now = now_ns(c);

	for (unsigned i = 0; i < c->nframes; i++) {
		struct aoe_frame *f = &c->frames[i];

		if (f->rq || (f->parked && f->late > now))
			continue;
		if (f->parked)
			unpark(c, f);
		return f;
	}
	return NULL;
}

/* Cut the next frame of @rq into @f. */
static void cut_frame(struct aoe_client *c, struct blk_request *rq,
		      struct aoe_frame *f)
{
	struct aoe_rq *arq = to_arq(rq);
	struct bio *bio = rq->bio;

	memset(f, 0, sizeof(*f));
	f->rq = rq;
	if (bio->op == BIO_FLUSH) {
		f->cmd = c->flush28 ? ATA_CMD_FLUSH : ATA_CMD_FLUSH_EXT;
		arq->flush_issued = true;
	} else {
		f->off = arq->issued;
		f->len = lb_min(bio->size - arq->issued,
				c->frame_sectors * SECTOR_SIZE);
		f->lba = (bio->offset + f->off) / SECTOR_SIZE;
		if (bio->op == BIO_WRITE)
			f->cmd = c->lba48 ? ATA_CMD_WRITE_EXT : ATA_CMD_WRITE;
		else
			f->cmd = c->lba48 ? ATA_CMD_READ_EXT : ATA_CMD_READ;
		arq->issued += f->len;
	}
	arq->frames++;
}

static bool rq_all_cut(const struct blk_request *rq)
{
	const struct aoe_rq *arq = blk_rq_pdu((struct blk_request *)rq);

	return rq->bio->op == BIO_FLUSH ? arq->flush_issued :
					  arq->issued == rq->bio->size;
}

/* The sectors of @rq's next frame, if it is a write. */
static bool next_write(const struct aoe_client *c, const struct blk_request *rq,
		       uint64_t *lba, uint64_t *count)
{
	const struct aoe_rq *arq = blk_rq_pdu((struct blk_request *)rq);
	const struct bio *bio = rq->bio;

	if (bio->op != BIO_WRITE)
		return false;
	*lba = (bio->offset + arq->issued) / SECTOR_SIZE;
	*count = lb_min(bio->size - arq->issued,
			c->frame_sectors * SECTOR_SIZE) /
		 SECTOR_SIZE;
	return true;
}

static bool overlaps(uint64_t lba, uint64_t count, uint64_t flba,
		     uint64_t fcount)
{
	return lba < flba + fcount && flba < lba + count;
}

/* Whether a live fence covers any of [lba, lba + count). */
static bool fence_covers(const struct aoe_client *c, uint64_t lba,
			 uint64_t count)
{
	uint64_t now = now_ns(c);

	for (unsigned i = 0; i < AOE_FENCES; i++) {
		const struct aoe_fence *x = &c->fences[i];

		if (x->until > now && overlaps(lba, count, x->lba, x->count))
			return true;
	}
	for (unsigned i = 0; c->parked && i < c->nframes; i++) {
		const struct aoe_frame *f = &c->frames[i];

		if (f->parked && f->late > now &&
		    overlaps(lba, count, f->lba, f->len / SECTOR_SIZE))
			return true;
	}
	return false;
}

static bool fenced(struct aoe_client *c, const struct blk_request *rq)
{
	uint64_t lba, count;

	if (!next_write(c, rq, &lba, &count) || !fence_covers(c, lba, count))
		return false;
	counter_inc(&c->st.fenced);
	return true;
}

static struct aoe_fence *free_fence(struct aoe_client *c, uint64_t now)
{
	for (unsigned i = 0; i < AOE_FENCES; i++)
		if (c->fences[i].until <= now)
			return &c->fences[i];
	return NULL;
}

/* Move fences of parked window slots into fence slots that have freed. */
static void move_parked(struct aoe_client *c)
{
	uint64_t now = now_ns(c);

	for (unsigned i = 0; c->parked && i < c->nframes; i++) {
		struct aoe_frame *f = &c->frames[i];
		struct aoe_fence *x;

		if (!f->parked)
			continue;
		if (f->late > now) {
			x = free_fence(c, now);
			if (!x)
				return;
			*x = (struct aoe_fence){ f->lba, f->len / SECTOR_SIZE,
						 f->late };
		}
		unpark(c, f);
	}
}

/*
 * Fence @f's sectors, which it is about to release, for as long as a copy
 * of it could still arrive: until f->late, and at least AOE_FENCE_MIN_NS
 * (an RTO estimate taken in a quiet spell may be far below a burst's
 * queueing).  With every fence slot live, @f's window slot is parked as
 * the fence: the caller releases it without freeing it.
 */
static void add_fence(struct aoe_client *c, struct aoe_frame *f)
{
	uint64_t now = now_ns(c);
	uint64_t until = lb_max(f->late, now + AOE_FENCE_MIN_NS);
	struct aoe_fence *x = free_fence(c, now);

	LB_ASSERT(f->rq && f->sent && f->len && !f->parked);
	f->late = until;
	if (x) {
		*x = (struct aoe_fence){ f->lba, f->len / SECTOR_SIZE, until };
	} else {
		f->parked = true;
		c->parked++;
		LB_ASSERT(c->parked <= c->nframes);
	}
	LB_ASSERT(fence_covers(c, f->lba, f->len / SECTOR_SIZE));
}

static uint64_t fence_end(const struct aoe_client *c)
{
	uint64_t now = now_ns(c), first = UINT64_MAX;

	for (unsigned i = 0; i < AOE_FENCES; i++)
		if (c->fences[i].until > now)
			first = lb_min(first, c->fences[i].until);
	for (unsigned i = 0; c->parked && i < c->nframes; i++)
		if (c->frames[i].parked && c->frames[i].late > now)
			first = lb_min(first, c->frames[i].late);
	return first;
}

/* Send frames while the window has room. */
static void pump(struct aoe_client *c)
{
	while (c->state == AOE_RUNNING && !list_empty(&c->pending) &&
	       c->inflight < c->cwnd) {
		struct blk_request *rq =
			list_first_entry(&c->pending, struct blk_request, node);
		struct aoe_frame *f;

		if (c->parked)
			move_parked(c);
		f = free_frame(c);
		/* inflight < cwnd <= nframes: only fences hold the others */
		LB_ASSERT(f || c->parked);
		if (!f || fenced(c, rq))
			break; /* in order: the timer retries at the fence's end */
		cut_frame(c, rq, f);
		/* the guarantee: no new write overlaps a copy still possible */
		LB_ASSERT(!(rq->bio->op == BIO_WRITE &&
			    fence_covers(c, f->lba, f->len / SECTOR_SIZE)));
		if (rq_all_cut(rq))
			list_del(&rq->node);
		c->inflight++;
		xmit_frame(c, f, false);
	}
	gauge_set(&c->st.inflight, c->inflight);
	arm_timer(c);
}

/* ---- completion ------------------------------------------------------------ */

static void release_frame(struct aoe_client *c, struct aoe_frame *f)
{
	retire_tag(c, f->tag);
	to_arq(f->rq)->frames--;
	f->rq = NULL;
	c->inflight--;
}

/*
 * Finish @rq now, forgetting its outstanding frames (their answers will
 * be counted as dup).  A failed write's frames that were sent are fenced
 * like retransmitted ones: a copy of each may still be on its way.
 */
static void end_rq(struct aoe_client *c, struct blk_request *rq, int err)
{
	for (unsigned i = 0; i < c->nframes; i++) {
		struct aoe_frame *f = &c->frames[i];

		if (f->rq != rq)
			continue;
		if (err && rq->bio->op == BIO_WRITE && f->sent && f->len)
			add_fence(c, f);
		release_frame(c, f);
	}
	list_del(&rq->node);
	if (err)
		counter_inc(&c->st.errors);
	blk_end_request(rq, err);
}

static void fail_all(struct aoe_client *c, int err)
{
	if (!c->bd.attached)
		return;
	for (unsigned t = 0; t < c->queue_depth; t++) {
		struct blk_request *rq = blk_rq_from_tag(&c->bd, t);

		if (rq)
			end_rq(c, rq, err);
	}
}

static void go_dead(struct aoe_client *c)
{
	lb_err(&c->net->host->log,
	       "aoe: %s: e%u.%u has not answered for %llu ms: failing its I/O",
	       c->bd.name, c->shelf, c->slot,
	       (unsigned long long)(c->dead_ns / NSEC_PER_MSEC));
	c->state = AOE_DEAD;
	fail_all(c, -EIO);
	gauge_set(&c->st.inflight, c->inflight);
	arm_timer(c);
}

/* ---- discovery ------------------------------------------------------------ */

static void ctl_start(struct aoe_client *c, enum aoe_state state)
{
	c->state = state;
	memset(&c->ctl, 0, sizeof(c->ctl));
	c->ctl.cmd = ATA_CMD_IDENTIFY;
	xmit_frame(c, &c->ctl, true);
	arm_timer(c);
}

static uint32_t rsv_header_pages(const struct aoe_client *c);

static void discovered(struct aoe_client *c, const struct aoe_msg *m)
{
	memcpy(c->target, m->src, ETH_ALEN);
	c->bufcnt = lb_max(m->cfg.bufcnt, (uint16_t)1);
	c->frame_sectors = lb_min(aoe_mtu_sectors(c->dev->mtu),
				  aoe_cfg_sectors(m->cfg.scnt));
	if (!c->frame_sectors) {
		lb_err(&c->net->host->log, "aoe: %s: MTU %u carries no sector",
		       c->bd.name, c->dev->mtu);
		return;
	}
	c->nframes = lb_min(c->bufcnt, (unsigned)AOE_MAX_WINDOW);
	ctl_start(c, AOE_IDENTIFY);
}

static void report_ready(struct aoe_client *c, int err)
{
	if (err)
		c->state = AOE_FAILED;
	timer_cancel(c->net->host->loop, &c->timer);
	if (c->ready)
		c->ready(&c->bd, err, c->ready_arg);
}

static void identified(struct aoe_client *c, struct netbuf *nb)
{
	uint8_t id[AOE_IDENTIFY_LEN];
	struct blk_limits lim = { 0 };
	int err;

	netbuf_copy_bits(nb, AOE_ATA_DATA_OFF, id, sizeof(id));
	aoe_identify_parse(id, &c->sectors, &c->lba48);
	if (!c->lba48)
		c->sectors = lb_min(c->sectors, AOE_LBA28_MAX);
	lim.capacity = c->sectors * SECTOR_SIZE;
	lim.max_request = c->max_request;
	lim.queue_depth = c->queue_depth;
	lim.flush = true;
	lim.rsv_fixed = rsv_header_pages(c);
	err = blk_attach(&c->bd, &lim);
	if (err) {
		report_ready(c, err);
		return;
	}
	set_window(c, c->nframes);
	c->ssthresh = c->nframes;
	c->flow = (struct critical_flow){ .kind = FLOW_ETHER,
					  .ethertype = ETH_P_AOE };
	memcpy(c->flow.peer_mac, c->target, ETH_ALEN);
	c->flow_added = netdev_flow_add(c->dev, &c->flow) == 0;
	aoe_port_set_critical(c->net, &c->ep, true);
	c->state = AOE_RUNNING;
	lb_info(&c->net->host->log,
		"aoe: %s: e%u.%u: %llu sectors%s, buffer count %u, %u sectors a frame",
		c->bd.name, c->shelf, c->slot, (unsigned long long)c->sectors,
		c->lba48 ? " (LBA48)" : "", c->bufcnt, c->frame_sectors);
	report_ready(c, 0);
}

/*
 * The reserve: header netbufs for a full window.  netdev_xmit consumes
 * each netbuf before returning, so today one header at a time is alive;
 * sizing for every frame of the window keeps a device that queues frames
 * covered too.  A retransmission replaces its frame's copy, so retransmits
 * add nothing; write data is the bio's own pages and read data arrives in
 * net.rx and is copied out in the handler, so neither is charged here.
 * Reserve netbufs live in per-reserve slabs charged a page at a time, and a
 * new slab is started only when every slab of the reserve is full, so
 * n objects never need more than ceil(n / objects-per-slab) slabs:
 *   pages = ceil(W / netbufs per slab) + ceil(W / headers per slab)
 * with W = nframes and the header the kmalloc class of a 22-byte frame
 * plus headroom.
 */
static uint32_t rsv_header_pages(const struct aoe_client *c)
{
	const struct mm *mm = c->net->mm;
	uint32_t buf = netbuf_truesize_for(c->net, AOE_HDR_LEN + AOE_ATA_LEN) -
		       (uint32_t)c->net->netbuf_cache.size;
	unsigned cls = 0;

	while ((1u << (MM_KMALLOC_MIN_SHIFT + cls)) < buf)
		cls++;
	LB_ASSERT(cls < MM_KMALLOC_CLASSES);
	return (uint32_t)(DIV_ROUND_UP(c->nframes,
				       c->net->netbuf_cache.objs_per_slab) +
			  DIV_ROUND_UP(c->nframes,
				       mm->kmalloc[cls]->objs_per_slab));
}

/* ---- receive --------------------------------------------------------------- */

/* Copy @len bytes of @nb from @nb_off into the bio from byte @off. */
static void copy_to_bio(struct aoe_client *c, struct bio *bio, uint32_t off,
			const struct netbuf *nb, uint32_t nb_off, uint32_t len)
{
	for (unsigned i = 0; i < bio->nr_vecs && len; i++) {
		const struct bio_vec *v = &bio->vec[i];
		uint32_t n;

		if (off >= v->len) {
			off -= v->len;
			continue;
		}
		n = lb_min(v->len - off, len);
		netbuf_copy_bits(nb, nb_off,
				 (uint8_t *)page_address(c->bd.mm, v->page) +
					 v->off + off,
				 n);
		nb_off += n;
		len -= n;
		off = 0;
	}
}

static void grow_window(struct aoe_client *c)
{
	if (c->cwnd >= c->nframes)
		return;
	if (c->cwnd < c->ssthresh) {
		set_window(c, c->cwnd + 1);
	} else if (++c->acked >= c->cwnd) {
		c->acked = 0;
		set_window(c, c->cwnd + 1);
	}
}

/*
 * An answer to a copy sent at @sent: every frame whose latest copy went out
 * clearly before it (more than a quarter of srtt, at least
 * AOE_REORDER_MIN_NS) and is still unanswered was lost, one way or the
 * other, as a target that answers in order (vblade serves one request at a
 * time) tells us: resend it now rather than at its timeout.  Neither the
 * RTO's back-off nor the window is touched (a timeout still does both);
 * a spurious resend costs a duplicate answer and a write fence.
 */
static void early_retransmit(struct aoe_client *c, uint64_t sent)
{
	uint64_t reo = lb_max((uint64_t)c->srtt / 4, AOE_REORDER_MIN_NS);

	for (unsigned i = 0; i < c->nframes; i++) {
		struct aoe_frame *f = &c->frames[i];

		if (!f->rq || f->sent + reo >= sent)
			continue;
		counter_inc(&c->st.early_retransmits);
		xmit_frame(c, f, false);
	}
}

static struct aoe_frame *find_frame(struct aoe_client *c, uint32_t tag)
{
	for (unsigned i = 0; i < c->nframes; i++)
		if (c->frames[i].rq && c->frames[i].tag == tag)
			return &c->frames[i];
	return NULL;
}

/* An answer to @f: 0 done, -EIO failed, -EAGAIN ignore (resend pending). */
static int frame_answer(struct aoe_client *c, struct aoe_frame *f,
			struct netbuf *nb, const struct aoe_msg *m)
{
	struct bio *bio = f->rq->bio;

	if (m->flags & AOE_FL_ERR) {
		lb_warn(&c->net->host->log, "aoe: %s: AoE error %u on %#x",
			c->bd.name, m->error, f->cmd);
		return -EIO;
	}
	if (m->ata.cmd_status & ATA_ST_BAD) {
		if (f->cmd == ATA_CMD_FLUSH_EXT &&
		    (m->ata.err_feature & ATA_ER_ABRT)) {
			/* vblade: no FLUSH CACHE EXT; use FLUSH CACHE from now */
			c->flush28 = true;
			counter_inc(&c->st.flush_fallback);
			f->cmd = ATA_CMD_FLUSH;
			f->retries = 0;
			f->first_sent = 0;
			f->sent = 0;
			retire_tag(c, f->tag);
			xmit_frame(c, f, false);
			return -EAGAIN;
		}
		lb_warn(&c->net->host->log,
			"aoe: %s: ATA status %#x error %#x on %#x lba %llu",
			c->bd.name, m->ata.cmd_status, m->ata.err_feature,
			f->cmd, (unsigned long long)f->lba);
		return -EIO;
	}
	if (bio->op == BIO_READ) {
		if (m->len < AOE_ATA_LEN + f->len) {
			counter_inc(&c->st.runt);
			return -EAGAIN; /* the retransmission may do better */
		}
		copy_to_bio(c, bio, f->off, nb, AOE_ATA_DATA_OFF, f->len);
	}
	return 0;
}

static void ata_response(struct aoe_client *c, struct netbuf *nb,
			 const struct aoe_msg *m)
{
	struct aoe_frame *f = find_frame(c, m->tag);
	struct blk_request *rq;
	struct aoe_rq *arq;
	uint64_t sent;
	int err;

	if (!f) {
		if (tag_recent(c, m->tag))
			counter_inc(&c->st.dup);
		else
			counter_inc(&c->st.stray);
		return;
	}
	rtt_sample(c, f->sent);
	sent = f->sent;
	rq = f->rq;
	arq = to_arq(rq);
	err = frame_answer(c, f, nb, m);
	if (err == -EAGAIN) {
		arm_timer(c);
		return;
	}
	if (err) {
		end_rq(c, rq, err);
		pump(c);
		return;
	}
	arq->done += f->len;
	if (f->copies > 1 && rq->bio->op == BIO_WRITE)
		add_fence(c, f);
	release_frame(c, f);
	grow_window(c);
	if (!arq->frames && rq_all_cut(rq) && arq->done == rq->bio->size)
		end_rq(c, rq, 0);
	early_retransmit(c, sent);
	pump(c);
}

static void ctl_response(struct aoe_client *c, struct netbuf *nb,
			 const struct aoe_msg *m)
{
	if (m->tag != c->ctl.tag) {
		counter_inc(tag_recent(c, m->tag) ? &c->st.dup : &c->st.stray);
		return;
	}
	rtt_sample(c, c->ctl.sent);
	if ((m->flags & AOE_FL_ERR) || (m->ata.cmd_status & ATA_ST_BAD) ||
	    m->len < AOE_ATA_LEN + AOE_IDENTIFY_LEN) {
		counter_inc(&c->st.errors);
		report_ready(c, -EIO);
		return;
	}
	identified(c, nb);
}

static enum aoe_rx client_rcv(struct aoe_endpoint *ep, struct net_device *dev,
			      struct netbuf *nb, const struct aoe_msg *m)
{
	struct aoe_client *c = container_of(ep, struct aoe_client, ep);

	if (!(m->flags & AOE_FL_RSP) || dev != c->dev || m->shelf != c->shelf ||
	    m->slot != c->slot)
		return AOE_RX_PASS;
	counter_inc(&c->st.rx);
	if (m->cmd == AOE_CMD_CFG) {
		if (c->state == AOE_DISCOVER && !(m->flags & AOE_FL_ERR))
			discovered(c, m);
		else
			counter_inc(&c->st.stray);
	} else if (m->cmd != AOE_CMD_ATA || c->state == AOE_DISCOVER ||
		   memcmp(m->src, c->target, ETH_ALEN)) {
		counter_inc(&c->st.stray);
	} else if (c->state == AOE_IDENTIFY) {
		ctl_response(c, nb, m);
	} else if (c->state == AOE_RUNNING) {
		ata_response(c, nb, m);
	} else {
		counter_inc(&c->st.stray);
	}
	netbuf_free(nb);
	return AOE_RX_TAKEN;
}

/* ---- the timer ------------------------------------------------------------- */

static void ctl_timeout(struct aoe_client *c, uint64_t now)
{
	if (now - c->ctl.first_sent >= c->dead_ns) {
		lb_err(&c->net->host->log,
		       "aoe: %s: no answer from e%u.%u to %s", c->bd.name,
		       c->shelf, c->slot,
		       c->state == AOE_DISCOVER ? "Query Config" : "IDENTIFY");
		report_ready(c, -ETIMEDOUT);
		return;
	}
	counter_inc(&c->st.timeouts);
	c->ctl.retries++;
	xmit_frame(c, &c->ctl, true);
	arm_timer(c);
}

static void aoe_timer(struct timer *t)
{
	struct aoe_client *c = container_of(t, struct aoe_client, timer);
	uint64_t now = now_ns(c);
	bool cut = false;

	if (c->state == AOE_DISCOVER || c->state == AOE_IDENTIFY) {
		if (now >= c->ctl.deadline)
			ctl_timeout(c, now);
		else
			arm_timer(c);
		return;
	}
	if (c->state != AOE_RUNNING)
		return;
	for (unsigned i = 0; i < c->nframes; i++) {
		struct aoe_frame *f = &c->frames[i];

		if (!f->rq || f->deadline > now)
			continue;
		if (now - f->first_sent >= c->dead_ns) {
			go_dead(c);
			return;
		}
		counter_inc(&c->st.timeouts);
		if (!cut) {
			/* one loss event per pass, however many frames */
			c->ssthresh = lb_max(c->cwnd / 2, 1u);
			set_window(c, c->cwnd / 2);
			c->acked = 0;
			cut = true;
		}
		f->retries++;
		xmit_frame(c, f, false);
	}
	pump(c); /* a fence may have ended; pump arms the timer */
}

/* ---- the block device ------------------------------------------------------ */

static void aoe_queue_rq(struct blkdev *bd, struct blk_request *rq)
{
	struct aoe_client *c = to_client(bd);

	if (c->state != AOE_RUNNING) {
		counter_inc(&c->st.errors);
		blk_end_request(rq, -EIO);
		return;
	}
	list_add_tail(&rq->node, &c->pending);
	pump(c);
}

static const struct blkdev_ops aoe_blk_ops = {
	.queue_rq = aoe_queue_rq,
	.rq_pdu = sizeof(struct aoe_rq),
};

static void client_stats(struct aoe_client *c, bool add)
{
	struct stats *s = &c->net->host->stats;
	const char *n = c->bd.name;

#define AOE_REG_C(name)                                                \
	if (add)                                                       \
		stats_add_counter(s, &c->st.name, "aoe.%s." #name, n); \
	else                                                           \
		stats_remove(s, &c->st.name);
#define AOE_REG_G(name)                                              \
	if (add)                                                     \
		stats_add_gauge(s, &c->st.name, "aoe.%s." #name, n); \
	else                                                         \
		stats_remove(s, &c->st.name);
	AOE_CLIENT_COUNTERS(AOE_REG_C)
	AOE_CLIENT_GAUGES(AOE_REG_G)
#undef AOE_REG_C
#undef AOE_REG_G
}

int aoe_client_create(struct net *net, const struct aoe_client_config *cfg,
		      blk_ready_fn ready, void *arg, struct blkdev **out)
{
	struct net_device *dev = cfg->dev;
	struct aoe_client *c;
	int err;

	if (!dev && !list_empty(&net->devices))
		dev = list_first_entry(&net->devices, struct net_device, node);
	if (!dev || cfg->shelf == AOE_SHELF_ANY || cfg->slot == AOE_SLOT_ANY)
		return -EINVAL;
	/* Control state made once, like the host itself: the frame slots and
	 * the tag ring are fixed here and never grow. */
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	blk_init(&c->bd, net->host, cfg->name ? cfg->name : "aoe0",
		 &aoe_blk_ops, c);
	c->net = net;
	c->dev = dev;
	c->shelf = cfg->shelf;
	c->slot = cfg->slot;
	c->ready = ready;
	c->ready_arg = arg;
	c->queue_depth = cfg->queue_depth ? cfg->queue_depth :
					    AOE_DEFAULT_DEPTH;
	c->max_request = cfg->max_request ? cfg->max_request :
					    AOE_DEFAULT_MAX_REQUEST;
	c->dead_ns = cfg->dead_ns ? cfg->dead_ns : AOE_DEFAULT_DEAD_NS;
	c->rto = AOE_RTO_INIT_NS;
	/* Start the tags somewhere a previous incarnation is unlikely to have
	 * left copies in flight. */
	c->next_tag = (uint32_t)prng_next(&net->host->prng) & AOE_TAG_MASK;
	list_init(&c->pending);
	timer_init(&c->timer, aoe_timer);
	c->ep.rcv = client_rcv;
	err = aoe_port_join(net, &c->ep);
	if (err) {
		free(c);
		return err;
	}
	client_stats(c, true);
	gauge_set(&c->st.rto, c->rto);
	*out = &c->bd;
	ctl_start(c, AOE_DISCOVER);
	return 0;
}

void aoe_client_destroy(struct blkdev *bd)
{
	struct aoe_client *c;

	if (!bd)
		return;
	c = to_client(bd);
	if (c->state == AOE_RUNNING)
		c->state = AOE_DEAD;
	fail_all(c, -EIO);
	/* Fail the bios still waiting for a slot through the block layer's
	 * own dispatch: queue_rq ends each at once now that we are dead. */
	if (bd->attached) {
		while (!list_empty(&bd->waiting))
			bd->kick.fn(&bd->kick);
		LB_ASSERT(blk_detach(bd) == 0);
	}
	timer_cancel(c->net->host->loop, &c->timer);
	if (c->flow_added)
		netdev_flow_del(c->dev, &c->flow);
	aoe_port_leave(c->net, &c->ep);
	client_stats(c, false);
	free(c);
}
