// SPDX-License-Identifier: MIT
/*
 * tcp_recovery.c - loss recovery of SACK connections.
 *
 * RFC 6675 decides how much may be in the network (pipe against cwnd)
 * and what goes next (lost segments first, then new data); a segment is
 * lost when three SACKed segments or more than two full segments' worth
 * of SACKed bytes lie above it (IsLost), or when RACK (RFC 8985 §6) finds
 * it was sent a reordering window before a segment that has since been
 * delivered.  RACK also finds lost retransmissions, which RFC 6675 alone
 * leaves to the RTO.  A tail loss, with no later segment to be SACKed,
 * gets a probe (RFC 8985 §7) after about two RTTs instead of waiting for
 * the RTO: the probe's SACK lets RACK see the loss.
 *
 * Without SACK the NewReno code in tcp_input.c stays in charge; only
 * limited transmit (RFC 3042) is here for both.
 */
#include "tcp_impl.h"

enum { REC_TIMER_NONE, REC_TIMER_REO, REC_TIMER_PTO };

#define TCP_DUPTHRESH 3
/* RFC 8985 §7.2: the peer may delay the ACK of a lone segment this long. */
#define TCP_WCDELACK_NS (200 * NSEC_PER_MSEC)
/* A floor for the probe timeout, as Linux: real paths jitter. */
#define TCP_PTO_MIN_NS (10 * NSEC_PER_MSEC)

static struct loop *loop_of(struct tcp_sock *tp)
{
	return tp->sk.net->host->loop;
}

static uint32_t now_us(const struct tcp_sock *tp)
{
	return (uint32_t)(host_now(tp->sk.net->host) / NSEC_PER_USEC);
}

static uint32_t seg_seqlen(struct netbuf *seg)
{
	return tcp_cb(seg)->end_seq - tcp_cb(seg)->seq;
}

/* Was (t1, s1) sent after (t2, s2)?  Stamps wrap after 71 minutes. */
static bool sent_after(uint32_t t1, tcp_seq_t s1, uint32_t t2, tcp_seq_t s2)
{
	int32_t d = (int32_t)(t1 - t2);

	return d > 0 || (d == 0 && seq_gt(s1, s2));
}

/* After an RTO, until snd_una passes what was outstanding then. */
static bool in_loss(const struct tcp_sock *tp)
{
	return !tp->in_recovery && tp->recover_valid &&
	       seq_lt(tp->snd_una, tp->recover);
}

static bool sent(const struct tcp_sock *tp, struct netbuf *seg)
{
	return seq_lt(tcp_cb(seg)->seq, tp->snd_max);
}

/*
 * The scoreboard agrees with the queue: the totals are the sums of the
 * marks, marks sit only on sent segments, and SACKed excludes the others.
 */
static void check_scoreboard(const struct tcp_sock *tp)
{
	const struct tcp_recovery *r = &tp->rec;
	uint32_t sacked = 0, lost = 0, resent = 0, out;
	unsigned segs = 0;
	struct netbuf *seg;

	out = tp->snd_max - tp->snd_una;
	LB_ASSERT(r->sacked + r->lost <= out + r->resent); /* pipe >= 0 */
	LB_ASSERT(r->sacked <= out && r->lost <= out && r->resent <= out);
	if (!r->sacked && !r->lost && !r->resent && !r->sacked_segs)
		return;
	list_for_each_entry(seg, &tp->wq, node) {
		struct tcp_cb *cb = tcp_cb(seg);

		if (!cb->sacked && !cb->lost && !cb->resent)
			continue;
		LB_ASSERT(seq_leq(cb->end_seq, tp->snd_max));
		LB_ASSERT(!(cb->sacked && (cb->lost || cb->resent)));
		if (cb->sacked) {
			sacked += seg_seqlen(seg);
			segs++;
		}
		if (cb->lost)
			lost += seg_seqlen(seg);
		if (cb->resent)
			resent += seg_seqlen(seg);
	}
	LB_ASSERT(sacked == r->sacked && segs == r->sacked_segs);
	LB_ASSERT(lost == r->lost && resent == r->resent);
}

