// SPDX-License-Identifier: MIT
/*
 * bench_writeback.c - `lifeboat bench --only writeback`: what surviving
 * costs.  Write-back goodput (MB/s of page data acknowledged by the
 * server) with memory plentiful and with free memory held at the reserve,
 * on the simulated wire and on a pair wire, and how much of the reserve
 * the emergency write-back used at its high-water mark.
 *
 * Write-back goes through the pager itself: a page-cache region
 * (vm_map_file) on an NBD device is dirtied whole (VM_TOUCH_WRITE |
 * VM_TOUCH_OVERWRITE) on a client with RAM to hold it, then vm_sync()
 * starts the flusher on every dirty page and the clock runs until none is
 * dirty or under write-back.  So the figure includes everything the pager
 * does: bios from the device's mempool, memalloc context charging
 * block.<dev>, the device's queue depth, clustering of adjacent pages.
 *
 * Emergency mode: once the region is dirty, a hog takes every page and
 * every free slab object a normal allocation could get (MM_ATOMIC |
 * MM_NOMEMALLOC: no direct reclaim may start write-back before the clock
 * does) and keeps taking whatever normal memory comes back (parked as an
 * mm waiter, and a periodic sweep of the slab caches), so free memory
 * stays at the reserve: every allocation on the write-back path (netbuf
 * headers, ACKs and NBD replies received) must come from the reserves,
 * and the background reclaimer runs alongside the flusher, as it would.
 *
 * sim: two hosts on a 10 Gbit/s, 50 us switch, timed in virtual time:
 * that figure says what the simulated wire's clock saw, not what the
 * emergency path costs in CPU (the wall-clock figure, CPU-bound with both
 * ends in one thread, is printed next to it).  pair: the server is a
 * `lifeboat serve` child on a SOCK_SEQPACKET socketpair, the client is in
 * this process, wall-clock time: WB_PAIR_ROUNDS rounds, each a normal run
 * then an emergency one, and the ratio of the two medians is the cost per
 * byte of the emergency path on a real wire.
 * Under policy none the emergency write-back cannot get a netbuf and
 * stalls: that world runs in a forked child, which reports and _exit()s
 * after a bounded virtual time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "block/nbd.h"
#include "dev/sim.h"
#include "hostopts.h"
#include "mm/hog.h"
#include "mm/slab.h"
#include "net/net.h"
#include "vm/vm.h"

#define WB_SIM_REGION (32ull << 20)
#define WB_PAIR_REGION (64ull << 20)
#define WB_SERVER_MEMORY (64ull << 20)
#define WB_TOUCHES 64 /* touches in flight while dirtying */
#define WB_SIM_LIMIT_NS (10 * NSEC_PER_SEC) /* virtual: a stall */
#define WB_PAIR_LIMIT_NS (20 * NSEC_PER_SEC)
/*
 * normal, emergency, normal, ...: alternated, so both see the same
 * machine (load from other processes comes and goes), and the medians
 * compared; odd, so a median is one round's figure.
 */
#define WB_PAIR_ROUNDS 7
#define WB_SWEEP_NS NSEC_PER_MSEC /* the hog's sweep of the slab caches */

#define WB_SIM_SERVER_IP 0xc0000201u /* 192.0.2.1 */
#define WB_SIM_CLIENT_IP 0xc0000202u
#define WB_PAIR_SERVER_IP "10.77.0.1"
#define WB_PAIR_CLIENT_CIDR "10.77.0.2/24"

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The client side, whatever the wire. */
struct wb_client {
	struct loop *loop;
	struct host *host;
	struct mm *mm;
	struct net *net;
	struct blkdev *bd;
	struct vm *vm;
	bool ready;
	int ready_err;
};

struct wb_result {
	uint64_t bytes, loop_ns, wall_ns;
	uint64_t pfmemalloc; /* pages taken from the reserve meanwhile */
	int64_t hwm, size; /* mm.reserve.root, after the run */
	char detail[256]; /* the other reserves used: "name hwm/size ..." */
	bool stalled, failed;
};

static double wb_mbps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes * 1e3 / (double)ns : 0;
}

