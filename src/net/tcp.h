/* SPDX-License-Identifier: MIT */
/*
 * tcp.h - TCP (RFC 9293) for a run-to-completion loop, with the memory
 * rules of memory-critical connections.
 *
 * Files: tcp.c (sockets, demultiplexing tables, user calls, ISNs),
 * tcp_input.c (segment arrives, in the RFC's order), tcp_output.c
 * (segmentation, transmission, ACKs and RSTs), tcp_timer.c
 * (retransmission per RFC 6298, delayed ACK, persist, keepalive,
 * TIME-WAIT), tcp_recovery.c (SACK scoreboard, RACK, tail-loss probes),
 * tcp_options.c (MSS, window scale, timestamps),
 * tcp_seq.h (wrapping sequence arithmetic).
 *
 * Congestion control is RFC 5681.  With SACK (RFC 2018), loss recovery
 * is RFC 6675's (scoreboard, pipe) with RACK-TLP's time-based loss
 * detection and tail-loss probes (RFC 8985), in tcp_recovery.c; without
 * it, NewReno (RFC 6582); both with limited transmit (RFC 3042);
 * delayed ACKs acknowledge at least every second full-sized segment and
 * immediately on out-of-order data; Nagle is on unless TCP_NODELAY.
 *
 * Memory:
 *  - The send queue holds segments as page references: tcp_send_page()
 *    queues a page being written back without copying it; tcp_send()
 *    copies into pages of the socket's own.  A transmission is a small
 *    header buffer plus references to those pages, built fresh each time,
 *    so a failed allocation only delays it ("emit, then commit").
 *  - Received data is bounded by the receive buffer, and the advertised
 *    window never promises more than it can hold; out-of-order data is
 *    dropped first under pressure.
 *  - A flagged connection (tcp_set_memalloc) sizes its reserves from its
 *    window, MSS and queue bounds (net.tx.<id>, net.rxq.<id>), keeps a
 *    preallocated ACK so an ACK can always be sent, copies reserve-received
 *    data into its own reserve, and bounds its send queue by net.tx.<id>.
 *    Unflagged connections never touch a reserve: under pressure they drop
 *    and shrink their window, and recover when memory returns.
 */
#ifndef LB_NET_TCP_H
#define LB_NET_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/loop.h"
#include "sock.h"
#include "tcp_recovery.h"
#include "tcp_seq.h"

