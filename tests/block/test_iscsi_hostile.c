// SPDX-License-Identifier: MIT
/*
 * The iSCSI initiator against a scripted target (our TCP, host 1) that
 * breaks the protocol on its first connection in one way per test and
 * behaves on the next: a malformed PDU, an unknown ITT, a wrong DataSN, a
 * wrong offset, data beyond the transfer length, GOOD status on a short
 * read, a StatSN gap, an R2T for a read, a login reject, a close in the
 * middle of a PDU, CHECK CONDITIONs (UNIT ATTENTION retried, MEDIUM ERROR
 * failed), a target that never answers, and TASK SET FULL (the command
 * held for a doubling back-off and sent again; EIO when the target never
 * has room).  The scripted target refuses MODE SENSE and VPD INQUIRY, as
 * a minimal one may: the device then offers no FUA and no UNMAP.
 *
 * Each test checks the initiator's counters and its bios' errors, and
 * every successful write completion is checked against the GOOD statuses
 * the target really sent: no write completes without one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "blk_io.h"
#include "block/iscsi_client.h"
#include "block/iscsi_proto.h"
#include "net/tcp.h"
#include "net_fixture.h"

#define PAGES 2048
#define MS NSEC_PER_MSEC
#define FAKE_BLOCKS 2048 /* 1 MiB of 512-byte blocks */
#define NR_BIOS 4

enum scen {
	SC_GOOD,
	SC_BAD_OPCODE,
	SC_UNKNOWN_ITT,
	SC_WRONG_DATASN,
	SC_WRONG_OFFSET,
	SC_OVERLONG,
	SC_SHORT_GOOD,
	SC_STATSN_GAP,
	SC_R2T_FOR_READ,
	SC_LOGIN_REJECT,
	SC_CLOSE_MID_PDU,
	SC_UNIT_ATTENTION,
	SC_MEDIUM_ERROR,
	SC_SILENT,
	SC_TASK_SET_FULL, /* the first 3 tries of a command: TASK SET FULL */
	SC_ALWAYS_FULL, /* every try: TASK SET FULL */
};