uint32_t tcp_rec_pipe(const struct tcp_sock *tp)
{
	const struct tcp_recovery *r = &tp->rec;
	uint32_t out;

	if (!tp->sack_ok)
		return tp->snd_nxt - tp->snd_una;
	out = tp->snd_max - tp->snd_una;
	LB_ASSERT(r->sacked + r->lost <= out + r->resent);
	/* RFC 6675 SetPipe: not lost and not SACKed, plus retransmitted */
	return out - r->sacked - r->lost + r->resent;
}

uint32_t tcp_rec_cwnd(const struct tcp_sock *tp)
{
	uint32_t cwnd = tp->cwnd + tp->rec.allowance;

	/*
	 * RFC 3042: one new segment on each of the first two duplicate
	 * ACKs.  With SACK, pipe already counts the segment the duplicate
	 * ACK reports as having left the network (RFC 6675 §5 step 2).
	 */
	if (!tp->sack_ok && !tp->in_recovery && tp->dupacks &&
	    tp->dupacks < TCP_DUPTHRESH)
		cwnd += tp->dupacks * (uint32_t)tp->mss;
	return cwnd;
}

static void mark_lost(struct tcp_sock *tp, struct netbuf *seg)
{
	struct tcp_cb *cb = tcp_cb(seg);

	LB_ASSERT(!cb->sacked && sent(tp, seg));
	if (!cb->lost) {
		cb->lost = true;
		tp->rec.lost += seg_seqlen(seg);
	}
	if (cb->resent) { /* the retransmission is lost too */
		cb->resent = false;
		tp->rec.resent -= seg_seqlen(seg);
	}
}

static void clear_marks(struct tcp_sock *tp, struct netbuf *seg)
{
	struct tcp_cb *cb = tcp_cb(seg);

	if (cb->lost)
		tp->rec.lost -= seg_seqlen(seg);
	if (cb->resent)
		tp->rec.resent -= seg_seqlen(seg);
	cb->lost = cb->resent = false;
}

/* RFC 8985 §6.2 steps 2 and 3: @seg has been delivered. */
static void rack_delivered(struct tcp_sock *tp, struct netbuf *seg)
{
	struct tcp_recovery *r = &tp->rec;
	struct tcp_cb *cb = tcp_cb(seg);
	int32_t rtt = (int32_t)(now_us(tp) - cb->xmit_us);

	if (rtt < 0)
		rtt = 0;
	/* below what an earlier ACK reported: it came out of order */
	if (seq_lt(cb->end_seq, r->fack_prior) && !cb->retransmitted)
		r->reordering_seen = true;
	if (seq_gt(cb->end_seq, r->fack))
		r->fack = cb->end_seq;
	/* the ACK may be for the original: no sample shorter than any seen */
	if (cb->retransmitted && (uint32_t)rtt < r->min_rtt_us)
		return;
	if (!cb->retransmitted && (uint32_t)rtt < r->min_rtt_us)
		r->min_rtt_us = (uint32_t)rtt;
	if (!r->rack_valid || sent_after(cb->xmit_us, cb->end_seq,
					 r->rack_xmit_us, r->rack_end)) {
		r->rack_valid = true;
		r->rack_xmit_us = cb->xmit_us;
		r->rack_end = cb->end_seq;
		r->rack_rtt_us = (uint32_t)rtt;
	}
}

void tcp_rec_sent(struct tcp_sock *tp, struct netbuf *seg)
{
	tcp_cb(seg)->xmit_us = now_us(tp);
}

