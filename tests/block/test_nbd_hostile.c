// SPDX-License-Identifier: MIT
/*
 * The NBD client against a scripted server (our TCP, host 1) that breaks
 * the protocol on its first connection in one way per test and behaves on
 * the next: bad reply magic, an unknown cookie, a second reply to one
 * request, EOF inside a reply, error values, a reset inside READ data, a
 * structured reply, an oversize option reply, GO without NBD_INFO_EXPORT,
 * GO unsupported (EXPORT_NAME fallback), an unknown export, ESHUTDOWN,
 * replies one byte a segment, and a server that never answers.
 *
 * Each test checks the client's counters and its bios' errors, and every
 * successful write completion is checked against the replies the server
 * really sent: no write completes without one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "blk_io.h"
#include "block/nbd.h"
#include "block/nbd_proto.h"
#include "net/tcp.h"
#include "net_fixture.h"

#define PAGES 2048
#define MS NSEC_PER_MSEC
#define FAKE_PORT 10809
#define FAKE_SIZE (1u << 20)
#define NR_BIOS 4

enum scen {
	SC_GOOD,
	SC_BAD_MAGIC,
	SC_UNKNOWN_COOKIE,
	SC_DOUBLE_REPLY,
	SC_SHORT_EOF,
	SC_ERRORS,
	SC_RESET_MID_READ,
	SC_STRUCTURED,
	SC_OVERSIZE_OPT,
	SC_NO_EXPORT_INFO,
	SC_GO_UNSUP,
	SC_UNKNOWN_EXPORT,
	SC_ESHUTDOWN,
	SC_ONE_BYTE_SEGMENTS,
	SC_SILENT,
};

enum fstate { F_FLAGS, F_OPT_HDR, F_OPT_DATA, F_REQ, F_WDATA, F_GONE };

struct fake {
	struct nf_host *h;
	struct tcp_sock *l, *tp;
	enum scen sc, cur; /* cur: this connection's behaviour */
	unsigned conns;
	enum fstate st;
	uint8_t buf[4096];
	uint32_t have, opt, optlen, wleft;
	struct nbd_request req;
	unsigned nreq; /* requests on this connection */
	uint64_t ok_offsets[64]; /* writes answered with success */
	unsigned nr_ok;
	bool saw_disc;
	struct tcp_sock *doomed; /* reset from a task, not in a callback */
	struct task kill;
};

struct ht {
	struct nf *w;
	struct nf_host *c, *s;
	struct fake f;
	struct blkdev *bd;
	bool ready;
	int ready_err;
	struct page *pg[NR_BIOS];
	struct bio bio[NR_BIOS];
	int done[NR_BIOS], err[NR_BIOS];
};

static struct ht *cur_ht;

/* ---- the scripted server ------------------------------------------------- */

static void fsend(struct fake *f, const void *p, size_t len)
{
	const uint8_t *b = p;

	if (!f->tp)
		return;
	if (f->cur == SC_ONE_BYTE_SEGMENTS) {
		/* headers a byte a segment, data in odd pieces */
		size_t step = len <= 32 ? 1 : 997;

		for (size_t i = 0; i < len; i += step) {
			size_t n = lb_min(step, len - i);

			assert_int_equal(tcp_send(f->tp, b + i, n), (ssize_t)n);
		}
		return;
	}
	assert_int_equal(tcp_send(f->tp, p, len), (ssize_t)len);
}

static void fopt_reply(struct fake *f, uint32_t type, const void *d,
		       uint32_t len)
{
	uint8_t h[NBD_OPT_REPLY_HDR_LEN];

	nbd_encode_opt_reply(h, f->opt, type, len);
	fsend(f, h, sizeof(h));
	if (len)
		fsend(f, d, len);
}

static const uint16_t fake_tflags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
				    NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM |
				    NBD_FLAG_SEND_WRITE_ZEROES;

