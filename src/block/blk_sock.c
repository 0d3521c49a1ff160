// SPDX-License-Identifier: MIT
/*
 * blk_sock.c - a block transport's memory-critical connection; see
 * blk_sock.h.
 */
#include <errno.h>
#include "blk_sock.h"
#include "core/log.h"

void blk_sock_drop(struct blkdev *bd, struct tcp_sock *tp, bool graceful,
		   bool keep, size_t *moved)
{
	struct mm *mm = bd->mm;
	size_t pages = 0;

	if (sock_memalloc(&tp->sk))
		pages = tp->sk.tx_rsv.own + tp->sk.rxq_rsv.own;
	tp->sk.ops = NULL;
	tp->sk.user = NULL;
	/* a lingering socket keeps its reserves: only one in normal memory */
	if (graceful && !mm_addr_pfmemalloc(mm, tp)) {
		tcp_close(tp);
		return;
	}
	tcp_abort(tp);
	if (!pages || !bd->attached || !keep)
		return;
	if (mm_reserve_resize(&bd->rsv, bd->rsv.own + pages)) {
		lb_warn(&bd->host->log,
			"%s: could not keep %zu socket reserve pages in %s: a reconnect will need free memory",
			bd->name, pages, bd->rsv.name);
		return;
	}
	*moved += pages;
}

int blk_sock_open(struct blkdev *bd, struct net *net,
		  const struct sock_ops *ops, void *user,
		  const struct sock_addr *peer, uint32_t sndbuf,
		  uint32_t rcvbuf, size_t *moved, struct tcp_sock **out)
{
	struct mm_memalloc_ctx ctx = { 0 };
	struct tcp_sock *tp;
	size_t given = 0;
	int err;

	if (bd->attached)
		ctx = mm_memalloc_save(bd->mm, &bd->rsv);
	tp = tcp_socket(net, ops, user);
	if (bd->attached)
		mm_memalloc_restore(bd->mm, ctx);
	if (!tp)
		return -ENOMEM;
	/* before the SYN: the window it offers follows rcvbuf */
	if (sndbuf)
		tp->sndbuf = sndbuf;
	if (rcvbuf)
		tp->rcvbuf = rcvbuf;
	if (*moved) {
		err = mm_reserve_resize(&bd->rsv, bd->rsv.own - *moved);
		if (err) {
			tcp_close(tp);
			return err;
		}
		given = *moved;
		*moved = 0;
	}
	err = tcp_set_memalloc(tp);
	if (err) {
		lb_err(&bd->host->log,
		       "%s: the connection's reserves (net.tx and net.rxq, %zu pages) do not fit",
		       bd->name,
		       tcp_reserve_tx_pages(tp->sndbuf, tp->mss) +
			       tcp_reserve_rx_pages(tp->rcvbuf, tp->mss));
		tcp_close(tp);
		if (given && !mm_reserve_resize(&bd->rsv, bd->rsv.own + given))
			*moved = given;
		return err;
	}
	tcp_set_nodelay(tp, true);
	err = tcp_connect(tp, peer);
	if (err) {
		blk_sock_drop(bd, tp, false, true, moved);
		return err;
	}
	*out = tp;
	return 0;
}
