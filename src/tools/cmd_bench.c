// SPDX-License-Identifier: MIT
/*
 * cmd_bench.c - `lifeboat bench`: figures, never pass/fail.
 *
 * Each benchmark prints `BENCH <name> <value> <unit>`.  Allocator speed is
 * timed next to glibc malloc in the same run; the cost of the reserve
 * machinery on the fast path is an instruction-count ratio measured with
 * callgrind (this VM exposes no hardware counters), which is repeatable
 * run to run whatever else the machine does.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "args.h"
#include "bench.h"
#include "commands.h"
#include "core/host.h"
#include "mm/mm.h"
#include "dev/sim.h"
#include "mm/slab.h"
#include "net/net.h"
#include "net/sock.h"
#include "net/tcp.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

struct bench_world {
	struct loop loop;
	struct host *host;
	struct mm *mm;
	struct mm_reserve rsv[4];
};

/* A host with the reserve tree a storage client would register. */
static int world_init(struct bench_world *w, enum mm_policy policy,
		      size_t nr_pages)
{
	static const char *const names[] = { "net.rx", "net.tx.0", "block.nbd0",
					     "vm.reclaim" };
	struct host_config hc = { .name = "bench",
				  .seed = 1,
				  .log_level = LOG_WARN };
	struct mm_config mc = { .nr_pages = nr_pages, .policy = policy };

	memset(w, 0, sizeof(*w));
	if (loop_init(&w->loop, LOOP_VIRTUAL))
		return -1;
	w->host = host_create(&w->loop, &hc);
	if (!w->host)
		return -1;
	w->mm = mm_create(w->host, &mc);
	if (!w->mm)
		return -1;
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (mm_reserve_add(w->mm, &w->rsv[i], NULL, names[i], 16))
			return -1;
	return 0;
}

static void world_destroy(struct bench_world *w)
{
	for (unsigned i = ARRAY_SIZE(w->rsv); i-- > 0;)
		mm_reserve_remove(&w->rsv[i]);
	mm_destroy(w->mm);
	host_destroy(w->host);
	loop_destroy(&w->loop);
}

static double bench_pages(struct bench_world *w, uint64_t iters)
{
	uint64_t t0 = now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		struct page *p = mm_page_alloc(w->mm, MM_NORMAL, NULL);

		mm_page_put(w->mm, p);
	}
	return (double)(now_ns() - t0) / (double)iters;
}

/* Keep a window of live objects so slabs fill and empty as in real use. */
#define WINDOW 64

static double bench_objs(struct bench_world *w, struct kmem_cache *c,
			 uint64_t iters)
{
	void *live[WINDOW] = { 0 };
	uint64_t t0 = now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		unsigned k = (unsigned)(i % WINDOW);

		if (live[k])
			kmem_cache_free(c, live[k]);
		live[k] = kmem_cache_alloc(c, MM_NORMAL, NULL);
	}
	for (unsigned k = 0; k < WINDOW; k++)
		if (live[k])
			kmem_cache_free(c, live[k]);
	return (double)(now_ns() - t0) / (double)iters;
}

static double bench_malloc(size_t size, uint64_t iters)
{
	void *live[WINDOW] = { 0 };
	uint64_t t0 = now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		unsigned k = (unsigned)(i % WINDOW);

		free(live[k]);
		live[k] = malloc(size);
		/* keep the compiler from pairing malloc with free */
		__asm__ volatile("" : : "r"(live[k]) : "memory");
	}
	for (unsigned k = 0; k < WINDOW; k++)
		free(live[k]);
	return (double)(now_ns() - t0) / (double)iters;
}

/*
 * The loop callgrind counts: the common operations of a storage client's
 * fast path when memory is plentiful (page, object, memalloc-context
 * object).  noinline so --toggle-collect can name it.
 */
__attribute__((noinline)) void bench_fastpath_loop(struct bench_world *w,
						   struct kmem_cache *c,
						   uint64_t iters);
__attribute__((noinline)) void
bench_fastpath_loop(struct bench_world *w, struct kmem_cache *c, uint64_t iters)
{
	for (uint64_t i = 0; i < iters; i++) {
		struct page *p = mm_page_alloc(w->mm, MM_NORMAL, NULL);
		void *o = kmem_cache_alloc(c, MM_ATOMIC, NULL);
		struct mm_memalloc_ctx ctx =
			mm_memalloc_save(w->mm, &w->rsv[1]);
		void *m = kmem_cache_alloc(c, MM_ATOMIC, NULL);

		mm_memalloc_restore(w->mm, ctx);
		kmem_cache_free(c, m);
		kmem_cache_free(c, o);
		mm_page_put(w->mm, p);
	}
}

