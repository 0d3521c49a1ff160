/* SPDX-License-Identifier: MIT */
/*
 * proto.h - wire formats of Ethernet, ARP, IPv4, ICMP and UDP, and the
 * Internet checksum.
 *
 * Headers are read and written through these packed structures at
 * offsets that the parser has already checked against the frame length.
 * Multi-byte fields are in network order.
 */
#ifndef LB_NET_PROTO_H
#define LB_NET_PROTO_H

#include <arpa/inet.h>
#include <stdint.h>
#include "netdev.h"

struct eth_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;
} __attribute__((packed));

#define ARP_HRD_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_hdr {
	uint16_t hrd, pro;
	uint8_t hln, pln;
	uint16_t op;
	uint8_t sha[ETH_ALEN];
	uint32_t spa;
	uint8_t tha[ETH_ALEN];
	uint32_t tpa;
} __attribute__((packed));

#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFMASK 0x1fff

struct ip_hdr {
	uint8_t ver_ihl;
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off;
	uint8_t ttl;
	uint8_t proto;
	uint16_t check;
	uint32_t saddr, daddr;
} __attribute__((packed));

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

struct icmp_hdr {
	uint8_t type, code;
	uint16_t check;
	uint16_t id, seq;
} __attribute__((packed));

struct udp_hdr {
	uint16_t source, dest;
	uint16_t len;
	uint16_t check;
} __attribute__((packed));

#define ETH_ZLEN 60 /* minimum frame without FCS */
#define IP_DEFAULT_TTL 64

static const uint8_t eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff,
						 0xff, 0xff, 0xff };

/* Add @len bytes at @p to an unfolded one's-complement sum. */
uint32_t csum_partial(const void *p, size_t len, uint32_t sum);

static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The TCP/UDP pseudo-header sum (addresses in network order). */
static inline uint32_t csum_pseudo(uint32_t saddr, uint32_t daddr,
				   uint8_t proto, uint16_t len)
{
	uint32_t sum = 0;

	sum += (saddr >> 16) + (saddr & 0xffff);
	sum += (daddr >> 16) + (daddr & 0xffff);
	sum += htons(proto) + htons(len);
	return sum;
}

static inline bool mac_is_multicast(const uint8_t *mac)
{
	return mac[0] & 1;
}

#endif
