// SPDX-License-Identifier: MIT
/*
 * The NBD client against our NBD server on the simulated switch: the
 * handshake and the device it yields; megabytes written and read back by
 * many concurrent bios of mixed sizes, every byte checked, also across
 * loss, duplication and reordering; FLUSH, FUA, TRIM and WRITE_ZEROES; a
 * stalled server; a server restarted under load and a partition that
 * heals (requests sent again, nothing lost); a server gone for good (EIO
 * after dead_ns, no hang); the client host's normal memory exhausted
 * (writes and a reconnect run on reserves, every reserve within its size);
 * and a device refused because its reserve does not fit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "blk_io.h"
#include "block/nbd.h"
#include "block/nbd_client_impl.h"
#include "mm/slab.h"
#include "net/tcp.h"
#include "net_fixture.h"

#define PAGES 4096
#define DISK (16u << 20)
#define MS NSEC_PER_MSEC

/* 100 Mbit/s: a few MiB take long enough for faults to land mid-flight */
static const struct sim_link_config slow = { .bandwidth_bps = 100000000 };

struct tw {
	struct nf *w;
	struct nf_host *c, *s;
	struct blk_store store;
	struct nbd_server *srv;
	struct nbd_server_config sc;
	struct nbd_client_config cc;
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
		     uint64_t seed, size_t client_pages)
{
	memset(t, 0, sizeof(*t));
	t->w = nf_new(lc, seed);
	t->c = nf_add_host(t->w, client_pages, MM_POLICY_ACCOUNTED);
	t->s = nf_add_host(t->w, PAGES, MM_POLICY_ACCOUNTED);
	assert_int_equal(store_open_ram(&t->store, DISK), 0);
	t->sc = (struct nbd_server_config){ .export_name = "disk",
					    .store = &t->store };
	t->srv = nbd_server_create(t->s->net, &t->sc);
	assert_non_null(t->srv);
	t->cc = (struct nbd_client_config){
		.ip = ntohl(t->s->ip),
		.export_name = "disk",
		.reconnect_ns = 50 * MS,
		.dead_ns = 10 * NSEC_PER_SEC,
	};
}

static void tw_connect(struct tw *t)
{
	assert_int_equal(
		nbd_client_create(t->c->net, &t->cc, on_ready, t, &t->bd), 0);
	for (int i = 0; i < 500 && !t->ready; i++)
		nf_run_for(t->w, 10 * MS);
	assert_true(t->ready);
	assert_int_equal(t->ready_err, 0);
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

	snprintf(name, sizeof(name), "nbd.nbd0.%s", what);
	return nf_stat(t->c, name);
}

static int64_t sstat(struct tw *t, const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), "nbd.server.10809.%s", what);
	return nf_stat(t->s, name);
}

static void tw_free(struct tw *t)
{
	if (t->bd)
		nbd_client_destroy(t->bd);
	if (t->srv)
		nbd_server_destroy(t->srv);
	nf_run_for(t->w, 2 * TCP_TIME_WAIT_NS + NSEC_PER_SEC);
	nf_free(t->w);
	store_close(&t->store);
}

/* Every reserve of @mm used no more than its size. */
static void check_reserves(const struct mm_reserve *r)
{
	const struct mm_reserve *c;

	if (r->hwm.v > r->size.v)
		fail_msg("reserve %s: hwm %lld > size %lld", r->name,
			 (long long)r->hwm.v, (long long)r->size.v);
	list_for_each_entry(c, &r->children, sibling)
		check_reserves(c);
}

/* Write @len at @base, read it back, compare the server's store too. */
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

static void test_handshake_and_device(void **state)
{
	struct tw t;

	tw_setup(&t, NULL, 1, PAGES);
	tw_connect(&t);
	assert_int_equal(t.bd->lim.capacity, DISK);
	/* 128 KiB asked, 32 MiB offered: the block layer's 64 KiB */
	assert_int_equal(t.bd->lim.max_request, 64 * 1024);
	assert_int_equal(t.bd->lim.queue_depth, 32);
	assert_true(t.bd->lim.flush && t.bd->lim.fua && t.bd->lim.trim &&
		    t.bd->lim.write_zeroes && !t.bd->lim.read_only);
	assert_non_null(mm_reserve_find(t.c->mm, "block.nbd0"));
	assert_int_equal(cstat(&t, "connects"), 1);
	assert_int_equal(sstat(&t, "connections"), 1);
	nbd_client_destroy(t.bd);
	t.bd = NULL;
	nf_run_for(t.w, 100 * MS);
	/* idle: a soft disconnect, which the server saw */
	assert_int_equal(sstat(&t, "soft_disconnects"), 1);
	assert_null(mm_reserve_find(t.c->mm, "block.nbd0"));
	tw_free(&t);
}

