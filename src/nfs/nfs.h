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
#include "nfs_srv.h"

struct net;

struct nfs_server_config {
	uint32_t ip; /* host order; 0: any local address */
	uint16_t port; /* 0: 2049 */
	uint16_t pmap_port; /* also listen here for the portmapper; 0: no */
	struct nfs_export *exp;
	bool read_only;
	unsigned max_clients; /* 0: 8 */
};

struct nfs_server;

struct nfs_server *nfs_server_create(struct net *net,
				     const struct nfs_server_config *cfg);
/* Closes the listeners and every connection; the export stays. */
void nfs_server_destroy(struct nfs_server *srv);
/* This boot's write verifier. */
const uint8_t *nfs_server_verifier(const struct nfs_server *srv);

#endif
