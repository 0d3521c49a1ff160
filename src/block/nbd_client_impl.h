/* SPDX-License-Identifier: MIT */
/*
 * nbd_client_impl.h - the NBD client's state, shared by nbd_client.c
 * (lifetime, connections, reconnection, sending) and nbd_client_rx.c (the
 * handshake and the reply parser).
 *
 * Memory.  The client lives in one arena page taken at creation.  Per
 * request it keeps a struct nbd_rq in the block request's pdu (from the
 * device's request mempool): the encoded header, the cookie and how much
 * of the request TCP has taken.  Nothing else is allocated on the data
 * path: headers are copied into the socket's send queue (net.tx.<id>),
 * write pages are queued by reference, read data is received straight
 * into the bio's pages, replies pass through net.rx and net.rxq.<id>.
 * A reconnect needs only a tcp_sock (charged to block.<dev> when normal
 * memory is gone) and the socket reserves, whose pages block.<dev> holds
 * while there is no connection.
 */
#ifndef LB_BLOCK_NBD_CLIENT_IMPL_H
#define LB_BLOCK_NBD_CLIENT_IMPL_H

#include "nbd.h"
#include "nbd_proto.h"
#include "net/tcp.h"

// clang-format off
#define NBD_CLIENT_STATS(X) \
	X(connects) \
	X(disconnects) \
	X(reconnects) \
	X(connect_failures) \
	X(handshake_failures) \
	X(proto_errors) \
	X(bad_cookies) \
	X(requests_sent) \
	X(replies) \
	X(server_errors) \
	X(resent) \
	X(soft_disconnects) \
	X(failed_dead) \
	X(stalls)
// clang-format on

#define NBD_STAT_FIELD(name) struct counter name;
struct nbd_client_stats {
	NBD_CLIENT_STATS(NBD_STAT_FIELD)
};
#undef NBD_STAT_FIELD

enum nbd_cstate {
	NBD_C_CONNECTING, /* SYN sent */
	NBD_C_HANDSHAKE,
	NBD_C_READY, /* transmission */
	NBD_C_DRAINING, /* ESHUTDOWN: no new requests, waiting for replies */
	NBD_C_DOWN, /* no connection; the retry timer runs */
	NBD_C_FAILED, /* the first connection failed: only destroy remains */
};

enum nbd_hs_step {
	NBD_HS_GREETING,
	NBD_HS_OPT_REPLY,
	NBD_HS_OPT_PAYLOAD,
	NBD_HS_EXPORT_NAME,
};

enum nbd_rq_state {
	NBD_RQ_QUEUED, /* not (or no longer) on the connection */
	NBD_RQ_SENDING, /* partly handed to TCP: the head of the stream */
	NBD_RQ_SENT, /* wholly handed to TCP: a reply may come */
};

/* Per request, in blk_request.pdu; the request sits on nbd_client.rqs. */
struct nbd_rq {
	uint64_t cookie;
	uint32_t done; /* bytes of header and payload TCP has taken */
	uint8_t state; /* enum nbd_rq_state */
	bool sent_before; /* a later send is a re-send */
	uint8_t hdr[NBD_REQUEST_LEN];
};

/* The longest option reply we accept; error texts are at most 4096. */
#define NBD_OPT_REPLY_MAX 8192
#define NBD_HBUF 160

struct nbd_client {
	struct blkdev bd;
	struct net *net;
	struct host *host;
	struct mm *mm;
	char export_name[NBD_EXPORT_NAME_MAX + 1];
	struct sock_addr peer;
	unsigned queue_depth;
	uint32_t cfg_max_request;
	uint64_t reconnect_ns, backoff_ns, dead_ns;
	blk_ready_fn ready;
	void *ready_arg;

	struct tcp_sock *tp;
	enum nbd_cstate state;
	bool broken; /* the connection is being torn down (down_task) */
	bool dead; /* down for dead_ns: requests fail at once */
	bool destroying;
	int err; /* why the connection went down */
	uint64_t down_since;
	size_t moved_pages; /* socket reserve pages held in block.<dev> */
	uint64_t gen; /* cookie generation */

	/* handshake */
	enum nbd_hs_step hs;
	uint32_t hs_need, hs_have; /* bytes of the current item */
	struct nbd_opt_reply rep;
	uint32_t opt_sent;
	bool no_zeroes, have_export, bs_retried;
	uint64_t size;
	uint16_t tflags;
	uint32_t bs_min, bs_pref, bs_max;
	uint8_t hbuf[NBD_HBUF];

	/* replies */
	uint8_t rxh[NBD_REPLY_LEN];
	uint32_t rxh_have;
	struct blk_request *rx_rq; /* a READ whose data is arriving */
	uint32_t rx_off;

	struct list_head rqs; /* struct blk_request.node, in dispatch order */
	struct timer retry_timer, dead_timer;
	/* nbd_client_stall.c: no reply for stall_ns with requests outstanding */
	struct timer stall_timer;
	uint64_t stall_ns, last_progress;
	bool stalled;
	struct task down_task, ready_task;
	struct nbd_client_stats st;
};

static inline struct nbd_client *nbd_client(struct blkdev *bd)
{
	return bd->driver;
}

/* nbd_client.c */
void nbd_conn_broken(struct nbd_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void nbd_proto_error(struct nbd_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int nbd_send_bytes(struct nbd_client *c, const void *buf, size_t len);
void nbd_tx(struct nbd_client *c);
void nbd_complete(struct nbd_client *c, struct blk_request *rq, int err);
/* The handshake is over: attach, or check the export and re-send. */
void nbd_handshake_done(struct nbd_client *c);
void nbd_send_disc(struct nbd_client *c);

/* nbd_client_stall.c */
void nbd_stall_init(struct nbd_client *c, uint64_t stall_ns);
/* A request went out: watch it. */
void nbd_stall_watch(struct nbd_client *c);
/* Bytes arrived on the connection. */
void nbd_stall_progress(struct nbd_client *c);
void nbd_stall_stop(struct nbd_client *c);

/* nbd_client_rx.c */
void nbd_hs_start(struct nbd_client *c);
/* Consume what the connection has; returns when it has no more. */
void nbd_rx(struct nbd_client *c);

#endif