static void fake_option(struct fake *f)
{
	uint8_t info[12];
	static const char msg[] = "no export by that name here";

	switch (f->opt) {
	case NBD_OPT_GO:
		if (f->cur == SC_OVERSIZE_OPT) {
			uint8_t h[NBD_OPT_REPLY_HDR_LEN];

			nbd_encode_opt_reply(h, f->opt, NBD_REP_INFO, 1u << 20);
			fsend(f, h, sizeof(h));
			return;
		}
		if (f->cur == SC_GO_UNSUP) {
			fopt_reply(f, NBD_REP_ERR_UNSUP, NULL, 0);
			return;
		}
		if (f->cur == SC_UNKNOWN_EXPORT) {
			fopt_reply(f, NBD_REP_ERR_UNKNOWN, msg,
				   sizeof(msg) - 1);
			return;
		}
		if (f->cur != SC_NO_EXPORT_INFO) {
			nbd_put16(info, NBD_INFO_EXPORT);
			nbd_put64(info + 2, FAKE_SIZE);
			nbd_put16(info + 10, fake_tflags);
			fopt_reply(f, NBD_REP_INFO, info, 12);
		}
		fopt_reply(f, NBD_REP_ACK, NULL, 0);
		f->st = F_REQ;
		return;
	case NBD_OPT_EXPORT_NAME:
		/* the client asked for NO_ZEROES, which we offered */
		nbd_put64(info, FAKE_SIZE);
		nbd_put16(info + 8, fake_tflags);
		fsend(f, info, 10);
		f->st = F_REQ;
		return;
	case NBD_OPT_ABORT:
		fopt_reply(f, NBD_REP_ACK, NULL, 0);
		return;
	default:
		fopt_reply(f, NBD_REP_ERR_UNSUP, NULL, 0);
		return;
	}
}

static void freply(struct fake *f, uint32_t err, uint64_t cookie)
{
	uint8_t h[NBD_REPLY_LEN];

	nbd_encode_reply(h, err, cookie);
	fsend(f, h, sizeof(h));
}

static void fdata(struct fake *f, uint64_t off, uint32_t len)
{
	uint8_t d[4096];

	for (uint32_t done = 0; done < len; done += sizeof(d)) {
		uint32_t n = lb_min(len - done, (uint32_t)sizeof(d));

		for (uint32_t i = 0; i < n; i++)
			d[i] = bio_eng_pattern(off + done + i, 9);
		fsend(f, d, n);
	}
}

/* The well-behaved answer to f->req. */
static void fanswer(struct fake *f)
{
	struct nbd_request *r = &f->req;

	freply(f, 0, r->cookie);
	if (r->type == NBD_CMD_READ)
		fdata(f, r->offset, r->len);
	if (r->type == NBD_CMD_WRITE && f->nr_ok < ARRAY_SIZE(f->ok_offsets))
		f->ok_offsets[f->nr_ok++] = r->offset;
}

static void fake_close(struct fake *f, bool reset)
{
	struct tcp_sock *tp = f->tp;

	f->tp = NULL;
	f->st = F_GONE;
	tp->sk.ops = NULL;
	if (!reset) {
		tcp_close(tp);
		return;
	}
	/* TCP may still use the socket after our callback returns */
	f->doomed = tp;
	task_queue(f->h->host->loop, &f->kill);
}

/* Outside the connection's own callbacks: at once. */
static void fake_abort_now(struct fake *f)
{
	struct tcp_sock *tp = f->tp;

	f->tp = NULL;
	f->st = F_GONE;
	tp->sk.ops = NULL;
	tcp_abort(tp);
}

static void fake_kill(struct task *k)
{
	struct fake *f = container_of(k, struct fake, kill);

	if (f->doomed)
		tcp_abort(f->doomed);
	f->doomed = NULL;
}

static const uint32_t error_values[] = { NBD_EIO, NBD_ENOSPC, 999, NBD_EPERM };