struct fake {
	struct nf_host *h;
	struct tcp_sock *l, *tp;
	enum scen sc, cur;
	unsigned conns;
	uint8_t buf[70000];
	uint32_t have;
	bool in_data;
	struct iscsi_bhs b;
	uint32_t statsn, expcmdsn;
	unsigned ncmds; /* bio commands on this connection */
	uint64_t full_at[32]; /* when the refused tries arrived */
	unsigned nr_full;
	uint64_t ok_offsets[64];
	unsigned nr_ok;
	struct tcp_sock *doomed;
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

/* ---- the scripted target ------------------------------------------------- */

static void fake_kill(struct task *k)
{
	struct fake *f = container_of(k, struct fake, kill);

	if (f->doomed)
		tcp_abort(f->doomed);
	f->doomed = NULL;
}

static void fake_close(struct fake *f, bool reset)
{
	struct tcp_sock *tp = f->tp;

	f->tp = NULL;
	tp->sk.ops = NULL;
	if (!reset) {
		tcp_close(tp);
		return;
	}
	f->doomed = tp;
	task_queue(f->h->host->loop, &f->kill);
}

static void fsend(struct fake *f, const void *p, size_t len)
{
	if (f->tp)
		assert_int_equal(tcp_send(f->tp, p, len), (ssize_t)len);
}

static void fpdu(struct fake *f, struct iscsi_bhs *h, bool status,
		 const void *data, uint32_t len)
{
	uint8_t hdr[ISCSI_BHS_LEN];
	static const uint8_t zero[3];

	h->dlen = len;
	h->w[ISCSI_W_STATSN] = status ? f->statsn++ : f->statsn;
	h->w[ISCSI_W_EXPCMDSN] = f->expcmdsn;
	h->w[ISCSI_W_MAXCMDSN] = f->expcmdsn + 16;
	iscsi_bhs_encode(hdr, h);
	fsend(f, hdr, sizeof(hdr));
	if (len) {
		fsend(f, data, len);
		if (iscsi_pad4(len) != len)
			fsend(f, zero, iscsi_pad4(len) - len);
	}
}

static void fstatus(struct fake *f, uint8_t status, uint8_t key, uint16_t asc)
{
	struct iscsi_bhs h = { .op = ISCSI_OP_SCSI_RSP,
			       .flags = ISCSI_FLAG_FINAL,
			       .itt = f->b.itt };
	uint8_t d[20];

	h.b3 = status;
	if (status == SCSI_CHECK_CONDITION) {
		nbd_put16(d, 18);
		scsi_sense_build(d + 2, key, asc);
		fpdu(f, &h, true, d, 20);
		return;
	}
	fpdu(f, &h, true, NULL, 0);
}

/* read data: pattern(offset, 9) from @lba */
static void fdata_in(struct fake *f, uint64_t lba, uint32_t len,
		     uint32_t datasn, uint32_t off, bool status)
{
	struct iscsi_bhs h = { .op = ISCSI_OP_DATA_IN,
			       .flags = ISCSI_FLAG_FINAL,
			       .itt = f->b.itt };
	static uint8_t d[65536 + 8192];

	for (uint32_t i = 0; i < len; i++)
		d[i] = bio_eng_pattern(lba * 512 + off + i, 9);
	if (status)
		h.flags |= ISCSI_DATA_STATUS;
	h.w[ISCSI_W_TTT] = ISCSI_RSVD_TAG;
	h.w[ISCSI_W_DATASN] = datasn;
	h.w[ISCSI_W_OFFSET] = off;
	fpdu(f, &h, status, d, len);
}

static void fake_login(struct fake *f)
{
	struct iscsi_bhs h = { .op = ISCSI_OP_LOGIN_RSP, .itt = f->b.itt };

	f->expcmdsn = f->b.w[ISCSI_W_CMDSN];
	f->statsn = 100;
	h.lun = f->b.lun;
	if (f->cur == SC_LOGIN_REJECT) {
		h.w[ISCSI_W_DATASN] =
			0x02020000; /* initiator error: forbidden */
		fpdu(f, &h, true, NULL, 0);
		return;
	}
	h.flags = ISCSI_LOGIN_TRANSIT | ISCSI_STAGE_OPERATIONAL << 2 |
		  ISCSI_STAGE_FULL;
	h.lun |= 7; /* TSIH */
	/* no keys: every default applies, digests off */
	fpdu(f, &h, true, NULL, 0);
}

static void fake_cmd(struct fake *f)
{
	const uint8_t *cdb = f->b.cdb;
	uint64_t lba = nbd_get32(cdb + 2);
	uint32_t len = (uint32_t)nbd_get16(cdb + 7) * 512;
	unsigned n;

	f->expcmdsn = f->b.w[ISCSI_W_CMDSN] + 1;
	if (cdb[0] == SCSI_TEST_UNIT_READY) {
		fstatus(f, SCSI_GOOD, 0, 0);
		return;
	}
	if (cdb[0] == SCSI_SERVICE_ACTION_IN_16) {
		uint8_t d[32] = { 0 };
		struct iscsi_bhs h = { .op = ISCSI_OP_DATA_IN,
				       .flags = ISCSI_FLAG_FINAL |
						ISCSI_DATA_STATUS,
				       .itt = f->b.itt };

		nbd_put64(d, FAKE_BLOCKS - 1);
		nbd_put32(d + 8, 512);
		fpdu(f, &h, true, d, 32);
		return;
	}
	/* a minimal target: no MODE SENSE, no VPD pages (no FUA, no UNMAP) */
	if (cdb[0] == SCSI_MODE_SENSE_6 || cdb[0] == SCSI_INQUIRY) {
		fstatus(f, SCSI_CHECK_CONDITION, SCSI_SENSE_ILLEGAL_REQUEST,
			SCSI_ASC_INVALID_OPCODE);
		return;
	}
	if ((f->cur == SC_TASK_SET_FULL && f->nr_full < 3) ||
	    f->cur == SC_ALWAYS_FULL) {
		if (f->nr_full < ARRAY_SIZE(f->full_at))
			f->full_at[f->nr_full] = host_now(f->h->host);
		f->nr_full++;
		fstatus(f, SCSI_TASK_SET_FULL, 0, 0);
		return;
	}
	n = f->ncmds++;
	if (n == 0) {
		switch (f->cur) {
		case SC_BAD_OPCODE: {
			uint8_t hdr[ISCSI_BHS_LEN] = { ISCSI_OP_DATA_OUT };

			fsend(f, hdr, sizeof(hdr));
			return;
		}
		case SC_UNKNOWN_ITT:
			f->b.itt ^= 0x00ff0000;
			fstatus(f, SCSI_GOOD, 0, 0);
			return;
		case SC_STATSN_GAP:
			f->statsn += 5;
			break;
		case SC_CLOSE_MID_PDU: {
			uint8_t hdr[ISCSI_BHS_LEN] = { ISCSI_OP_SCSI_RSP,
						       0x80 };

			fsend(f, hdr, 20);
			fake_close(f, false);
			return;
		}
		case SC_UNIT_ATTENTION:
			fstatus(f, SCSI_CHECK_CONDITION,
				SCSI_SENSE_UNIT_ATTENTION,
				SCSI_ASC_POWER_ON_RESET);
			return;
		case SC_MEDIUM_ERROR:
			fstatus(f, SCSI_CHECK_CONDITION,
				SCSI_SENSE_MEDIUM_ERROR,
				SCSI_ASC_UNRECOVERED_READ);
			return;
		case SC_SILENT:
			return;
		default:
			break;
		}
	}
	if (cdb[0] == SCSI_READ_10) {
		if (n == 0) {
			switch (f->cur) {
			case SC_WRONG_DATASN:
				fdata_in(f, lba, len, 1, 0, true);
				return;
			case SC_WRONG_OFFSET:
				fdata_in(f, lba, len - 512, 0, 512, true);
				return;
			case SC_OVERLONG:
				fdata_in(f, lba, len + 4096, 0, 0, true);
				return;
			case SC_SHORT_GOOD:
				fdata_in(f, lba, len / 2, 0, 0, true);
				return;
			case SC_R2T_FOR_READ: {
				struct iscsi_bhs h = { .op = ISCSI_OP_R2T,
						       .flags =
							       ISCSI_FLAG_FINAL,
						       .itt = f->b.itt };

				h.w[ISCSI_W_TTT] = 1;
				h.w[ISCSI_W_DDTL] = 512;
				fpdu(f, &h, false, NULL, 0);
				return;
			}
			default:
				break;
			}
		}
		/* two Data-In PDUs, status in the second */
		fdata_in(f, lba, len / 2, 0, 0, false);
		fdata_in(f, lba, len - len / 2, 1, len / 2, true);
		return;
	}
	if (cdb[0] == SCSI_WRITE_10) {
		/* 4 KiB bios ride wholly as immediate data */
		assert_int_equal(f->b.dlen, len);
		if (f->nr_ok < ARRAY_SIZE(f->ok_offsets))
			f->ok_offsets[f->nr_ok++] = lba * 512;
	}
	fstatus(f, SCSI_GOOD, 0, 0);
}

static void fake_pdu(struct fake *f)
{
	struct iscsi_bhs h = { 0 };

	switch (f->b.op) {
	case ISCSI_OP_LOGIN_REQ:
		fake_login(f);
		return;
	case ISCSI_OP_SCSI_CMD:
		fake_cmd(f);
		return;
	case ISCSI_OP_NOP_OUT:
		if (f->b.itt == ISCSI_RSVD_TAG || f->cur == SC_SILENT)
			return;
		h.op = ISCSI_OP_NOP_IN;
		h.flags = ISCSI_FLAG_FINAL;
		h.itt = f->b.itt;
		h.w[ISCSI_W_TTT] = ISCSI_RSVD_TAG;
		fpdu(f, &h, true, NULL, 0);
		return;
	case ISCSI_OP_LOGOUT_REQ:
		h.op = ISCSI_OP_LOGOUT_RSP;
		h.flags = ISCSI_FLAG_FINAL;
		h.itt = f->b.itt;
		fpdu(f, &h, true, NULL, 0);
		return;
	default:
		fail_msg("the initiator sent %s", iscsi_op_name(f->b.op));
	}
}

static void fake_input(struct fake *f)
{
	while (f->tp) {
		uint32_t need = f->in_data ? iscsi_pad4(f->b.dlen) :
					     ISCSI_BHS_LEN;

		while (f->tp && f->have < need) {
			ssize_t n = tcp_recv(f->tp, f->buf + f->have,
					     need - f->have);

			if (n <= 0) {
				if (n != -EAGAIN)
					fake_close(f, false);
				return;
			}
			f->have += (uint32_t)n;
		}
		if (!f->tp)
			return;
		f->have = 0;
		if (!f->in_data) {
			assert_int_equal(iscsi_bhs_decode(f->buf, false, &f->b),
					 0);
			assert_true(f->b.dlen <= sizeof(f->buf));
			if (f->b.dlen) {
				f->in_data = true;
				continue;
			}
		}
		f->in_data = false;
		fake_pdu(f);
	}
}

static void fake_readable(struct sock *sk)
{
	fake_input(sk->user);
}

static void fake_error(struct sock *sk, int err)
{
	struct fake *f = sk->user;

	if (f->tp == tcp_sk(sk))
		f->tp = NULL;
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

	while ((tp = tcp_accept(f->l))) {
		if (f->tp) {
			f->tp->sk.ops = NULL;
			tcp_abort(f->tp);
		}
		f->tp = tp;
		tp->sk.ops = &fake_ops;
		tp->sk.user = f;
		tcp_set_nodelay(tp, true);
		f->conns++;
		f->cur = f->conns == 1 ? f->sc : SC_GOOD;
		f->have = 0;
		f->in_data = false;
		f->ncmds = 0;
	}
}

static const struct sock_ops fake_listen_ops = { .readable = fake_accept };

/* ---- the initiator side ---------------------------------------------------- */

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
	for (unsigned k = 0; k < t->f.nr_ok; k++)
		replied |= t->f.ok_offsets[k] == bio->offset;
	if (!replied)
		fail_msg("write at %llu completed without GOOD status",
			 (unsigned long long)bio->offset);
}

