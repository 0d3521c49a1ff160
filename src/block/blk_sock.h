/* SPDX-License-Identifier: MIT */
/*
 * blk_sock.h - the memory-critical TCP connection of a network block
 * device, and keeping its reserves across reconnects.
 *
 * A transport's connection is flagged SOCK_MEMALLOC, so TCP registers
 * net.tx.<id> and net.rxq.<id> for it.  When the connection is lost those
 * reserve pages move into the device's own block.<dev> in the same step
 * (so `min` never dips and the pages stay free), and move back when the
 * next socket is flagged: a reconnect needs no memory the device's
 * reserve does not hold.  The tcp_sock itself is charged to block.<dev>
 * when normal memory is gone.  This is the NBD client's scheme, shared.
 */
#ifndef LB_BLOCK_BLK_SOCK_H
#define LB_BLOCK_BLK_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include "block.h"
#include "net/tcp.h"

/*
 * A new flagged, TCP_NODELAY socket connecting to @peer, with send and
 * receive buffers of @sndbuf and @rcvbuf bytes (0: TCP's defaults): they
 * size its reserves.  *@moved holds the pages block.<dev> keeps for the
 * socket reserves; 0 or -errno.
 */
int blk_sock_open(struct blkdev *bd, struct net *net,
		  const struct sock_ops *ops, void *user,
		  const struct sock_addr *peer, uint32_t sndbuf,
		  uint32_t rcvbuf, size_t *moved, struct tcp_sock **out);
/*
 * Free @tp now (or close it gracefully if it lives in normal memory and
 * @graceful), moving its reserve pages into block.<dev> unless the device
 * is going away (@keep false).
 */
void blk_sock_drop(struct blkdev *bd, struct tcp_sock *tp, bool graceful,
		   bool keep, size_t *moved);

#endif
