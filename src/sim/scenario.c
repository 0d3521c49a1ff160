// SPDX-License-Identifier: MIT
/*
 * scenario.c - build a world on a simulated switch, run its workload to the
 * end or to a deadlock, and report.
 *
 * Layout of the storage: one export (or AoE target) holds the swap area,
 * then the shared mapping's range, then the file's range, so every
 * workload writes back over the same flagged connection.
 *
 * Faults (faults.h) are timers on the world's loop, armed when the run
 * starts: each event applies its fault, then undoes it after its
 * duration.  Whatever is still applied when the run ends is undone before
 * the teardown, so a completed world always ends as a clean one would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "block/aoe.h"
#include "block/iscsi.h"
#include "block/iscsi_client.h"
#include "block/nbd.h"
#include "nfs/nfs.h"
#include "core/log.h"
#include "net/net.h"
#include "job.h"
#include "noise.h"
#include "scan.h"
#include "scenario.h"

#define SERVER_IP 0xc0000201u /* 192.0.2.1 */
#define CLIENT_IP 0xc0000202u
#define NOISE_IP 0xc0000203u
#define REMOTE_IP 0xc6336401u /* 198.51.100.1: the remote server */
#define CLIENT_REMOTE_IP 0xc6336402u /* the client's port on that switch */
#define REMOTE_BANDWIDTH 10000000000ull /* per port */
/* a remote volume: what its scan reads round and round */
#define REMOTE_BYTES (4ull << 20)
/* how often the remote event looks whether the armed drop has happened */
#define REMOTE_HOLE_POLL_NS 1000ull
/* the scans run this long before the job starts (TCP's slow start) */
#define REMOTE_WARMUP_NS 300000000ull
/* the plot's sampling period and its bounds */
#define PLOT_PERIOD_NS 1000000ull
#define PLOT_SAMPLES_MAX 20000u
#define SERVER_MEMORY (64ull << 20)
#define NOISE_MEMORY (16ull << 20)
#define AOE_SHELF 1
#define AOE_SLOT 0
#define NFS_PORT 2049
#define NFS_FILE "swap"

struct whost {
	struct host *host;
	struct mm *mm;
	struct net *net;
	struct net_device dev;
};

struct world;

/* One scheduled fault: fires at its start, then again at its end. */
struct fstate {
	struct timer timer;
	struct world *w;
	const struct fault_event *ev;
	struct noise_source *flood;
	bool on;
};

/* A remote volume: its store, server, device and scan. */
struct remote {
	struct blk_store store;
	struct nbd_server *nbd;
	struct nbd_server_config cfg;
	struct blkdev *bd;
	bool ready, scanning;
	int ready_err;
	struct scan scan;
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
	struct nfs_export *exp; /* outlives its servers, as a disk does */
	struct nfs_server *nfs;
	struct iscsi_target *iscsi;
	struct blkdev *bd;
	int ready_err;
	bool ready, done, fired;
	struct job job;
	struct noise_source *src;
	struct timer sampler;
	struct nbd_server_config nbd_cfg;
	struct aoe_target_config aoe_cfg;
	struct nfs_server_config nfs_cfg;
	struct iscsi_target_config iscsi_cfg;
	struct fstate fst[FAULT_EVENTS_MAX];
	unsigned active[FK_NR]; /* windows of each kind now open */
	uint64_t base_latency;
	struct mm_site_stat *sites0; /* the client's sites when the run began */
	unsigned nr_sites0;
	bool dumped;
	/* the remote volumes (scenario.remote_devs) */
	struct sim_link rlink;
	struct whost rserver;
	struct net_device rdev; /* the client's port on the remote switch */
	struct remote rem[SCN_REMOTE_MAX];
	struct timer rtimer;
	unsigned rphase; /* 0 hole, 1 hole over, 2 silent, 3 back */
	struct net_device_ops rops; /* the remote server's, dropping one */
	int (*rxmit)(struct net_device *dev, const uint8_t *frame, size_t len);
	bool rdrop; /* drop the remote server's next data segment */
	uint64_t rdropped;
	/* the plot (scenario.plot): reserve use sampled over time */
	struct timer plotter;
	char (*plot_names)[MM_RESERVE_NAME_MAX];
	unsigned plot_cols;
	int32_t *plot_used; /* [samples][SCN_MAX_RESERVES] */
	int32_t *plot_free;
	uint64_t *plot_t;
	unsigned plot_n;
};

const char *scn_proto_name(enum scn_proto p)
{
	return p == SCN_AOE   ? "aoe" :
	       p == SCN_NFS   ? "nfs" :
	       p == SCN_ISCSI ? "iscsi" :
				"nbd";
}

