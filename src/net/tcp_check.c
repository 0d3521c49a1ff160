// SPDX-License-Identifier: MIT
/*
 * tcp_check.c - the invariants of a connection, as always-on assertions.
 * The input path, the output path and the timers call tcp_check() after
 * they change a connection, so every simulated event and every fuzzed
 * segment checks them.
 *
 * The relations between sequence numbers and counters cost nothing and
 * are checked every time.  Walking the queues to check their counts costs
 * up to a few hundred segments (it made bulk transfer three times slower
 * when done on every event): it is done every time while the queues are
 * short (fuzzing, handshakes, most simulated events) and on every
 * TCP_CHECK_WALK_EVERY-th call otherwise, so a long simulated transfer
 * still has its queues checked thousands of times.
 */
#include "tcp_impl.h"

/* The send queue: contiguous from snd_una to write_seq, bytes summed. */
static void check_send_queue(const struct tcp_sock *tp, bool synced)
{
	const struct netbuf *seg;
	uint32_t bytes = 0;
	bool first = true, head_seen = !tp->send_head;
	tcp_seq_t next = tp->snd_una;

	list_for_each_entry(seg, &tp->wq, node) {
		const struct tcp_cb *cb = tcp_cb((struct netbuf *)seg);
		uint32_t len = netbuf_total(seg);

		/* end_seq counts the FIN, and nothing else beyond the bytes */
		LB_ASSERT(cb->end_seq - cb->seq ==
			  len + !!(cb->flags & TCP_FIN));
		LB_ASSERT(!first || !synced || cb->seq == tp->snd_una);
		LB_ASSERT(first || cb->seq == next);
		if (seg == tp->send_head) {
			head_seen = true;
			LB_ASSERT(!synced || cb->seq == tp->snd_nxt);
		}
		next = cb->end_seq;
		bytes += len;
		first = false;
	}
	LB_ASSERT(bytes == tp->wq_bytes);
	LB_ASSERT(head_seen); /* send_head is on the queue, or NULL */
	if (synced && !list_empty(&tp->wq))
		LB_ASSERT(next == tp->write_seq);
	if (synced && !tp->send_head)
		LB_ASSERT(tp->snd_nxt == tp->write_seq);
}

/* The receive queues: bytes and truesize summed, out-of-order sorted. */
static void check_receive_queues(const struct tcp_sock *tp)
{
	const struct netbuf *nb;
	uint32_t bytes = 0, truesize = 0;
	unsigned n = 0;
	tcp_seq_t prev_end = tp->rcv_nxt;

	list_for_each_entry(nb, &tp->rq, node) {
		bytes += netbuf_total(nb);
		truesize += nb->truesize;
	}
	LB_ASSERT(bytes == tp->rq_bytes);
	LB_ASSERT(truesize == tp->rq_truesize);
	bytes = truesize = 0;
	list_for_each_entry(nb, &tp->ofo, node) {
		const struct tcp_cb *cb = tcp_cb((struct netbuf *)nb);

		/* beyond what is in order, sorted, never overlapping */
		LB_ASSERT(seq_gt(cb->seq, prev_end) ||
			  (n && cb->seq == prev_end));
		LB_ASSERT(seq_lt(cb->seq, cb->end_seq));
		LB_ASSERT(cb->end_seq - cb->seq == netbuf_total(nb));
		prev_end = cb->end_seq;
		bytes += cb->end_seq - cb->seq;
		truesize += nb->truesize;
		n++;
	}
	LB_ASSERT(n == tp->nr_ofo && n <= TCP_OFO_MAX_SEGS);
	LB_ASSERT(bytes == tp->ofo_bytes);
	LB_ASSERT(truesize == tp->ofo_truesize);
}

#define TCP_CHECK_WALK_EVERY 32
#define TCP_CHECK_SHORT_SEGS 8

static bool queues_short(const struct tcp_sock *tp)
{
	uint32_t short_bytes = TCP_CHECK_SHORT_SEGS * (uint32_t)tp->mss;

	return tp->wq_bytes <= short_bytes && tp->rq_bytes <= short_bytes &&
	       tp->nr_ofo <= TCP_CHECK_SHORT_SEGS;
}

void tcp_check(struct tcp_sock *tp)
{
	bool synced, walk;

	switch (tp->state) {
	case TCP_LISTEN:
		LB_ASSERT(list_empty(&tp->wq) && list_empty(&tp->rq));
		return;
	case TCP_CLOSED:
		LB_ASSERT(list_empty(&tp->wq) && !tp->wq_bytes &&
			  !tp->send_head && list_empty(&tp->ofo));
		return;
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		synced = false;
		break;
	default:
		synced = true;
		break;
	}
	/* RFC 9293 §3.3.1: SND.UNA <= SND.NXT <= the highest ever sent */
	LB_ASSERT(seq_leq(tp->snd_una, tp->snd_nxt));
	LB_ASSERT(seq_leq(tp->snd_nxt, tp->snd_max));
	LB_ASSERT(seq_leq(tp->snd_max, tp->write_seq));
	walk = queues_short(tp) || ++tp->checks % TCP_CHECK_WALK_EVERY == 0;
	if (walk) {
		check_send_queue(tp, synced && tp->state != TCP_TIME_WAIT);
		check_receive_queues(tp);
	}
	LB_ASSERT(tp->nr_ofo <= TCP_OFO_MAX_SEGS);
	LB_ASSERT(!tp->send_head || !synced ||
		  tcp_cb(tp->send_head)->seq == tp->snd_nxt);
	/* the window we offered holds what we took (a FIN may sit at its
	 * right edge) and the buffer bounds it */
	LB_ASSERT(seq_leq(tp->rcv_nxt, tp->rcv_adv + tp->fin_received));
	LB_ASSERT(tp->rq_bytes + tp->ofo_bytes <= tp->rcvbuf ||
		  tp->state == TCP_TIME_WAIT);
	LB_ASSERT(tp->challenge_rsv_used <= TCP_CHALLENGE_RESERVE_PER_SEC);
	/* the reserves of a flagged connection: within their sizes */
	if (sock_memalloc(&tp->sk) &&
	    tp->sk.net->mm->policy == MM_POLICY_ACCOUNTED) {
		LB_ASSERT(tp->sk.tx_rsv.used.v <= tp->sk.tx_rsv.size.v);
		LB_ASSERT(tp->sk.rxq_rsv.used.v <= tp->sk.rxq_rsv.size.v);
	}
}
