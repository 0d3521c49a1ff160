/* SPDX-License-Identifier: MIT */
/*
 * rpc_calls.h - the outstanding calls of one RPC client: XIDs, reply
 * matching in any order, and retransmission with the same XID.
 *
 * A client owns a fixed array of slots, one per call it may have in
 * flight.  Starting a call takes a free slot and gives it an XID no busy
 * slot holds; a reply is matched by XID alone, whatever order replies come
 * back in, and an XID that matches no busy slot is the caller's counted
 * drop (a late duplicate, or a hostile server).  A call that times out is
 * sent again with the same XID, so a server's duplicate request cache can
 * answer a non-idempotent call (CREATE, REMOVE) without running it twice;
 * its timeout doubles up to a cap.  After a reconnect every busy call is
 * marked to be sent again, XIDs unchanged.  Soft calls give up after
 * max_tries sends; hard calls (max_tries 0, as swap needs) never do.
 *
 * Memory rules: the slots are the caller's (a mempool or the device's
 * struct); nothing here allocates.  Time is the caller's clock in ns.
 */
#ifndef LB_RPC_RPC_CALLS_H
#define LB_RPC_RPC_CALLS_H

#include <stdbool.h>
#include <stdint.h>

struct rpc_slot {
	uint32_t xid;
	bool busy;
	bool resend; /* to be sent (again) at the next chance */
	unsigned tries; /* sends so far */
	uint64_t timeo; /* the current timeout */
	uint64_t deadline; /* of the last send */
};

struct rpc_calls {
	struct rpc_slot *slot;
	unsigned nr, busy;
	uint32_t next_xid;
	uint64_t timeo, max_timeo;
	unsigned max_tries; /* 0: retry forever */
};

void rpc_calls_init(struct rpc_calls *c, struct rpc_slot *slots, unsigned nr,
		    uint32_t first_xid, uint64_t timeo, uint64_t max_timeo,
		    unsigned max_tries);

/*
 * Take a slot for a new call and give it an XID; the caller sends it and
 * calls rpc_call_sent().  The slot index, or -EBUSY when all are taken.
 */
int rpc_call_start(struct rpc_calls *c);
/*
 * The same in the slot @idx the caller manages itself (a request's tag):
 * @idx, or -EBUSY when that slot is taken.
 */
int rpc_call_start_slot(struct rpc_calls *c, unsigned idx);
/* The call in @idx went out at @now (first time or again). */
void rpc_call_sent(struct rpc_calls *c, unsigned idx, uint64_t now);
/* The busy slot holding @xid, or -ENOENT. */
int rpc_call_find(const struct rpc_calls *c, uint32_t xid);
/* The call is answered (or failed): free its slot. */
void rpc_call_done(struct rpc_calls *c, unsigned idx);

/*
 * Walk the calls whose timeout passed at @now: returns a slot to send
 * again (marked resend, timeout doubled) or -ETIMEDOUT for one out of
 * tries (the caller fails it and calls rpc_call_done), with the slot in
 * *@idx; -ENOENT when there is none left.
 */
int rpc_calls_expire(struct rpc_calls *c, uint64_t now, unsigned *idx);
/* After a reconnect: every busy call is to be sent again. */
void rpc_calls_reconnected(struct rpc_calls *c);
/* A busy slot marked resend, or -ENOENT. */
int rpc_calls_next_resend(const struct rpc_calls *c);
/* The earliest deadline of a call sent and not answered, or UINT64_MAX. */
uint64_t rpc_calls_next_deadline(const struct rpc_calls *c);

#endif