static int whost_init(struct world *w, struct whost *h, const char *name,
		      uint64_t memory, enum mm_policy policy, uint32_t ip,
		      uint64_t salt, struct sim_link *link)
{
	struct host_config hc = { .name = name,
				  .seed = w->s->seed * 1000003u + salt,
				  .log_level = LOG_ERR };
	struct mm_config mc = { .nr_pages = memory / PAGE_SIZE,
				.policy = policy,
				.track_sites = h == &w->client &&
					       w->s->track_sites };

	if (h == &w->client && w->s->linux_min)
		mc.mainline_min = mm_linux_min_free_pages(mc.nr_pages);

	h->host = host_create(&w->loop, &hc);
	if (!h->host)
		return -ENOMEM;
	h->mm = mm_create(h->host, &mc);
	if (!h->mm)
		return -ENOMEM;
	h->net = net_create(h->host, NULL);
	if (!h->net)
		return -ENOMEM;
	if (h == &w->client && w->s->frag_queues)
		h->net->ipfrag_queues =
			lb_min(w->s->frag_queues, (unsigned)IPFRAG_QUEUES_MAX);
	if (dev_sim_init(&h->dev, link) || netdev_register(h->net, &h->dev))
		return -ENOMEM;
	h->dev.ip = htonl(ip);
	h->dev.netmask = htonl(0xffffff00u);
	return 0;
}

/* Pages still allocated: empty slab pages are the caches' own. */
static int64_t pages_in_use(const struct mm *mm)
{
	int64_t n = 0;

	for (size_t i = 0; i < mm->nr_pages; i++) {
		const struct page *p = &mm->pages[i];

		if (!(p->flags & PG_FREE) &&
		    !((p->flags & PG_SLAB) && p->inuse == 0))
			n++;
	}
	return n;
}

/* Whether the host could go (every page back); a leak is left in place. */
static bool whost_fini(struct whost *h, int64_t *leaked)
{
	if (h->net)
		net_destroy(h->net);
	if (h->mm) {
		mm_check(h->mm);
		if (leaked) {
			*leaked = pages_in_use(h->mm);
			if (*leaked)
				return false;
		}
		mm_destroy(h->mm);
	}
	if (h->host)
		host_destroy(h->host);
	return true;
}

