// SPDX-License-Identifier: MIT
/*
 * cmd_disk.c - `lifeboat disk URI`: attach a network block device from a
 * lifeboat host and either verify it (write a deterministic pattern over a
 * range, read it back, compare every byte) or benchmark it (sequential and
 * random 4 KiB, queue depth 1 and 32, write and read; BENCH lines).
 * With --trim the verify then trims the first half of the range and reads
 * the second half back again: a TRIM must touch nothing beyond its range.
 *
 * The data buffers are arena pages taken once at start; each of the
 * queue-depth slots owns one request's worth and is resubmitted from its
 * completion, so the job allocates nothing while it runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "args.h"
#include "block/uri.h"
#include "commands.h"
#include "nfs/nfs.h"
#include "nfs/nfs_uri.h"
#include "hostopts.h"

#define DISK_MAX_QD 256
#define PROGRESS_NS 250000000ull
/* No reply for this long with requests outstanding: say so (NBD). */
#define DISK_STALL_NS (5 * NSEC_PER_SEC)

enum disk_mode { DISK_VERIFY, DISK_BENCH };

struct disk_phase {
	const char *name;
	enum bio_op op;
	bool random;
	uint32_t bs; /* 0: the device's max request */
	unsigned qd;
};

/* The benchmark: writes first, so the reads read what was written. */
static const struct disk_phase bench_phases[] = {
	{ "seq_write", BIO_WRITE, false, 0, 1 },
	{ "seq_write", BIO_WRITE, false, 0, 32 },
	{ "seq_read", BIO_READ, false, 0, 1 },
	{ "seq_read", BIO_READ, false, 0, 32 },
	{ "rand4k_write", BIO_WRITE, true, 4096, 1 },
	{ "rand4k_write", BIO_WRITE, true, 4096, 32 },
	{ "rand4k_read", BIO_READ, true, 4096, 1 },
	{ "rand4k_read", BIO_READ, true, 4096, 32 },
};

struct disk_slot {
	struct disk_job *job;
	struct bio bio;
	struct page *pages[BIO_MAX_VECS];
	bool busy;
};

struct disk_job {
	struct tool_host t;
	int removed; /* --remove: 1 until REMOVE answered, then 0 or -errno */
	struct blk_uri uri;
	struct blkdev *bd;
	enum disk_mode mode;
	unsigned qd; /* slots */
	uint64_t size; /* the range used */
	uint64_t bench_ns;
	uint64_t seed;
	struct disk_slot *slots;
	/* the phase running */
	struct disk_phase ph;
	uint32_t bs;
	unsigned phase_idx;
	bool phase_flush; /* verify: the flush between write and read */
	bool trim; /* verify: --trim */
	uint64_t lo, hi; /* the phase's range */
	uint64_t trimmed;
	uint64_t next_off, issued, done_bytes, done_ios, lat_ns;
	uint64_t phase_start, phase_end, last_bytes, last_t;
	unsigned inflight;
	bool stopping;
	/* the outcome */
	uint64_t mismatches, io_errors, first_bad;
	int exit;
	bool tty;
	struct timer progress;
};

/* ---- the pattern: every 8 bytes name their offset and the run's seed ---- */

