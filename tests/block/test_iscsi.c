// SPDX-License-Identifier: MIT
/*
 * The iSCSI initiator against our iSCSI target on the simulated switch:
 * login, setup and the device it yields; megabytes written and read back
 * by many concurrent bios of mixed sizes (immediate data, R2T and
 * Data-Out, multi-PDU Data-In), every byte checked, with and without
 * CRC32C digests and across loss, duplication and reordering; FLUSH and
 * FUA; a target restarted under load (a new login re-issues, nothing
 * lost); a target gone for good (EIO after dead_ns); a login to a name
 * the target does not serve (attach fails, says why).  TRIM as UNMAP and
 * WRITE_ZEROES as WRITE SAME(16) where the LUN's provisioning pages allow
 * them, split at its Block Limits, re-issued across a target restart;
 * FUA only where MODE SENSE offers DPOFUA; neither from a thick LUN.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "blk_io.h"
#include "block/iscsi.h"
#include "block/iscsi_client.h"
#include "block/iscsi_client_impl.h"
#include "mm/slab.h"
#include "net/tcp.h"
#include "net_fixture.h"

#define PAGES 4096
#define DISK (16u << 20)
#define MS NSEC_PER_MSEC
#define IQN "iqn.2026-01.org.lifeboat:test"

static const struct sim_link_config slow = { .bandwidth_bps = 100000000 };

struct tw {
	struct nf *w;
	struct nf_host *c, *s;
	struct blk_store store;
	struct iscsi_target *tgt;
	struct iscsi_target_config tc;
	struct iscsi_client_config cc;
	struct blkdev *bd;
	bool ready;
	int ready_err;
};

static void on_ready(struct blkdev *bd, int err, void *arg)
{
	struct tw *t = arg;

	t->ready = true;
	t->ready_err = err;
}

static void tw_setup(struct tw *t, const struct sim_link_config *lc,
		     uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->w = nf_new(lc, seed);
	t->c = nf_add_host(t->w, PAGES, MM_POLICY_ACCOUNTED);
	t->s = nf_add_host(t->w, PAGES, MM_POLICY_ACCOUNTED);
	assert_int_equal(store_open_ram(&t->store, DISK), 0);
	t->tc = (struct iscsi_target_config){ .iqn = IQN,
					      .lun = 1,
					      .store = &t->store };
	t->tgt = iscsi_target_create(t->s->net, &t->tc);
	assert_non_null(t->tgt);
	t->cc = (struct iscsi_client_config){
		.ip = ntohl(t->s->ip),
		.target = IQN,
		.lun = 1,
		.reconnect_ns = 50 * MS,
		.dead_ns = 10 * NSEC_PER_SEC,
	};
}

static int tw_try_connect(struct tw *t)
{
	assert_int_equal(
		iscsi_client_create(t->c->net, &t->cc, on_ready, t, &t->bd), 0);
	for (int i = 0; i < 500 && !t->ready; i++)
		nf_run_for(t->w, 10 * MS);
	assert_true(t->ready);
	return t->ready_err;
}

static void tw_connect(struct tw *t)
{
	assert_int_equal(tw_try_connect(t), 0);
}

static void tw_run(struct tw *t, struct bio_eng *e, uint64_t max_ns)
{
	for (uint64_t ns = 0; ns < max_ns && !bio_eng_done(e); ns += 10 * MS)
		nf_run_for(t->w, 10 * MS);
	assert_true(bio_eng_done(e));
}

static int64_t cstat(struct tw *t, const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), "iscsi.iscsi0.%s", what);
	return nf_stat(t->c, name);
}

static int64_t sstat(struct tw *t, const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), "iscsi.target.3260.%s", what);
	return nf_stat(t->s, name);
}

static void tw_free(struct tw *t)
{
	if (t->bd)
		iscsi_client_destroy(t->bd);
	if (t->tgt)
		iscsi_target_destroy(t->tgt);
	nf_run_for(t->w, 2 * TCP_TIME_WAIT_NS + NSEC_PER_SEC);
	nf_free(t->w);
	store_close(&t->store);
}

static void check_reserves(const struct mm_reserve *r)
{
	const struct mm_reserve *c;

	if (r->hwm.v > r->size.v)
		fail_msg("reserve %s: hwm %lld > size %lld", r->name,
			 (long long)r->hwm.v, (long long)r->size.v);
	list_for_each_entry(c, &r->children, sibling)
		check_reserves(c);
}

static void write_read_verify(struct tw *t, struct bio_eng *e, uint64_t base,
			      uint64_t len, uint64_t max_ns)
{
	bio_eng_start(e, BIO_WRITE, base, len, 512, 64 * 1024);
	tw_run(t, e, max_ns);
	assert_int_equal(e->errors, 0);
	assert_memory_equal(t->store.ram + base, e->shadow + base, len);
	bio_eng_start(e, BIO_READ, base, len, 512, 64 * 1024);
	tw_run(t, e, max_ns);
	assert_int_equal(e->errors, 0);
	assert_int_equal(e->bad_bytes, 0);
}

static void test_login_and_device(void **state)
{
	struct tw t;

	tw_setup(&t, NULL, 1);
	tw_connect(&t);
	assert_int_equal(t.bd->lim.capacity, DISK);
	assert_int_equal(t.bd->lim.max_request, 64 * 1024);
	assert_int_equal(t.bd->lim.queue_depth, 32);
	assert_true(t.bd->lim.flush && t.bd->lim.fua && !t.bd->lim.read_only);
	assert_non_null(mm_reserve_find(t.c->mm, "block.iscsi0"));
	assert_int_equal(cstat(&t, "connects"), 1);
	assert_int_equal(sstat(&t, "logins"), 1);
	/* TEST UNIT READY, READ CAPACITY 16, MODE SENSE, VPD 0xb2, 0xb0 */
	assert_int_equal(sstat(&t, "commands"), 5);
	assert_true(t.bd->lim.trim && t.bd->lim.write_zeroes);
	iscsi_client_destroy(t.bd);
	t.bd = NULL;
	nf_run_for(t.w, 100 * MS);
	/* idle: a Logout, which the target saw */
	assert_int_equal(sstat(&t, "logouts"), 1);
	assert_null(mm_reserve_find(t.c->mm, "block.iscsi0"));
	tw_free(&t);
}