static int run_fastpath_loop(const char *policy_s, uint64_t iters)
{
	struct bench_world w;
	struct kmem_cache c;
	enum mm_policy policy;

	if (mm_policy_parse(policy_s, &policy))
		return usage_error("bench", "bad policy '%s'", policy_s);
	if (world_init(&w, policy, 4096))
		return 1;
	kmem_cache_init(&c, w.mm, "fastpath", 256, 0);
	bench_fastpath_loop(&w, &c, iters);
	kmem_cache_destroy(&c);
	world_destroy(&w);
	return 0;
}

/* Instructions callgrind counted inside bench_fastpath_loop, or 0. */
static uint64_t callgrind_count(const char *self, const char *policy,
				uint64_t iters)
{
	char out[64], cmd[1024], line[256];
	uint64_t ir = 0;
	FILE *f;

	snprintf(out, sizeof(out), "/tmp/lifeboat-callgrind.%d.%s",
		 (int)getpid(), policy);
	snprintf(
		cmd, sizeof(cmd),
		"valgrind --tool=callgrind --callgrind-out-file=%s "
		"--toggle-collect=bench_fastpath_loop %s bench --fastpath-loop %s "
		"--iters %llu >/dev/null 2>&1",
		out, self, policy, (unsigned long long)iters);
	if (system(cmd) != 0)
		return 0;
	f = fopen(out, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "summary:", 8) ||
		    !strncmp(line, "totals:", 7))
			ir = strtoull(strchr(line, ':') + 1, NULL, 10);
	fclose(f);
	unlink(out);
	return ir;
}

static void bench_fastpath_ratio(void)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	uint64_t iters = 20000, none, acc, mainline;

	if (n <= 0 || system("valgrind --version >/dev/null 2>&1") != 0) {
		printf("BENCH mm.fastpath.ratio_accounted_none skipped (valgrind not installed)\n");
		return;
	}
	self[n] = '\0';
	none = callgrind_count(self, "none", iters);
	mainline = callgrind_count(self, "mainline", iters);
	acc = callgrind_count(self, "accounted", iters);
	if (!none || !acc || !mainline) {
		printf("BENCH mm.fastpath.ratio_accounted_none skipped (callgrind failed)\n");
		return;
	}
	printf("BENCH mm.fastpath.instructions_per_iter.none %.1f instr\n",
	       (double)none / (double)iters);
	printf("BENCH mm.fastpath.instructions_per_iter.mainline %.1f instr\n",
	       (double)mainline / (double)iters);
	printf("BENCH mm.fastpath.instructions_per_iter.accounted %.1f instr\n",
	       (double)acc / (double)iters);
	printf("BENCH mm.fastpath.ratio_accounted_none %.4f ratio (target < 1.05)\n",
	       (double)acc / (double)none);
}

static void bench_mm(uint64_t iters)
{
	static const size_t sizes[] = { 64, 256, 2048 };
	struct bench_world w;

	if (world_init(&w, MM_POLICY_ACCOUNTED, 16384)) {
		fprintf(stderr, "lifeboat bench: cannot create the world\n");
		return;
	}
	bench_pages(&w, iters / 10); /* warm up */
	printf("BENCH mm.page_alloc_free %.1f ns/op\n", bench_pages(&w, iters));
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct kmem_cache c;
		double ours, glibc;
		char name[32];

		snprintf(name, sizeof(name), "bench-%zu", sizes[i]);
		kmem_cache_init(&c, w.mm, name, sizes[i], 0);
		bench_objs(&w, &c, iters / 10);
		ours = bench_objs(&w, &c, iters);
		bench_malloc(sizes[i], iters / 10);
		glibc = bench_malloc(sizes[i], iters);
		printf("BENCH mm.obj_alloc_free.%zu %.1f ns/op\n", sizes[i],
		       ours);
		printf("BENCH glibc.malloc_free.%zu %.1f ns/op\n", sizes[i],
		       glibc);
		kmem_cache_destroy(&c);
	}
	world_destroy(&w);
}

/* ---- network receive path on the simulated wire --------------------- */

struct net_bench_host {
	struct host *host;
	struct mm *mm;
	struct net *net;
	struct net_device dev;
};