static uint64_t pattern_word(uint64_t seed, uint64_t off)
{
	uint64_t x = (off >> 3) ^ seed;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static void fill_pattern(struct disk_job *j, struct bio *bio)
{
	uint64_t off = bio->offset;

	for (unsigned i = 0; i < bio->nr_vecs; i++) {
		uint64_t *w = (uint64_t *)((uint8_t *)page_address(
						   j->t.mm, bio->vec[i].page) +
					   bio->vec[i].off);

		for (uint32_t k = 0; k < bio->vec[i].len / 8; k++, off += 8)
			w[k] = pattern_word(j->seed, off);
	}
}

static void check_pattern(struct disk_job *j, struct bio *bio)
{
	uint64_t off = bio->offset;

	for (unsigned i = 0; i < bio->nr_vecs; i++) {
		const uint64_t *w =
			(const uint64_t *)((uint8_t *)page_address(
						   j->t.mm, bio->vec[i].page) +
					   bio->vec[i].off);

		for (uint32_t k = 0; k < bio->vec[i].len / 8; k++, off += 8) {
			if (w[k] == pattern_word(j->seed, off))
				continue;
			if (!j->mismatches++)
				j->first_bad = off;
		}
	}
}

/* ---- issuing ------------------------------------------------------------ */

static void disk_end_io(struct bio *bio);
static void phase_next(struct disk_job *j);

static bool phase_has_more(const struct disk_job *j)
{
	if (j->stopping)
		return false;
	if (j->mode == DISK_BENCH)
		return host_now(j->t.host) < j->phase_end;
	return j->next_off < j->hi;
}

static void slot_issue(struct disk_slot *s)
{
	struct disk_job *j = s->job;
	struct bio *bio = &s->bio;
	uint32_t len = j->bs, left;
	uint64_t off;
	int err;

	if (j->ph.random) {
		off = prng_below(&j->t.host->prng, j->size / j->bs) * j->bs;
	} else {
		if (j->next_off >= j->hi)
			j->next_off = j->lo; /* the benchmark wraps around */
		off = j->next_off;
		len = (uint32_t)lb_min((uint64_t)len, j->hi - off);
		j->next_off += len;
	}
	bio_init(bio, j->bd, j->ph.op);
	bio->offset = off;
	bio->end_io = disk_end_io;
	bio->private = s;
	left = j->ph.op == BIO_TRIM ? 0 : len;
	if (j->ph.op == BIO_TRIM)
		bio->size = len;
	for (unsigned i = 0; left; i++) {
		uint32_t n = lb_min(left, (uint32_t)PAGE_SIZE);

		bio_add_page(bio, s->pages[i], 0, n);
		left -= n;
	}
	if (j->ph.op == BIO_WRITE && j->mode == DISK_VERIFY)
		fill_pattern(j, bio);
	err = blk_submit(bio);
	if (err) {
		fprintf(stderr, "lifeboat disk: %s at %llu refused: %s\n",
			bio_op_name(bio->op), (unsigned long long)off,
			strerror(-err));
		j->io_errors++;
		j->stopping = true;
		return;
	}
	s->busy = true;
	j->inflight++;
	j->issued++;
}

static void phase_fill(struct disk_job *j)
{
	for (unsigned i = 0; i < j->ph.qd && phase_has_more(j); i++)
		if (!j->slots[i].busy)
			slot_issue(&j->slots[i]);
	if (!j->inflight)
		phase_next(j);
}

static void disk_end_io(struct bio *bio)
{
	struct disk_slot *s = bio->private;
	struct disk_job *j = s->job;

	s->busy = false;
	j->inflight--;
	if (bio->error) {
		if (!j->io_errors++)
			fprintf(stderr,
				"\nlifeboat disk: %s of %u bytes at %llu failed: %s\n",
				bio_op_name(bio->op), bio->size,
				(unsigned long long)bio->offset,
				strerror(-bio->error));
		j->stopping = true;
	} else {
		j->done_bytes += bio->size;
		j->done_ios++;
		j->lat_ns += host_now(j->t.host) - bio->submitted;
		if (bio->op == BIO_READ && j->mode == DISK_VERIFY)
			check_pattern(j, bio);
	}
	if (bio->op == BIO_FLUSH) {
		phase_next(j);
		return;
	}
	if (phase_has_more(j))
		slot_issue(s);
	if (!j->inflight)
		phase_next(j);
}

/* ---- phases ------------------------------------------------------------- */

static double mbps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / 1e6 / ((double)ns / 1e9) : 0;
}

static void phase_report(struct disk_job *j)
{
	uint64_t ns = host_now(j->t.host) - j->phase_start;

	if (j->tty)
		fprintf(stderr, "\r\033[K");
	if (j->mode == DISK_BENCH) {
		printf("BENCH disk.%s.bs%u.qd%u %.1f MB/s %.0f IOPS %.1f us\n",
		       j->ph.name, j->bs, j->ph.qd, mbps(j->done_bytes, ns),
		       ns ? (double)j->done_ios / ((double)ns / 1e9) : 0,
		       j->done_ios ?
			       (double)j->lat_ns / 1e3 / (double)j->done_ios :
			       0);
	} else {
		if (j->ph.op == BIO_TRIM)
			j->trimmed += j->done_bytes;
		printf("%-6s %llu bytes in %.2f s: %.1f MB/s\n",
		       bio_op_name(j->ph.op), (unsigned long long)j->done_bytes,
		       (double)ns / 1e9, mbps(j->done_bytes, ns));
	}
	fflush(stdout);
}

