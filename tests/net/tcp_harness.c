// SPDX-License-Identifier: MIT
/*
 * tcp_harness.c - one host, a capturing device, a hand-built peer.
 *
 * The checksums and the option walker here are the harness' own, not the
 * stack's, so a mistake in the stack's cannot hide itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mm/slab.h"
#include "net/proto.h"
#include "tcp_harness.h"

static const uint8_t th_peer_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t th_our_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };

/* ---- the device ---------------------------------------------------------- */

static int th_xmit(struct net_device *dev, const uint8_t *frame, size_t len)
{
	struct th *th = dev->priv;
	struct th_frame *f;
	struct th_seg s;

	th->tx_frames++;
	if (th_parse(frame, len, &s)) {
		if (s.csum_bad)
			th->bad_csums++;
		if (s.opts_bad || s.len > TH_MSS)
			th->bad_segs++;
	}
	if (th->discard)
		return 0;
	if (th->nr_frames == TH_MAX_FRAMES || len > TH_FRAME_MAX) {
		th->overflow++;
		return 0;
	}
	f = &th->frames[th->nr_frames++];
	f->t = host_now(th->host);
	f->len = len;
	memcpy(f->data, frame, len);
	return 0;
}

static ssize_t th_recv(struct net_device *dev, uint8_t *buf, size_t cap,
		       struct rx_meta *meta)
{
	return 0; /* frames arrive through th_inject only */
}

static const struct net_device_ops th_dev_ops = {
	.xmit = th_xmit,
	.recv = th_recv,
};

/* ---- socket callbacks ---------------------------------------------------- */

static void th_on_readable(struct sock *sk)
{
	((struct th *)sk->user)->ev.readable++;
}

static void th_on_writable(struct sock *sk)
{
	((struct th *)sk->user)->ev.writable++;
}

static void th_on_error(struct sock *sk, int err)
{
	struct th *th = sk->user;

	th->ev.errors++;
	th->ev.err = err;
}

const struct sock_ops th_sock_ops = { th_on_readable, th_on_writable,
				      th_on_error };

