// SPDX-License-Identifier: MIT
/*
 * The NFS client against a server that misbehaves on purpose: a real
 * export answers every call (nfs_srv_dispatch), and the test's own TCP
 * server mangles the first few data replies: replies with unknown XIDs,
 * records that are not replies, truncated results, auth errors, record
 * marks over the client's bound, a close in the middle of a record,
 * JUKEBOX, and replies held back and sent in reverse order.  Every case:
 * no crash, the mangling counted, and either every byte reads back right
 * or the bios fail with an error; never a false completion.
 */
#include "net_fixture.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../block/blk_io.h"
#include "net/tcp.h"
#include "nfs/nfs.h"
#include "rpc/rpc_proto.h"

#define MS NSEC_PER_MSEC
#define FILE_SIZE (256u * 1024)

enum mode {
	M_UNKNOWN_XID,
	M_GARBAGE,
	M_TRUNCATED,
	M_AUTH_ERROR,
	M_OVERSIZED,
	M_CLOSE_MID,
	M_JUKEBOX,
	M_REVERSE,
	M_SILENT_MNT,
	/* READ replies, whose data the client places in the bio's pages */
	M_READ_MORE, /* count and data longer than asked */
	M_READ_SHORT_REC, /* the record ends inside the data */
	M_READ_TRAILING, /* bytes after the data and padding */
	M_READ_FRAGS, /* the reply in fragments of 1 to 7 bytes */
	M_READ_UNKNOWN, /* a READ reply with another XID first */
	M_READ_SHORT, /* half the data asked for, not at EOF */
};

#define M_FIRST_READ M_READ_MORE

struct hs {
	struct nf *w;
	struct nf_host *c, *s;
	struct nfs_export *exp;
	struct nfs_srv srv;
	struct tcp_sock *l, *tp;
	struct task accept_task, drop_task;
	struct rpc_rec_rx rx;
	uint8_t rec[NFS_SRV_MAX_RECORD];
	uint32_t rec_len;
	uint8_t out[NFS_SRV_MAX_RECORD + 8];
	uint8_t held[2][NFS_SRV_MAX_RECORD + 8];
	uint32_t held_len[2];
	unsigned nr_held;
	enum mode mode;
	unsigned inject; /* data replies still to mangle */
	unsigned silent; /* set-up calls still to ignore */
	struct blkdev *bd;
	bool ready, dropping;
	int ready_err;
} * hs;

/* Replies wait here for room in the send buffer, in order. */
static uint8_t pend[1u << 20];
static uint32_t pend_len, pend_sent;

static void srv_flush(void)
{
	while (hs->tp && pend_sent < pend_len) {
		ssize_t n = tcp_send(hs->tp, pend + pend_sent,
				     pend_len - pend_sent);

		if (n == -EAGAIN || n == -ENOMEM)
			return;
		assert_true(n > 0);
		pend_sent += (uint32_t)n;
	}
	pend_len = pend_sent = 0;
}

static void srv_send(const uint8_t *p, uint32_t len)
{
	assert_true(len <= sizeof(pend) - pend_len);
	memcpy(pend + pend_len, p, len);
	pend_len += len;
	srv_flush();
}

static void srv_drop(void)
{
	struct tcp_sock *tp = hs->tp;

	hs->tp = NULL;
	tp->sk.ops = NULL;
	tcp_abort(tp);
	pend_len = pend_sent = 0;
}

