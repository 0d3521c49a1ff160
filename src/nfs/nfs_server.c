// SPDX-License-Identifier: MIT
/*
 * nfs_server.c - connections of the NFS server: record marking in and
 * out, one call at a time, and the listeners.
 *
 * Connections are torn down from a task, never inside a socket callback:
 * TCP may still be using the socket when the callback returns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "net/tcp.h"
#include "nfs.h"
#include "rpc/rpc_proto.h"

#define NFS_SRV_DEFAULT_CLIENTS 8
#define NFS_SRV_STAGE 4096

static const char *const nfs_srv_stat_names[] = {
#define NFS_SRV_STAT_NAME(name) #name,
	NFS_SRV_STATS(NFS_SRV_STAT_NAME)
#undef NFS_SRV_STAT_NAME
};

struct nfs_server {
	struct net *net;
	struct host *host;
	struct mm *mm;
	struct tcp_sock *listener[2];
	unsigned max_clients, nr_conns;
	/*
	 * max_clients connection states, from the libc heap when the server
	 * is created (each holds two records), so accepting takes none
	 */
	struct nfs_sconn *pool;
	struct list_head conns, reap, free_conns;
	struct task reap_task, accept_task;
	/* calls are held until this host time: the simulator's server stall */
	uint64_t stall_until;
	struct timer stall_timer;
	struct counter connections, refused, oversized, disconnects, stalls;
	struct nfs_srv core;
};

struct nfs_sconn {
	struct list_head node;
	struct nfs_server *srv;
	struct tcp_sock *tp;
	bool dead, abort;
	struct rpc_rec_rx rx;
	uint32_t rec_len; /* bytes of the record in rec[] */
	uint32_t stage_pos, stage_len; /* unparsed bytes in stage[] */
	uint32_t out_len, out_sent;
	uint8_t stage[NFS_SRV_STAGE];
	uint8_t rec[NFS_SRV_MAX_RECORD];
	uint8_t out[RPC_REC_MARK_LEN + NFS_SRV_MAX_RECORD];
};

_Static_assert(sizeof(struct nfs_server) <= 2048,
	       "the server state comes from kmalloc");

static void srv_kill(struct nfs_sconn *c, bool abort)
{
	struct nfs_server *srv = c->srv;

	if (c->dead)
		return;
	c->dead = true;
	c->abort = abort;
	c->tp->sk.ops = NULL;
	list_del(&c->node);
	list_add_tail(&c->node, &srv->reap);
	task_queue(srv->host->loop, &srv->reap_task);
}

static void srv_free(struct nfs_sconn *c)
{
	struct nfs_server *srv = c->srv;

	list_del(&c->node);
	c->tp->sk.ops = NULL;
	c->tp->sk.user = NULL;
	if (c->abort)
		tcp_abort(c->tp);
	else
		tcp_close(c->tp);
	list_add_tail(&c->node, &srv->free_conns);
	srv->nr_conns--;
	counter_inc(&srv->disconnects);
}

static void srv_reap(struct task *t)
{
	struct nfs_server *srv = container_of(t, struct nfs_server, reap_task);

	while (!list_empty(&srv->reap))
		srv_free(list_first_entry(&srv->reap, struct nfs_sconn, node));
}

/* true when the whole reply is with TCP */
static bool srv_flush(struct nfs_sconn *c)
{
	while (c->out_sent < c->out_len) {
		ssize_t n = tcp_send(c->tp, c->out + c->out_sent,
				     c->out_len - c->out_sent);

		if (n == -EAGAIN || n == -ENOMEM)
			return false;
		if (n < 0) {
			srv_kill(c, true);
			return false;
		}
		c->out_sent += (uint32_t)n;
	}
	c->out_len = c->out_sent = 0;
	return true;
}

static void srv_record(struct nfs_sconn *c)
{
	struct nfs_server *srv = c->srv;
	uint32_t n;

	srv->core.now_sec = (uint32_t)(host_now(srv->host) / NSEC_PER_SEC);
	srv->core.peer_port = c->tp->sk.remote.port;
	n = nfs_srv_dispatch(&srv->core, c->rec, c->rec_len,
			     c->out + RPC_REC_MARK_LEN, NFS_SRV_MAX_RECORD);
	c->rec_len = 0;
	if (srv->core.refused) {
		lb_info(&srv->host->log,
			"nfs-server: refused program %u version %u procedure %u: %s",
			srv->core.refused_prog, srv->core.refused_vers,
			srv->core.refused_proc, srv->core.refused);
		srv->core.refused = NULL;
	}
	if (!n) {
		lb_info(&srv->host->log,
			"nfs-server: dropped a record that is not an RPC call (%u so far)",
			(unsigned)srv->core.st.dropped.v);
		return;
	}
	rpc_rec_mark(c->out, n, true);
	c->out_len = n + RPC_REC_MARK_LEN;
	c->out_sent = 0;
}