static int net_bench_host(struct net_bench_host *h, struct loop *loop,
			  struct sim_link *link, const char *name, uint32_t ip)
{
	struct host_config hc = { .name = name,
				  .seed = 7,
				  .log_level = LOG_WARN };
	struct mm_config mc = { .nr_pages = 8192 };

	memset(h, 0, sizeof(*h));
	h->host = host_create(loop, &hc);
	h->mm = h->host ? mm_create(h->host, &mc) : NULL;
	h->net = h->mm ? net_create(h->host, NULL) : NULL;
	if (!h->net || dev_sim_init(&h->dev, link) ||
	    netdev_register(h->net, &h->dev))
		return -1;
	h->dev.ip = ip;
	h->dev.netmask = htonl(0xffffff00u);
	return 0;
}

static void net_bench_host_destroy(struct net_bench_host *h)
{
	net_destroy(h->net);
	mm_destroy(h->mm);
	host_destroy(h->host);
}

static void discard_readable(struct sock *sk)
{
	uint8_t buf[2048];

	while (sock_recvfrom(sk, buf, sizeof(buf), NULL) >= 0)
		;
}

static const struct sock_ops discard_ops = { .readable = discard_readable };

/*
 * Frames per second through the receiving host's whole path (device,
 * Ethernet, IPv4, UDP, socket), CPU-bound: the sender and the switch run
 * in the same thread, so the figure is end-to-end work per frame.  With
 * @pressure the receiver's normal memory is gone and every frame takes
 * the reserve path (flagged socket).
 */
static double bench_net_rx(uint64_t frames, bool pressure)
{
	struct sim_link_config lc = { .latency_ns = 1000, .slots = 1024 };
	struct net_bench_host a, b;
	struct sock *tx, *rx;
	struct sim_link link;
	struct loop loop;
	struct page **hold = NULL;
	size_t held = 0;
	uint8_t payload[64] = { 0 };
	uint64_t t0, got0;
	void *objs[4096];
	size_t nobjs = 0;
	double fps = 0;

	loop_init(&loop, LOOP_VIRTUAL);
	sim_link_init(&link, &loop, 1, &lc);
	if (net_bench_host(&a, &loop, &link, "a", htonl(0xc0000201)) ||
	    net_bench_host(&b, &loop, &link, "b", htonl(0xc0000202)))
		goto out;
	tx = udp_socket(a.net, NULL, NULL);
	rx = udp_socket(b.net, &discard_ops, NULL);
	sock_bind(rx, 0, 9);
	sock_connect(tx, &(struct sock_addr){ b.dev.ip, 9 });
	sock_connect(rx, &(struct sock_addr){ a.dev.ip, tx->local.port });
	sock_sendto(tx, payload, sizeof(payload), NULL);
	loop_run_until(&loop, loop_now(&loop) + NSEC_PER_MSEC);
	if (pressure) {
		struct kmem_cache *caches[MM_KMALLOC_CLASSES + 1];

		sock_set_memalloc(rx, 0, 0);
		hold = calloc(b.mm->nr_pages + 1, sizeof(*hold));
		while ((hold[held] = mm_page_alloc(b.mm, MM_ATOMIC, NULL)))
			held++;
		/* free slab objects are normal memory too: take them */
		caches[0] = &b.net->netbuf_cache;
		for (unsigned i = 0; i < MM_KMALLOC_CLASSES; i++)
			caches[i + 1] = b.mm->kmalloc[i];
		for (unsigned i = 0; i < ARRAY_SIZE(caches); i++)
			while ((objs[nobjs] = kmem_cache_alloc(
					caches[i], MM_ATOMIC | MM_NOMEMALLOC,
					NULL)))
				nobjs++;
	}
	got0 = b.dev.st.rx_frames.v;
	t0 = now_ns();
	for (uint64_t sent = 0; sent < frames;) {
		for (int k = 0; k < 256 && sent < frames; k++, sent++)
			sock_sendto(tx, payload, sizeof(payload), NULL);
		loop_run_until(&loop, loop_now(&loop) + 100 * NSEC_PER_USEC);
	}
	loop_run_until(&loop, loop_now(&loop) + NSEC_PER_MSEC);
	fps = (double)(b.dev.st.rx_frames.v - got0) * 1e9 /
	      (double)(now_ns() - t0);
	if (b.dev.st.rx_frames.v - got0 < frames * 9 / 10)
		fprintf(stderr, "bench: only %llu of %llu frames arrived\n",
			(unsigned long long)(b.dev.st.rx_frames.v - got0),
			(unsigned long long)frames);
	if (pressure && !b.dev.st.rx_pfmemalloc.v)
		fps = 0; /* the reserve path was not exercised: no figure */
	while (nobjs) {
		void *o = objs[--nobjs];

		kmem_cache_free(kmem_obj_cache(b.mm, o), o);
	}
	while (held)
		mm_page_put(b.mm, hold[--held]);
	free(hold);
	sock_close(tx);
	sock_close(rx);
out:
	net_bench_host_destroy(&b);
	net_bench_host_destroy(&a);
	sim_link_destroy(&link);
	loop_destroy(&loop);
	return fps;
}

