// SPDX-License-Identifier: MIT
/*
 * tcp_stall.c - noticing a receive side that makes no progress while the
 * peer keeps sending.
 *
 * Data segments arrive but rcv_nxt does not move: we drop them (no memory,
 * reserve frames for an unflagged socket, a full buffer), cannot place
 * them, or the peer never hears our ACKs and repeats what we already have.
 * Each of those is counted where it happens, but none of them says "this
 * connection is stuck", and a storage client waiting for a reply would
 * wait silently.  Once the peer has sent at least TCP_STALL_SEGS data
 * segments over TCP_STALL_NS and rcv_nxt stayed put, the connection is
 * reported once (tcp.rx_stalls and a warning); tcp_rx_stalled() lets its
 * user say why it waits.  A closed window is the reader's pause, not a
 * stall, and resets the clock.  Nothing is allocated.
 */
#include <stdio.h>
#include "tcp_impl.h"

void tcp_stall_note(struct tcp_sock *tp, const struct tcp_in_ctx *c)
{
	struct tcp_rx_stall *s = &tp->rx_stall;
	uint64_t now = host_now(tp->sk.net->host);
	char why[160], src[16], dst[16];

	if (!c->len)
		return;
	if (!s->since || s->rcv_nxt != tp->rcv_nxt ||
	    tp->rcv_adv == tp->rcv_nxt) {
		if (s->stalled)
			lb_info(&tp->sk.net->host->log,
				"tcp: socket %u: receiving again after %.1f s",
				tp->sk.id, (double)(now - s->since) / 1e9);
		*s = (struct tcp_rx_stall){ .rcv_nxt = tp->rcv_nxt,
					    .since = now };
		return;
	}
	s->segs++;
	if (seq_leq(c->seq + c->len, tp->rcv_nxt))
		s->dups++;
	if (s->stalled || s->segs < TCP_STALL_SEGS ||
	    now - s->since < TCP_STALL_NS)
		return;
	s->stalled = true;
	TCP_INC(tp->sk.net, rx_stalls);
	tcp_rx_stalled(tp, why, sizeof(why));
	lb_warn(&tp->sk.net->host->log, "tcp: socket %u %s:%u -> %s:%u: %s",
		tp->sk.id, ip_str(c->saddr, src), c->sport,
		ip_str(c->daddr, dst), c->dport, why);
}

bool tcp_rx_stalled(const struct tcp_sock *tp, char *why, size_t len)
{
	const struct tcp_rx_stall *s = &tp->rx_stall;
	uint64_t now;

	if (!s->stalled)
		return false;
	if (!why)
		return true;
	now = host_now(tp->sk.net->host);
	snprintf(
		why, len,
		"no progress for %.1f s: the peer sent %u segments at %u, none accepted (%s)",
		(double)(now - s->since) / 1e9, s->segs, s->rcv_nxt - tp->irs,
		s->dups * 2 > s->segs ?
			"it repeats data we hold: our ACKs do not reach it" :
			"dropped on arrival: see the tcp.rx_drop_* counters");
	return true;
}
