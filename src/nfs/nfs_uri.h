/* SPDX-License-Identifier: MIT */
/*
 * nfs_uri.h - opening the file an nfs:// URI names as a block device.
 *
 * block/uri.c parses nfs:// (the syntax is the block layer's business),
 * but the client lives above the block layer, so the tools open such a
 * URI here.  Memory rules: those of nfs_client_create().
 */
#ifndef LB_NFS_NFS_URI_H
#define LB_NFS_NFS_URI_H

#include "block/uri.h"

int nfs_uri_open(struct net *net, const struct blk_uri *u,
		 const struct blk_open_opts *o, blk_ready_fn ready, void *arg,
		 struct blkdev **out);

/* Any kind of URI: NFS here, the rest through blk_uri_open/close. */
int lb_uri_open(struct net *net, const struct blk_uri *u,
		const struct blk_open_opts *o, blk_ready_fn ready, void *arg,
		struct blkdev **out);
void lb_uri_close(const struct blk_uri *u, struct blkdev *bd);

#endif
