// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the iSCSI target's parsers (login, text, SCSI
 * commands and their CDBs, Data-Out, NOP-Out, TMF, logout) fed an
 * initiator's side of the stream from the input.
 *
 * Each input builds a fresh world: an initiator host and a target host
 * (our iSCSI target on a 1 MiB RAM store, LUN 0) on a simulated switch.
 * The initiator side is a plain TCP socket that, once connected, sends
 * the input's chunks at the input's times and discards what the target
 * sends; after the last chunk it closes.
 *
 * Input: byte 0 control (bit 0: the target requires CHAP), then chunks: u8 delay in ms after the previous
 * chunk, u16 big-endian length (at most 16 KiB), that many bytes.
 *
 * After each input: mm_check on both hosts, every reserve within its
 * size; once the target is destroyed and the stacks torn down, every page
 * back (mm_destroy checks).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "block/iscsi.h"
#include "block/iscsi_proto.h"
#include "dev/sim.h"
#include "net/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_PAGES 1024
#define FZ_MAX_CHUNK (16 * 1024)

struct fz_host {
	struct host *host;
	struct mm *mm;
	struct net *net;
	struct net_device dev;
};

static struct fz {
	struct loop loop;
	struct sim_link link;
	struct fz_host h[2];
	struct tcp_sock *tp;
	const uint8_t *in, *end;
	struct timer chunk_timer;
	struct blk_store store;
	struct iscsi_target *tgt;
	FILE *devnull;
} * fz;

static void fz_check(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_iscsi_target: %s\n", what);
		abort();
	}
}

static void fz_add_host(unsigned i)
{
	struct fz_host *h = &fz->h[i];
	struct host_config hc = { .name = i ? "tgt" : "ini",
				  .seed = 200 + i,
				  .log_level = LOG_ERR };
	struct mm_config mc = { .nr_pages = FZ_PAGES };

	h->host = host_create(&fz->loop, &hc);
	fz_check(h->host, "host");
	h->host->log.out = fz->devnull;
	h->mm = mm_create(h->host, &mc);
	fz_check(h->mm, "mm");
	h->net = net_create(h->host, NULL);
	fz_check(h->net, "net");
	fz_check(!dev_sim_init(&h->dev, &fz->link), "sim port");
	fz_check(!netdev_register(h->net, &h->dev), "netdev");
	h->dev.ip = htonl(0xc0000201u + i);
	h->dev.netmask = htonl(0xffffff00u);
}

/* ---- the initiator side: the input's bytes -------------------------------- */

static void ini_next_chunk(struct timer *t)
{
	uint16_t len;

	if (!fz->tp)
		return;
	if (fz->end - fz->in < 3) {
		struct tcp_sock *tp = fz->tp;

		fz->tp = NULL;
		tp->sk.ops = NULL;
		tcp_close(tp);
		return;
	}
	len = (uint16_t)(fz->in[1] << 8 | fz->in[2]);
	fz->in += 3;
	len = (uint16_t)lb_min((size_t)lb_min(len, (uint16_t)FZ_MAX_CHUNK),
			       (size_t)(fz->end - fz->in));
	if (len)
		tcp_send(fz->tp, fz->in, len);
	fz->in += len;
	timer_arm_in(&fz->loop, &fz->chunk_timer,
		     fz->end - fz->in >= 1 ? fz->in[0] * NSEC_PER_MSEC :
					     NSEC_PER_MSEC);
}

static void ini_readable(struct sock *sk)
{
	uint8_t sink[4096];

	while (tcp_recv(tcp_sk(sk), sink, sizeof(sink)) > 0)
		;
}

static void ini_error(struct sock *sk, int err)
{
	if (fz->tp == tcp_sk(sk))
		fz->tp = NULL;
	sk->ops = NULL;
	tcp_close(tcp_sk(sk));
}

static const struct sock_ops ini_ops = { .readable = ini_readable,
					 .error = ini_error };

static void check_reserves(const struct mm_reserve *r)
{
	const struct mm_reserve *c;

	fz_check(r->used.v <= r->size.v && r->hwm.v <= r->size.v,
		 "a reserve over its size");
	list_for_each_entry(c, &r->children, sibling)
		check_reserves(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_target_config tc = { .lun = 0 };
	struct sock_addr peer;

	if (!size)
		return 0;
	fz = calloc(1, sizeof(*fz));
	fz_check(fz, "calloc");
	fz->devnull = fopen("/dev/null", "w");
	fz_check(fz->devnull, "/dev/null");
	fz_check(!loop_init(&fz->loop, LOOP_VIRTUAL), "loop");
	sim_link_init(&fz->link, &fz->loop, 1, NULL);
	fz_add_host(0);
	fz_add_host(1);
	fz->in = data + 1;
	fz->end = data + size;
	timer_init(&fz->chunk_timer, ini_next_chunk);
	fz_check(!store_open_ram(&fz->store, 1u << 20), "store");
	tc.store = &fz->store;
	if (data[0] & 1) { /* control bit 0: logins need CHAP */
		tc.chap_user = "fuzz";
		tc.chap_secret = "fuzz-secret";
	}
	fz->tgt = iscsi_target_create(fz->h[1].net, &tc);
	fz_check(fz->tgt, "target");

	fz->tp = tcp_socket(fz->h[0].net, &ini_ops, NULL);
	fz_check(fz->tp, "socket");
	peer.ip = fz->h[1].dev.ip;
	peer.port = ISCSI_DEFAULT_PORT;
	fz_check(!tcp_connect(fz->tp, &peer), "connect");
	tcp_set_nodelay(fz->tp, true);
	/* the handshake takes well under 10 ms on the sim link */
	timer_arm_in(&fz->loop, &fz->chunk_timer,
		     10 * NSEC_PER_MSEC + (fz->in < fz->end ?
						   fz->in[0] * NSEC_PER_MSEC :
						   0));

	loop_run_until(&fz->loop, loop_now(&fz->loop) + 3 * NSEC_PER_SEC);
	for (unsigned i = 0; i < 2; i++) {
		mm_check(fz->h[i].mm);
		check_reserves(mm_reserve_root(fz->h[i].mm));
	}
	if (getenv("FUZZ_ISCSI_VERBOSE"))
		stats_print_table(&fz->h[1].host->stats, stderr, "iscsi.");
	timer_cancel(&fz->loop, &fz->chunk_timer);
	if (fz->tp) {
		fz->tp->sk.ops = NULL;
		tcp_abort(fz->tp);
	}
	iscsi_target_destroy(fz->tgt);
	loop_run_until(&fz->loop, loop_now(&fz->loop) + 2 * TCP_TIME_WAIT_NS);
	for (unsigned i = 0; i < 2; i++) {
		net_destroy(fz->h[i].net);
		mm_check(fz->h[i].mm);
		mm_destroy(fz->h[i].mm);
		host_destroy(fz->h[i].host);
	}
	sim_link_destroy(&fz->link);
	loop_destroy(&fz->loop);
	store_close(&fz->store);
	fclose(fz->devnull);
	free(fz);
	fz = NULL;
	return 0;
}