static void dump_trace(struct world *w)
{
	const struct scenario *s = w->s;

	if (!s->trace_out || w->dumped)
		return;
	w->dumped = true;
	fprintf(s->trace_out, "client trace ring (last %u events):\n",
		s->trace_events ? s->trace_events : 200);
	trace_dump(&w->client.host->trace, s->trace_out,
		   s->trace_events ? s->trace_events : 200);
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

/* The storage server on the store (again, after a crash). */
static int server_start(struct world *w)
{
	if (w->s->proto == SCN_AOE) {
		w->aoe = aoe_target_create(w->server.net, &w->aoe_cfg);
		return w->aoe ? 0 : -ENOMEM;
	}
	if (w->s->proto == SCN_NFS) {
		w->nfs = nfs_server_create(w->server.net, &w->nfs_cfg);
		return w->nfs ? 0 : -ENOMEM;
	}
	if (w->s->proto == SCN_ISCSI) {
		w->iscsi = iscsi_target_create(w->server.net, &w->iscsi_cfg);
		return w->iscsi ? 0 : -ENOMEM;
	}
	w->nbd = nbd_server_create(w->server.net, &w->nbd_cfg);
	return w->nbd ? 0 : -ENOMEM;
}

static void server_crash(struct world *w)
{
	if (w->aoe)
		aoe_target_destroy(w->aoe);
	if (w->nbd)
		nbd_server_destroy(w->nbd);
	if (w->nfs) {
		nfs_server_destroy(w->nfs);
		/* its page cache dies with it: uncommitted writes are lost */
		w->r->nfs_lost_writes += nfs_export_crash(w->exp);
	}
	if (w->iscsi)
		iscsi_target_destroy(w->iscsi);
	w->aoe = NULL;
	w->nbd = NULL;
	w->nfs = NULL;
	w->iscsi = NULL;
}

/*
 * Steps of the loop at one instant of virtual time after which the world
 * is declared livelocked: work that re-arms itself at once (a waiter woken
 * to fail the same allocation again) never lets the clock move.
 */
#define LIVELOCK_STEPS 2000000u

/* Run the workload to its end, the time limit or a livelock. */
static void run_world(struct world *w, uint64_t limit)
{
	uint64_t last = loop_now(&w->loop);
	unsigned steps = 0;

	while (!w->done && !w->fired && loop_now(&w->loop) < limit) {
		if (!loop_run_once(&w->loop, UINT64_MAX))
			break;
		if (loop_now(&w->loop) != last) {
			last = loop_now(&w->loop);
			steps = 0;
		} else if (++steps == LIVELOCK_STEPS) {
			w->r->livelocked = true;
			break;
		}
	}
}

/*
 * NFS: an export holding one file of @bytes, created by the client; the
 * server keeps UNSTABLE writes volatile, so a restart (a new verifier)
 * loses what was not committed and the client must send it again.
 */
static int world_nfs(struct world *w, uint64_t bytes)
{
	struct nfs_client_config cc = { .ip = SERVER_IP,
					.nfs_port = NFS_PORT,
					.mount_port = NFS_PORT,
					.export_path = "/export",
					.path = NFS_FILE,
					.create_size = bytes,
					.timeo_ns = 2000000000ull };
	int err = nfs_export_create("/export", 1, bytes, &w->exp);

	if (err)
		return err;
	w->exp->volatile_writes = true;
	w->nfs_cfg =
		(struct nfs_server_config){ .port = NFS_PORT, .exp = w->exp };
	err = server_start(w);
	if (err)
		return err;
	return nfs_client_create(w->client.net, &cc, on_ready, w, &w->bd);
}

static int world_storage(struct world *w, uint64_t bytes)
{
	int err;

	if (w->s->proto == SCN_NFS)
		return world_nfs(w, bytes);
	err = store_open_ram(&w->store, bytes);

	if (err)
		return err;
	w->aoe_cfg = (struct aoe_target_config){ .shelf = AOE_SHELF,
						 .slot = AOE_SLOT,
						 .dev = &w->server.dev,
						 .store = &w->store };
	if (w->s->faults && w->s->faults->vblade) {
		w->aoe_cfg.serial_ns = 20000; /* a pwrite of a frame or two */
		w->aoe_cfg.no_flush_ext = true;
	}
	w->nbd_cfg = (struct nbd_server_config){ .store = &w->store };
	w->iscsi_cfg = (struct iscsi_target_config){ .store = &w->store };
	err = server_start(w);
	if (err)
		return err;
	if (w->s->proto == SCN_AOE) {
		struct aoe_client_config cc = { .shelf = AOE_SHELF,
						.slot = AOE_SLOT,
						.dev = &w->client.dev };
		return aoe_client_create(w->client.net, &cc, on_ready, w,
					 &w->bd);
	}
	if (w->s->proto == SCN_ISCSI) {
		/* a lost target is found by pings as soon as NBD's
		 * keepalive finds it (2 s idle, then probes) */
		struct iscsi_client_config ic = {
			.ip = SERVER_IP,
			.target = ISCSI_DEFAULT_IQN,
			.task_timeout_ns = 6000000000ull,
		};

		return iscsi_client_create(w->client.net, &ic, on_ready, w,
					   &w->bd);
	}
	struct nbd_client_config cc = { .ip = SERVER_IP };
	return nbd_client_create(w->client.net, &cc, on_ready, w, &w->bd);
}

/*
 * The remote site: a switch of its own, far away, its server, and the
 * client's second port on it (another subnet, so the client's stack
 * routes by address).
 */
static int remote_xmit(struct net_device *dev, const uint8_t *frame,
		       size_t len);

static int remote_init(struct world *w)
{
	struct sim_link_config lc = { .latency_ns = SCN_REMOTE_LATENCY_NS,
				      .bandwidth_bps = REMOTE_BANDWIDTH,
				      .slots = 1024 };
	int err;

	if (w->s->remote_devs > SCN_REMOTE_MAX)
		return -EINVAL;
	sim_link_init(&w->rlink, &w->loop, w->s->seed * 7 + 5, &lc);
	err = whost_init(w, &w->rserver, "remote", SERVER_MEMORY,
			 MM_POLICY_ACCOUNTED, REMOTE_IP, 4, &w->rlink);
	if (err)
		return err;
	w->rops = *w->rserver.dev.ops;
	w->rxmit = w->rops.xmit;
	w->rops.xmit = remote_xmit;
	w->rserver.dev.ops = &w->rops;
	/* a name of its own: the port numbers of two switches collide */
	snprintf(w->rdev.name, sizeof(w->rdev.name), "remote0");
	if (dev_sim_init(&w->rdev, &w->rlink) ||
	    netdev_register(w->client.net, &w->rdev))
		return -ENOMEM;
	w->rdev.ip = htonl(CLIENT_REMOTE_IP);
	w->rdev.netmask = htonl(0xffffff00u);
	return 0;
}

static void on_remote_ready(struct blkdev *bd, int err, void *arg)
{
	struct remote *r = arg;

	r->ready = true;
	r->ready_err = err;
}

static const char *const remote_names[SCN_REMOTE_MAX] = { "nbd1", "nbd2",
							  "nbd3", "nbd4" };

/* Each remote volume: a store, an NBD server on a port of its own, a device. */
static int remote_storage(struct world *w, uint64_t data_bytes)
{
	for (unsigned i = 0; i < w->s->remote_devs; i++) {
		struct remote *r = &w->rem[i];
		struct nbd_client_config cc = { .name = remote_names[i],
						.ip = REMOTE_IP,
						.port = (uint16_t)(10810 + i) };
		int err = store_open_ram(
			&r->store, i == 0 && w->s->remote_data ?
					   lb_max(data_bytes, REMOTE_BYTES) :
					   REMOTE_BYTES);

		if (err)
			return err;
		r->cfg = (struct nbd_server_config){ .store = &r->store,
						     .port = cc.port };
		r->nbd = nbd_server_create(w->rserver.net, &r->cfg);
		if (!r->nbd)
			return -ENOMEM;
		err = nbd_client_create(w->client.net, &cc, on_remote_ready, r,
					&r->bd);
		if (err)
			return err;
		if (!RUN_UNTIL(w, r->ready,
			       loop_now(&w->loop) + 30000000000ull))
			return -ETIMEDOUT;
		if (r->ready_err)
			return r->ready_err;
	}
	return 0;
}

static int remote_scans_start(struct world *w)
{
	for (unsigned i = w->s->remote_data ? 1 : 0; i < w->s->remote_devs;
	     i++) {
		struct scan_config sc = { .bytes = REMOTE_BYTES };
		int err = scan_start(&w->rem[i].scan, w->client.mm,
				     w->rem[i].bd, &sc);

		if (err)
			return err;
		w->rem[i].scanning = true;
	}
	return 0;
}

/*
 * The remote server's transmit: the sim wire's, except that when armed it
 * loses the next full-sized frame (a data segment, not an ACK): the hole.
 */
static int remote_xmit(struct net_device *dev, const uint8_t *frame, size_t len)
{
	struct whost *h = container_of(dev, struct whost, dev);
	struct world *w = container_of(h, struct world, rserver);

	if (w->rdrop && len > 1000) {
		w->rdrop = false;
		w->rdropped++;
		return 0;
	}
	return w->rxmit(dev, frame, len);
}

/* The hole, then the silence, then the remote site back. */
static void remote_event(struct timer *t)
{
	struct world *w = container_of(t, struct world, rtimer);

	switch (w->rphase++) {
	case 0:
		w->rdrop = true;
		timer_arm_in(&w->loop, t, REMOTE_HOLE_POLL_NS);
		break;
	case 1:
		/* wait for the segment to be lost: the hole */
		if (w->rdrop) {
			w->rphase = 1;
			timer_arm_in(&w->loop, t, REMOTE_HOLE_POLL_NS);
			break;
		}
		timer_arm_in(&w->loop, t, SCN_REMOTE_SILENT_NS);
		break;
	case 2:
		w->rlink.down = true;
		w->r->partitions++;
		timer_arm_in(&w->loop, t, w->s->remote_outage_ns);
		break;
	default:
		w->rlink.down = false;
		break;
	}
}

static bool remote_scans_idle(struct world *w)
{
	for (unsigned i = 0; i < w->s->remote_devs; i++)
		if (w->rem[i].scanning && !scan_idle(&w->rem[i].scan))
			return false;
	return true;
}

/* Stop the scans (the remote site back first) and let their reads end. */
static void remote_quiesce(struct world *w, uint64_t limit)
{
	if (!w->s->remote_devs)
		return;
	timer_cancel(&w->loop, &w->rtimer);
	w->rdrop = false;
	w->rlink.down = false;
	for (unsigned i = 0; i < w->s->remote_devs; i++)
		if (w->rem[i].scanning)
			scan_stop(&w->rem[i].scan);
	RUN_UNTIL(w, remote_scans_idle(w), limit);
}

static void remote_destroy(struct world *w)
{
	for (unsigned i = 0; i < w->s->remote_devs; i++) {
		struct remote *r = &w->rem[i];

		if (r->scanning && scan_idle(&r->scan))
			scan_free(&r->scan);
		if (r->bd)
			nbd_client_destroy(r->bd);
		if (r->nbd)
			nbd_server_destroy(r->nbd);
	}
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
		.data_bd = s->remote_data ? w->rem[0].bd : NULL,
	};

	return job_start(&w->job, w->client.host, w->bd, &jc, on_end, w);
}

