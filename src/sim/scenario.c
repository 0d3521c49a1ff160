// SPDX-License-Identifier: MIT
/*
 * scenario.c - build a world on a simulated switch, run its workload to the
 * end or to a deadlock, and report.
 *
 * Layout of the storage: one export (or AoE target) holds the swap area,
 * then the shared mapping's range, then the file's range, so every
 * workload writes back over the same flagged connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "block/aoe.h"
#include "block/nbd.h"
#include "core/log.h"
#include "net/net.h"
#include "job.h"
#include "noise.h"
#include "scenario.h"

#define SERVER_IP 0xc0000201u /* 192.0.2.1 */
#define CLIENT_IP 0xc0000202u
#define NOISE_IP 0xc0000203u
#define SERVER_MEMORY (64ull << 20)
#define NOISE_MEMORY (16ull << 20)
#define AOE_SHELF 1
#define AOE_SLOT 0

struct whost {
	struct host *host;
	struct mm *mm;
	struct net *net;
	struct net_device dev;
};

struct world {
	const struct scenario *s;
	struct scenario_result *r;
	struct loop loop;
	struct sim_link link;
	struct whost client, server, noise;
	struct blk_store store;
	struct nbd_server *nbd;
	struct aoe_target *aoe;
	struct blkdev *bd;
	int ready_err;
	bool ready, done, fired;
	struct job job;
	struct noise_source *src;
	struct timer sampler;
};

const char *scn_proto_name(enum scn_proto p)
{
	return p == SCN_AOE ? "aoe" : "nbd";
}

static int whost_init(struct world *w, struct whost *h, const char *name,
		      uint64_t memory, enum mm_policy policy, uint32_t ip,
		      uint64_t salt)
{
	struct host_config hc = { .name = name,
				  .seed = w->s->seed * 1000003u + salt,
				  .log_level = LOG_ERR };
	struct mm_config mc = { .nr_pages = memory / PAGE_SIZE,
				.policy = policy };

	h->host = host_create(&w->loop, &hc);
	if (!h->host)
		return -ENOMEM;
	h->mm = mm_create(h->host, &mc);
	if (!h->mm)
		return -ENOMEM;
	h->net = net_create(h->host, NULL);
	if (!h->net)
		return -ENOMEM;
	if (dev_sim_init(&h->dev, &w->link) || netdev_register(h->net, &h->dev))
		return -ENOMEM;
	h->dev.ip = htonl(ip);
	h->dev.netmask = htonl(0xffffff00u);
	return 0;
}

static void whost_fini(struct whost *h)
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

static void on_ready(struct blkdev *bd, int err, void *arg)
{
	struct world *w = arg;

	w->ready = true;
	w->ready_err = err;
}

static void sample(struct timer *t)
{
	struct world *w = container_of(t, struct world, sampler);

	if (w->client.mm->nr_free.v < w->r->min_free)
		w->r->min_free = w->client.mm->nr_free.v;
	timer_arm_in(&w->loop, &w->sampler, 10000000ull);
}

/* Run until @cond or the time limit; false at the limit. */
#define RUN_UNTIL(w, cond, limit)                                   \
	({                                                          \
		while (!(cond) && loop_now(&(w)->loop) < (limit))   \
			if (!loop_run_once(&(w)->loop, UINT64_MAX)) \
				break;                              \
		(cond);                                             \
	})

static int world_storage(struct world *w, uint64_t bytes)
{
	int err = store_open_ram(&w->store, bytes);

	if (err)
		return err;
	if (w->s->proto == SCN_AOE) {
		struct aoe_target_config tc = { .shelf = AOE_SHELF,
						.slot = AOE_SLOT,
						.dev = &w->server.dev,
						.store = &w->store };

		w->aoe = aoe_target_create(w->server.net, &tc);
		if (!w->aoe)
			return -ENOMEM;
		struct aoe_client_config cc = { .shelf = AOE_SHELF,
						.slot = AOE_SLOT,
						.dev = &w->client.dev };
		return aoe_client_create(w->client.net, &cc, on_ready, w,
					 &w->bd);
	}
	struct nbd_server_config sc = { .store = &w->store };

	w->nbd = nbd_server_create(w->server.net, &sc);
	if (!w->nbd)
		return -ENOMEM;
	struct nbd_client_config cc = { .ip = SERVER_IP };
	return nbd_client_create(w->client.net, &cc, on_ready, w, &w->bd);
}