enum tcp_state {
	TCP_CLOSED,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

struct tcp_hdr {
	uint16_t source, dest;
	uint32_t seq, ack;
	uint8_t doff; /* data offset in the high nibble */
	uint8_t flags;
	uint16_t window;
	uint16_t check;
	uint16_t urg;
} __attribute__((packed));

#define TCP_DEFAULT_MSS 536
#define TCP_MAX_WSCALE 14
#define TCP_RCVBUF_DEFAULT (256 * 1024)
#define TCP_SNDBUF_DEFAULT (256 * 1024)
#define TCP_DELACK_NS (20 * NSEC_PER_MSEC)
#define TCP_RTO_INITIAL_NS NSEC_PER_SEC
#define TCP_RTO_MIN_NS (200 * NSEC_PER_MSEC)
#define TCP_RTO_MAX_NS (60 * NSEC_PER_SEC)
#define TCP_MAX_RETRIES 15
#define TCP_SYN_RETRIES 6
#define TCP_TIME_WAIT_NS (60 * NSEC_PER_SEC)
#define TCP_TIME_WAIT_MAX 128
#define TCP_KEEPALIVE_IDLE_NS (7200 * NSEC_PER_SEC)
#define TCP_KEEPALIVE_INTVL_NS (75 * NSEC_PER_SEC)
#define TCP_KEEPALIVE_PROBES 9
#define TCP_PERSIST_MAX_NS (60 * NSEC_PER_SEC)
#define TCP_OFO_MAX_SEGS 256
/*
 * Challenge ACKs a host sends per second (RFC 5961 §7), drawn each second
 * between half and one and a half times this, as Linux does; and those a
 * flagged connection may charge to its transmit reserve per second.
 */
/* SYN cookies: their clock's tick; a cookie lives two (tcp_cookie.c) */
#define TCP_COOKIE_PERIOD_NS (64 * NSEC_PER_SEC)
#define TCP_CHALLENGE_ACK_LIMIT 1000
#define TCP_CHALLENGE_RESERVE_PER_SEC 2
/* PAWS: TS.Recent older than this is no longer trusted (RFC 7323 §5.5) */
#define TCP_PAWS_IDLE_NS (24ull * 24 * 3600 * NSEC_PER_SEC)

/* Every event and drop point, registered as "tcp.<name>". */
// clang-format off
#define TCP_STATS(X) \
	X(rx_segs) \
	X(tx_segs) \
	X(rx_bad_csum) \
	X(rx_bad_header) \
	X(rx_no_socket) \
	X(rx_drop_pfmemalloc) \
	X(rx_drop_no_memory) \
	X(rx_drop_rcvbuf) \
	X(rx_drop_ofo_full) \
	X(rx_ofo_queued) \
	X(rx_ofo_pruned) \
	X(rx_out_of_window) \
	X(rx_dup_data) \
	X(rx_stalls) \
	X(tx_no_memory) \
	X(tx_spare_ack_used) \
	X(retransmits) \
	X(rto_expired) \
	X(fast_retransmits) \
	X(dup_acks) \
	X(limited_transmits) \
	X(sack_recoveries) \
	X(rack_marked_lost) \
	X(tlp_probes) \
	X(tlp_repairs) \
	X(challenge_acks) \
	X(challenge_acks_limited) \
	X(challenge_acks_reserve) \
	X(rx_dup_fin) \
	X(rx_paws_rejected) \
	X(rst_sent) \
	X(rst_received) \
	X(rst_ignored) \
	X(syn_queue_full) \
	X(syncookies_sent) \
	X(syncookies_validated) \
	X(syncookies_failed) \
	X(accept_queue_full) \
	X(timewait_reused) \
	X(timewait_reclaimed) \
	X(persist_probes) \
	X(keepalive_probes) \
	X(conn_timeouts) \
	X(active_opens) \
	X(passive_opens) \
	X(delayed_acks) \
	X(quick_acks) \
	X(rx_fast_acks) \
	X(rx_fast_data)
// clang-format on

#define TCP_STAT_FIELD(name) struct counter name;
struct tcp_stats {
	TCP_STATS(TCP_STAT_FIELD)
};
#undef TCP_STAT_FIELD

/* Per-segment state in netbuf->cb of a queued segment. */
struct tcp_cb {
	tcp_seq_t seq, end_seq; /* end_seq counts SYN and FIN */
	uint8_t flags; /* TCP_FIN on the segment that carries it */
	bool retransmitted : 1; /* ever */
	/* the scoreboard (tcp_recovery.c): sacked excludes lost and resent */
	bool sacked : 1; /* the receiver holds it (RFC 2018) */
	bool lost : 1; /* presumed lost (RFC 6675 IsLost, RACK, or an RTO) */
	bool resent : 1; /* retransmitted since, and not known lost again */
	bool hole_resent : 1; /* NewReno: retransmitted in this recovery */
	union {
		uint32_t arrival; /* out-of-order data: when it came */
		uint32_t xmit_us; /* queued data: when last sent (RACK) */
	};
};

/*
 * No progress while the peer keeps sending (tcp_stall.c): data segments
 * arrive but rcv_nxt stays where it was since @since.
 */
struct tcp_rx_stall {
	tcp_seq_t rcv_nxt; /* where the receive side stood at @since */
	uint64_t since; /* 0: nothing tracked yet */
	unsigned segs; /* data segments since then, none moving rcv_nxt */
	unsigned dups; /* of them, wholly before rcv_nxt (our ACKs lost?) */
	bool stalled; /* reported; cleared when rcv_nxt moves */
};

/* Both must hold before a stall is reported. */
#define TCP_STALL_NS (3 * NSEC_PER_SEC)
#define TCP_STALL_SEGS 4

struct tcp_sock {
	struct sock sk; /* first: the generic socket (addresses, ops, flags) */
	enum tcp_state state;
	struct list_head node; /* table chain (or TIME-WAIT list) */
	struct list_head accept_node; /* on the listener's accept_q */
	struct tcp_sock *listener; /* of an embryonic or unaccepted child */
	struct list_head accept_q; /* listener: established, not accepted */
	unsigned nr_accept, nr_syn, backlog;
	uint64_t cookie_stamp; /* listener: when it last sent a SYN cookie */
	bool cookies_sent;
	bool in_table, closed_by_user;

	/* send side */
	tcp_seq_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
	uint32_t snd_wnd, max_wnd;
	struct list_head wq; /* segments not yet acknowledged */
	struct netbuf *send_head; /* first segment not yet sent, or NULL */
	tcp_seq_t write_seq; /* sequence of the next byte queued */
	uint32_t wq_bytes, sndbuf;
	struct page *copy_page; /* last page tcp_send copied into */
	bool fin_queued;
	uint16_t mss, adv_mss;
	uint8_t snd_wscale, rcv_wscale;
	bool ws_ok, ts_ok, sack_ok;
	uint32_t ofo_arrivals; /* out-of-order segments ever queued */
	uint32_t ts_recent, ts_offset;
	uint64_t ts_recent_stamp; /* when TS.Recent was taken (PAWS) */
	tcp_seq_t last_ack_sent;

	/* congestion control and RTT */
	uint32_t cwnd, ssthresh;
	unsigned dupacks;
	tcp_seq_t recover;
	bool recover_valid, in_recovery;
	uint64_t srtt, rttvar, rto; /* ns; srtt 0: no sample yet */
	bool rtt_timing; /* Karn: timing rtt_seq, sent at rtt_start */
	tcp_seq_t rtt_seq;
	uint64_t rtt_start;
	unsigned backoff, retries;

