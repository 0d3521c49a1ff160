// SPDX-License-Identifier: MIT
/*
 * tcp_timer.c - retransmission (RFC 6298), delayed ACK, persist, keepalive
 * and TIME-WAIT timers.
 */
#include <errno.h>
#include "tcp_impl.h"

static struct loop *loop_of(struct tcp_sock *tp)
{
	return tp->sk.net->host->loop;
}

void tcp_arm_rto(struct tcp_sock *tp)
{
	uint64_t rto = tp->rto << lb_min(tp->backoff, 10u);

	timer_arm_in(loop_of(tp), &tp->rto_timer, lb_min(rto, TCP_RTO_MAX_NS));
}

/* RFC 6298 §2: SRTT, RTTVAR and RTO from a new measurement. */
void tcp_rtt_sample(struct tcp_sock *tp, uint64_t r)
{
	if (!r)
		r = 1;
	if (!tp->srtt) {
		tp->srtt = r;
		tp->rttvar = r / 2;
	} else {
		uint64_t diff = tp->srtt > r ? tp->srtt - r : r - tp->srtt;

		tp->rttvar = (3 * tp->rttvar + diff) / 4;
		tp->srtt = (7 * tp->srtt + r) / 8;
	}
	tp->rto = tp->srtt + lb_max(4 * tp->rttvar, (uint64_t)NSEC_PER_MSEC);
	tp->rto = lb_max(tp->rto, (uint64_t)TCP_RTO_MIN_NS);
	tp->rto = lb_min(tp->rto, (uint64_t)TCP_RTO_MAX_NS);
}

static void rto_fired(struct timer *t)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, rto_timer);
	struct net *net = tp->sk.net;
	uint32_t flight;

	TCP_INC(net, rto_expired);
	if (++tp->retries >
	    (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECEIVED ?
		     TCP_SYN_RETRIES :
		     TCP_MAX_RETRIES)) {
		TCP_INC(net, conn_timeouts);
		if (tp->state != TCP_SYN_SENT)
			tcp_send_rst(tp);
		tcp_done(tp, ETIMEDOUT);
		return;
	}
	tp->backoff++;
	tp->rtt_timing = false;
	if (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECEIVED) {
		tp->snd_nxt = tp->iss;
		tcp_send_syn(tp);
		tcp_arm_rto(tp);
		return;
	}
	if (tp->snd_una == tp->snd_max)
		return;
	/*
	 * A zero window: what is outstanding is a window probe, and its loss
	 * says nothing about congestion.  Probe again, backing off; the
	 * connection lives as long as the peer answers (ACKs reset retries).
	 */
	if (!tp->snd_wnd) {
		TCP_INC(net, persist_probes);
		tcp_retransmit_head(tp);
		tcp_arm_rto(tp);
		return;
	}
	/* RFC 5681 §3.1: halve, restart from one segment, go back N. */
	flight = tp->snd_max - tp->snd_una;
	tp->ssthresh = lb_max(flight / 2, 2u * tp->mss);
	tp->cwnd = tp->mss;
	tp->in_recovery = false;
	tp->dupacks = 0;
	tp->recover = tp->snd_max;
	tp->recover_valid = true;
	/* with SACK the scoreboard marks what to resend (RFC 6675 §5.1) */
	if (tcp_rec_rto(tp)) {
		tcp_arm_rto(tp);
		tcp_output(tp);
		return;
	}
	tp->snd_nxt = tp->snd_una;
	tp->send_head = list_empty(&tp->wq) ?
				NULL :
				list_first_entry(&tp->wq, struct netbuf, node);
	tcp_arm_rto(tp);
	tcp_output(tp); /* checks the connection (tcp_check) */
}

static void delack_fired(struct timer *t)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, delack_timer);

	TCP_INC(tp->sk.net, delayed_acks);
	tcp_send_ack(tp);
}

void tcp_arm_delack(struct tcp_sock *tp)
{
	if (!timer_armed(&tp->delack_timer))
		timer_arm_in(loop_of(tp), &tp->delack_timer, TCP_DELACK_NS);
}

void tcp_arm_persist(struct tcp_sock *tp)
{
	uint64_t d;

	if (timer_armed(&tp->persist_timer) || timer_armed(&tp->rto_timer))
		return;
	d = lb_max(tp->rto, (uint64_t)TCP_RTO_MIN_NS)
	    << lb_min(tp->persist_backoff, 10u);
	timer_arm_in(loop_of(tp), &tp->persist_timer,
		     lb_min(d, (uint64_t)TCP_PERSIST_MAX_NS));
}

static void persist_fired(struct timer *t)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, persist_timer);

	if (!tp->send_head || tp->snd_wnd) {
		tp->persist_backoff = 0;
		tcp_output(tp);
		return;
	}
	tp->persist_backoff++;
	if (tcp_send_probe(tp, true))
		tcp_arm_persist(tp); /* no memory now: try again later */
	tcp_check(tp);
}

void tcp_arm_keepalive(struct tcp_sock *tp)
{
	if (!tp->keepalive || tp->state != TCP_ESTABLISHED) {
		timer_cancel(loop_of(tp), &tp->ka_timer);
		return;
	}
	timer_arm(loop_of(tp), &tp->ka_timer,
		  tp->last_rx + tp->ka_idle_ns +
			  tp->ka_probes * tp->ka_intvl_ns);
}

static void keepalive_fired(struct timer *t)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, ka_timer);

	if (tp->ka_probes >= tp->ka_max_probes) {
		TCP_INC(tp->sk.net, conn_timeouts);
		tcp_send_rst(tp);
		tcp_done(tp, ETIMEDOUT);
		return;
	}
	tp->ka_probes++;
	TCP_INC(tp->sk.net, keepalive_probes);
	tcp_send_probe(tp, false);
	tcp_arm_keepalive(tp);
}

static void timewait_fired(struct timer *t)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, tw_timer);

	tcp_done(tp, 0);
}

void tcp_timers_init(struct tcp_sock *tp)
{
	timer_init(&tp->rto_timer, rto_fired);
	timer_init(&tp->delack_timer, delack_fired);
	timer_init(&tp->persist_timer, persist_fired);
	timer_init(&tp->ka_timer, keepalive_fired);
	timer_init(&tp->tw_timer, timewait_fired);
	tcp_rec_init(tp);
}

void tcp_timers_stop(struct tcp_sock *tp)
{
	struct loop *l = loop_of(tp);

	timer_cancel(l, &tp->rto_timer);
	timer_cancel(l, &tp->delack_timer);
	timer_cancel(l, &tp->persist_timer);
	timer_cancel(l, &tp->ka_timer);
	timer_cancel(l, &tp->tw_timer);
	tcp_rec_stop(tp);
}