/* ---- TCP bulk between two lifeboat hosts on the simulated wire ------- */

struct bulk {
	struct tcp_sock *l, *rx, *tx;
	uint64_t to_send, sent, received;
};

static void bulk_pump(struct sock *sk)
{
	struct bulk *b = sk->user;
	static const uint8_t zero[65536];

	while (b->tx && b->sent < b->to_send) {
		ssize_t n = tcp_send(b->tx, zero,
				     (size_t)lb_min((uint64_t)sizeof(zero),
						    b->to_send - b->sent));

		if (n <= 0)
			break;
		b->sent += (uint64_t)n;
	}
}

static void bulk_drain(struct sock *sk)
{
	struct bulk *b = sk->user;
	uint8_t buf[65536];
	ssize_t n;

	while ((n = tcp_recv(tcp_sk(sk), buf, sizeof(buf))) > 0)
		b->received += (uint64_t)n;
}

static const struct sock_ops bulk_tx_ops = { .writable = bulk_pump };
static const struct sock_ops bulk_rx_ops = { .readable = bulk_drain };

static void bulk_accept(struct sock *sk)
{
	struct bulk *b = sk->user;
	struct tcp_sock *c = tcp_accept(b->l);

	if (c) {
		c->sk.ops = &bulk_rx_ops;
		c->sk.user = b;
		b->rx = c;
	}
}

static const struct sock_ops bulk_listen_ops = { .readable = bulk_accept };

/* MB/s of payload moved end to end, sender and receiver in one thread. */
static double bench_tcp_bulk(uint64_t bytes)
{
	struct sim_link_config lc = { .latency_ns = 20 * NSEC_PER_USEC,
				      .slots = 2048 };
	struct net_bench_host a, b;
	struct bulk bk = { 0 };
	struct sim_link link;
	struct loop loop;
	uint64_t t0, t1;
	double mbps = 0;

	loop_init(&loop, LOOP_VIRTUAL);
	sim_link_init(&link, &loop, 1, &lc);
	if (net_bench_host(&a, &loop, &link, "a", htonl(0xc0000201)) ||
	    net_bench_host(&b, &loop, &link, "b", htonl(0xc0000202)))
		goto out;
	bk.l = tcp_socket(b.net, &bulk_listen_ops, &bk);
	tcp_bind(bk.l, 0, 9);
	tcp_listen(bk.l, 4);
	bk.tx = tcp_socket(a.net, &bulk_tx_ops, &bk);
	tcp_connect(bk.tx, &(struct sock_addr){ b.dev.ip, 9 });
	loop_run_until(&loop, loop_now(&loop) + 10 * NSEC_PER_MSEC);
	t0 = now_ns();
	bk.to_send = bytes; /* nothing moves before the clock starts */
	bulk_pump(&bk.tx->sk);
	while (bk.received < bytes && loop_run_once(&loop, UINT64_MAX))
		;
	t1 = now_ns();
	if (bk.received == bytes)
		mbps = (double)bytes / (double)(t1 - t0) * 1e3;
	else
		fprintf(stderr, "bench: tcp bulk moved %llu of %llu bytes\n",
			(unsigned long long)bk.received,
			(unsigned long long)bytes);
	tcp_abort(bk.tx);
	if (bk.rx)
		tcp_abort(bk.rx);
	tcp_close(bk.l);
out:
	net_bench_host_destroy(&b);
	net_bench_host_destroy(&a);
	sim_link_destroy(&link);
	loop_destroy(&loop);
	return mbps;
}

/*
 * Loss recovery: one 8 MiB transfer between two lifeboat hosts over a
 * simulated wire that drops @loss of the frames in each direction (data
 * and ACKs alike), 200 us one way.  Deterministic for a seed: the figures
 * are counts and virtual time, not the speed of this machine.  Returns
 * false if the transfer did not complete.
 */