static bool is_data_call(const uint8_t *rec, uint32_t len)
{
	struct rpc_call_hdr c;
	struct xdr_in x;
	uint32_t auth;

	xdr_in_init(&x, rec, len);
	if (rpc_decode_call(&x, &c, &auth) || c.prog != NFS_PROG)
		return false;
	if (hs->mode >= M_FIRST_READ)
		return c.proc == NFSPROC3_READ;
	return c.proc == NFSPROC3_READ || c.proc == NFSPROC3_WRITE;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Mangle the READ reply of @n bytes in out + 4 (its mark before it), whose
 * head is @head bytes and data @count.
 */
static bool srv_read_reply(uint32_t n, uint32_t head, uint32_t count)
{
	static uint8_t big[NFS_SRV_MAX_RECORD + 64];
	uint8_t *rec = hs->out + 4;
	uint32_t pos, len;

	switch (hs->mode) {
	case M_READ_MORE:
		/* four more bytes than asked, counted and sent */
		memcpy(big, hs->out, n + 4);
		put_be32(big + 4 + head - 12, count + 4);
		put_be32(big + 4 + head - 4, count + 4);
		memset(big + 4 + head + count, 0xab, 4);
		rpc_rec_mark(big, n + 4, true);
		srv_send(big, n + 8);
		return true;
	case M_READ_SHORT_REC:
		/* a record mark that ends the record 8 bytes early */
		rpc_rec_mark(hs->out, n - 8, true);
		srv_send(hs->out, n - 4);
		return true;
	case M_READ_TRAILING:
		memcpy(big, hs->out, n + 4);
		memset(big + 4 + n, 0xcd, 8);
		rpc_rec_mark(big, n + 8, true);
		srv_send(big, n + 12);
		return true;
	case M_READ_FRAGS:
		/* fragments of 1..7 bytes, then an empty last one */
		for (pos = 0, len = 1; pos < n; pos += len, len = len % 7 + 1) {
			len = len < n - pos ? len : n - pos;
			rpc_rec_mark(big, len, false);
			memcpy(big + 4, rec + pos, len);
			srv_send(big, len + 4);
		}
		rpc_rec_mark(big, 0, true);
		srv_send(big, 4);
		return true;
	case M_READ_UNKNOWN:
		memcpy(big, hs->out, n + 4);
		big[4] ^= 0x5a; /* another XID, data and all */
		srv_send(big, n + 4);
		srv_send(hs->out, n + 4);
		return true;
	case M_READ_SHORT:
		/* the first half of the data, eof false */
		count /= 2;
		put_be32(rec + head - 12, count);
		put_be32(rec + head - 8, 0);
		put_be32(rec + head - 4, count);
		rpc_rec_mark(hs->out, head + count, true);
		srv_send(hs->out, head + count + 4);
		return true;
	default:
		break;
	}
	srv_send(hs->out, n + 4);
	return true;
}

/* Answer (or mangle) one call; false when the connection went. */
static bool srv_call(void)
{
	uint32_t n = nfs_srv_dispatch(&hs->srv, hs->rec, hs->rec_len,
				      hs->out + 4, NFS_SRV_MAX_RECORD);
	uint8_t bad[64];
	struct xdr_out x;

	assert_true(n > 0);
	rpc_rec_mark(hs->out, n, true);
	if (hs->mode == M_SILENT_MNT && hs->silent) {
		/* the first MNT is never answered (a server that lost it) */
		hs->silent--;
		return true;
	}
	if (!hs->inject || !is_data_call(hs->rec, hs->rec_len)) {
		srv_send(hs->out, n + 4);
		return true;
	}
	hs->inject--;
	if (hs->mode >= M_FIRST_READ) {
		struct nfs3_read_res r;
		uint32_t head;

		assert_int_equal(
			nfs3_read_reply_head(hs->out + 4, n, &head, &r), 0);
		assert_true(r.count >= 8 && head + xdr_pad4(r.count) == n);
		return srv_read_reply(n, head, r.count);
	}
	switch (hs->mode) {
	case M_UNKNOWN_XID:
		memcpy(bad, hs->out, 28);
		bad[4] ^= 0x5a; /* another XID, nothing else */
		rpc_rec_mark(bad, 24, true);
		srv_send(bad, 28);
		srv_send(hs->out, n + 4);
		return true;
	case M_GARBAGE:
		rpc_rec_mark(bad, 12, true);
		memset(bad + 4, 0xee, 12);
		srv_send(bad, 16);
		srv_send(hs->out, n + 4);
		return true;
	case M_TRUNCATED:
		/* the RPC header and the status only */
		rpc_rec_mark(hs->out, 28, true);
		srv_send(hs->out, 32);
		return true;
	case M_AUTH_ERROR:
		xdr_out_init(&x, bad + 4, sizeof(bad) - 4);
		rpc_encode_denied_auth(&x,
				       (uint32_t)hs->out[4] << 24 |
					       (uint32_t)hs->out[5] << 16 |
					       (uint32_t)hs->out[6] << 8 |
					       hs->out[7],
				       RPC_AUTH_TOOWEAK);
		rpc_rec_mark(bad, x.pos, true);
		srv_send(bad, x.pos + 4);
		return true;
	case M_OVERSIZED:
		rpc_rec_mark(bad, 0x7ffffff0, true);
		srv_send(bad, 4);
		return true;
	case M_CLOSE_MID:
		srv_send(hs->out, (n + 4) / 2);
		/* not inside the socket's callback */
		hs->dropping = true;
		task_queue(&hs->w->loop, &hs->drop_task);
		return false;
	case M_JUKEBOX:
		/*
		 * Injected while writing only: the RPC header, then a failed
		 * WRITE result, JUKEBOX and an empty wcc_data.
		 */
		xdr_out_init(&x, hs->out + 4 + 24, 12);
		xdr_put_u32(&x, NFS3ERR_JUKEBOX);
		xdr_put_u32(&x, 0);
		xdr_put_u32(&x, 0);
		rpc_rec_mark(hs->out, 24 + 12, true);
		srv_send(hs->out, 4 + 24 + 12);
		return true;
	case M_REVERSE:
		memcpy(hs->held[hs->nr_held], hs->out, n + 4);
		hs->held_len[hs->nr_held++] = n + 4;
		if (hs->nr_held == 2) {
			srv_send(hs->held[1], hs->held_len[1]);
			srv_send(hs->held[0], hs->held_len[0]);
			hs->nr_held = 0;
		}
		return true;
	case M_SILENT_MNT:
	default:
		break; /* set-up only, or READ replies */
	}
	srv_send(hs->out, n + 4);
	return true;
}

static void srv_drop_task(struct task *t)
{
	hs->dropping = false;
	if (hs->tp)
		srv_drop();
}

static void srv_readable(struct sock *sk)
{
	uint8_t buf[4096];
	ssize_t n;

	while (hs->tp && !hs->dropping &&
	       (n = tcp_recv(hs->tp, buf, sizeof(buf))) > 0) {
		size_t pos = 0;

		while (pos < (size_t)n) {
			struct rpc_rec_span sp;
			int used = rpc_rec_next(&hs->rx, buf + pos,
						(size_t)n - pos, &sp);

			assert_true(used > 0);
			pos += (size_t)used;
			if (sp.rec_start)
				hs->rec_len = 0;
			memcpy(hs->rec + hs->rec_len, sp.data, sp.len);
			hs->rec_len += sp.len;
			if (sp.rec_end && !srv_call())
				return;
		}
	}
}

static void srv_error(struct sock *sk, int err)
{
	if (hs->tp == tcp_sk(sk))
		srv_drop();
}

static void srv_writable(struct sock *sk)
{
	if (hs->tp == tcp_sk(sk))
		srv_flush();
}

static const struct sock_ops srv_ops = { .readable = srv_readable,
					 .writable = srv_writable,
					 .error = srv_error };

static void srv_accept(struct task *t)
{
	struct tcp_sock *tp;

	while ((tp = tcp_accept(hs->l))) {
		if (hs->tp)
			srv_drop();
		hs->tp = tp;
		tp->sk.ops = &srv_ops;
		rpc_rec_init(&hs->rx, sizeof(hs->rec));
		hs->rec_len = 0;
		hs->nr_held = 0;
		srv_readable(&tp->sk); /* what arrived before we looked */
	}
}

static void listen_readable(struct sock *sk)
{
	task_queue(&hs->w->loop, &hs->accept_task);
}

static const struct sock_ops listen_ops = { .readable = listen_readable };

static void on_ready(struct blkdev *bd, int err, void *arg)
{
	hs->ready = true;
	hs->ready_err = err;
}

static int64_t cstat(const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), "nfs.nfs0.%s", what);
	return nf_stat(hs->c, name);
}