/* ---- checksums (the harness' own) ----------------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The TCP checksum over @tcp (@len bytes), addresses in host order. */
static uint16_t tcp_sum(uint32_t saddr, uint32_t daddr, const uint8_t *tcp,
			size_t len)
{
	uint32_t sum = (saddr >> 16) + (saddr & 0xffff) + (daddr >> 16) +
		       (daddr & 0xffff) + IPPROTO_TCP + (uint32_t)len;

	return fold(sum16(tcp, len, sum));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* ---- the host ------------------------------------------------------------ */

static void th_resolve_peer(struct th *th)
{
	uint8_t f[ETH_HLEN + sizeof(struct arp_hdr)];
	struct eth_hdr *eh = (struct eth_hdr *)f;
	struct arp_hdr *a = (struct arp_hdr *)(f + ETH_HLEN);
	struct netbuf *nb;

	LB_ASSERT(arp_set_critical(th->net, th->peer_ip, true) == 0);
	memcpy(eh->dst, th_our_mac, ETH_ALEN);
	memcpy(eh->src, th_peer_mac, ETH_ALEN);
	eh->type = htons(ETH_P_ARP);
	a->hrd = htons(ARP_HRD_ETHER);
	a->pro = htons(ETH_P_IP);
	a->hln = ETH_ALEN;
	a->pln = 4;
	a->op = htons(ARP_OP_REPLY);
	memcpy(a->sha, th_peer_mac, ETH_ALEN);
	a->spa = th->peer_ip;
	memcpy(a->tha, th_our_mac, ETH_ALEN);
	a->tpa = th->ip;
	nb = netbuf_alloc(th->net, sizeof(f), MM_ATOMIC | MM_NOMEMALLOC, NULL);
	LB_ASSERT(nb);
	memcpy(netbuf_put(nb, sizeof(f)), f, sizeof(f));
	nb->dev = &th->dev;
	eth_rcv(&th->dev, nb);
	LB_ASSERT(arp_lookup(th->net, th->peer_ip)->state == ARP_REACHABLE);
}

struct th *th_new(size_t pages, enum mm_policy policy)
{
	struct host_config hc = { .name = "th",
				  .seed = 7,
				  .log_level = LOG_ERR };
	struct mm_config mc = { .nr_pages = pages, .policy = policy };
	struct th *th = calloc(1, sizeof(*th));

	LB_ASSERT(th && pages <= TH_MAX_HOLD);
	LB_ASSERT(loop_init(&th->loop, LOOP_VIRTUAL) == 0);
	th->host = host_create(&th->loop, &hc);
	LB_ASSERT(th->host);
	th->mm = mm_create(th->host, &mc);
	LB_ASSERT(th->mm);
	th->net = net_create(th->host, NULL);
	LB_ASSERT(th->net);
	th->ip = htonl(TH_HOST_IP);
	th->peer_ip = htonl(TH_PEER_IP);
	th->dev.ops = &th_dev_ops;
	th->dev.priv = th;
	th->dev.mtu = TH_MTU;
	memcpy(th->dev.mac, th_our_mac, ETH_ALEN);
	snprintf(th->dev.name, sizeof(th->dev.name), "cap0");
	LB_ASSERT(netdev_register(th->net, &th->dev) == 0);
	th->dev.ip = th->ip;
	th->dev.netmask = htonl(0xffffff00u);
	th_resolve_peer(th);
	th_clear(th); /* the ARP request */
	th->pages_at_rest = th->mm->nr_free.v;
	return th;
}

static bool reserves_ok(const struct mm_reserve *r, enum mm_policy policy)
{
	const struct mm_reserve *c;

	if (policy == MM_POLICY_ACCOUNTED && r->used.v > r->size.v) {
		fprintf(stderr, "reserve %s: %lld used > %lld size\n", r->name,
			(long long)r->used.v, (long long)r->size.v);
		return false;
	}
	list_for_each_entry(c, &r->children, sibling)
		if (!reserves_ok(c, policy))
			return false;
	return true;
}

bool th_mm_ok(struct th *th)
{
	mm_check(th->mm); /* aborts on a broken arena */
	return reserves_ok(&th->mm->root, th->mm->policy);
}

bool th_free(struct th *th)
{
	bool ok;

	th_release(th);
	ok = th_mm_ok(th);
	if (th->bad_csums || th->bad_segs) {
		fprintf(stderr,
			"%u segments sent with a bad checksum, %u malformed\n",
			th->bad_csums, th->bad_segs);
		ok = false;
	}
	net_destroy(th->net);
	/* the kmalloc caches are the arena's: their spare slabs go back too */
	for (unsigned i = 0; i < MM_KMALLOC_CLASSES; i++)
		kmem_cache_shrink(th->mm->kmalloc[i]);
	mm_check(th->mm);
	if (th->mm->root.used.v ||
	    th->mm->nr_free.v != (int64_t)th->mm->nr_pages) {
		fprintf(stderr,
			"after the stack: %lld reserve pages used, "
			"%lld of %zu pages free\n",
			(long long)th->mm->root.used.v,
			(long long)th->mm->nr_free.v, th->mm->nr_pages);
		ok = false;
	}
	mm_destroy(th->mm);
	host_destroy(th->host);
	loop_destroy(&th->loop);
	free(th);
	return ok;
}

void th_run(struct th *th, uint64_t ns)
{
	loop_run_until(&th->loop, loop_now(&th->loop) + ns);
}

int64_t th_stat(struct th *th, const char *name)
{
	int64_t v;

	if (stats_get(&th->host->stats, name, &v))
		return INT64_MIN;
	return v;
}

/* ---- building ------------------------------------------------------------ */

/* Write the options of @p at @out (40 bytes room); their padded length. */
static int write_options(const struct th_pkt *p, uint8_t *out)
{
	const struct th_opts *o = &p->o;
	uint8_t buf[64];
	unsigned n = 0;

	if (o->mss_ok) {
		buf[n++] = 2;
		buf[n++] = 4;
		put16(buf + n, o->mss);
		n += 2;
	}
	if (o->ws_ok) {
		buf[n++] = 1;
		buf[n++] = 3;
		buf[n++] = 3;
		buf[n++] = o->ws;
	}
	if (o->sack_ok) {
		buf[n++] = 1;
		buf[n++] = 1;
		buf[n++] = 4;
		buf[n++] = 2;
	}
	if (o->ts_ok) {
		buf[n++] = 1;
		buf[n++] = 1;
		buf[n++] = 8;
		buf[n++] = 10;
		put32(buf + n, o->tsval);
		put32(buf + n + 4, o->tsecr);
		n += 8;
	}
	if (o->nr_sacks) {
		if (n + 4 + 8 * o->nr_sacks > sizeof(buf))
			return -1;
		buf[n++] = 1;
		buf[n++] = 1;
		buf[n++] = 5;
		buf[n++] = (uint8_t)(2 + 8 * o->nr_sacks);
		for (unsigned i = 0; i < o->nr_sacks; i++) {
			put32(buf + n, o->sacks[i][0]);
			put32(buf + n + 4, o->sacks[i][1]);
			n += 8;
		}
	}
	if (n + p->raw_len > 40)
		return -1;
	memcpy(buf + n, p->raw, p->raw_len);
	n += p->raw_len;
	while (n % 4)
		buf[n++] = 0; /* EOL */
	if (n > 40)
		return -1;
	if (out)
		memcpy(out, buf, n);
	return (int)n;
}

int th_options_len(const struct th_pkt *p)
{
	return write_options(p, NULL);
}

/* Receive @len bytes of Ethernet frame, as the device's ladder would. */
static bool th_rx_frame(struct th *th, const uint8_t *frame, size_t len,
			bool mark_reserve)
{
	struct netbuf *nb;

	nb = netbuf_alloc(th->net, (uint32_t)len, MM_ATOMIC | MM_NOMEMALLOC,
			  NULL);
	if (!nb)
		nb = netbuf_alloc(th->net, (uint32_t)len,
				  MM_ATOMIC | MM_MEMALLOC, &th->net->rsv_rx);
	if (!nb)
		return false;
	memcpy(netbuf_put(nb, (uint32_t)len), frame, len);
	nb->dev = &th->dev;
	nb->mac_off = (uint16_t)netbuf_headroom(nb);
	nb->rx_len = (uint16_t)len;
	nb->tstamp = host_now(th->host);
	nb->csum_ok = false;
	if (mark_reserve)
		nb->pfmemalloc = true;
	th->last_inject_reserve = nb->pfmemalloc;
	eth_rcv(&th->dev, nb);
	return true;
}

bool th_inject_ip(struct th *th, const uint8_t *ip, size_t len, bool reserve)
{
	uint8_t f[ETH_HLEN + TH_FRAME_MAX];
	struct eth_hdr *eh = (struct eth_hdr *)f;

	if (len > TH_MTU)
		return false;
	memcpy(eh->dst, th_our_mac, ETH_ALEN);
	memcpy(eh->src, th_peer_mac, ETH_ALEN);
	eh->type = htons(ETH_P_IP);
	memcpy(f + ETH_HLEN, ip, len);
	return th_rx_frame(th, f, ETH_HLEN + len, reserve);
}

bool th_inject_tcp(struct th *th, uint8_t *tcp, size_t len, bool reserve,
		   bool bad_csum)
{
	uint8_t ip[TH_FRAME_MAX];
	size_t tot = 20 + len;

	if (tot > TH_MTU)
		return false;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 4, 1);
	put16(ip + 6, IP_DF);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	put32(ip + 12, ntohl(th->peer_ip));
	put32(ip + 16, ntohl(th->ip));
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	if (len >= 20) {
		put16(tcp + 16, 0);
		put16(tcp + 16,
		      tcp_sum(ntohl(th->peer_ip), ntohl(th->ip), tcp, len));
		if (bad_csum)
			tcp[17] ^= 0x5a;
	}
	memcpy(ip + 20, tcp, len);
	return th_inject_ip(th, ip, tot, reserve);
}

