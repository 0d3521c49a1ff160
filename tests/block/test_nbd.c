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
#include "mm/slab.h"
#include "net/tcp.h"
#include "net_fixture.h"

#define PAGES 4096
#define DISK (16u << 20)
#define MS NSEC_PER_MSEC

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_device),
		cmocka_unit_test(test_write_read_many_concurrent),
		cmocka_unit_test(test_flush_fua_trim_zeroes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
