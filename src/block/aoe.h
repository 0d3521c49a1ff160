/* SPDX-License-Identifier: MIT */
/*
 * aoe.h - ATA over Ethernet (AoEr11): initiator (a struct blkdev) and
 * target, on the host's network devices.
 *
 * Initiator: Query Config discovery, IDENTIFY, READ/WRITE SECTORS EXT
 * (LBA48), one tag per transmission, a window no larger than the target's
 * buffer count, per-frame retransmission with a Jacobson/Karels timeout and
 * back-off, a frame resent early when an answer to a frame sent after it
 * arrives first, write fences (aoe_client.c), duplicate and stray
 * responses counted and dropped.  A write's
 * payload is held (by page reference) until its response arrives: the
 * initiator is the only party that can resend it.  Once a device is
 * attached the AoE ethertype is memory-critical, so responses are received
 * even from the reserve.
 *
 * Target: serves a struct blk_store; answers Query Config (read, test,
 * prefix test, set, force set) and IDENTIFY, READ/WRITE SECTORS (LBA28 and
 * EXT) and honours FLUSH CACHE (EXT).  Frames are executed as they arrive
 * and answered at once from normal memory; without memory, or while
 * stalled, a request goes unanswered and the initiator retransmits.
 *
 * Several initiators and targets may share one net: they share the AoE
 * ethertype through a small dispatcher (aoe_proto.h).
 *
 * Statistics: aoe.<dev>.* for an initiator (tx, rx, retransmits,
 * early_retransmits, timeouts, stray, dup, errors, runt, tx_no_memory,
 * tx_from_reserve, flush_fallback, fenced;
 * gauges window, inflight, srtt and rto in ns), aoe_target.e<shelf>.<slot>.*
 * for a target.
 */
#ifndef LB_BLOCK_AOE_H
#define LB_BLOCK_AOE_H

#include <stdint.h>
#include "block.h"
#include "store.h"

struct net;
struct net_device;

#define ETH_P_AOE 0x88a2 /* as net.h spells it: one definition */

struct aoe_client_config {
	const char *name; /* device name; "aoe0" if NULL */
	uint16_t shelf;
	uint8_t slot;
	struct net_device *dev; /* NULL: the host's first device */
	unsigned queue_depth; /* 0: 32 */
	uint32_t max_request; /* 0: 64 KiB */
	uint64_t dead_ns; /* fail I/O after a frame waits this long; 0: 60 s */
};

/*
 * Starts discovery; 0 or -errno (-EINVAL: a broadcast shelf or slot, no
 * device).  @ready is called once: 0 when the device is attached,
 * -ETIMEDOUT when no target answered within dead_ns, or the error of
 * attaching (-ENOMEM: the reserve does not fit).  *out is valid until
 * aoe_client_destroy.  Once a frame has waited dead_ns the device is dead:
 * its I/O, and all submitted later, fails with -EIO.
 */
int aoe_client_create(struct net *net, const struct aoe_client_config *cfg,
		      blk_ready_fn ready, void *arg, struct blkdev **out);
/* Frees everything; bios in flight or waiting fail with -EIO. */
void aoe_client_destroy(struct blkdev *bd);

struct aoe_target_config {
	uint16_t shelf;
	uint8_t slot;
	struct net_device *dev; /* NULL: the host's first device */
	struct blk_store *store;
	uint16_t buffer_count; /* advertised; 0: 16 */
	bool read_only;
	bool no_flush_ext; /* answer FLUSH CACHE EXT with ABRT, as vblade does */
	/*
	 * 0: execute each request as it arrives.  Otherwise serve ATA
	 * requests one at a time, this long each, from a queue of
	 * buffer_count frames, dropping what arrives at a full queue, as
	 * vblade does.
	 */
	uint64_t serial_ns;
};

struct aoe_target;

struct aoe_target *aoe_target_create(struct net *net,
				     const struct aoe_target_config *cfg);
void aoe_target_destroy(struct aoe_target *t);
/*
 * Leave every request received before @until_ns (host time) unanswered,
 * as a stalled server would; 0 ends a stall.
 */
void aoe_target_set_stall(struct aoe_target *t, uint64_t until_ns);
/*
 * A medium error: reads and writes touching [@lba, @lba + @count) are
 * answered with an ATA error until cleared (@count 0).
 */
void aoe_target_set_bad(struct aoe_target *t, uint64_t lba, uint64_t count);

#endif
