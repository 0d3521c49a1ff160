/* SPDX-License-Identifier: MIT */
/*
 * net.h - a host's network stack: devices, reserves, protocol state and
 * the counters of every drop point.
 *
 * Reserves (children of "net" in the mm reserve tree):
 *   net.rx     frames received into the reserve, held only while the
 *              stack processes them (a poll budget's worth)
 *   net.ctl    ARP replies and requests built in memalloc context
 *   ip.frag    fragments of pfmemalloc datagrams awaiting reassembly
 *   net.tx.<id>, net.rxq.<id>  per memory-critical socket (sock.h)
 *
 * A pfmemalloc frame is processed in memalloc context, only for ARP, IPv4
 * and the AoE ethertype; after demultiplexing it is dropped unless its
 * socket is flagged SOCK_MEMALLOC.  A flagged socket that keeps such data
 * copies it into its own receive reserve, so net.rx only ever covers frames
 * in flight through the stack and one slow reader cannot starve the rest.
 */
#ifndef LB_NET_NET_H
#define LB_NET_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/host.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "netbuf.h"
#include "netdev.h"

#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_AOE 0x88a2

#define ARP_TABLE_SIZE 64
#define ARP_PENDING_MAX 16 /* frames waiting for resolution, total */
#define ARP_PENDING_PER_ENTRY 4
#define UDP_HASH_SIZE 64
#define IPFRAG_QUEUES 8 /* datagrams in reassembly at once, by default */
#define IPFRAG_QUEUES_MAX 64 /* ... at most (net_set_ipfrag_queues) */
#define IPFRAG_TIMEOUT_NS (30 * NSEC_PER_SEC)
#define IPFRAG_MAX_BYTES (64 * 1024)

struct netbuf;
struct sock;
struct pcap_writer;
struct tcp_table;

#define NET_ETHERTYPE_HANDLERS 4

/* A protocol above Ethernet other than ARP and IPv4 (AoE). */
struct ethertype_handler {
	uint16_t type;
	bool memory_critical; /* processed for pfmemalloc frames */
	void (*rcv)(struct net_device *dev, struct netbuf *nb, void *arg);
	void *arg;
};

enum arp_state {
	ARP_FREE,
	ARP_INCOMPLETE,
	ARP_REACHABLE,
};

struct arp_entry {
	uint32_t ip; /* network order */
	uint8_t mac[ETH_ALEN];
	enum arp_state state;
	struct net_device *dev;
	uint64_t updated, last_request;
	bool asked; /* last_request is valid */
	unsigned retries;
	unsigned critical; /* memory-critical users: never evicted */
	struct list_head pending; /* netbufs waiting for this entry */
	unsigned nr_pending;
};

struct ipfrag_queue {
	bool used;
	uint32_t saddr, daddr; /* network order */
	uint16_t id;
	uint8_t proto;
	bool pfmemalloc;
	uint32_t total; /* datagram length once the last fragment came */
	uint32_t received; /* bytes received so far */
	uint64_t expires;
	struct list_head frags; /* netbufs ordered by offset */
};

/*
 * Every drop point and event of the stack, one counter each, registered as
 * "net.<name>".  X-macro so the names cannot drift from the fields.
 */
// clang-format off
#define NET_STATS(X) \
	X(eth_rx_not_for_us) \
	X(eth_rx_unknown_type) \
	X(eth_rx_runt) \
	X(rx_drop_pfmemalloc_proto) \
	X(arp_rx) \
	X(arp_rx_bad) \
	X(arp_tx_request) \
	X(arp_tx_reply) \
	X(arp_drop_pending_full) \
	X(arp_drop_unresolved) \
	X(arp_drop_stateless) \
	X(arp_drop_no_memory) \
	X(arp_evictions) \
	X(arp_table_full) \
	X(ip_rx) \
	X(ip_rx_bad_header) \
	X(ip_rx_bad_csum) \
	X(ip_rx_bad_len) \
	X(ip_rx_not_for_us) \
	X(ip_rx_ttl_expired) \
	X(ip_rx_unknown_proto) \
	X(ip_tx) \
	X(ip_tx_no_route) \
	X(ip_tx_too_big) \
	X(ip_tx_no_memory) \
	X(ipfrag_rx) \
	X(ipfrag_reassembled) \
	X(ipfrag_drop_timeout) \
	X(ipfrag_drop_no_memory) \
	X(ipfrag_drop_bad) \
	X(ipfrag_drop_pfmemalloc) \
	X(icmp_rx) \
	X(icmp_rx_bad) \
	X(icmp_echo_replies) \
	X(icmp_drop_pfmemalloc) \
	X(icmp_drop_no_memory) \
	X(udp_rx) \
	X(udp_rx_bad_csum) \
	X(udp_rx_bad_len) \
	X(udp_rx_no_port) \
	X(udp_drop_pfmemalloc) \
	X(udp_drop_queue_full) \
	X(udp_drop_rxq_reserve) \
	X(udp_tx) \
	X(udp_tx_no_memory)
// clang-format on

#define NET_STAT_FIELD(name) struct counter name;
struct net_stats {
	NET_STATS(NET_STAT_FIELD)
};
#undef NET_STAT_FIELD

struct net {
	struct host *host;
	struct mm *mm;
	struct list_head devices;
	unsigned nr_devices;