static void test_write_read_many_concurrent(void **state)
{
	struct tw t;
	struct bio_eng e;

	tw_setup(&t, NULL, 2, PAGES);
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 32, 7);
	write_read_verify(&t, &e, 0, 8u << 20, 60 * NSEC_PER_SEC);
	/* overwrite part of it and check again */
	write_read_verify(&t, &e, 1u << 20, 3u << 20, 60 * NSEC_PER_SEC);
	print_message("verified 11 MiB written and 11 MiB read in %llu bios\n",
		      (unsigned long long)e.bios_done);
	assert_int_equal(cstat(&t, "proto_errors"), 0);
	assert_int_equal(cstat(&t, "disconnects"), 0);
	check_reserves(mm_reserve_root(t.c->mm));
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

/* One bio without data (FLUSH, TRIM, WRITE_ZEROES), waited for. */
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

static void test_flush_fua_trim_zeroes(void **state)
{
	struct tw t;
	struct bio_eng e;
	uint64_t flushes;

	tw_setup(&t, NULL, 3, PAGES);
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 16, 3);
	e.flags = BIO_FUA;
	bio_eng_start(&e, BIO_WRITE, 0, 1u << 20, 4096, 64 * 1024);
	tw_run(&t, &e, 20 * NSEC_PER_SEC);
	e.flags = 0;
	assert_int_equal(e.errors, 0);
	/* every FUA write was flushed on the server before its reply */
	assert_int_equal(t.store.flushes, e.bios_done);
	flushes = t.store.flushes;
	assert_int_equal(one_bio(&t, BIO_FLUSH, 0, 0, 0), 0);
	assert_int_equal(t.store.flushes, flushes + 1);
	/* TRIM too is bounded by the device's max request */
	assert_int_equal(one_bio(&t, BIO_TRIM, 64 * 1024, 64 * 1024, 0), 0);
	memset(e.shadow + 64 * 1024, 0, 64 * 1024);
	assert_int_equal(one_bio(&t, BIO_WRITE_ZEROES, 512 * 1024, 36 * 1024,
				 BIO_FUA),
			 0);
	memset(e.shadow + 512 * 1024, 0, 36 * 1024);
	assert_int_equal(t.store.trims, 1);
	bio_eng_start(&e, BIO_READ, 0, 1u << 20, 512, 64 * 1024);
	tw_run(&t, &e, 20 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_int_equal(e.bad_bytes, 0);
	assert_int_equal(sstat(&t, "flushes"), 1);
	assert_int_equal(sstat(&t, "trims"), 1);
	assert_int_equal(sstat(&t, "write_zeroes"), 1);
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

	tw_setup(&t, &lc, 4, PAGES);
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 32, 4);
	write_read_verify(&t, &e, 2u << 20, 4u << 20, 300 * NSEC_PER_SEC);
	print_message(
		"4 MiB each way across 4%% loss, 2%% duplication, 5%% reordering: %lld + %lld TCP retransmissions, %llu frames lost\n",
		(long long)nf_stat(t.c, "tcp.retransmits"),
		(long long)nf_stat(t.s, "tcp.retransmits"),
		(unsigned long long)t.w->link.st.lost.v);
	assert_true(t.w->link.st.lost.v > 0 && t.w->link.st.duplicated.v > 0);
	assert_int_equal(cstat(&t, "proto_errors"), 0);
	bio_eng_free(&e);
	tw_free(&t);
}

static void test_server_stall(void **state)
{
	struct tw t;
	struct bio_eng e;
	uint64_t start, reqs;

	tw_setup(&t, &slow, 5, PAGES);
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 32, 5);
	start = host_now(t.c->host);
	bio_eng_start(&e, BIO_WRITE, 0, 4u << 20, 512, 64 * 1024);
	nf_run_for(t.w, 5 * MS);
	nbd_server_set_stall(t.srv, host_now(t.s->host) + 3 * NSEC_PER_SEC);
	reqs = (uint64_t)sstat(&t, "requests");
	nf_run_for(t.w, 2 * NSEC_PER_SEC);
	/* nothing served while stalled, nothing given up by the client */
	assert_int_equal(sstat(&t, "requests"), reqs);
	assert_false(bio_eng_done(&e));
	assert_int_equal(e.errors, 0);
	tw_run(&t, &e, 30 * NSEC_PER_SEC);
	assert_true(host_now(t.c->host) - start > 3 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_memory_equal(t.store.ram, e.shadow, 4u << 20);
	assert_int_equal(cstat(&t, "disconnects"), 0);
	bio_eng_free(&e);
	tw_free(&t);
}

