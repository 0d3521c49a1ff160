// SPDX-License-Identifier: MIT
/*
 * tcp_output.c - building and sending segments.
 *
 * Every transmission is a fresh header buffer plus references to the
 * queued payload pages.  Nothing in the connection changes until the
 * segment has been handed to IP ("emit, then commit"), so a failed
 * allocation only delays the segment.
 */
#include <errno.h>
#include "tcp_impl.h"

uint32_t tcp_rcv_window(struct tcp_sock *tp)
{
	uint32_t used = tp->rq_bytes + tp->ofo_bytes, space, wnd, right;
	uint32_t max = (uint32_t)0xffff << tp->rcv_wscale;

	space = tp->rcvbuf > used ? tp->rcvbuf - used : 0;
	/* Unflagged and memory gone: promise nothing new. */
	if (!sock_memalloc(&tp->sk) && !mm_normal_available(tp->sk.net->mm))
		space = 0;
	wnd = lb_min(space, max);
	wnd &= ~((1u << tp->rcv_wscale) - 1);
	/* Never move the right edge back (RFC 9293 §3.8.6). */
	right = tp->rcv_nxt + wnd;
	if (seq_lt(right, tp->rcv_adv)) {
		/*
		 * The peer sees ACK + (field << scale): the kept window is
		 * rounded up to the scale, or the edge it sees would move
		 * back by the remainder.  It fits the field: the old
		 * window did, and rcv_nxt has only moved right since.
		 */
		wnd = tp->rcv_adv - tp->rcv_nxt;
		wnd = (uint32_t)DIV_ROUND_UP((uint64_t)wnd,
					     1u << tp->rcv_wscale)
		      << tp->rcv_wscale;
		right = tp->rcv_nxt + wnd;
	}
	LB_ASSERT(!(wnd & ((1u << tp->rcv_wscale) - 1)) && wnd <= max);
	return right - tp->rcv_nxt;
}

void tcp_refill_spare_ack(struct tcp_sock *tp)
{
	if (!sock_memalloc(&tp->sk) || tp->spare_ack)
		return;
	tp->spare_ack = netbuf_alloc(tp->sk.net, sizeof(struct tcp_hdr) + 40,
				     MM_ATOMIC | MM_MEMALLOC, &tp->sk.tx_rsv);
}

/*
 * SACK blocks for the out-of-order data we hold (RFC 2018 §4): the block
 * holding the newest arrival first, then the others by how recently they
 * grew, as many as fit beside the timestamp (three).
 */
static void sack_blocks(struct tcp_sock *tp, struct tcp_opts *o)
{
	struct tcp_sack_block blocks[TCP_OFO_MAX_SEGS];
	uint32_t recency[TCP_OFO_MAX_SEGS];
	unsigned n = 0, max = tp->ts_ok ? 3 : 4;
	struct netbuf *nb;

	list_for_each_entry(nb, &tp->ofo, node) {
		struct tcp_cb *cb = tcp_cb(nb);

		if (n && cb->seq == blocks[n - 1].end) {
			blocks[n - 1].end = cb->end_seq;
			recency[n - 1] = lb_max(recency[n - 1], cb->arrival);
			continue;
		}
		blocks[n] = (struct tcp_sack_block){ cb->seq, cb->end_seq };
		recency[n++] = cb->arrival;
	}
	while (n && o->nr_sacks < max) {
		unsigned best = 0;

		for (unsigned i = 1; i < n; i++)
			if (recency[i] > recency[best])
				best = i;
		o->sacks[o->nr_sacks++] = blocks[best];
		blocks[best] = blocks[n - 1];
		recency[best] = recency[--n];
	}
}