void tcp_rec_sack(struct tcp_sock *tp, const struct tcp_in_ctx *c)
{
	struct tcp_recovery *r = &tp->rec;
	struct netbuf *seg;

	r->prior_una = tp->snd_una;
	if (!r->fack_valid || seq_lt(r->fack, tp->snd_una)) {
		r->fack = tp->snd_una;
		r->fack_valid = true;
	}
	r->fack_prior = r->fack;
	r->newly_sacked = 0;
	if (!tp->sack_ok || !c->opts.nr_sacks)
		return;
	for (unsigned i = 0; i < c->opts.nr_sacks; i++) {
		const struct tcp_sack_block *b = &c->opts.sacks[i];

		/* only blocks about data in flight are believed */
		if (!seq_lt(b->start, b->end) ||
		    seq_leq(b->start, tp->snd_una) ||
		    seq_gt(b->end, tp->snd_max))
			continue;
		list_for_each_entry(seg, &tp->wq, node) {
			struct tcp_cb *cb = tcp_cb(seg);

			if (seq_geq(cb->seq, b->end))
				break;
			if (cb->sacked || seq_lt(cb->seq, b->start) ||
			    seq_gt(cb->end_seq, b->end))
				continue;
			clear_marks(tp, seg);
			cb->sacked = true;
			r->sacked += seg_seqlen(seg);
			r->sacked_segs++;
			r->newly_sacked++;
			rack_delivered(tp, seg);
		}
	}
	/* RFC 6675 §2: a duplicate ACK is one that SACKs new data */
	if (r->newly_sacked && c->ack == tp->snd_una &&
	    tp->snd_una != tp->snd_max && !tp->in_recovery)
		tp->dupacks++;
}

void tcp_rec_acked(struct tcp_sock *tp, struct netbuf *seg, tcp_seq_t ack)
{
	struct tcp_recovery *r = &tp->rec;
	struct tcp_cb *cb = tcp_cb(seg);
	bool whole = seq_leq(cb->end_seq, ack);
	uint32_t n = (whole ? cb->end_seq : ack) - cb->seq;

	if (cb->sacked) {
		r->sacked -= n;
		if (whole) {
			r->sacked_segs--;
			cb->sacked = false;
		}
		return;
	}
	if (whole && tp->sack_ok)
		rack_delivered(tp, seg);
	if (cb->lost)
		r->lost -= n;
	if (cb->resent)
		r->resent -= n;
	if (whole)
		cb->lost = cb->resent = false;
}

/*
 * RFC 6675 IsLost, walking down from the highest segment: lost when
 * DupThresh SACKed segments, or more than DupThresh - 1 full segments of
 * SACKed bytes, lie above it.
 */
static void mark_lost_by_sack(struct tcp_sock *tp)
{
	uint32_t above_bytes = 0;
	unsigned above_segs = 0;
	struct list_head *pos;

	if (tp->rec.sacked_segs == 0)
		return;
	for (pos = tp->wq.prev; pos != &tp->wq; pos = pos->prev) {
		struct netbuf *seg = list_entry(pos, struct netbuf, node);
		struct tcp_cb *cb = tcp_cb(seg);

		if (!sent(tp, seg))
			continue;
		if (cb->sacked) {
			above_bytes += seg_seqlen(seg);
			above_segs++;
			continue;
		}
		if (cb->lost)
			continue;
		if (above_segs >= TCP_DUPTHRESH ||
		    above_bytes > (TCP_DUPTHRESH - 1) * (uint32_t)tp->mss)
			mark_lost(tp, seg);
	}
}

/* RFC 8985 §6.2 step 4. */
static uint32_t rack_reo_wnd_us(const struct tcp_sock *tp)
{
	const struct tcp_recovery *r = &tp->rec;
	uint32_t wnd, srtt_us = (uint32_t)(tp->srtt / NSEC_PER_USEC);

	if (!r->reordering_seen &&
	    (tp->in_recovery || in_loss(tp) || r->sacked_segs >= TCP_DUPTHRESH))
		return 0;
	wnd = r->min_rtt_us == UINT32_MAX ? 0 : r->min_rtt_us / 4;
	return srtt_us ? lb_min(wnd, srtt_us) : wnd;
}

/*
 * RFC 8985 §6.2 step 5: every segment sent before the RACK segment and
 * not delivered a reordering window after that one's RTT is lost.
 * Returns how long until the next one would be (µs), or 0.
 */