static void on_end(struct job *j, void *arg)
{
	struct world *w = arg;

	w->done = j->done;
	w->fired = j->fired;
}

static int world_job(struct world *w, uint64_t ws_pages)
{
	const struct scenario *s = w->s;
	struct job_config jc = {
		.workload = s->workload,
		.ws_pages = ws_pages,
		.ops = s->ops,
		.concurrency = s->concurrency,
		.watchdog_ns = s->watchdog_ns,
		.report = s->report,
		.noise_sink = s->noise,
	};

	return job_start(&w->job, w->client.host, w->bd, &jc, on_end, w);
}

static int world_noise(struct world *w)
{
	struct noise_config nc = { .dst_ip = htonl(CLIENT_IP),
				   .udp_pps = 20000,
				   .tcp_conns = 4 };

	w->src = noise_source_start(w->noise.net, &nc);
	return w->src ? 0 : -ENOMEM;
}

static int64_t stat_of(struct whost *h, const char *name)
{
	int64_t v = 0;

	stats_get(&h->host->stats, name, &v);
	return v;
}

static void collect_reserves(struct world *w)
{
	struct scenario_result *r = w->r;
	const struct stats *st = &w->client.host->stats;

	for (unsigned i = 0; i < st->nr && r->nr_rsv < SCN_MAX_RESERVES; i++) {
		const char *n = st->entries[i].name;
		size_t len = strlen(n);
		struct scn_reserve *x;
		char base[STAT_NAME_MAX];

		if (strncmp(n, "mm.reserve.", 11) || len < 16 ||
		    strcmp(n + len - 5, ".size"))
			continue;
		x = &r->rsv[r->nr_rsv++];
		snprintf(x->name, sizeof(x->name), "%.*s", (int)(len - 16),
			 n + 11);
		snprintf(base, sizeof(base), "%.*s", (int)(len - 5), n);
		x->size = stat_of(&w->client, n);
		snprintf(base + len - 5, sizeof(base) - (len - 5), ".hwm");
		x->hwm = stat_of(&w->client, base);
		snprintf(base + len - 5, sizeof(base) - (len - 5), ".failures");
		x->failures = stat_of(&w->client, base);
		if (w->s->policy == MM_POLICY_ACCOUNTED && x->hwm > x->size)
			r->reserve_overrun = true;
	}
}

static uint64_t fnv(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * 0x100000001b3ull;
	return h;
}

/* The client's state in one number: every counter and gauge, in order. */
static uint64_t client_digest(struct world *w)
{
	const struct stats *st = &w->client.host->stats;
	uint64_t h = 0xcbf29ce484222325ull;

	for (unsigned i = 0; i < st->nr; i++) {
		int64_t v = 0;

		stats_get(st, st->entries[i].name, &v);
		h = fnv(h, (uint64_t)v);
	}
	return fnv(h, loop_now(&w->loop));
}

static void collect(struct world *w)
{
	struct scenario_result *r = w->r;
	struct vm_progress p;

	vm_workload_progress(w->job.wl, &p);
	r->verify_ok = p.verify_ok;
	r->verify_fail = p.verify_fail;
	r->io_errors = p.io_errors;
	r->written_back = p.written_back;
	r->wb_bytes = p.mb_written_back << 20;
	r->faults = p.faults;
	r->throttled = p.throttled;
	r->direct_reclaims = p.direct_reclaims;
	r->virtual_ns = loop_now(&w->loop);
	r->pfmemalloc_rx =
		(uint64_t)stat_of(&w->client, "dev.eth0.rx_pfmemalloc");
	r->noise_rx_dropped =
		(uint64_t)(stat_of(&w->client, "dev.eth0.rx_drop_no_memory") +
			   stat_of(&w->client, "dev.eth0.rx_drop_early") +
			   stat_of(&w->client, "net.udp_drop_pfmemalloc") +
			   stat_of(&w->client, "net.udp_drop_queue_full"));
	collect_reserves(w);
	r->digest = client_digest(w);
}