static void options_for(struct tcp_sock *tp, uint8_t flags, bool data,
			struct tcp_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (flags & TCP_SYN) {
		o->mss_ok = true;
		o->mss = tp->adv_mss;
		/* In a SYN-ACK only what the peer offered (RFC 7323). */
		o->ws_ok = tp->state == TCP_SYN_SENT || tp->ws_ok;
		o->ws = tp->rcv_wscale;
		o->ts_ok = tp->state == TCP_SYN_SENT || tp->ts_ok;
		o->sack_ok = tp->state == TCP_SYN_SENT || tp->sack_ok;
	} else {
		o->ts_ok = tp->ts_ok;
		/* on pure ACKs: data segments have no room for them */
		if (tp->sack_ok && (flags & TCP_ACK) && !data)
			sack_blocks(tp, o);
	}
	if (o->ts_ok) {
		o->tsval = tcp_ts_now(tp);
		o->tsecr = tp->ts_recent;
	}
}

/*
 * May a challenge ACK of @tp be charged to its transmit reserve?  A few a
 * second, so forged segments cannot keep the reserve busy (each such ACK
 * holds reserve memory until the device or ARP lets it go).
 */
static bool challenge_may_use_reserve(struct tcp_sock *tp)
{
	uint64_t now = host_now(tp->sk.net->host);

	if (!sock_memalloc(&tp->sk))
		return false;
	if (now - tp->challenge_rsv_stamp >= NSEC_PER_SEC) {
		tp->challenge_rsv_stamp = now;
		tp->challenge_rsv_used = 0;
	}
	return tp->challenge_rsv_used < TCP_CHALLENGE_RESERVE_PER_SEC;
}

/* The segment after @seg on the send queue, NULL at its end. */
static struct netbuf *next_seg(struct tcp_sock *tp, struct netbuf *seg)
{
	if (seg->node.next == &tp->wq)
		return NULL;
	return list_entry(seg->node.next, struct netbuf, node);
}

/*
 * Reference @f's bytes in @nb, as one fragment with the previous one
 * when they are neighbours in the same page (consecutive segments of a
 * super-frame usually are).
 */
static void add_frag_merged(struct netbuf *nb, const struct netbuf_frag *f)
{
	struct netbuf_frag *last = nb->nr_frags ? &nb->frags[nb->nr_frags - 1] :
						  NULL;

	if (last && last->page == f->page && last->off + last->len == f->off) {
		last->len += f->len;
		nb->data_len += f->len;
		return;
	}
	/* tcp_gso_run counted the fragments: they fit */
	LB_ASSERT(nb->nr_frags < NETBUF_MAX_FRAGS);
	netbuf_add_frag(nb, f->page, f->off, f->len);
}

/*
 * Send one segment: @flags, sequence @seq, and the payload of @seg (may
 * be NULL); with @nsegs > 1, @seg and the segments after it as one TCP
 * super-frame of segments of tp->mss for the wire to cut (GSO).  A
 * @challenge ACK never takes the spare ACK and draws on the
 * reserve only within its budget.  Returns 0 or -errno; on failure
 * nothing has changed.
 */
