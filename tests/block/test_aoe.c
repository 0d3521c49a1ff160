// SPDX-License-Identifier: MIT
/*
 * The AoE initiator against our target on the simulated switch: discovery
 * and IDENTIFY, every byte written and read back through loss,
 * duplication, reordering, a stalled and a restarted target, a dead
 * target, error answers, stray frames, and writes that complete from the
 * reserves alone once normal memory is gone.
 *
 * The simulator's corruption flips bits the Ethernet FCS would have
 * caught; AoE has no checksum of its own, so a flipped payload bit is
 * undetectable by design.  The corruption test therefore checks what is
 * detectable: no crash, no hang, every bio ends, damaged headers counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../net/net_fixture.h"
#include "block/aoe.h"
#include "block/aoe_proto.h"
#include "net/netbuf.h"

#define CLIENT_PAGES 4096
#define TARGET_PAGES 1024
#define STORE_SIZE (8u << 20)
#define SHELF 7
#define SLOT 3
#define CHUNK (64u * 1024)
#define SLOTS 32
#define VECS (CHUNK / PAGE_SIZE)

struct world {
	struct nf *w;
	struct nf_host *ch, *th;
	struct blk_store store;
	struct aoe_target *tgt;
	struct blkdev *bd;
	int ready_err;
	bool ready;
};

static void on_ready(struct blkdev *bd, int err, void *arg)
{
	struct world *x = arg;

	x->ready = true;
	x->ready_err = err;
}

static struct aoe_target *target_new(struct world *x, bool ro, bool no_ext)
{
	struct aoe_target_config tc = {
		.shelf = SHELF,
		.slot = SLOT,
		.store = &x->store,
		.read_only = ro,
		.no_flush_ext = no_ext,
	};
	struct aoe_target *t = aoe_target_create(x->th->net, &tc);

	assert_non_null(t);
	return t;
}

static int client_new(struct world *x, uint64_t dead_ns)
{
	struct aoe_client_config cc = {
		.shelf = SHELF,
		.slot = SLOT,
		.dead_ns = dead_ns,
	};

	x->ready = false;
	assert_int_equal(
		aoe_client_create(x->ch->net, &cc, on_ready, x, &x->bd), 0);
	for (int i = 0; i < 1000 && !x->ready; i++)
		nf_run_for(x->w, NSEC_PER_MSEC);
	assert_true(x->ready);
	return x->ready_err;
}

static struct world *world_new(const struct sim_link_config *cfg, uint64_t seed,
			       size_t client_pages)
{
	struct world *x = calloc(1, sizeof(*x));

	x->w = nf_new(cfg, seed);
	x->ch = nf_add_host(x->w, client_pages, MM_POLICY_ACCOUNTED);
	x->th = nf_add_host(x->w, TARGET_PAGES, MM_POLICY_ACCOUNTED);
	assert_int_equal(store_open_ram(&x->store, STORE_SIZE), 0);
	x->tgt = target_new(x, false, false);
	return x;
}

static void world_free(struct world *x)
{
	if (x->bd)
		aoe_client_destroy(x->bd);
	aoe_target_destroy(x->tgt);
	nf_free(x->w);
	store_close(&x->store);
	free(x);
}

static int64_t cstat(struct world *x, const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), "aoe.aoe0.%s", what);
	return nf_stat(x->ch, name);
}

/* ---- a queue-depth-32 I/O runner with a verifiable pattern ---------------- */

struct io_slot {
	struct bio bio;
	struct page *pages[VECS];
	struct runner *r;
};

struct runner {
	struct world *x;
	enum bio_op op;
	uint32_t gen;
	uint64_t next, end;
	unsigned inflight, done, errors;
	uint64_t bad_bytes;
	int last_err;
	struct io_slot slots[SLOTS];
};

static uint8_t pattern(uint64_t off, uint32_t gen)
{
	uint64_t v = (off >> 2) * 0x9e3779b97f4a7c15ull + gen * 0x632be5abull;

	return (uint8_t)(v >> (8 * (off & 3) + 24));
}

static void runner_start(struct runner *r, struct io_slot *s);

static void runner_end_io(struct bio *bio)
{
	struct io_slot *s = bio->private;
	struct runner *r = s->r;

	r->inflight--;
	r->done++;
	if (bio->error) {
		r->errors++;
		r->last_err = bio->error;
	} else if (bio->op == BIO_READ) {
		for (unsigned v = 0; v < VECS; v++) {
			const uint8_t *p =
				page_address(r->x->ch->mm, s->pages[v]);

			for (uint32_t i = 0; i < PAGE_SIZE; i++)
				if (p[i] !=
				    pattern(bio->offset + v * PAGE_SIZE + i,
					    r->gen))
					r->bad_bytes++;
		}
	}
	runner_start(r, s);
}