static int world_noise(struct world *w)
{
	struct noise_config nc = { .dst_ip = htonl(CLIENT_IP),
				   .udp_pps = w->s->noise ? 20000 : 0,
				   .tcp_conns = w->s->noise ? 4 : 0,
				   .frag_pps = w->s->frag_pps };

	w->src = noise_source_start(w->noise.net, &nc);
	return w->src ? 0 : -ENOMEM;
}

/* The per-frame rate of @k now: its base, or the burst while one is open. */
static double *rate_of(struct world *w, enum fault_kind k)
{
	switch (k) {
	case FK_LOSS:
		return &w->link.cfg.loss;
	case FK_DUP:
		return &w->link.cfg.dup;
	case FK_REORDER:
		return &w->link.cfg.reorder;
	default:
		return &w->link.cfg.corrupt;
	}
}

static double base_rate(struct world *w, enum fault_kind k)
{
	double b = w->s->faults->base[k];

	switch (k) {
	case FK_LOSS:
		return b + w->s->link.loss;
	case FK_DUP:
		return b + w->s->link.dup;
	case FK_REORDER:
		return b + w->s->link.reorder;
	default:
		return b + w->s->link.corrupt;
	}
}

static void flood_start(struct fstate *f)
{
	struct noise_config nc = { .dst_ip = htonl(CLIENT_IP),
				   .udp_pps = 50000,
				   .tcp_conns = 2 };

	f->flood = noise_source_start(f->w->noise.net, &nc);
}

static void fault_begin(struct fstate *f)
{
	struct world *w = f->w;
	const struct fault_event *e = f->ev;
	uint64_t until = loop_now(&w->loop) + e->dur_ns;
	char spec[48];

	w->active[e->kind]++;
	switch (e->kind) {
	case FK_LOSS:
	case FK_DUP:
	case FK_REORDER:
	case FK_CORRUPT:
		if (e->p > *rate_of(w, e->kind))
			*rate_of(w, e->kind) = e->p;
		break;
	case FK_LATENCY:
		if (w->base_latency * e->factor > w->link.cfg.latency_ns)
			w->link.cfg.latency_ns = w->base_latency * e->factor;
		break;
	case FK_PARTITION:
		w->link.down = true;
		w->r->partitions++;
		break;
	case FK_STALL:
		if (w->nbd)
			nbd_server_set_stall(w->nbd, until);
		if (w->aoe)
			aoe_target_set_stall(w->aoe, until);
		if (w->iscsi)
			iscsi_target_set_stall(w->iscsi, until);
		if (w->nfs)
			nfs_server_set_stall(w->nfs, until);
		w->r->stalls++;
		break;
	case FK_RESTART:
		server_crash(w);
		w->r->restarts++;
		break;
	case FK_FLOOD:
		flood_start(f);
		w->r->floods++;
		break;
	case FK_ALLOC:
		snprintf(spec, sizeof(spec), "prob=%.6f", e->p);
		mm_failinj_set(w->client.mm, spec);
		break;
	case FK_NR:
		break;
	}
}