static int transmit_ex(struct tcp_sock *tp, struct netbuf *seg, unsigned nsegs,
		       uint8_t flags, tcp_seq_t seq, bool challenge)
{
	struct net *net = tp->sk.net;
	struct tcp_opts o;
	struct tcp_hdr *th;
	struct netbuf *nb;
	unsigned hlen;
	uint32_t wnd, len;

	/* one allocation site for every segment, named as failure injection
	 * specs know it ("site=transmit") */
	static const struct mm_site site = { __FILE__, "transmit", __LINE__ };

	options_for(tp, flags, seg && netbuf_total(seg), &o);
	hlen = sizeof(*th) + tcp_options_size(&o);
	if (challenge && !challenge_may_use_reserve(tp)) {
		nb = __netbuf_alloc(net, hlen, MM_ATOMIC | MM_NOMEMALLOC, NULL,
				    &site);
	} else {
		nb = __netbuf_alloc(net, hlen, tcp_alloc_flags(tp),
				    tcp_tx_reserve(tp), &site);
		if (nb && challenge && nb->pfmemalloc) {
			tp->challenge_rsv_used++;
			TCP_INC(net, challenge_acks_reserve);
		}
	}
	if (!nb && !challenge && !seg && tp->spare_ack &&
	    !(flags & (TCP_SYN | TCP_FIN))) {
		/* A pure ACK must always go out: that is what the spare is for. */
		nb = tp->spare_ack;
		tp->spare_ack = NULL;
		TCP_INC(net, tx_spare_ack_used);
	}
	if (!nb) {
		TCP_INC(net, tx_no_memory);
		return -ENOMEM;
	}
	th = (struct tcp_hdr *)netbuf_put(nb, hlen);
	if (seg && nsegs > 1) {
		struct netbuf *s = seg;

		for (unsigned k = 0; k < nsegs; k++, s = next_seg(tp, s))
			for (unsigned i = 0; i < s->nr_frags; i++)
				add_frag_merged(nb, &s->frags[i]);
	} else if (seg) {
		for (unsigned i = 0; i < seg->nr_frags; i++) {
			const struct netbuf_frag *f = &seg->frags[i];

			netbuf_add_frag(nb, f->page, f->off, f->len);
		}
	}
	len = netbuf_total(nb) - hlen;
	wnd = tcp_rcv_window(tp);
	/* RFC 9293 §3.8.6: the right edge we offered never moves back */
	LB_ASSERT(seq_geq(tp->rcv_nxt + wnd, tp->rcv_adv));
	th->source = htons(tp->sk.local.port);
	th->dest = htons(tp->sk.remote.port);
	th->seq = htonl(seq);
	th->ack = (flags & TCP_ACK) ? htonl(tp->rcv_nxt) : 0;
	th->doff = (uint8_t)((hlen / 4) << 4);
	th->flags = flags;
	/* The window in a SYN is never scaled (RFC 7323 §2.2). */
	th->window = htons((flags & TCP_SYN) ?
				   (uint16_t)lb_min(wnd, 0xffffu) :
				   (uint16_t)(wnd >> tp->rcv_wscale));
	th->check = 0;
	th->urg = 0;
	tcp_write_options((uint8_t *)(th + 1), &o);
	if (seg && nsegs > 1) {
		/*
		 * The wire segments and checksums it: the field holds the
		 * pseudo-header sum, uncomplemented, as virtio-net's
		 * NEEDS_CSUM expects (the kernel adjusts it per segment).
		 */
		nb->gso_size = (uint16_t)tp->mss;
		netbuf_set_transport_header(nb);
		th->check = (uint16_t)~csum_fold(
			csum_pseudo(tp->sk.local.ip, tp->sk.remote.ip,
				    IPPROTO_TCP, (uint16_t)(hlen + len)));
	} else {
		th->check = csum_fold(netbuf_csum(
			nb, 0, hlen + len,
			csum_pseudo(tp->sk.local.ip, tp->sk.remote.ip,
				    IPPROTO_TCP, (uint16_t)(hlen + len))));
	}
	/* commit what the receiver now knows */
	if (flags & TCP_ACK) {
		tp->rcv_adv = tp->rcv_nxt + wnd;
		tp->last_ack_sent = tp->rcv_nxt;
		tp->segs_unacked = 0;
		timer_cancel(net->host->loop, &tp->delack_timer);
	}
	TCP_INC(net, tx_segs);
	ipv4_output(net, nb, tp->sk.local.ip, tp->sk.remote.ip, IPPROTO_TCP,
		    IP_DEFAULT_TTL);
	for (unsigned k = 0; seg && k < nsegs; k++, seg = next_seg(tp, seg))
		tcp_rec_sent(tp, seg);
	tcp_refill_spare_ack(tp);
	return 0;
}

static int transmit(struct tcp_sock *tp, struct netbuf *seg, uint8_t flags,
		    tcp_seq_t seq)
{
	return transmit_ex(tp, seg, 1, flags, seq, false);
}

