/* SPDX-License-Identifier: MIT */
/*
 * tcp_impl.h - what the TCP files share and nobody else sees.
 */
#ifndef LB_NET_TCP_IMPL_H
#define LB_NET_TCP_IMPL_H

#include "net.h"
#include "netbuf.h"
#include "proto.h"
#include "tcp.h"

#define TCP_HASH_SIZE 256

/* The stack's TCP state: hashed connections, listeners, TIME-WAIT. */
struct tcp_table {
	struct list_head conns[TCP_HASH_SIZE];
	struct list_head listeners;
	struct list_head timewait; /* oldest first */
	unsigned nr_timewait;
	uint64_t isn_key[2];
	struct tcp_stats st;
	/* RFC 5961 §7: challenge ACKs left in this second, host-wide */
	struct prng prng; /* forked from the host's: draws the budgets */
	uint64_t challenge_stamp;
	unsigned challenge_left;
	bool challenge_started;
	bool no_fast_path; /* every segment down the full path (tests) */
};

static inline struct tcp_table *tcp_table(struct net *net)
{
	return net->tcp;
}

/* Options of a segment (parsed) or for a segment (to emit). */
#define TCP_MAX_SACKS 4

struct tcp_sack_block {
	tcp_seq_t start, end;
};

struct tcp_opts {
	bool mss_ok, ws_ok, ts_ok, sack_ok;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	unsigned nr_sacks;
	struct tcp_sack_block sacks[TCP_MAX_SACKS];
};

/* What the input path knows about the segment being processed. */
struct tcp_in_ctx {
	struct net *net;
	struct netbuf *nb; /* data at the payload */
	const struct tcp_hdr *th;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	tcp_seq_t seq, ack, end_seq;
	uint32_t len; /* payload bytes */
	uint32_t wnd; /* unscaled */
	uint8_t flags;
	struct tcp_opts opts;
};

static inline struct tcp_cb *tcp_cb(struct netbuf *nb)
{
	_Static_assert(sizeof(struct tcp_cb) <= sizeof(nb->cb), "cb size");
	return (struct tcp_cb *)nb->cb;
}

/* tcp_options.c */
int tcp_parse_options(const uint8_t *p, unsigned len, struct tcp_opts *o);
/* Bytes the options take (a multiple of 4). */
unsigned tcp_options_size(const struct tcp_opts *o);
void tcp_write_options(uint8_t *p, const struct tcp_opts *o);

/* tcp.c */
struct tcp_sock *tcp_lookup(struct net *net, uint32_t saddr, uint16_t sport,
			    uint32_t daddr, uint16_t dport);
struct tcp_sock *tcp_lookup_listener(struct net *net, uint32_t daddr,
				     uint16_t dport);
void tcp_hash(struct tcp_sock *tp);
void tcp_unhash(struct tcp_sock *tp);
tcp_seq_t tcp_isn(struct net *net, uint32_t saddr, uint16_t sport,
		  uint32_t daddr, uint16_t dport);
struct tcp_sock *tcp_child(struct tcp_sock *listener,
			   const struct tcp_in_ctx *c);
void tcp_set_state(struct tcp_sock *tp, enum tcp_state s);
/* The connection is over: stop timers, free queues; free if closed. */
void tcp_done(struct tcp_sock *tp, int err);
void tcp_enter_timewait(struct tcp_sock *tp);
uint32_t tcp_ts_now(const struct tcp_sock *tp);
uint32_t tcp_ts_offset(struct net *net, uint32_t raddr, uint32_t laddr);
/* SipHash-2-4 of two words under @key (ISNs, SYN cookies). */
uint64_t tcp_hash_2u64(uint64_t a, uint64_t b, const uint64_t key[2]);
void tcp_wake_readable(struct tcp_sock *tp);
void tcp_wake_writable(struct tcp_sock *tp);
/* Memory flags and reserve for this connection's allocations. */
unsigned tcp_alloc_flags(const struct tcp_sock *tp);
struct mm_reserve *tcp_tx_reserve(struct tcp_sock *tp);