/*
 * While stalled, no byte is taken from TCP, so no call completes (one
 * that completed before the stall was answered then): the receive window
 * fills and TCP keeps acking, as a server whose disk hangs does.
 */
static bool srv_stalled(struct nfs_server *srv)
{
	if (host_now(srv->host) >= srv->stall_until)
		return false;
	if (!timer_armed(&srv->stall_timer))
		timer_arm(srv->host->loop, &srv->stall_timer, srv->stall_until);
	return true;
}

static void srv_run(struct nfs_sconn *c)
{
	while (!c->dead && srv_flush(c)) {
		struct rpc_rec_span sp;
		int used;

		if (srv_stalled(c->srv))
			return;

		if (c->stage_pos == c->stage_len) {
			ssize_t n = tcp_recv(c->tp, c->stage, sizeof(c->stage));

			if (n == -EAGAIN)
				return;
			if (n <= 0) {
				srv_kill(c, n < 0);
				return;
			}
			c->stage_pos = 0;
			c->stage_len = (uint32_t)n;
		}
		used = rpc_rec_next(&c->rx, c->stage + c->stage_pos,
				    c->stage_len - c->stage_pos, &sp);
		if (used < 0) {
			counter_inc(&c->srv->oversized);
			lb_warn(&c->srv->host->log,
				"nfs-server: a record over %u bytes: disconnecting the client",
				NFS_SRV_MAX_RECORD);
			srv_kill(c, true);
			return;
		}
		c->stage_pos += (uint32_t)used;
		if (sp.rec_start)
			c->rec_len = 0;
		LB_ASSERT(sp.off == c->rec_len &&
			  c->rec_len + sp.len <= NFS_SRV_MAX_RECORD);
		if (sp.len)
			memcpy(c->rec + c->rec_len, sp.data, sp.len);
		c->rec_len += sp.len;
		if (sp.rec_end)
			srv_record(c);
	}
}

static void srv_readable(struct sock *sk)
{
	struct nfs_sconn *c = sk->user;

	if (c && !c->dead)
		srv_run(c);
}

static void srv_error(struct sock *sk, int err)
{
	struct nfs_sconn *c = sk->user;

	if (c)
		srv_kill(c, false);
}

static const struct sock_ops srv_conn_ops = {
	.readable = srv_readable,
	.writable = srv_readable,
	.error = srv_error,
};

static void srv_accept_one(struct nfs_server *srv, struct tcp_sock *tp)
{
	struct nfs_sconn *c = NULL;

	if (!list_empty(&srv->free_conns)) {
		c = list_first_entry(&srv->free_conns, struct nfs_sconn, node);
		list_del(&c->node);
		memset(c, 0, sizeof(*c));
	}
	if (!c) {
		counter_inc(&srv->refused);
		lb_warn(&srv->host->log,
			"nfs-server: refusing a client (%u connected, limit %u, or no memory)",
			srv->nr_conns, srv->max_clients);
		tp->sk.ops = NULL;
		tcp_abort(tp);
		return;
	}
	c->srv = srv;
	c->tp = tp;
	rpc_rec_init(&c->rx, NFS_SRV_MAX_RECORD);
	list_add_tail(&c->node, &srv->conns);
	srv->nr_conns++;
	counter_inc(&srv->connections);
	tp->sk.ops = &srv_conn_ops;
	tp->sk.user = c;
	tcp_set_nodelay(tp, true);
	srv_run(c);
}

static void srv_accept(struct task *t)
{
	struct nfs_server *srv =
		container_of(t, struct nfs_server, accept_task);
	struct tcp_sock *tp;

	for (unsigned i = 0; i < 2; i++)
		while (srv->listener[i] && (tp = tcp_accept(srv->listener[i])))
			srv_accept_one(srv, tp);
}

static void srv_listen_readable(struct sock *sk)
{
	struct nfs_server *srv = sk->user;

	task_queue(srv->host->loop, &srv->accept_task);
}

static const struct sock_ops srv_listen_ops = { .readable =
							srv_listen_readable };

static void srv_unstall(struct timer *t)
{
	struct nfs_server *srv =
		container_of(t, struct nfs_server, stall_timer);
	struct nfs_sconn *c, *tmp;

	list_for_each_entry_safe(c, tmp, &srv->conns, node)
		srv_run(c);
}

void nfs_server_set_stall(struct nfs_server *srv, uint64_t until_ns)
{
	uint64_t now = host_now(srv->host);

	srv->stall_until = until_ns;
	timer_cancel(srv->host->loop, &srv->stall_timer);
	if (until_ns > now)
		counter_inc(&srv->stalls);
	/* ending a stall early also resumes the calls it held */
	timer_arm(srv->host->loop, &srv->stall_timer,
		  until_ns > now ? until_ns : now);
}

