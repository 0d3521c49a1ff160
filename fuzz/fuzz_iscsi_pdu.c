// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the iSCSI initiator's parsers (login and every Full
 * Feature Phase PDU) fed a target's side of the stream from the input.
 *
 * Each input builds a fresh world: a client host and a server host on a
 * simulated switch (no faults).  The server side is a plain TCP listener
 * that, once the client connects, sends the input's chunks at the
 * input's times and discards what the client sends; after the last chunk
 * it closes.  Later connections (the client reconnecting) are reset.  The
 * login uses ITT 0xfffeff00 and CmdSN 1 (with control bit 2 the client has
 * CHAP credentials and starts in the security stage), TEST UNIT READY,
 * READ CAPACITY 16 and MODE SENSE ITTs 0xfffe0000, 0xfffe0001 and
 * 0xfffe0003, the VPD pages 0xb2 and 0xb0 (if READ CAPACITY 16 set
 * LBPME) 0xfffe0004 and 0xfffe0005; when the device comes up the client
 * submits a READ of one page, a WRITE of one page, a READ of two half
 * pages and (control bit 0) a FLUSH, whose ITTs are 0x10000, 0x20001,
 * 0x30002 and 0x40003: the corpus can answer them.  The client gives up
 * after 1 s without a session.
 *
 * Input: byte 0 control (bit 1: ask for CRC32C digests, bit 2: CHAP), then chunks: u8 delay in ms after the previous
 * chunk, u16 big-endian length (at most 16 KiB), that many bytes.
 *
 * After each input: mm_check on both hosts, every reserve within its
 * size, every bio completed or failed, and once the client is destroyed
 * and the stacks torn down, every page back (mm_destroy checks).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "block/iscsi_client.h"
#include "dev/sim.h"
#include "net/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_PAGES 2048
#define FZ_PORT 3260
#define FZ_MAX_CHUNK (16 * 1024)
#define FZ_BIOS 4

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
	struct tcp_sock *l, *tp;
	const uint8_t *in, *end;
	struct timer chunk_timer;
	struct task accept_task;
	unsigned conns;
	struct blkdev *bd;
	bool ready, flush;
	int ready_err;
	struct bio bio[FZ_BIOS];
	struct page *pg[FZ_BIOS][2];
	unsigned submitted, completed;
	FILE *devnull;
} * fz;

static void fz_check(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_iscsi_pdu: %s\n", what);
		abort();
	}
}

