// SPDX-License-Identifier: MIT
/*
 * nfs_uri.c - nfs:// URIs to NFS client devices.
 */
#include <errno.h>
#include "nfs.h"
#include "nfs_uri.h"

int nfs_uri_open(struct net *net, const struct blk_uri *u,
		 const struct blk_open_opts *o, blk_ready_fn ready, void *arg,
		 struct blkdev **out)
{
	struct nfs_client_config c = {
		.name = o->name,
		.ip = u->ip,
		.nfs_port = u->port,
		.mount_port = u->mount_port,
		.export_path = u->nfs_export,
		.path = u->nfs_file,
		.uid = u->uid,
		.gid = u->gid,
		.create_size = o->create_size,
		.grow = o->grow,
		.queue_depth = o->queue_depth,
		.max_request = o->max_request,
		.sync = u->sync,
		.secure = u->secure,
	};

	if (u->kind != BLK_URI_NFS)
		return -EINVAL;
	return nfs_client_create(net, &c, ready, arg, out);
}

int lb_uri_open(struct net *net, const struct blk_uri *u,
		const struct blk_open_opts *o, blk_ready_fn ready, void *arg,
		struct blkdev **out)
{
	if (u->kind == BLK_URI_NFS)
		return nfs_uri_open(net, u, o, ready, arg, out);
	return blk_uri_open(net, u, o, ready, arg, out);
}

void lb_uri_close(const struct blk_uri *u, struct blkdev *bd)
{
	if (u->kind == BLK_URI_NFS)
		nfs_client_destroy(bd);
	else
		blk_uri_close(u, bd);
}