static int64_t wb_stat(struct wb_client *c, const char *name)
{
	int64_t v = 0;

	stats_get(&c->host->stats, name, &v);
	return v;
}

struct wb_detail {
	char *buf;
	size_t len, off;
};

static void wb_detail_one(const struct mm_reserve *r, unsigned depth, void *arg)
{
	struct wb_detail *d = arg;

	if (!depth || !r->hwm.v || d->off >= d->len)
		return;
	d->off += (size_t)snprintf(d->buf + d->off, d->len - d->off,
				   "%s%s %lld/%lld", d->off ? ", " : "",
				   r->name, (long long)r->hwm.v,
				   (long long)r->size.v);
	if (r->failures.v && d->off < d->len)
		d->off += (size_t)snprintf(d->buf + d->off, d->len - d->off,
					   " (%llu failed)",
					   (unsigned long long)r->failures.v);
}

/* Every reserve but the root that was ever charged, as "name hwm/size". */
static void wb_reserve_detail(struct wb_client *c, char *buf, size_t len)
{
	struct wb_detail d = { buf, len, 0 };

	buf[0] = 0;
	mm_reserve_walk(mm_reserve_root(c->mm), wb_detail_one, &d);
}

/* Run @c's loop until @cond or @limit (loop time); the value of @cond. */
#define WB_RUN_UNTIL(c, cond, limit)                                \
	({                                                          \
		uint64_t __wait = (c)->loop->kind == LOOP_VIRTUAL ? \
					  UINT64_MAX :              \
					  10 * NSEC_PER_MSEC;       \
		while (!(cond) && loop_now((c)->loop) < (limit))    \
			if (!loop_run_once((c)->loop, __wait))      \
				break;                              \
		(cond);                                             \
	})

static void wb_ready(struct blkdev *bd, int err, void *arg)
{
	struct wb_client *c = arg;

	c->ready = true;
	c->ready_err = err;
}

/* ---- dirtying the region ------------------------------------------------ */

struct wb_dirtier {
	struct vm_region *r;
	struct vm_touch t[WB_TOUCHES];
	uint64_t next, done, errors, tag;
};

static void wb_dirtied(struct vm_touch *t, void *data, int err)
{
	struct wb_dirtier *d = t->private;
	uint64_t word = d->tag ^ t->index;

	if (err)
		d->errors++;
	else
		memcpy(data, &word, sizeof(word));
	d->done++;
	if (d->next < d->r->nr_pages) {
		t->index = d->next++;
		if (vm_touch(t)) {
			d->errors++;
			d->done++;
		}
	}
}

/* Dirty every page of @r; 0, or -EIO. */
static int wb_dirty(struct wb_client *c, struct vm_region *r, uint64_t tag,
		    uint64_t limit)
{
	struct wb_dirtier *d = calloc(1, sizeof(*d));
	int err = 0;

	if (!d)
		return -ENOMEM;
	d->r = r;
	d->tag = tag;
	for (unsigned i = 0; i < WB_TOUCHES && d->next < r->nr_pages; i++) {
		struct vm_touch *t = &d->t[i];

		t->region = r;
		t->index = d->next++;
		t->flags = VM_TOUCH_WRITE | VM_TOUCH_OVERWRITE;
		t->fn = wb_dirtied;
		t->private = d;
		if (vm_touch(t)) {
			d->errors++;
			d->done++;
		}
	}
	if (!WB_RUN_UNTIL(c, d->done == r->nr_pages, limit) || d->errors)
		err = -EIO;
	/* touches still busy are inside the pager: leave them to it */
	if (d->done == r->nr_pages)
		free(d);
	return err;
}

/* ---- the hog: free memory held at the reserve ------------------------- */

struct wb_hog {
	struct wb_client *c;
	struct mm_hog hog;
	struct page **pages;
	void **objs;
	struct mm_waiter waiter;
	struct timer sweep;
};

/*
 * Room for the free objects the hog may take: slabs keep few free ones
 * (an empty slab goes back to the arena), so eight a page is plenty.
 */
#define WB_HOG_OBJS_PER_PAGE 8

