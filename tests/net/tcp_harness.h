/* SPDX-License-Identifier: MIT */
/*
 * tcp_harness.h - segment-level TCP testing: one lifeboat host whose device
 * captures every frame it sends and receives nothing by itself.  Segments
 * from a fake peer (192.0.2.1) are built by hand (options, checksums) and
 * handed to eth_rcv(); what the host sends back is parsed into struct
 * th_seg.  Free of cmocka, so the fuzz targets use it too: functions report
 * failure by their return values and tests assert on them.
 */
#ifndef LB_TESTS_NET_TCP_HARNESS_H
#define LB_TESTS_NET_TCP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/host.h"
#include "mm/mm.h"
#include "net/net.h"
#include "net/tcp.h"

#define TH_MAX_FRAMES 256
#define TH_FRAME_MAX 1600
#define TH_MAX_SACKS 4
#define TH_MAX_HOLD 8192

/* The host is 192.0.2.2/24 with an MTU of 1500; the peer is 192.0.2.1. */
#define TH_HOST_IP 0xc0000202u /* host order */
#define TH_PEER_IP 0xc0000201u
#define TH_MTU 1500
#define TH_MSS (TH_MTU - 40)

/* TCP options, as built into a segment or parsed out of one. */
struct th_opts {
	bool mss_ok, ws_ok, ts_ok, sack_ok;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	unsigned nr_sacks;
	uint32_t sacks[TH_MAX_SACKS][2]; /* [start, end) */
};

/* A segment to inject. */
struct th_pkt {
	uint16_t sport, dport; /* host order */
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window; /* the field, as sent */
	struct th_opts o; /* written in the order MSS, WS, SACK-perm, TS, SACK */
	uint8_t raw[40]; /* then these bytes, as they are */
	unsigned raw_len;
	const void *data;
	uint32_t len;
	bool bad_csum; /* corrupt the TCP checksum */
	/* mark the frame as received into the reserve (pfmemalloc) though it
	 * sits in normal memory: for rules about reserve frames that must be
	 * seen while memory remains to answer them */
	bool mark_reserve;
};

/* A segment the host sent, parsed. */
struct th_seg {
	uint64_t t; /* when it was sent */
	uint32_t saddr, daddr; /* host order */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	unsigned optlen;
	struct th_opts o;
	bool opts_bad; /* the option list did not parse */
	bool csum_bad; /* the IPv4 or TCP checksum is wrong */
	uint32_t len; /* payload bytes */
	const uint8_t *data; /* into the capture: valid until th_clear() */
};

struct th_frame {
	uint64_t t;
	size_t len;
	uint8_t data[TH_FRAME_MAX];
};

/* Events of the sockets created through the harness (sk->user is the th). */
struct th_events {
	unsigned readable, writable, errors;
	int err;
};

struct th {
	struct loop loop;
	struct host *host;
	struct mm *mm;
	struct net *net;
	struct net_device dev;
	uint32_t ip, peer_ip; /* network order */
	int64_t pages_at_rest; /* free pages once the stack is built */

	struct th_frame frames[TH_MAX_FRAMES];
	unsigned nr_frames, next; /* captured, and the first not yet popped */
	unsigned overflow; /* frames lost because the capture was full */
	uint64_t tx_frames; /* every frame ever sent */
	unsigned bad_csums; /* TCP segments sent with a wrong checksum */
	unsigned bad_segs; /* ... with bad options or more than TH_MSS bytes */
	bool discard; /* count frames only (fuzzing) */

	struct th_events ev;
	bool last_inject_reserve; /* the last injected frame was pfmemalloc */

	/* what th_exhaust holds */
	struct page *hold[TH_MAX_HOLD];
	size_t held;
	void **objs;
	size_t nr_objs, objs_cap;
};

/* The peer's side of one connection, kept by the test. */
struct th_peer {
	uint16_t port, lport; /* the peer's port and ours */
	uint32_t iss; /* the peer's ISN */
	uint32_t seq; /* the peer's next sequence number */
	uint32_t ack; /* what the peer acknowledges: our next byte */
	uint32_t our_iss;
	uint16_t window; /* the field the peer advertises */
	bool ts, sack, ws;
	uint8_t wscale; /* the shift the peer offers, when ws */
	uint32_t tsval, tsecr; /* sent in the peer's timestamps */
	uint16_t mss; /* offered in the peer's SYN (0: none) */
	struct tcp_sock *tp;
};

/* What a handshake offers. */
#define TH_OFFER_MSS 0x01u
#define TH_OFFER_WS 0x02u
#define TH_OFFER_TS 0x04u
#define TH_OFFER_SACK 0x08u
#define TH_OFFER_ALL 0x0fu

