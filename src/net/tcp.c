// SPDX-License-Identifier: MIT
/*
 * tcp.c - TCP sockets: tables, lifetime, the user calls, initial sequence
 * numbers (RFC 6528) and the reserves of memory-critical connections.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tcp_impl.h"

static const char *const tcp_stat_names[] = {
#define TCP_STAT_NAME(name) #name,
	TCP_STATS(TCP_STAT_NAME)
#undef TCP_STAT_NAME
};

static const char *const state_names[] = {
	[TCP_CLOSED] = "CLOSED",	   [TCP_LISTEN] = "LISTEN",
	[TCP_SYN_SENT] = "SYN-SENT",	   [TCP_SYN_RECEIVED] = "SYN-RECEIVED",
	[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_FIN_WAIT_1] = "FIN-WAIT-1",
	[TCP_FIN_WAIT_2] = "FIN-WAIT-2",   [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[TCP_CLOSING] = "CLOSING",	   [TCP_LAST_ACK] = "LAST-ACK",
	[TCP_TIME_WAIT] = "TIME-WAIT",
};

const char *tcp_state_name(enum tcp_state s)
{
	return s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

/* The tcp_sock cache lives beside the table, allocated with it. */
struct tcp_table_alloc {
	struct tcp_table t;
	struct kmem_cache cache;
};

static struct kmem_cache *tcp_cache(struct net *net)
{
	return &container_of(net->tcp, struct tcp_table_alloc, t)->cache;
}

int tcp_init(struct net *net)
{
	struct tcp_table_alloc *a = calloc(1, sizeof(*a));
	struct tcp_table *t;

	if (!a)
		return -ENOMEM;
	t = &a->t;
	for (size_t i = 0; i < TCP_HASH_SIZE; i++)
		list_init(&t->conns[i]);
	list_init(&t->listeners);
	list_init(&t->timewait);
	/* RFC 6528's secret: from the host's PRNG, so a simulation replays. */
	t->isn_key[0] = prng_next(&net->host->prng);
	t->isn_key[1] = prng_next(&net->host->prng);
	prng_fork(&net->host->prng, &t->prng, 0x7463702d6368616cull);
	if (kmem_cache_init(&a->cache, net->mm, "tcp_sock",
			    sizeof(struct tcp_sock), 64)) {
		free(a);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tcp_stat_names); i++)
		stats_add_counter(&net->host->stats,
				  (struct counter *)&t->st + i, "tcp.%s",
				  tcp_stat_names[i]);
	net->tcp = t;
	net->tcp_rcv = tcp_rcv;
	return 0;
}