static void ht_setup(struct ht *t, enum scen sc)
{
	struct iscsi_client_config cc = {
		.target = "iqn.2026-01.org.lifeboat:fake",
		.reconnect_ns = 50 * MS,
		.dead_ns = 5 * NSEC_PER_SEC,
		.task_timeout_ns = NSEC_PER_SEC,
	};

	memset(t, 0, sizeof(*t));
	cur_ht = t;
	t->w = nf_new(NULL, 31 + sc);
	t->c = nf_add_host(t->w, PAGES, MM_POLICY_ACCOUNTED);
	t->s = nf_add_host(t->w, PAGES, MM_POLICY_ACCOUNTED);
	t->f.h = t->s;
	t->f.sc = sc;
	task_init(&t->f.kill, fake_kill);
	t->f.l = tcp_socket(t->s->net, &fake_listen_ops, &t->f);
	assert_int_equal(tcp_bind(t->f.l, 0, ISCSI_DEFAULT_PORT), 0);
	assert_int_equal(tcp_listen(t->f.l, 4), 0);
	cc.ip = ntohl(t->s->ip);
	assert_int_equal(
		iscsi_client_create(t->c->net, &cc, on_ready, t, &t->bd), 0);
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

	snprintf(name, sizeof(name), "iscsi.iscsi0.%s", what);
	return nf_stat(t->c, name);
}

