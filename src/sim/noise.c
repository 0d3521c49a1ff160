// SPDX-License-Identifier: MIT
/*
 * noise.c - a UDP flood and TCP bulk senders, and sinks that never read.
 *
 * The flood is paced by a timer in bursts of 1 ms, so it behaves the same
 * in virtual and real time.  A TCP sender whose connection fails reconnects
 * after a second: noise does not give up.
 */
#include <errno.h>
#include <string.h>
#include "core/log.h"
#include "mm/mm.h"
#include "net/net.h"
#include "net/netbuf.h"
#include "net/proto.h"
#include "net/sock.h"
#include "net/tcp.h"
#include "noise.h"

#define NOISE_TICK_NS 1000000ull
#define NOISE_RECONNECT_NS 1000000000ull
#define NOISE_MAX_CONNS 16
/* first and middle fragments: 1480 bytes (a 1500-byte MTU) at 8-byte steps */
#define NOISE_FRAG_PAYLOAD 1480u
#define NOISE_FRAG_DATAGRAM 60000u /* bytes a datagram's fragments cover */
#define NOISE_FRAG_IDS 64u /* datagram ids in rotation */

static const uint8_t noise_bytes[UDP_MAX_PAYLOAD];

struct noise_conn {
	struct noise_source *ns;
	struct tcp_sock *tp;
	struct timer retry;
};

struct noise_source {
	struct net *net;
	struct noise_config cfg;
	struct sock *udp;
	struct timer tick;
	double credit; /* datagrams owed by the pacing */
	double frag_credit; /* fragments owed */
	uint16_t frag_id; /* the datagram being fragmented */
	uint32_t frag_at; /* the next fragment's offset in it */
	struct noise_conn conns[NOISE_MAX_CONNS];
	struct counter st_udp_sent, st_udp_fail, st_tcp_bytes, st_tcp_connects;
	struct counter st_frag_sent, st_frag_fail;
};

struct noise_sink {
	struct net *net;
	struct sock *udp;
	struct tcp_sock *listener;
	struct tcp_sock *conns[NOISE_MAX_CONNS];
	unsigned max_conns;
	struct tcp_sock *reject[NOISE_MAX_CONNS]; /* accepted, to abort */
	unsigned nr_reject;
	struct timer reap;
	struct counter st_accepted;
};

/* ---- source ------------------------------------------------------------- */

static void conn_start(struct noise_conn *c);

static void conn_fill(struct noise_conn *c)
{
	struct noise_source *ns = c->ns;
	size_t room;

	while (c->tp && (room = tcp_send_space(c->tp)) > 0) {
		ssize_t n = tcp_send(c->tp, noise_bytes,
				     lb_min(room, sizeof(noise_bytes)));

		if (n <= 0)
			break;
		counter_add(&ns->st_tcp_bytes, (uint64_t)n);
	}
}

static void conn_writable(struct sock *sk)
{
	conn_fill(sk->user);
}

static void conn_readable(struct sock *sk)
{
	uint8_t buf[512];

	/* the sink never sends; drain whatever arrives, and notice EOF */
	while (tcp_recv(tcp_sk(sk), buf, sizeof(buf)) > 0)
		;
}

static void conn_error(struct sock *sk, int err)
{
	struct noise_conn *c = sk->user;

	tcp_abort(c->tp);
	c->tp = NULL;
	timer_arm_in(c->ns->net->host->loop, &c->retry, NOISE_RECONNECT_NS);
}

static const struct sock_ops conn_ops = { .readable = conn_readable,
					  .writable = conn_writable,
					  .error = conn_error };

static void conn_start(struct noise_conn *c)
{
	struct noise_source *ns = c->ns;
	struct sock_addr to = { ns->cfg.dst_ip, ns->cfg.tcp_port };

	c->tp = tcp_socket(ns->net, &conn_ops, c);
	if (!c->tp || tcp_connect(c->tp, &to)) {
		if (c->tp)
			tcp_abort(c->tp);
		c->tp = NULL;
		timer_arm_in(ns->net->host->loop, &c->retry,
			     NOISE_RECONNECT_NS);
		return;
	}
	counter_inc(&ns->st_tcp_connects);
}

static void conn_retry(struct timer *t)
{
	conn_start(container_of(t, struct noise_conn, retry));
}

/*
 * One fragment of a UDP datagram whose last fragment never comes: what a
 * peer sending datagrams larger than the path's MTU looks like when the
 * path loses their tails (or a hostile peer).  The receiver must keep
 * each fragment until the datagram completes or its reassembly times out.
 */