static void srv_stats(struct nfs_server *srv, bool add)
{
	struct stats *s = &srv->host->stats;
	struct counter *v = (struct counter *)&srv->core.st;
	struct {
		struct counter *c;
		const char *name;
	} conn[] = { { &srv->connections, "connections" },
		     { &srv->refused, "refused" },
		     { &srv->oversized, "oversized_records" },
		     { &srv->disconnects, "disconnects" },
		     { &srv->stalls, "stalls" } };

	for (size_t i = 0; i < ARRAY_SIZE(nfs_srv_stat_names); i++) {
		if (add)
			stats_add_counter(s, &v[i], "nfs.server.%u.%s",
					  srv->core.port,
					  nfs_srv_stat_names[i]);
		else
			stats_remove(s, &v[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(conn); i++) {
		if (add)
			stats_add_counter(s, conn[i].c, "nfs.server.%u.%s",
					  srv->core.port, conn[i].name);
		else
			stats_remove(s, conn[i].c);
	}
}

static struct tcp_sock *srv_listen(struct nfs_server *srv, uint32_t ip,
				   uint16_t port)
{
	struct tcp_sock *l = tcp_socket(srv->net, &srv_listen_ops, srv);
	int err;

	if (!l)
		return NULL;
	err = tcp_bind(l, htonl(ip), port);
	if (!err)
		err = tcp_listen(l, srv->max_clients);
	if (err) {
		lb_err(&srv->host->log, "nfs-server: cannot listen on %u: %s",
		       port, strerror(-err));
		tcp_close(l);
		return NULL;
	}
	return l;
}

struct nfs_server *nfs_server_create(struct net *net,
				     const struct nfs_server_config *cfg)
{
	struct nfs_server *srv;
	uint64_t v;

	if (!cfg->exp)
		return NULL;
	srv = mm_kmalloc(net->mm, sizeof(*srv), MM_NORMAL | MM_ZERO, NULL);
	if (!srv)
		return NULL;
	srv->net = net;
	srv->host = net->host;
	srv->mm = net->mm;
	srv->core.exp = cfg->exp;
	srv->core.read_only = cfg->read_only;
	srv->core.secure = cfg->secure;
	srv->core.port = cfg->port ? cfg->port : NFS_PORT;
	/* a new verifier per boot: what tells clients to resend */
	v = prng_next(&net->host->prng);
	for (unsigned i = 0; i < NFS3_VERFSIZE; i++)
		srv->core.verf[i] = (uint8_t)(v >> (8 * i));
	srv->max_clients = cfg->max_clients ? cfg->max_clients :
					      NFS_SRV_DEFAULT_CLIENTS;
	list_init(&srv->conns);
	list_init(&srv->reap);
	list_init(&srv->free_conns);
	srv->pool = calloc(srv->max_clients, sizeof(*srv->pool));
	if (!srv->pool) {
		mm_kfree(net->mm, srv);
		return NULL;
	}
	for (unsigned i = 0; i < srv->max_clients; i++)
		list_add_tail(&srv->pool[i].node, &srv->free_conns);
	task_init(&srv->reap_task, srv_reap);
	task_init(&srv->accept_task, srv_accept);
	timer_init(&srv->stall_timer, srv_unstall);
	srv->listener[0] = srv_listen(srv, cfg->ip, srv->core.port);
	if (srv->listener[0] && cfg->pmap_port) {
		srv->listener[1] = srv_listen(srv, cfg->ip, cfg->pmap_port);
		if (!srv->listener[1]) {
			tcp_close(srv->listener[0]);
			srv->listener[0] = NULL;
		}
	}
	if (!srv->listener[0]) {
		free(srv->pool);
		mm_kfree(net->mm, srv);
		return NULL;
	}
	srv_stats(srv, true);
	lb_info(&net->host->log,
		"nfs-server: exporting %s (%u files of up to %llu bytes%s%s) on port %u",
		cfg->exp->path, cfg->exp->max_files,
		(unsigned long long)cfg->exp->file_max,
		cfg->read_only ? ", read-only" : "",
		cfg->secure ? ", privileged source ports only" : "",
		srv->core.port);
	return srv;
}

void nfs_server_destroy(struct nfs_server *srv)
{
	struct loop *l = srv->host->loop;

	task_cancel(l, &srv->reap_task);
	task_cancel(l, &srv->accept_task);
	timer_cancel(l, &srv->stall_timer);
	for (unsigned i = 0; i < 2; i++)
		if (srv->listener[i])
			tcp_close(srv->listener[i]);
	while (!list_empty(&srv->conns)) {
		struct nfs_sconn *c =
			list_first_entry(&srv->conns, struct nfs_sconn, node);

		c->abort = true;
		srv_free(c);
	}
	while (!list_empty(&srv->reap))
		srv_free(list_first_entry(&srv->reap, struct nfs_sconn, node));
	srv_stats(srv, false);
	LB_ASSERT(srv->nr_conns == 0);
	free(srv->pool);
	mm_kfree(srv->mm, srv);
}

const uint8_t *nfs_server_verifier(const struct nfs_server *srv)
{
	return srv->core.verf;
}