static bool bench_tcp_loss(double loss, uint64_t seed, uint64_t bytes,
			   int64_t *rtos, int64_t *rexmits, uint64_t *vns)
{
	struct sim_link_config lc = { .latency_ns = 200 * NSEC_PER_USEC,
				      .loss = loss };
	struct net_bench_host a, b;
	struct bulk bk = { 0 };
	struct sim_link link;
	struct loop loop;
	uint64_t t0, deadline;
	bool ok = false;

	loop_init(&loop, LOOP_VIRTUAL);
	sim_link_init(&link, &loop, seed, &lc);
	if (net_bench_host(&a, &loop, &link, "a", htonl(0xc0000201)) ||
	    net_bench_host(&b, &loop, &link, "b", htonl(0xc0000202)))
		goto out;
	bk.l = tcp_socket(b.net, &bulk_listen_ops, &bk);
	tcp_bind(bk.l, 0, 9);
	tcp_listen(bk.l, 4);
	bk.tx = tcp_socket(a.net, &bulk_tx_ops, &bk);
	tcp_connect(bk.tx, &(struct sock_addr){ b.dev.ip, 9 });
	/* the handshake may itself need retransmissions at this loss */
	loop_run_until(&loop, loop_now(&loop) + 30 * NSEC_PER_SEC);
	if (bk.tx->state != TCP_ESTABLISHED || !bk.rx)
		goto close;
	stats_get(&a.host->stats, "tcp.rto_expired", rtos);
	stats_get(&a.host->stats, "tcp.retransmits", rexmits);
	t0 = loop_now(&loop);
	deadline = t0 + 3600 * NSEC_PER_SEC;
	bk.to_send = bytes;
	bulk_pump(&bk.tx->sk);
	while (bk.received < bytes && loop_now(&loop) < deadline &&
	       loop_run_once(&loop, UINT64_MAX))
		;
	ok = bk.received == bytes;
	*vns = loop_now(&loop) - t0;
	{
		int64_t r = 0, x = 0;

		stats_get(&a.host->stats, "tcp.rto_expired", &r);
		stats_get(&a.host->stats, "tcp.retransmits", &x);
		*rtos = r - *rtos;
		*rexmits = x - *rexmits;
	}
close:
	tcp_abort(bk.tx);
	if (bk.rx)
		tcp_abort(bk.rx);
	tcp_close(bk.l);
out:
	net_bench_host_destroy(&b);
	net_bench_host_destroy(&a);
	sim_link_destroy(&link);
	loop_destroy(&loop);
	return ok;
}

/* Retransmission timeouts per MiB and virtual-time goodput, by loss rate. */
static void bench_tcploss(void)
{
	static const double losses[] = { 0.01, 0.03, 0.05, 0.10 };
	const uint64_t bytes = 8 << 20, seeds = 4;

	for (size_t i = 0; i < ARRAY_SIZE(losses); i++) {
		int64_t rtos = 0, rexmits = 0;
		uint64_t vns = 0, done = 0;

		for (uint64_t s = 1; s <= seeds; s++) {
			int64_t r = 0, x = 0;
			uint64_t t = 0;

			if (!bench_tcp_loss(losses[i], s, bytes, &r, &x, &t))
				continue;
			rtos += r;
			rexmits += x;
			vns += t;
			done++;
		}
		if (!done) {
			printf("BENCH tcp.loss%02d.rto_per_mib failed (no transfer completed)\n",
			       (int)(losses[i] * 100 + 0.5));
			continue;
		}
		printf("BENCH tcp.loss%02d.rto_per_mib %.2f rto/MiB (sim, 8 MiB x %llu seeds)\n",
		       (int)(losses[i] * 100 + 0.5),
		       (double)rtos / (double)(done * (bytes >> 20)),
		       (unsigned long long)done);
		printf("BENCH tcp.loss%02d.retransmits_per_mib %.1f segs/MiB\n",
		       (int)(losses[i] * 100 + 0.5),
		       (double)rexmits / (double)(done * (bytes >> 20)));
		printf("BENCH tcp.loss%02d.sim_goodput %.2f MB/s (virtual time, RTT 0.4 ms)\n",
		       (int)(losses[i] * 100 + 0.5),
		       (double)(done * bytes) / (double)vns * 1e3);
	}
}