static uint32_t rack_detect_loss(struct tcp_sock *tp)
{
	struct tcp_recovery *r = &tp->rec;
	uint32_t now = now_us(tp), reo, timeout = 0;
	struct netbuf *seg;

	if (!r->rack_valid)
		return 0;
	reo = rack_reo_wnd_us(tp);
	list_for_each_entry(seg, &tp->wq, node) {
		struct tcp_cb *cb = tcp_cb(seg);
		int64_t remaining;

		if (!sent(tp, seg))
			break;
		/*
		 * New data goes out in sequence order and a retransmission
		 * only moves a segment's time later, so every segment after
		 * one never retransmitted was last sent no earlier than it.
		 * Once such a segment was sent after the RACK segment, so
		 * was the rest of the queue: nothing further can be lost or
		 * set the timer.  This keeps an ACK's walk to the segments
		 * sent before the RACK one (none, mostly) instead of the
		 * whole flight.
		 */
		if (!cb->retransmitted &&
		    sent_after(cb->xmit_us, cb->end_seq, r->rack_xmit_us,
			       r->rack_end))
			break;
		if (cb->sacked || (cb->lost && !cb->resent))
			continue;
		/*
		 * A retransmission stamped in the same microsecond as the
		 * RACK segment went out after it (in answer to an ACK), not
		 * before as its lower sequence number would say.
		 */
		if (!sent_after(r->rack_xmit_us, r->rack_end, cb->xmit_us,
				cb->end_seq) ||
		    (cb->retransmitted && cb->xmit_us == r->rack_xmit_us))
			continue;
		remaining = (int64_t)(int32_t)(cb->xmit_us - now) +
			    r->rack_rtt_us + reo;
		if (remaining <= 0) {
			mark_lost(tp, seg);
			TCP_INC(tp->sk.net, rack_marked_lost);
		} else {
			timeout = lb_max(timeout, (uint32_t)remaining);
		}
	}
	return timeout;
}

/* RFC 6675 §5 step 4: ssthresh and cwnd halve, RecoveryPoint is set. */
static void enter_recovery(struct tcp_sock *tp)
{
	uint32_t flight = tp->snd_max - tp->snd_una;
	struct netbuf *seg;

	TCP_INC(tp->sk.net, fast_retransmits);
	TCP_INC(tp->sk.net, sack_recoveries);
	tp->ssthresh = lb_max(flight / 2, 2u * tp->mss);
	tp->cwnd = tp->ssthresh;
	tp->recover = tp->snd_max;
	tp->recover_valid = true;
	tp->in_recovery = true;
	tp->rec.tlp_out = false;
	/* DupThresh duplicate ACKs: the first segment, if nothing else is */
	if (!tp->rec.lost) {
		list_for_each_entry(seg, &tp->wq, node) {
			if (!tcp_cb(seg)->sacked) {
				if (sent(tp, seg))
					mark_lost(tp, seg);
				break;
			}
		}
	}
	tp->rec.force_one = true; /* step 4.3: at once, whatever pipe says */
}

static uint64_t pto_ns(const struct tcp_sock *tp)
{
	uint64_t pto = tp->srtt ? 2 * tp->srtt : NSEC_PER_SEC;

	if (tp->snd_max - tp->snd_una <= tp->mss)
		pto += TCP_WCDELACK_NS;
	return lb_max(pto, (uint64_t)TCP_PTO_MIN_NS);
}

static bool pto_allowed(const struct tcp_sock *tp)
{
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	default:
		return false;
	}
	return tp->sack_ok && !tp->in_recovery && !in_loss(tp) &&
	       !tp->rec.tlp_out && !tp->rec.lost && tp->snd_wnd &&
	       tp->snd_una != tp->snd_max;
}

/*
 * The probe timer; at the latest just before the RTO would fire (§7.2),
 * so that a probe, not a timeout, answers a lone lost segment.
 */
static void arm_pto(struct tcp_sock *tp)
{
	uint64_t now = host_now(tp->sk.net->host), at = now + pto_ns(tp);

	if (timer_armed(&tp->rto_timer) && tp->rto_timer.expires <= at)
		at = tp->rto_timer.expires - 1;
	/* the RTO is due now: a probe at the same instant gains nothing, and
	 * one that cannot be sent must not come back before time moves */
	if (at <= now) {
		timer_cancel(loop_of(tp), &tp->rec.timer);
		return;
	}
	tp->rec.timer_kind = REC_TIMER_PTO;
	timer_arm(loop_of(tp), &tp->rec.timer, at);
}