static void ht_free(struct ht *t)
{
	for (unsigned i = 0; i < NR_BIOS; i++)
		if (t->bd->attached && t->bio[i].bdev && !t->done[i])
			fail_msg("bio %u never completed", i);
	iscsi_client_destroy(t->bd);
	for (unsigned i = 0; i < NR_BIOS; i++)
		mm_page_put(t->c->mm, t->pg[i]);
	if (t->f.tp) {
		t->f.tp->sk.ops = NULL;
		tcp_abort(t->f.tp);
	}
	tcp_close(t->f.l);
	nf_run_for(t->w, 2 * TCP_TIME_WAIT_NS + NSEC_PER_SEC);
	nf_free(t->w);
}

/* One bio the first connection mishandles; the second answers it. */
static void survives(enum scen sc, enum bio_op op, int64_t proto_errors,
		     int64_t bad_itts)
{
	struct ht t;

	ht_setup(&t, sc);
	assert_int_equal(t.ready_err, 0);
	ht_submit(&t, 0, op, 8192);
	nf_run_for(t.w, 3 * NSEC_PER_SEC);
	assert_int_equal(t.done[0], 1);
	assert_int_equal(t.err[0], 0);
	if (op == BIO_READ)
		ht_check_read(&t, 0);
	assert_int_equal(t.f.conns, 2);
	assert_int_equal(cstat(&t, "proto_errors"), proto_errors);
	assert_int_equal(cstat(&t, "bad_itts"), bad_itts);
	assert_int_equal(cstat(&t, "disconnects"), 1);
	assert_int_equal(cstat(&t, "resent"), 1);
	assert_int_equal(cstat(&t, "connects"), 2);
	ht_free(&t);
}