	struct mm_reserve rsv_net, rsv_rx, rsv_ctl, rsv_frag;
	struct kmem_cache netbuf_cache;
	struct kmem_cache sock_cache;

	struct arp_entry arp[ARP_TABLE_SIZE];
	unsigned arp_pending_total;
	struct timer arp_timer;

	struct ipfrag_queue frags[IPFRAG_QUEUES_MAX];
	unsigned ipfrag_queues; /* how many of them are in use */
	struct timer frag_timer;
	uint16_t ip_id;

	struct ethertype_handler ethertypes[NET_ETHERTYPE_HANDLERS];
	/* TCP's tables (tcp_impl.h), attached by tcp_init */
	struct tcp_table *tcp;
	void (*tcp_rcv)(struct net *net, struct netbuf *nb);

	struct list_head udp_hash[UDP_HASH_SIZE];
	uint16_t next_ephemeral;
	uint32_t next_sock_id;

	/* optional capture of every frame, reserve and dropped ones included */
	struct pcap_writer *pcap;
	struct netbuf *rx_cur; /* the frame being received, for its verdict */
	const char *rx_verdict; /* why rx_cur was dropped, if it was */

	struct net_stats st;
};

struct net_config {
	/* net.rx pages; 0: enough for one poll budget of MTU frames */
	size_t rx_reserve_pages;
	size_t ctl_reserve_pages; /* 0: 2 */
	size_t frag_reserve_pages; /* 0: one 64 KiB datagram */
};

/*
 * Grow net.rx, if need be, to hold the frames in flight at @frame_len bytes
 * each (a device with a larger MTU registers).  0, or -ENOMEM when the
 * reserve does not fit.
 */
int net_rx_reserve_fit(struct net *net, uint32_t frame_len);

/* Create the stack on @h (h->mm must exist); attaches as h->net. */
struct net *net_create(struct host *h, const struct net_config *cfg);
void net_destroy(struct net *net);

/* The device used to reach @ip (network order): on-link or gateway. */
struct net_device *net_route(struct net *net, uint32_t ip, uint32_t *next_hop);

/*
 * Receive another ethertype (AoE).  Pfmemalloc frames reach it only when
 * @memory_critical.  0, -EEXIST, -ENOSPC.
 */
int net_register_ethertype(struct net *net, uint16_t type, bool memory_critical,
			   void (*rcv)(struct net_device *dev,
				       struct netbuf *nb, void *arg),
			   void *arg);
void net_unregister_ethertype(struct net *net, uint16_t type);

/* Entry points between layers (implemented in eth.c, arp.c, ...). */
void arp_init(struct net *net);
void arp_flush(struct net *net);
void ipfrag_init(struct net *net);
void eth_rcv(struct net_device *dev, struct netbuf *nb);
int eth_output(struct net_device *dev, struct netbuf *nb, const uint8_t *dst,
	       uint16_t ethertype);

int arp_resolve_and_send(struct net *net, struct net_device *dev,
			 uint32_t next_hop, struct netbuf *nb);
void arp_rcv(struct net_device *dev, struct netbuf *nb);
/* Pin (critical > 0) or unpin the entry for @ip against eviction. */
int arp_set_critical(struct net *net, uint32_t ip, bool on);
const struct arp_entry *arp_lookup(const struct net *net, uint32_t ip);
/* Drop frames waiting on ARP that charge @rsv (their socket is closing). */
void arp_purge_reserve(struct net *net, struct mm_reserve *rsv);

void ipv4_rcv(struct net_device *dev, struct netbuf *nb);
/* Prepend an IPv4 header and send; consumes @nb. */
int ipv4_output(struct net *net, struct netbuf *nb, uint32_t saddr,
		uint32_t daddr, uint8_t proto, uint8_t ttl);
struct netbuf *ipfrag_input(struct net *net, struct netbuf *nb);
void ipfrag_flush(struct net *net);

void icmp_rcv(struct net *net, struct netbuf *nb);
void udp_rcv(struct net *net, struct netbuf *nb);

/* Count a drop, show it in the capture, free the frame. */
void net_drop(struct net *net, struct netbuf *nb, struct counter *c,
	      const char *reason);

/* Capture: start writing every frame of every device to @path (pcapng). */
int net_capture_open(struct net *net, const char *path);
void net_capture_close(struct net *net);
/* Write @len bytes of a frame seen on @dev; @comment may be NULL. */
void net_capture(struct net *net, struct net_device *dev, const uint8_t *frame,
		 uint32_t len, bool out, const char *comment);

/* Memalloc context for processing a reserve frame. */
static inline struct mm_memalloc_ctx net_rx_memalloc_enter(struct net *net,
							   struct netbuf *nb)
{
	if (!nb->pfmemalloc)
		return net->mm->ctx; /* restoring it changes nothing */
	return mm_memalloc_save(net->mm, &net->rsv_ctl);
}

/* "192.0.2.1" <-> network order; 0 or -EINVAL. */
int ip_parse(const char *s, uint32_t *out);
const char *ip_str(uint32_t ip, char buf[16]);
int mac_parse(const char *s, uint8_t mac[ETH_ALEN]);
const char *mac_str(const uint8_t mac[ETH_ALEN], char buf[18]);

#endif