static void runner_start(struct runner *r, struct io_slot *s)
{
	struct bio *bio = &s->bio;

	if (r->next >= r->end)
		return;
	bio_init(bio, r->x->bd, r->op);
	bio->offset = r->next;
	bio->end_io = runner_end_io;
	bio->private = s;
	for (unsigned v = 0; v < VECS; v++) {
		uint8_t *p = page_address(r->x->ch->mm, s->pages[v]);

		for (uint32_t i = 0; i < PAGE_SIZE; i++)
			p[i] = r->op == BIO_WRITE ?
				       pattern(r->next + v * PAGE_SIZE + i,
					       r->gen) :
				       0xee;
		assert_int_equal(bio_add_page(bio, s->pages[v], 0, PAGE_SIZE),
				 0);
	}
	r->next += CHUNK;
	assert_int_equal(blk_submit(bio), 0);
	r->inflight++;
}

static struct runner *runner_new(struct world *x)
{
	struct runner *r = calloc(1, sizeof(*r));

	r->x = x;
	for (unsigned i = 0; i < SLOTS; i++) {
		r->slots[i].r = r;
		for (unsigned v = 0; v < VECS; v++) {
			r->slots[i].pages[v] =
				mm_page_alloc(x->ch->mm, MM_NORMAL, NULL);
			assert_non_null(r->slots[i].pages[v]);
		}
	}
	return r;
}

static void runner_free(struct runner *r)
{
	assert_int_equal(r->inflight, 0);
	for (unsigned i = 0; i < SLOTS; i++)
		for (unsigned v = 0; v < VECS; v++)
			mm_page_put(r->x->ch->mm, r->slots[i].pages[v]);
	free(r);
}

/* Begin @op over [off, off + len) with every slot busy. */
static void runner_begin(struct runner *r, enum bio_op op, uint64_t off,
			 uint64_t len, uint32_t gen)
{
	r->op = op;
	r->gen = gen;
	r->next = off;
	r->end = off + len;
	r->done = r->errors = 0;
	r->bad_bytes = 0;
	r->last_err = 0;
	for (unsigned i = 0; i < SLOTS; i++)
		runner_start(r, &r->slots[i]);
}

/* Run until the runner is idle or @limit_ns of virtual time passed. */
static void runner_wait(struct runner *r, uint64_t limit_ns)
{
	uint64_t end = loop_now(&r->x->w->loop) + limit_ns;

	while (r->inflight && loop_now(&r->x->w->loop) < end)
		nf_run_for(r->x->w, NSEC_PER_MSEC);
	assert_int_equal(r->inflight, 0);
}

static void runner_do(struct runner *r, enum bio_op op, uint64_t off,
		      uint64_t len, uint32_t gen)
{
	runner_begin(r, op, off, len, gen);
	runner_wait(r, 600 * NSEC_PER_SEC);
}

static void flush_end_io(struct bio *bio)
{
	*(bool *)bio->private = true;
}

/* One bio without data (flush) to completion; its error. */
static int flush_sync(struct world *x)
{
	bool done = false;
	struct bio bio;

	bio_init(&bio, x->bd, BIO_FLUSH);
	bio.end_io = flush_end_io;
	bio.private = &done;
	assert_int_equal(blk_submit(&bio), 0);
	for (int i = 0; i < 10000 && !done; i++)
		nf_run_for(x->w, NSEC_PER_MSEC);
	assert_true(done);
	return bio.error;
}

/* ---- tests --------------------------------------------------------------- */

static void test_aoe_discovery_identify(void **state)
{
	struct world *x = world_new(NULL, 1, CLIENT_PAGES);
	int64_t v = -1;

	assert_int_equal(client_new(x, 0), 0);
	assert_true(x->bd->attached);
	assert_int_equal(x->bd->lim.capacity, STORE_SIZE);
	assert_true(x->bd->lim.flush);
	assert_false(x->bd->lim.fua);
	assert_int_equal(nf_stat(x->th, "aoe_target.e7.3.config"), 1);
	assert_int_equal(nf_stat(x->th, "aoe_target.e7.3.identify"), 1);
	assert_int_equal(cstat(x, "window"), 16); /* vblade's buffer count */
	assert_int_equal(stats_get(&x->ch->host->stats,
				   "mm.reserve.block.aoe0.size", &v),
			 0);
	assert_true(v > 0);
	/* FLUSH CACHE EXT is honoured by our target */
	assert_int_equal(flush_sync(x), 0);
	assert_int_equal(x->store.flushes, 1);
	assert_int_equal(cstat(x, "flush_fallback"), 0);
	world_free(x);
}

