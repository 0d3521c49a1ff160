/* SPDX-License-Identifier: MIT */
/*
 * netdev.h - the device interface every wire implements, and the receive
 * path's first decisions.
 *
 * A backend (src/dev: sim, pair, udp, tap, packet) supplies transmit and
 * receive of whole Ethernet frames (no FCS).  The core owns the policy:
 *
 *  receive  netdev_poll() takes frames one at a time: into normal memory
 *           (MM_ATOMIC|MM_NOMEMALLOC) when it can, a frame larger than a
 *           page into a netbuf with page fragments (a jumbo frame costs
 *           netbuf_frame_pages(), and net.rx is grown to hold one of the
 *           largest frame any registered device carries); otherwise into the
 *           device's fixed scratch area, where the early classifier may
 *           drop it before any reserve is touched; otherwise into the
 *           net.rx reserve, marked pfmemalloc; otherwise dropped.  A frame
 *           is never left unread: receive cannot wedge.  Every drop point
 *           has its own counter.
 *  transmit netdev_xmit() consumes the netbuf whatever happens.
 *
 * Early classification (beyond Linux): a small table of critical flows
 * (ethertype + peer MAC, or an IPv4 5-tuple).  When normal memory is
 * gone and the table is not empty, a frame matching none is dropped from
 * the scratch area and never costs reserve memory.
 */
#ifndef LB_NET_NETDEV_H
#define LB_NET_NETDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "core/list.h"
#include "core/loop.h"
#include "core/stats.h"

#define ETH_ALEN 6
#define ETH_HLEN 14
#define NETDEV_MAX_MTU 9000
#define NETDEV_SCRATCH (NETDEV_MAX_MTU + ETH_HLEN + 64)
/* Largest coalesced frame a backend may deliver (64 KiB IP + headers). */
#define NETDEV_RX_MAX (65535 + ETH_HLEN + 4)
#define NETDEV_POLL_BUDGET 64
#define NETDEV_MAX_FLOWS 16

struct net;
struct net_device;
struct netbuf;
struct page;

/* What a backend knows about a received frame besides its bytes. */
struct rx_meta {
	uint32_t wire_len; /* length on the wire (> cap: truncated) */
	bool gso; /* a coalesced frame larger than the MTU (offload) */
	/*
	 * The checksum at csum_start + csum_offset holds only the
	 * pseudo-header sum (a local sender left it to the NIC); set with
	 * csum_unnecessary.  Completed in the capture's copy only.
	 */
	bool csum_partial;
	uint16_t csum_start, csum_offset;
	bool csum_unnecessary; /* checksum already verified, or left partial
				* by a local sender (PACKET_AUXDATA) */
};

/* How a super-frame (netbuf gso_size) is to be cut by the wire. */
struct tx_gso {
	uint16_t gso_size; /* payload bytes per TCP segment */
	/* the TCP checksum: holds the pseudo-header sum only, to finish */
	uint16_t csum_start, csum_offset; /* from the frame's first byte */
	uint16_t hdr_len; /* Ethernet, IP and TCP headers */
};

struct net_device_ops {
	/*
	 * Transmit @len bytes of @frame (one whole Ethernet frame, gathered
	 * by the core).  0, or -errno (counted as a tx drop by the core).
	 */
	int (*xmit)(struct net_device *dev, const uint8_t *frame, size_t len);
	/*
	 * Receive one frame into @buf (@cap bytes).  Returns its length, 0
	 * when nothing is pending, or -errno.  A frame longer than @cap is
	 * consumed and reported with meta->wire_len > cap.
	 */
	ssize_t (*recv)(struct net_device *dev, uint8_t *buf, size_t cap,
			struct rx_meta *meta);
	/*
	 * Optional: the same, scattered over @iovcnt buffers filled in order
	 * (a netbuf's linear part and its page fragments), their lengths
	 * summing to the capacity.  The core uses it for frames larger than
	 * one linear buffer; without it such frames are read into the
	 * scratch area and copied.
	 */
	ssize_t (*recvv)(struct net_device *dev, const struct iovec *iov,
			 unsigned iovcnt, struct rx_meta *meta);
	/*
	 * Optional: transmit a TCP super-frame of @len bytes gathered from
	 * @iovcnt buffers, for the wire to segment and checksum (used when
	 * the device's tx_gso_max allows it).  0, -EOPNOTSUPP when the wire
	 * refused (the core then stops asking), or -errno.
	 */
	int (*xmit_gso)(struct net_device *dev, const struct iovec *iov,
			unsigned iovcnt, size_t len, const struct tx_gso *g);
	/*
	 * Optional: a wire that queues frames in xmit (to send several per
	 * system call) sends its queue here.  The core calls it at the end
	 * of every loop iteration in which xmit accepted a frame, and before
	 * close.  Returns how many accepted frames the wire could not send
	 * after all since the last flush (counted in tx_drop_queued).
	 */
	unsigned (*flush)(struct net_device *dev);
	void (*close)(struct net_device *dev);
};

enum flow_kind {
	FLOW_ETHER, /* ethertype from a peer MAC (e.g. AoE target) */
	FLOW_IPV4, /* protocol, peer addr/port, local port */
};

struct critical_flow {
	enum flow_kind kind;
	uint16_t ethertype;
	uint8_t peer_mac[ETH_ALEN];
	uint8_t ip_proto;
	uint32_t peer_ip, local_ip; /* network order */
	uint16_t peer_port, local_port; /* network order */
	unsigned users;
};