bool th_inject(struct th *th, const struct th_pkt *p)
{
	uint8_t tcp[TH_FRAME_MAX];
	int olen = write_options(p, tcp + 20);
	size_t tlen;

	if (olen < 0)
		return false;
	tlen = 20 + (size_t)olen + p->len;
	if (20 + tlen > TH_MTU)
		return false;
	put16(tcp, p->sport);
	put16(tcp + 2, p->dport);
	put32(tcp + 4, p->seq);
	put32(tcp + 8, p->ack);
	tcp[12] = (uint8_t)((20 + olen) / 4 << 4);
	tcp[13] = p->flags;
	put16(tcp + 14, p->window);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	if (p->len)
		memcpy(tcp + 20 + olen, p->data, p->len);
	return th_inject_tcp(th, tcp, tlen, p->mark_reserve, p->bad_csum);
}

/* ---- parsing ------------------------------------------------------------- */

static bool parse_options(const uint8_t *p, unsigned len, struct th_opts *o)
{
	memset(o, 0, sizeof(*o));
	while (len) {
		uint8_t kind = p[0], olen;

		if (kind == 0)
			break;
		if (kind == 1) {
			p++;
			len--;
			continue;
		}
		if (len < 2 || (olen = p[1]) < 2 || olen > len)
			return false;
		switch (kind) {
		case 2:
			if (olen != 4)
				return false;
			o->mss_ok = true;
			o->mss = get16(p + 2);
			break;
		case 3:
			if (olen != 3)
				return false;
			o->ws_ok = true;
			o->ws = p[2];
			break;
		case 4:
			if (olen != 2)
				return false;
			o->sack_ok = true;
			break;
		case 5:
			if ((olen - 2) % 8 || (olen - 2) / 8 > TH_MAX_SACKS ||
			    olen < 10)
				return false;
			o->nr_sacks = (olen - 2u) / 8;
			for (unsigned i = 0; i < o->nr_sacks; i++) {
				o->sacks[i][0] = get32(p + 2 + 8 * i);
				o->sacks[i][1] = get32(p + 6 + 8 * i);
			}
			break;
		case 8:
			if (olen != 10)
				return false;
			o->ts_ok = true;
			o->tsval = get32(p + 2);
			o->tsecr = get32(p + 6);
			break;
		default:
			return false; /* we never send anything else */
		}
		p += olen;
		len -= olen;
	}
	return true;
}

