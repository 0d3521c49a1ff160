/* SPDX-License-Identifier: MIT */
/*
 * uri.h - naming a network block device, and opening it.
 *
 *   nbd://HOST[:PORT]/[EXPORT]   NBD URI spec: the export is the path less
 *                                its one leading '/', percent-decoded; HOST
 *                                is an IPv4 literal (the stack has no DNS)
 *   aoe://SHELF.SLOT             an AoE target on the host's wire
 */
#ifndef LB_BLOCK_URI_H
#define LB_BLOCK_URI_H

#include <stdint.h>
#include "block.h"
#include "nbd.h"

struct net;

enum blk_uri_kind {
	BLK_URI_NBD,
	BLK_URI_AOE,
};

struct blk_uri {
	enum blk_uri_kind kind;
	uint32_t ip; /* nbd: server, host order */
	uint16_t port;
	char export_name[NBD_EXPORT_NAME_MAX + 1];
	uint16_t shelf; /* aoe */
	uint8_t slot;
};

/* 0, or -EINVAL with a one-line reason in @why (may be NULL). */
int blk_uri_parse(const char *s, struct blk_uri *u, const char **why);

/* The transport knobs a user may set when opening by URI. */
struct blk_open_opts {
	const char *name; /* device name; "nbd0"/"aoe0" if NULL */
	unsigned queue_depth; /* 0: the transport's default */
	uint32_t max_request; /* 0: the transport's default */
	uint64_t stall_ns; /* nbd: see nbd_client_config; 0: off */
};

/* Start attaching the device @u names; see nbd_client_create. */
int blk_uri_open(struct net *net, const struct blk_uri *u,
		 const struct blk_open_opts *o, blk_ready_fn ready, void *arg,
		 struct blkdev **out);
void blk_uri_close(const struct blk_uri *u, struct blkdev *bd);

#endif