void tcp_fini(struct net *net)
{
	struct tcp_table *t = net->tcp;
	struct tcp_sock *tp, *tmp;

	if (!t)
		return;
	/*
	 * The stack is going away: owners of live connections hear about it
	 * (and may close them), then whatever is left is freed.
	 */
	for (bool again = true; again;) {
		again = false;
		for (size_t i = 0; i < TCP_HASH_SIZE && !again; i++)
			list_for_each_entry(tp, &t->conns[i], node) {
				const struct sock_ops *ops = tp->sk.ops;

				if (tp->closed_by_user || !ops || !ops->error)
					continue;
				/* the callback may close and free it */
				tp->sk.ops = NULL;
				ops->error(&tp->sk, ECONNABORTED);
				again = true;
				break;
			}
	}
	for (size_t i = 0; i < TCP_HASH_SIZE; i++)
		list_for_each_entry_safe(tp, tmp, &t->conns[i], node) {
			tp->closed_by_user = true;
			tcp_done(tp, 0);
		}
	list_for_each_entry_safe(tp, tmp, &t->listeners, node)
		tcp_close(tp);
	list_for_each_entry_safe(tp, tmp, &t->timewait, node) {
		tp->closed_by_user = true;
		tcp_done(tp, 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(tcp_stat_names); i++)
		stats_remove(&net->host->stats, (struct counter *)&t->st + i);
	kmem_cache_destroy(tcp_cache(net));
	net->tcp_rcv = NULL;
	net->tcp = NULL;
	free(container_of(t, struct tcp_table_alloc, t));
}

/* ---- tables ------------------------------------------------------------ */

static unsigned conn_hash(uint32_t saddr, uint16_t sport, uint16_t dport)
{
	uint32_t h = saddr ^ ((uint32_t)sport << 16 | dport);

	h *= 0x9e3779b1u;
	return h >> 24 & (TCP_HASH_SIZE - 1);
}

void tcp_hash(struct tcp_sock *tp)
{
	struct tcp_table *t = tcp_table(tp->sk.net);

	LB_ASSERT(!tp->in_table);
	if (tp->state == TCP_LISTEN)
		list_add_tail(&tp->node, &t->listeners);
	else
		list_add_tail(
			&tp->node,
			&t->conns[conn_hash(tp->sk.remote.ip, tp->sk.remote.port,
					    tp->sk.local.port)]);
	tp->in_table = true;
}

void tcp_unhash(struct tcp_sock *tp)
{
	if (!tp->in_table)
		return;
	list_del(&tp->node);
	tp->in_table = false;
	if (tp->state == TCP_TIME_WAIT)
		tcp_table(tp->sk.net)->nr_timewait--;
}

struct tcp_sock *tcp_lookup(struct net *net, uint32_t saddr, uint16_t sport,
			    uint32_t daddr, uint16_t dport)
{
	struct tcp_table *t = tcp_table(net);
	struct tcp_sock *tp;

	list_for_each_entry(tp, &t->conns[conn_hash(saddr, sport, dport)], node)
		if (tp->sk.remote.ip == saddr && tp->sk.remote.port == sport &&
		    tp->sk.local.port == dport &&
		    (!tp->sk.local.ip || tp->sk.local.ip == daddr))
			return tp;
	list_for_each_entry(tp, &t->timewait, node)
		if (tp->sk.remote.ip == saddr && tp->sk.remote.port == sport &&
		    tp->sk.local.port == dport && tp->sk.local.ip == daddr)
			return tp;
	return NULL;
}

struct tcp_sock *tcp_lookup_listener(struct net *net, uint32_t daddr,
				     uint16_t dport)
{
	struct tcp_sock *tp;

	list_for_each_entry(tp, &tcp_table(net)->listeners, node)
		if (tp->sk.local.port == dport &&
		    (!tp->sk.local.ip || tp->sk.local.ip == daddr))
			return tp;
	return NULL;
}

static bool port_busy(struct net *net, uint16_t port)
{
	struct tcp_table *t = tcp_table(net);
	struct tcp_sock *tp;

	list_for_each_entry(tp, &t->listeners, node)
		if (tp->sk.local.port == port)
			return true;
	for (size_t i = 0; i < TCP_HASH_SIZE; i++)
		list_for_each_entry(tp, &t->conns[i], node)
			if (tp->sk.local.port == port)
				return true;
	return false;
}

/* ---- initial sequence numbers: RFC 6528 with SipHash-2-4 ---------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                   \
	do {                       \
		v0 += v1;          \
		v1 = ROTL(v1, 13); \
		v1 ^= v0;          \
		v0 = ROTL(v0, 32); \
		v2 += v3;          \
		v3 = ROTL(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = ROTL(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = ROTL(v1, 17); \
		v1 ^= v2;          \
		v2 = ROTL(v2, 32); \
	} while (0)

/* SipHash-2-4 of two 64-bit words. */
static uint64_t siphash_2u64(uint64_t a, uint64_t b, const uint64_t key[2])
{
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0];
	uint64_t v3 = 0x7465646279746573ull ^ key[1];
	uint64_t m[3] = { a, b, (uint64_t)16 << 56 };

	for (int i = 0; i < 3; i++) {
		v3 ^= m[i];
		SIPROUND;
		SIPROUND;
		v0 ^= m[i];
	}
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ISN = M + F(4-tuple, secret), M a 4 µs clock (RFC 6528 §3). */
tcp_seq_t tcp_isn(struct net *net, uint32_t saddr, uint16_t sport,
		  uint32_t daddr, uint16_t dport)
{
	uint64_t f = siphash_2u64((uint64_t)saddr << 32 | daddr,
				  (uint64_t)sport << 16 | dport,
				  tcp_table(net)->isn_key);

	return (tcp_seq_t)(f + host_now(net->host) / 4000);
}

/* ---- sockets ------------------------------------------------------------ */

static void tcp_sock_init(struct tcp_sock *tp, struct net *net,
			  const struct sock_ops *ops, void *user)
{
	memset(tp, 0, sizeof(*tp));
	sock_init(&tp->sk, net, IPPROTO_TCP, ops, user);
	list_init(&tp->node);
	list_init(&tp->accept_node);
	list_init(&tp->accept_q);
	list_init(&tp->wq);
	list_init(&tp->rq);
	list_init(&tp->ofo);
	tp->state = TCP_CLOSED;
	tp->rcvbuf = TCP_RCVBUF_DEFAULT;
	tp->sndbuf = TCP_SNDBUF_DEFAULT;
	tp->rto = TCP_RTO_INITIAL_NS;
	tp->mss = TCP_DEFAULT_MSS;
	tp->ka_idle_ns = TCP_KEEPALIVE_IDLE_NS;
	tp->ka_intvl_ns = TCP_KEEPALIVE_INTVL_NS;
	tp->ka_max_probes = TCP_KEEPALIVE_PROBES;
	tcp_timers_init(tp);
}

struct tcp_sock *tcp_socket(struct net *net, const struct sock_ops *ops,
			    void *user)
{
	struct tcp_sock *tp = kmem_cache_alloc(tcp_cache(net), MM_ATOMIC, NULL);

	if (tp)
		tcp_sock_init(tp, net, ops, user);
	return tp;
}

static void tcp_free(struct tcp_sock *tp)
{
	struct net *net = tp->sk.net;

	LB_ASSERT(!tp->in_table);
	if (tp->sk.mem_waiter.parked)
		mm_wait_cancel(net->mm, &tp->sk.mem_waiter);
	if (sock_memalloc(&tp->sk)) {
		arp_purge_reserve(net, &tp->sk.tx_rsv);
		LB_ASSERT(sock_clear_memalloc(&tp->sk) == 0);
	}
	kmem_cache_free(tcp_cache(net), tp);
}

int tcp_bind(struct tcp_sock *tp, uint32_t ip, uint16_t port)
{
	struct net *net = tp->sk.net;

	if (tp->sk.local.port || tp->state != TCP_CLOSED)
		return -EINVAL;
	if (!port) {
		for (unsigned tries = 0; tries < 16384 && !port; tries++) {
			uint16_t p = net->next_ephemeral++;

			if (net->next_ephemeral < 49152)
				net->next_ephemeral = 49152;
			if (!port_busy(net, p))
				port = p;
		}
		if (!port)
			return -EADDRINUSE;
	} else if (port_busy(net, port)) {
		return -EADDRINUSE;
	}
	tp->sk.local.ip = ip;
	tp->sk.local.port = port;
	return 0;
}

int tcp_listen(struct tcp_sock *tp, unsigned backlog)
{
	if (tp->state != TCP_CLOSED || !tp->sk.local.port)
		return -EINVAL;
	tp->backlog = backlog ? backlog : 16;
	tp->state = TCP_LISTEN;
	tcp_hash(tp);
	return 0;
}

struct tcp_sock *tcp_accept(struct tcp_sock *tp)
{
	struct tcp_sock *child;

	if (tp->state != TCP_LISTEN || list_empty(&tp->accept_q))
		return NULL;
	child = list_first_entry(&tp->accept_q, struct tcp_sock, accept_node);
	list_del(&child->accept_node);
	tp->nr_accept--;
	child->listener = NULL;
	return child;
}

/* A new connection for @listener from the SYN in @c (SYN-RECEIVED). */
struct tcp_sock *tcp_child(struct tcp_sock *listener,
			   const struct tcp_in_ctx *c)
{
	struct tcp_sock *tp = tcp_socket(c->net, listener->sk.ops, NULL);

	if (!tp)
		return NULL;
	tp->sk.user = listener->sk.user;
	tp->listener = listener;
	tp->sk.local.ip = c->daddr;
	tp->sk.local.port = c->dport;
	tp->sk.remote.ip = c->saddr;
	tp->sk.remote.port = c->sport;
	tp->sk.connected = true;
	tp->rcvbuf = listener->rcvbuf;
	tp->sndbuf = listener->sndbuf;
	tp->nodelay = listener->nodelay;
	tp->state = TCP_SYN_RECEIVED;
	listener->nr_syn++;
	tcp_hash(tp);
	return tp;
}

int tcp_connect(struct tcp_sock *tp, const struct sock_addr *peer)
{
	struct net *net = tp->sk.net;
	uint32_t next_hop;
	struct net_device *dev;
	int err;

	if (tp->state != TCP_CLOSED)
		return -EISCONN;
	if (!peer->ip || !peer->port)
		return -EINVAL;
	dev = net_route(net, peer->ip, &next_hop);
	if (!dev)
		return -ENETUNREACH;
	if (!tp->sk.local.port) {
		err = tcp_bind(tp, 0, 0);
		if (err)
			return err;
	}
	if (!tp->sk.local.ip)
		tp->sk.local.ip = dev->ip;
	tp->sk.remote = *peer;
	tp->sk.connected = true;
	/*
	 * Flagged before connecting (a storage client's reconnect, which must
	 * get its reserves before its SYN can be sent under exhaustion): pin
	 * the flow now, as sock_connect does; closing unpins it.
	 */
	if (sock_memalloc(&tp->sk))
		sock_critical_path(&tp->sk, true);
	tp->iss = tcp_isn(net, tp->sk.local.ip, tp->sk.local.port, peer->ip,
			  peer->port);
	/*
	 * The timestamp clock is fixed before the SYN carries its first
	 * value: moving it later would make our own segments look older
	 * than the SYN to a peer doing PAWS (RFC 7323 §5).
	 */
	tp->ts_offset = tcp_ts_offset(net, peer->ip, tp->sk.local.ip);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
	tp->write_seq = tp->iss + 1;
	tp->state = TCP_SYN_SENT;
	tp->rtt_start = host_now(net->host);
	tcp_hash(tp);
	TCP_INC(net, active_opens);
	/* A lost SYN is retransmitted by the timer: failure here is not fatal */
	tcp_send_syn(tp);
	tcp_arm_rto(tp);
	return 0;
}

void tcp_set_state(struct tcp_sock *tp, enum tcp_state s)
{
	host_trace(tp->sk.net->host, "tcp.state", tp->sk.local.port, tp->state,
		   s);
	tp->state = s;
}

/*
 * A per-connection offset for our timestamp clock (RFC 7323 §5.4): a
 * function of the addresses only, so a SYN cookie's timestamp and the
 * connection later rebuilt from it read the same clock.
 */
uint32_t tcp_ts_offset(struct net *net, uint32_t raddr, uint32_t laddr)
{
	return (uint32_t)siphash_2u64((uint64_t)raddr << 32 | laddr,
				      0x74732d6f6666ull,
				      tcp_table(net)->isn_key);
}

uint64_t tcp_hash_2u64(uint64_t a, uint64_t b, const uint64_t key[2])
{
	return siphash_2u64(a, b, key);
}

uint32_t tcp_ts_now(const struct tcp_sock *tp)
{
	return (uint32_t)(host_now(tp->sk.net->host) / NSEC_PER_MSEC) +
	       tp->ts_offset;
}

void tcp_wake_readable(struct tcp_sock *tp)
{
	if (tp->sk.ops && tp->sk.ops->readable)
		tp->sk.ops->readable(&tp->sk);
}

void tcp_wake_writable(struct tcp_sock *tp)
{
	if (tp->sk.ops && tp->sk.ops->writable)
		tp->sk.ops->writable(&tp->sk);
}

unsigned tcp_alloc_flags(const struct tcp_sock *tp)
{
	return MM_ATOMIC |
	       (sock_memalloc(&tp->sk) ? MM_MEMALLOC : MM_NOMEMALLOC);
}

struct mm_reserve *tcp_tx_reserve(struct tcp_sock *tp)
{
	return sock_memalloc(&tp->sk) ? &tp->sk.tx_rsv : NULL;
}

static void purge(struct list_head *q)
{
	struct netbuf *nb, *tmp;

	list_for_each_entry_safe(nb, tmp, q, node) {
		list_del(&nb->node);
		netbuf_free(nb);
	}
}

static void purge_queues(struct tcp_sock *tp)
{
	purge(&tp->wq);
	purge(&tp->rq);
	purge(&tp->ofo);
	tp->send_head = NULL;
	tp->wq_bytes = tp->rq_bytes = tp->rq_truesize = 0;
	tp->ofo_bytes = tp->ofo_truesize = 0;
	tp->copy_page = NULL;
	tp->nr_ofo = 0;
	netbuf_free(tp->spare_ack);
	tp->spare_ack = NULL;
	/* received data was all the receive reserve ever held */
	LB_ASSERT(!sock_memalloc(&tp->sk) || !tp->sk.rxq_rsv.used.v);
}

/*
 * The connection is over.  If the user already closed the socket it is
 * freed; otherwise it stays, CLOSED, until tcp_close, and the user is told.
 */
void tcp_done(struct tcp_sock *tp, int err)
{
	struct tcp_sock *l = tp->listener;

	tcp_timers_stop(tp);
	tcp_unhash(tp);
	if (l) {
		/* embryonic or never accepted: the listener forgets it */
		if (!list_empty(&tp->accept_node)) {
			list_del(&tp->accept_node);
			l->nr_accept--;
		} else {
			l->nr_syn--;
		}
		tp->listener = NULL;
		tp->closed_by_user = true;
	}
	purge_queues(tp);
	tp->state = TCP_CLOSED;
	if (tp->closed_by_user) {
		tcp_free(tp);
		return;
	}
	tp->err = -err; /* what tcp_send and tcp_recv return from now on */
	if (err && tp->sk.ops && tp->sk.ops->error)
		tp->sk.ops->error(&tp->sk, err);
	else
		tcp_wake_readable(tp);
}

void tcp_enter_timewait(struct tcp_sock *tp)
{
	struct tcp_table *t = tcp_table(tp->sk.net);

	tcp_timers_stop(tp);
	tcp_unhash(tp);
	/* what was received stays readable until the user closes */
	purge(&tp->wq);
	purge(&tp->ofo);
	tp->send_head = NULL;
	tp->wq_bytes = tp->ofo_bytes = tp->ofo_truesize = 0;
	tp->nr_ofo = 0;
	tp->copy_page = NULL;
	if (tp->closed_by_user)
		purge_queues(tp);
	tcp_set_state(tp, TCP_TIME_WAIT);
	list_add_tail(&tp->node, &t->timewait);
	tp->in_table = true;
	t->nr_timewait++;
	timer_arm_in(tp->sk.net->host->loop, &tp->tw_timer, TCP_TIME_WAIT_NS);
	/* Bounded: the oldest gives way (Linux's tw reuse would too). */
	if (t->nr_timewait > TCP_TIME_WAIT_MAX) {
		struct tcp_sock *old =
			list_first_entry(&t->timewait, struct tcp_sock, node);

		TCP_INC(tp->sk.net, timewait_reclaimed);
		tcp_done(old, 0); /* freed only if its user has closed it */
	}
	if (!tp->closed_by_user)
		tcp_wake_readable(tp);
}

/* ---- user calls -------------------------------------------------------- */

size_t tcp_send_space(const struct tcp_sock *tp)
{
	if (tp->state != TCP_ESTABLISHED && tp->state != TCP_CLOSE_WAIT)
		return 0;
	return tp->wq_bytes < tp->sndbuf ? tp->sndbuf - tp->wq_bytes : 0;
}

size_t tcp_recv_ready(const struct tcp_sock *tp)
{
	return tp->rq_bytes;
}

/* A new empty segment at the tail of the send queue. */
static struct netbuf *new_segment(struct tcp_sock *tp)
{
	struct netbuf *seg = netbuf_alloc(tp->sk.net, 0, tcp_alloc_flags(tp),
					  tcp_tx_reserve(tp));

	if (!seg)
		return NULL;
	tcp_cb(seg)->seq = tcp_cb(seg)->end_seq = tp->write_seq;
	tcp_cb(seg)->flags = 0;
	tcp_cb(seg)->retransmitted = false;
	tcp_cb(seg)->sacked = false;
	tcp_cb(seg)->hole_resent = false;
	tcp_cb(seg)->lost = false;
	tcp_cb(seg)->resent = false;
	list_add_tail(&seg->node, &tp->wq);
	if (!tp->send_head)
		tp->send_head = seg;
	return seg;
}

/* The tail segment if more may be appended to it (unsent, room left). */
static struct netbuf *open_tail(struct tcp_sock *tp)
{
	struct netbuf *seg;

	if (list_empty(&tp->wq))
		return NULL;
	seg = list_entry(tp->wq.prev, struct netbuf, node);
	if (!tp->send_head || (tcp_cb(seg)->flags & TCP_FIN) ||
	    netbuf_total(seg) >= tp->mss || seg->nr_frags == NETBUF_MAX_FRAGS)
		return NULL;
	/* only segments not yet sent grow */
	if (seq_lt(tcp_cb(seg)->seq, tp->snd_nxt))
		return NULL;
	return seg;
}

static void account_append(struct tcp_sock *tp, struct netbuf *seg, uint32_t n)
{
	tcp_cb(seg)->end_seq += n;
	tp->write_seq += n;
	tp->wq_bytes += n;
}

ssize_t tcp_send_page(struct tcp_sock *tp, struct page *pg, uint32_t off,
		      uint32_t len)
{
	uint32_t done = 0;

	if (tp->state != TCP_ESTABLISHED && tp->state != TCP_CLOSE_WAIT)
		return tp->err ? tp->err : -ENOTCONN;
	if (tp->fin_queued)
		return -EPIPE;
	if (tcp_send_space(tp) < len)
		return -EAGAIN;
	while (done < len) {
		struct netbuf *seg = open_tail(tp);
		uint32_t n;

		if (!seg)
			seg = new_segment(tp);
		if (!seg)
			break;
		n = lb_min(len - done, tp->mss - netbuf_total(seg));
		if (netbuf_add_frag(seg, pg, off + done, n))
			break;
		account_append(tp, seg, n);
		done += n;
	}
	if (done)
		tcp_output(tp);
	if (!done) {
		TCP_INC(tp->sk.net, tx_no_memory);
		return -ENOMEM;
	}
	return done;
}

ssize_t tcp_send(struct tcp_sock *tp, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;

	if (tp->state != TCP_ESTABLISHED && tp->state != TCP_CLOSE_WAIT)
		return tp->err ? tp->err : -ENOTCONN;
	if (tp->fin_queued)
		return -EPIPE;
	len = lb_min(len, tcp_send_space(tp));
	if (!len)
		return -EAGAIN;
	while (done < len) {
		struct netbuf *seg = open_tail(tp);
		struct netbuf_frag *f;
		uint32_t room, n;
		struct page *pg;

		if (!seg)
			seg = new_segment(tp);
		if (!seg)
			break;
		room = tp->mss - netbuf_total(seg);
		f = seg->nr_frags ? &seg->frags[seg->nr_frags - 1] : NULL;
		/* append into the last page we own, if it has room */
		if (f && f->page == tp->copy_page &&
		    f->off + f->len < PAGE_SIZE) {
			n = (uint32_t)lb_min(
				(size_t)lb_min(room, (uint32_t)PAGE_SIZE -
							     f->off - f->len),
				len - done);
			memcpy((uint8_t *)page_address(tp->sk.net->mm,
						       f->page) +
				       f->off + f->len,
			       p + done, n);
			f->len += n;
			seg->data_len += n;
		} else {
			pg = mm_page_alloc(tp->sk.net->mm, tcp_alloc_flags(tp),
					   tcp_tx_reserve(tp));
			if (!pg)
				break;
			tp->copy_page = pg;
			n = (uint32_t)lb_min(
				(size_t)lb_min(room, (uint32_t)PAGE_SIZE),
				len - done);
			memcpy(page_address(tp->sk.net->mm, pg), p + done, n);
			if (netbuf_add_frag(seg, pg, 0, n)) {
				mm_page_put(tp->sk.net->mm, pg);
				break;
			}
			mm_page_put(tp->sk.net->mm, pg); /* the segment's ref */
		}
		account_append(tp, seg, n);
		done += n;
	}
	if (!done) {
		TCP_INC(tp->sk.net, tx_no_memory);
		return -ENOMEM;
	}
	tcp_output(tp);
	return (ssize_t)done;
}

ssize_t tcp_recv(struct tcp_sock *tp, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t done = 0;
	uint32_t before = tcp_rcv_window(tp), after;

	while (done < len && !list_empty(&tp->rq)) {
		struct netbuf *nb =
			list_first_entry(&tp->rq, struct netbuf, node);
		uint32_t avail = netbuf_total(nb);
		uint32_t n = (uint32_t)lb_min((size_t)avail, len - done);

		netbuf_copy_bits(nb, 0, p + done, n);
		done += n;
		tp->rq_bytes -= n;
		if (n == avail) {
			list_del(&nb->node);
			tp->rq_truesize -= nb->truesize;
			netbuf_free(nb);
		} else {
			netbuf_consume(nb, n);
		}
	}
	if (!done) {
		if (tp->fin_received || tp->state == TCP_CLOSED)
			return tp->err && !tp->fin_received ? tp->err : 0;
		return -EAGAIN;
	}
	/*
	 * Reading opened the window by a segment or more: say so at once.
	 * This costs an ACK per segment read by a reader that keeps up
	 * (delayed ACKs then rarely fire), but announcing only when the
	 * window doubles made loss recovery lean on the retransmission timer
	 * (at 5 % loss in simulation: 187 timeouts per 8 MiB instead of 45),
	 * because a sender limited by our window learns of the room late.
	 */
	after = tcp_rcv_window(tp);
	if (after >= before + tp->mss || (before < tp->mss && after >= tp->mss))
		tcp_send_ack(tp);
	return (ssize_t)done;
}

int tcp_shutdown(struct tcp_sock *tp)
{
	struct netbuf *seg;

	if (tp->fin_queued)
		return 0;
	if (tp->state != TCP_ESTABLISHED && tp->state != TCP_CLOSE_WAIT)
		return -ENOTCONN;
	seg = open_tail(tp);
	if (!seg)
		seg = new_segment(tp);
	if (!seg) {
		/* the spare ACK's memory cannot carry a FIN: try later */
		TCP_INC(tp->sk.net, tx_no_memory);
		return -ENOMEM;
	}
	tcp_cb(seg)->flags |= TCP_FIN;
	tcp_cb(seg)->end_seq++;
	tp->write_seq++;
	tp->fin_queued = true;
	tcp_set_state(tp, tp->state == TCP_ESTABLISHED ? TCP_FIN_WAIT_1 :
							 TCP_LAST_ACK);
	tcp_output(tp);
	return 0;
}

void tcp_close(struct tcp_sock *tp)
{
	tp->closed_by_user = true;
	tp->sk.ops = NULL;
	switch (tp->state) {
	case TCP_CLOSED:
		tcp_timers_stop(tp);
		tcp_unhash(tp);
		purge_queues(tp);
		tcp_free(tp);
		return;
	case TCP_LISTEN: {
		struct tcp_table *t = tcp_table(tp->sk.net);
		struct tcp_sock *c, *tmp;

		/* its children, accepted or not yet, die with it */
		for (size_t i = 0; i < TCP_HASH_SIZE; i++)
			list_for_each_entry_safe(c, tmp, &t->conns[i], node)
				if (c->listener == tp)
					tcp_abort(c);
		LB_ASSERT(!tp->nr_accept && !tp->nr_syn);
		tcp_unhash(tp);
		tcp_free(tp);
		return;
	}
	case TCP_SYN_SENT:
		tcp_done(tp, 0);
		return;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		/* Unread data means the peer's data was lost: say so (RFC 2525). */
		if (tp->rq_bytes) {
			tcp_abort(tp);
			return;
		}
		if (tcp_shutdown(tp))
			tcp_abort(tp);
		return;
	default:
		return; /* already closing; the protocol finishes it */
	}
}

void tcp_abort(struct tcp_sock *tp)
{
	tp->closed_by_user = true;
	tp->sk.ops = NULL;
	if (tp->state != TCP_CLOSED && tp->state != TCP_LISTEN &&
	    tp->state != TCP_SYN_SENT && tp->state != TCP_TIME_WAIT)
		tcp_send_rst(tp);
	tcp_done(tp, ECONNRESET);
}

void tcp_set_nodelay(struct tcp_sock *tp, bool on)
{
	tp->nodelay = on;
	if (on)
		tcp_output(tp);
}

void tcp_set_keepalive(struct tcp_sock *tp, bool on)
{
	tp->keepalive = on;
	tcp_arm_keepalive(tp);
}

void tcp_set_keepalive_timing(struct tcp_sock *tp, uint64_t idle_ns,
			      uint64_t intvl_ns, unsigned probes)
{
	tp->ka_idle_ns = idle_ns;
	tp->ka_intvl_ns = intvl_ns;
	tp->ka_max_probes = probes;
	tcp_set_keepalive(tp, true);
}

/* ---- memory-critical connections --------------------------------------- */

/*
 * Receive: data reserve-received is copied and coalesced into pages, so a
 * full receive buffer costs its pages; out-of-order segments are copied one
 * by one, each a descriptor plus a buffer of at most twice its size: the
 * worst case doubles the buffer.  Plus a spare page and one partly used
 * slab per cache.
 */
size_t tcp_reserve_rx_pages(uint32_t rcvbuf, uint32_t mss)
{
	return 2 * PAGES_FOR(rcvbuf) + 1 + 1 + MM_KMALLOC_CLASSES;
}

/*
 * Send: copied data in pages of our own, one descriptor per MSS segment,
 * header buffers for the frames ARP may hold, and the spare ACK.
 */
size_t tcp_reserve_tx_pages(uint32_t sndbuf, uint32_t mss)
{
	size_t segs = DIV_ROUND_UP(sndbuf, mss) + 1;

	return PAGES_FOR(sndbuf) + 1 + DIV_ROUND_UP(segs, 8) + 1 +
	       DIV_ROUND_UP(ARP_PENDING_PER_ENTRY + 2, 8) + 2 +
	       MM_KMALLOC_CLASSES;
}

int tcp_set_memalloc(struct tcp_sock *tp)
{
	size_t rx = tcp_reserve_rx_pages(tp->rcvbuf, tp->mss);
	size_t tx = tcp_reserve_tx_pages(tp->sndbuf, tp->mss);
	int err;

	if (sock_memalloc(&tp->sk))
		return 0;
	/* sock_set_memalloc adds its own slack: hand it whole pages less it */
	err = sock_set_memalloc(&tp->sk, (tx - 8) * PAGE_SIZE,
				(rx - 8) * PAGE_SIZE);
	if (err)
		return err;
	tcp_refill_spare_ack(tp);
	return 0;
}