bool th_parse(const uint8_t *frame, size_t len, struct th_seg *s)
{
	const uint8_t *ip = frame + ETH_HLEN, *tcp;
	size_t ihl, tot, tlen, doff;

	memset(s, 0, sizeof(*s));
	if (len < ETH_HLEN + 40 || get16(frame + 12) != ETH_P_IP)
		return false;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot = get16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != IPPROTO_TCP ||
	    tot < ihl + 20 || ETH_HLEN + tot > len)
		return false;
	tcp = ip + ihl;
	tlen = tot - ihl;
	doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < 20 || doff > tlen)
		return false;
	s->saddr = get32(ip + 12);
	s->daddr = get32(ip + 16);
	s->sport = get16(tcp);
	s->dport = get16(tcp + 2);
	s->seq = get32(tcp + 4);
	s->ack = get32(tcp + 8);
	s->flags = tcp[13];
	s->window = get16(tcp + 14);
	s->optlen = (unsigned)(doff - 20);
	s->opts_bad = !parse_options(tcp + 20, s->optlen, &s->o);
	s->len = (uint32_t)(tlen - doff);
	s->data = tcp + doff;
	if (fold(sum16(ip, ihl, 0)) != 0 ||
	    tcp_sum(s->saddr, s->daddr, tcp, tlen) != 0)
		s->csum_bad = true;
	return true;
}