static void fake_request(struct fake *f)
{
	struct nbd_request *r = &f->req;
	unsigned n = f->nreq++;
	uint8_t h[20];

	if (r->type == NBD_CMD_DISC) {
		f->saw_disc = true;
		return;
	}
	switch (n ? SC_GOOD : f->cur) {
	case SC_BAD_MAGIC:
		nbd_put32(h, 0xdeadbeef);
		fsend(f, h, 16);
		return;
	case SC_UNKNOWN_COOKIE:
		freply(f, 0, r->cookie ^ 0x5555ull << 32);
		return;
	case SC_DOUBLE_REPLY:
		fanswer(f);
		freply(f, 0, r->cookie);
		return;
	case SC_SHORT_EOF:
		nbd_encode_reply(h, 0, r->cookie);
		fsend(f, h, 10);
		fake_close(f, false);
		return;
	case SC_RESET_MID_READ:
		freply(f, 0, r->cookie);
		fdata(f, r->offset, r->len / 2);
		fake_close(f, true);
		return;
	case SC_STRUCTURED:
		memset(h, 0, sizeof(h));
		nbd_put32(h, NBD_STRUCTURED_REPLY_MAGIC);
		nbd_put64(h + 8, r->cookie);
		fsend(f, h, 20);
		return;
	case SC_ESHUTDOWN:
		freply(f, NBD_ESHUTDOWN, r->cookie);
		return;
	case SC_SILENT:
		return;
	default:
		break;
	}
	if (f->cur == SC_ERRORS && n < ARRAY_SIZE(error_values)) {
		freply(f, error_values[n], r->cookie);
		return;
	}
	fanswer(f);
}

/* Read into f->buf until it holds @need bytes. */
static bool ffill(struct fake *f, uint32_t need)
{
	while (f->tp && f->have < need) {
		ssize_t n = tcp_recv(f->tp, f->buf + f->have, need - f->have);

		if (n <= 0) {
			if (n != -EAGAIN)
				fake_close(f, false);
			return false;
		}
		f->have += (uint32_t)n;
	}
	return f->tp != NULL;
}

static void fake_input(struct fake *f)
{
	while (f->tp) {
		switch (f->st) {
		case F_FLAGS:
			if (!ffill(f, 4))
				return;
			f->st = F_OPT_HDR;
			break;
		case F_OPT_HDR:
			if (!ffill(f, NBD_OPT_HDR_LEN))
				return;
			assert_true(nbd_get64(f->buf) == NBD_OPTS_MAGIC);
			f->opt = nbd_get32(f->buf + 8);
			f->optlen = nbd_get32(f->buf + 12);
			f->st = F_OPT_DATA;
			break;
		case F_OPT_DATA:
			assert_true(f->optlen <= sizeof(f->buf));
			if (!ffill(f, f->optlen))
				return;
			f->st = F_OPT_HDR;
			fake_option(f);
			break;
		case F_REQ:
			if (!ffill(f, NBD_REQUEST_LEN))
				return;
			assert_int_equal(nbd_decode_request(f->buf, &f->req),
					 0);
			f->wleft = f->req.type == NBD_CMD_WRITE ? f->req.len :
								  0;
			f->st = F_WDATA;
			break;
		case F_WDATA:
			while (f->wleft) {
				ssize_t n = tcp_recv(
					f->tp, f->buf,
					lb_min(f->wleft,
					       (uint32_t)sizeof(f->buf)));

				if (n <= 0) {
					if (n != -EAGAIN)
						fake_close(f, false);
					return;
				}
				f->wleft -= (uint32_t)n;
			}
			f->st = F_REQ;
			fake_request(f);
			break;
		case F_GONE:
			return;
		}
		f->have = 0;
	}
}

static void fake_readable(struct sock *sk)
{
	fake_input(sk->user);
}

static void fake_error(struct sock *sk, int err)
{
	struct fake *f = sk->user;

	if (f->tp == tcp_sk(sk)) {
		f->tp = NULL;
		f->st = F_GONE;
	}
	sk->ops = NULL;
	tcp_close(tcp_sk(sk));
}

static const struct sock_ops fake_ops = { .readable = fake_readable,
					  .writable = fake_readable,
					  .error = fake_error };