struct netdev_stats {
	struct counter rx_frames, rx_bytes, tx_frames, tx_bytes;
	struct counter rx_pfmemalloc; /* frames received into net.rx */
	struct counter rx_drop_early; /* classifier: not critical */
	struct counter rx_drop_no_memory; /* no normal memory, net.rx full */
	struct counter rx_drop_oversize; /* longer than the MTU allows */
	struct counter rx_drop_error; /* backend error */
	struct counter tx_drop_error; /* backend refused */
	struct counter tx_drop_oversize; /* frame over MTU or gather buffer */
	struct counter rx_reserve_saved; /* reserve pages the classifier spared */
	struct counter rx_drop_critical; /* of the drops, frames of a critical
					  * flow (or ARP): warned about */
	struct counter rx_gso_frames; /* coalesced frames over the MTU */
	struct counter tx_gso_frames; /* super-frames the wire segmented */
	/*
	 * Polls that took at least one frame off the wire, the frames they
	 * took (delivered or dropped: rx_batch_frames / rx_batches is the
	 * frames per wake-up), and the polls that stopped at the budget.
	 */
	struct counter rx_batches, rx_batch_frames, rx_budget_spent;
	/* accepted by a queueing wire (counted in tx_frames), then refused */
	struct counter tx_drop_queued;
};

/* See rx_ring.h: receive pages kept between reads. */
#define NETDEV_RX_RING_MAX 17
struct netdev_rx_ring {
	struct page *pages[NETDEV_RX_RING_MAX];
	unsigned want; /* pages a read of the largest frame needs; 0: none */
	unsigned held; /* pages[0..held) are ours, one reference each */
	struct gauge nr_pages; /* dev.<if>.rx_ring_pages */
	struct counter refill_fail; /* dev.<if>.rx_ring_refill_fail */
};

struct net_device {
	struct list_head node; /* on net->devices */
	struct net *net;
	char name[16];
	const struct net_device_ops *ops;
	void *priv;
	uint8_t mac[ETH_ALEN];
	unsigned mtu;
	/*
	 * Largest frame the backend can deliver: 0 means MTU + Ethernet
	 * header; more when the wire coalesces segments (TAP with GSO).
	 * Scratch, net.rx and socket reserves are sized for it.
	 */
	unsigned rx_max;
	struct gauge offload_gso_rx; /* 1: large coalesced frames accepted */
	struct gauge rx_frame_max; /* the largest frame it can deliver */
	/*
	 * Largest TCP super-frame the wire segments itself (GSO), Ethernet
	 * header included; 0: every frame within the MTU.
	 */
	unsigned tx_gso_max;
	struct gauge offload_gso_tx; /* 1: TCP super-frames sent */
	unsigned ifindex;
	/* IPv4 configuration, network order */
	uint32_t ip, netmask, gateway;

	struct io_watch watch; /* fd backends */
	struct task poll_task; /* sim and budget overflow */
	struct task flush_task; /* ops->flush at the end of the iteration */
	bool up;

	struct critical_flow flows[NETDEV_MAX_FLOWS];
	unsigned nr_flows;

	struct netdev_stats st;
	int pcap_ifid; /* interface id in the capture, -1 if none */
	/* called last by netdev_unregister, for whoever allocated the device */
	void (*release)(struct net_device *dev);
	uint8_t *scratch; /* NETDEV_SCRATCH bytes, allocated at register */
	uint8_t *txbuf; /* gather buffer for frames with fragments */
	struct netdev_rx_ring rx_ring;
};

/*
 * Register @dev (ops, priv, name, mac, mtu filled by the backend) with
 * @net: allocates its scratch and gather areas (start-up), registers its
 * stats under "dev.<name>.*".  0 or -errno.
 */
int netdev_register(struct net *net, struct net_device *dev);
void netdev_unregister(struct net_device *dev);

/* Backends call this when frames may be pending (fd readable, sim). */
void netdev_schedule_poll(struct net_device *dev);
/*
 * Receive up to NETDEV_POLL_BUDGET frames, each down the ladder on its
 * own; returns frames handled.  A poll that spends the budget queues the
 * device's poll task, so the loop runs its timers and the other devices
 * before this one takes the next budget: at most one budget per device
 * per loop iteration (see netdev_readable).
 */
unsigned netdev_poll(struct net_device *dev);
/*
 * The device's descriptor is readable: poll, unless a poll is already
 * queued for this iteration (a flooded device would otherwise take two
 * budgets per iteration, the task's and the readiness's).
 */
void netdev_readable(struct net_device *dev);

/* The largest frame @dev can deliver (see rx_max). */
static inline uint32_t netdev_rx_max(const struct net_device *dev)
{
	return dev->rx_max > dev->mtu + ETH_HLEN ? dev->rx_max :
						   dev->mtu + ETH_HLEN;
}

/*
 * Send one frame; consumes @nb.  0 or -errno.  A wire with ops->flush may
 * hold the frame until the end of the loop iteration, never longer.
 */
int netdev_xmit(struct net_device *dev, struct netbuf *nb);

/* Critical-flow table: add (or take another reference) / remove. */
int netdev_flow_add(struct net_device *dev, const struct critical_flow *f);
void netdev_flow_del(struct net_device *dev, const struct critical_flow *f);
/* Does @frame (@len bytes) belong to a critical flow? */
bool netdev_flow_match(const struct net_device *dev, const uint8_t *frame,
		       size_t len);

#endif