static void test_good_target(void **state)
{
	struct ht t;

	ht_setup(&t, SC_GOOD);
	assert_int_equal(t.ready_err, 0);
	assert_int_equal(t.bd->lim.capacity, FAKE_BLOCKS * 512);
	/* MODE SENSE refused: no FUA; no LBPME: no UNMAP, no WRITE SAME */
	assert_false(t.bd->lim.fua || t.bd->lim.trim || t.bd->lim.write_zeroes);
	ht_submit(&t, 0, BIO_WRITE, 0);
	ht_submit(&t, 1, BIO_READ, 4096);
	nf_run_for(t.w, NSEC_PER_SEC);
	assert_int_equal(t.done[0] + t.done[1], 2);
	assert_int_equal(t.err[0] + t.err[1], 0);
	ht_check_read(&t, 1);
	assert_int_equal(t.f.conns, 1);
	assert_int_equal(cstat(&t, "proto_errors"), 0);
	ht_free(&t);
}

static void test_malformed_pdu(void **state)
{
	survives(SC_BAD_OPCODE, BIO_WRITE, 1, 0);
}

static void test_unknown_itt(void **state)
{
	survives(SC_UNKNOWN_ITT, BIO_WRITE, 1, 1);
}

static void test_wrong_datasn(void **state)
{
	survives(SC_WRONG_DATASN, BIO_READ, 1, 0);
}

static void test_wrong_offset(void **state)
{
	survives(SC_WRONG_OFFSET, BIO_READ, 1, 0);
}

static void test_data_beyond_transfer_length(void **state)
{
	survives(SC_OVERLONG, BIO_READ, 1, 0);
}

static void test_good_status_on_short_read(void **state)
{
	survives(SC_SHORT_GOOD, BIO_READ, 1, 0);
}

static void test_statsn_gap(void **state)
{
	survives(SC_STATSN_GAP, BIO_WRITE, 1, 0);
}

static void test_r2t_for_a_read(void **state)
{
	survives(SC_R2T_FOR_READ, BIO_READ, 1, 0);
}

static void test_close_mid_pdu(void **state)
{
	survives(SC_CLOSE_MID_PDU, BIO_WRITE, 0, 0);
}

static void test_login_reject(void **state)
{
	struct ht t;

	ht_setup(&t, SC_LOGIN_REJECT);
	assert_int_equal(t.ready_err, -EACCES);
	assert_int_equal(cstat(&t, "login_failures"), 1);
	assert_false(t.bd->attached);
	ht_free(&t);
}

static void test_unit_attention_retried(void **state)
{
	struct ht t;

	ht_setup(&t, SC_UNIT_ATTENTION);
	ht_submit(&t, 0, BIO_WRITE, 8192);
	nf_run_for(t.w, NSEC_PER_SEC);
	assert_int_equal(t.done[0], 1);
	assert_int_equal(t.err[0], 0);
	assert_int_equal(t.f.conns, 1);
	assert_int_equal(cstat(&t, "unit_attentions"), 1);
	assert_int_equal(cstat(&t, "retries"), 1);
	ht_free(&t);
}