static void fake_accept(struct sock *sk)
{
	struct fake *f = sk->user;
	struct tcp_sock *tp;
	uint8_t greet[NBD_GREETING_LEN];

	while ((tp = tcp_accept(f->l))) {
		if (f->tp)
			fake_abort_now(f);
		f->tp = tp;
		tp->sk.ops = &fake_ops;
		tp->sk.user = f;
		tcp_set_nodelay(tp, true);
		f->conns++;
		f->cur = f->conns == 1 ? f->sc : SC_GOOD;
		f->st = F_FLAGS;
		f->have = 0;
		f->nreq = 0;
		nbd_put64(greet, NBD_INIT_MAGIC);
		nbd_put64(greet + 8, NBD_OPTS_MAGIC);
		nbd_put16(greet + 16,
			  NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
		fsend(f, greet, sizeof(greet));
	}
}

static const struct sock_ops fake_listen_ops = { .readable = fake_accept };

/* ---- the client side ------------------------------------------------------- */

static void on_ready(struct blkdev *bd, int err, void *arg)
{
	struct ht *t = arg;

	t->ready = true;
	t->ready_err = err;
}

static void ht_end_io(struct bio *bio)
{
	struct ht *t = cur_ht;
	unsigned i = (unsigned)(uintptr_t)bio->private;
	bool replied = false;

	t->done[i]++;
	t->err[i] = bio->error;
	if (bio->op != BIO_WRITE || bio->error)
		return;
	/* a successful write: the server must have said so */
	for (unsigned k = 0; k < t->f.nr_ok; k++)
		replied |= t->f.ok_offsets[k] == bio->offset;
	if (!replied)
		fail_msg("write at %llu completed without a reply",
			 (unsigned long long)bio->offset);
}

static void ht_setup(struct ht *t, enum scen sc)
{
	struct nbd_client_config cc = { .reconnect_ns = 50 * MS,
					.dead_ns = 5 * NSEC_PER_SEC };

	memset(t, 0, sizeof(*t));
	cur_ht = t;
	t->w = nf_new(NULL, 11 + sc);
	t->c = nf_add_host(t->w, PAGES, MM_POLICY_ACCOUNTED);
	t->s = nf_add_host(t->w, PAGES, MM_POLICY_ACCOUNTED);
	t->f.h = t->s;
	t->f.sc = sc;
	task_init(&t->f.kill, fake_kill);
	t->f.l = tcp_socket(t->s->net, &fake_listen_ops, &t->f);
	assert_int_equal(tcp_bind(t->f.l, 0, FAKE_PORT), 0);
	assert_int_equal(tcp_listen(t->f.l, 4), 0);
	cc.ip = ntohl(t->s->ip);
	assert_int_equal(nbd_client_create(t->c->net, &cc, on_ready, t, &t->bd),
			 0);
	for (int i = 0; i < 100 && !t->ready; i++)
		nf_run_for(t->w, 10 * MS);
	assert_true(t->ready);
	for (unsigned i = 0; i < NR_BIOS; i++)
		t->pg[i] = mm_page_alloc(t->c->mm, MM_NORMAL, NULL);
}

static void ht_submit(struct ht *t, unsigned i, enum bio_op op, uint64_t off)
{
	struct bio *bio = &t->bio[i];
	uint8_t buf[PAGE_SIZE];

	bio_init(bio, t->bd, op);
	bio->offset = off;
	bio->end_io = ht_end_io;
	bio->private = (void *)(uintptr_t)i;
	assert_int_equal(bio_add_page(bio, t->pg[i], 0, PAGE_SIZE), 0);
	for (uint32_t b = 0; b < PAGE_SIZE; b++)
		buf[b] = bio_eng_pattern(off + b, 7);
	if (op == BIO_WRITE)
		bio_copy_from(bio, 0, buf, PAGE_SIZE);
	else
		memset(page_address(t->c->mm, t->pg[i]), 0, PAGE_SIZE);
	assert_int_equal(blk_submit(bio), 0);
}

/* The READ of bio @i holds what the fake server serves. */
static void ht_check_read(struct ht *t, unsigned i)
{
	const uint8_t *p = page_address(t->c->mm, t->pg[i]);

	for (uint32_t b = 0; b < PAGE_SIZE; b++)
		if (p[b] != bio_eng_pattern(t->bio[i].offset + b, 9))
			fail_msg("read byte %u wrong", b);
}

static int64_t cstat(struct ht *t, const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), "nbd.nbd0.%s", what);
	return nf_stat(t->c, name);
}

