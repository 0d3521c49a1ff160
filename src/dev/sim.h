/* SPDX-License-Identifier: MIT */
/*
 * sim.h - the simulated wire: a switch joining simulated devices, in the
 * virtual time of one loop, with latency, bandwidth, loss, duplication,
 * reordering and corruption drawn from the link's own seeded PRNG.
 *
 * The wire belongs to no host: frames in flight live in fixed slots
 * allocated when a port is attached (a switch's buffer), so a full buffer
 * drops and counts, like a real switch.  Delivery order is a function of
 * the seed alone: one seed, one outcome.
 */
#ifndef LB_DEV_SIM_H
#define LB_DEV_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include "core/list.h"
#include "core/loop.h"
#include "core/prng.h"
#include "core/stats.h"
#include "net/netdev.h"

struct sim_link_config {
	uint64_t latency_ns; /* one way; default 50 us */
	uint64_t bandwidth_bps; /* per sending port; 0: unlimited */
	double loss, dup, reorder, corrupt; /* probabilities per frame */
	uint64_t reorder_ns; /* extra delay of a reordered frame */
	unsigned slots; /* frames in flight per receiving port */
	/*
	 * Ports offer TCP segmentation offload, as a TAP with offload=on:
	 * a TCP super-frame (up to 64 KiB) crosses the switch as one frame,
	 * its checksum completed, and arrives as one, as a receiving NIC's
	 * GRO would hand it over; so the stack's large-frame paths (transmit
	 * GSO, receive into the ring, net.rx at true size) run in the
	 * simulator.  Slots are then sized for 64 KiB frames.
	 */
	bool gso;
};

struct sim_link_stats {
	struct counter delivered, lost, duplicated, reordered, corrupted;
	struct counter dropped_full, dropped_down;
	struct counter gso_frames; /* super-frames sent whole (cfg.gso) */
};

struct sim_link {
	struct loop *loop;
	struct prng prng;
	struct sim_link_config cfg;
	struct list_head ports;
	bool down; /* a partition: every frame is lost */
	struct sim_link_stats st;
};

struct sim_slot;

struct sim_port {
	struct list_head node;
	struct sim_link *link;
	struct net_device *dev;
	struct sim_slot *slots;
	struct list_head free_slots, arrived;
	unsigned frame_cap;
	uint64_t busy_until;
	uint8_t *gso_buf; /* where a super-frame is gathered (cfg.gso) */
};

void sim_link_init(struct sim_link *l, struct loop *loop, uint64_t seed,
		   const struct sim_link_config *cfg);
/* Ports must be closed (their hosts' nets destroyed) first. */
void sim_link_destroy(struct sim_link *l);

/*
 * Make @dev a port of @l: fills ops, priv, mtu (1500 unless set) and a MAC
 * (02:00:00:00:xx:yy from the port number unless set); with cfg.gso also
 * rx_max and tx_gso_max.  0 or -ENOMEM.
 */
int dev_sim_init(struct net_device *dev, struct sim_link *l);

#endif