/*
 * With stall_ns set, a server that holds every request is reported once
 * (nbd.<dev>.stalls) while the requests wait, and the report clears when
 * replies come again; a flowing transfer is no stall.
 */
static void test_stall_reported(void **state)
{
	struct tw t;
	struct bio_eng e;
	struct nbd_client *c;

	tw_setup(&t, &slow, 15, PAGES);
	t.cc.stall_ns = NSEC_PER_SEC;
	tw_connect(&t);
	c = t.bd->driver;
	bio_eng_init(&e, t.bd, 32, 15);
	bio_eng_start(&e, BIO_WRITE, 0, 8u << 20, 512, 64 * 1024);
	nf_run_for(t.w, 300 * MS);
	assert_false(bio_eng_done(&e));
	assert_int_equal(cstat(&t, "stalls"), 0);
	nbd_server_set_stall(t.srv, host_now(t.s->host) + 4 * NSEC_PER_SEC);
	nf_run_for(t.w, 3 * NSEC_PER_SEC);
	assert_int_equal(cstat(&t, "stalls"), 1);
	assert_true(c->stalled);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_memory_equal(t.store.ram, e.shadow, 8u << 20);
	assert_false(c->stalled);
	assert_int_equal(cstat(&t, "stalls"), 1);
	/* idle with nothing outstanding: the check stops re-arming */
	nf_run_for(t.w, 3 * NSEC_PER_SEC);
	assert_true(list_empty(&c->rqs));
	assert_false(timer_armed(&c->stall_timer));
	bio_eng_free(&e);
	tw_free(&t);
}

static void test_server_restart_under_load(void **state)
{
	struct tw t;
	struct bio_eng e;

	tw_setup(&t, &slow, 6, PAGES);
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 32, 6);
	bio_eng_start(&e, BIO_WRITE, 0, 6u << 20, 512, 64 * 1024);
	nf_run_for(t.w, 20 * MS);
	assert_true(e.inflight > 0);
	/* the server goes (its connections reset) and comes back */
	nbd_server_destroy(t.srv);
	nf_run_for(t.w, 300 * MS);
	t.srv = nbd_server_create(t.s->net, &t.sc);
	assert_non_null(t.srv);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_memory_equal(t.store.ram, e.shadow, 6u << 20);
	bio_eng_start(&e, BIO_READ, 0, 6u << 20, 512, 64 * 1024);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors + e.bad_bytes, 0);
	print_message(
		"server restart: %lld disconnects, %lld reconnect attempts, %lld requests sent again\n",
		(long long)cstat(&t, "disconnects"),
		(long long)cstat(&t, "reconnects"),
		(long long)cstat(&t, "resent"));
	assert_int_equal(cstat(&t, "disconnects"), 1);
	assert_true(cstat(&t, "reconnects") >= 1);
	assert_true(cstat(&t, "resent") >= 1);
	assert_int_equal(cstat(&t, "connects"), 2);
	bio_eng_free(&e);
	tw_free(&t);
}

static void test_partition_heals(void **state)
{
	struct tw t;
	struct bio_eng e;

	tw_setup(&t, &slow, 7, PAGES);
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 32, 7);
	bio_eng_start(&e, BIO_WRITE, 0, 4u << 20, 512, 64 * 1024);
	nf_run_for(t.w, 10 * MS);
	t.w->link.down = true;
	nf_run_for(t.w, 4 * NSEC_PER_SEC);
	assert_false(bio_eng_done(&e));
	t.w->link.down = false;
	tw_run(&t, &e, 120 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_memory_equal(t.store.ram, e.shadow, 4u << 20);
	bio_eng_free(&e);
	tw_free(&t);
}

static void test_dead_server_fails_then_recovers(void **state)
{
	struct tw t;
	struct bio_eng e;
	uint64_t gone;

	tw_setup(&t, &slow, 8, PAGES);
	t.cc.dead_ns = 2 * NSEC_PER_SEC;
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 32, 8);
	bio_eng_start(&e, BIO_WRITE, 0, 2u << 20, 512, 64 * 1024);
	nf_run_for(t.w, 5 * MS);
	nbd_server_destroy(t.srv);
	t.srv = NULL;
	gone = host_now(t.c->host);
	tw_run(&t, &e, 10 * NSEC_PER_SEC);
	/* failed, not hung: within dead_ns and a back-off of the loss */
	assert_true(e.errors > 0);
	assert_int_equal(e.last_error, -EIO);
	assert_true(host_now(t.c->host) - gone < 3 * NSEC_PER_SEC);
	assert_true(cstat(&t, "failed_dead") > 0);
	/* while dead, new requests fail at once */
	e.errors = 0;
	bio_eng_start(&e, BIO_READ, 0, 64 * 1024, 4096, 4096);
	tw_run(&t, &e, 100 * MS);
	assert_int_equal(e.errors, 16);
	/* the server returns: the device works again */
	t.srv = nbd_server_create(t.s->net, &t.sc);
	nf_run_for(t.w, 6 * NSEC_PER_SEC);
	e.errors = 0;
	write_read_verify(&t, &e, 0, 1u << 20, 20 * NSEC_PER_SEC);
	bio_eng_free(&e);
	tw_free(&t);
}