static void fault_end(struct fstate *f)
{
	struct world *w = f->w;
	const struct fault_event *e = f->ev;
	bool last = --w->active[e->kind] == 0;

	switch (e->kind) {
	case FK_LOSS:
	case FK_DUP:
	case FK_REORDER:
	case FK_CORRUPT:
		if (last)
			*rate_of(w, e->kind) = base_rate(w, e->kind);
		break;
	case FK_LATENCY:
		if (last)
			w->link.cfg.latency_ns = w->base_latency;
		break;
	case FK_PARTITION:
		w->link.down = false;
		break;
	case FK_STALL:
		/*
		 * The server's own timer ends the stall.  Ending it here with
		 * set_stall(0) would cancel that timer, and the NBD server
		 * does not resume the requests it held then: they would wait
		 * for the next input on their connection.
		 */
		break;
	case FK_RESTART:
		if (!w->nbd && !w->aoe && !w->nfs && !w->iscsi &&
		    server_start(w))
			lb_err(&w->server.host->log,
			       "scenario: the server could not restart");
		break;
	case FK_FLOOD:
		if (f->flood)
			noise_source_stop(f->flood);
		f->flood = NULL;
		break;
	case FK_ALLOC:
		if (last)
			mm_failinj_set(w->client.mm, "off");
		break;
	case FK_NR:
		break;
	}
}

static void fault_fire(struct timer *t)
{
	struct fstate *f = container_of(t, struct fstate, timer);

	if (!f->on) {
		f->on = true;
		fault_begin(f);
		timer_arm_in(&f->w->loop, &f->timer, f->ev->dur_ns);
	} else {
		f->on = false;
		fault_end(f);
	}
}

/* Arm the schedule's events relative to now (the run's start). */
static void faults_arm(struct world *w)
{
	const struct fault_schedule *fs = w->s->faults;
	uint64_t t0 = loop_now(&w->loop);

	for (unsigned i = 0; fs && i < fs->nr; i++) {
		struct fstate *f = &w->fst[i];

		f->w = w;
		f->ev = &fs->ev[i];
		timer_init(&f->timer, fault_fire);
		timer_arm(&w->loop, &f->timer, t0 + fs->ev[i].at_ns);
	}
}

/* Undo what is still applied, so the world ends as a clean one would. */
static void faults_disarm(struct world *w)
{
	const struct fault_schedule *fs = w->s->faults;

	for (unsigned i = 0; fs && i < fs->nr; i++) {
		struct fstate *f = &w->fst[i];

		timer_cancel(&w->loop, &f->timer);
		if (f->on) {
			f->on = false;
			fault_end(f);
		}
	}
	if (w->s->failinj)
		mm_failinj_set(w->client.mm, "off");
}

static int64_t stat_of(struct whost *h, const char *name)
{
	int64_t v = 0;

	stats_get(&h->host->stats, name, &v);
	return v;
}

static void collect_reserve(const struct mm_reserve *rsv, unsigned depth,
			    void *arg)
{
	struct world *w = arg;
	struct scenario_result *r = w->r;
	struct scn_reserve *x;

	if (r->nr_rsv == SCN_MAX_RESERVES)
		return;
	x = &r->rsv[r->nr_rsv++];
	snprintf(x->name, sizeof(x->name), "%s", rsv->name);
	x->size = rsv->size.v;
	x->hwm = rsv->hwm.v;
	x->failures = (int64_t)rsv->failures.v;
	if (w->s->policy == MM_POLICY_ACCOUNTED && x->hwm > x->size)
		r->reserve_overrun = true;
}

static void collect_reserves(struct world *w)
{
	mm_reserve_walk(mm_reserve_root(w->client.mm), collect_reserve, w);
}

static uint64_t fnv(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * 0x100000001b3ull;
	return h;
}

static uint64_t host_digest(uint64_t h, const struct host *host)
{
	const struct stats *st = &host->stats;

	for (unsigned i = 0; i < st->nr; i++) {
		int64_t v = 0;

		stats_get(st, st->entries[i].name, &v);
		h = fnv(h, (uint64_t)v);
	}
	return h;
}

/*
 * The world's state in one number: every counter and gauge of every host,
 * in order, the switch's counters, the server's disk and the clock.
 */