/* tcp_output.c */
/* Send what the windows allow; 0 or -errno. */
int tcp_output(struct tcp_sock *tp);
int tcp_send_ack(struct tcp_sock *tp);
/*
 * An ACK that answers a segment we doubt (RFC 5961): never the spare ACK,
 * and for a flagged connection at most TCP_CHALLENGE_RESERVE_PER_SEC a
 * second from its transmit reserve; otherwise normal memory or nothing.
 */
int tcp_send_challenge_ack(struct tcp_sock *tp);
int tcp_send_syn(struct tcp_sock *tp);
int tcp_send_probe(struct tcp_sock *tp, bool with_byte);
/* Retransmit the first unacknowledged segment, or @seg. */
int tcp_retransmit_head(struct tcp_sock *tp);
int tcp_retransmit_seg(struct tcp_sock *tp, struct netbuf *seg);
void tcp_send_rst(struct tcp_sock *tp);
/* RST in answer to a segment that has no connection. */
void tcp_reply_rst(struct net *net, const struct tcp_in_ctx *c);
uint32_t tcp_rcv_window(struct tcp_sock *tp);
void tcp_refill_spare_ack(struct tcp_sock *tp);

/* tcp_input.c */
void tcp_rcv(struct net *net, struct netbuf *nb);
/* tcp_stall.c: a data segment @c arrived for @tp, before processing. */
void tcp_stall_note(struct tcp_sock *tp, const struct tcp_in_ctx *c);

/* tcp_cookie.c */
/* Answer the SYN in @c with a cookie: @l's SYN queue is full. */
void tcp_cookie_synack(struct tcp_sock *l, const struct tcp_in_ctx *c);
/*
 * Is the ACK in @c the answer to one of our cookies?  0 and the options
 * its SYN had in @syn, or -errno.
 */
int tcp_cookie_check(struct tcp_sock *l, const struct tcp_in_ctx *c,
		     struct tcp_opts *syn);
/* The window scale we use with @rcvbuf, when scaling is on. */
uint8_t tcp_rcv_wscale_for(uint32_t rcvbuf);
/* The MSS we advertise to @daddr. */
uint16_t tcp_adv_mss(struct net *net, uint32_t daddr);

/* tcp_check.c: assert the connection's invariants (panics if broken). */
void tcp_check(struct tcp_sock *tp);

/* tcp_timer.c */
void tcp_timers_init(struct tcp_sock *tp);
void tcp_timers_stop(struct tcp_sock *tp);
void tcp_arm_rto(struct tcp_sock *tp);
void tcp_rtt_sample(struct tcp_sock *tp, uint64_t rtt_ns);
void tcp_arm_persist(struct tcp_sock *tp);
void tcp_arm_delack(struct tcp_sock *tp);
void tcp_arm_keepalive(struct tcp_sock *tp);

/* tcp_recovery.c */
void tcp_rec_init(struct tcp_sock *tp);
/* The connection is over: stop the timer, forget the scoreboard. */
void tcp_rec_stop(struct tcp_sock *tp);
/* @seg was just sent (first time or again). */
void tcp_rec_sent(struct tcp_sock *tp, struct netbuf *seg);
/* The ACK in @c arrives: its SACK blocks, before snd_una moves. */
void tcp_rec_sack(struct tcp_sock *tp, const struct tcp_in_ctx *c);
/* @ack covers (part of) @seg, which is about to leave the queue. */
void tcp_rec_acked(struct tcp_sock *tp, struct netbuf *seg, tcp_seq_t ack);
/* The ACK has been processed: detect losses, enter or leave recovery. */
void tcp_rec_ack_done(struct tcp_sock *tp);
/* An RTO: true if the scoreboard takes over retransmission (SACK). */
bool tcp_rec_rto(struct tcp_sock *tp);
/* Bytes in the network (RFC 6675 pipe) and what cwnd allows now. */
uint32_t tcp_rec_pipe(const struct tcp_sock *tp);
uint32_t tcp_rec_cwnd(const struct tcp_sock *tp);
/* tcp_output: retransmit what is lost first; after, note new data. */
void tcp_rec_output(struct tcp_sock *tp);
void tcp_rec_output_done(struct tcp_sock *tp, tcp_seq_t prior_max);

#define TCP_INC(net, name) counter_inc(&tcp_table(net)->st.name)

#endif
