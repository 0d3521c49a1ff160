// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: TCP input against an established connection.
 *
 * One host (tests/net/tcp_harness: 192.0.2.2, a capturing device, a
 * listener on port 80) is built on the first input and kept.  Each input
 * gets a fresh ESTABLISHED connection from 192.0.2.1:40000, made by an
 * injected handshake, so an input replays the same way on its own; then
 * its segments are received one by one.  Every header field is the
 * input's, except that ports are forced to the connection's (so each
 * segment reaches it) and the checksum is fixed up; seq and ack may be
 * offsets from the connection's rcv_nxt and snd_una.
 *
 * Input: byte 0 is control, the rest segments.
 *   bit 0     exhaust normal memory (every page and cache object) while
 *             the segments are received: they arrive in net.rx
 *   bit 1     the connection is memory-critical (tcp_set_memalloc)
 *   bit 2     the handshake offers no options (else MSS, WS, TS, SACK)
 *   bit 3     20 KiB are queued to send before the segments
 *   bit 4     the application reads after every segment
 *   bit 5     the application closes the socket (FIN) before the
 *             segments, and from then on knows it only through lookups
 *   bits 6-7  the loop then runs 0, 50 ms, 1.5 s or 70 s
 * Each segment: a 2-byte big-endian length, then that many bytes:
 *   byte 0    mode: bit 0 seq is rcv_nxt + the field, bit 1 ack is
 *             snd_una + the field, bit 2 the frame is marked reserve
 *             (pfmemalloc), bit 3 SACK block edges are snd_una + the
 *             value, bits 4-7 the loop runs that many 25 ms after
 *   the rest  the TCP segment (header padded with zeros to 20 bytes,
 *             data offset as given, options, payload; at most 1480)
 *
 * After each input: every frame sent had a right checksum and parseable
 * options and no more than the MSS, mm_check passes, every reserve is
 * within its size, net.rx is empty, and once the connection is aborted no
 * reserve is charged and every page is back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../tests/net/tcp_harness.h"
#include "mm/slab.h"
#include "net/tcp_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_PAGES 1024
#define FZ_LPORT 80
#define FZ_PPORT 40000
#define FZ_MAX_TCP (TH_MTU - 20)

#define CTL_EXHAUST 0x01
#define CTL_MEMALLOC 0x02
#define CTL_NO_OPTIONS 0x04
#define CTL_QUEUE 0x08
#define CTL_READ 0x10
#define CTL_CLOSE 0x20
#define CTL_RUN_SHIFT 6

#define SEG_SEQ_REL 0x01
#define SEG_ACK_REL 0x02
#define SEG_RESERVE 0x04
#define SEG_SACK_REL 0x08
#define SEG_RUN_SHIFT 4

static struct fz {
	struct th *th;
	struct tcp_sock *l;
	int64_t free_pages; /* at rest, between inputs */
	uint8_t buf[1 << 16];
} * fz;

static void fz_check(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_tcp_input: %s\n", what);
		abort();
	}
}

static void shrink_caches(void)
{
	kmem_cache_shrink(&fz->th->net->netbuf_cache);
	kmem_cache_shrink(&fz->th->net->sock_cache);
	for (unsigned i = 0; i < MM_KMALLOC_CLASSES; i++)
		kmem_cache_shrink(fz->th->mm->kmalloc[i]);
}

static void listen_again(void)
{
	if (fz->l && !fz->l->nr_syn && !fz->l->nr_accept)
		return;
	if (fz->l)
		tcp_close(fz->l); /* its children die with it */
	fz->l = th_listen(fz->th, FZ_LPORT, 4);
	fz_check(fz->l, "listen");
}

static struct tcp_sock *open_conn(uint8_t ctl)
{
	struct th_peer p;
	struct tcp_sock *tp;

	th_peer_init(&p, FZ_PPORT, FZ_LPORT,
		     (ctl & CTL_NO_OPTIONS) ? 0 : TH_OFFER_ALL);
	fz->th->discard = false; /* the handshake reads the SYN-ACK */
	tp = th_accept(fz->th, &p, fz->l, NULL);
	fz_check(tp && tp->state == TCP_ESTABLISHED, "handshake");
	th_clear(fz->th);
	fz->th->discard = true;
	return tp;
}

static void close_conn(struct tcp_sock *tp)
{
	if (tp->state == TCP_CLOSED)
		tcp_close(tp);
	else
		tcp_abort(tp);
}

/*
 * The connection, as far as the input may touch it: the user's socket
 * while the user holds it; after tcp_close, whatever the table still has.
 */
static struct tcp_sock *conn(struct tcp_sock *owned)
{
	if (owned)
		return owned;
	return tcp_lookup(fz->th->net, fz->th->peer_ip, FZ_PPORT, fz->th->ip,
			  FZ_LPORT);
}

static void setup(void)
{
	struct tcp_sock *tp;

	fz = calloc(1, sizeof(*fz));
	fz_check(fz, "calloc");
	fz->th = th_new(FZ_PAGES, MM_POLICY_ACCOUNTED);
	listen_again();
	/* one connection's life, so its caches have their slabs at rest */
	tp = open_conn(0);
	close_conn(tp);
	shrink_caches();
	fz->free_pages = fz->th->mm->nr_free.v;
}