/* The harness' socket callbacks: count into th->ev. */
extern const struct sock_ops th_sock_ops;

/* A host with @pages of RAM under @policy (deterministic: one seed). */
struct th *th_new(size_t pages, enum mm_policy policy);
/*
 * Checks, then frees everything: mm_check, every reserve within its size,
 * no reserve charged and every page back once the stack is gone.  Sockets
 * the test owns in state CLOSED must have been closed by the test.
 * Returns false (after freeing) when a check failed.
 */
bool th_free(struct th *th);
/* mm_check and used <= size for every reserve; false on a violation. */
bool th_mm_ok(struct th *th);

void th_run(struct th *th, uint64_t ns);
static inline uint64_t th_now(const struct th *th)
{
	return loop_now(&th->loop);
}

/* ---- building and injecting -------------------------------------------- */

/* Bytes the options of @p take on the wire (padded to 4); -1 if > 40. */
int th_options_len(const struct th_pkt *p);
/*
 * Build the frame for @p (IPv4 from the peer to the host, checksums
 * right unless asked otherwise) and receive it now, as the device's
 * receive ladder would: into normal memory, else into net.rx (then
 * pfmemalloc).  Returns false if it could not be allocated at all.
 */
bool th_inject(struct th *th, const struct th_pkt *p);
/*
 * Receive the TCP segment @tcp (@len bytes: header, options, payload)
 * from the peer in an IPv4 packet, its checksum set here (then spoiled if
 * @bad_csum).  @reserve as th_pkt.mark_reserve.
 */
bool th_inject_tcp(struct th *th, uint8_t *tcp, size_t len, bool reserve,
		   bool bad_csum);
/* Receive @len raw bytes of IPv4 (header and all) from the peer's MAC. */
bool th_inject_ip(struct th *th, const uint8_t *ip, size_t len, bool reserve);

/* ---- the capture -------------------------------------------------------- */

/* TCP segments captured and not yet popped (other frames are skipped). */
unsigned th_pending(struct th *th);
/* The next captured TCP segment; false when there is none. */
bool th_pop(struct th *th, struct th_seg *s);
/* Pop everything; returns how many TCP segments there were. */
unsigned th_drain(struct th *th);
/* Forget every captured frame. */
void th_clear(struct th *th);
/* Parse the TCP segment in an Ethernet frame; false if it is not one. */
bool th_parse(const uint8_t *frame, size_t len, struct th_seg *s);

/* ---- the peer ----------------------------------------------------------- */

/* A peer on @port talking to our @lport, with the harness' defaults. */
void th_peer_init(struct th_peer *p, uint16_t port, uint16_t lport,
		  unsigned offer);
/* A segment from @p with its current seq/ack/window/timestamp. */
struct th_pkt th_peer_pkt(const struct th_peer *p, uint8_t flags,
			  const void *data, uint32_t len);
/* Inject th_peer_pkt() and advance the peer's seq (data, SYN, FIN). */
bool th_peer_send(struct th *th, struct th_peer *p, uint8_t flags,
		  const void *data, uint32_t len);
/* The peer's SYN with the options of its offer. */
struct th_pkt th_peer_syn(const struct th_peer *p);
/*
 * Passive open against @listener: SYN, the SYN-ACK (returned in @synack
 * if not NULL), ACK, tcp_accept.  The accepted socket, or NULL.
 */
struct tcp_sock *th_accept(struct th *th, struct th_peer *p,
			   struct tcp_sock *listener, struct th_seg *synack);
/*
 * Active open: tcp_connect to the peer, which answers SYN-ACK with its
 * offer; our SYN is returned in @syn if not NULL.  The socket, or NULL.
 */
struct tcp_sock *th_connect(struct th *th, struct th_peer *p,
			    struct th_seg *syn);
/* A listener on @port with @backlog and the harness' callbacks. */
struct tcp_sock *th_listen(struct th *th, uint16_t port, unsigned backlog);

/* ---- memory ------------------------------------------------------------- */

/*
 * Take every normal page.  With @objects also every free object of the
 * stack's caches (nothing normal can be allocated); without, each cache
 * keeps a slab with free objects, so small allocations still succeed
 * while mm_normal_available() is 0.
 */
void th_exhaust(struct th *th, bool objects);
void th_release(struct th *th);

int64_t th_stat(struct th *th, const char *name);

/* The byte at stream offset @i of the harness' test pattern. */
static inline uint8_t th_pattern(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

#endif