/* ---- the capture --------------------------------------------------------- */

static bool next_tcp(struct th *th, unsigned *i, struct th_seg *s)
{
	for (; *i < th->nr_frames; (*i)++) {
		const struct th_frame *f = &th->frames[*i];

		if (th_parse(f->data, f->len, s)) {
			s->t = f->t;
			(*i)++;
			return true;
		}
	}
	return false;
}

unsigned th_pending(struct th *th)
{
	struct th_seg s;
	unsigned i = th->next, n = 0;

	while (next_tcp(th, &i, &s))
		n++;
	return n;
}

bool th_pop(struct th *th, struct th_seg *s)
{
	return next_tcp(th, &th->next, s);
}

unsigned th_drain(struct th *th)
{
	struct th_seg s;
	unsigned n = 0;

	while (th_pop(th, &s))
		n++;
	return n;
}

void th_clear(struct th *th)
{
	th->nr_frames = th->next = 0;
	th->overflow = 0;
}

/* ---- the peer ------------------------------------------------------------ */

void th_peer_init(struct th_peer *p, uint16_t port, uint16_t lport,
		  unsigned offer)
{
	memset(p, 0, sizeof(*p));
	p->port = port;
	p->lport = lport;
	p->iss = 1000000u + port;
	p->seq = p->iss;
	p->window = 65535;
	p->mss = (offer & TH_OFFER_MSS) ? 1460 : 0;
	p->ws = offer & TH_OFFER_WS;
	p->wscale = 0;
	p->ts = offer & TH_OFFER_TS;
	p->sack = offer & TH_OFFER_SACK;
	p->tsval = 5000;
}

struct th_pkt th_peer_pkt(const struct th_peer *p, uint8_t flags,
			  const void *data, uint32_t len)
{
	struct th_pkt k = {
		.sport = p->port,
		.dport = p->lport,
		.seq = p->seq,
		.ack = (flags & TCP_ACK) ? p->ack : 0,
		.flags = flags,
		.window = p->window,
		.data = data,
		.len = len,
	};

	if (p->ts) {
		k.o.ts_ok = true;
		k.o.tsval = p->tsval;
		k.o.tsecr = (flags & TCP_ACK) ? p->tsecr : 0;
	}
	return k;
}

bool th_peer_send(struct th *th, struct th_peer *p, uint8_t flags,
		  const void *data, uint32_t len)
{
	struct th_pkt k = th_peer_pkt(p, flags, data, len);

	p->seq += len + !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
	return th_inject(th, &k);
}

struct th_pkt th_peer_syn(const struct th_peer *p)
{
	struct th_pkt k = th_peer_pkt(p, TCP_SYN, NULL, 0);

	k.o.mss_ok = p->mss != 0;
	k.o.mss = p->mss;
	k.o.ws_ok = p->ws;
	k.o.ws = p->wscale;
	k.o.sack_ok = p->sack;
	return k;
}

struct tcp_sock *th_listen(struct th *th, uint16_t port, unsigned backlog)
{
	struct tcp_sock *l = tcp_socket(th->net, &th_sock_ops, th);

	if (!l)
		return NULL;
	if (tcp_bind(l, 0, port) || tcp_listen(l, backlog)) {
		tcp_close(l);
		return NULL;
	}
	return l;
}

struct tcp_sock *th_accept(struct th *th, struct th_peer *p,
			   struct tcp_sock *listener, struct th_seg *synack)
{
	struct th_pkt syn = th_peer_syn(p);
	struct th_seg s;