static void run_mode(enum mode mode, unsigned inject, bool must_fail,
		     const char *counter)
{
	struct nfs_client_config cc = {
		.export_path = "/export",
		.path = "f",
		.create_size = FILE_SIZE,
		.queue_depth = 4,
		.nfs_port = 2049,
		.mount_port = 2049,
		.reconnect_ns = 20 * MS,
		.timeo_ns = NSEC_PER_SEC,
	};
	struct bio_eng e;

	hs = calloc(1, sizeof(*hs));
	hs->w = nf_new(NULL, 21 + mode);
	hs->c = nf_add_host(hs->w, 2048, MM_POLICY_ACCOUNTED);
	hs->s = nf_add_host(hs->w, 1024, MM_POLICY_ACCOUNTED);
	assert_int_equal(nfs_export_create("/export", 2, 1 << 20, &hs->exp), 0);
	hs->srv =
		(struct nfs_srv){ .exp = hs->exp, .port = 2049, .verf = { 9 } };
	hs->mode = mode;
	hs->silent = mode == M_SILENT_MNT;
	task_init(&hs->accept_task, srv_accept);
	task_init(&hs->drop_task, srv_drop_task);
	hs->l = tcp_socket(hs->s->net, &listen_ops, NULL);
	assert_true(hs->l && !tcp_bind(hs->l, 0, 2049) &&
		    !tcp_listen(hs->l, 4));
	cc.ip = ntohl(hs->s->ip);
	assert_int_equal(
		nfs_client_create(hs->c->net, &cc, on_ready, NULL, &hs->bd), 0);
	for (int i = 0; i < 500 && !hs->ready; i++)
		nf_run_for(hs->w, 10 * MS);
	assert_true(hs->ready);
	assert_int_equal(hs->ready_err, 0);

	hs->inject = mode >= M_FIRST_READ ? 0 : inject;
	bio_eng_init(&e, hs->bd, 4, 5);
	bio_eng_start(&e, BIO_WRITE, 0, FILE_SIZE, 4096, 64 * 1024);
	for (int i = 0; i < 3000 && !bio_eng_done(&e); i++)
		nf_run_for(hs->w, 10 * MS);
	assert_true(bio_eng_done(&e));
	if (must_fail) {
		assert_true(e.errors > 0);
		assert_int_equal(e.last_error, -EIO);
	} else {
		assert_int_equal(e.errors, 0);
	}
	hs->inject = mode >= M_FIRST_READ ? inject : 0;
	bio_eng_start(&e, BIO_READ, 0, FILE_SIZE, 4096, 64 * 1024);
	for (int i = 0; i < 3000 && !bio_eng_done(&e); i++)
		nf_run_for(hs->w, 10 * MS);
	assert_true(bio_eng_done(&e));
	if (!must_fail) {
		assert_int_equal(e.errors, 0);
		assert_true(e.bad_bytes == 0);
	}
	assert_int_equal(hs->inject, 0); /* every mangling happened */
	if (counter)
		assert_true(cstat(counter) >= 1);
	bio_eng_free(&e);
	nfs_client_destroy(hs->bd);
	if (hs->tp)
		srv_drop();
	task_cancel(&hs->w->loop, &hs->accept_task);
	task_cancel(&hs->w->loop, &hs->drop_task);
	tcp_close(hs->l);
	nf_run_for(hs->w, 2 * TCP_TIME_WAIT_NS);
	nf_free(hs->w);
	nfs_export_destroy(hs->exp);
	free(hs);
	hs = NULL;
}