/* Start @ph over [@lo, @hi) of the device. */
static void phase_start_range(struct disk_job *j, const struct disk_phase *ph,
			      uint64_t lo, uint64_t hi)
{
	j->ph = *ph;
	j->bs = ph->bs ? ph->bs : j->bd->lim.max_request;
	if (j->bs > j->bd->lim.max_request)
		j->bs = j->bd->lim.max_request;
	if (j->ph.qd > j->qd)
		j->ph.qd = j->qd;
	j->lo = j->next_off = lo;
	j->hi = hi;
	j->issued = j->done_bytes = j->done_ios = j->lat_ns = 0;
	j->phase_start = j->last_t = host_now(j->t.host);
	j->last_bytes = 0;
	j->phase_end = j->phase_start + j->bench_ns;
	phase_fill(j);
}

static void phase_start(struct disk_job *j, const struct disk_phase *ph)
{
	phase_start_range(j, ph, 0, j->size);
}

static void job_finish(struct disk_job *j)
{
	timer_cancel(&j->t.loop, &j->progress);
	loop_stop(&j->t.loop);
}

static void phase_next(struct disk_job *j)
{
	static const struct disk_phase verify_write = { "write", BIO_WRITE,
							false, 0, 32 };
	static const struct disk_phase verify_read = { "read", BIO_READ, false,
						       0, 32 };
	static const struct disk_phase verify_trim = { "trim", BIO_TRIM, false,
						       0, 32 };

	if (j->inflight)
		return;
	if (j->phase_flush) {
		/* the flush between the verify's write and read is done */
		j->phase_flush = false;
		if (!j->stopping) {
			phase_start(j, &verify_read);
			return;
		}
		job_finish(j);
		return;
	}
	if (j->phase_idx)
		phase_report(j);
	if (j->stopping) {
		job_finish(j);
		return;
	}
	if (j->mode == DISK_BENCH) {
		if (j->phase_idx == ARRAY_SIZE(bench_phases)) {
			job_finish(j);
			return;
		}
		phase_start(j, &bench_phases[j->phase_idx++]);
		return;
	}
	if (j->phase_idx++ == 0) {
		phase_start(j, &verify_write);
		return;
	}
	if (j->ph.op == BIO_WRITE && j->bd->lim.flush) {
		struct disk_slot *s = &j->slots[0];

		j->phase_flush = true;
		bio_init(&s->bio, j->bd, BIO_FLUSH);
		s->bio.end_io = disk_end_io;
		s->bio.private = s;
		if (blk_submit(&s->bio) == 0) {
			s->busy = true;
			j->inflight++;
			return;
		}
		j->phase_flush = false;
	}
	if (j->ph.op == BIO_WRITE) {
		phase_start(j, &verify_read);
		return;
	}
	if (j->ph.op == BIO_READ && j->trim && !j->trimmed && j->bd->lim.trim &&
	    j->size >= 2 * SECTOR_SIZE) {
		phase_start_range(j, &verify_trim, 0,
				  j->size / 2 - j->size / 2 % SECTOR_SIZE);
		return;
	}
	if (j->ph.op == BIO_TRIM) {
		uint64_t mid = j->hi;

		/* the untrimmed half still reads as written */
		phase_start_range(j, &verify_read, mid, j->size);
		return;
	}
	job_finish(j);
}

static void progress_tick(struct timer *t)
{
	struct disk_job *j = container_of(t, struct disk_job, progress);
	uint64_t now = host_now(j->t.host);
	int64_t used = 0, size = 0;
	char name[64];

	snprintf(name, sizeof(name), "mm.reserve.block.%s.used", j->bd->name);
	stats_get(&j->t.host->stats, name, &used);
	snprintf(name, sizeof(name), "mm.reserve.block.%s.size", j->bd->name);
	stats_get(&j->t.host->stats, name, &size);
	fprintf(stderr,
		"\r\033[K%s%s qd%u: %llu MB, %.1f MB/s, in flight %u, free %zu pages, reserve %lld/%lld",
		j->mode == DISK_BENCH ? "bench " : "", j->ph.name, j->ph.qd,
		(unsigned long long)(j->done_bytes / 1000000),
		mbps(j->done_bytes - j->last_bytes, now - j->last_t),
		j->inflight, (size_t)j->t.mm->nr_free.v, (long long)used,
		(long long)size);
	j->last_bytes = j->done_bytes;
	j->last_t = now;
	timer_arm_in(&j->t.loop, &j->progress, PROGRESS_NS);
}