static void test_aoe_discovery_filters_and_times_out(void **state)
{
	struct world *x = world_new(NULL, 2, CLIENT_PAGES);
	struct aoe_client_config cc = { .shelf = SHELF,
					.slot = SLOT + 1,
					.dead_ns = NSEC_PER_SEC };

	/* No target e7.4: the e7.3 answers are for someone else. */
	assert_int_equal(
		aoe_client_create(x->ch->net, &cc, on_ready, x, &x->bd), 0);
	nf_run_for(x->w, 3 * NSEC_PER_SEC);
	assert_true(x->ready);
	assert_int_equal(x->ready_err, -ETIMEDOUT);
	assert_false(x->bd->attached);
	assert_true(nf_stat(x->th, "aoe_target.e7.3.config") >= 2);
	assert_true(nf_stat(x->ch, "aoe.unclaimed") >= 2);
	cc.shelf = AOE_SHELF_ANY;
	assert_int_equal(aoe_client_create(x->ch->net, &cc, NULL, NULL,
					   &(struct blkdev *){ NULL }),
			 -EINVAL);
	world_free(x);
}

static void test_aoe_flush_fallback(void **state)
{
	struct world *x = world_new(NULL, 3, CLIENT_PAGES);

	aoe_target_destroy(x->tgt);
	x->tgt = target_new(x, false, true);
	assert_int_equal(client_new(x, 0), 0);
	assert_int_equal(flush_sync(x), 0);
	assert_int_equal(cstat(x, "flush_fallback"), 1);
	assert_int_equal(flush_sync(x), 0);
	assert_int_equal(cstat(x, "flush_fallback"), 1);
	assert_int_equal(x->store.flushes, 2);
	assert_int_equal(cstat(x, "errors"), 0);
	world_free(x);
}

static void test_aoe_rw_clean(void **state)
{
	struct world *x = world_new(NULL, 4, CLIENT_PAGES);
	struct runner *r;

	assert_int_equal(client_new(x, 0), 0);
	r = runner_new(x);
	runner_do(r, BIO_WRITE, 0, STORE_SIZE, 1);
	assert_int_equal(r->errors, 0);
	runner_do(r, BIO_READ, 0, STORE_SIZE, 1);
	assert_int_equal(r->errors, 0);
	assert_int_equal(r->bad_bytes, 0);
	assert_int_equal(r->done, STORE_SIZE / CHUNK);
	/* the store holds the pattern too */
	for (uint64_t o = 0; o < STORE_SIZE; o += 4093)
		assert_int_equal(x->store.ram[o], pattern(o, 1));
	assert_int_equal(cstat(x, "retransmits"), 0);
	assert_int_equal(cstat(x, "stray") + cstat(x, "dup"), 0);
	runner_free(r);
	world_free(x);
}

static void test_aoe_rw_lossy(void **state)
{
	struct sim_link_config cfg = { .loss = 0.05,
				       .dup = 0.05,
				       .reorder = 0.05,
				       .reorder_ns = 300 * NSEC_PER_USEC };
	struct world *x = world_new(&cfg, 5, CLIENT_PAGES);
	struct runner *r;

	assert_int_equal(client_new(x, 0), 0);
	r = runner_new(x);
	runner_do(r, BIO_WRITE, 0, STORE_SIZE, 2);
	assert_int_equal(r->errors, 0);
	runner_do(r, BIO_READ, 0, STORE_SIZE, 2);
	assert_int_equal(r->errors, 0);
	assert_int_equal(r->bad_bytes, 0);
	print_message(
		"aoe lossy: %u MiB written and verified, tx %lld, retransmits %lld, timeouts %lld, dup %lld, stray %lld, srtt %lld ns, window %lld\n",
		STORE_SIZE >> 20, (long long)cstat(x, "tx"),
		(long long)cstat(x, "retransmits"),
		(long long)cstat(x, "timeouts"), (long long)cstat(x, "dup"),
		(long long)cstat(x, "stray"), (long long)cstat(x, "srtt"),
		(long long)cstat(x, "window"));
	assert_true(cstat(x, "retransmits") > 0);
	assert_true(cstat(x, "dup") > 0);
	assert_int_equal(cstat(x, "errors"), 0);
	runner_free(r);
	world_free(x);
}

/*
 * Against a target that behaves like vblade on a real wire: one request
 * served at a time (20 us each), at most 16 queued and the rest dropped,
 * FLUSH CACHE EXT rejected; 5 % of the frames lost and 2 % duplicated in
 * each direction.  Every byte is written, flushed and read back.
 */
