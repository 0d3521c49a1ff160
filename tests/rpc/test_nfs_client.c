// SPDX-License-Identifier: MIT
/*
 * The NFS client (a file as a block device) against our NFS server on a
 * simulated wire: set-up through the portmapper, every byte written read
 * back, loss and reordering, a server restart that changes the write
 * verifier between the WRITE replies and the COMMIT (every uncommitted
 * write sent again), and set-up failures.
 */
#include "net_fixture.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../block/blk_io.h"
#include "net/tcp.h"
#include "nfs/nfs.h"

#define MS NSEC_PER_MSEC
#define FILE_SIZE (2u << 20)

struct tw {
	struct nf *w;
	struct nf_host *c, *s;
	struct nfs_export *exp;
	struct nfs_server_config sc;
	struct nfs_server *srv;
	struct nfs_client_config cc;
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

static void tw_setup_mtu(struct tw *t, const struct sim_link_config *lc,
			 uint64_t seed, unsigned mtu)
{
	memset(t, 0, sizeof(*t));
	t->w = nf_new(lc, seed);
	t->c = nf_add_host_mtu(t->w, 4096, MM_POLICY_ACCOUNTED, mtu);
	t->s = nf_add_host_mtu(t->w, 2048, MM_POLICY_ACCOUNTED, mtu);
	assert_int_equal(nfs_export_create("/export", 4, 8 << 20, &t->exp), 0);
	t->sc = (struct nfs_server_config){ .exp = t->exp, .pmap_port = 111 };
	t->srv = nfs_server_create(t->s->net, &t->sc);
	assert_non_null(t->srv);
	t->cc = (struct nfs_client_config){
		.ip = ntohl(t->s->ip),
		.export_path = "/export",
		.path = "swapfile",
		.create_size = FILE_SIZE,
		.queue_depth = 8,
		.reconnect_ns = 50 * MS,
		.timeo_ns = 2 * NSEC_PER_SEC,
	};
}

static void tw_setup(struct tw *t, const struct sim_link_config *lc,
		     uint64_t seed)
{
	tw_setup_mtu(t, lc, seed, 0);
}

static void tw_connect(struct tw *t)
{
	t->ready = false;
	assert_int_equal(
		nfs_client_create(t->c->net, &t->cc, on_ready, t, &t->bd), 0);
	for (int i = 0; i < 500 && !t->ready; i++)
		nf_run_for(t->w, 10 * MS);
	assert_true(t->ready);
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

	snprintf(name, sizeof(name), "nfs.nfs0.%s", what);
	return nf_stat(t->c, name);
}

static void tw_free(struct tw *t)
{
	if (t->bd)
		nfs_client_destroy(t->bd);
	if (t->srv)
		nfs_server_destroy(t->srv);
	nf_run_for(t->w, 2 * TCP_TIME_WAIT_NS + NSEC_PER_SEC);
	nf_free(t->w);
	nfs_export_destroy(t->exp);
}

/* The server's file holds what the engine's shadow says. */
static void check_server_file(struct tw *t, const struct bio_eng *e)
{
	struct nfs_file *f = nfs_export_lookup(t->exp, "swapfile");
	static uint8_t buf[FILE_SIZE];

	assert_non_null(f);
	assert_true(f->size == FILE_SIZE);
	assert_int_equal(store_read(&f->st, 0, buf, FILE_SIZE), 0);
	assert_memory_equal(buf, e->shadow, FILE_SIZE);
}

static void write_read_verify(struct tw *t, uint64_t seed)
{
	struct bio_eng e;

	bio_eng_init(&e, t->bd, 8, seed);
	bio_eng_start(&e, BIO_WRITE, 0, FILE_SIZE, 512, 64 * 1024);
	tw_run(t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	check_server_file(t, &e);
	bio_eng_start(&e, BIO_READ, 0, FILE_SIZE, 4096, 64 * 1024);
	tw_run(t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_true(e.bad_bytes == 0);
	bio_eng_free(&e);
}

static void test_basic(void **state)
{
	struct tw t;

	tw_setup(&t, NULL, 1);
	tw_connect(&t);
	assert_int_equal(t.ready_err, 0);
	assert_true(t.bd->lim.capacity == FILE_SIZE);
	assert_true(t.bd->lim.max_request == 64 * 1024);
	write_read_verify(&t, 11);
	/* UNSTABLE writes were committed before they completed */
	assert_true(cstat(&t, "commits") >= 1);
	assert_int_equal(cstat(&t, "verifier_changes"), 0);
	assert_int_equal(cstat(&t, "unknown_xids"), 0);
	assert_int_equal(cstat(&t, "bad_replies"), 0);
	/* every READ reply's data went straight into the bio's pages */
	assert_true(cstat(&t, "direct_reads") >= (FILE_SIZE / (64 * 1024)));
	assert_true(cstat(&t, "direct_reads") ==
		    nf_stat(t.s, "nfs.server.2049.reads"));
	/* the file exists now: a second client finds it without CREATE */
	nfs_client_destroy(t.bd);
	t.bd = NULL;
	t.cc.create_size = 0;
	t.cc.mount_port = 2049; /* and skips the portmapper */
	tw_connect(&t);
	assert_int_equal(t.ready_err, 0);
	assert_true(t.bd->lim.capacity == FILE_SIZE);
	tw_free(&t);
}

static void test_loss(void **state)
{
	struct sim_link_config lc = {
		.loss = 0.02, .reorder = 0.02, .dup = 0.01, .reorder_ns = 200000
	};
	struct tw t;

	tw_setup(&t, &lc, 7);
	tw_connect(&t);
	assert_int_equal(t.ready_err, 0);
	write_read_verify(&t, 12);
	tw_free(&t);
}

/*
 * Segments of 88 bytes of payload: every record mark, READ head and data
 * run is cut at every possible place, and lost or reordered now and then.
 */
static void test_small_mtu(void **state)
{
	struct sim_link_config lc = { .loss = 0.005,
				      .reorder = 0.01,
				      .reorder_ns = 100000 };
	struct tw t;
	struct bio_eng e;

	tw_setup_mtu(&t, &lc, 9, 128);
	t.cc.timeo_ns = 20 * NSEC_PER_SEC;
	tw_connect(&t);
	assert_int_equal(t.ready_err, 0);
	bio_eng_init(&e, t.bd, 8, 31);
	bio_eng_start(&e, BIO_WRITE, 0, 256 * 1024, 512, 16 * 1024);
	tw_run(&t, &e, 300 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	bio_eng_start(&e, BIO_READ, 0, 256 * 1024, 512, 16 * 1024);
	tw_run(&t, &e, 300 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_true(e.bad_bytes == 0);
	assert_true(cstat(&t, "direct_reads") >= 16);
	assert_int_equal(cstat(&t, "bad_replies"), 0);
	bio_eng_free(&e);
	tw_free(&t);
}

/*
 * Restart the server after the COMMIT left the client and before the
 * server saw it: the WRITEs' verifier is the old boot's, the COMMIT
 * (sent again on the new connection, same XID) answers the new one.
 */
static void test_restart_changes_verifier(void **state)
{
	struct tw t;
	struct bio_eng e;
	bool restarted = false;
	unsigned lost = 0;

	tw_setup(&t, NULL, 3);
	t.exp->volatile_writes = true;
	tw_connect(&t);
	assert_int_equal(t.ready_err, 0);
	bio_eng_init(&e, t.bd, 8, 13);
	bio_eng_start(&e, BIO_WRITE, 0, 512 * 1024, 64 * 1024, 64 * 1024);
	for (int i = 0; i < 200000 && !restarted; i++) {
		nf_run_for(t.w, 1000);
		if (cstat(&t, "commits") >= 1 &&
		    nf_stat(t.s, "nfs.server.2049.commits") == 0) {
			nfs_server_destroy(t.srv);
			/* the uncommitted data is gone with the old boot */
			lost = nfs_export_crash(t.exp);
			t.srv = nfs_server_create(t.s->net, &t.sc);
			assert_non_null(t.srv);
			restarted = true;
		}
	}
	assert_true(restarted);
	assert_int_equal(e.bios_done, 0); /* nothing completed before COMMIT */
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_true(cstat(&t, "verifier_changes") >= 1);
	/* the COMMIT went out with at least half the queue waiting on it */
	assert_true(cstat(&t, "resent_writes") >= lost);
	assert_true(lost >= 4);
	assert_true(cstat(&t, "reconnects") >= 1);
	bio_eng_start(&e, BIO_READ, 0, 512 * 1024, 4096, 64 * 1024);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	/* without the resend, the lost writes read back as zeroes */
	assert_true(e.bad_bytes == 0);
	bio_eng_free(&e);
	tw_free(&t);
}

/*
 * A stalled server holds every call: nothing completes, nothing fails,
 * the connection stays; when the stall ends every bio completes intact.
 */
static void test_stall(void **state)
{
	struct tw t;
	struct bio_eng e;
	uint64_t t0, done;
	int64_t writes, disc;

	tw_setup(&t, NULL, 5);
	tw_connect(&t);
	assert_int_equal(t.ready_err, 0);
	t0 = host_now(t.s->host);
	writes = nf_stat(t.s, "nfs.server.2049.writes");
	disc = nf_stat(t.s, "nfs.server.2049.disconnects");
	nfs_server_set_stall(t.srv, t0 + 1500 * MS);
	assert_int_equal(nf_stat(t.s, "nfs.server.2049.stalls"), 1);
	bio_eng_init(&e, t.bd, 8, 21);
	bio_eng_start(&e, BIO_WRITE, 0, 512 * 1024, 4096, 64 * 1024);
	nf_run_for(t.w, 1400 * MS);
	assert_int_equal(e.bios_done, 0);
	assert_int_equal(e.errors, 0);
	assert_true(nf_stat(t.s, "nfs.server.2049.writes") == writes);
	assert_true(nf_stat(t.s, "nfs.server.2049.disconnects") == disc);
	tw_run(&t, &e, 30 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_true(nf_stat(t.s, "nfs.server.2049.writes") > writes);
	/* ending a stall early resumes at once */
	nfs_server_set_stall(t.srv, host_now(t.s->host) + 60 * NSEC_PER_SEC);
	done = e.bios_done;
	bio_eng_start(&e, BIO_READ, 0, 512 * 1024, 4096, 64 * 1024);
	nf_run_for(t.w, 200 * MS);
	assert_true(e.bios_done == done);
	nfs_server_set_stall(t.srv, 0);
	tw_run(&t, &e, 1 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_true(e.bad_bytes == 0);
	bio_eng_free(&e);
	tw_free(&t);
}

static void write_file(const char *dir, const char *name, const void *p,
		       size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	fclose(f);
}

static size_t read_file(const char *dir, const char *name, void *p, size_t len)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(p, 1, len, f);
	fclose(f);
	return n;
}

/* Serve the directory @dir instead of the RAM export. */
static void tw_dir(struct tw *t, const char *dir)
{
	nfs_server_destroy(t->srv);
	nfs_export_destroy(t->exp);
	assert_int_equal(
		nfs_export_create_dir("/export", dir, 8, 8 << 20, &t->exp), 0);
	t->sc.exp = t->exp;
	t->srv = nfs_server_create(t->s->net, &t->sc);
	assert_non_null(t->srv);
}

/*
 * A directory as the export: a file there before is served with its
 * bytes, a file the client creates lands there, a server restart on the
 * same directory keeps the client's handles valid (no STALE, the data
 * read back), and what is not a regular file of the directory itself (a
 * symbolic link out, a subdirectory, "..") is never reached.
 */
static void test_dir_export(void **state)
{
	char dir[] = "/tmp/lb-nfs-dir-XXXXXX", path[600];
	static uint8_t pre[3 * 4096 + 100], buf[FILE_SIZE];
	struct bio_eng e;
	struct tw t;

	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(pre); i++)
		pre[i] = (uint8_t)(i * 7 + 1);
	write_file(dir, "pre", pre, sizeof(pre));
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0755), 0);

	tw_setup(&t, NULL, 4);
	tw_dir(&t, dir);
	/* the file that was there: its size and its bytes */
	t.cc.path = "pre";
	t.cc.create_size = 0;
	tw_connect(&t);
	assert_int_equal(t.ready_err, 0);
	assert_true(t.bd->lim.capacity == 3 * 4096);
	bio_eng_init(&e, t.bd, 4, 41);
	memcpy(e.shadow, pre, 3 * 4096);
	bio_eng_start(&e, BIO_READ, 0, 3 * 4096, 4096, 4096);
	tw_run(&t, &e, 10 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_true(e.bad_bytes == 0);
	bio_eng_free(&e);
	nfs_client_destroy(t.bd);
	t.bd = NULL;

	/* neither the link, nor the subdirectory, nor a way up */
	for (int i = 0; i < 3; i++) {
		t.cc.path = i == 0 ? "link" :
			    i == 1 ? "sub/x" :
				     "../etc/hostname";
		tw_connect(&t);
		assert_int_not_equal(t.ready_err, 0);
		nfs_client_destroy(t.bd);
		t.bd = NULL;
	}

	/* a new file, written, restarted in the middle, read back */
	t.cc.path = "swapfile";
	t.cc.create_size = FILE_SIZE;
	tw_connect(&t);
	assert_int_equal(t.ready_err, 0);
	bio_eng_init(&e, t.bd, 8, 42);
	bio_eng_start(&e, BIO_WRITE, 0, FILE_SIZE, 4096, 64 * 1024);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_int_equal(read_file(dir, "swapfile", buf, FILE_SIZE), FILE_SIZE);
	assert_memory_equal(buf, e.shadow, FILE_SIZE);
	/*
	 * A restart: a new export and server on the same directory, where
	 * "pre" is gone meanwhile, so the files' order is not the same.
	 */
	snprintf(path, sizeof(path), "%s/pre", dir);
	assert_int_equal(unlink(path), 0);
	tw_dir(&t, dir);
	bio_eng_start(&e, BIO_READ, 0, FILE_SIZE, 4096, 64 * 1024);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_true(e.bad_bytes == 0);
	assert_true(cstat(&t, "reconnects") >= 1);
	assert_int_equal(cstat(&t, "nfs_errors"), 0);
	bio_eng_free(&e);
	tw_free(&t);
	/* the link's target is untouched */
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

static void tw_reconnect(struct tw *t)
{
	if (t->bd)
		nfs_client_destroy(t->bd);
	t->bd = NULL;
	tw_connect(t);
	if (t->ready_err) {
		nfs_client_destroy(t->bd);
		t->bd = NULL;
	}
}

/*
 * What a user meets at set-up: a file larger than the export's free space
 * is refused before it is created (FSSTAT), a smaller existing file is
 * grown when asked (SETATTR), and a file we may not write is refused at
 * once (ACCESS), not at the pager's first write-back.
 */
static void test_setup_checks(void **state)
{
	struct nfs_file *f;
	struct tw t;

	tw_setup(&t, NULL, 6);
	/* the export: 4 files of up to 8 MiB, 32 MiB in all */
	t.cc.path = "big";
	t.cc.create_size = 40 << 20;
	tw_reconnect(&t);
	assert_int_equal(t.ready_err, -ENOSPC);
	assert_null(nfs_export_lookup(t.exp, "big"));
	assert_true(nf_stat(t.s, "nfs.server.2049.creates") == 0);

	/* 1 MiB, then asked for 2 MiB: kept, or grown with grow */
	t.cc.path = "small";
	t.cc.create_size = 1 << 20;
	tw_reconnect(&t);
	assert_int_equal(t.ready_err, 0);
	t.cc.create_size = 2 << 20;
	tw_reconnect(&t);
	assert_int_equal(t.ready_err, 0);
	assert_true(t.bd->lim.capacity == 1 << 20);
	t.cc.grow = true;
	tw_reconnect(&t);
	assert_int_equal(t.ready_err, 0);
	assert_true(t.bd->lim.capacity == 2 << 20);
	f = nfs_export_lookup(t.exp, "small");
	assert_non_null(f);
	assert_true(f->size == 2 << 20);
	/* growing past the free space is refused, the file stays */
	t.cc.create_size = 33 << 20;
	tw_reconnect(&t);
	assert_int_equal(t.ready_err, -ENOSPC);
	assert_true(f->size == 2 << 20);

	/* a read-only server: ACCESS denies MODIFY, set-up says EACCES */
	t.cc.create_size = 0;
	t.cc.grow = false;
	nfs_server_destroy(t.srv);
	t.sc.read_only = true;
	t.srv = nfs_server_create(t.s->net, &t.sc);
	assert_non_null(t.srv);
	tw_reconnect(&t);
	assert_int_equal(t.ready_err, -EACCES);
	tw_free(&t);
}

/*
 * A server that wants privileged source ports (knfsd's "secure") refuses
 * a client on an ordinary port with AUTH_TOOWEAK, counted, and serves
 * one that asked for a port below 1024 (?secure=1).
 */
static void test_secure(void **state)
{
	struct tw t;

	tw_setup(&t, NULL, 8);
	nfs_server_destroy(t.srv);
	t.sc.secure = true;
	t.srv = nfs_server_create(t.s->net, &t.sc);
	assert_non_null(t.srv);
	tw_reconnect(&t);
	assert_int_equal(t.ready_err, -EACCES);
	assert_true(nf_stat(t.s, "nfs.server.2049.insecure_ports") >= 1);
	assert_null(nfs_export_lookup(t.exp, "swapfile"));
	t.cc.secure = true;
	tw_reconnect(&t);
	assert_int_equal(t.ready_err, 0);
	write_read_verify(&t, 14);
	assert_true(nf_stat(t.s, "nfs.server.2049.insecure_ports") == 1);
	tw_free(&t);
}

static void on_removed(void *arg, int err)
{
	int *res = arg;

	*res = err;
}

/*
 * lifeboat disk --remove: REMOVE once nothing is in flight (EBUSY while
 * bios are), the file gone from the export; a second client removing it
 * again hears NOENT.
 */
static void test_remove(void **state)
{
	struct bio_eng e;
	struct blkdev *other;
	int res = 1, res2 = 1;
	struct tw t;

	tw_setup(&t, NULL, 10);
	tw_connect(&t);
	assert_int_equal(t.ready_err, 0);
	t.cc.name = "nfs1";
	t.ready = false;
	assert_int_equal(
		nfs_client_create(t.c->net, &t.cc, on_ready, &t, &other), 0);
	for (int i = 0; i < 100 && !t.ready; i++)
		nf_run_for(t.w, 10 * MS);
	assert_int_equal(t.ready_err, 0);
	bio_eng_init(&e, t.bd, 8, 51);
	bio_eng_start(&e, BIO_WRITE, 0, 256 * 1024, 4096, 64 * 1024);
	nf_run_for(t.w, 1000); /* the writes are out */
	assert_int_equal(nfs_client_remove(t.bd, on_removed, &res), -EBUSY);
	tw_run(&t, &e, 10 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	bio_eng_free(&e);
	assert_int_equal(nfs_client_remove(t.bd, on_removed, &res), 0);
	for (int i = 0; i < 100 && res == 1; i++)
		nf_run_for(t.w, 10 * MS);
	assert_int_equal(res, 0);
	assert_null(nfs_export_lookup(t.exp, "swapfile"));
	assert_int_equal(nfs_client_remove(other, on_removed, &res2), 0);
	for (int i = 0; i < 100 && res2 == 1; i++)
		nf_run_for(t.w, 10 * MS);
	assert_int_equal(res2, -ENOENT);
	nfs_client_destroy(other);
	tw_free(&t);
}

static unsigned drain_tcp_socks(struct nf_host *h, struct tcp_sock **socks,
				unsigned max)
{
	unsigned n = 0;

	while (n < max && (socks[n] = tcp_socket(h->net, NULL, NULL)))
		n++;
	return n;
}

/*
 * With no normal memory left on the client, writes and reads go on
 * through the reserves, and a server restart is survived: the dead
 * socket's reserve pages wait in block.nfs0 for the new connection.
 */
static void test_exhausted_reconnect(void **state)
{
	struct page **hold = calloc(4096, sizeof(*hold));
	struct tcp_sock *socks[64];
	struct bio_eng e;
	struct tw t;
	unsigned nsocks;
	size_t held;

	tw_setup(&t, NULL, 5);
	tw_connect(&t);
	assert_int_equal(t.ready_err, 0);
	bio_eng_init(&e, t.bd, 8, 15);
	held = nf_exhaust(t.c, hold, 4096);
	nsocks = drain_tcp_socks(t.c, socks, 64);
	assert_int_equal(mm_normal_available(t.c->mm), 0);
	bio_eng_start(&e, BIO_WRITE, 0, 1 << 20, 4096, 64 * 1024);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	/* the server restarts: the client reconnects with no free memory */
	nfs_server_destroy(t.srv);
	nf_run_for(t.w, 10 * MS);
	nsocks += drain_tcp_socks(t.c, socks + nsocks, 64 - nsocks);
	nf_run_for(t.w, 200 * MS);
	t.srv = nfs_server_create(t.s->net, &t.sc);
	assert_non_null(t.srv);
	bio_eng_start(&e, BIO_WRITE, 1 << 20, 1 << 20, 4096, 64 * 1024);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	bio_eng_start(&e, BIO_READ, 0, FILE_SIZE, 4096, 64 * 1024);
	tw_run(&t, &e, 60 * NSEC_PER_SEC);
	assert_int_equal(e.errors, 0);
	assert_true(e.bad_bytes == 0);
	assert_true(cstat(&t, "reconnects") >= 1);
	assert_int_equal(mm_normal_available(t.c->mm), 0);
	mm_check(t.c->mm);
	bio_eng_free(&e);
	nfs_client_destroy(t.bd);
	t.bd = NULL;
	for (unsigned i = 0; i < nsocks; i++)
		tcp_close(socks[i]);
	nf_release(t.c, hold, &held, held);
	nf_release_objects(t.c);
	free(hold);
	tw_free(&t);
}

static void test_setup_failures(void **state)
{
	struct tw t;

	tw_setup(&t, NULL, 4);
	t.cc.export_path = "/nosuch";
	tw_connect(&t);
	assert_int_equal(t.ready_err, -ENOENT);
	nfs_client_destroy(t.bd);
	t.bd = NULL;

	t.cc.export_path = "/export";
	t.cc.create_size = 0;
	tw_connect(&t);
	assert_int_equal(t.ready_err, -ENOENT); /* LOOKUP: no such file */
	nfs_client_destroy(t.bd);
	t.bd = NULL;

	/* nothing listens on the portmapper's port */
	nfs_server_destroy(t.srv);
	t.sc.pmap_port = 0;
	t.srv = nfs_server_create(t.s->net, &t.sc);
	tw_connect(&t);
	assert_true(t.ready_err < 0);
	nfs_client_destroy(t.bd);
	t.bd = NULL;
	tw_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_small_mtu),
		cmocka_unit_test(test_restart_changes_verifier),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_dir_export),
		cmocka_unit_test(test_setup_checks),
		cmocka_unit_test(test_secure),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_exhausted_reconnect),
		cmocka_unit_test(test_setup_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