static void test_write_read_many_concurrent(void **state)
{
	struct tw t;
	struct bio_eng e;

	tw_setup(&t, NULL, 2);
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 32, 7);
	write_read_verify(&t, &e, 0, 8u << 20, 60 * NSEC_PER_SEC);
	write_read_verify(&t, &e, 1u << 20, 3u << 20, 60 * NSEC_PER_SEC);
	print_message(
		"verified 11 MiB written and 11 MiB read in %llu bios: %lld R2Ts, %lld Data-Out, %lld Data-In PDUs\n",
		(unsigned long long)e.bios_done, (long long)cstat(&t, "r2ts"),
		(long long)cstat(&t, "data_out_pdus"),
		(long long)cstat(&t, "data_in_pdus"));
	/* the target took commands while others were in flight (its window
	 * is 32 task slots), so the initiator never waited for the window */
	print_message("%lld commands arrived while others were in flight\n",
		      (long long)sstat(&t, "tasks_overlapped"));
	assert_true(sstat(&t, "tasks_overlapped") > 0);
	assert_int_equal(cstat(&t, "window_stalls"), 0);
	assert_int_equal(sstat(&t, "task_set_full"), 0);
	assert_true(cstat(&t, "r2ts") > 0);
	assert_int_equal(cstat(&t, "proto_errors"), 0);
	assert_int_equal(cstat(&t, "disconnects"), 0);
	assert_int_equal(sstat(&t, "proto_errors"), 0);
	check_reserves(mm_reserve_root(t.c->mm));
	bio_eng_free(&e);
	tw_free(&t);
}

static void test_digests(void **state)
{
	struct tw t;
	struct bio_eng e;

	tw_setup(&t, NULL, 3);
	t.cc.header_digest = t.cc.data_digest = true;
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 16, 3);
	write_read_verify(&t, &e, 0, 2u << 20, 60 * NSEC_PER_SEC);
	assert_int_equal(cstat(&t, "digest_errors"), 0);
	assert_int_equal(sstat(&t, "digest_errors"), 0);
	assert_int_equal(cstat(&t, "proto_errors"), 0);
	bio_eng_free(&e);
	tw_free(&t);
}

struct one {
	int done, err;
};

static void one_end(struct bio *bio)
{
	struct one *o = bio->private;

	o->done++;
	o->err = bio->error;
}