static void test_aoe_vblade_like_lossy(void **state)
{
	struct sim_link_config cfg = { .loss = 0.05, .dup = 0.02 };
	struct world *x = world_new(&cfg, 27, CLIENT_PAGES);
	struct aoe_target_config tc = { .shelf = SHELF,
					.slot = SLOT,
					.store = &x->store,
					.no_flush_ext = true,
					.serial_ns = 20 * NSEC_PER_USEC };
	struct runner *r;

	aoe_target_destroy(x->tgt);
	x->tgt = aoe_target_create(x->th->net, &tc);
	assert_non_null(x->tgt);
	assert_int_equal(client_new(x, 0), 0);
	r = runner_new(x);
	runner_do(r, BIO_WRITE, 0, STORE_SIZE, 11);
	assert_int_equal(r->errors, 0);
	assert_int_equal(flush_sync(x), 0);
	assert_int_equal(cstat(x, "flush_fallback"), 1);
	runner_do(r, BIO_READ, 0, STORE_SIZE, 11);
	assert_int_equal(r->errors, 0);
	assert_int_equal(r->bad_bytes, 0);
	print_message(
		"aoe vblade-like: %u MiB in %.3f s virtual, tx %lld, retransmits %lld (early %lld, timeouts %lld), dup %lld, target queue drops %lld, window %lld\n",
		STORE_SIZE >> 20, (double)loop_now(&x->w->loop) / 1e9,
		(long long)cstat(x, "tx"), (long long)cstat(x, "retransmits"),
		(long long)cstat(x, "early_retransmits"),
		(long long)cstat(x, "timeouts"), (long long)cstat(x, "dup"),
		(long long)nf_stat(x->th, "aoe_target.e7.3.drop_queue_full"),
		(long long)cstat(x, "window"));
	assert_true(cstat(x, "retransmits") > 0);
	/* a target that answers in order reveals most losses before the
	 * timeout: an answer to a later frame comes back first */
	assert_true(cstat(x, "timeouts") * 10 < cstat(x, "retransmits"));
	assert_int_equal(cstat(x, "errors"), 0);
	runner_free(r);
	world_free(x);
}

static void test_aoe_corruption_is_survived(void **state)
{
	struct sim_link_config cfg = { .corrupt = 0.05 };
	struct world *x = world_new(&cfg, 6, CLIENT_PAGES);
	struct runner *r;
	int err;

	err = client_new(x, 0);
	if (err) {
		/* a damaged IDENTIFY may fail discovery: that must be clean */
		assert_int_equal(err, -EIO);
		world_free(x);
		return;
	}
	r = runner_new(x);
	runner_do(r, BIO_WRITE, 0, 2u << 20, 3);
	assert_int_equal(r->done, (2u << 20) / CHUNK);
	runner_do(r, BIO_READ, 0, 2u << 20, 3);
	assert_int_equal(r->done, (2u << 20) / CHUNK);
	if (r->errors)
		assert_int_equal(r->last_err, -EIO);
	/* damaged headers were noticed somewhere on the way */
	assert_true(x->w->link.st.corrupted.v > 0);
	assert_true(nf_stat(x->ch, "aoe.rx_bad") + cstat(x, "stray") +
			    cstat(x, "errors") + cstat(x, "retransmits") +
			    nf_stat(x->ch, "net.eth_rx_not_for_us") +
			    nf_stat(x->ch, "aoe.unclaimed") >
		    0);
	runner_free(r);
	world_free(x);
}

static void test_aoe_target_stall(void **state)
{
	struct world *x = world_new(NULL, 7, CLIENT_PAGES);
	struct runner *r;

	assert_int_equal(client_new(x, 0), 0);
	r = runner_new(x);
	runner_begin(r, BIO_WRITE, 0, STORE_SIZE, 4);
	nf_run_for(x->w, 2 * NSEC_PER_MSEC);
	assert_true(r->inflight > 0);
	aoe_target_set_stall(x->tgt, loop_now(&x->w->loop) + 5 * NSEC_PER_SEC);
	runner_wait(r, 600 * NSEC_PER_SEC);
	assert_int_equal(r->errors, 0);
	assert_true(nf_stat(x->th, "aoe_target.e7.3.drop_stalled") > 0);
	assert_true(cstat(x, "timeouts") > 0);
	runner_do(r, BIO_READ, 0, STORE_SIZE, 4);
	assert_int_equal(r->errors, 0);
	assert_int_equal(r->bad_bytes, 0);
	runner_free(r);
	world_free(x);
}

static void test_aoe_target_restart(void **state)
{
	struct world *x = world_new(NULL, 8, CLIENT_PAGES);
	struct runner *r;

	assert_int_equal(client_new(x, 0), 0);
	r = runner_new(x);
	runner_begin(r, BIO_WRITE, 0, STORE_SIZE, 5);
	nf_run_for(x->w, 3 * NSEC_PER_MSEC);
	assert_true(r->inflight > 0);
	aoe_target_destroy(x->tgt);
	nf_run_for(x->w, 500 * NSEC_PER_MSEC);
	x->tgt = target_new(x, false, false);
	runner_wait(r, 600 * NSEC_PER_SEC);
	assert_int_equal(r->errors, 0);
	assert_true(cstat(x, "retransmits") > 0);
	runner_do(r, BIO_READ, 0, STORE_SIZE, 5);
	assert_int_equal(r->errors, 0);
	assert_int_equal(r->bad_bytes, 0);
	runner_free(r);
	world_free(x);
}