/*
 * Losses known now, recovery entered or left, the timer set: the
 * reordering timer if RACK waits for a segment, else the probe timer
 * (restarted when @restart_pto: new data went out or was acknowledged).
 */
static void rec_update(struct tcp_sock *tp, bool restart_pto)
{
	struct tcp_recovery *r = &tp->rec;
	uint32_t reo_us;

	if (tp->in_recovery && seq_geq(tp->snd_una, tp->recover)) {
		/* RFC 6675 §5: a cumulative ACK past RecoveryPoint ends it */
		tp->in_recovery = false;
		tp->cwnd = lb_max(tp->ssthresh, 2u * tp->mss);
	}
	if (tp->snd_una == tp->snd_max) {
		LB_ASSERT(!r->sacked && !r->lost && !r->resent &&
			  !r->sacked_segs);
		timer_cancel(loop_of(tp), &r->timer);
		r->tlp_out = false;
		return;
	}
	mark_lost_by_sack(tp);
	reo_us = rack_detect_loss(tp);
	if (!tp->in_recovery && !in_loss(tp) &&
	    !(tp->recover_valid && seq_lt(tp->snd_una, tp->recover)) &&
	    (r->lost || tp->dupacks >= TCP_DUPTHRESH))
		enter_recovery(tp);
	if (reo_us) {
		r->timer_kind = REC_TIMER_REO;
		timer_arm_in(loop_of(tp), &r->timer,
			     (uint64_t)reo_us * NSEC_PER_USEC);
	} else if (!pto_allowed(tp)) {
		timer_cancel(loop_of(tp), &r->timer);
	} else if (restart_pto || !timer_armed(&r->timer) ||
		   r->timer_kind != REC_TIMER_PTO) {
		arm_pto(tp);
	}
	check_scoreboard(tp);
}

void tcp_rec_ack_done(struct tcp_sock *tp)
{
	struct tcp_recovery *r = &tp->rec;
	bool advanced = seq_gt(tp->snd_una, r->prior_una);

	if (!tp->sack_ok)
		return;
	if (r->tlp_out && seq_geq(tp->snd_una, r->tlp_end)) {
		r->tlp_out = false;
		/*
		 * §7.4: no DSACK says the original arrived, so a probe that
		 * was a retransmission repaired a loss, and the sender
		 * answers it as it would a fast recovery.
		 */
		if (r->tlp_retrans && !tp->in_recovery && !in_loss(tp)) {
			TCP_INC(tp->sk.net, tlp_repairs);
			tp->ssthresh = lb_max(tp->cwnd / 2, 2u * tp->mss);
			tp->cwnd = tp->ssthresh;
		}
	}
	rec_update(tp, advanced);
}

bool tcp_rec_rto(struct tcp_sock *tp)
{
	struct tcp_recovery *r = &tp->rec;
	struct netbuf *seg;
	bool renege;

	if (!tp->sack_ok)
		return false;
	/*
	 * RFC 2018 §8: the receiver may have dropped what it SACKed (ours
	 * does, under memory pressure).  Believe the SACKs once; when the
	 * RTO repeats, or the first segment is SACKed yet unacknowledged,
	 * resend everything.
	 */
	seg = list_empty(&tp->wq) ?
		      NULL :
		      list_first_entry(&tp->wq, struct netbuf, node);
	renege = tp->backoff > 1 || (seg && tcp_cb(seg)->sacked);
	list_for_each_entry(seg, &tp->wq, node) {
		struct tcp_cb *cb = tcp_cb(seg);

		if (!sent(tp, seg))
			break;
		if (cb->sacked) {
			if (!renege)
				continue;
			cb->sacked = false;
			r->sacked -= seg_seqlen(seg);
			r->sacked_segs--;
		}
		mark_lost(tp, seg); /* RFC 6675 §5.1 */
	}
	r->tlp_out = false;
	timer_cancel(loop_of(tp), &r->timer);
	check_scoreboard(tp);
	return true;
}

