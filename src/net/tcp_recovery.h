/* SPDX-License-Identifier: MIT */
/*
 * tcp_recovery.h - loss recovery for SACK connections: the RFC 6675
 * scoreboard and pipe, RACK time-based loss detection and tail-loss
 * probes (RFC 8985), and limited transmit (RFC 3042).
 *
 * The scoreboard is not a separate structure: each queued segment's
 * struct tcp_cb carries its marks (sacked, lost, resent) and the time it
 * was last sent; struct tcp_recovery keeps the byte totals of those marks
 * so that pipe is known without walking the queue.  Nothing here
 * allocates: a probe or a retransmission is an ordinary transmission
 * (a header buffer charged like any other), and the one timer is part
 * of the socket.
 */
#ifndef LB_NET_TCP_RECOVERY_H
#define LB_NET_TCP_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>
#include "core/loop.h"
#include "tcp_seq.h"

struct tcp_recovery {
	/* scoreboard totals, in sequence space (a FIN counts one) */
	uint32_t sacked, lost, resent;
	unsigned sacked_segs;
	unsigned newly_sacked; /* segments SACKed by the ACK in hand */
	tcp_seq_t prior_una; /* snd_una before the ACK in hand */
	bool force_one; /* entering recovery: one retransmission past cwnd */
	uint32_t allowance; /* bytes past cwnd for one tcp_output (a probe) */

	/* RACK (RFC 8985 §6): the most recently sent segment delivered */
	bool rack_valid, reordering_seen, fack_valid;
	uint32_t rack_xmit_us, rack_rtt_us, min_rtt_us;
	tcp_seq_t rack_end;
	tcp_seq_t fack, fack_prior; /* highest delivered, before this ACK */

	/* tail-loss probe (RFC 8985 §7): one per episode */
	bool tlp_out, tlp_retrans;
	tcp_seq_t tlp_end;

	struct timer timer; /* reordering window or probe timeout */
	uint8_t timer_kind;
};

#endif