/* Take every page and free object a normal request could get. */
static void hog_take(struct wb_hog *h)
{
	struct wb_client *c = h->c;
	struct kmem_cache *const caches[] = { &c->net->netbuf_cache,
					      &c->net->sock_cache,
					      &c->bd->bio_cache,
					      &c->bd->rq_cache };

	mm_hog_take(&h->hog, caches, ARRAY_SIZE(caches));
	if (!h->waiter.parked)
		mm_wait(c->mm, &h->waiter, NULL);
}

static void hog_wake(struct mm_waiter *w)
{
	hog_take(container_of(w, struct wb_hog, waiter));
}

static void hog_sweep(struct timer *t)
{
	struct wb_hog *h = container_of(t, struct wb_hog, sweep);

	hog_take(h);
	timer_arm_in(h->c->loop, &h->sweep, WB_SWEEP_NS);
}

static int hog_start(struct wb_hog *h, struct wb_client *c)
{
	size_t nr = c->mm->nr_pages;

	memset(h, 0, sizeof(*h));
	h->c = c;
	h->pages = calloc(nr, sizeof(*h->pages));
	h->objs = calloc(nr * WB_HOG_OBJS_PER_PAGE, sizeof(*h->objs));
	if (!h->pages || !h->objs) {
		free(h->pages);
		free(h->objs);
		return -ENOMEM;
	}
	mm_hog_init(&h->hog, c->mm, h->pages, nr, h->objs,
		    nr * WB_HOG_OBJS_PER_PAGE);
	mm_waiter_init(&h->waiter, hog_wake, "bench hog");
	timer_init(&h->sweep, hog_sweep);
	hog_take(h);
	timer_arm_in(c->loop, &h->sweep, WB_SWEEP_NS);
	return 0;
}

static void hog_stop(struct wb_hog *h)
{
	timer_cancel(h->c->loop, &h->sweep);
	mm_wait_cancel(h->c->mm, &h->waiter);
	mm_hog_release(&h->hog);
	free(h->objs);
	free(h->pages);
}

/* ---- one measurement ---------------------------------------------------- */

/*
 * Dirty @bytes of page cache at the start of @c's device and time its
 * write-back; with @emergency, free memory is held at the reserve from
 * the moment the clock starts.  @store: the server's RAM when it is in
 * this process (sim), to check the data arrived.  A stalled run is left
 * as it is (r->stalled): the caller's process must exit.
 */
static void wb_measure(struct wb_client *c, uint64_t bytes, bool emergency,
		       uint64_t limit_ns, const struct blk_store *store,
		       struct wb_result *r)
{
	uint64_t npages = bytes / PAGE_SIZE, tag = emergency ? 0xe0 : 0x40;
	uint64_t wb0, pf0, t0, w0, limit;
	struct vm_region *reg;
	struct wb_hog hog;

	memset(r, 0, sizeof(*r));
	tag = (tag << 56) | 0x5742ull << 40; /* "WB" */
	limit = loop_now(c->loop) + limit_ns;
	if (vm_map_file(c->vm, "bench", c->bd, 0, npages, &reg) ||
	    wb_dirty(c, reg, tag, limit)) {
		r->failed = true;
		return;
	}
	if (emergency && hog_start(&hog, c)) {
		r->failed = true;
		return;
	}
	wb0 = c->vm->st.wb_bytes.v;
	pf0 = (uint64_t)wb_stat(c, "mm.alloc.pfmemalloc");
	t0 = loop_now(c->loop);
	w0 = wall_ns();
	limit = t0 + limit_ns;
	vm_sync(c->vm);
	if (!WB_RUN_UNTIL(c, !vm_sync_pending(c->vm), limit)) {
		/* the hog's pages stay taken: the world is left to the exit */
		r->stalled = true;
		if (emergency) {
			timer_cancel(c->loop, &hog.sweep);
			mm_wait_cancel(c->mm, &hog.waiter);
		}
		return;
	}
	r->loop_ns = loop_now(c->loop) - t0;
	r->wall_ns = wall_ns() - w0;
	r->bytes = c->vm->st.wb_bytes.v - wb0;
	r->pfmemalloc = (uint64_t)wb_stat(c, "mm.alloc.pfmemalloc") - pf0;
	if (emergency)
		hog_stop(&hog);
	r->hwm = wb_stat(c, "mm.reserve.root.hwm");
	r->size = wb_stat(c, "mm.reserve.root.size");
	wb_reserve_detail(c, r->detail, sizeof(r->detail));
	if (r->bytes < bytes || c->vm->st.wb_errors.v)
		r->failed = true;
	for (uint64_t i = 0; store && i < npages; i++) {
		uint64_t word;

		memcpy(&word, store->ram + i * PAGE_SIZE, sizeof(word));
		if (word != (tag ^ i)) {
			fprintf(stderr,
				"bench: page %llu did not reach the store\n",
				(unsigned long long)i);
			r->failed = true;
			break;
		}
	}
	while (vm_unmap(reg) == -EBUSY && loop_now(c->loop) < limit)
		loop_run_once(c->loop, 10 * NSEC_PER_MSEC);
}

