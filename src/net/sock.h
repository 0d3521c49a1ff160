/* SPDX-License-Identifier: MIT */
/*
 * sock.h - sockets for a run-to-completion loop.
 *
 * Calls never block: they return a count, or -EAGAIN / -ENOMEM, and the
 * owner is told through callbacks when the socket becomes readable or
 * writable or fails.  A send that fails with -ENOMEM may park on the
 * socket's memory waiter (sock_wait_memory) and is called back when memory
 * or the socket's reserve has room.
 *
 * SOCK_MEMALLOC (sock_set_memalloc) marks a memory-critical socket, as the
 * storage clients' are.  Setting it registers two reserves computed from
 * the socket's bounds and printed in the stats:
 *   net.tx.<id>   what the socket may send from the reserve
 *   net.rxq.<id>  what its receive queue may hold of reserve-received data
 * and pins the ARP entry of its peer.  Sends try normal memory first, then
 * net.tx.<id>; unflagged sockets never touch a reserve.  Clearing the flag
 * while reserve memory is charged to the socket is refused (-EBUSY): Linux
 * learned the hard way that the charge must never outlive the flag.
 */
#ifndef LB_NET_SOCK_H
#define LB_NET_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>
#include "core/list.h"
#include "mm/mm.h"
#include "net.h"

#define SOCK_MEMALLOC (1u << 0)

#define UDP_RCVBUF_DEFAULT (64 * 1024)
#define UDP_MAX_PAYLOAD (65535 - 20 - 8)

struct sock_addr {
	uint32_t ip; /* network order */
	uint16_t port; /* host order */
};

struct sock;

struct sock_ops {
	void (*readable)(struct sock *sk);
	void (*writable)(struct sock *sk);
	void (*error)(struct sock *sk, int err);
};

struct sock_stats {
	struct counter rx_datagrams, rx_bytes, tx_datagrams, tx_bytes;
	struct counter rx_drop_queue_full, rx_pfmemalloc_kept;
	struct counter tx_no_memory, tx_from_reserve;
};

struct sock {
	struct net *net;
	uint32_t id;
	uint8_t proto;
	unsigned flags;
	struct list_head hash_node;
	struct sock_addr local, remote;
	bool connected;

	struct list_head rxq; /* netbufs */
	uint32_t rxq_bytes,
		rcvbuf; /* truesize of what is queued, and its cap */

	const struct sock_ops *ops;
	void *user;

	struct mm_reserve tx_rsv, rxq_rsv;
	char rsv_names[2][MM_RESERVE_NAME_MAX];
	struct mm_waiter mem_waiter;
	bool want_writable;
	int err;

	struct sock_stats st;
};

struct sock *udp_socket(struct net *net, const struct sock_ops *ops,
			void *user);

/* For the protocols: a fresh socket, demultiplexing, queueing received data. */
void sock_init(struct sock *sk, struct net *net, uint8_t proto,
	       const struct sock_ops *ops, void *user);
struct sock *sock_alloc(struct net *net, uint8_t proto,
			const struct sock_ops *ops, void *user);
struct sock *sock_lookup(struct net *net, uint32_t saddr, uint16_t sport,
			 uint32_t daddr, uint16_t dport);
/* Queue @nb (data at the payload, sender in ->cb) and signal readable. */
void sock_queue_rcv(struct sock *sk, struct netbuf *nb, uint32_t payload);
/* Local port 0 picks an ephemeral port.  0, -EADDRINUSE, -EINVAL. */
int sock_bind(struct sock *sk, uint32_t ip, uint16_t port);
/* Fixes the peer (datagrams from others are dropped). */
int sock_connect(struct sock *sk, const struct sock_addr *peer);
/* One datagram; returns @len, -EAGAIN-free: -ENOMEM, -EMSGSIZE, ... */
ssize_t sock_sendto(struct sock *sk, const void *buf, size_t len,
		    const struct sock_addr *to);
/* One datagram (truncated to @len); -EAGAIN when the queue is empty. */
ssize_t sock_recvfrom(struct sock *sk, void *buf, size_t len,
		      struct sock_addr *from);
/*
 * Pin (or unpin) the early-classifier flow and the ARP entry of a flagged,
 * connected socket; for protocols that connect a socket already flagged.
 */
void sock_critical_path(struct sock *sk, bool on);
/* Call ops->writable when a send could succeed again. */
void sock_wait_memory(struct sock *sk);
void sock_close(struct sock *sk);

/*
 * Flag @sk memory-critical and register its reserves; @tx_bytes and
 * @rxq_bytes are the bounds the protocol guarantees (0: computed from the
 * socket's limits).  0, -ENOMEM (does not fit), -EINVAL.
 */
int sock_set_memalloc(struct sock *sk, size_t tx_bytes, size_t rxq_bytes);
/* -EBUSY while reserve memory is still charged to the socket. */
int sock_clear_memalloc(struct sock *sk);

static inline bool sock_memalloc(const struct sock *sk)
{
	return sk->flags & SOCK_MEMALLOC;
}

#endif
