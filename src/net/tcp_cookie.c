// SPDX-License-Identifier: MIT
/*
 * tcp_cookie.c - SYN cookies (RFC 4987 §3.6): when a listener's SYN queue
 * is full, a SYN is answered without keeping any state, and the connection
 * is rebuilt from the final ACK.  A flood of SYNs from spoofed addresses
 * then costs a SYN-ACK each and no memory, and real clients still connect.
 *
 * The cookie is our initial sequence number:
 *
 *   bits 31..27  t mod 32, t the time in TCP_COOKIE_PERIOD_NS periods
 *   bits 26..24  the index of the peer's MSS in mss_table
 *   bits 23..0   SipHash (the host's ISN key, salted with t) of the
 *                addresses, the ports and the peer's ISN
 *
 * and comes back as the final ACK's acknowledgment number minus one, the
 * peer's ISN as its sequence number minus one.  A cookie is good for two
 * periods.  What does not fit in it travels in the low five bits of our
 * timestamp, which the peer echoes: its window scale (15: none) and
 * SACK-permitted.  Without timestamps there is no room, so a cookie
 * connection then goes without window scaling and SACK.
 *
 * Memory: a cookie SYN-ACK is a stranger's reply, allocated like an RST
 * (MM_ATOMIC | MM_NOMEMALLOC, never a reserve); skipped when there is no
 * memory.  Nothing else is allocated until a cookie checks out.
 */
#include <errno.h>
#include "tcp_impl.h"

/* Common MSS values, ascending: the peer's is rounded down to one. */
static const uint16_t mss_table[8] = { 536,  1200, 1360, 1400,
				       1440, 1460, 4312, 8960 };

#define COOKIE_HASH_MASK 0xffffffu
#define TS_OPT_BITS 5
#define TS_OPT_MASK ((1u << TS_OPT_BITS) - 1)
#define TS_NO_WSCALE 0xfu
#define TS_SACK_OK 0x10u

static uint64_t cookie_period(struct net *net)
{
	return host_now(net->host) / TCP_COOKIE_PERIOD_NS;
}

static uint32_t cookie_hash(struct net *net, const struct tcp_in_ctx *c,
			    tcp_seq_t peer_isn, uint64_t t)
{
	const uint64_t *k = tcp_table(net)->isn_key;
	/* salted: a cookie is no ISN, and each period has its own function */
	uint64_t key[2] = { k[0] ^ t, k[1] ^ 0x636f6f6b69657321ull };

	return (uint32_t)tcp_hash_2u64((uint64_t)c->saddr << 32 | c->daddr,
				       (uint64_t)c->sport << 48 |
					       (uint64_t)c->dport << 32 |
					       peer_isn,
				       key) &
	       COOKIE_HASH_MASK;
}

uint8_t tcp_rcv_wscale_for(uint32_t rcvbuf)
{
	uint8_t ws = 0;

	while (ws < TCP_MAX_WSCALE && (rcvbuf >> ws) > 0xffff)
		ws++;
	return ws;
}

uint16_t tcp_adv_mss(struct net *net, uint32_t daddr)
{
	uint32_t next_hop;
	struct net_device *dev = net_route(net, daddr, &next_hop);

	/* MTU minus IP and TCP headers (RFC 6691). */
	return (uint16_t)((dev ? dev->mtu : 576) - 40);
}