static void test_aoe_dead_target(void **state)
{
	struct world *x = world_new(NULL, 9, CLIENT_PAGES);
	uint64_t t0;
	struct runner *r;

	assert_int_equal(client_new(x, 3 * NSEC_PER_SEC), 0);
	r = runner_new(x);
	aoe_target_destroy(x->tgt);
	x->tgt = NULL;
	t0 = loop_now(&x->w->loop);
	runner_begin(r, BIO_WRITE, 0, 4 * CHUNK * SLOTS, 6);
	runner_wait(r, 30 * NSEC_PER_SEC);
	/* dead after 3 s, noticed within one capped RTO */
	assert_true(loop_now(&x->w->loop) - t0 < 6 * NSEC_PER_SEC);
	assert_int_equal(r->errors, r->done);
	assert_int_equal(r->done, 4 * SLOTS);
	assert_int_equal(r->last_err, -EIO);
	/* later I/O fails at once */
	runner_do(r, BIO_READ, 0, CHUNK, 6);
	assert_int_equal(r->errors, 1);
	runner_free(r);
	world_free(x);
}

static void test_aoe_error_answers(void **state)
{
	struct world *x = world_new(NULL, 10, CLIENT_PAGES);
	struct runner *r;

	aoe_target_destroy(x->tgt);
	x->tgt = target_new(x, true, false);
	assert_int_equal(client_new(x, 0), 0);
	r = runner_new(x);
	/* read-only: ATA ABRT for every write -> -EIO, never "done" */
	runner_do(r, BIO_WRITE, 0, 2 * CHUNK, 7);
	assert_int_equal(r->errors, 2);
	assert_int_equal(r->last_err, -EIO);
	assert_true(nf_stat(x->th, "aoe_target.e7.3.ata_errors") >= 2);
	runner_do(r, BIO_READ, 0, 2 * CHUNK, 0);
	assert_int_equal(r->errors, 0);
	runner_free(r);
	world_free(x);
}

/* Frames from the target host's stack, as a confused or hostile peer. */
static void inject(struct world *x, uint8_t flags, uint16_t shelf, uint8_t slot,
		   uint8_t cmd, uint32_t tag, uint32_t extra)
{
	struct netbuf *nb = netbuf_alloc(x->th->net, AOE_HDR_LEN + 64 + extra,
					 MM_ATOMIC, NULL);
	uint8_t *p;

	assert_non_null(nb);
	p = netbuf_put(nb, AOE_HDR_LEN + AOE_ATA_LEN + extra);
	memset(p, 0, AOE_HDR_LEN + AOE_ATA_LEN + extra);
	aoe_put_hdr(p, flags, 0, shelf, slot, cmd, tag);
	p[AOE_HDR_LEN + 3] = ATA_ST_DRDY;
	eth_output(&x->th->dev, nb, x->ch->dev.mac, ETH_P_AOE);
}

static void test_aoe_stray_frames(void **state)
{
	struct world *x = world_new(NULL, 11, CLIENT_PAGES);
	int64_t stray, unclaimed, bad;
	struct runner *r;

	assert_int_equal(client_new(x, 0), 0);
	stray = cstat(x, "stray");
	unclaimed = nf_stat(x->ch, "aoe.unclaimed");
	bad = nf_stat(x->ch, "aoe.rx_bad");
	/* responses with tags never sent */
	for (uint32_t i = 0; i < 5; i++)
		inject(x, AOE_FL_RSP, SHELF, SLOT, AOE_CMD_ATA, 0x80000000u | i,
		       1024);
	/* a request (no R), another shelf: nobody's */
	inject(x, 0, SHELF, SLOT, AOE_CMD_ATA, 1, 0);
	inject(x, AOE_FL_RSP, SHELF + 1, SLOT, AOE_CMD_ATA, 1, 0);
	/* a Query Config answer after discovery */
	inject(x, AOE_FL_RSP, SHELF, SLOT, AOE_CMD_CFG, 1, 0);
	nf_run_for(x->w, 10 * NSEC_PER_MSEC);
	assert_int_equal(cstat(x, "stray") - stray, 6);
	assert_int_equal(nf_stat(x->ch, "aoe.unclaimed") - unclaimed, 2);
	assert_int_equal(nf_stat(x->ch, "aoe.rx_bad"), bad);
	/* and I/O still works */
	r = runner_new(x);
	runner_do(r, BIO_WRITE, 0, 1u << 20, 8);
	runner_do(r, BIO_READ, 0, 1u << 20, 8);
	assert_int_equal(r->errors, 0);
	assert_int_equal(r->bad_bytes, 0);
	runner_free(r);
	world_free(x);
}