static int one_bio(struct tw *t, enum bio_op op, uint64_t off, uint32_t size,
		   unsigned flags)
{
	struct bio bio;
	struct one o = { 0 };

	bio_init(&bio, t->bd, op);
	bio.offset = off;
	bio.size = size;
	bio.flags = flags;
	bio.end_io = one_end;
	bio.private = &o;
	assert_int_equal(blk_submit(&bio), 0);
	for (int i = 0; i < 500 && !o.done; i++)
		nf_run_for(t->w, 10 * MS);
	assert_int_equal(o.done, 1);
	return o.err;
}

static void test_flush_fua(void **state)
{
	struct tw t;
	struct bio_eng e;
	uint64_t flushes;

	tw_setup(&t, NULL, 4);
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 16, 4);
	e.flags = BIO_FUA;
	bio_eng_start(&e, BIO_WRITE, 0, 1u << 20, 4096, 64 * 1024);
	tw_run(&t, &e, 20 * NSEC_PER_SEC);
	e.flags = 0;
	assert_int_equal(e.errors, 0);
	/* every FUA write was flushed on the target before its status */
	assert_int_equal(t.store.flushes, e.bios_done);
	flushes = t.store.flushes;
	assert_int_equal(one_bio(&t, BIO_FLUSH, 0, 0, 0), 0);
	assert_int_equal(t.store.flushes, flushes + 1);
	bio_eng_free(&e);
	tw_free(&t);
}

static void test_loss_dup_reorder(void **state)
{
	struct sim_link_config lc = {
		.loss = 0.04, .dup = 0.02, .reorder = 0.05, .reorder_ns = 2 * MS
	};
	struct tw t;
	struct bio_eng e;

	tw_setup(&t, &lc, 5);
	t.cc.header_digest = t.cc.data_digest = true;
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 32, 5);
	write_read_verify(&t, &e, 2u << 20, 2u << 20, 300 * NSEC_PER_SEC);
	assert_true(t.w->link.st.lost.v > 0 && t.w->link.st.duplicated.v > 0);
	assert_int_equal(cstat(&t, "proto_errors"), 0);
	bio_eng_free(&e);
	tw_free(&t);
}

static void test_target_restart_under_load(void **state)
{
	struct tw t;
	struct bio_eng e;

	tw_setup(&t, &slow, 6);
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 32, 6);
	bio_eng_start(&e, BIO_WRITE, 0, 4u << 20, 512, 64 * 1024);
	nf_run_for(t.w, 20 * MS);
	assert_true(e.inflight > 0);
	iscsi_target_destroy(t.tgt);
	nf_run_for(t.w, 300 * MS);
	t.tgt = iscsi_target_create(t.s->net, &t.tc);
	assert_non_null(t.tgt);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_memory_equal(t.store.ram, e.shadow, 4u << 20);
	bio_eng_start(&e, BIO_READ, 0, 4u << 20, 512, 64 * 1024);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors + e.bad_bytes, 0);
	print_message(
		"target restart: %lld disconnects, %lld reconnect attempts, %lld commands re-issued\n",
		(long long)cstat(&t, "disconnects"),
		(long long)cstat(&t, "reconnects"),
		(long long)cstat(&t, "resent"));
	assert_int_equal(cstat(&t, "disconnects"), 1);
	assert_true(cstat(&t, "resent") >= 1);
	assert_int_equal(cstat(&t, "connects"), 2);
	bio_eng_free(&e);
	tw_free(&t);
}

