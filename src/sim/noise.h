/* SPDX-License-Identifier: MIT */
/*
 * noise.h - traffic for sockets that are not memory-critical, aimed at the
 * host that is trying to write back: "memory could be filled up with
 * packets from other connections".
 *
 * The source (on another host) sends a UDP flood at a fixed rate and runs
 * TCP bulk senders that never stop.  The sink (on the victim) binds the UDP
 * port and accepts the TCP connections but never reads either, so every
 * frame it receives is memory the victim holds until its queues are full,
 * and every further frame must still be received before it can be
 * dropped.  Neither side ever flags a socket.
 *
 * Memory: the source copies from one static buffer and allocates only what
 * its sends need, with plain flags; the sink's sockets are ordinary ones,
 * whose queue bounds are the only limit on what the noise can hold.
 */
#ifndef LB_SIM_NOISE_H
#define LB_SIM_NOISE_H

#include <stdint.h>
#include "core/stats.h"

struct net;
struct noise_source;
struct noise_sink;

#define NOISE_UDP_PORT 5353
#define NOISE_TCP_PORT 5001

struct noise_config {
	uint32_t dst_ip; /* the victim, network order */
	uint16_t udp_port, tcp_port; /* 0: the defaults above */
	uint32_t udp_pps; /* datagrams per second; 0: no UDP flood */
	uint32_t udp_size; /* payload bytes; 0: 1400 */
	unsigned tcp_conns; /* bulk senders; 0: none */
	uint32_t frag_pps; /* UDP fragments per second whose datagram never
			      completes (no last fragment); 0: none */
};

struct noise_source *noise_source_start(struct net *net,
					const struct noise_config *cfg);
void noise_source_stop(struct noise_source *ns);

/*
 * The victim's never-reading sockets: at most @max_conns TCP ones, each
 * able to hold @conn_rcvbuf bytes (0: the stack's default).
 */
struct noise_sink *noise_sink_start(struct net *net, uint16_t udp_port,
				    uint16_t tcp_port, unsigned max_conns,
				    uint32_t conn_rcvbuf);
void noise_sink_stop(struct noise_sink *nk);

#endif