static void test_unknown_xid(void **s)
{
	run_mode(M_UNKNOWN_XID, 3, false, "unknown_xids");
}

static void test_garbage(void **s)
{
	run_mode(M_GARBAGE, 3, false, "bad_replies");
}

static void test_truncated(void **s)
{
	run_mode(M_TRUNCATED, 2, false, "bad_replies");
}

static void test_auth_error(void **s)
{
	run_mode(M_AUTH_ERROR, 1, true, "rpc_errors");
}

static void test_oversized(void **s)
{
	run_mode(M_OVERSIZED, 1, false, "oversized_records");
}

static void test_close_mid_record(void **s)
{
	run_mode(M_CLOSE_MID, 2, false, "reconnects");
}

static void test_jukebox(void **s)
{
	run_mode(M_JUKEBOX, 3, false, "jukebox");
}

/* A set-up call without an answer is sent again on a new connection. */
static void test_silent_mnt(void **s)
{
	run_mode(M_SILENT_MNT, 0, false, "retransmits");
}

static void test_reverse_order(void **s)
{
	run_mode(M_REVERSE, 4, false, NULL);
}

static void test_read_more_than_asked(void **s)
{
	run_mode(M_READ_MORE, 2, false, "bad_replies");
}

static void test_read_record_ends_in_data(void **s)
{
	run_mode(M_READ_SHORT_REC, 2, false, "bad_replies");
}

static void test_read_trailing_bytes(void **s)
{
	run_mode(M_READ_TRAILING, 2, false, "bad_replies");
}

static void test_read_tiny_fragments(void **s)
{
	run_mode(M_READ_FRAGS, 3, false, "direct_reads");
	/* fragments are no malformation */
}

static void test_read_unknown_xid(void **s)
{
	run_mode(M_READ_UNKNOWN, 3, false, "unknown_xids");
}

static void test_read_short(void **s)
{
	run_mode(M_READ_SHORT, 3, false, "short_transfers");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_xid),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_auth_error),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_close_mid_record),
		cmocka_unit_test(test_jukebox),
		cmocka_unit_test(test_reverse_order),
		cmocka_unit_test(test_silent_mnt),
		cmocka_unit_test(test_read_more_than_asked),
		cmocka_unit_test(test_read_record_ends_in_data),
		cmocka_unit_test(test_read_trailing_bytes),
		cmocka_unit_test(test_read_tiny_fragments),
		cmocka_unit_test(test_read_unknown_xid),
		cmocka_unit_test(test_read_short),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