static void test_aoe_writes_from_reserve(void **state)
{
	struct sim_link_config cfg = { .loss = 0.02 };
	struct world *x = world_new(&cfg, 12, CLIENT_PAGES);
	static struct page *hold[CLIENT_PAGES];
	size_t held;
	int64_t size = 0, hwm = 0, used = 0;
	struct runner *r;

	assert_int_equal(client_new(x, 0), 0);
	r = runner_new(x);
	held = nf_exhaust(x->ch, hold, CLIENT_PAGES);
	assert_true(held > 0);
	assert_int_equal(mm_normal_available(x->ch->mm), 0);
	runner_do(r, BIO_WRITE, 0, 2u << 20, 9);
	assert_int_equal(r->errors, 0);
	assert_int_equal(r->done, (2u << 20) / CHUNK);
	assert_true(cstat(x, "tx_from_reserve") > 0);
	assert_int_equal(cstat(x, "tx_no_memory"), 0);
	assert_true(x->ch->dev.st.rx_pfmemalloc.v > 0);
	assert_int_equal(stats_get(&x->ch->host->stats,
				   "mm.reserve.block.aoe0.size", &size),
			 0);
	assert_int_equal(stats_get(&x->ch->host->stats,
				   "mm.reserve.block.aoe0.hwm", &hwm),
			 0);
	assert_int_equal(stats_get(&x->ch->host->stats,
				   "mm.reserve.block.aoe0.used", &used),
			 0);
	print_message(
		"aoe from reserve: block.aoe0 size %lld pages, hwm %lld, tx from reserve %lld, retransmits %lld\n",
		(long long)size, (long long)hwm,
		(long long)cstat(x, "tx_from_reserve"),
		(long long)cstat(x, "retransmits"));
	assert_true(hwm > 0 && hwm <= size);
	assert_int_equal(used, 0);
	mm_check(x->ch->mm);
	nf_release(x->ch, hold, &held, held);
	nf_release_objects(x->ch);
	runner_do(r, BIO_READ, 0, 2u << 20, 9);
	assert_int_equal(r->errors, 0);
	assert_int_equal(r->bad_bytes, 0);
	runner_free(r);
	world_free(x);
}

static void write_end_io(struct bio *bio)
{
	*(bool *)bio->private = true;
}

/* One frame's worth (1 KiB) of @c at byte @off; returns when submitted. */
static void write_start(struct world *x, struct bio *bio, struct page *pg,
			uint64_t off, char c, bool *done)
{
	memset(page_address(x->ch->mm, pg), c, 1024);
	bio_init(bio, x->bd, BIO_WRITE);
	bio->offset = off;
	bio_add_page(bio, pg, 0, 1024);
	bio->end_io = write_end_io;
	bio->private = done;
	*done = false;
	assert_int_equal(blk_submit(bio), 0);
}

static void write_wait(struct world *x, struct bio *bio, bool *done)
{
	for (int i = 0; i < 10000 && !*done; i++)
		nf_run_for(x->w, 100000);
	assert_true(*done);
	assert_int_equal(bio->error, 0);
}

/*
 * A write's first copy is held on the wire past the retransmission
 * timeout; the retransmission completes it; the next write to the same
 * sectors must not reach the target before the late copy does, or the
 * late copy (executed like any other) puts the old data back.
 */
static void test_aoe_late_copy_fenced(void **state)
{
	struct world *x = world_new(NULL, 23, CLIENT_PAGES);
	struct page *pg = mm_page_alloc(x->ch->mm, MM_NORMAL, NULL);
	struct sim_link_config *lc = &x->w->link.cfg;
	struct bio bio;
	bool done;

	assert_int_equal(client_new(x, 0), 0);
	for (int i = 0; i < 8; i++) { /* an RTT estimate: RTO at its floor */
		write_start(x, &bio, pg, 4096, 'w', &done);
		write_wait(x, &bio, &done);
	}
	lc->reorder = 1.0;
	lc->reorder_ns = 5 * NSEC_PER_MSEC;
	write_start(x, &bio, pg, 0, 'A', &done);
	nf_run_for(x->w, 200000); /* the first copy is on the wire, late */
	lc->reorder = 0;
	write_wait(x, &bio, &done);
	assert_true(cstat(x, "retransmits") >= 1);
	write_start(x, &bio, pg, 0, 'B', &done);
	write_wait(x, &bio, &done);
	nf_run_for(x->w, 20 * NSEC_PER_MSEC); /* every copy has landed */
	assert_int_equal(x->store.ram[0], 'B');
	assert_int_equal(x->store.ram[1023], 'B');
	assert_true(cstat(x, "fenced") >= 1);
	assert_true(cstat(x, "dup") >= 1); /* the late copy's answer */
	mm_page_put(x->ch->mm, pg);
	world_free(x);
}

/* Warm the RTT estimate with a few clean writes: RTO at its 2 ms floor. */
static void warm_rto(struct world *x, struct page *pg)
{
	struct bio bio;
	bool done;

	for (int i = 0; i < 8; i++) {
		write_start(x, &bio, pg, 4096, 'w', &done);
		write_wait(x, &bio, &done);
	}
	assert_int_equal(cstat(x, "rto"), 2 * NSEC_PER_MSEC);
}

