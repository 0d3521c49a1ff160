// SPDX-License-Identifier: MIT
/*
 * rpc_calls.c - slot bookkeeping for outstanding RPC calls.
 */
#include <errno.h>
#include <string.h>
#include "core/assert.h"
#include "rpc_calls.h"

void rpc_calls_init(struct rpc_calls *c, struct rpc_slot *slots, unsigned nr,
		    uint32_t first_xid, uint64_t timeo, uint64_t max_timeo,
		    unsigned max_tries)
{
	LB_ASSERT(nr > 0 && timeo > 0 && max_timeo >= timeo);
	memset(slots, 0, nr * sizeof(*slots));
	c->slot = slots;
	c->nr = nr;
	c->busy = 0;
	c->next_xid = first_xid;
	c->timeo = timeo;
	c->max_timeo = max_timeo;
	c->max_tries = max_tries;
}

int rpc_call_find(const struct rpc_calls *c, uint32_t xid)
{
	for (unsigned i = 0; i < c->nr; i++)
		if (c->slot[i].busy && c->slot[i].xid == xid)
			return (int)i;
	return -ENOENT;
}

int rpc_call_start(struct rpc_calls *c)
{
	for (unsigned idx = 0; idx < c->nr; idx++)
		if (!c->slot[idx].busy)
			return rpc_call_start_slot(c, idx);
	return -EBUSY;
}

int rpc_call_start_slot(struct rpc_calls *c, unsigned idx)
{
	struct rpc_slot *s = &c->slot[idx];

	LB_ASSERT(idx < c->nr);
	if (s->busy)
		return -EBUSY;
	/* fewer busy slots than XIDs: this ends */
	while (rpc_call_find(c, c->next_xid) >= 0)
		c->next_xid++;
	memset(s, 0, sizeof(*s));
	s->xid = c->next_xid++;
	s->busy = true;
	s->resend = true;
	s->timeo = c->timeo;
	c->busy++;
	return (int)idx;
}

void rpc_call_sent(struct rpc_calls *c, unsigned idx, uint64_t now)
{
	struct rpc_slot *s = &c->slot[idx];

	LB_ASSERT(idx < c->nr && s->busy);
	s->resend = false;
	s->tries++;
	s->deadline = now + s->timeo;
}

void rpc_call_done(struct rpc_calls *c, unsigned idx)
{
	LB_ASSERT(idx < c->nr && c->slot[idx].busy && c->busy > 0);
	c->slot[idx].busy = false;
	c->slot[idx].resend = false;
	c->busy--;
}

int rpc_calls_expire(struct rpc_calls *c, uint64_t now, unsigned *idx)
{
	for (unsigned i = 0; i < c->nr; i++) {
		struct rpc_slot *s = &c->slot[i];

		if (!s->busy || s->resend || s->deadline > now)
			continue;
		*idx = i;
		if (c->max_tries && s->tries >= c->max_tries)
			return -ETIMEDOUT;
		s->timeo = s->timeo * 2 > c->max_timeo ? c->max_timeo :
							 s->timeo * 2;
		s->resend = true;
		return 0;
	}
	return -ENOENT;
}

void rpc_calls_reconnected(struct rpc_calls *c)
{
	for (unsigned i = 0; i < c->nr; i++)
		if (c->slot[i].busy)
			c->slot[i].resend = true;
}

int rpc_calls_next_resend(const struct rpc_calls *c)
{
	for (unsigned i = 0; i < c->nr; i++)
		if (c->slot[i].busy && c->slot[i].resend)
			return (int)i;
	return -ENOENT;
}

uint64_t rpc_calls_next_deadline(const struct rpc_calls *c)
{
	uint64_t d = UINT64_MAX;

	for (unsigned i = 0; i < c->nr; i++)
		if (c->slot[i].busy && !c->slot[i].resend &&
		    c->slot[i].deadline < d)
			d = c->slot[i].deadline;
	return d;
}
