// SPDX-License-Identifier: MIT
/*
 * tcp_input.c - a segment arrives (RFC 9293 §3.10.7), in the RFC's order:
 * sequence number, RST (with RFC 5961's challenge ACKs), SYN, ACK, text,
 * FIN.  Input state travels in a struct tcp_in_ctx, never in statics.
 *
 * Reserve rule: a segment that arrived in reserve memory is dropped after
 * the lookup unless its connection is flagged; a flagged connection keeps
 * only a copy charged to its own receive reserve.
 */
#include <errno.h>
#include "tcp_impl.h"

static void drop(struct tcp_in_ctx *c, struct counter *why, const char *what)
{
	if (c->nb) {
		net_drop(c->net, c->nb, why, what);
		c->nb = NULL;
	}
}

static void init_cwnd(struct tcp_sock *tp)
{
	/* RFC 6928: ten segments, or what 14600 bytes allow. */
	tp->cwnd = lb_min(10u * tp->mss, lb_max(2u * tp->mss, 14600u));
	tp->ssthresh = UINT32_MAX / 2;
}

/* Options of a SYN or SYN-ACK: what the connection will use. */
static void apply_syn_options(struct tcp_sock *tp, const struct tcp_in_ctx *c)
{
	uint32_t next_hop;
	struct net_device *dev =
		net_route(tp->sk.net, tp->sk.remote.ip, &next_hop);
	uint16_t our_max = (uint16_t)((dev ? dev->mtu : 576) - 40);

	tp->mss = c->opts.mss_ok ? c->opts.mss : TCP_DEFAULT_MSS;
	tp->mss = (uint16_t)lb_max(lb_min(tp->mss, our_max), (uint16_t)64);
	tp->ws_ok = c->opts.ws_ok;
	if (tp->ws_ok) {
		tp->snd_wscale = c->opts.ws;
	} else {
		tp->snd_wscale = 0;
		tp->rcv_wscale = 0;
	}
	tp->sack_ok = c->opts.sack_ok;
	tp->ts_ok = c->opts.ts_ok;
	/* every segment will carry 12 bytes of timestamp option */
	if (tp->ts_ok)
		tp->mss = (uint16_t)(tp->mss - 12);
	if (tp->ts_ok) {
		tp->ts_recent = c->opts.tsval;
		tp->ts_recent_stamp = host_now(tp->sk.net->host);
		/* an active opener chose its clock before its SYN */
		if (tp->state != TCP_SYN_SENT)
			tp->ts_offset = tcp_ts_offset(
				tp->sk.net, tp->sk.remote.ip, tp->sk.local.ip);
	}
	tp->irs = c->seq;
	tp->rcv_nxt = c->seq + 1;
	tp->rcv_adv = tp->rcv_nxt;
	/*
	 * What the peer may already send: the unscaled window of our SYN.
	 * Our ACK commits the same when it goes out, but it may not (no
	 * memory), and the peer's data must not then look beyond the window.
	 */
	if (tp->state == TCP_SYN_SENT)
		tp->rcv_adv += lb_min(tcp_rcv_window(tp), 0xffffu);
	/*
	 * RFC 7323 §4.3: Last.ACK.sent starts at RCV.NXT.  Left at zero (our
	 * ACK of the SYN could not be allocated), the acceptability test and
	 * the TS.Recent rule would compare against a number from nowhere.
	 */
	tp->last_ack_sent = tp->rcv_nxt;
}

/* ---- LISTEN -------------------------------------------------------------- */

static void sync_input(struct tcp_sock *tp, struct tcp_in_ctx *c);

/*
 * The ACK in @c may complete a handshake we answered with a SYN cookie:
 * if the cookie checks out, the connection is rebuilt from it and the ACK
 * (with any data) processed as in SYN-RECEIVED.  False if it was none of
 * ours.
 */
static bool cookie_accept(struct tcp_sock *l, struct tcp_in_ctx *c)
{
	struct net *net = c->net;
	struct tcp_in_ctx syn = *c;
	struct tcp_sock *tp;

	if (c->flags & TCP_SYN)
		return false;
	if (tcp_cookie_check(l, c, &syn.opts)) {
		if (l->cookies_sent)
			TCP_INC(net, syncookies_failed);
		return false;
	}
	TCP_INC(net, syncookies_validated);
	if (l->nr_accept >= l->backlog) {
		/* the peer repeats its ACK or data; the cookie stays good */
		TCP_INC(net, accept_queue_full);
		return true;
	}
	tp = tcp_child(l, c);
	if (!tp) {
		TCP_INC(net, rx_drop_no_memory);
		return true;
	}
	syn.flags = TCP_SYN;
	syn.seq = c->seq - 1;
	apply_syn_options(tp, &syn);
	tp->adv_mss = tcp_adv_mss(net, c->saddr);
	tp->rcv_wscale = tp->ws_ok ? tcp_rcv_wscale_for(tp->rcvbuf) : 0;
	/* what our SYN-ACK offered: the unscaled window */
	tp->rcv_adv = tp->rcv_nxt + lb_min(tcp_rcv_window(tp), 0xffffu);
	tp->iss = c->ack - 1;
	tp->snd_una = tp->iss;
	tp->snd_nxt = tp->snd_max = tp->write_seq = tp->iss + 1;
	tp->snd_wnd = c->wnd;
	TCP_INC(net, passive_opens);
	sync_input(tp, c);
	/* not taken after all (PAWS, window): forget it, nothing resends */
	if (tp->state == TCP_SYN_RECEIVED)
		tcp_done(tp, 0);
	return true;
}