static void test_medium_error_fails_eio(void **state)
{
	struct ht t;

	ht_setup(&t, SC_MEDIUM_ERROR);
	ht_submit(&t, 0, BIO_READ, 8192);
	nf_run_for(t.w, NSEC_PER_SEC);
	assert_int_equal(t.done[0], 1);
	assert_int_equal(t.err[0], -EIO);
	assert_int_equal(t.f.conns, 1);
	assert_int_equal(cstat(&t, "check_conditions"), 1);
	ht_free(&t);
}

static void test_silent_target_times_out(void **state)
{
	struct ht t;

	ht_setup(&t, SC_SILENT);
	ht_submit(&t, 0, BIO_WRITE, 8192);
	nf_run_for(t.w, 500 * MS);
	assert_int_equal(t.done[0], 0); /* no status, no completion */
	nf_run_for(t.w, 3 * NSEC_PER_SEC);
	assert_int_equal(t.done[0], 1);
	assert_int_equal(t.err[0], 0);
	assert_int_equal(t.f.conns, 2);
	assert_int_equal(cstat(&t, "timeouts"), 1);
	assert_true(cstat(&t, "nop_out") >= 1); /* pinged before giving up */
	ht_free(&t);
}

/* TASK SET FULL: the command waits a back-off, goes again, completes. */
static void test_task_set_full_retried(void **state)
{
	struct ht t;

	ht_setup(&t, SC_TASK_SET_FULL);
	ht_submit(&t, 0, BIO_WRITE, 8192);
	nf_run_for(t.w, 20 * MS);
	assert_int_equal(t.done[0], 0); /* held, not failed */
	nf_run_for(t.w, NSEC_PER_SEC);
	assert_int_equal(t.done[0], 1);
	assert_int_equal(t.err[0], 0); /* and GOOD only once answered so */
	assert_int_equal(t.f.nr_full, 3);
	/* nothing else in flight: each try waited a doubling back-off */
	for (unsigned i = 1; i < 3; i++)
		assert_true(t.f.full_at[i] - t.f.full_at[i - 1] >=
			    (5u << i) * MS);
	assert_int_equal(t.f.conns, 1);
	assert_int_equal(cstat(&t, "task_set_full"), 3);
	assert_int_equal(cstat(&t, "retries"), 3);
	assert_int_equal(cstat(&t, "proto_errors"), 0);
	ht_free(&t);
}

/* A target that never has room: EIO in the end, never a false GOOD. */
static void test_task_set_full_forever_fails_eio(void **state)
{
	struct ht t;

	ht_setup(&t, SC_ALWAYS_FULL);
	ht_submit(&t, 0, BIO_WRITE, 8192);
	nf_run_for(t.w, 2 * NSEC_PER_SEC);
	assert_int_equal(t.done[0], 0);
	nf_run_for(t.w, 10 * NSEC_PER_SEC);
	assert_int_equal(t.done[0], 1);
	assert_int_equal(t.err[0], -EIO);
	assert_int_equal(t.f.nr_full, 13); /* the first try, 12 back-offs */
	assert_int_equal(cstat(&t, "busy_giveups"), 1);
	assert_int_equal(t.f.conns, 1);
	ht_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_target),
		cmocka_unit_test(test_malformed_pdu),
		cmocka_unit_test(test_unknown_itt),
		cmocka_unit_test(test_wrong_datasn),
		cmocka_unit_test(test_wrong_offset),
		cmocka_unit_test(test_data_beyond_transfer_length),
		cmocka_unit_test(test_good_status_on_short_read),
		cmocka_unit_test(test_statsn_gap),
		cmocka_unit_test(test_r2t_for_a_read),
		cmocka_unit_test(test_close_mid_pdu),
		cmocka_unit_test(test_login_reject),
		cmocka_unit_test(test_unit_attention_retried),
		cmocka_unit_test(test_medium_error_fails_eio),
		cmocka_unit_test(test_silent_target_times_out),
		cmocka_unit_test(test_task_set_full_retried),
		cmocka_unit_test(test_task_set_full_forever_fails_eio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