/* ---- the simulated world ----------------------------------------------- */

struct wb_host {
	struct host *host;
	struct mm *mm;
	struct net *net;
	struct net_device dev;
};

struct wb_sim {
	struct loop loop;
	struct sim_link link;
	struct wb_host client, server;
	struct blk_store store;
	struct nbd_server *srv;
	struct wb_client c;
};

static int wb_host_init(struct wb_sim *w, struct wb_host *h, const char *name,
			uint64_t memory, enum mm_policy policy, uint32_t ip)
{
	struct host_config hc = { .name = name,
				  .seed = ip,
				  .log_level = LOG_ERR };
	struct mm_config mc = { .nr_pages = memory / PAGE_SIZE,
				.policy = policy };

	h->host = host_create(&w->loop, &hc);
	h->mm = h->host ? mm_create(h->host, &mc) : NULL;
	h->net = h->mm ? net_create(h->host, NULL) : NULL;
	if (!h->net || dev_sim_init(&h->dev, &w->link) ||
	    netdev_register(h->net, &h->dev))
		return -ENOMEM;
	h->dev.ip = htonl(ip);
	h->dev.netmask = htonl(0xffffff00u);
	return 0;
}

static void wb_host_fini(struct wb_host *h)
{
	if (h->net)
		net_destroy(h->net);
	if (h->mm) {
		mm_check(h->mm);
		mm_destroy(h->mm);
	}
	if (h->host)
		host_destroy(h->host);
}

/* The pager's settings: nothing is written back before vm_sync(). */
static const struct vm_config wb_vm_config = { .dirty_ratio = 100,
					       .dirty_background_ratio = 100 };

static int wb_sim_init(struct wb_sim *w, enum mm_policy policy, uint64_t region)
{
	struct sim_link_config lc = { .latency_ns = 50 * NSEC_PER_USEC,
				      .bandwidth_bps = 10000000000ull };
	struct nbd_server_config sc = { .store = &w->store };
	struct nbd_client_config cc = { .ip = WB_SIM_SERVER_IP };
	int err;

	memset(w, 0, sizeof(*w));
	w->store.fd = -1;
	if (loop_init(&w->loop, LOOP_VIRTUAL))
		return -ENOMEM;
	sim_link_init(&w->link, &w->loop, 1, &lc);
	err = wb_host_init(w, &w->server, "server", WB_SERVER_MEMORY,
			   MM_POLICY_ACCOUNTED, WB_SIM_SERVER_IP);
	/* RAM for the whole region and as much again: no pressure */
	if (!err)
		err = wb_host_init(w, &w->client, "client",
				   2 * region + (8 << 20), policy,
				   WB_SIM_CLIENT_IP);
	if (!err)
		err = store_open_ram(&w->store, region);
	if (err)
		return err;
	w->srv = nbd_server_create(w->server.net, &sc);
	if (!w->srv)
		return -ENOMEM;
	w->c.loop = &w->loop;
	w->c.host = w->client.host;
	w->c.mm = w->client.mm;
	w->c.net = w->client.net;
	err = nbd_client_create(w->c.net, &cc, wb_ready, &w->c, &w->c.bd);
	if (err)
		return err;
	if (!WB_RUN_UNTIL(&w->c, w->c.ready, 10 * NSEC_PER_SEC))
		return -ETIMEDOUT;
	if (w->c.ready_err)
		return w->c.ready_err;
	w->c.vm = vm_create(w->c.host, &wb_vm_config);
	return w->c.vm ? 0 : -ENOMEM;
}