/* ---- setup -------------------------------------------------------------- */

static int slots_alloc(struct disk_job *j)
{
	unsigned per = (unsigned)PAGES_FOR(j->bd->lim.max_request);

	/* the slot table is start-up state, too big for a kmalloc class */
	j->slots = calloc(j->qd, sizeof(*j->slots));
	if (!j->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < j->qd; i++) {
		j->slots[i].job = j;
		for (unsigned k = 0; k < per; k++) {
			j->slots[i].pages[k] =
				mm_page_alloc(j->t.mm, MM_NORMAL, NULL);
			if (!j->slots[i].pages[k])
				return -ENOMEM;
		}
	}
	return 0;
}

static void slots_free(struct disk_job *j)
{
	if (!j->slots)
		return;
	for (unsigned i = 0; i < j->qd; i++)
		for (unsigned k = 0; k < BIO_MAX_VECS; k++)
			if (j->slots[i].pages[k])
				mm_page_put(j->t.mm, j->slots[i].pages[k]);
	free(j->slots);
}

static void disk_ready(struct blkdev *bd, int err, void *arg)
{
	struct disk_job *j = arg;

	if (err) {
		fprintf(stderr, "lifeboat disk: cannot attach the device: %s\n",
			strerror(-err));
		j->exit = 1;
		loop_stop(&j->t.loop);
		return;
	}
	j->bd = bd;
	if (j->mode == DISK_VERIFY && j->size > bd->lim.capacity) {
		fprintf(stderr,
			"lifeboat disk: --verify %llu is larger than the device (%llu bytes)\n",
			(unsigned long long)j->size,
			(unsigned long long)bd->lim.capacity);
		j->exit = 1;
		loop_stop(&j->t.loop);
		return;
	}
	if (!j->size || j->size > bd->lim.capacity)
		j->size = lb_min(bd->lim.capacity, 256ull << 20);
	if (j->qd > bd->lim.queue_depth)
		j->qd = bd->lim.queue_depth;
	if (slots_alloc(j)) {
		fprintf(stderr,
			"lifeboat disk: not enough memory for %u buffers of %u bytes; raise --memory\n",
			j->qd, bd->lim.max_request);
		j->exit = 1;
		loop_stop(&j->t.loop);
		return;
	}
	printf("lifeboat disk: %s attached: %llu bytes, max request %u, queue depth %u%s%s%s%s%s\n",
	       bd->name, (unsigned long long)bd->lim.capacity,
	       bd->lim.max_request, bd->lim.queue_depth,
	       bd->lim.flush ? ", flush" : "", bd->lim.fua ? ", fua" : "",
	       bd->lim.trim ? ", trim" : "",
	       bd->lim.write_zeroes ? ", write-zeroes" : "",
	       bd->lim.read_only ? ", read-only" : "");
	fflush(stdout);
	if (j->tty)
		timer_arm_in(&j->t.loop, &j->progress, PROGRESS_NS);
	phase_next(j);
}

static void disk_removed(void *arg, int err)
{
	struct disk_job *j = arg;

	j->removed = err;
	loop_stop(&j->t.loop);
}

static void print_summary(struct disk_job *j)
{
	char name[64];
	int64_t v;

	printf("\nreserves, in pages:\n");
	mm_print_reserves(j->t.mm, stdout);
	snprintf(name, sizeof(name), "block.%s.errors", j->bd->name);
	if (!stats_get(&j->t.host->stats, name, &v))
		printf("device errors: %lld\n", (long long)v);
	snprintf(name, sizeof(name), "nbd.%s.stalls", j->bd->name);
	if (!stats_get(&j->t.host->stats, name, &v) && v)
		printf("stalls: %lld (no reply for %llu s with requests outstanding; see the warnings above)\n",
		       (long long)v,
		       (unsigned long long)(DISK_STALL_NS / NSEC_PER_SEC));
}