static void frag_send(struct noise_source *ns)
{
	struct net *net = ns->net;
	uint32_t next_hop = ns->cfg.dst_ip;
	struct net_device *dev = net_route(net, ns->cfg.dst_ip, &next_hop);
	struct netbuf *nb = NULL;
	struct ip_hdr *ip;

	if (dev)
		nb = netbuf_alloc(net, sizeof(*ip) + NOISE_FRAG_PAYLOAD,
				  MM_ATOMIC | MM_NOMEMALLOC, NULL);
	if (!nb) {
		counter_inc(&ns->st_frag_fail);
		return;
	}
	ip = (struct ip_hdr *)netbuf_put(nb, sizeof(*ip));
	netbuf_set_network_header(nb);
	memcpy(netbuf_put(nb, NOISE_FRAG_PAYLOAD), noise_bytes,
	       NOISE_FRAG_PAYLOAD);
	ip->ver_ihl = 0x45;
	ip->tos = 0;
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + NOISE_FRAG_PAYLOAD));
	ip->id = htons(ns->frag_id);
	ip->frag_off = htons((uint16_t)(IP_MF | (ns->frag_at / 8)));
	ip->ttl = IP_DEFAULT_TTL;
	ip->proto = IPPROTO_UDP;
	ip->check = 0;
	ip->saddr = dev->ip;
	ip->daddr = ns->cfg.dst_ip;
	ip->check = csum_fold(csum_partial(ip, sizeof(*ip), 0));
	ns->frag_at += NOISE_FRAG_PAYLOAD;
	if (ns->frag_at + NOISE_FRAG_PAYLOAD > NOISE_FRAG_DATAGRAM) {
		ns->frag_at = 0;
		ns->frag_id = (uint16_t)((ns->frag_id + 1) % NOISE_FRAG_IDS);
	}
	if (arp_resolve_and_send(net, dev, next_hop, nb))
		counter_inc(&ns->st_frag_fail);
	else
		counter_inc(&ns->st_frag_sent);
}

static void flood_tick(struct timer *t)
{
	struct noise_source *ns = container_of(t, struct noise_source, tick);
	struct sock_addr to = { ns->cfg.dst_ip, ns->cfg.udp_port };

	ns->frag_credit += (double)ns->cfg.frag_pps * NOISE_TICK_NS / 1e9;
	while (ns->frag_credit >= 1) {
		ns->frag_credit -= 1;
		frag_send(ns);
	}
	ns->credit += (double)ns->cfg.udp_pps * NOISE_TICK_NS / 1e9;
	while (ns->credit >= 1) {
		ns->credit -= 1;
		if (sock_sendto(ns->udp, noise_bytes, ns->cfg.udp_size, &to) <
		    0)
			counter_inc(&ns->st_udp_fail);
		else
			counter_inc(&ns->st_udp_sent);
	}
	timer_arm_in(ns->net->host->loop, &ns->tick, NOISE_TICK_NS);
}

struct noise_source *noise_source_start(struct net *net,
					const struct noise_config *cfg)
{
	struct stats *s = &net->host->stats;
	struct noise_source *ns;

	if (cfg->tcp_conns > NOISE_MAX_CONNS)
		return NULL;
	ns = mm_kmalloc(net->mm, sizeof(*ns), MM_NORMAL | MM_ZERO, NULL);
	if (!ns)
		return NULL;
	ns->net = net;
	ns->cfg = *cfg;
	if (!ns->cfg.udp_port)
		ns->cfg.udp_port = NOISE_UDP_PORT;
	if (!ns->cfg.tcp_port)
		ns->cfg.tcp_port = NOISE_TCP_PORT;
	if (!ns->cfg.udp_size || ns->cfg.udp_size > sizeof(noise_bytes))
		ns->cfg.udp_size = 1400;
	stats_add_counter(s, &ns->st_udp_sent, "noise.udp_sent");
	stats_add_counter(s, &ns->st_udp_fail, "noise.udp_send_failed");
	stats_add_counter(s, &ns->st_tcp_bytes, "noise.tcp_bytes_queued");
	stats_add_counter(s, &ns->st_tcp_connects, "noise.tcp_connects");
	stats_add_counter(s, &ns->st_frag_sent, "noise.frag_sent");
	stats_add_counter(s, &ns->st_frag_fail, "noise.frag_send_failed");
	timer_init(&ns->tick, flood_tick);
	if (ns->cfg.udp_pps) {
		ns->udp = udp_socket(net, NULL, ns);
		if (!ns->udp) {
			noise_source_stop(ns);
			return NULL;
		}
	}
	if (ns->cfg.udp_pps || ns->cfg.frag_pps)
		timer_arm_in(net->host->loop, &ns->tick, NOISE_TICK_NS);
	for (unsigned i = 0; i < ns->cfg.tcp_conns; i++) {
		ns->conns[i].ns = ns;
		timer_init(&ns->conns[i].retry, conn_retry);
		conn_start(&ns->conns[i]);
	}
	return ns;
}