static uint64_t world_digest(struct world *w)
{
	uint64_t h = 0xcbf29ce484222325ull, d = 0;
	const struct blk_store *st = &w->store;
	const uint64_t *words;

	if (w->exp) {
		struct nfs_file *f = nfs_export_lookup(w->exp, NFS_FILE);

		st = f ? &f->st : NULL;
	}
	words = st ? (const uint64_t *)(void *)st->ram : NULL;

	h = host_digest(h, w->client.host);
	h = host_digest(h, w->server.host);
	h = host_digest(h, w->noise.host);
	h = fnv(h, w->link.st.delivered.v);
	h = fnv(h, w->link.st.lost.v);
	h = fnv(h, w->link.st.duplicated.v);
	if (w->s->remote_devs) {
		h = host_digest(h, w->rserver.host);
		h = fnv(h, w->rlink.st.delivered.v);
		h = fnv(h, w->rlink.st.lost.v + w->rlink.st.dropped_down.v);
	}
	for (uint64_t i = 0; words && i < st->size / 8; i++)
		d = (d ^ words[i]) * 0x9e3779b97f4a7c15ull + i;
	h = fnv(h, d);
	return fnv(h, loop_now(&w->loop));
}

static void site_filter(const struct mm_site *site, char *buf, size_t len)
{
	const char *f = strstr(site->file, "src/");

	f = f ? f + 4 : site->file;
	snprintf(buf, len, "%s:%d", f, site->line);
}