/*
 * The fence lasts as long as the frame's backed-off RTO says a copy may
 * arrive, not a base-RTO multiple: four copies of one write are held 60 ms
 * on the wire (well past the 10 ms minimum fence) while the frame backs off
 * (copies at 0, 2, 6, 14 ms; the fifth, at 30 ms, gets through).  The next
 * write to those sectors must land after all four late copies.
 */
static void test_aoe_fence_outlives_backoff(void **state)
{
	struct world *x = world_new(NULL, 24, CLIENT_PAGES);
	struct page *pg = mm_page_alloc(x->ch->mm, MM_NORMAL, NULL);
	struct sim_link_config *lc = &x->w->link.cfg;
	struct bio bio;
	bool done;

	assert_int_equal(client_new(x, 0), 0);
	warm_rto(x, pg);
	lc->reorder = 1.0;
	lc->reorder_ns = 60 * NSEC_PER_MSEC;
	write_start(x, &bio, pg, 0, 'A', &done);
	nf_run_for(x->w, 20 * NSEC_PER_MSEC);
	lc->reorder = 0;
	write_wait(x, &bio, &done);
	assert_int_equal(cstat(x, "retransmits"), 4);
	write_start(x, &bio, pg, 0, 'B', &done);
	write_wait(x, &bio, &done);
	nf_run_for(x->w, 200 * NSEC_PER_MSEC); /* every copy has landed */
	assert_int_equal(x->w->link.st.reordered.v, 4); /* the 4 late copies */
	assert_int_equal(x->store.ram[0], 'B');
	assert_int_equal(x->store.ram[1023], 'B');
	assert_true(cstat(x, "fenced") >= 1);
	mm_page_put(x->ch->mm, pg);
	world_free(x);
}

#define OVF_WRITES 64 /* frames fenced at once: twice the fence slots */
#define OVF_PAGES (OVF_WRITES / 4)

struct ovf {
	struct bio bio[OVF_WRITES];
	bool done[OVF_WRITES];
	struct page *pg[OVF_PAGES];
};

/* One 1 KiB write of @c to each of OVF_WRITES areas, all in flight. */
static void ovf_start(struct world *x, struct ovf *o, char c)
{
	for (unsigned i = 0; i < OVF_WRITES; i++) {
		struct bio *bio = &o->bio[i];
		uint32_t off = (i % 4) * 1024;

		memset((uint8_t *)page_address(x->ch->mm, o->pg[i / 4]) + off,
		       c, 1024);
		bio_init(bio, x->bd, BIO_WRITE);
		bio->offset = i * 1024;
		assert_int_equal(bio_add_page(bio, o->pg[i / 4], off, 1024), 0);
		bio->end_io = write_end_io;
		bio->private = &o->done[i];
		o->done[i] = false;
		assert_int_equal(blk_submit(bio), 0);
	}
}

static void ovf_wait(struct world *x, struct ovf *o)
{
	for (unsigned i = 0; i < OVF_WRITES; i++) {
		for (int n = 0; n < 10000 && !o->done[i]; n++)
			nf_run_for(x->w, 100000);
		assert_true(o->done[i]);
		assert_int_equal(o->bio[i].error, 0);
	}
}

/*
 * More retransmitted writes complete at once than there are fence slots
 * (a target that queues 64 frames, all 64 first copies held 3 ms, all
 * retransmitted at 2 ms and answered): no fence may be dropped to make
 * room, so the next writes to those sectors wait for the late copies.
 */
static void test_aoe_fence_slots_overflow(void **state)
{
	struct world *x = world_new(NULL, 25, CLIENT_PAGES);
	struct sim_link_config *lc = &x->w->link.cfg;
	struct aoe_target_config tc = { .shelf = SHELF,
					.slot = SLOT,
					.store = &x->store,
					.buffer_count = OVF_WRITES };
	struct aoe_client_config cc = { .shelf = SHELF,
					.slot = SLOT,
					.queue_depth = OVF_WRITES };
	struct page *pg = mm_page_alloc(x->ch->mm, MM_NORMAL, NULL);
	struct ovf *o = calloc(1, sizeof(*o));

	aoe_target_destroy(x->tgt);
	x->tgt = aoe_target_create(x->th->net, &tc);
	assert_non_null(x->tgt);
	assert_int_equal(
		aoe_client_create(x->ch->net, &cc, on_ready, x, &x->bd), 0);
	nf_run_for(x->w, 10 * NSEC_PER_MSEC);
	assert_true(x->ready);
	assert_int_equal(x->ready_err, 0);
	assert_int_equal(cstat(x, "window"), OVF_WRITES);
	warm_rto(x, pg);
	for (unsigned i = 0; i < OVF_PAGES; i++)
		o->pg[i] = mm_page_alloc(x->ch->mm, MM_NORMAL, NULL);
	lc->reorder = 1.0;
	lc->reorder_ns = 3 * NSEC_PER_MSEC;
	ovf_start(x, o, 'A');
	nf_run_for(x->w, 100000); /* every first copy is on the wire, late */
	lc->reorder = 0;
	ovf_wait(x, o);
	assert_int_equal(cstat(x, "retransmits"), OVF_WRITES);
	ovf_start(x, o, 'B');
	ovf_wait(x, o);
	nf_run_for(x->w, 50 * NSEC_PER_MSEC);
	for (unsigned i = 0; i < OVF_WRITES; i++) {
		assert_int_equal(x->store.ram[i * 1024], 'B');
		assert_int_equal(x->store.ram[i * 1024 + 1023], 'B');
	}
	assert_true(cstat(x, "fenced") >= 1);
	for (unsigned i = 0; i < OVF_PAGES; i++)
		mm_page_put(x->ch->mm, o->pg[i]);
	free(o);
	mm_page_put(x->ch->mm, pg);
	world_free(x);
}

