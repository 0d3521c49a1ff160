/* SPDX-License-Identifier: MIT */
/*
 * aoe.h - ATA over Ethernet (AoEr11): initiator (a struct blkdev) and
 * target, on the host's network devices.
 *
 * Initiator: Query Config discovery, IDENTIFY, READ/WRITE SECTORS EXT
 * (LBA48), one tag per transmission, a window no larger than the target's
 * buffer count, per-frame retransmission with a Jacobson/Karels timeout and
 * back-off, duplicate and stray responses counted and dropped.  A write's
 * payload is held (by page reference) until its response arrives: the
 * initiator is the only party that can resend it.  Once a device is
 * attached the AoE ethertype is memory-critical, so responses are received
 * even from the reserve.
 *
 * Target: serves a struct blk_store; answers Query Config and IDENTIFY and
 * honours FLUSH CACHE (EXT).
 */
#ifndef LB_BLOCK_AOE_H
#define LB_BLOCK_AOE_H

#include <stdint.h>
#include "block.h"
#include "store.h"

struct net;
struct net_device;

#define ETH_P_AOE 0x88A2

struct aoe_client_config {
	const char *name; /* device name; "aoe0" if NULL */
	uint16_t shelf;
	uint8_t slot;
	struct net_device *dev; /* NULL: the host's first device */
	unsigned queue_depth; /* 0: 32 */
	uint32_t max_request; /* 0: 64 KiB */
	uint64_t dead_ns; /* fail I/O after a frame waits this long; 0: 60 s */
};

int aoe_client_create(struct net *net, const struct aoe_client_config *cfg,
		      blk_ready_fn ready, void *arg, struct blkdev **out);
void aoe_client_destroy(struct blkdev *bd);

struct aoe_target_config {
	uint16_t shelf;
	uint8_t slot;
	struct net_device *dev; /* NULL: the host's first device */
	struct blk_store *store;
	uint16_t buffer_count; /* advertised; 0: 16 */
	bool read_only;
};

struct aoe_target;

struct aoe_target *aoe_target_create(struct net *net,
				     const struct aoe_target_config *cfg);
void aoe_target_destroy(struct aoe_target *t);

#endif