int tcp_send_challenge_ack(struct tcp_sock *tp)
{
	return transmit_ex(tp, NULL, 1, TCP_ACK, tp->snd_max, true);
}

int tcp_send_ack(struct tcp_sock *tp)
{
	if (tp->state == TCP_CLOSED || tp->state == TCP_LISTEN ||
	    tp->state == TCP_SYN_SENT)
		return 0;
	/* snd_max: after a timeout rewinds snd_nxt, the peer has seen more */
	return transmit(tp, NULL, TCP_ACK, tp->snd_max);
}

int tcp_send_syn(struct tcp_sock *tp)
{
	uint8_t flags = TCP_SYN;

	if (tp->state == TCP_SYN_RECEIVED)
		flags |= TCP_ACK;
	if (!tp->adv_mss) {
		uint32_t next_hop;
		struct net_device *dev =
			net_route(tp->sk.net, tp->sk.remote.ip, &next_hop);
		unsigned mtu = dev ? dev->mtu : 576;

		/* MTU minus IP and TCP headers (RFC 6691). */
		tp->adv_mss = (uint16_t)(mtu - 40);
		/* Scale so the receive buffer fits the 16-bit window, when
		 * scaling is possible (our SYN, or the peer offered it). */
		while ((tp->state == TCP_SYN_SENT || tp->ws_ok) &&
		       tp->rcv_wscale < TCP_MAX_WSCALE &&
		       (tp->rcvbuf >> tp->rcv_wscale) > 0xffff)
			tp->rcv_wscale++;
	}
	if (transmit(tp, NULL, flags, tp->iss))
		return -ENOMEM;
	tp->snd_nxt = tp->iss + 1;
	if (seq_gt(tp->snd_nxt, tp->snd_max))
		tp->snd_max = tp->snd_nxt;
	return 0;
}

void tcp_send_rst(struct tcp_sock *tp)
{
	TCP_INC(tp->sk.net, rst_sent);
	transmit(tp, NULL, TCP_RST | TCP_ACK, tp->snd_nxt);
}

void tcp_reply_rst(struct net *net, const struct tcp_in_ctx *c)
{
	struct netbuf *nb;
	struct tcp_hdr *th;

	if (c->flags & TCP_RST)
		return;
	/* No reserve for strangers: a reply we cannot afford is skipped. */
	nb = netbuf_alloc(net, sizeof(*th), MM_ATOMIC | MM_NOMEMALLOC, NULL);
	if (!nb)
		return;
	th = (struct tcp_hdr *)netbuf_put(nb, sizeof(*th));
	memset(th, 0, sizeof(*th));
	th->source = htons(c->dport);
	th->dest = htons(c->sport);
	if (c->flags & TCP_ACK) {
		th->seq = htonl(c->ack);
		th->flags = TCP_RST;
	} else {
		th->ack = htonl(c->end_seq);
		th->flags = TCP_RST | TCP_ACK;
	}
	th->doff = (sizeof(*th) / 4) << 4;
	th->check = csum_fold(netbuf_csum(
		nb, 0, sizeof(*th),
		csum_pseudo(c->daddr, c->saddr, IPPROTO_TCP, sizeof(*th))));
	TCP_INC(net, rst_sent);
	TCP_INC(net, tx_segs);
	ipv4_output(net, nb, c->daddr, c->saddr, IPPROTO_TCP, IP_DEFAULT_TTL);
}

