// SPDX-License-Identifier: MIT
/*
 * nbd_client_stall.c - saying so when requests wait and no reply comes.
 *
 * A connection can stay up while nothing moves: the replies are lost on
 * the way in (frames dropped before TCP sees them, data TCP cannot
 * accept) and the server's TCP retransmits into the void with growing
 * back-off.  Nothing fails, so nothing would be said.  With stall_ns set,
 * a timer runs while requests are outstanding; when no byte has arrived
 * on the connection for stall_ns, the client counts
 * nbd.<dev>.stalls and warns once, with the connection's own view
 * (tcp_rx_stalled) when it has one; when replies come again it says so.
 * The timer lives in the client's page: nothing is allocated.
 */
#include "nbd_client_impl.h"

static uint64_t nbd_now(const struct nbd_client *c)
{
	return host_now(c->host);
}

static void nbd_stall_check(struct timer *t)
{
	struct nbd_client *c = container_of(t, struct nbd_client, stall_timer);
	uint64_t now = nbd_now(c), idle = now - c->last_progress;
	char why[200] = "";
	unsigned n = 0, sent = 0;
	struct blk_request *rq;

	if (list_empty(&c->rqs))
		return; /* idle: the next request re-arms */
	if (idle < c->stall_ns) {
		timer_arm_in(c->host->loop, &c->stall_timer,
			     c->stall_ns - idle);
		return;
	}
	timer_arm_in(c->host->loop, &c->stall_timer, c->stall_ns);
	/* no connection: the reconnect and dead timers speak for that */
	if (c->stalled ||
	    (c->state != NBD_C_READY && c->state != NBD_C_DRAINING))
		return;
	list_for_each_entry(rq, &c->rqs, node) {
		n++;
		sent += ((struct nbd_rq *)blk_rq_pdu(rq))->state == NBD_RQ_SENT;
	}
	c->stalled = true;
	counter_inc(&c->st.stalls);
	if (c->tp)
		tcp_rx_stalled(c->tp, why, sizeof(why));
	lb_warn(&c->host->log,
		"nbd: %s: stalled: no reply for %.1f s with %u requests outstanding (%u sent)%s%s",
		c->bd.name, (double)idle / 1e9, n, sent,
		why[0] ? "; tcp: " : "",
		why[0] ? why : "; the connection shows nothing wrong");
}

void nbd_stall_init(struct nbd_client *c, uint64_t stall_ns)
{
	c->stall_ns = stall_ns;
	timer_init(&c->stall_timer, nbd_stall_check);
}

void nbd_stall_watch(struct nbd_client *c)
{
	if (!c->stall_ns || timer_armed(&c->stall_timer))
		return;
	c->last_progress = nbd_now(c);
	timer_arm_in(c->host->loop, &c->stall_timer, c->stall_ns);
}

void nbd_stall_progress(struct nbd_client *c)
{
	uint64_t now;

	if (!c->stall_ns)
		return;
	now = nbd_now(c);
	if (c->stalled) {
		lb_info(&c->host->log, "nbd: %s: replies again after %.1f s",
			c->bd.name, (double)(now - c->last_progress) / 1e9);
		c->stalled = false;
	}
	c->last_progress = now;
}

void nbd_stall_stop(struct nbd_client *c)
{
	c->stall_ns = 0;
	timer_cancel(c->host->loop, &c->stall_timer);
}