/*
 * A write that fails (a medium error answers its retransmission) still
 * has its first copy on the wire: the failed request is fenced too, so a
 * rewrite after the error is not undone by that copy.
 */
static void test_aoe_failed_write_fenced(void **state)
{
	struct world *x = world_new(NULL, 26, CLIENT_PAGES);
	struct page *pg = mm_page_alloc(x->ch->mm, MM_NORMAL, NULL);
	struct sim_link_config *lc = &x->w->link.cfg;
	struct bio bio;
	bool done;

	assert_int_equal(client_new(x, 0), 0);
	warm_rto(x, pg);
	lc->reorder = 1.0;
	lc->reorder_ns = 3 * NSEC_PER_MSEC;
	write_start(x, &bio, pg, 0, 'A', &done);
	nf_run_for(x->w, 100000); /* the first copy is on the wire, late */
	lc->reorder = 0;
	aoe_target_set_bad(x->tgt, 0, 2);
	for (int i = 0; i < 10000 && !done; i++)
		nf_run_for(x->w, 100000);
	assert_true(done);
	assert_int_equal(bio.error, -EIO);
	aoe_target_set_bad(x->tgt, 0, 0); /* the medium recovers */
	write_start(x, &bio, pg, 0, 'B', &done);
	write_wait(x, &bio, &done);
	nf_run_for(x->w, 20 * NSEC_PER_MSEC); /* the late copy has landed */
	assert_int_equal(x->w->link.st.reordered.v, 1);
	assert_int_equal(x->store.ram[0], 'B');
	assert_int_equal(x->store.ram[1023], 'B');
	assert_true(cstat(x, "fenced") >= 1);
	mm_page_put(x->ch->mm, pg);
	world_free(x);
}

static void test_aoe_reserve_does_not_fit(void **state)
{
	struct world *x = world_new(NULL, 13, CLIENT_PAGES);
	struct mm_reserve *root = mm_reserve_root(x->ch->mm);
	struct mm_reserve filler;
	size_t cap = x->ch->mm->nr_pages * 50 / 100;

	/* Fill the host's reserve budget to the cap, as a host whose other
	 * reserves already take it all. */
	assert_int_equal(mm_reserve_add(x->ch->mm, &filler, NULL, "filler",
					cap - (size_t)root->size.v),
			 0);
	assert_int_equal(client_new(x, 0), -ENOMEM);
	assert_false(x->bd->attached);
	assert_null(mm_reserve_find(x->ch->mm, "block.aoe0"));
	aoe_client_destroy(x->bd);
	x->bd = NULL;
	assert_int_equal(mm_reserve_remove(&filler), 0);
	world_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aoe_discovery_identify),
		cmocka_unit_test(test_aoe_discovery_filters_and_times_out),
		cmocka_unit_test(test_aoe_flush_fallback),
		cmocka_unit_test(test_aoe_rw_clean),
		cmocka_unit_test(test_aoe_rw_lossy),
		cmocka_unit_test(test_aoe_vblade_like_lossy),
		cmocka_unit_test(test_aoe_corruption_is_survived),
		cmocka_unit_test(test_aoe_target_stall),
		cmocka_unit_test(test_aoe_target_restart),
		cmocka_unit_test(test_aoe_dead_target),
		cmocka_unit_test(test_aoe_error_answers),
		cmocka_unit_test(test_aoe_stray_frames),
		cmocka_unit_test(test_aoe_writes_from_reserve),
		cmocka_unit_test(test_aoe_late_copy_fenced),
		cmocka_unit_test(test_aoe_fence_outlives_backoff),
		cmocka_unit_test(test_aoe_fence_slots_overflow),
		cmocka_unit_test(test_aoe_failed_write_fenced),
		cmocka_unit_test(test_aoe_reserve_does_not_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
