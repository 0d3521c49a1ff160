/* SPDX-License-Identifier: MIT */
/*
 * uri.h - naming a network block device, and opening it.
 *
 *   nbd://HOST[:PORT]/[EXPORT]   NBD URI spec: the export is the path less
 *                                its one leading '/', percent-decoded; HOST
 *                                is an IPv4 literal (the stack has no DNS)
 *   aoe://SHELF.SLOT             an AoE target on the host's wire
 *   iscsi://[USER%SECRET@]HOST[:PORT]/IQN/LUN
 *                                libiscsi's form; ?header-digest=crc32c and
 *                                ?data-digest=crc32c (joined by &) ask for
 *                                CRC32C digests; USER%SECRET@ or
 *                                ?user=U&password=P log in with CHAP
 *   nfs://HOST[:PORT]/EXPORT/FILE[?mountport=N&nfsport=N&uid=N&gid=N&
 *         version=3&secure=1&sync=1]
 *                                libnfs's form: a file on an NFS export,
 *                                the export being the path up to the
 *                                last '/'; PORT (or nfsport) is NFS's,
 *                                otherwise the portmapper is asked.  The
 *                                NFS client (src/nfs) opens it: see
 *                                nfs_uri_open(); this layer only parses.
 */
#ifndef LB_BLOCK_URI_H
#define LB_BLOCK_URI_H

#include <stdbool.h>
#include <stdint.h>
#include "block.h"
#include "iscsi_chap.h"
#include "iscsi_proto.h"
#include "nbd.h"

struct net;

enum blk_uri_kind {
	BLK_URI_NBD,
	BLK_URI_AOE,
	BLK_URI_ISCSI,
	BLK_URI_NFS,
};

#define BLK_URI_NFS_PATH_MAX 1024
#define BLK_URI_NFS_NAME_MAX 255

struct blk_uri {
	enum blk_uri_kind kind;
	uint32_t ip; /* nbd: server, host order */
	uint16_t port;
	char export_name[NBD_EXPORT_NAME_MAX + 1];
	uint16_t shelf; /* aoe */
	uint8_t slot;
	char iqn[ISCSI_NAME_MAX + 1]; /* iscsi */
	unsigned lun;
	bool header_digest, data_digest;
	/* iscsi: CHAP if chap_user[0] */
	char chap_user[ISCSI_CHAP_MAX + 1], chap_secret[ISCSI_CHAP_MAX + 1];
	/* nfs: port is NFS's (0: ask the portmapper) */
	char nfs_export[BLK_URI_NFS_PATH_MAX + 1];
	char nfs_file[BLK_URI_NFS_NAME_MAX + 1];
	uint16_t mount_port; /* 0: ask the portmapper */
	uint32_t uid, gid;
	bool secure, sync;
};

/* 0, or -EINVAL with a one-line reason in @why (may be NULL). */
int blk_uri_parse(const char *s, struct blk_uri *u, const char **why);

/* The transport knobs a user may set when opening by URI. */
struct blk_open_opts {
	const char *name; /* device name; "nbd0"/"aoe0" if NULL */
	unsigned queue_depth; /* 0: the transport's default */
	uint32_t max_request; /* 0: the transport's default */
	uint64_t create_size; /* nfs: create a missing file this large */
	bool grow; /* nfs: and grow an existing smaller file to it */
	uint64_t stall_ns; /* nbd: see nbd_client_config; 0: off */
};

/*
 * Start attaching the device @u names; see nbd_client_create.  Not for
 * BLK_URI_NFS (-EPROTONOSUPPORT): the tools open those with nfs_uri_open.
 */
int blk_uri_open(struct net *net, const struct blk_uri *u,
		 const struct blk_open_opts *o, blk_ready_fn ready, void *arg,
		 struct blkdev **out);
void blk_uri_close(const struct blk_uri *u, struct blkdev *bd);

#endif