static void disk_help(FILE *out)
{
	fprintf(out,
		"usage: lifeboat disk URI --wire WIRE --ip ADDR/LEN (--verify SIZE | --bench) [options]\n"
		"\n"
		"Attaches the network block device URI names from a lifeboat host:\n"
		"  nbd://HOST[:PORT]/[EXPORT]   an NBD server (HOST an IPv4 address)\n"
		"  aoe://SHELF.SLOT             an AoE target on the wire\n"
		"  nfs://HOST[:PORT]/EXPORT/FILE  a file on an NFSv3 export, created\n"
		"                               with SIZE bytes (default 256M) or grown\n"
		"                               to the SIZE given when smaller;\n"
		"                               refused when the export has less room\n"
		"                               or the file may not be written\n"
		"--verify SIZE writes a deterministic pattern over the first SIZE\n"
		"bytes, flushes, reads them back and compares every byte (exit 0 when\n"
		"all match, 1 otherwise).  --bench runs sequential (largest request)\n"
		"and random 4 KiB writes then reads at queue depth 1 and 32 and prints\n"
		"a BENCH line per phase.  The summary shows the device's reserve.\n"
		"\n"
		"options:\n" HOSTOPT_HELP
		"  --queue-depth N     requests in flight (default 32, max 256)\n"
		"  --max-request SIZE  largest request (default: the transport's)\n"
		"  --size SIZE         range the benchmark uses (default 256M)\n"
		"  --bench-time SECS   seconds per benchmark phase (default 2)\n"
		"  --stats             print the host's statistics table at the end\n"
		"  --trim              verify: then TRIM the first half of the range\n"
		"                      and read the second half back again\n"
		"  --remove            nfs: remove the file at the end (REMOVE)\n");
}