static void fz_add_host(unsigned i)
{
	struct fz_host *h = &fz->h[i];
	struct host_config hc = { .name = i ? "srv" : "cli",
				  .seed = 100 + i,
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

/* ---- the server side: the input's bytes --------------------------------- */

static void srv_drop(struct tcp_sock *tp)
{
	tp->sk.ops = NULL;
	tcp_abort(tp);
}

static void srv_next_chunk(struct timer *t)
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
	/* what does not fit the send buffer is lost: still a stream */
	if (len)
		tcp_send(fz->tp, fz->in, len);
	fz->in += len;
	if (fz->end - fz->in >= 1)
		timer_arm_in(&fz->loop, &fz->chunk_timer,
			     fz->in[0] * NSEC_PER_MSEC);
	else
		timer_arm_in(&fz->loop, &fz->chunk_timer, NSEC_PER_MSEC);
}

static void srv_readable(struct sock *sk)
{
	uint8_t sink[4096];

	while (tcp_recv(tcp_sk(sk), sink, sizeof(sink)) > 0)
		;
}

static void srv_error(struct sock *sk, int err)
{
	if (fz->tp == tcp_sk(sk))
		fz->tp = NULL;
	sk->ops = NULL;
	tcp_close(tcp_sk(sk));
}

static const struct sock_ops srv_ops = { .readable = srv_readable,
					 .error = srv_error };

/* From a task: TCP still uses a new child while it wakes the listener. */
static void srv_accept(struct task *t)
{
	struct tcp_sock *tp;

	while ((tp = tcp_accept(fz->l))) {
		if (fz->conns++) {
			srv_drop(tp);
			continue;
		}
		fz->tp = tp;
		tp->sk.ops = &srv_ops;
		tcp_set_nodelay(tp, true);
		timer_arm_in(&fz->loop, &fz->chunk_timer,
			     fz->in < fz->end ? fz->in[0] * NSEC_PER_MSEC : 0);
	}
}

static void srv_listen_readable(struct sock *sk)
{
	task_queue(&fz->loop, &fz->accept_task);
}

static const struct sock_ops listen_ops = { .readable = srv_listen_readable };

/* ---- the client side ------------------------------------------------------ */

static void fz_end_io(struct bio *bio)
{
	fz->completed++;
}

static void fz_bio(unsigned i, enum bio_op op, uint64_t off, unsigned halves)
{
	struct bio *bio = &fz->bio[i];

	bio_init(bio, fz->bd, op);
	bio->offset = off;
	bio->end_io = fz_end_io;
	for (unsigned p = 0; op != BIO_FLUSH && p < (halves ? 2 : 1); p++)
		bio_add_page(bio, fz->pg[i][p], 0,
			     halves ? PAGE_SIZE / 2 : PAGE_SIZE);
	if (!blk_submit(bio))
		fz->submitted++;
}

static void fz_ready(struct blkdev *bd, int err, void *arg)
{
	fz->ready = true;
	fz->ready_err = err;
	if (err)
		return;
	fz_bio(0, BIO_READ, 0, 0);
	fz_bio(1, BIO_WRITE, 4096, 0);
	fz_bio(2, BIO_READ, 8192, 1);
	if (fz->flush)
		fz_bio(3, BIO_FLUSH, 0, 0);
}

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
	struct iscsi_client_config cc = {
		.target = "iqn.2026-01.org.lifeboat:fuzz",
		.reconnect_ns = 100 * NSEC_PER_MSEC,
		.dead_ns = NSEC_PER_SEC,
		.task_timeout_ns = NSEC_PER_SEC,
		.queue_depth = 8,
	};
	int err;

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
	fz->flush = data[0] & 1;
	cc.header_digest = cc.data_digest = data[0] & 2;
	if (data[0] & 4) {
		cc.chap_user = "fuzz";
		cc.chap_secret = "fuzz-secret";
	}
	fz->in = data + 1;
	fz->end = data + size;
	timer_init(&fz->chunk_timer, srv_next_chunk);
	task_init(&fz->accept_task, srv_accept);

	fz->l = tcp_socket(fz->h[1].net, &listen_ops, NULL);
	fz_check(fz->l && !tcp_bind(fz->l, 0, FZ_PORT) && !tcp_listen(fz->l, 4),
		 "listener");
	for (unsigned i = 0; i < FZ_BIOS; i++)
		for (unsigned p = 0; p < 2; p++)
			fz->pg[i][p] =
				mm_page_alloc(fz->h[0].mm, MM_NORMAL, NULL);
	cc.ip = ntohl(fz->h[1].dev.ip);
	err = iscsi_client_create(fz->h[0].net, &cc, fz_ready, NULL, &fz->bd);
	fz_check(!err, "client");

	loop_run_until(&fz->loop, loop_now(&fz->loop) + 3 * NSEC_PER_SEC);
	for (unsigned i = 0; i < 2; i++) {
		mm_check(fz->h[i].mm);
		check_reserves(mm_reserve_root(fz->h[i].mm));
	}
	if (getenv("FUZZ_ISCSI_VERBOSE")) {
		fprintf(stderr,
			"ready %d err %d submitted %u completed %u:", fz->ready,
			fz->ready_err, fz->submitted, fz->completed);
		for (unsigned i = 0; i < FZ_BIOS; i++)
			fprintf(stderr, " %d", fz->bio[i].error);
		fprintf(stderr, "\n");
	}
	/* answered, failed, or (if still connected) not yet answered */
	fz_check(fz->completed <= fz->submitted, "a bio completed twice");

	iscsi_client_destroy(fz->bd);
	fz_check(fz->completed == fz->submitted, "a bio never completed");
	for (unsigned i = 0; i < FZ_BIOS; i++)
		for (unsigned p = 0; p < 2; p++)
			mm_page_put(fz->h[0].mm, fz->pg[i][p]);
	timer_cancel(&fz->loop, &fz->chunk_timer);
	task_cancel(&fz->loop, &fz->accept_task);
	if (fz->tp)
		srv_drop(fz->tp);
	tcp_close(fz->l);
	loop_run_until(&fz->loop, loop_now(&fz->loop) + 2 * TCP_TIME_WAIT_NS);
	for (unsigned i = 0; i < 2; i++) {
		net_destroy(fz->h[i].net);
		mm_check(fz->h[i].mm);
		mm_destroy(fz->h[i].mm);
		host_destroy(fz->h[i].host);
	}
	sim_link_destroy(&fz->link);
	loop_destroy(&fz->loop);
	fclose(fz->devnull);
	free(fz);
	fz = NULL;
	return 0;
}