	th_clear(th);
	if (!th_inject(th, &syn) || !th_pop(th, &s) ||
	    s.flags != (TCP_SYN | TCP_ACK) || s.ack != p->iss + 1)
		return NULL;
	if (synack)
		*synack = s;
	p->seq = p->iss + 1;
	p->our_iss = s.seq;
	p->ack = s.seq + 1;
	if (s.o.ts_ok)
		p->tsecr = s.o.tsval;
	th_clear(th);
	if (!th_peer_send(th, p, TCP_ACK, NULL, 0))
		return NULL;
	p->tp = tcp_accept(listener);
	return p->tp;
}

struct tcp_sock *th_connect(struct th *th, struct th_peer *p,
			    struct th_seg *syn)
{
	struct tcp_sock *tp = tcp_socket(th->net, &th_sock_ops, th);
	struct th_pkt k;
	struct th_seg s;

	if (!tp)
		return NULL;
	th_clear(th);
	if (tcp_connect(tp, &(struct sock_addr){ th->peer_ip, p->port }) ||
	    !th_pop(th, &s) || s.flags != TCP_SYN) {
		tcp_abort(tp);
		return NULL;
	}
	if (syn)
		*syn = s;
	p->lport = s.sport;
	p->our_iss = s.seq;
	p->ack = s.seq + 1;
	if (s.o.ts_ok)
		p->tsecr = s.o.tsval;
	k = th_peer_syn(p);
	k.flags |= TCP_ACK;
	k.ack = p->ack;
	k.o.tsecr = p->tsecr;
	p->seq = p->iss + 1;
	th_clear(th);
	if (!th_inject(th, &k)) {
		tcp_abort(tp);
		return NULL;
	}
	p->tp = tp;
	return tp;
}

/* ---- memory -------------------------------------------------------------- */

static void hold_obj(struct th *th, void *o)
{
	if (th->nr_objs == th->objs_cap) {
		th->objs_cap = th->objs_cap ? 2 * th->objs_cap : 256;
		th->objs = realloc(th->objs, th->objs_cap * sizeof(void *));
		LB_ASSERT(th->objs);
	}
	th->objs[th->nr_objs++] = o;
}

static void drain_cache(struct th *th, struct kmem_cache *c)
{
	void *o;

	while ((o = kmem_cache_alloc(c, MM_ATOMIC | MM_NOMEMALLOC, NULL)))
		hold_obj(th, o);
}

static void take_pages(struct th *th)
{
	struct page *p;

	while (th->held < TH_MAX_HOLD &&
	       (p = mm_page_alloc(th->mm, MM_ATOMIC | MM_NOMEMALLOC, NULL)))
		th->hold[th->held++] = p;
}

static struct kmem_cache *th_caches(struct th *th, unsigned i)
{
	if (i == 0)
		return &th->net->netbuf_cache;
	if (i == 1)
		return &th->net->sock_cache;
	if (i < 2 + MM_KMALLOC_CLASSES)
		return th->mm->kmalloc[i - 2];
	return NULL;
}

void th_exhaust(struct th *th, bool objects)
{
	struct kmem_cache *c;
	void *warm[2 + MM_KMALLOC_CLASSES];

	if (objects) {
		take_pages(th);
		for (unsigned i = 0; (c = th_caches(th, i)); i++)
			drain_cache(th, c);
		return;
	}
	/* one object per cache, so each keeps a slab once they are back */
	for (unsigned i = 0; (c = th_caches(th, i)); i++)
		warm[i] = kmem_cache_alloc(c, MM_ATOMIC | MM_NOMEMALLOC, NULL);
	take_pages(th);
	for (unsigned i = 0; (c = th_caches(th, i)); i++)
		if (warm[i])
			kmem_cache_free(c, warm[i]);
	take_pages(th); /* a slab given back returned its page */
}

void th_release(struct th *th)
{
	while (th->nr_objs) {
		void *o = th->objs[--th->nr_objs];

		kmem_cache_free(kmem_obj_cache(th->mm, o), o);
	}
	free(th->objs);
	th->objs = NULL;
	th->objs_cap = 0;
	while (th->held)
		mm_page_put(th->mm, th->hold[--th->held]);
}