	/* receive side */
	tcp_seq_t irs, rcv_nxt, rcv_adv;
	struct list_head rq, ofo;
	uint32_t rq_bytes, rq_truesize, ofo_bytes, ofo_truesize, rcvbuf;
	unsigned nr_ofo;
	bool fin_received;
	unsigned segs_unacked;

	/* timers */
	struct timer rto_timer, delack_timer, persist_timer, ka_timer, tw_timer;
	unsigned persist_backoff, ka_probes, ka_max_probes;
	uint64_t ka_idle_ns, ka_intvl_ns;
	uint64_t last_rx;
	bool nodelay, keepalive;
	struct tcp_rx_stall rx_stall; /* tcp_stall.c */

	struct netbuf *spare_ack; /* flagged: an ACK that needs no memory */
	/* flagged: challenge ACKs charged to net.tx.<id> in this second */
	uint64_t challenge_rsv_stamp;
	unsigned challenge_rsv_used;
	unsigned checks; /* tcp_check calls: paces its queue walks */
	int err;

	struct tcp_recovery rec; /* SACK scoreboard, RACK, tail-loss probe */
};

static inline struct tcp_sock *tcp_sk(struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

const char *tcp_state_name(enum tcp_state s);

/* Attach TCP to a stack (called by net_create); 0 or -ENOMEM. */
int tcp_init(struct net *net);
void tcp_fini(struct net *net);

struct tcp_sock *tcp_socket(struct net *net, const struct sock_ops *ops,
			    void *user);
int tcp_bind(struct tcp_sock *tp, uint32_t ip, uint16_t port);
int tcp_listen(struct tcp_sock *tp, unsigned backlog);
/* An established child, or NULL (ops->readable fires when one is ready). */
struct tcp_sock *tcp_accept(struct tcp_sock *tp);
/* Starts the handshake; ops->writable fires when established. */
int tcp_connect(struct tcp_sock *tp, const struct sock_addr *peer);
/* Queue bytes (copied); returns how many were taken, or -errno. */
ssize_t tcp_send(struct tcp_sock *tp, const void *buf, size_t len);
/* Queue a page range by reference (no copy); @len or -errno. */
ssize_t tcp_send_page(struct tcp_sock *tp, struct page *pg, uint32_t off,
		      uint32_t len);
/* Bytes read; 0 at end of stream; -EAGAIN when nothing is there. */
ssize_t tcp_recv(struct tcp_sock *tp, void *buf, size_t len);
/* Bytes tcp_send could take now. */
size_t tcp_send_space(const struct tcp_sock *tp);
size_t tcp_recv_ready(const struct tcp_sock *tp);
/* Send a FIN after the queued data (half-close). */
int tcp_shutdown(struct tcp_sock *tp);
/* Graceful close; the socket is freed when the protocol is done with it. */
void tcp_close(struct tcp_sock *tp);
/* Send RST and free now. */
void tcp_abort(struct tcp_sock *tp);
/*
 * Header prediction on @net's connections (on by default): with it off,
 * every segment takes the full path, which must end in the same state;
 * tests compare the two (tcp.rx_fast_acks and tcp.rx_fast_data count the
 * segments that took the fast one).
 */
void tcp_set_fast_path(struct net *net, bool on);
void tcp_set_nodelay(struct tcp_sock *tp, bool on);
void tcp_set_keepalive(struct tcp_sock *tp, bool on);
/*
 * Keepalive on, probing after @idle_ns without a segment from the peer,
 * every @intvl_ns, giving up after @probes unanswered (defaults: 2 h,
 * 75 s, 9, as Linux).  A storage client uses it to find a half-open
 * connection: a peer that lost the connection answers a probe with RST.
 */
void tcp_set_keepalive_timing(struct tcp_sock *tp, uint64_t idle_ns,
			      uint64_t intvl_ns, unsigned probes);
/*
 * Flag the connection memory-critical: registers reserves computed from
 * its window, MSS and queue bounds, and a spare ACK.  0 or -errno.
 */
int tcp_set_memalloc(struct tcp_sock *tp);

/* Reserve pages a flagged connection needs for @rcvbuf/@sndbuf and @mss. */
size_t tcp_reserve_rx_pages(uint32_t rcvbuf, uint32_t mss);
size_t tcp_reserve_tx_pages(uint32_t sndbuf, uint32_t mss);

/*
 * Is the receive side stalled: the peer has kept sending data for at least
 * TCP_STALL_NS (TCP_STALL_SEGS segments or more) and none of it moved
 * rcv_nxt?  Writes a one-line reason into @why (may be NULL) when it is.
 */
bool tcp_rx_stalled(const struct tcp_sock *tp, char *why, size_t len);

#endif