/* Split @seg so that it carries @n payload bytes; the rest follows it. */
static int split(struct tcp_sock *tp, struct netbuf *seg, uint32_t n)
{
	struct netbuf *rest = netbuf_alloc(tp->sk.net, 0, tcp_alloc_flags(tp),
					   tcp_tx_reserve(tp));
	uint32_t skip = n;

	if (!rest)
		return -ENOMEM;
	for (unsigned i = 0; i < seg->nr_frags; i++) {
		const struct netbuf_frag *f = &seg->frags[i];

		if (skip >= f->len) {
			skip -= f->len;
			continue;
		}
		netbuf_add_frag(rest, f->page, f->off + skip, f->len - skip);
		skip = 0;
	}
	*tcp_cb(rest) = *tcp_cb(seg);
	tcp_cb(rest)->seq = tcp_cb(seg)->seq + n;
	tcp_cb(seg)->end_seq = tcp_cb(seg)->seq + n;
	tcp_cb(seg)->flags &= (uint8_t)~TCP_FIN;
	netbuf_trim(seg, n);
	list_add(&rest->node, &seg->node);
	return 0;
}

static uint32_t seg_len(struct netbuf *seg)
{
	return netbuf_total(seg);
}

/*
 * Send @seg and the @nsegs - 1 after it (a super-frame when more than
 * one) as the next new data; commits snd_nxt on success.  PSH and FIN
 * go where the kernel's segmentation leaves them: on the last.
 */
static int send_run(struct tcp_sock *tp, struct netbuf *seg, unsigned nsegs)
{
	struct tcp_cb *cb = tcp_cb(seg);
	struct netbuf *last = seg;
	uint8_t flags;
	int err;

	for (unsigned k = 1; k < nsegs; k++)
		last = next_seg(tp, last);
	flags = TCP_ACK | (tcp_cb(last)->flags & TCP_FIN);
	if (seg_len(last) && next_seg(tp, last) == NULL)
		flags |= TCP_PSH;
	err = transmit_ex(tp, seg, nsegs, flags, cb->seq, false);
	if (err)
		return err;
	if (seq_lt(cb->seq, tp->snd_max)) {
		cb->retransmitted = true;
		TCP_INC(tp->sk.net, retransmits);
	} else if (!tp->rtt_timing && !tp->ts_ok) {
		tp->rtt_timing = true;
		tp->rtt_seq = cb->seq;
		tp->rtt_start = host_now(tp->sk.net->host);
	}
	tp->snd_nxt = tcp_cb(last)->end_seq;
	if (seq_gt(tp->snd_nxt, tp->snd_max))
		tp->snd_max = tp->snd_nxt;
	tp->send_head = next_seg(tp, last);
	if (!timer_armed(&tp->rto_timer))
		tcp_arm_rto(tp);
	return 0;
}

static int send_seg(struct tcp_sock *tp, struct netbuf *seg)
{
	return send_run(tp, seg, 1);
}

/*
 * How many segments from @seg (which may be sent now) go out as one
 * super-frame on a wire that segments TCP itself: new data only, all of
 * tp->mss but the last, FIN only on the last, within the send window,
 * the congestion window and the wire's largest frame, their pages
 * fitting one netbuf.  1 when there is nothing to join.
 */
static unsigned tcp_gso_run(struct tcp_sock *tp, struct netbuf *seg)
{
	uint32_t next_hop, total = 0, max;
	struct net_device *dev =
		net_route(tp->sk.net, tp->sk.remote.ip, &next_hop);
	tcp_seq_t wnd_end = tp->snd_una + tp->snd_wnd;
	uint32_t pipe = tcp_rec_pipe(tp), cwnd = tcp_rec_cwnd(tp);
	const struct netbuf_frag *last = NULL;
	unsigned n = 0, frags = 0;

	if (!dev || !dev->tx_gso_max || seq_lt(tcp_cb(seg)->seq, tp->snd_max))
		return 1;
	/* Ethernet, IPv4 and the largest TCP header */
	max = lb_min(dev->tx_gso_max - ETH_HLEN, 0xffffu) - 20 - 60;
	for (; seg; seg = next_seg(tp, seg)) {
		uint32_t len = seg_len(seg);
		unsigned more = 0;

		if (!len || total + len > max ||
		    seq_gt(tcp_cb(seg)->seq + len, wnd_end) ||
		    (n && pipe + total + len > cwnd))
			break;
		/* Nagle, as tcp_output: the run puts data in flight */
		if (n && !tp->nodelay && len < tp->mss &&
		    !(tcp_cb(seg)->flags & TCP_FIN) && !next_seg(tp, seg))
			break;
		for (unsigned i = 0; i < seg->nr_frags; i++) {
			const struct netbuf_frag *f = &seg->frags[i];

			if (!last || last->page != f->page ||
			    last->off + last->len != f->off)
				more++;
			last = f;
		}
		if (frags + more > NETBUF_MAX_FRAGS)
			break;
		frags += more;
		total += len;
		n++;
		if (len != tp->mss || (tcp_cb(seg)->flags & TCP_FIN))
			break;
	}
	return n ? n : 1;
}