static void listen_input(struct tcp_sock *l, struct tcp_in_ctx *c)
{
	struct net *net = c->net;
	struct tcp_sock *tp;

	if (c->flags & TCP_RST) /* never a listener's: not ours to consume */
		return;
	if (c->flags & TCP_ACK) {
		if (!cookie_accept(l, c))
			tcp_reply_rst(net, c);
		return;
	}
	if (!(c->flags & TCP_SYN))
		return;
	if (l->nr_syn >= l->backlog || l->nr_accept >= l->backlog) {
		TCP_INC(net, syn_queue_full);
		/*
		 * A full SYN queue is what a flood of spoofed SYNs makes:
		 * answer with a cookie instead of state (RFC 4987).  A full
		 * accept queue is the user's: a cookie would not help.
		 */
		if (l->nr_accept < l->backlog)
			tcp_cookie_synack(l, c);
		return;
	}
	tp = tcp_child(l, c);
	if (!tp) {
		TCP_INC(net, rx_drop_no_memory);
		return;
	}
	if (l->closed_by_user) /* cannot happen: listeners are unhashed */
		return;
	apply_syn_options(tp, c);
	tp->snd_wnd = c->wnd;
	tp->iss = tcp_isn(net, c->daddr, c->dport, c->saddr, c->sport);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
	tp->write_seq = tp->iss + 1;
	TCP_INC(net, passive_opens);
	tcp_send_syn(tp);
	tcp_arm_rto(tp);
	tcp_check(tp);
}

/* ---- SYN-SENT ------------------------------------------------------------ */