/* Read what is queued; tcp_recv never returns more than that. */
static void app_read(struct tcp_sock *tp)
{
	size_t ready = tcp_recv_ready(tp);
	ssize_t n;

	while ((n = tcp_recv(tp, fz->buf, sizeof(fz->buf))) > 0) {
		fz_check((size_t)n <= ready,
			 "tcp_recv returned more than queued");
		ready = tcp_recv_ready(tp);
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Add @base to the edges of the SACK blocks among @len bytes of options. */
static void sack_relative(uint8_t *o, size_t len, uint32_t base)
{
	while (len >= 2 && o[0]) {
		size_t olen = o[0] == 1 ? 1 : o[1];

		if (olen < 1 || olen > len)
			return;
		if (o[0] == 5)
			for (size_t i = 2; i + 4 <= olen; i += 4)
				put32(o + i, base + get32(o + i));
		o += olen;
		len -= olen;
	}
}

/* Where relative seq and ack count from (the last known, once gone). */
static uint32_t base_seq, base_ack;

/* One segment of the input, received now. */
static void segment(struct tcp_sock *owned, const uint8_t *s, size_t len,
		    uint8_t ctl)
{
	struct tcp_sock *tp = conn(owned);
	uint8_t tcp[FZ_MAX_TCP];
	uint8_t mode = s[0];
	size_t n = len - 1, doff;

	if (tp) {
		base_seq = tp->rcv_nxt;
		base_ack = tp->snd_una;
	}
	if (n > FZ_MAX_TCP)
		n = FZ_MAX_TCP;
	memset(tcp, 0, 20);
	memcpy(tcp, s + 1, n);
	if (n < 20)
		n = 20;
	tcp[0] = FZ_PPORT >> 8;
	tcp[1] = FZ_PPORT & 0xff;
	tcp[2] = 0;
	tcp[3] = FZ_LPORT;
	if (mode & SEG_SEQ_REL)
		put32(tcp + 4, base_seq + get32(tcp + 4));
	if (mode & SEG_ACK_REL)
		put32(tcp + 8, base_ack + get32(tcp + 8));
	doff = (size_t)(tcp[12] >> 4) * 4;
	if ((mode & SEG_SACK_REL) && doff > 20 && doff <= n)
		sack_relative(tcp + 20, doff - 20, base_ack);
	th_inject_tcp(fz->th, tcp, n, mode & SEG_RESERVE, false);
	/* net.rx only covers frames while the stack processes them */
	fz_check(fz->th->net->rsv_rx.used.v == 0, "net.rx still charged");
	if ((ctl & CTL_READ) && owned)
		app_read(owned);
	if (mode >> SEG_RUN_SHIFT)
		th_run(fz->th,
		       (uint64_t)(mode >> SEG_RUN_SHIFT) * 25 * NSEC_PER_MSEC);
	th_clear(fz->th);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t run_ns[4] = { 0, 50 * NSEC_PER_MSEC,
					    1500 * NSEC_PER_MSEC,
					    70 * NSEC_PER_SEC };
	struct tcp_sock *tp, *owned;
	const uint8_t *p;
	size_t left;
	uint8_t ctl;

	if (!size)
		return 0;
	if (!fz)
		setup();
	ctl = data[0];
	tp = open_conn(ctl);
	if (ctl & CTL_MEMALLOC) {
		tp->rcvbuf = 64 * 1024;
		tp->sndbuf = 64 * 1024;
		fz_check(tcp_set_memalloc(tp) == 0, "tcp_set_memalloc");
	}
	if (ctl & CTL_QUEUE) {
		memset(fz->buf, 'q', 20 * 1024);
		tcp_send(tp, fz->buf, 20 * 1024);
	}
	owned = tp;
	if (ctl & CTL_CLOSE) {
		tcp_close(tp);
		owned = NULL;
	}
	th_clear(fz->th);
	if (ctl & CTL_EXHAUST)
		th_exhaust(fz->th, true);

	p = data + 1;
	left = size - 1;
	while (left >= 2) {
		size_t len = (size_t)p[0] << 8 | p[1];

		p += 2;
		left -= 2;
		if (len > left)
			len = left;
		if (len)
			segment(owned, p, len, ctl);
		p += len;
		left -= len;
	}

	fz_check(th_mm_ok(fz->th), "reserve over its size");
	th_release(fz->th);
	th_run(fz->th, run_ns[ctl >> CTL_RUN_SHIFT]);
	if ((ctl & CTL_READ) && owned)
		app_read(owned);
	th_clear(fz->th);
	fz_check(th_mm_ok(fz->th), "reserve over its size");
	fz_check(fz->th->bad_csums == 0, "a segment with a bad checksum");
	fz_check(fz->th->bad_segs == 0, "a malformed or oversized segment");

	if (owned)
		close_conn(owned);
	else if ((tp = conn(NULL)))
		tcp_abort(tp); /* closed, still closing: the stack's */
	listen_again();
	shrink_caches();
	mm_check(fz->th->mm);
	fz_check(fz->th->mm->root.used.v == 0, "reserves still charged");
	if (fz->th->mm->nr_free.v != fz->free_pages) {
		fprintf(stderr,
			"%lld pages free after the input, %lld before\n",
			(long long)fz->th->mm->nr_free.v,
			(long long)fz->free_pages);
		abort();
	}
	return 0;
}
