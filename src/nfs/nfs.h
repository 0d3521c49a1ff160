/* SPDX-License-Identifier: MIT */
/*
 * nfs.h - the NFS server on our TCP: NFSv3, MOUNT v3 and a minimal
 * portmapper, serving a struct nfs_export.
 *
 * The server listens on one port for all three programs (2049 by
 * default), and, when asked, on the portmapper's port (111) too, where
 * GETPORT sends clients to the first.  Each connection reads one record
 * at a time (bounded by NFS_SRV_MAX_RECORD: a larger record mark ends the
 * connection, counted), answers it, and reads nothing more until the
 * reply is with TCP, so a client that does not read its replies stalls
 * only itself.  At most max_clients connections; more are refused.
 *
 * Memory rules: the server state comes from the arena at creation; each
 * connection's two record buffers are allocated with libc when it is
 * accepted (connection set-up) and freed with it.  The write verifier is
 * drawn from the host's PRNG at creation: a restarted server (destroy,
 * create on the same export) has a new one, as a rebooted server does.
 */
#ifndef LB_NFS_NFS_H
#define LB_NFS_NFS_H

#include <stdbool.h>
#include <stdint.h>
#include "block/block.h"
#include "nfs_srv.h"

struct net;

/*
 * The client: one file on an NFS export as a struct blkdev, so the pager
 * swaps to it and writes back to it as to any block device.
 *
 * At creation it asks the portmapper for MOUNT (unless mount_port is
 * given), mounts the export with MNT, asks for NFS (unless nfs_port is
 * given), reads FSINFO (rtmax/wtmax bound the largest request), LOOKUPs
 * the file's path one component at a time, CREATEs it GUARDED with
 * create_size bytes when it is missing and create_size is set (with grow,
 * a smaller existing file is grown to it by SETATTR), refusing with
 * -ENOSPC when FSSTAT says the export has fewer bytes available than that
 * adds, checks with ACCESS that the file may be read and written (-EACCES
 * otherwise: the pager writes back), and attaches the device with the
 * file's size.  AUTH_SYS with uid/gid.
 *
 * READ, WRITE (UNSTABLE; FILE_SYNC for FUA bios or when sync is set) and
 * COMMIT: a WRITE bio completes only when its data is stable, i.e. after
 * a COMMIT whose verifier equals the one its WRITE reply carried.  A
 * different verifier (the server restarted and may have lost the data)
 * sends every uncommitted write again.  FLUSH therefore completes at once:
 * every write completed before it is already stable.  Short reads and
 * writes continue with the rest; NFS3ERR_JUKEBOX is retried after a
 * doubling delay; other NFS errors fail the bio with their errno and are
 * logged by name.  Calls are matched by XID in any order; a call not
 * answered within timeo is sent again with its XID, and after a lost
 * connection the client reconnects and sends every outstanding call again
 * with its XID.
 *
 * Memory: the client state, the slot table and one receive buffer of the
 * largest record are allocated with libc when the device is created; the
 * data connection is SOCK_MEMALLOC; headers are copied into the socket's
 * send queue, write data is sent from the bio pages by reference.  READ
 * data is received straight into the bio pages: the stream is read
 * exactly (record mark, the reply's head as far as it is needed, then the
 * data into the pages, then the padding), so it never passes through a
 * buffer of ours.  A READ reply with more data than asked, or whose
 * record ends before or after its data, breaks the connection (counted
 * in bad_replies): every outstanding call is sent again, nothing
 * completes on it.  Only records that are not successful READ replies
 * (errors, WRITE and COMMIT results, set-up) go whole into the buffer.
 */
struct nfs_client_config {
	const char *name; /* device name; "nfs0" if NULL */
	uint32_t ip; /* server, host order */
	uint16_t nfs_port, mount_port; /* 0: ask the portmapper */
	uint16_t pmap_port; /* 0: 111 */
	const char *export_path; /* as MNT wants it, e.g. "/export" */
	const char *path; /* the file, relative to the export: "a/swapfile" */
	uint32_t uid, gid;
	uint64_t create_size; /* create a missing file with this size; 0: no */
	bool grow; /* and grow an existing smaller one to it (SETATTR) */
	unsigned queue_depth; /* 0: 16 */
	uint32_t max_request; /* 0: 64 KiB; capped by rtmax and wtmax */
	bool sync; /* every WRITE FILE_SYNC */
	bool secure; /* a privileged source port (< 1024) */
	uint64_t timeo_ns; /* 0: 10 s; doubles up to 60 s, never gives up */
	uint64_t reconnect_ns; /* 0: 100 ms */
};

int nfs_client_create(struct net *net, const struct nfs_client_config *cfg,
		      blk_ready_fn ready, void *arg, struct blkdev **out);
/* Frees everything; bios in flight fail with -EIO. */
void nfs_client_destroy(struct blkdev *bd);
/*
 * Remove the file (REMOVE in its directory) once nothing is in flight
 * (-EBUSY otherwise, or before the device is ready); @done(@arg, 0 or
 * -errno) follows from the event loop.  The device takes no more I/O
 * after: destroy it next.
 */
int nfs_client_remove(struct blkdev *bd, void (*done)(void *arg, int err),
		      void *arg);

struct nfs_server_config {
	uint32_t ip; /* host order; 0: any local address */
	uint16_t port; /* 0: 2049 */
	uint16_t pmap_port; /* also listen here for the portmapper; 0: no */
	struct nfs_export *exp;
	bool read_only;
	/* NFS and MOUNT only from source ports < 1024 (knfsd's "secure") */
	bool secure;
	unsigned max_clients; /* 0: 8 */
};

struct nfs_server;

struct nfs_server *nfs_server_create(struct net *net,
				     const struct nfs_server_config *cfg);
/* Closes the listeners and every connection; the export stays. */
void nfs_server_destroy(struct nfs_server *srv);
/*
 * Hold every call until host time @until_ns: the simulator's server
 * stall.  Connections stay open and are accepted; TCP keeps acking while
 * the receive windows fill.  A time in the past ends a stall at once.
 */
void nfs_server_set_stall(struct nfs_server *srv, uint64_t until_ns);
/* This boot's write verifier. */
const uint8_t *nfs_server_verifier(const struct nfs_server *srv);

#endif