static void bench_net(uint64_t iters)
{
	printf("BENCH net.sim.tcp_bulk %.1f MB/s (CPU-bound, both ends in one thread)\n",
	       bench_tcp_bulk(lb_max(iters * 64, (uint64_t)64 << 20)));
	uint64_t frames = lb_max(iters / 10, (uint64_t)10000);

	printf("BENCH net.sim.rx_fps %.0f frames/s\n",
	       bench_net_rx(frames, false));
	printf("BENCH net.sim.rx_fps_reserve %.0f frames/s (normal memory exhausted)\n",
	       bench_net_rx(frames, true));
}

static void bench_help(FILE *out)
{
	fprintf(out,
		"usage: lifeboat bench [--iters N] [--only mm|fastpath|net|tcploss|writeback]\n"
		"\n"
		"Prints one 'BENCH <name> <value> <unit>' line per figure:\n"
		"  mm.page_alloc_free          page alloc+free, ns/op\n"
		"  mm.obj_alloc_free.SIZE      object alloc+free, ns/op (64, 256, 2048)\n"
		"  glibc.malloc_free.SIZE      glibc malloc+free of the same sizes\n"
		"  mm.fastpath.ratio_accounted_none\n"
		"                              instructions of the allocation fast path\n"
		"                              under 'accounted' over 'none' (callgrind)\n"
		"  net.sim.rx_fps              frames/s through the receive path (sim)\n"
		"  net.sim.rx_fps_reserve      the same with normal memory exhausted\n"
		"  net.sim.tcp_bulk            TCP bulk MB/s between two lifeboat hosts (sim)\n"
		"  tcp.lossNN.rto_per_mib      retransmission timeouts per MiB of an 8 MiB\n"
		"                              transfer with NN %% of frames lost each way (sim)\n"
		"  tcp.lossNN.retransmits_per_mib, tcp.lossNN.sim_goodput\n"
		"                              segments resent per MiB; MB/s in virtual time\n"
		"  writeback.WIRE.normal       write-back goodput through the pager over\n"
		"                              NBD (WIRE: sim, MB/s of virtual time at\n"
		"                              10 Gbit/s; pair, wall-clock MB/s to a\n"
		"                              `lifeboat serve` child, median of 7 rounds)\n"
		"  writeback.WIRE.emergency    the same with free memory held at the reserve\n"
		"                              (pair: each round a normal then an emergency run)\n"
		"  writeback.pair.emergency_vs_normal\n"
		"                              ratio of the medians, the wall-clock cost of\n"
		"                              surviving per byte (goal >= 0.5)\n"
		"  writeback.sim.emergency_vs_normal_virtual\n"
		"                              the same in virtual time (not a CPU cost)\n"
		"  writeback.sim.POLICY.emergency\n"
		"                              emergency goodput under mainline and none\n"
		"                              ('stalled' under none: the deadlock)\n"
		"  writeback.reserve_hwm.POLICY\n"
		"                              reserve pages in use at the high-water mark\n"
		"                              of the emergency run, against the computed size\n");
}

int cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iters", required_argument, NULL, 'i' },
		{ "only", required_argument, NULL, 'o' },
		{ "fastpath-loop", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *only = NULL, *loop_policy = NULL;
	uint64_t iters = 2000000;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_u64(optarg, &iters) || !iters)
				return usage_error(
					"bench",
					"--iters needs a positive count, not '%s'",
					optarg);
			break;
		case 'o':
			if (strcmp(optarg, "mm") &&
			    strcmp(optarg, "fastpath") &&
			    strcmp(optarg, "net") &&
			    strcmp(optarg, "tcploss") &&
			    strcmp(optarg, "writeback"))
				return usage_error(
					"bench",
					"--only takes mm, fastpath, net, tcploss or writeback, not '%s'",
					optarg);
			only = optarg;
			break;
		case 'f':
			loop_policy = optarg;
			break;
		case 'h':
			bench_help(stdout);
			return 0;
		default:
			return usage_error("bench", "bad arguments");
		}
	}
	if (optind < argc)
		return usage_error("bench", "unexpected argument '%s'",
				   argv[optind]);
	if (loop_policy)
		return run_fastpath_loop(loop_policy, iters);
	if (!only || !strcmp(only, "mm"))
		bench_mm(iters);
	if (!only || !strcmp(only, "fastpath"))
		bench_fastpath_ratio();
	if (!only || !strcmp(only, "net"))
		bench_net(iters);
	if (!only || !strcmp(only, "tcploss"))
		bench_tcploss();
	if (!only || !strcmp(only, "writeback"))
		bench_writeback();
	return 0;
}
