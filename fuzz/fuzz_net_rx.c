// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: arbitrary frames through the whole receive path —
 * the device's receive ladder, Ethernet, ARP, IPv4 and reassembly, ICMP,
 * UDP and the sockets — with normal memory present or exhausted, so the
 * reserve path (net.rx, ip.frag, net.ctl, the flagged socket's reserves)
 * is fuzzed too.
 *
 * One host is built on the first input and kept: 192.0.2.2/24 on a device
 * whose receive hands out the input's frames, with UDP sockets on port 7
 * (echo), 9 (bound to the address, drains) and 6000 (SOCK_MEMALLOC,
 * connected to 192.0.2.1:5000, echo), and a memory-critical AoE handler.
 * Each input is run from the same state: what it left (fragment queues,
 * ARP entries and the frames waiting on them) is flushed after it.
 *
 * Input: byte 0 is control, the rest frames.
 *   bit 0     exhaust normal memory while the frames are received
 *   bit 1     the rest is frames, each a 2-byte big-endian length and
 *             that many bytes (else the rest is one frame)
 *   bit 2     early classifier off (no critical flows on the device)
 *   bits 3-4  policy: accounted, mainline, none, accounted
 *   bit 5     the device reports checksums already verified
 *
 * After each input: net.rx holds nothing, no reserve holds anything, every
 * page is back, and mm_check passes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/host.h"
#include "mm/hog.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "net/net.h"
#include "net/proto.h"
#include "net/sock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_PAGES 512
#define FZ_MAX_OBJS 16384

#define CTL_EXHAUST 0x01
#define CTL_FRAMED 0x02
#define CTL_NO_CLASSIFIER 0x04
#define CTL_POLICY_SHIFT 3
#define CTL_CSUM_OK 0x20

static const uint8_t peer_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t our_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };

static struct fz {
	struct loop loop;
	struct host *host;
	struct mm *mm;
	struct net *net;
	struct net_device dev;
	struct sock *echo, *sink, *crit;
	uint32_t peer_ip;
	int64_t free_pages; /* at rest, between inputs */

	/* the frames of the current input */
	const uint8_t *p;
	size_t left;
	bool framed, csum_ok;

	struct page *pages[FZ_PAGES];
	void *objs[FZ_MAX_OBJS];
	struct mm_hog hog;
	uint8_t buf[65536];
} * fz;

/* ---- the device ----------------------------------------------------------- */

static int fz_xmit(struct net_device *dev, const uint8_t *frame, size_t len)
{
	return 0; /* the wire swallows everything */
}

static ssize_t fz_recv(struct net_device *dev, uint8_t *buf, size_t cap,
		       struct rx_meta *meta)
{
	while (fz->left) {
		size_t len = fz->left;
		const uint8_t *f;

		if (fz->framed) {
			if (fz->left < 2) {
				fz->left = 0;
				break;
			}
			len = (size_t)fz->p[0] << 8 | fz->p[1];
			fz->p += 2;
			fz->left -= 2;
			if (len > fz->left)
				len = fz->left;
		}
		f = fz->p;
		fz->p += len;
		fz->left -= len;
		if (!len)
			continue; /* 0 would mean "nothing pending" */
		meta->wire_len = (uint32_t)len;
		meta->csum_unnecessary = fz->csum_ok;
		if (len > cap)
			len = cap; /* consumed whole, reported truncated */
		memcpy(buf, f, len);
		return (ssize_t)len;
	}
	return 0;
}

static const struct net_device_ops fz_ops = {
	.xmit = fz_xmit,
	.recv = fz_recv,
};

/* Receive @len bytes of @frame now, as one input frame. */
static void fz_feed(const uint8_t *frame, size_t len)
{
	fz->p = frame;
	fz->left = len;
	fz->framed = false;
	fz->csum_ok = false;
	while (netdev_poll(&fz->dev) == NETDEV_POLL_BUDGET)
		;
}

/* ---- the sockets and AoE -------------------------------------------------- */

static void echo_readable(struct sock *sk)
{
	struct sock_addr from;
	ssize_t n;

	while ((n = sock_recvfrom(sk, fz->buf, sizeof(fz->buf), &from)) >= 0)
		sock_sendto(sk, fz->buf, (size_t)n, &from);
}

static void drain_readable(struct sock *sk)
{
	while (sock_recvfrom(sk, fz->buf, sizeof(fz->buf), NULL) >= 0)
		;
}

static const struct sock_ops echo_ops = { .readable = echo_readable };
static const struct sock_ops drain_ops = { .readable = drain_readable };

static void aoe_rcv(struct net_device *dev, struct netbuf *nb, void *arg)
{
	netbuf_free(nb);
}

/* ---- state between inputs ------------------------------------------------- */

/* Pin the peer again and resolve it, as a long-lived host would have it. */
static void resolve_peer(void)
{
	uint8_t f[ETH_HLEN + sizeof(struct arp_hdr)];
	struct eth_hdr *eh = (struct eth_hdr *)f;
	struct arp_hdr *a = (struct arp_hdr *)(f + ETH_HLEN);

	LB_ASSERT(arp_set_critical(fz->net, fz->peer_ip, true) == 0);
	memcpy(eh->dst, our_mac, ETH_ALEN);
	memcpy(eh->src, peer_mac, ETH_ALEN);
	eh->type = htons(ETH_P_ARP);
	a->hrd = htons(ARP_HRD_ETHER);
	a->pro = htons(ETH_P_IP);
	a->hln = ETH_ALEN;
	a->pln = 4;
	a->op = htons(ARP_OP_REPLY);
	memcpy(a->sha, peer_mac, ETH_ALEN);
	a->spa = fz->peer_ip;
	memcpy(a->tha, our_mac, ETH_ALEN);
	a->tpa = fz->dev.ip;
	fz_feed(f, sizeof(f));
	LB_ASSERT(arp_lookup(fz->net, fz->peer_ip)->state == ARP_REACHABLE);
}