void noise_source_stop(struct noise_source *ns)
{
	struct loop *l = ns->net->host->loop;

	timer_cancel(l, &ns->tick);
	for (unsigned i = 0; i < ns->cfg.tcp_conns; i++) {
		timer_cancel(l, &ns->conns[i].retry);
		if (ns->conns[i].tp)
			tcp_abort(ns->conns[i].tp);
	}
	if (ns->udp)
		sock_close(ns->udp);
	stats_remove(&ns->net->host->stats, &ns->st_udp_sent);
	stats_remove(&ns->net->host->stats, &ns->st_udp_fail);
	stats_remove(&ns->net->host->stats, &ns->st_tcp_bytes);
	stats_remove(&ns->net->host->stats, &ns->st_tcp_connects);
	stats_remove(&ns->net->host->stats, &ns->st_frag_sent);
	stats_remove(&ns->net->host->stats, &ns->st_frag_fail);
	mm_kfree(ns->net->mm, ns);
}

/* ---- sink --------------------------------------------------------------- */

static void sink_conn_error(struct sock *sk, int err)
{
	struct noise_sink *nk = sk->user;

	for (unsigned i = 0; i < nk->max_conns; i++)
		if (nk->conns[i] == tcp_sk(sk)) {
			nk->conns[i] = NULL;
			tcp_abort(tcp_sk(sk));
			return;
		}
}

/* Never reads: what arrives stays queued until the window closes. */
static const struct sock_ops sink_conn_ops = { .error = sink_conn_error };

static void sink_accept(struct sock *sk)
{
	struct noise_sink *nk = sk->user;
	struct tcp_sock *tp;

	/*
	 * Called from inside the stack's processing of the connection that
	 * just completed: aborting it here would free it under the caller
	 * (the simulator found this: a flood's extra connections).  A
	 * connection beyond max_conns is aborted from a timer instead, and
	 * while the reject list is full the rest wait in the accept queue.
	 */
	while (nk->nr_reject < NOISE_MAX_CONNS &&
	       (tp = tcp_accept(nk->listener))) {
		unsigned i;

		for (i = 0; i < nk->max_conns && nk->conns[i]; i++)
			;
		if (i == nk->max_conns) {
			tp->sk.ops = NULL;
			nk->reject[nk->nr_reject++] = tp;
			timer_arm_in(nk->net->host->loop, &nk->reap, 0);
			continue;
		}
		tp->sk.ops = &sink_conn_ops;
		tp->sk.user = nk;
		nk->conns[i] = tp;
		counter_inc(&nk->st_accepted);
	}
}

static const struct sock_ops sink_listen_ops = { .readable = sink_accept };

static void sink_reap(struct timer *t)
{
	struct noise_sink *nk = container_of(t, struct noise_sink, reap);

	while (nk->nr_reject)
		tcp_abort(nk->reject[--nk->nr_reject]);
	sink_accept(&nk->listener->sk); /* any left waiting in the queue */
}

struct noise_sink *noise_sink_start(struct net *net, uint16_t udp_port,
				    uint16_t tcp_port, unsigned max_conns,
				    uint32_t conn_rcvbuf)
{
	struct noise_sink *nk;

	nk = mm_kmalloc(net->mm, sizeof(*nk), MM_NORMAL | MM_ZERO, NULL);
	if (!nk)
		return NULL;
	nk->net = net;
	timer_init(&nk->reap, sink_reap);
	nk->max_conns = lb_min(max_conns ? max_conns : NOISE_MAX_CONNS,
			       (unsigned)NOISE_MAX_CONNS);
	stats_add_counter(&net->host->stats, &nk->st_accepted,
			  "noise.sink_accepted");
	nk->udp = udp_socket(net, NULL, nk);
	nk->listener = tcp_socket(net, &sink_listen_ops, nk);
	if (nk->listener && conn_rcvbuf)
		nk->listener->rcvbuf = conn_rcvbuf; /* children inherit it */
	if (!nk->udp || !nk->listener ||
	    sock_bind(nk->udp, 0, udp_port ? udp_port : NOISE_UDP_PORT) ||
	    tcp_bind(nk->listener, 0, tcp_port ? tcp_port : NOISE_TCP_PORT) ||
	    tcp_listen(nk->listener, nk->max_conns)) {
		noise_sink_stop(nk);
		return NULL;
	}
	return nk;
}

void noise_sink_stop(struct noise_sink *nk)
{
	timer_cancel(nk->net->host->loop, &nk->reap);
	while (nk->nr_reject)
		tcp_abort(nk->reject[--nk->nr_reject]);
	for (unsigned i = 0; i < nk->max_conns; i++)
		if (nk->conns[i])
			tcp_abort(nk->conns[i]);
	if (nk->listener)
		tcp_close(nk->listener);
	if (nk->udp)
		sock_close(nk->udp);
	stats_remove(&nk->net->host->stats, &nk->st_accepted);
	mm_kfree(nk->net->mm, nk);
}