/* The client's sites the run reached: those whose calls grew. */
static void collect_sites(struct world *w)
{
	struct scenario_result *r = w->r;
	struct mm *mm = w->client.mm;
	unsigned n, j = 0;
	struct mm_site_stat *now;

	if (!w->sites0)
		return;
	now = calloc(mm->sites_cap, sizeof(*now));
	if (!now)
		return;
	n = mm_sites(mm, now, mm->sites_cap);
	for (unsigned i = 0; i < n; i++) {
		uint64_t before = 0;

		/* both lists are sorted by file and line */
		while (j < w->nr_sites0 &&
		       (strcmp(w->sites0[j].site->file, now[i].site->file) <
				0 ||
			(!strcmp(w->sites0[j].site->file, now[i].site->file) &&
			 w->sites0[j].site->line < now[i].site->line)))
			j++;
		if (j < w->nr_sites0 && w->sites0[j].site == now[i].site)
			before = w->sites0[j].calls;
		if (now[i].calls == before)
			continue;
		if (r->nr_sites < SCN_MAX_SITES) {
			struct scn_site *x = &r->sites[r->nr_sites];

			site_filter(now[i].site, x->filter, sizeof(x->filter));
			snprintf(x->func, sizeof(x->func), "%s",
				 now[i].site->func);
			x->calls = now[i].calls - before;
		}
		r->nr_sites++;
	}
	free(now);
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
	collect_sites(w);
	r->wmark_min = w->client.mm->wmark_min.v;
	r->injected = w->client.mm->inj.injected;
	r->frames_lost = w->link.st.lost.v + w->link.st.dropped_down.v;
	r->frames_dup = w->link.st.duplicated.v;
	r->frames_reordered = w->link.st.reordered.v;
	r->frames_corrupted = w->link.st.corrupted.v;
	for (unsigned i = 0; i < w->s->remote_devs; i++) {
		r->remote_reads += w->rem[i].scan.reads;
		r->remote_errors += w->rem[i].scan.errors;
	}
	r->digest = world_digest(w);
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
static bool world_teardown(struct world *w)
{
	uint64_t limit = loop_now(&w->loop) + 60000000000ull;

	timer_cancel(&w->loop, &w->sampler);
	if (w->plot_t)
		timer_cancel(&w->loop, &w->plotter);
	if (w->src)
		noise_source_stop(w->src);
	remote_quiesce(w, limit);
	if (!remote_scans_idle(w))
		return false; /* reads that never end: a stuck device */
	while (job_stop(&w->job) == -EBUSY && loop_now(&w->loop) < limit)
		loop_run_once(&w->loop, UINT64_MAX);
	free(w->sites0);
	remote_destroy(w);
	if (w->bd) {
		if (w->s->proto == SCN_AOE)
			aoe_client_destroy(w->bd);
		else if (w->s->proto == SCN_NFS)
			nfs_client_destroy(w->bd);
		else if (w->s->proto == SCN_ISCSI)
			iscsi_client_destroy(w->bd);
		else
			nbd_client_destroy(w->bd);
	}
	if (w->aoe)
		aoe_target_destroy(w->aoe);
	if (w->nbd)
		nbd_server_destroy(w->nbd);
	if (w->iscsi)
		iscsi_target_destroy(w->iscsi);
	if (w->nfs)
		nfs_server_destroy(w->nfs);
	/*
	 * let closing connections finish before the stacks go; with the
	 * fragment flood, also let the datagrams still in reassembly time
	 * out, so the reserve they hold must come back by the expiry path
	 */
	loop_run_until(&w->loop,
		       loop_now(&w->loop) + 1000000000ull +
			       (w->s->frag_pps ? IPFRAG_TIMEOUT_NS : 0));
	w->r->rsv_used_after = w->client.mm->root.used.v;
	if (!whost_fini(&w->client, &w->r->leaked_pages)) {
		dump_trace(w);
		return false; /* a leak: left to the process exit */
	}
	whost_fini(&w->server, NULL);
	whost_fini(&w->noise, NULL);
	if (w->s->remote_devs) {
		whost_fini(&w->rserver, NULL);
		for (unsigned i = 0; i < w->s->remote_devs; i++)
			store_close(&w->rem[i].store);
		sim_link_destroy(&w->rlink);
	}
	if (w->exp)
		nfs_export_destroy(w->exp);
	else
		store_close(&w->store);
	sim_link_destroy(&w->link);
	loop_destroy(&w->loop);
	return true;
}

/* One reserve's use into the current sample, by its column. */
static void plot_one(const struct mm_reserve *rsv, unsigned depth, void *arg)
{
	struct world *w = arg;
	unsigned c;

	for (c = 0; c < w->plot_cols; c++)
		if (!strcmp(w->plot_names[c], rsv->name))
			break;
	if (c == w->plot_cols) {
		/* a reserve born during the run (a reconnect): a new column */
		if (c == SCN_MAX_RESERVES)
			return;
		snprintf(w->plot_names[c], MM_RESERVE_NAME_MAX, "%s",
			 rsv->name);
		w->plot_cols++;
	}
	w->plot_used[(size_t)w->plot_n * SCN_MAX_RESERVES + c] =
		(int32_t)rsv->used.v;
}

static void plot_sample(struct timer *t)
{
	struct world *w = container_of(t, struct world, plotter);

	if (w->plot_n == PLOT_SAMPLES_MAX)
		return;
	w->plot_t[w->plot_n] = loop_now(&w->loop);
	w->plot_free[w->plot_n] = (int32_t)w->client.mm->nr_free.v;
	mm_reserve_walk(mm_reserve_root(w->client.mm), plot_one, w);
	w->plot_n++;
	timer_arm_in(&w->loop, &w->plotter, PLOT_PERIOD_NS);
}

/* The plot's tables are taken before the run: sampling allocates nothing. */
static int plot_begin(struct world *w)
{
	w->plot_names = calloc(SCN_MAX_RESERVES, sizeof(*w->plot_names));
	w->plot_used = calloc((size_t)PLOT_SAMPLES_MAX * SCN_MAX_RESERVES,
			      sizeof(*w->plot_used));
	w->plot_free = calloc(PLOT_SAMPLES_MAX, sizeof(*w->plot_free));
	w->plot_t = calloc(PLOT_SAMPLES_MAX, sizeof(*w->plot_t));
	if (!w->plot_names || !w->plot_used || !w->plot_free || !w->plot_t)
		return -ENOMEM;
	timer_init(&w->plotter, plot_sample);
	plot_sample(&w->plotter);
	return 0;
}

/*
 * The plot as TSV: virtual seconds from the run's start, the client's free
 * pages, its min watermark, then each reserve's pages in use.  A reserve
 * that did not exist at a sample reads 0 there.
 */
static void plot_write(struct world *w)
{
	FILE *f = w->s->plot;
	uint64_t t0 = w->plot_n ? w->plot_t[0] : 0;

	fprintf(f, "# %s %s policy %s seed %llu: reserve pages in use\n",
		vm_workload_name(w->s->workload), scn_proto_name(w->s->proto),
		mm_policy_name(w->s->policy), (unsigned long long)w->s->seed);
	if (w->s->remote_devs)
		fprintf(f,
			"# remote: %llu reads, %llu failed; its server lost %llu segments, its switch dropped %llu frames while down\n",
			(unsigned long long)w->r->remote_reads,
			(unsigned long long)w->r->remote_errors,
			(unsigned long long)w->rdropped,
			(unsigned long long)w->rlink.st.dropped_down.v);
	fprintf(f, "t_s\tfree\tmin");
	for (unsigned c = 0; c < w->plot_cols; c++)
		fprintf(f, "\t%s", w->plot_names[c]);
	fprintf(f, "\n");
	for (unsigned i = 0; i < w->plot_n; i++) {
		fprintf(f, "%.3f\t%d\t%lld", (double)(w->plot_t[i] - t0) / 1e9,
			w->plot_free[i], (long long)w->r->wmark_min);
		for (unsigned c = 0; c < w->plot_cols; c++)
			fprintf(f, "\t%d",
				w->plot_used[(size_t)i * SCN_MAX_RESERVES + c]);
		fprintf(f, "\n");
	}
	fflush(f);
}

static void plot_free(struct world *w)
{
	free(w->plot_names);
	free(w->plot_used);
	free(w->plot_free);
	free(w->plot_t);
	w->plot_t = NULL;
}

/* The run starts: the sampler, the schedule, failure injection. */
static int run_begin(struct world *w)
{
	const struct scenario *s = w->s;
	struct mm *mm = w->client.mm;

	timer_init(&w->sampler, sample);
	timer_arm_in(&w->loop, &w->sampler, 10000000ull);
	w->base_latency = w->link.cfg.latency_ns;
	if (s->faults)
		for (unsigned k = FK_LOSS; k <= FK_CORRUPT; k++)
			*rate_of(w, k) = base_rate(w, k);
	faults_arm(w);
	if (s->remote_devs && s->remote_hole_ns) {
		timer_init(&w->rtimer, remote_event);
		timer_arm_in(&w->loop, &w->rtimer, s->remote_hole_ns);
	}
	if (s->plot && plot_begin(w))
		return -ENOMEM;
	if (s->track_sites) {
		w->sites0 = calloc(mm->sites_cap, sizeof(*w->sites0));
		if (!w->sites0)
			return -ENOMEM;
		w->nr_sites0 = mm_sites(mm, w->sites0, mm->sites_cap);
	}
	if (s->failinj && mm_failinj_set(mm, s->failinj))
		return -EINVAL;
	return 0;
}

/*
 * Bytes of libc heap in use: the run itself (every host's data path) must
 * not change it; everything is created before and freed after.
 */
static int64_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (int64_t)(mi.uordblks + mi.hblkhd);
}