static void describe_deadlock(struct world *w)
{
	struct scenario_result *r = w->r;
	struct mm *mm = w->client.mm;

	snprintf(
		r->cause, sizeof(r->cause),
		"no progress: %lld pages free (min %lld), %llu waiters parked, %llu pages under I/O",
		(long long)mm->nr_free.v, (long long)mm->wmark_min.v,
		(unsigned long long)mm->nr_waiting.v,
		(unsigned long long)vm_io_in_flight(w->job.vm));
}

/* A clean end: every object returned, every reserve back to zero. */
static void world_teardown(struct world *w)
{
	uint64_t limit = loop_now(&w->loop) + 60000000000ull;

	timer_cancel(&w->loop, &w->sampler);
	if (w->src)
		noise_source_stop(w->src);
	while (job_stop(&w->job) == -EBUSY && loop_now(&w->loop) < limit)
		loop_run_once(&w->loop, UINT64_MAX);
	if (w->bd) {
		if (w->s->proto == SCN_AOE)
			aoe_client_destroy(w->bd);
		else
			nbd_client_destroy(w->bd);
	}
	if (w->aoe)
		aoe_target_destroy(w->aoe);
	if (w->nbd)
		nbd_server_destroy(w->nbd);
	/* let closing connections finish before the stacks go */
	loop_run_until(&w->loop, loop_now(&w->loop) + 1000000000ull);
	whost_fini(&w->client);
	whost_fini(&w->server);
	whost_fini(&w->noise);
	store_close(&w->store);
	sim_link_destroy(&w->link);
	loop_destroy(&w->loop);
}

int scenario_run(const struct scenario *s, struct scenario_result *r)
{
	struct world *w = calloc(1, sizeof(*w));
	uint64_t memory = s->memory ? s->memory : 16ull << 20;
	uint64_t ws_pages = (memory / PAGE_SIZE) * (s->size_x ? s->size_x : 4);
	uint64_t limit = s->time_limit_ns ? s->time_limit_ns : 600000000000ull;
	int err;

	if (!w)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	r->min_free = INT64_MAX;
	w->s = s;
	w->r = r;
	if (loop_init(&w->loop, LOOP_VIRTUAL)) {
		free(w);
		return -ENOMEM;
	}
	sim_link_init(&w->link, &w->loop, s->seed, &s->link);
	err = whost_init(w, &w->server, "server", SERVER_MEMORY,
			 MM_POLICY_ACCOUNTED, SERVER_IP, 1);
	if (!err)
		err = whost_init(w, &w->client, "client", memory, s->policy,
				 CLIENT_IP, 2);
	if (!err)
		err = whost_init(w, &w->noise, "noise", NOISE_MEMORY,
				 MM_POLICY_ACCOUNTED, NOISE_IP, 3);
	/* room for swap slack (a quarter) besides the working set */
	if (!err)
		err = world_storage(w,
				    (ws_pages + ws_pages / 4 + 16) * PAGE_SIZE);
	if (!err && !RUN_UNTIL(w, w->ready, 30000000000ull))
		err = -ETIMEDOUT;
	if (!err && w->ready_err)
		err = w->ready_err;
	if (!err)
		err = world_job(w, ws_pages);
	if (!err && s->noise)
		err = world_noise(w);
	if (err) {
		lb_err(&w->client.host->log,
		       "scenario: cannot build the world: %s", strerror(-err));
		return err; /* a half-built world is left to the process exit */
	}
	timer_init(&w->sampler, sample);
	timer_arm_in(&w->loop, &w->sampler, 10000000ull);
	RUN_UNTIL(w, w->done || w->fired, limit);
	r->completed = w->done;
	r->deadlocked = w->fired && !w->done;
	r->timed_out = !w->done && !w->fired;
	collect(w);
	if (s->stats_out)
		stats_print_table(&w->client.host->stats, s->stats_out, "");
	if (r->deadlocked) {
		describe_deadlock(w);
		if (s->trace_dump && s->report)
			host_dump(w->client.host, s->report);
		return 0; /* stuck by definition: left to the process exit */
	}
	if (r->timed_out)
		return 0;
	world_teardown(w);
	free(w);
	return 0;
}