static void wb_sim_fini(struct wb_sim *w)
{
	if (w->c.vm)
		vm_destroy(w->c.vm);
	if (w->c.bd)
		nbd_client_destroy(w->c.bd);
	if (w->srv)
		nbd_server_destroy(w->srv);
	/* let the connection close before the stacks go */
	loop_run_until(&w->loop, loop_now(&w->loop) + NSEC_PER_SEC);
	wb_host_fini(&w->client);
	wb_host_fini(&w->server);
	store_close(&w->store);
	sim_link_destroy(&w->link);
	loop_destroy(&w->loop);
}

/*
 * Measure on a simulated world under @policy: unpressured (when @normal)
 * and in emergency.  A stalled emergency leaves the world to the process
 * exit.  -errno when the world could not be built.
 */
static int wb_sim_run(enum mm_policy policy, bool normal, struct wb_result *n,
		      struct wb_result *e)
{
	struct wb_sim *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	err = wb_sim_init(w, policy, WB_SIM_REGION);
	if (err) {
		fprintf(stderr, "bench: cannot build the sim world: %s\n",
			strerror(-err));
		return err; /* a half-built world is left to the process exit */
	}
	if (normal)
		wb_measure(&w->c, WB_SIM_REGION, false, WB_SIM_LIMIT_NS,
			   &w->store, n);
	if (!normal || !n->stalled)
		wb_measure(&w->c, WB_SIM_REGION, true, WB_SIM_LIMIT_NS,
			   &w->store, e);
	if ((normal && n->stalled) || e->stalled)
		return 0;
	wb_sim_fini(w);
	free(w);
	return 0;
}

/* ---- the pair wire: a `lifeboat serve` child --------------------------- */

static pid_t wb_spawn_server(uint64_t bytes, char *wire, size_t wire_len)
{
	char size[32];
	const char *args[] = { "--proto",  "nbd",     "--size",
			       size,	   "--ip",    WB_PAIR_SERVER_IP "/24",
			       "--memory", "256M",    "--log",
			       "err",	   "--quiet", NULL };
	pid_t pid;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)bytes);
	pid = tool_spawn_serve(args, wire, wire_len);
	if (pid < 0)
		errno = (int)-pid;
	return pid < 0 ? -1 : pid;
}

/* One round's result into the set of @k so far; false when @r did not end. */
static bool wb_keep_round(struct wb_result *rounds, const struct wb_result *r,
			  unsigned k)
{
	rounds[k] = *r;
	return !r->stalled && !r->failed;
}

static int wb_cmp_mbps(const void *a, const void *b)
{
	const struct wb_result *x = a, *y = b;
	double rx = wb_mbps(x->bytes, x->loop_ns),
	       ry = wb_mbps(y->bytes, y->loop_ns);

	return (rx > ry) - (rx < ry);
}

/*
 * The median of @nr finished rounds into @out (its MB/s, the rest of the
 * median round's figures), with the slowest and fastest; a round that
 * did not finish is the result instead.
 */
static void wb_median(const struct wb_result *rounds, unsigned nr,
		      struct wb_result *out, double *lo, double *hi)
{
	struct wb_result sorted[WB_PAIR_ROUNDS];

	LB_ASSERT(nr >= 1 && nr <= WB_PAIR_ROUNDS);
	for (unsigned i = 0; i < nr; i++) {
		if (rounds[i].stalled || rounds[i].failed) {
			*out = rounds[i];
			return;
		}
	}
	memcpy(sorted, rounds, nr * sizeof(*sorted));
	qsort(sorted, nr, sizeof(*sorted), wb_cmp_mbps);
	*out = sorted[nr / 2];
	*lo = wb_mbps(sorted[0].bytes, sorted[0].loop_ns);
	*hi = wb_mbps(sorted[nr - 1].bytes, sorted[nr - 1].loop_ns);
}