/* Take the free tcp_sock objects, which nf_exhaust does not. */
static unsigned drain_tcp_socks(struct nf_host *h, struct tcp_sock **socks,
				unsigned max)
{
	unsigned n = 0;

	while (n < max && (socks[n] = tcp_socket(h->net, NULL, NULL)))
		n++;
	return n;
}

static void test_memory_exhausted_writes_and_reconnect(void **state)
{
	struct tw t;
	struct bio_eng e;
	struct page **hold = calloc(PAGES, sizeof(*hold));
	struct tcp_sock *socks[64];
	struct mm_reserve *blk;
	unsigned nsocks;
	size_t held;

	tw_setup(&t, NULL, 9, PAGES);
	tw_connect(&t);
	bio_eng_init(&e, t.bd, 32, 9);
	held = nf_exhaust(t.c, hold, PAGES);
	nsocks = drain_tcp_socks(t.c, socks, 64);
	assert_int_equal(mm_normal_available(t.c->mm), 0);
	write_read_verify(&t, &e, 0, 4u << 20, 60 * NSEC_PER_SEC);
	/* the replies came in through the reserve */
	assert_true(t.c->dev.st.rx_pfmemalloc.v > 0);
	/* a reconnect with no normal memory at all */
	nbd_server_destroy(t.srv);
	nf_run_for(t.w, 10 * MS);
	/* the old socket is gone: take its tcp_sock too, so the new one
	 * must come from block.nbd0 */
	nsocks += drain_tcp_socks(t.c, socks + nsocks, 64 - nsocks);
	nf_run_for(t.w, 200 * MS);
	t.srv = nbd_server_create(t.s->net, &t.sc);
	write_read_verify(&t, &e, 4u << 20, 2u << 20, 60 * NSEC_PER_SEC);
	assert_int_equal(cstat(&t, "connects"), 2);
	assert_int_equal(mm_normal_available(t.c->mm), 0);
	blk = mm_reserve_find(t.c->mm, "block.nbd0");
	assert_non_null(blk);
	/* the new tcp_sock came from block.nbd0 */
	assert_true(blk->hwm.v >= 1);
	check_reserves(mm_reserve_root(t.c->mm));
	mm_check(t.c->mm);
	print_message(
		"exhausted: 6 MiB written and read, one reconnect; block.nbd0 hwm %lld of %lld pages, net.rx hwm %lld of %lld\n",
		(long long)blk->hwm.v, (long long)blk->size.v,
		(long long)nf_stat(t.c, "mm.reserve.net.rx.hwm"),
		(long long)nf_stat(t.c, "mm.reserve.net.rx.size"));
	nf_release(t.c, hold, &held, held);
	nf_release_objects(t.c);
	while (nsocks)
		tcp_close(socks[--nsocks]);
	free(hold);
	bio_eng_free(&e);
	tw_free(&t);
}

static void test_reserve_does_not_fit(void **state)
{
	struct tw t;
	int64_t min;

	/* 512 pages: the reserve may not pass 256, a connection needs more */
	tw_setup(&t, NULL, 10, 512);
	min = t.c->mm->wmark_min.v;
	assert_int_equal(nbd_client_create(t.c->net, &t.cc, on_ready, &t,
					   &t.bd),
			 -ENOMEM);
	t.bd = NULL;
	assert_int_equal(t.c->mm->wmark_min.v, min);
	assert_null(mm_reserve_find(t.c->mm, "block.nbd0"));
	tw_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_device),
		cmocka_unit_test(test_write_read_many_concurrent),
		cmocka_unit_test(test_flush_fua_trim_zeroes),
		cmocka_unit_test(test_loss_dup_reorder),
		cmocka_unit_test(test_server_stall),
		cmocka_unit_test(test_stall_reported),
		cmocka_unit_test(test_server_restart_under_load),
		cmocka_unit_test(test_partition_heals),
		cmocka_unit_test(test_dead_server_fails_then_recovers),
		cmocka_unit_test(test_memory_exhausted_writes_and_reconnect),
		cmocka_unit_test(test_reserve_does_not_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