static void established(struct tcp_sock *tp, const struct tcp_in_ctx *c)
{
	tcp_set_state(tp, TCP_ESTABLISHED);
	tp->snd_una = c->ack;
	/*
	 * A SYN retransmission that could not be allocated left snd_nxt
	 * rewound to the ISS; the peer acknowledged the earlier SYN.
	 */
	if (seq_lt(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	tp->snd_wnd = c->wnd << tp->snd_wscale;
	tp->max_wnd = tp->snd_wnd;
	tp->snd_wl1 = c->seq;
	tp->snd_wl2 = c->ack;
	init_cwnd(tp);
	tp->recover_valid = false; /* no recovery yet (RFC 6582) */
	tp->retries = 0;
	tp->backoff = 0;
	timer_cancel(tp->sk.net->host->loop, &tp->rto_timer);
	tcp_arm_keepalive(tp);
}

static void synsent_input(struct tcp_sock *tp, struct tcp_in_ctx *c)
{
	bool ack_ok = false;

	if (c->flags & TCP_ACK) {
		ack_ok = seq_gt(c->ack, tp->iss) &&
			 seq_leq(c->ack, tp->snd_max);
		if (!ack_ok) {
			tcp_reply_rst(c->net, c);
			return;
		}
	}
	if (c->flags & TCP_RST) {
		if (ack_ok) {
			TCP_INC(c->net, rst_received);
			tcp_done(tp, ECONNREFUSED);
		}
		return;
	}
	if (!(c->flags & TCP_SYN))
		return;
	apply_syn_options(tp, c);
	if (!ack_ok) {
		/* simultaneous open */
		tcp_set_state(tp, TCP_SYN_RECEIVED);
		tp->snd_wnd = c->wnd;
		tcp_send_syn(tp);
		return;
	}
	if (!tp->backoff) /* Karn: a retransmitted SYN gives no sample */
		tcp_rtt_sample(tp, host_now(c->net->host) - tp->rtt_start);
	established(tp, c);
	/* the window of a SYN-ACK is never scaled (RFC 7323 §2.2) */
	tp->snd_wnd = tp->max_wnd = c->wnd;
	tcp_refill_spare_ack(tp);
	tcp_send_ack(tp);
	tcp_check(tp);
	tcp_wake_writable(tp);
}

/* ---- TIME-WAIT ----------------------------------------------------------- */

/* Returns true if the segment should go on to a listener. */
static bool timewait_input(struct tcp_sock *tp, struct tcp_in_ctx *c)
{
	/* A new incarnation: Linux reuses the pair when the SYN moved on. */
	if ((c->flags & TCP_SYN) && !(c->flags & (TCP_ACK | TCP_RST)) &&
	    seq_gt(c->seq, tp->rcv_nxt)) {
		TCP_INC(c->net, timewait_reused);
		tcp_done(tp, 0); /* freed only if its user has closed it */
		return true;
	}
	/* RFC 1337: an RST does not end TIME-WAIT early. */
	if (c->flags & TCP_RST)
		return false;
	if (c->flags & TCP_FIN)
		timer_arm_in(c->net->host->loop, &tp->tw_timer,
			     TCP_TIME_WAIT_NS);
	tcp_send_ack(tp);
	return false;
}

/* ---- synchronized states -------------------------------------------------- */

/*
 * TS.Recent is valid unless the connection has been idle for longer than
 * the peer's timestamp clock may take to wrap half-way (RFC 7323 §5.5).
 */
static bool ts_recent_stale(const struct tcp_sock *tp, uint64_t now)
{
	return now - tp->ts_recent_stamp > TCP_PAWS_IDLE_NS;
}

/*
 * PAWS (RFC 7323 §5.3 R1): a segment whose timestamp is older than
 * TS.Recent is an old duplicate, even when its sequence number looks
 * current because the sequence space wrapped (3.4 s at 10 Gbit/s).  An
 * RST is judged by its sequence number alone (§5.2: RSTs need not carry
 * a timestamp that passes).
 */
static bool paws_reject(const struct tcp_sock *tp, const struct tcp_in_ctx *c)
{
	if (!tp->ts_ok || !c->opts.ts_ok || (c->flags & TCP_RST))
		return false;
	if ((int32_t)(c->opts.tsval - tp->ts_recent) >= 0)
		return false;
	return !ts_recent_stale(tp, host_now(c->net->host));
}

/* RFC 9293 §3.10.7.4 "first": is any of the segment inside our window? */
static bool acceptable(struct tcp_sock *tp, const struct tcp_in_ctx *c)
{
	uint32_t wnd = tp->rcv_adv - tp->rcv_nxt;

	/*
	 * Linux's and BSD's reading of the RFC's table: a segment is
	 * acceptable if it does not end before what we last acknowledged and
	 * does not start beyond the right edge.  So a retransmission ending
	 * at RCV.NXT, or a pure ACK at the right edge, still has its ACK
	 * field processed; the text is trimmed to the window afterwards.
	 */
	return seq_geq(c->end_seq, tp->last_ack_sent) &&
	       seq_leq(c->seq, tp->rcv_nxt + wnd);
}

/*
 * RFC 5961 §7: challenge ACKs are limited per host, or a flood of forged
 * RSTs and SYNs becomes a flood of our ACKs.  The budget of each second is
 * drawn at random (half to one and a half times the limit, as Linux does)
 * so an off-path attacker cannot count them to learn whether a guessed
 * connection exists (CVE-2016-5696).
 */
static bool challenge_allowed(struct net *net)
{
	struct tcp_table *t = tcp_table(net);
	uint64_t now = host_now(net->host);

	if (!t->challenge_started || now - t->challenge_stamp >= NSEC_PER_SEC) {
		t->challenge_started = true;
		t->challenge_stamp = now;
		t->challenge_left =
			TCP_CHALLENGE_ACK_LIMIT / 2 +
			(unsigned)prng_below(&t->prng, TCP_CHALLENGE_ACK_LIMIT);
	}
	if (!t->challenge_left)
		return false;
	t->challenge_left--;
	return true;
}

static void challenge_ack(struct tcp_sock *tp)
{
	struct net *net = tp->sk.net;

	if (!challenge_allowed(net)) {
		TCP_INC(net, challenge_acks_limited);
		return;
	}
	TCP_INC(net, challenge_acks);
	tcp_send_challenge_ack(tp);
}

static void free_ofo(struct tcp_sock *tp)
{
	struct netbuf *nb, *tmp;

	list_for_each_entry_safe(nb, tmp, &tp->ofo, node) {
		list_del(&nb->node);
		netbuf_free(nb);
		TCP_INC(tp->sk.net, rx_ofo_pruned);
	}
	tp->nr_ofo = 0;
	tp->ofo_bytes = tp->ofo_truesize = 0;
}

/*
 * The memory a segment's data will live in: the segment itself, or for a
 * reserve segment of a flagged connection a copy charged to net.rxq.<id>
 * (out-of-order data is dropped first when that reserve is short).  NULL
 * when it cannot be kept.
 */
static struct netbuf *keep(struct tcp_sock *tp, struct tcp_in_ctx *c,
			   bool in_order)
{
	struct netbuf *nb = c->nb, *copy;
	uint32_t len = netbuf_total(nb);

	if (!nb->pfmemalloc)
		return nb;
	copy = netbuf_alloc_paged(tp->sk.net, len, MM_ATOMIC | MM_MEMALLOC,
				  &tp->sk.rxq_rsv);
	if (!copy && in_order && !list_empty(&tp->ofo)) {
		free_ofo(tp);
		copy = netbuf_alloc_paged(tp->sk.net, len,
					  MM_ATOMIC | MM_MEMALLOC,
					  &tp->sk.rxq_rsv);
	}
	if (!copy)
		return NULL;
	netbuf_copy_into(copy, nb, len);
	return copy;
}

static void queue_in_order(struct tcp_sock *tp, struct netbuf *nb, uint32_t len)
{
	list_add_tail(&nb->node, &tp->rq);
	tp->rq_bytes += len;
	tp->rq_truesize += nb->truesize;
	tp->rcv_nxt += len;
}

/* Move out-of-order data that now follows rcv_nxt into the queue. */
static void drain_ofo(struct tcp_sock *tp)
{
	while (!list_empty(&tp->ofo)) {
		struct netbuf *nb =
			list_first_entry(&tp->ofo, struct netbuf, node);
		struct tcp_cb *cb = tcp_cb(nb);
		uint32_t len = netbuf_total(nb);

		if (seq_gt(cb->seq, tp->rcv_nxt))
			break;
		list_del(&nb->node);
		tp->nr_ofo--;
		tp->ofo_bytes -= len;
		tp->ofo_truesize -= nb->truesize;
		if (seq_leq(cb->end_seq, tp->rcv_nxt)) {
			netbuf_free(nb);
			continue;
		}
		netbuf_consume(nb, tp->rcv_nxt - cb->seq);
		queue_in_order(tp, nb, netbuf_total(nb));
	}
}

static void ofo_insert(struct tcp_sock *tp, struct tcp_in_ctx *c)
{
	struct netbuf *pos, *nb;
	tcp_seq_t seq = c->seq, end = c->seq + netbuf_total(c->nb);

	if (tp->nr_ofo >= TCP_OFO_MAX_SEGS) {
		drop(c, &tcp_table(c->net)->st.rx_drop_ofo_full,
		     "tcp_rx_drop_ofo_full");
		return;
	}
	/* Overlaps are dropped: the sender repeats what we miss. */
	list_for_each_entry(pos, &tp->ofo, node) {
		if (seq_lt(seq, tcp_cb(pos)->end_seq) &&
		    seq_lt(tcp_cb(pos)->seq, end)) {
			drop(c, &tcp_table(c->net)->st.rx_dup_data,
			     "tcp_rx_dup_data");
			return;
		}
		if (seq_gt(tcp_cb(pos)->seq, seq))
			break;
	}
	nb = keep(tp, c, false);
	if (!nb) {
		drop(c, &tcp_table(c->net)->st.rx_drop_no_memory,
		     "tcp_rx_drop_no_memory");
		return;
	}
	if (nb == c->nb)
		c->nb = NULL;
	tcp_cb(nb)->seq = seq;
	tcp_cb(nb)->end_seq = end;
	list_add_tail(&nb->node, &pos->node);
	tcp_cb(nb)->arrival = ++tp->ofo_arrivals;
	tp->nr_ofo++;
	tp->ofo_bytes += end - seq;
	tp->ofo_truesize += nb->truesize;
	TCP_INC(c->net, rx_ofo_queued);
}

/*
 * Would @len more bytes overflow the receive buffer?  The buffer bounds
 * what we hold (tcp_check), even where a window kept at its old right
 * edge (out-of-order data took the space, or rounding up to the window
 * scale) promised more: such data is dropped and counted, and the peer
 * resends it once the reader has made room.
 */
static bool rcvbuf_full(const struct tcp_sock *tp, uint32_t len)
{
	return tp->rq_bytes + tp->ofo_bytes + len > tp->rcvbuf;
}

/* §3.10.7.4 "seventh": the segment text. */
static void data_input(struct tcp_sock *tp, struct tcp_in_ctx *c)
{
	struct net *net = c->net;
	uint32_t len = c->len, wnd_end;
	bool had_ofo = !list_empty(&tp->ofo);
	struct netbuf *nb;

	if (!len)
		return;
	if (seq_lt(c->seq, tp->rcv_nxt)) {
		uint32_t skip = tp->rcv_nxt - c->seq;

		if (skip >= len) {
			TCP_INC(net, rx_dup_data);
			tcp_send_ack(tp);
			return;
		}
		netbuf_consume(c->nb, skip);
		/* seq and len move together: fin_input finds the FIN at their end */
		c->seq += skip;
		c->len -= skip;
		len -= skip;
	}
	wnd_end = tp->rcv_adv;
	if (seq_gt(c->seq + len, wnd_end)) {
		len = seq_gt(wnd_end, c->seq) ? wnd_end - c->seq : 0;
		netbuf_trim(c->nb, len);
	}
	if (!len) {
		tcp_send_ack(tp);
		return;
	}
	if (rcvbuf_full(tp, len)) {
		drop(c, &tcp_table(net)->st.rx_drop_rcvbuf,
		     "tcp_rx_drop_rcvbuf");
		tcp_send_ack(tp);
		return;
	}
	if (c->seq != tp->rcv_nxt) {
		ofo_insert(tp, c);
		TCP_INC(net, quick_acks);
		tcp_send_ack(tp); /* out of order: at once (RFC 5681 §4.2) */
		return;
	}
	nb = keep(tp, c, true);
	if (!nb) {
		drop(c, &tcp_table(net)->st.rx_drop_no_memory,
		     "tcp_rx_drop_no_memory");
		tcp_send_ack(tp);
		return;
	}
	if (nb == c->nb)
		c->nb = NULL; /* queued as it is */
	queue_in_order(tp, nb, len);
	drain_ofo(tp);
	tp->segs_unacked++;
	/* at least every second segment, and at once when a hole closed */
	if (had_ofo || tp->segs_unacked >= 2) {
		TCP_INC(net, quick_acks);
		tcp_send_ack(tp);
	} else {
		tcp_arm_delack(tp);
	}
	tcp_wake_readable(tp);
}

/* Remove what @ack covers from the send queue. */
static uint32_t clean_acked(struct tcp_sock *tp, tcp_seq_t ack)
{
	uint32_t freed = 0;

	while (!list_empty(&tp->wq)) {
		struct netbuf *seg =
			list_first_entry(&tp->wq, struct netbuf, node);
		struct tcp_cb *cb = tcp_cb(seg);
		uint32_t len = netbuf_total(seg);

		if (seq_gt(ack, cb->seq))
			tcp_rec_acked(tp, seg, ack);
		if (seq_leq(cb->end_seq, ack)) {
			if (tp->send_head == seg)
				tp->send_head =
					seg->node.next == &tp->wq ?
						NULL :
						list_entry(seg->node.next,
							   struct netbuf, node);
			list_del(&seg->node);
			tp->wq_bytes -= len;
			freed += len;
			if (tp->copy_page && seg->nr_frags &&
			    seg->frags[seg->nr_frags - 1].page == tp->copy_page)
				tp->copy_page = NULL;
			netbuf_free(seg);
			continue;
		}
		if (seq_gt(ack, cb->seq)) {
			uint32_t n = ack - cb->seq;

			netbuf_consume(seg, n);
			cb->seq = ack;
			tp->wq_bytes -= n;
			freed += n;
		}
		break;
	}
	return freed;
}

/*
 * NewReno recovery (no SACK: tcp_recovery.c handles SACK connections):
 * resend the first unacknowledged segment, once per recovery.
 */
static void retransmit_first(struct tcp_sock *tp)
{
	struct netbuf *seg;

	LB_ASSERT(!tp->sack_ok);
	if (list_empty(&tp->wq))
		return;
	seg = list_first_entry(&tp->wq, struct netbuf, node);
	if (!tcp_cb(seg)->hole_resent && !tcp_retransmit_seg(tp, seg))
		tcp_cb(seg)->hole_resent = true;
}

static void new_ack(struct tcp_sock *tp, struct tcp_in_ctx *c)
{
	struct net *net = c->net;
	uint32_t acked = c->ack - tp->snd_una;

	clean_acked(tp, c->ack);
	tp->snd_una = c->ack;
	if (seq_lt(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	/* RTT: timestamps when we have them, else Karn's timed segment. */
	if (tp->ts_ok && c->opts.ts_ok && c->opts.tsecr) {
		uint32_t ms = tcp_ts_now(tp) - c->opts.tsecr;

		if (ms < 60000)
			tcp_rtt_sample(tp, (uint64_t)ms * NSEC_PER_MSEC +
						   NSEC_PER_MSEC / 2);
	} else if (tp->rtt_timing && seq_gt(c->ack, tp->rtt_seq)) {
		tcp_rtt_sample(tp, host_now(net->host) - tp->rtt_start);
		tp->rtt_timing = false;
	}
	tp->retries = 0;
	tp->backoff = 0;
	/*
	 * recover only matters until snd_una passes it; forgetting it then
	 * keeps a stale value from comparing wrongly 2 GiB later.
	 */
	if (tp->recover_valid && seq_geq(tp->snd_una, tp->recover))
		tp->recover_valid = false;
	if (tp->in_recovery && tp->sack_ok) {
		/* RFC 6675: cwnd stays; tcp_rec_ack_done ends recovery */
	} else if (tp->in_recovery) {
		if (seq_geq(c->ack, tp->recover)) {
			/* full ACK: leave recovery (RFC 6582 §3.2 step 3) */
			uint32_t flight = tp->snd_max - tp->snd_una;

			tp->cwnd = lb_min(tp->ssthresh, flight + tp->mss);
			tp->in_recovery = false;
		} else {
			/* partial ACK: the next hole, deflate */
			retransmit_first(tp);
			tp->cwnd = tp->cwnd > acked ? tp->cwnd - acked : 0;
			tp->cwnd += tp->mss;
		}
	} else if (tp->cwnd < tp->ssthresh) {
		tp->cwnd += lb_min(acked, (uint32_t)tp->mss);
	} else {
		tp->cwnd += lb_max(1u, (uint32_t)tp->mss * tp->mss / tp->cwnd);
	}
	tp->dupacks = 0;
	if (tp->snd_una == tp->snd_max)
		timer_cancel(net->host->loop, &tp->rto_timer);
	else
		tcp_arm_rto(tp);
	tcp_wake_writable(tp);
}

static void dup_ack(struct tcp_sock *tp)
{
	uint32_t flight = tp->snd_max - tp->snd_una;
	struct netbuf *seg;

	TCP_INC(tp->sk.net, dup_acks);
	if (tp->sack_ok)
		return; /* counted and acted on by tcp_recovery.c */
	if (tp->in_recovery) {
		tp->cwnd += tp->mss; /* each dupack: a segment left the net */
		return;
	}
	if (++tp->dupacks != 3)
		return;
	/* RFC 6582 §3.2: not again for data sent before the last recovery */
	if (tp->recover_valid && seq_lt(tp->snd_una, tp->recover))
		return;
	TCP_INC(tp->sk.net, fast_retransmits);
	tp->ssthresh = lb_max(flight / 2, 2u * tp->mss);
	tp->recover = tp->snd_max;
	tp->recover_valid = true;
	list_for_each_entry(seg, &tp->wq, node)
		tcp_cb(seg)->hole_resent = false;
	retransmit_first(tp);
	tp->cwnd = tp->ssthresh + 3u * tp->mss;
	tp->in_recovery = true;
}

/* Window update (RFC 9293 §3.10.7.4, SND.WL1/WL2). */
static void snd_wnd_update(struct tcp_sock *tp, const struct tcp_in_ctx *c)
{
	uint32_t new_wnd = c->wnd << tp->snd_wscale;

	if (seq_lt(tp->snd_wl1, c->seq) ||
	    (tp->snd_wl1 == c->seq && seq_leq(tp->snd_wl2, c->ack))) {
		tp->snd_wnd = new_wnd;
		tp->snd_wl1 = c->seq;
		tp->snd_wl2 = c->ack;
		tp->max_wnd = lb_max(tp->max_wnd, new_wnd);
		if (new_wnd) {
			timer_cancel(c->net->host->loop, &tp->persist_timer);
			tp->persist_backoff = 0;
		} else {
			tp->retries = 0; /* the peer is there, just full */
		}
	}
}

/* Has our FIN been acknowledged? */
static bool fin_acked(const struct tcp_sock *tp)
{
	return tp->fin_queued && tp->snd_una == tp->write_seq;
}

/* §3.10.7.4 "fifth": the ACK field.  Returns false to stop processing. */
static bool ack_input(struct tcp_sock *tp, struct tcp_in_ctx *c)
{
	uint32_t old_wnd = tp->snd_wnd, new_wnd;

	if (tp->state == TCP_SYN_RECEIVED) {
		if (!seq_gt(c->ack, tp->snd_una) ||
		    seq_gt(c->ack, tp->snd_max)) {
			tcp_reply_rst(c->net, c);
			return false;
		}
		if (tp->listener &&
		    tp->listener->nr_accept >= tp->listener->backlog) {
			TCP_INC(c->net, accept_queue_full);
			return false; /* stays embryonic; the SYN-ACK is resent */
		}
		established(tp, c);
		tcp_refill_spare_ack(tp);
		if (tp->listener) {
			struct tcp_sock *l = tp->listener;

			/* still in the table (data may follow), and acceptable */
			l->nr_syn--;
			l->nr_accept++;
			list_add_tail(&tp->accept_node, &l->accept_q);
			tcp_wake_readable(l);
		} else {
			tcp_wake_writable(tp);
		}
		return true;
	}
	if (seq_gt(c->ack, tp->snd_max)) {
		/*
		 * Acknowledges what we never sent: ACK and drop (RFC 5961
		 * §5.2), within the challenge budget, as a forger spraying
		 * acknowledgment numbers would otherwise get one reply each.
		 */
		challenge_ack(tp);
		return false;
	}
	if (seq_lt(c->ack, tp->snd_una - tp->max_wnd)) {
		challenge_ack(tp); /* RFC 5961 §5.2 */
		return false;
	}
	new_wnd = c->wnd << tp->snd_wscale;
	snd_wnd_update(tp, c);
	tcp_rec_sack(tp, c);
	if (seq_gt(c->ack, tp->snd_una))
		new_ack(tp, c);
	else if (c->ack == tp->snd_una && !c->len &&
		 !(c->flags & (TCP_SYN | TCP_FIN)) &&
		 (new_wnd == old_wnd || (tp->sack_ok && c->opts.nr_sacks)) &&
		 new_wnd && tp->snd_una != tp->snd_max)
		dup_ack(tp); /* answers to zero-window probes are not dupacks */
	tcp_rec_ack_done(tp);

	switch (tp->state) {
	case TCP_FIN_WAIT_1:
		if (fin_acked(tp))
			tcp_set_state(tp, TCP_FIN_WAIT_2);
		break;
	case TCP_CLOSING:
		if (fin_acked(tp)) {
			tcp_enter_timewait(tp);
			return false;
		}
		break;
	case TCP_LAST_ACK:
		if (fin_acked(tp)) {
			tcp_done(tp, 0);
			return false;
		}
		break;
	default:
		break;
	}
	return true;
}

/* §3.10.7.4 "eighth": the FIN, once everything before it has arrived. */
static void fin_input(struct tcp_sock *tp, struct tcp_in_ctx *c)
{
	if (!(c->flags & TCP_FIN))
		return;
	if (tp->fin_received) {
		/*
		 * A repeat: the peer did not get our ACK of its FIN and will
		 * keep resending until it does (RFC 9293 §3.10.7.4, "eighth":
		 * acknowledge it, whatever our state).
		 */
		TCP_INC(c->net, rx_dup_fin);
		tcp_send_ack(tp);
		return;
	}
	if (c->seq + c->len != tp->rcv_nxt)
		return;
	tp->fin_received = true;
	tp->rcv_nxt++;
	/* nothing after the FIN will ever be delivered: let it go */
	free_ofo(tp);
	tcp_send_ack(tp);
	switch (tp->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		tcp_set_state(tp, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT_1:
		if (fin_acked(tp)) {
			tcp_enter_timewait(tp);
			return;
		}
		tcp_set_state(tp, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
		tcp_enter_timewait(tp);
		return;
	default:
		break;
	}
	tcp_wake_readable(tp);
}

/*
 * Timestamps (RFC 7323 §4.3 R3): remember the newest that covers what we
 * acknowledged; after a long idle time any, as TS.Recent is stale.
 */
static void ts_recent_update(struct tcp_sock *tp, const struct tcp_in_ctx *c)
{
	uint64_t now = host_now(c->net->host);

	if (tp->ts_ok && c->opts.ts_ok &&
	    ((int32_t)(c->opts.tsval - tp->ts_recent) >= 0 ||
	     ts_recent_stale(tp, now)) &&
	    seq_leq(c->seq, tp->last_ack_sent)) {
		tp->ts_recent = c->opts.tsval;
		tp->ts_recent_stamp = now;
	}
}

/*
 * Header prediction (Van Jacobson's, as in RFC 9293's processing but
 * short): on an established connection with nothing unusual going on,
 * the two segments that make up a bulk transfer are
 *  - a pure ACK that acknowledges new data, window unchanged, no SACK
 *    blocks, and
 *  - the next in-order data, acknowledging nothing new, while no
 *    out-of-order data waits, and fitting the window and the receive
 *    buffer,
 * and for them every step of sync_input but one is known to do nothing:
 * PAWS passes (the timestamp is not older than TS.Recent), the segment is
 * acceptable (it starts at RCV.NXT), there is no RST, SYN or FIN, no
 * duplicate ACK, no state change, no trimming.  What is left is done here
 * with the same functions the full path uses, so the connection ends in
 * the same state either way; tcp_output() checks it (tcp_check).  A
 * segment received into the reserve takes the full path (it is copied
 * and charged there).  Returns false, having changed nothing, when the
 * segment is not one of the two.
 */
static bool fast_path(struct tcp_sock *tp, struct tcp_in_ctx *c)
{
	struct net *net = c->net;
	struct netbuf *nb;

	if (tcp_table(net)->no_fast_path || tp->state != TCP_ESTABLISHED ||
	    (c->flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_URG | TCP_ACK)) !=
		    TCP_ACK ||
	    c->seq != tp->rcv_nxt || c->opts.nr_sacks || !tp->snd_wnd ||
	    (c->wnd << tp->snd_wscale) != tp->snd_wnd || tp->in_recovery ||
	    tp->recover_valid || tp->dupacks)
		return false;
	if (tp->ts_ok &&
	    (!c->opts.ts_ok || (int32_t)(c->opts.tsval - tp->ts_recent) < 0))
		return false;
	if (!c->len) {
		if (!seq_gt(c->ack, tp->snd_una) || seq_gt(c->ack, tp->snd_max))
			return false;
	} else if (c->ack != tp->snd_una || !list_empty(&tp->ofo) ||
		   c->nb->pfmemalloc || seq_gt(c->seq + c->len, tp->rcv_adv) ||
		   rcvbuf_full(tp, c->len)) {
		return false;
	}

	/* what sync_input would have done, in its order */
	LB_ASSERT(!paws_reject(tp, c) && acceptable(tp, c));
	ts_recent_update(tp, c);
	snd_wnd_update(tp, c);
	tcp_rec_sack(tp, c);
	if (!c->len) {
		TCP_INC(net, rx_fast_acks);
		new_ack(tp, c);
		tcp_rec_ack_done(tp);
	} else {
		TCP_INC(net, rx_fast_data);
		tcp_rec_ack_done(tp);
		nb = c->nb;
		c->nb = NULL; /* queued as it is */
		queue_in_order(tp, nb, c->len);
		tp->segs_unacked++;
		/* at least every second segment (RFC 5681 §4.2) */
		if (tp->segs_unacked >= 2) {
			TCP_INC(net, quick_acks);
			tcp_send_ack(tp);
		} else {
			tcp_arm_delack(tp);
		}
		tcp_wake_readable(tp);
	}
	tcp_output(tp); /* checks the connection (tcp_check) */
	tcp_arm_keepalive(tp);
	return true;
}

static void sync_input(struct tcp_sock *tp, struct tcp_in_ctx *c)
{
	struct net *net = c->net;
	enum tcp_state s;

	if (fast_path(tp, c))
		return;

	/* PAWS, then the sequence number: an old duplicate gets an ACK */
	if (paws_reject(tp, c)) {
		TCP_INC(net, rx_paws_rejected);
		tcp_send_ack(tp);
		return;
	}
	if (!acceptable(tp, c)) {
		TCP_INC(net, rx_out_of_window);
		if (!(c->flags & TCP_RST))
			tcp_send_ack(tp);
		return;
	}
	ts_recent_update(tp, c);
	/* second: RST (RFC 5961 §3.2) */
	if (c->flags & TCP_RST) {
		uint32_t wnd = tp->rcv_adv - tp->rcv_nxt;

		if (c->seq != tp->rcv_nxt) {
			/* in the window but not exact: challenge; else ignore */
			if (seq_in(c->seq, tp->rcv_nxt, tp->rcv_nxt + wnd))
				challenge_ack(tp);
			else
				TCP_INC(net, rst_ignored);
			return;
		}
		TCP_INC(net, rst_received);
		s = tp->state;
		if (s == TCP_SYN_RECEIVED && tp->listener) {
			tcp_done(tp, 0); /* the listener forgets it */
			return;
		}
		tcp_done(tp, s == TCP_CLOSING || s == TCP_LAST_ACK ?
				     0 :
				     ECONNRESET);
		return;
	}
	/* fourth: a SYN here is a challenge (RFC 5961 §4) */
	if (c->flags & TCP_SYN) {
		challenge_ack(tp);
		return;
	}
	/* fifth: ACK */
	if (!(c->flags & TCP_ACK))
		return;
	if (!ack_input(tp, c))
		return;
	/* seventh: text */
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
		data_input(tp, c);
		break;
	default:
		break; /* the peer already sent its FIN: data is ignored */
	}
	fin_input(tp, c);
	if (tp->state == TCP_TIME_WAIT) {
		tcp_check(tp);
		return;
	}
	tcp_output(tp); /* checks the connection (tcp_check) */
	tcp_arm_keepalive(tp);
}

void tcp_set_fast_path(struct net *net, bool on)
{
	tcp_table(net)->no_fast_path = !on;
}

void tcp_rcv(struct net *net, struct netbuf *nb)
{
	const struct ip_hdr *ip = (const void *)netbuf_network_header(nb);
	struct tcp_in_ctx c = { .net = net, .nb = nb };
	const struct tcp_hdr *th = (const void *)nb->data;
	uint32_t total = netbuf_total(nb), doff;
	struct tcp_sock *tp;

	TCP_INC(net, rx_segs);
	if (nb->len < sizeof(*th) ||
	    (doff = (th->doff >> 4) * 4u) < sizeof(*th) || doff > nb->len) {
		drop(&c, &tcp_table(net)->st.rx_bad_header,
		     "tcp_rx_bad_header");
		return;
	}
	if (!nb->csum_ok &&
	    csum_fold(netbuf_csum(nb, 0, total,
				  csum_pseudo(ip->saddr, ip->daddr, IPPROTO_TCP,
					      (uint16_t)total))) != 0) {
		drop(&c, &tcp_table(net)->st.rx_bad_csum, "tcp_rx_bad_csum");
		return;
	}
	if (tcp_parse_options((const uint8_t *)(th + 1), doff - sizeof(*th),
			      &c.opts)) {
		drop(&c, &tcp_table(net)->st.rx_bad_header,
		     "tcp_rx_bad_options");
		return;
	}
	c.th = th;
	c.saddr = ip->saddr;
	c.daddr = ip->daddr;
	c.sport = ntohs(th->source);
	c.dport = ntohs(th->dest);
	c.seq = ntohl(th->seq);
	c.ack = ntohl(th->ack);
	c.flags = th->flags;
	c.wnd = ntohs(th->window);
	c.len = total - doff;
	c.end_seq =
		c.seq + c.len + !!(c.flags & TCP_SYN) + !!(c.flags & TCP_FIN);
	netbuf_pull(nb, doff);

	tp = tcp_lookup(net, c.saddr, c.sport, c.daddr, c.dport);
	if (tp && tp->state == TCP_TIME_WAIT) {
		if (!timewait_input(tp, &c))
			goto out;
		tp = NULL;
	}
	if (!tp)
		tp = tcp_lookup_listener(net, c.daddr, c.dport);
	if (!tp) {
		TCP_INC(net, rx_no_socket);
		/* a stranger's reserve frame gets no reply: it costs memory */
		if (!nb->pfmemalloc)
			tcp_reply_rst(net, &c);
		goto out;
	}
	/* before anything may drop it: a stall is data that never lands */
	if (tp->state >= TCP_ESTABLISHED)
		tcp_stall_note(tp, &c);
	/* the reserve is for memory-critical connections only */
	if (nb->pfmemalloc && !sock_memalloc(&tp->sk)) {
		drop(&c, &tcp_table(net)->st.rx_drop_pfmemalloc,
		     "tcp_rx_drop_pfmemalloc");
		return;
	}
	tp->last_rx = host_now(net->host);
	tp->ka_probes = 0;
	switch (tp->state) {
	case TCP_LISTEN:
		listen_input(tp, &c);
		break;
	case TCP_SYN_SENT:
		synsent_input(tp, &c);
		break;
	case TCP_CLOSED:
		break;
	default:
		sync_input(tp, &c); /* may free tp */
		break;
	}
out:
	if (c.nb)
		netbuf_free(c.nb);
}