static void shrink_caches(void)
{
	kmem_cache_shrink(&fz->net->netbuf_cache);
	kmem_cache_shrink(&fz->net->sock_cache);
	for (unsigned i = 0; i < MM_KMALLOC_CLASSES; i++)
		kmem_cache_shrink(fz->mm->kmalloc[i]);
}

/* Forget what the last input left: fragments, ARP entries, spare slabs. */
static void reset(void)
{
	ipfrag_flush(fz->net);
	arp_flush(fz->net);
	resolve_peer();
	shrink_caches();
}

static void setup(void)
{
	struct host_config hc = { .name = "fuzz",
				  .seed = 1,
				  .log_level = LOG_ERR };
	struct mm_config mc = { .nr_pages = FZ_PAGES };

	fz = calloc(1, sizeof(*fz));
	LB_ASSERT(fz);
	LB_ASSERT(loop_init(&fz->loop, LOOP_VIRTUAL) == 0);
	fz->host = host_create(&fz->loop, &hc);
	LB_ASSERT(fz->host);
	fz->mm = mm_create(fz->host, &mc);
	LB_ASSERT(fz->mm);
	fz->net = net_create(fz->host, NULL);
	LB_ASSERT(fz->net);

	fz->dev.ops = &fz_ops;
	fz->dev.mtu = 1500;
	memcpy(fz->dev.mac, our_mac, ETH_ALEN);
	snprintf(fz->dev.name, sizeof(fz->dev.name), "fz0");
	LB_ASSERT(netdev_register(fz->net, &fz->dev) == 0);
	LB_ASSERT(ip_parse("192.0.2.2", &fz->dev.ip) == 0);
	LB_ASSERT(ip_parse("255.255.255.0", &fz->dev.netmask) == 0);
	LB_ASSERT(ip_parse("192.0.2.1", &fz->peer_ip) == 0);
	LB_ASSERT(net_register_ethertype(fz->net, ETH_P_AOE, true, aoe_rcv,
					 NULL) == 0);

	fz->echo = udp_socket(fz->net, &echo_ops, NULL);
	LB_ASSERT(fz->echo && sock_bind(fz->echo, 0, 7) == 0);
	fz->sink = udp_socket(fz->net, &drain_ops, NULL);
	LB_ASSERT(fz->sink && sock_bind(fz->sink, fz->dev.ip, 9) == 0);
	fz->crit = udp_socket(fz->net, &echo_ops, NULL);
	LB_ASSERT(fz->crit && sock_bind(fz->crit, 0, 6000) == 0);
	LB_ASSERT(sock_connect(fz->crit,
			       &(struct sock_addr){ fz->peer_ip, 5000 }) == 0);
	LB_ASSERT(sock_set_memalloc(fz->crit, 0, 0) == 0);
	reset();
	mm_hog_init(&fz->hog, fz->mm, fz->pages, FZ_PAGES, fz->objs,
		    FZ_MAX_OBJS);
	fz->free_pages = fz->mm->nr_free.v;
}

/* ---- exhaustion ----------------------------------------------------------- */

/* Take every normal page and every free object of the stack's caches. */
static void exhaust(void)
{
	struct kmem_cache *const caches[] = { &fz->net->netbuf_cache,
					      &fz->net->sock_cache };

	mm_hog_take(&fz->hog, caches, ARRAY_SIZE(caches));
}

static void release(void)
{
	mm_hog_release(&fz->hog);
}

/* ---- one input ------------------------------------------------------------ */

static const enum mm_policy policies[4] = {
	MM_POLICY_ACCOUNTED,
	MM_POLICY_MAINLINE,
	MM_POLICY_NONE,
	MM_POLICY_ACCOUNTED,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned nr_flows;
	uint8_t ctl;

	if (!size)
		return 0;
	if (!fz)
		setup();
	ctl = data[0];
	LB_ASSERT(mm_set_policy(fz->mm,
				policies[(ctl >> CTL_POLICY_SHIFT) & 3]) == 0);
	nr_flows = fz->dev.nr_flows;
	if (ctl & CTL_NO_CLASSIFIER)
		fz->dev.nr_flows = 0;
	if (ctl & CTL_EXHAUST)
		exhaust();

	fz->p = data + 1;
	fz->left = size - 1;
	fz->framed = ctl & CTL_FRAMED;
	fz->csum_ok = ctl & CTL_CSUM_OK;
	while (netdev_poll(&fz->dev) == NETDEV_POLL_BUDGET)
		;
	/* Reserve frames live only while the stack processes them. */
	LB_ASSERT(fz->net->rsv_rx.used.v == 0);

	release();
	fz->dev.nr_flows = nr_flows;
	/* Let the timers run: retries, giving up, reassembly timeouts. */
	loop_run_until(&fz->loop,
		       loop_now(&fz->loop) + IPFRAG_TIMEOUT_NS + NSEC_PER_SEC);
	LB_ASSERT(fz->net->rsv_rx.used.v == 0);
	reset();
	LB_ASSERT(mm_set_policy(fz->mm, MM_POLICY_ACCOUNTED) == 0);

	mm_check(fz->mm);
	LB_ASSERTF(fz->mm->root.used.v == 0, "reserves still hold %lld pages",
		   (long long)fz->mm->root.used.v);
	LB_ASSERTF(fz->mm->nr_free.v == fz->free_pages,
		   "%lld pages free after the input, %lld before",
		   (long long)fz->mm->nr_free.v, (long long)fz->free_pages);
	return 0;
}