int cmd_disk(int argc, char **argv)
{
	enum {
		OPT_VERIFY = 1,
		OPT_BENCH,
		OPT_QD,
		OPT_MAXREQ,
		OPT_SIZE,
		OPT_TIME,
		OPT_STATS,
		OPT_TRIM,
		OPT_REMOVE
	};
	static const struct option opts[] = {
		HOSTOPT_LONGOPTS,
		{ "verify", required_argument, NULL, OPT_VERIFY },
		{ "bench", no_argument, NULL, OPT_BENCH },
		{ "queue-depth", required_argument, NULL, OPT_QD },
		{ "max-request", required_argument, NULL, OPT_MAXREQ },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "bench-time", required_argument, NULL, OPT_TIME },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "trim", no_argument, NULL, OPT_TRIM },
		{ "remove", no_argument, NULL, OPT_REMOVE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct disk_job j;
	struct blk_open_opts bo = { .stall_ns = DISK_STALL_NS };
	struct host_opts o;
	bool have_mode = false, stats = false, remove = false;
	const char *why = "";
	uint64_t v;
	double secs = 2;
	int c, rc;

	memset(&j, 0, sizeof(j));
	j.qd = 32;
	host_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			disk_help(stdout);
			return 0;
		case OPT_VERIFY:
			if (have_mode)
				return usage_error(
					"disk",
					"--verify and --bench are exclusive");
			if (parse_size(optarg, &j.size) || !j.size ||
			    j.size % SECTOR_SIZE)
				return usage_error(
					"disk",
					"--verify takes a size, a multiple of 512, not '%s'",
					optarg);
			j.mode = DISK_VERIFY;
			have_mode = true;
			continue;
		case OPT_BENCH:
			if (have_mode)
				return usage_error(
					"disk",
					"--verify and --bench are exclusive");
			j.mode = DISK_BENCH;
			have_mode = true;
			continue;
		case OPT_QD:
			if (parse_u64(optarg, &v) || !v || v > DISK_MAX_QD)
				return usage_error(
					"disk",
					"--queue-depth takes 1 to 256, not '%s'",
					optarg);
			j.qd = (unsigned)v;
			continue;
		case OPT_MAXREQ:
			if (parse_size(optarg, &v) || !v || v % SECTOR_SIZE ||
			    v > BIO_MAX_VECS * PAGE_SIZE)
				return usage_error(
					"disk",
					"--max-request takes a multiple of 512 up to 64K, not '%s'",
					optarg);
			bo.max_request = (uint32_t)v;
			continue;
		case OPT_SIZE:
			if (parse_size(optarg, &v) || v < 65536 || v % 65536)
				return usage_error(
					"disk",
					"--size takes a multiple of 64K, not '%s'",
					optarg);
			if (j.mode != DISK_VERIFY)
				j.size = v;
			continue;
		case OPT_TIME:
			if (parse_double(optarg, &secs) || secs <= 0 ||
			    secs > 3600)
				return usage_error(
					"disk",
					"--bench-time takes seconds (0-3600], not '%s'",
					optarg);
			continue;
		case OPT_STATS:
			stats = true;
			continue;
		case OPT_TRIM:
			j.trim = true;
			continue;
		case OPT_REMOVE:
			remove = true;
			continue;
		}
		rc = host_opts_parse(&o, "disk", c, optarg);
		if (rc == 1)
			return usage_error("disk", "bad arguments");
		if (rc)
			return rc;
	}
	if (optind >= argc)
		return usage_error("disk", "which device? give a URI");
	if (blk_uri_parse(argv[optind], &j.uri, &why))
		return usage_error("disk", "%s: %s", argv[optind], why);
	if (optind + 1 < argc)
		return usage_error("disk", "unexpected argument '%s'",
				   argv[optind + 1]);
	if (!have_mode)
		return usage_error("disk", "say --verify SIZE or --bench");
	if (j.trim && j.mode != DISK_VERIFY)
		return usage_error("disk", "--trim goes with --verify");
	if (remove && j.uri.kind != BLK_URI_NFS)
		return usage_error("disk", "--remove is for nfs:// files");
	/* AoE is plain Ethernet: only NBD needs an address */
	rc = j.uri.kind == BLK_URI_AOE && o.wire ?
		     0 :
		     host_opts_check(&o, "disk", true);
	if (rc)
		return rc;
	j.bench_ns = (uint64_t)(secs * 1e9);
	j.tty = isatty(STDERR_FILENO);
	if (tool_host_start(&j.t, &o, "disk")) {
		tool_host_stop(&j.t);
		return 1;
	}
	j.seed = prng_next(&j.t.host->prng);
	timer_init(&j.progress, progress_tick);
	bo.queue_depth = j.qd;
	/* an NFS file that is missing is created this large */
	bo.create_size = j.size ? j.size : 256ull << 20;
	/* a size said aloud is what the file must have */
	bo.grow = j.size != 0;
	rc = lb_uri_open(j.t.net, &j.uri, &bo, disk_ready, &j, &j.bd);
	if (rc) {
		fprintf(stderr, "lifeboat disk: cannot open %s: %s\n",
			argv[optind], strerror(-rc));
		tool_host_stop(&j.t);
		return 1;
	}
	tool_host_run(&j.t);
	timer_cancel(&j.t.loop, &j.progress);
	if (j.t.interrupted && !j.exit) {
		fprintf(stderr, "\nlifeboat disk: interrupted\n");
		j.exit = 130;
	}
	if (j.bd && j.bd->attached && j.slots) {
		if (j.mode == DISK_VERIFY && !j.exit) {
			if (j.mismatches || j.io_errors) {
				printf("VERIFY FAILED: %llu mismatched words (first at byte %llu), %llu I/O errors\n",
				       (unsigned long long)j.mismatches,
				       (unsigned long long)j.first_bad,
				       (unsigned long long)j.io_errors);
				j.exit = 1;
			} else {
				printf("verified %llu bytes: every byte matches\n",
				       (unsigned long long)j.size);
				if (j.trim && j.trimmed)
					printf("trimmed %llu bytes; the rest still matches\n",
					       (unsigned long long)j.trimmed);
				else if (j.trim)
					printf("the device does not offer TRIM\n");
			}
		} else if (j.io_errors && !j.exit) {
			j.exit = 1;
		}
		print_summary(&j);
	}
	if (remove && j.bd && j.bd->attached && !j.t.interrupted) {
		j.removed = 1;
		if (nfs_client_remove(j.bd, disk_removed, &j) == 0)
			tool_host_run(&j.t);
		if (j.removed) {
			fprintf(stderr, "lifeboat disk: cannot remove %s: %s\n",
				argv[optind],
				strerror(j.removed < 0 ? -j.removed : EBUSY));
			j.exit = j.exit ? j.exit : 1;
		} else {
			printf("removed %s\n", j.uri.nfs_file);
		}
	}
	if (stats)
		stats_print_table(&j.t.host->stats, stdout, "");
	j.stopping = true;
	lb_uri_close(&j.uri, j.bd);
	/* bios still in flight were failed by the close: now free the pages */
	slots_free(&j);
	tool_host_stop(&j.t);
	return j.exit;
}