int scenario_run(const struct scenario *s, struct scenario_result *r)
{
	struct world *w = calloc(1, sizeof(*w));
	int64_t heap;
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
			 MM_POLICY_ACCOUNTED, SERVER_IP, 1, &w->link);
	if (!err)
		err = whost_init(w, &w->client, "client", memory, s->policy,
				 CLIENT_IP, 2, &w->link);
	if (!err)
		err = whost_init(w, &w->noise, "noise", NOISE_MEMORY,
				 MM_POLICY_ACCOUNTED, NOISE_IP, 3, &w->link);
	if (!err && s->remote_devs)
		err = remote_init(w);
	/* room for swap slack (a quarter) besides the working set */
	if (!err)
		err = world_storage(w,
				    (ws_pages + ws_pages / 4 + 16) * PAGE_SIZE);
	if (!err && !RUN_UNTIL(w, w->ready, 30000000000ull))
		err = -ETIMEDOUT;
	if (!err && w->ready_err)
		err = w->ready_err;
	if (!err && s->remote_devs)
		err = remote_storage(w, (ws_pages + ws_pages / 4 + 16) *
						PAGE_SIZE);
	/* the scans first, so their connections are up to speed */
	if (!err && s->remote_devs) {
		err = remote_scans_start(w);
		loop_run_until(&w->loop, loop_now(&w->loop) + REMOTE_WARMUP_NS);
	}
	if (!err)
		err = world_job(w, ws_pages);
	if (!err && (s->noise || s->frag_pps))
		err = world_noise(w);
	if (err) {
		lb_err(&w->client.host->log,
		       "scenario: cannot build the world: %s", strerror(-err));
		return err; /* a half-built world is left to the process exit */
	}
	err = run_begin(w);
	if (err)
		return err;
	limit += loop_now(&w->loop);
	heap = heap_in_use();
	run_world(w, limit);
	r->heap_delta = heap_in_use() - heap;
	r->built = true;
	r->completed = w->done;
	r->deadlocked = w->fired && !w->done;
	r->timed_out = !w->done && !w->fired;
	collect(w);
	if (s->plot && w->plot_t)
		plot_write(w);
	if (s->stats_out)
		stats_print_table(&w->client.host->stats, s->stats_out, "");
	if (r->deadlocked)
		describe_deadlock(w);
	if (scenario_violation(r, s->may_stop, NULL, 0))
		dump_trace(w);
	if (r->deadlocked) {
		if (s->trace_dump && s->report) {
			host_dump(w->client.host, s->report);
			stats_print_table(&w->server.host->stats, s->report,
					  "");
		}
		return 0; /* stuck by definition: left to the process exit */
	}
	if (r->timed_out)
		return 0;
	faults_disarm(w);
	r->torn_down = world_teardown(w);
	if (r->torn_down) {
		plot_free(w);
		free(w);
	}
	return 0;
}

bool scenario_violation(const struct scenario_result *r, bool allow_stop,
			char *buf, size_t len)
{
	char tmp[200];
	const struct scn_reserve *x = NULL;

	if (!buf) {
		buf = tmp;
		len = sizeof(tmp);
	}
	for (unsigned i = 0; i < r->nr_rsv; i++)
		if (r->rsv[i].hwm > r->rsv[i].size) {
			x = &r->rsv[i];
			break;
		}
	if (!r->built)
		snprintf(buf, len, "world: could not be built");
	else if (!allow_stop && r->deadlocked)
		snprintf(buf, len, "progress: deadlock at %.3f s (%s)",
			 (double)r->virtual_ns / 1e9, r->cause);
	else if (!allow_stop && r->livelocked)
		snprintf(
			buf, len,
			"progress: livelock at %.3f s (virtual time stopped, %llu pages verified)",
			(double)r->virtual_ns / 1e9,
			(unsigned long long)r->verify_ok);
	else if (!allow_stop && r->timed_out)
		snprintf(
			buf, len,
			"progress: not finished within the bound (%.3f s, %llu pages verified)",
			(double)r->virtual_ns / 1e9,
			(unsigned long long)r->verify_ok);
	else if (r->verify_fail)
		snprintf(buf, len, "integrity: %llu pages read back wrong",
			 (unsigned long long)r->verify_fail);
	else if (r->io_errors)
		snprintf(buf, len, "integrity: %llu I/O errors",
			 (unsigned long long)r->io_errors);
	else if (x || r->reserve_overrun)
		snprintf(buf, len, "reserves: %s used %lld of %lld pages",
			 x ? x->name : "a reserve", (long long)(x ? x->hwm : 0),
			 (long long)(x ? x->size : 0));
	else if (r->completed && r->rsv_used_after)
		snprintf(
			buf, len,
			"teardown: the client's reserves hold %lld pages after the run",
			(long long)r->rsv_used_after);
	else if (r->completed && (r->leaked_pages || !r->torn_down))
		snprintf(buf, len, "teardown: %lld client pages leaked",
			 (long long)r->leaked_pages);
	else
		return false;
	return true;
}
