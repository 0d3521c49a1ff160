/* SPDX-License-Identifier: MIT */
/*
 * iscsi_client.h - an iSCSI initiator (RFC 7143, ErrorRecoveryLevel 0,
 * one connection per session) presenting a struct blkdev.
 *
 * Login with AuthMethod=None straight into the operational stage, keys
 * negotiated by the RFC's rules (HeaderDigest/DataDigest None or CRC32C),
 * then TEST UNIT READY (absorbing the UNIT ATTENTION a new nexus gets) and
 * READ CAPACITY 16 (10 as fallback), MODE SENSE for DPOFUA and, where
 * READ CAPACITY 16 says LBPME, the Logical Block Provisioning and Block
 * Limits VPD pages.  Bios become READ/WRITE 10 (16 past 2^32 blocks),
 * SYNCHRONIZE CACHE 10, FUA writes where DPOFUA is set, UNMAP for TRIM
 * where LBPU is set and WRITE SAME(16) for WRITE_ZEROES where LBPWS is
 * (UNMAP bit only with LBPRZ), both split at the Block Limits; a device
 * without them refuses those bios with EOPNOTSUPP.  TASK SET FULL and
 * BUSY hold a command until another ends, or a back-off.  Writes carry
 * immediate data up to FirstBurstLength and answer R2Ts with Data-Out
 * PDUs no larger than the target's MaxRecvDataSegmentLength; read data
 * arrives straight in the bio's pages.  Commands are never sent beyond
 * MaxCmdSN.  Target pings are answered, and an initiator ping goes out
 * when a connection with work outstanding falls silent; a task that gets
 * no answer in time, a malformed PDU, an unknown ITT, a wrong DataSN or
 * offset, data beyond the transfer length or a digest mismatch drops the
 * connection with a counted, logged reason.  A new login then re-issues
 * every unacknowledged command, with no memory beyond the device's
 * reserve.  The connection is SOCK_MEMALLOC; see iscsi_client_impl.h for
 * where every byte lives.
 */
#ifndef LB_BLOCK_ISCSI_CLIENT_H
#define LB_BLOCK_ISCSI_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include "block.h"

struct net;

#define ISCSI_DEFAULT_INITIATOR "iqn.2026-01.org.lifeboat:initiator"

struct iscsi_client_config {
	const char *name; /* device name; "iscsi0" if NULL */
	uint32_t ip; /* target portal, host order */
	uint16_t port; /* 0: 3260 */
	const char *target; /* the target's IQN */
	unsigned lun;
	const char *initiator; /* NULL: ISCSI_DEFAULT_INITIATOR */
	unsigned queue_depth; /* 0: 32 */
	uint32_t max_request; /* 0: 64 KiB */
	bool header_digest, data_digest; /* ask for CRC32C */
	bool no_immediate_data; /* offer ImmediateData=No: all data by R2T */
	/* CHAP (one-way, MD5) when the target asks; at most 63 bytes each */
	const char *chap_user, *chap_secret;
	uint64_t reconnect_ns; /* first back-off; 0: 100 ms */
	uint64_t dead_ns; /* give up after this long without a session; 0: 60 s */
	uint64_t task_timeout_ns; /* a silent connection is dropped; 0: 15 s */
};

/* Starts connecting; 0 or -errno.  *out is valid until iscsi_client_destroy. */
int iscsi_client_create(struct net *net, const struct iscsi_client_config *cfg,
			blk_ready_fn ready, void *arg, struct blkdev **out);
/* Frees everything; bios in flight fail.  Not from an end_io callback. */
void iscsi_client_destroy(struct blkdev *bd);

#endif