static void ht_free(struct ht *t)
{
	for (unsigned i = 0; i < NR_BIOS; i++)
		if (t->bd->attached && t->bio[i].bdev && !t->done[i])
			fail_msg("bio %u never completed", i);
	nbd_client_destroy(t->bd);
	for (unsigned i = 0; i < NR_BIOS; i++)
		mm_page_put(t->c->mm, t->pg[i]);
	if (t->f.tp)
		fake_abort_now(&t->f);
	tcp_close(t->f.l);
	nf_run_for(t->w, 2 * TCP_TIME_WAIT_NS + NSEC_PER_SEC);
	nf_free(t->w);
}

/* One write the first connection mishandles; the second answers it. */
static void write_survives(enum scen sc, int64_t proto_errors,
			   int64_t bad_cookies)
{
	struct ht t;

	ht_setup(&t, sc);
	assert_int_equal(t.ready_err, 0);
	ht_submit(&t, 0, BIO_WRITE, 8192);
	nf_run_for(t.w, 2 * NSEC_PER_SEC);
	assert_int_equal(t.done[0], 1);
	assert_int_equal(t.err[0], 0);
	assert_int_equal(t.f.conns, 2);
	assert_int_equal(cstat(&t, "proto_errors"), proto_errors);
	assert_int_equal(cstat(&t, "bad_cookies"), bad_cookies);
	assert_int_equal(cstat(&t, "disconnects"), 1);
	assert_int_equal(cstat(&t, "resent"), 1);
	assert_int_equal(cstat(&t, "connects"), 2);
	ht_free(&t);
}

static void test_bad_reply_magic(void **state)
{
	write_survives(SC_BAD_MAGIC, 1, 0);
}

static void test_unknown_cookie(void **state)
{
	write_survives(SC_UNKNOWN_COOKIE, 1, 1);
}

static void test_eof_inside_reply(void **state)
{
	write_survives(SC_SHORT_EOF, 0, 0);
}

static void test_structured_reply(void **state)
{
	write_survives(SC_STRUCTURED, 1, 0);
}

static void test_second_reply_to_one_request(void **state)
{
	struct ht t;

	ht_setup(&t, SC_DOUBLE_REPLY);
	ht_submit(&t, 0, BIO_WRITE, 0);
	nf_run_for(t.w, 1 * NSEC_PER_SEC);
	assert_int_equal(t.done[0], 1);
	assert_int_equal(t.err[0], 0);
	assert_int_equal(cstat(&t, "bad_cookies"), 1);
	assert_int_equal(cstat(&t, "proto_errors"), 1);
	assert_int_equal(cstat(&t, "disconnects"), 1);
	assert_int_equal(cstat(&t, "resent"), 0);
	ht_free(&t);
}

static void test_error_values(void **state)
{
	static const int expect[] = { -EIO, -ENOSPC, -EINVAL, -EPERM };
	struct ht t;

	ht_setup(&t, SC_ERRORS);
	for (unsigned i = 0; i < NR_BIOS; i++) {
		ht_submit(&t, i, BIO_WRITE, i * PAGE_SIZE);
		/* one at a time, so the errors land in order */
		nf_run_for(t.w, 50 * MS);
		assert_int_equal(t.done[i], 1);
		assert_int_equal(t.err[i], expect[i]);
	}
	assert_int_equal(cstat(&t, "server_errors"), 4);
	assert_int_equal(cstat(&t, "disconnects"), 0);
	assert_int_equal(cstat(&t, "proto_errors"), 0);
	ht_free(&t);
}

static void test_reset_inside_read_data(void **state)
{
	struct ht t;

	ht_setup(&t, SC_RESET_MID_READ);
	ht_submit(&t, 0, BIO_READ, 12288);
	nf_run_for(t.w, 2 * NSEC_PER_SEC);
	assert_int_equal(t.done[0], 1);
	assert_int_equal(t.err[0], 0);
	ht_check_read(&t, 0);
	assert_int_equal(cstat(&t, "disconnects"), 1);
	assert_int_equal(cstat(&t, "resent"), 1);
	ht_free(&t);
}

static void handshake_fails(enum scen sc, int err, const char *counter)
{
	struct ht t;

	ht_setup(&t, sc);
	assert_int_equal(t.ready_err, err);
	assert_false(t.bd->attached);
	assert_int_equal(cstat(&t, counter), 1);
	ht_free(&t);
}

