/* SPDX-License-Identifier: MIT */
/*
 * wire.h - opening a wire from its command-line spec.
 *
 *   pair:FD               an inherited SOCK_SEQPACKET descriptor
 *   udp:LPORT@HOST:PORT   one frame per UDP datagram
 *   tap:NAME[,offload=on] /dev/net/tun, IFF_TAP|IFF_NO_PI, with
 *                         offload=on the virtio-net header and TCP offloads
 *   packet:IFNAME[,ring=off] AF_PACKET on an existing interface, received
 *                         through a mapped ring unless ring=off
 *
 * The device is allocated here (start-up), registered with the stack and
 * its descriptor watched by the host's loop; netdev_unregister (or
 * net_destroy) frees it.  The simulated wire needs a link object and is
 * opened with dev_sim_init() instead.
 */
#ifndef LB_DEV_WIRE_H
#define LB_DEV_WIRE_H

#include "net/net.h"

/* 0 or -errno; on error a one-line reason is logged. */
int wire_open(struct net *net, const char *spec, struct net_device **out);

#endif