static void test_target_gone_fails_eio(void **state)
{
	struct tw t;
	struct bio_eng e;

	tw_setup(&t, NULL, 7);
	t.cc.dead_ns = 2 * NSEC_PER_SEC;
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 8, 7);
	iscsi_target_destroy(t.tgt);
	t.tgt = NULL;
	bio_eng_start(&e, BIO_WRITE, 0, 256u << 10, 4096, 64 * 1024);
	tw_run(&t, &e, 30 * NSEC_PER_SEC);
	/* never completed falsely: every write failed with EIO */
	assert_true(e.errors > 0);
	assert_int_equal(e.last_error, -EIO);
	assert_true(cstat(&t, "failed_dead") > 0);
	bio_eng_free(&e);
	tw_free(&t);
}

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_unmap_write_zeroes(void **state)
{
	struct tw t;
	struct bio_eng e;
	uint64_t before;

	tw_setup(&t, NULL, 8);
	tw_connect(&t);
	assert_true(t.bd->lim.trim && t.bd->lim.write_zeroes && t.bd->lim.fua);
	bio_eng_init(&e, t.bd, 16, 8);
	bio_eng_start(&e, BIO_WRITE, 0, 2u << 20, 4096, 64 * 1024);
	tw_run(&t, &e, 20 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	/* TRIM: bios of 512 B .. 64 KiB, one UNMAP each (the limit is big) */
	before = e.bios_done;
	bio_eng_start(&e, BIO_TRIM, 256u << 10, 1u << 20, 512, 64 * 1024);
	tw_run(&t, &e, 20 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_int_equal(cstat(&t, "unmaps"), e.bios_done - before);
	assert_int_equal(t.store.trims, e.bios_done - before);
	assert_true(zero(t.store.ram + (256u << 10), 1u << 20));
	/* WRITE_ZEROES: WRITE SAME(16), UNMAP bit since LBPRZ is set */
	before = e.bios_done;
	bio_eng_start(&e, BIO_WRITE_ZEROES, 1536u << 10, 512u << 10, 512,
		      64 * 1024);
	tw_run(&t, &e, 20 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_int_equal(cstat(&t, "write_sames"), e.bios_done - before);
	assert_true(t.store.trims > e.bios_done - before);
	assert_memory_equal(t.store.ram, e.shadow, 2u << 20);
	bio_eng_start(&e, BIO_READ, 0, 2u << 20, 512, 64 * 1024);
	tw_run(&t, &e, 20 * NSEC_PER_SEC);
	assert_int_equal(e.errors + e.bad_bytes, 0);
	assert_int_equal(cstat(&t, "proto_errors"), 0);
	bio_eng_free(&e);
	tw_free(&t);
}

static void test_unmap_split_fua_restart(void **state)
{
	struct tw t;
	struct bio_eng e;
	uint64_t flushes, before;
	int64_t unmaps;

	tw_setup(&t, &slow, 9);
	/* MAXIMUM UNMAP LBA COUNT 24: a 64 KiB TRIM takes 6 commands */
	t.tc.max_unmap = 24;
	iscsi_target_destroy(t.tgt);
	t.tgt = iscsi_target_create(t.s->net, &t.tc);
	assert_non_null(t.tgt);
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 32, 9);
	bio_eng_start(&e, BIO_WRITE, 0, 4u << 20, 4096, 64 * 1024);
	tw_run(&t, &e, 30 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_int_equal(one_bio(&t, BIO_TRIM, 40960 + 512, 64 * 1024, 0), 0);
	assert_int_equal(cstat(&t, "unmaps"), 6);
	assert_int_equal(t.store.trims, 6);
	memset(e.shadow + 40960 + 512, 0, 64 * 1024);
	assert_memory_equal(t.store.ram, e.shadow, 4u << 20);
	/* a FUA TRIM ends with SYNCHRONIZE CACHE before it completes */
	flushes = t.store.flushes;
	assert_int_equal(one_bio(&t, BIO_TRIM, 1u << 20, 4096, BIO_FUA), 0);
	assert_int_equal(t.store.flushes, flushes + 1);
	memset(e.shadow + (1u << 20), 0, 4096);
	/* the target restarts with split TRIMs in flight: none is lost */
	unmaps = cstat(&t, "unmaps");
	before = e.bios_done;
	bio_eng_start(&e, BIO_TRIM, 0, 4u << 20, 16384, 64 * 1024);
	nf_run_for(t.w, 1 * MS);
	assert_true(e.inflight > 0);
	iscsi_target_destroy(t.tgt);
	nf_run_for(t.w, 300 * MS);
	t.tgt = iscsi_target_create(t.s->net, &t.tc);
	assert_non_null(t.tgt);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_int_equal(cstat(&t, "disconnects"), 1);
	assert_true(cstat(&t, "resent") >= 1);
	/* more UNMAPs than TRIMs: split, and pieces re-sent */
	assert_true(cstat(&t, "unmaps") - unmaps >
		    (int64_t)(e.bios_done - before));
	assert_true(zero(t.store.ram, 4u << 20));
	assert_int_equal(cstat(&t, "proto_errors"), 0);
	bio_eng_free(&e);
	tw_free(&t);
}

static void test_thick_lun_no_unmap_no_fua(void **state)
{
	struct tw t;
	struct bio bio;
	struct bio_eng e;

	tw_setup(&t, NULL, 10);
	t.tc.thick = true;
	t.tc.no_dpofua = true;
	iscsi_target_destroy(t.tgt);
	t.tgt = iscsi_target_create(t.s->net, &t.tc);
	assert_non_null(t.tgt);
	tw_connect(&t);
	assert_false(t.bd->lim.trim);
	assert_false(t.bd->lim.write_zeroes);
	assert_false(t.bd->lim.fua);
	assert_true(t.bd->lim.flush);
	/* refused cleanly at submission, as for an NBD export without them */
	bio_init(&bio, t.bd, BIO_TRIM);
	bio.size = 4096;
	assert_int_equal(blk_submit(&bio), -EOPNOTSUPP);
	bio_init(&bio, t.bd, BIO_WRITE_ZEROES);
	bio.size = 4096;
	assert_int_equal(blk_submit(&bio), -EOPNOTSUPP);
	/* no DPOFUA: a FUA write is refused, not completed as if stable */
	bio_init(&bio, t.bd, BIO_WRITE);
	bio.size = 4096;
	bio.flags = BIO_FUA;
	assert_int_equal(blk_submit(&bio), -EOPNOTSUPP);
	bio_eng_init(&e, t.bd, 8, 10);
	write_read_verify(&t, &e, 0, 1u << 20, 20 * NSEC_PER_SEC);
	assert_int_equal(cstat(&t, "unmaps") + cstat(&t, "write_sames"), 0);
	bio_eng_free(&e);
	tw_free(&t);
}

/*
 * Our target runs one buffered command (UNMAP, WRITE SAME) at a time and
 * answers TASK SET FULL to others meanwhile; with ImmediateData=No
 * (UNMAP's list and WRITE SAME's block then go by R2T and Data-Out) 32
 * small TRIMs and
 * WRITE_ZEROES at once provoke it.  Every one is held, sent again and
 * completes; none fails, none completes before the target did it.
 */
static void test_task_set_full_from_our_target(void **state)
{
	struct tw t;
	struct bio_eng e;

	tw_setup(&t, NULL, 11);
	/* parameter lists by R2T: the target holds its buffer meanwhile */
	t.cc.no_immediate_data = true;
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 32, 11);
	bio_eng_start(&e, BIO_WRITE, 0, 1u << 20, 4096, 64 * 1024);
	tw_run(&t, &e, 20 * NSEC_PER_SEC);
	bio_eng_start(&e, BIO_TRIM, 0, 512u << 10, 512, 4096);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	bio_eng_start(&e, BIO_WRITE_ZEROES, 512u << 10, 512u << 10, 512, 4096);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	print_message("TASK SET FULL: %lld answered, %lld held and re-sent\n",
		      (long long)sstat(&t, "task_set_full"),
		      (long long)cstat(&t, "retries"));
	assert_true(sstat(&t, "task_set_full") > 0);
	assert_int_equal(cstat(&t, "task_set_full"),
			 sstat(&t, "task_set_full"));
	assert_int_equal(cstat(&t, "busy_giveups"), 0);
	assert_true(zero(t.store.ram, 1u << 20));
	assert_int_equal(cstat(&t, "proto_errors"), 0);
	bio_eng_free(&e);
	tw_free(&t);
}

/*
 * The goal: one device at queue depth 32 needs at most 1 MiB of
 * reserve (block.<dev> and its connection's net.tx and net.rxq), with the
 * reserve figures printed.  Then it moves 4 MiB each way with every
 * reserve within its size.
 */
static void test_reserve_qd32(void **state)
{
	struct tw t;
	struct bio_eng e;
	struct iscsi_client *c;
	size_t blk, tx, rx;

	tw_setup(&t, NULL, 12);
	tw_connect(&t);
	c = t.bd->driver;
	assert_int_equal(t.bd->lim.queue_depth, 32);
	blk = (size_t)t.bd->rsv.size.v;
	tx = (size_t)c->tp->sk.tx_rsv.size.v;
	rx = (size_t)c->tp->sk.rxq_rsv.size.v;
	print_message(
		"reserve at qd32: block.iscsi0 %zu + net.tx %zu (sndbuf %u) + net.rxq %zu (rcvbuf %u) = %zu pages, %zu bytes; MSS %u, MaxRecvDataSegmentLength %u/%u, MaxBurst %u, FirstBurst %u\n",
		blk, tx, c->tp->sndbuf, rx, c->tp->rcvbuf, blk + tx + rx,
		(blk + tx + rx) * PAGE_SIZE, c->tp->mss, c->p.max_recv_dsl,
		c->p.max_xmit_dsl, c->p.max_burst, c->p.first_burst);
	assert_true((blk + tx + rx) * PAGE_SIZE <= 1u << 20);
	bio_eng_init(&e, t.bd, 32, 12);
	write_read_verify(&t, &e, 0, 4u << 20, 60 * NSEC_PER_SEC);
	check_reserves(mm_reserve_root(t.c->mm));
	bio_eng_free(&e);
	tw_free(&t);
}

static void tw_chap_target(struct tw *t, const char *user, const char *secret)
{
	t->tc.chap_user = user;
	t->tc.chap_secret = secret;
	iscsi_target_destroy(t->tgt);
	t->tgt = iscsi_target_create(t->s->net, &t->tc);
	assert_non_null(t->tgt);
}

/* CHAP: the right secret logs in (again after a restart), data flows. */
static void test_chap_login(void **state)
{
	struct tw t;
	struct bio_eng e;

	tw_setup(&t, &slow, 13);
	tw_chap_target(&t, "lbuser", "a secret of 16 b");
	t.cc.chap_user = "lbuser";
	t.cc.chap_secret = "a secret of 16 b";
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 16, 13);
	write_read_verify(&t, &e, 0, 1u << 20, 20 * NSEC_PER_SEC);
	/* a new login answers a new challenge */
	bio_eng_start(&e, BIO_WRITE, 0, 1u << 20, 4096, 64 * 1024);
	nf_run_for(t.w, 2 * MS);
	assert_true(e.inflight > 0);
	iscsi_target_destroy(t.tgt);
	nf_run_for(t.w, 100 * MS);
	t.tgt = iscsi_target_create(t.s->net, &t.tc);
	assert_non_null(t.tgt);
	tw_run(&t, &e, 30 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_memory_equal(t.store.ram, e.shadow, 1u << 20);
	assert_int_equal(cstat(&t, "connects"), 2);
	assert_int_equal(sstat(&t, "auth_failures"), 0);
	bio_eng_free(&e);
	tw_free(&t);
}

/* A wrong secret, or none, never gets a session; the reason is logged. */
static void test_chap_refused(void **state)
{
	static const char *const secrets[] = { "not the secret", NULL };

	for (int i = 0; i < 2; i++) {
		struct tw t;

		tw_setup(&t, NULL, 14);
		tw_chap_target(&t, "lbuser", "a secret of 16 b");
		t.cc.chap_user = secrets[i] ? "lbuser" : NULL;
		t.cc.chap_secret = secrets[i];
		assert_int_equal(tw_try_connect(&t), -EACCES);
		assert_false(t.bd->attached);
		assert_int_equal(sstat(&t, "auth_failures"), 1);
		assert_int_equal(sstat(&t, "logins"), 0);
		tw_free(&t);
	}
}

/* Credentials and a target that asks for none: AuthMethod=None. */
static void test_chap_not_asked(void **state)
{
	struct tw t;

	tw_setup(&t, NULL, 15);
	t.cc.chap_user = "lbuser";
	t.cc.chap_secret = "whatever";
	tw_connect(&t);
	assert_int_equal(sstat(&t, "logins"), 1);
	tw_free(&t);
}

static void test_unknown_target_name(void **state)
{
	struct tw t;

	tw_setup(&t, NULL, 8);
	t.cc.target = "iqn.2026-01.org.lifeboat:nosuch";
	assert_int_equal(tw_try_connect(&t), -ENOENT);
	assert_int_equal(cstat(&t, "login_failures"), 1);
	assert_int_equal(sstat(&t, "login_rejects"), 1);
	iscsi_client_destroy(t.bd);
	t.bd = NULL;
	tw_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_and_device),
		cmocka_unit_test(test_write_read_many_concurrent),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_flush_fua),
		cmocka_unit_test(test_loss_dup_reorder),
		cmocka_unit_test(test_target_restart_under_load),
		cmocka_unit_test(test_target_gone_fails_eio),
		cmocka_unit_test(test_unknown_target_name),
		cmocka_unit_test(test_unmap_write_zeroes),
		cmocka_unit_test(test_unmap_split_fua_restart),
		cmocka_unit_test(test_thick_lun_no_unmap_no_fua),
		cmocka_unit_test(test_task_set_full_from_our_target),
		cmocka_unit_test(test_reserve_qd32),
		cmocka_unit_test(test_chap_login),
		cmocka_unit_test(test_chap_refused),
		cmocka_unit_test(test_chap_not_asked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