void tcp_cookie_synack(struct tcp_sock *l, const struct tcp_in_ctx *c)
{
	struct net *net = c->net;
	uint32_t wnd = lb_min(l->rcvbuf, 0xffffu);
	uint16_t mss = c->opts.mss_ok ? c->opts.mss : TCP_DEFAULT_MSS;
	uint64_t t = cookie_period(net);
	unsigned idx = 0, hlen;
	struct tcp_opts o = { 0 };
	struct netbuf *nb;
	struct tcp_hdr *th;
	tcp_seq_t isn;

	if (mss < mss_table[0]) {
		TCP_INC(net, syncookies_failed); /* too small to encode */
		return;
	}
	while (idx + 1 < ARRAY_SIZE(mss_table) && mss_table[idx + 1] <= mss)
		idx++;
	isn = (uint32_t)(t & 31) << 27 | idx << 24 |
	      cookie_hash(net, c, c->seq, t);

	o.mss_ok = true;
	o.mss = tcp_adv_mss(net, c->saddr);
	if (c->opts.ts_ok) {
		uint32_t now, bits;

		/* what the connection's clock will say (tcp_ts_now) */
		now = (uint32_t)(host_now(net->host) / NSEC_PER_MSEC) +
		      tcp_ts_offset(net, c->saddr, c->daddr);
		bits = (c->opts.ws_ok ? c->opts.ws : TS_NO_WSCALE) |
		       (c->opts.sack_ok ? TS_SACK_OK : 0);
		o.ts_ok = true;
		/* never ahead of that clock: later segments must not go back */
		o.tsval = (now & ~TS_OPT_MASK) | bits;
		if ((int32_t)(o.tsval - now) > 0)
			o.tsval -= TS_OPT_MASK + 1;
		o.tsecr = c->opts.tsval;
		o.ws_ok = c->opts.ws_ok;
		o.ws = tcp_rcv_wscale_for(l->rcvbuf);
		o.sack_ok = c->opts.sack_ok;
	}
	hlen = sizeof(*th) + tcp_options_size(&o);
	nb = netbuf_alloc(net, hlen, MM_ATOMIC | MM_NOMEMALLOC, NULL);
	if (!nb) {
		TCP_INC(net, tx_no_memory);
		return;
	}
	th = (struct tcp_hdr *)netbuf_put(nb, hlen);
	memset(th, 0, sizeof(*th));
	th->source = htons(c->dport);
	th->dest = htons(c->sport);
	th->seq = htonl(isn);
	th->ack = htonl(c->seq + 1);
	th->doff = (uint8_t)((hlen / 4) << 4);
	th->flags = TCP_SYN | TCP_ACK;
	th->window = htons((uint16_t)wnd); /* a SYN's is never scaled */
	tcp_write_options((uint8_t *)(th + 1), &o);
	th->check = csum_fold(netbuf_csum(
		nb, 0, hlen,
		csum_pseudo(c->daddr, c->saddr, IPPROTO_TCP, (uint16_t)hlen)));
	l->cookie_stamp = host_now(net->host);
	l->cookies_sent = true;
	TCP_INC(net, syncookies_sent);
	TCP_INC(net, tx_segs);
	/* a flood's spoofed sources must not hold ARP's pending slots */
	nb->arp_no_queue = true;
	ipv4_output(net, nb, c->daddr, c->saddr, IPPROTO_TCP, IP_DEFAULT_TTL);
}

int tcp_cookie_check(struct tcp_sock *l, const struct tcp_in_ctx *c,
		     struct tcp_opts *syn)
{
	struct net *net = c->net;
	uint64_t now = host_now(net->host), t = cookie_period(net), age;
	tcp_seq_t cookie = c->ack - 1, peer_isn = c->seq - 1;

	/* only while we hand them out: fewer guesses for an attacker */
	if (!l->cookies_sent ||
	    now - l->cookie_stamp > 2 * TCP_COOKIE_PERIOD_NS)
		return -ENOENT;
	age = (t - (cookie >> 27)) & 31;
	if (age > 1 || t < age ||
	    cookie_hash(net, c, peer_isn, t - age) !=
		    (cookie & COOKIE_HASH_MASK))
		return -EINVAL;
	memset(syn, 0, sizeof(*syn));
	syn->mss_ok = true;
	syn->mss = mss_table[cookie >> 24 & 7];
	if (c->opts.ts_ok) {
		uint32_t ts_now, bits = c->opts.tsecr & TS_OPT_MASK;

		ts_now = (uint32_t)(now / NSEC_PER_MSEC) +
			 tcp_ts_offset(net, c->saddr, c->daddr);
		/* the echo of a timestamp we sent within the cookie's life */
		if ((int32_t)(ts_now - c->opts.tsecr) < 0 ||
		    ts_now - c->opts.tsecr >
			    3 * TCP_COOKIE_PERIOD_NS / NSEC_PER_MSEC)
			return -EINVAL;
		syn->ts_ok = true;
		syn->tsval = c->opts.tsval;
		syn->ws_ok = (bits & TS_NO_WSCALE) != TS_NO_WSCALE;
		syn->ws = syn->ws_ok ? (uint8_t)(bits & TS_NO_WSCALE) : 0;
		syn->sack_ok = bits & TS_SACK_OK;
	}
	return 0;
}