/*
 * Unpressured and emergency on the pair wire, interleaved: the medians
 * into @n and @e, their ranges into @range ({n lo, n hi, e lo, e hi});
 * -errno on a set-up failure.
 */
static int wb_pair_run(struct wb_result *n, struct wb_result *e,
		       double range[4])
{
	struct wb_result nr[WB_PAIR_ROUNDS], er[WB_PAIR_ROUNDS];
	unsigned k = 0;
	struct host_opts o;
	struct tool_host t;
	struct wb_client c = { 0 };
	char wire[32];
	sigset_t mask;
	pid_t pid;
	int err;

	pid = wb_spawn_server(WB_PAIR_REGION, wire, sizeof(wire));
	if (pid < 0)
		return -errno;
	host_opts_init(&o);
	o.wire = wire;
	o.memory = 2 * WB_PAIR_REGION + (8 << 20);
	o.policy = MM_POLICY_ACCOUNTED;
	o.log = LOG_ERR;
	o.have_seed = true;
	o.seed = 1;
	host_opts_parse(&o, "bench", HOSTOPT_IP, WB_PAIR_CLIENT_CIDR);
	/* tool_host_start blocks SIGINT/SIGTERM for its signalfd: undo after */
	sigprocmask(SIG_BLOCK, NULL, &mask);
	err = tool_host_start(&t, &o, "client");
	if (!err) {
		struct nbd_client_config cc = { 0 };

		ip_parse(WB_PAIR_SERVER_IP, &cc.ip);
		cc.ip = ntohl(cc.ip);
		c.loop = &t.loop;
		c.host = t.host;
		c.mm = t.mm;
		c.net = t.net;
		err = nbd_client_create(t.net, &cc, wb_ready, &c, &c.bd);
	}
	if (!err &&
	    !WB_RUN_UNTIL(&c, c.ready, loop_now(c.loop) + 10 * NSEC_PER_SEC))
		err = -ETIMEDOUT;
	if (!err)
		err = c.ready_err;
	if (!err) {
		c.vm = vm_create(c.host, &wb_vm_config);
		if (!c.vm)
			err = -ENOMEM;
	}
	if (err) {
		fprintf(stderr, "bench: cannot attach the pair server: %s\n",
			strerror(-err));
		tool_reap(pid);
		return err; /* left to the process exit */
	}
	/*
	 * Real time is noisy (two processes on shared cores): the two kinds
	 * alternate, round after round, so a burst of load elsewhere falls on
	 * both, and the medians are compared.  A round that did not finish
	 * ends the series and is the result.
	 */
	for (k = 0; k < WB_PAIR_ROUNDS; k++) {
		struct wb_result r;

		wb_measure(&c, WB_PAIR_REGION, false, WB_PAIR_LIMIT_NS, NULL,
			   &r);
		if (!wb_keep_round(nr, &r, k)) {
			er[k] = (struct wb_result){ .failed = true };
			k++;
			break;
		}
		wb_measure(&c, WB_PAIR_REGION, true, WB_PAIR_LIMIT_NS, NULL,
			   &r);
		if (!wb_keep_round(er, &r, k)) {
			k++;
			break;
		}
	}
	wb_median(nr, k, n, &range[0], &range[1]);
	wb_median(er, k, e, &range[2], &range[3]);
	if (n->stalled || e->stalled) {
		tool_reap(pid);
		return 0; /* the pager's pages are stuck: left to the exit */
	}
	vm_destroy(c.vm);
	nbd_client_destroy(c.bd);
	loop_run_until(c.loop, loop_now(c.loop) + 20 * NSEC_PER_MSEC);
	tool_host_stop(&t);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	tool_reap(pid);
	return 0;
}

/* ---- the BENCH lines ---------------------------------------------------- */

/*
 * @range: NULL, or the slowest and fastest of the rounds whose median @r
 * is (pair).
 */