static void test_oversize_option_reply(void **state)
{
	handshake_fails(SC_OVERSIZE_OPT, -EPROTO, "proto_errors");
}

static void test_go_without_export_info(void **state)
{
	handshake_fails(SC_NO_EXPORT_INFO, -EPROTO, "proto_errors");
}

static void test_unknown_export(void **state)
{
	handshake_fails(SC_UNKNOWN_EXPORT, -ENOENT, "handshake_failures");
}

static void test_go_unsupported_falls_back(void **state)
{
	struct ht t;

	ht_setup(&t, SC_GO_UNSUP);
	assert_int_equal(t.ready_err, 0);
	assert_int_equal(t.bd->lim.capacity, FAKE_SIZE);
	ht_submit(&t, 0, BIO_READ, 4096);
	ht_submit(&t, 1, BIO_WRITE, 0);
	nf_run_for(t.w, 200 * MS);
	assert_int_equal(t.err[0] + t.err[1], 0);
	ht_check_read(&t, 0);
	ht_free(&t);
}

static void test_eshutdown_soft_disconnect(void **state)
{
	struct ht t;

	ht_setup(&t, SC_ESHUTDOWN);
	ht_submit(&t, 0, BIO_WRITE, 4096);
	nf_run_for(t.w, 2 * NSEC_PER_SEC);
	assert_true(t.f.conns == 2);
	assert_int_equal(cstat(&t, "soft_disconnects"), 1);
	assert_int_equal(cstat(&t, "server_errors"), 1);
	assert_int_equal(t.done[0], 1);
	assert_int_equal(t.err[0], 0);
	ht_free(&t);
}

static void test_one_byte_segments(void **state)
{
	struct ht t;

	ht_setup(&t, SC_ONE_BYTE_SEGMENTS);
	assert_int_equal(t.ready_err, 0);
	ht_submit(&t, 0, BIO_READ, 0);
	ht_submit(&t, 1, BIO_READ, 65536);
	ht_submit(&t, 2, BIO_WRITE, 8192);
	nf_run_for(t.w, 2 * NSEC_PER_SEC);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(t.done[i], 1);
		assert_int_equal(t.err[i], 0);
	}
	ht_check_read(&t, 0);
	ht_check_read(&t, 1);
	assert_int_equal(cstat(&t, "proto_errors"), 0);
	ht_free(&t);
}

static void test_silent_server_never_completes_write(void **state)
{
	struct ht t;

	ht_setup(&t, SC_SILENT);
	ht_submit(&t, 0, BIO_WRITE, 0);
	nf_run_for(t.w, 20 * NSEC_PER_SEC);
	/* connected and unanswered: the write stays in flight */
	assert_int_equal(t.done[0], 0);
	assert_int_equal(t.bd->st.inflight.v, 1);
	nbd_client_destroy(t.bd);
	/* destroying fails it, still without a success */
	assert_int_equal(t.done[0], 1);
	assert_int_equal(t.err[0], -EIO);
	t.bd = NULL;
	for (unsigned i = 0; i < NR_BIOS; i++)
		mm_page_put(t.c->mm, t.pg[i]);
	fake_abort_now(&t.f);
	tcp_close(t.f.l);
	nf_run_for(t.w, 2 * TCP_TIME_WAIT_NS + NSEC_PER_SEC);
	nf_free(t.w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_reply_magic),
		cmocka_unit_test(test_unknown_cookie),
		cmocka_unit_test(test_eof_inside_reply),
		cmocka_unit_test(test_structured_reply),
		cmocka_unit_test(test_second_reply_to_one_request),
		cmocka_unit_test(test_error_values),
		cmocka_unit_test(test_reset_inside_read_data),
		cmocka_unit_test(test_oversize_option_reply),
		cmocka_unit_test(test_go_without_export_info),
		cmocka_unit_test(test_unknown_export),
		cmocka_unit_test(test_go_unsupported_falls_back),
		cmocka_unit_test(test_eshutdown_soft_disconnect),
		cmocka_unit_test(test_one_byte_segments),
		cmocka_unit_test(test_silent_server_never_completes_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