int tcp_output(struct tcp_sock *tp)
{
	tcp_seq_t prior_max = tp->snd_max;

	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	default:
		tcp_check(tp);
		return 0;
	}
	tcp_rec_output(tp); /* what is lost goes before new data */
	while (tp->send_head) {
		struct netbuf *seg = tp->send_head;
		uint32_t len = seg_len(seg);
		uint32_t flight = tp->snd_nxt - tp->snd_una;
		tcp_seq_t wnd_end = tp->snd_una + tp->snd_wnd;
		bool fin = tcp_cb(seg)->flags & TCP_FIN;

		if (seq_gt(tcp_cb(seg)->seq + len, wnd_end)) {
			uint32_t fits = seq_gt(wnd_end, tcp_cb(seg)->seq) ?
						wnd_end - tcp_cb(seg)->seq :
						0;

			/* Part of it fits and nothing else will come: send that. */
			if (fits && !flight && fits < len &&
			    !split(tp, seg, fits))
				continue;
			if (!flight)
				tcp_arm_persist(tp);
			break;
		}
		/* in the network: RFC 6675's pipe with SACK, else in flight */
		if (flight && tcp_rec_pipe(tp) + len > tcp_rec_cwnd(tp))
			break;
		/* Nagle: one small segment in flight at a time. */
		if (!tp->nodelay && len < tp->mss && !fin && flight &&
		    next_seg(tp, seg) == NULL)
			break;
		if (send_run(tp, seg, tcp_gso_run(tp, seg)))
			break;
	}
	tcp_rec_output_done(tp, prior_max);
	tcp_check(tp);
	return 0;
}

int tcp_retransmit_head(struct tcp_sock *tp)
{
	if (list_empty(&tp->wq))
		return 0;
	return tcp_retransmit_seg(tp, list_first_entry(&tp->wq, struct netbuf,
						       node));
}

int tcp_retransmit_seg(struct tcp_sock *tp, struct netbuf *seg)
{
	struct tcp_cb *cb = tcp_cb(seg);
	int err;

	if (!seq_lt(cb->seq, tp->snd_max))
		return 0;
	err = transmit(tp, seg, TCP_ACK | (cb->flags & TCP_FIN), cb->seq);
	if (err)
		return err;
	cb->retransmitted = true;
	tp->rtt_timing = false; /* Karn */
	TCP_INC(tp->sk.net, retransmits);
	return 0;
}

/*
 * Zero-window probe: one byte of new data (some stacks do not answer a
 * probe without data).  The byte is split off and sent as an ordinary
 * segment, so the retransmission timer takes care of it afterwards.
 */
int tcp_send_probe(struct tcp_sock *tp, bool with_byte)
{
	struct netbuf *seg = tp->send_head;

	if (!with_byte || !seg)
		return transmit(tp, NULL, TCP_ACK, tp->snd_una - 1);
	if (seg_len(seg) > 1 && split(tp, seg, 1))
		return -ENOMEM;
	TCP_INC(tp->sk.net, persist_probes);
	return send_seg(tp, seg);
}