static void wb_print(const char *name, const struct wb_result *r, bool sim,
		     const double *range)
{
	if (r->stalled) {
		printf("BENCH writeback.%s stalled (no progress in %llu s)\n",
		       name,
		       (unsigned long long)((sim ? WB_SIM_LIMIT_NS :
						   WB_PAIR_LIMIT_NS) /
					    NSEC_PER_SEC));
		return;
	}
	if (r->failed) {
		printf("BENCH writeback.%s failed\n", name);
		return;
	}
	printf("BENCH writeback.%s %.1f %s (%llu MiB in %.2f ms%s; %llu pages taken from the reserve",
	       name, wb_mbps(r->bytes, r->loop_ns),
	       sim ? "MB/s-virtual" : "MB/s",
	       (unsigned long long)(r->bytes >> 20), (double)r->loop_ns / 1e6,
	       sim ? " of virtual time: the simulated wire's clock, not the CPU's" :
		     " wall clock",
	       (unsigned long long)r->pfmemalloc);
	if (r->pfmemalloc)
		printf(", high-water mark %lld of %lld", (long long)r->hwm,
		       (long long)r->size);
	if (range)
		printf("; median of %u interleaved rounds, %.1f..%.1f",
		       WB_PAIR_ROUNDS, range[0], range[1]);
	printf(")\n");
	if (sim)
		printf("BENCH writeback.%s.wall %.1f MB/s (CPU-bound, both ends in one thread)\n",
		       name, wb_mbps(r->bytes, r->wall_ns));
}

static void wb_print_ratio(const char *wire, const struct wb_result *n,
			   const struct wb_result *e, bool sim)
{
	double rn = wb_mbps(n->bytes, n->loop_ns),
	       re = wb_mbps(e->bytes, e->loop_ns);

	if (n->failed || n->stalled || e->failed || e->stalled || rn <= 0)
		return;
	if (sim)
		printf("BENCH writeback.%s.emergency_vs_normal_virtual %.3f ratio (virtual time: what the simulated wire saw, not the CPU cost)\n",
		       wire, re / rn);
	else
		printf("BENCH writeback.%s.emergency_vs_normal %.3f ratio (wall clock, medians of %u interleaved rounds; goal >= 0.5)\n",
		       wire, re / rn, WB_PAIR_ROUNDS);
}

static void wb_print_hwm(const char *policy, const struct wb_result *e)
{
	if (e->failed || e->stalled)
		return;
	printf("BENCH writeback.reserve_hwm.%s %lld pages (computed %lld%s%s)\n",
	       policy, (long long)e->hwm, (long long)e->size,
	       e->detail[0] ? "; " : "", e->detail);
}

/*
 * Policy none in a child: its emergency write-back is expected to stall,
 * and a stalled world has no clean teardown.  The child prints its own
 * lines; false when it could not run.
 */
static bool wb_none_in_child(void)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		struct wb_result n = { 0 }, e = { 0 };

		if (wb_sim_run(MM_POLICY_NONE, false, &n, &e))
			_exit(1);
		wb_print("sim.none.emergency", &e, true, NULL);
		wb_print_hwm("none", &e);
		fflush(NULL);
		_exit(0);
	}
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

void bench_writeback(void)
{
	struct wb_result sn = { 0 }, se = { 0 }, pn = { 0 }, pe = { 0 };
	struct wb_result mn = { 0 }, me = { 0 };
	double range[4] = { 0 };
	bool sim_ok, main_ok;

	sim_ok = !wb_sim_run(MM_POLICY_ACCOUNTED, true, &sn, &se);
	if (sim_ok) {
		wb_print("sim.normal", &sn, true, NULL);
		wb_print("sim.emergency", &se, true, NULL);
		wb_print_ratio("sim", &sn, &se, true);
	}
	if (!wb_pair_run(&pn, &pe, range)) {
		wb_print("pair.normal", &pn, false, range);
		wb_print("pair.emergency", &pe, false, range + 2);
		wb_print_ratio("pair", &pn, &pe, false);
	}
	main_ok = !wb_sim_run(MM_POLICY_MAINLINE, false, &mn, &me);
	if (main_ok)
		wb_print("sim.mainline.emergency", &me, true, NULL);
	fflush(stdout);
	if (!wb_none_in_child())
		fprintf(stderr, "bench: the policy-none world did not run\n");
	if (main_ok)
		wb_print_hwm("mainline", &me);
	if (sim_ok)
		wb_print_hwm("accounted", &se);
}