void tcp_rec_output(struct tcp_sock *tp)
{
	struct tcp_recovery *r = &tp->rec;
	struct netbuf *seg;

	if (!tp->sack_ok || !r->lost)
		return;
	/* RFC 6675 NextSeg rule 1: lost segments first, while pipe allows */
	list_for_each_entry(seg, &tp->wq, node) {
		struct tcp_cb *cb = tcp_cb(seg);
		uint32_t len = seg_seqlen(seg);

		if (!sent(tp, seg))
			break;
		if (!cb->lost || cb->resent)
			continue;
		if (!r->force_one &&
		    tcp_rec_pipe(tp) + lb_min(len, (uint32_t)tp->mss) >
			    tcp_rec_cwnd(tp))
			break;
		if (tcp_retransmit_seg(tp, seg))
			break;
		cb->resent = true;
		r->resent += len;
		r->force_one = false;
		if (!timer_armed(&tp->rto_timer))
			tcp_arm_rto(tp);
	}
	r->force_one = false; /* one chance, not a standing credit */
}

void tcp_rec_output_done(struct tcp_sock *tp, tcp_seq_t prior_max)
{
	struct tcp_recovery *r = &tp->rec;

	if (tp->snd_max == prior_max)
		return;
	if (!tp->in_recovery && tp->dupacks && tp->dupacks < TCP_DUPTHRESH)
		TCP_INC(tp->sk.net, limited_transmits);
	/* §7.2: new data restarts the probe timer */
	if (pto_allowed(tp) &&
	    !(timer_armed(&r->timer) && r->timer_kind == REC_TIMER_REO))
		arm_pto(tp);
}

/* The last segment sent that the receiver is not known to hold. */
static struct netbuf *last_unsacked(struct tcp_sock *tp)
{
	struct list_head *pos;

	for (pos = tp->wq.prev; pos != &tp->wq; pos = pos->prev) {
		struct netbuf *seg = list_entry(pos, struct netbuf, node);

		if (sent(tp, seg) && !tcp_cb(seg)->sacked)
			return seg;
	}
	return NULL;
}

/* RFC 8985 §7.3: new data if it may go, else the last segment again. */
static void send_probe(struct tcp_sock *tp)
{
	struct tcp_recovery *r = &tp->rec;
	tcp_seq_t prior_max = tp->snd_max;
	struct netbuf *seg;

	if (!pto_allowed(tp))
		return;
	r->allowance = tp->mss;
	tcp_output(tp);
	r->allowance = 0;
	r->tlp_retrans = tp->snd_max == prior_max;
	if (r->tlp_retrans) {
		seg = last_unsacked(tp);
		if (!seg || tcp_retransmit_seg(tp, seg))
			return; /* no memory now: the RTO, armed, comes next */
		if (!tcp_cb(seg)->resent && !tcp_cb(seg)->lost) {
			tcp_cb(seg)->resent = true;
			r->resent += seg_seqlen(seg);
		}
	}
	TCP_INC(tp->sk.net, tlp_probes);
	r->tlp_out = true;
	r->tlp_end = tp->snd_max;
	timer_cancel(loop_of(tp), &r->timer);
	tcp_arm_rto(tp);
	check_scoreboard(tp);
}

static void rec_timer_fired(struct timer *t)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, rec.timer);

	if (tp->rec.timer_kind == REC_TIMER_PTO) {
		send_probe(tp);
		return;
	}
	/* RACK's reordering window has passed for some segment */
	rec_update(tp, false);
	tcp_output(tp);
}

void tcp_rec_init(struct tcp_sock *tp)
{
	memset(&tp->rec, 0, sizeof(tp->rec));
	tp->rec.min_rtt_us = UINT32_MAX;
	timer_init(&tp->rec.timer, rec_timer_fired);
}

void tcp_rec_stop(struct tcp_sock *tp)
{
	struct tcp_recovery *r = &tp->rec;

	timer_cancel(loop_of(tp), &r->timer);
	/* the queue is purged next */
	r->sacked = r->lost = r->resent = 0;
	r->sacked_segs = 0;
	r->tlp_out = false;
}
