/* SPDX-License-Identifier: MIT */
/*
 * nbd.h - NBD client (a struct blkdev) and server, over our TCP.
 *
 * Client: fixed newstyle handshake, NBD_OPT_GO (NBD_OPT_EXPORT_NAME only
 * when GO is unsupported), block-size information honoured, simple replies
 * only, replies matched by cookie in any order, READ/WRITE/FLUSH/TRIM/
 * WRITE_ZEROES with FUA where offered.  The connection is SOCK_MEMALLOC and
 * TCP_NODELAY.  A lost connection is re-established and every request not
 * yet acknowledged is sent again, with no memory beyond the device's
 * reserve.  A broken or hostile server is disconnected with a logged,
 * counted reason; a write is never completed without the server's reply.
 *
 * Server: the same protocol on our stack, serving a struct blk_store.
 */
#ifndef LB_BLOCK_NBD_H
#define LB_BLOCK_NBD_H

#include <stdint.h>
#include "block.h"
#include "store.h"

struct net;

#define NBD_DEFAULT_PORT 10809
#define NBD_EXPORT_NAME_MAX 255

struct nbd_client_config {
	const char *name; /* device name; "nbd0" if NULL */
	uint32_t ip; /* server, host order */
	uint16_t port; /* 0: 10809 */
	const char *export_name; /* "" or NULL: the default export */
	unsigned queue_depth; /* 0: 32 */
	uint32_t max_request; /* 0: 128 KiB; capped by the server's limit */
	uint64_t reconnect_ns; /* first back-off; 0: 100 ms */
	uint64_t dead_ns; /* give up after this long without a connection; 0: 60 s */
	/*
	 * Warn (and count nbd.<dev>.stalls) when requests are outstanding on
	 * a connection and no reply has come for this long; 0: never (the
	 * simulator's watchdog judges progress there).
	 */
	uint64_t stall_ns;
};

/* Starts connecting; 0 or -errno.  *out is valid until nbd_client_destroy. */
int nbd_client_create(struct net *net, const struct nbd_client_config *cfg,
		      blk_ready_fn ready, void *arg, struct blkdev **out);
/*
 * Soft-disconnects if possible and frees everything; bios in flight fail.
 * Not from inside one of the device's bio end_io callbacks (the reply
 * parser is still running); from the ready callback is fine.
 */
void nbd_client_destroy(struct blkdev *bd);

struct nbd_server_config {
	uint32_t ip; /* 0: any local address */
	uint16_t port; /* 0: 10809 */
	const char *export_name; /* served under this name and as default */
	struct blk_store *store;
	bool read_only;
	unsigned max_clients; /* 0: 8 */
};

struct nbd_server;

struct nbd_server *nbd_server_create(struct net *net,
				     const struct nbd_server_config *cfg);
/* Closes the listener and every connection. */
void nbd_server_destroy(struct nbd_server *srv);
/*
 * Hold every request (and handshake step) until host time @until_ns: the
 * simulator's server stall.  Connections stay open; TCP keeps acking.
 */
void nbd_server_set_stall(struct nbd_server *srv, uint64_t until_ns);

#endif
