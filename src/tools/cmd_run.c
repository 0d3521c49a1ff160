// SPDX-License-Identifier: MIT
/*
 * cmd_run.c - `lifeboat run`, the main job: a client host with little RAM
 * runs a workload over a working set several times larger, paging to
 * network storage while unrelated traffic floods it, and verifies every
 * page.  With no --storage it starts its own storage server (`lifeboat
 * serve`, which also sends the noise) in a child process joined to it by a
 * `pair` wire, so it needs neither root nor a server.
 *
 * Two devices (--storage twice, or a scenario such as `diskless`): the
 * first holds swap, the second the shared mapping and the file; each is
 * attached with its own reserve (block.<dev>) over its own flagged
 * connection, and embedded, each has its own server child on its own pair
 * wire and subnet (10.77.0.0/24, 10.78.0.0/24).  --scenario NAME sets the
 * defaults of a world from the table below (run_scenarios[]); the
 * options given still win.
 *
 * Exit status: 0 when every page was verified, 1 on a verification or I/O
 * failure (or a set-up error), 2 on bad arguments, 3 when the watchdog
 * declared a deadlock.  Its report then comes in two sizes: a short one on
 * stderr (what is stuck, on what, the devices, the reserve tree), and the
 * full one (every waiter, the socket counters, the trace ring, every
 * statistic: thousands of lines) in the --report file, opened at start so
 * the watchdog writes it without allocating; --verbose also prints it.
 *
 * The live line, the summary, --json and --plot read the host's statistics;
 * the samples behind the plot are a table allocated at start.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "args.h"
#include "block/iscsi.h"
#include "block/uri.h"
#include "commands.h"
#include "dev/wire.h"
#include "nfs/nfs_uri.h"
#include "hostopts.h"
#include "sim/job.h"
#include "sim/noise.h"
#include "vm/watchdog.h"
#include "run_report.h"

#define RUN_TICK_NS 100000000ull /* a sample every 100 ms */
#define RUN_MAX_DEV 2 /* swap, then files and mappings */
#define RUN_ATTACH_SECS 30

/*
 * The worlds `lifeboat run --scenario NAME` knows: the real-process
 * counterparts of the simulator's (src/sim/matrix.c), one line each so a
 * renamed world is a one-line change.
 */
struct run_scenario {
	const char *name, *what;
	enum vm_workload_kind workload;
	unsigned nr_dev;
	enum blk_uri_kind proto[RUN_MAX_DEV]; /* swap, files */
	uint64_t memory; /* 0: the default */
	unsigned mult; /* working set as a multiple of RAM */
	bool noise;
	uint32_t frag_pps; /* fragments that never complete, from server 0 */
	bool linux_min; /* mainline's reserve sized as min_free_kbytes */
	const char *stall_after, *stall_for; /* the files server's stall */
};

static const struct run_scenario run_scenarios[] = {
	{ .name = "diskless",
	  .what = "no local storage: swap on iSCSI, files and a shared mapping on NFS, two servers",
	  .workload = VM_WL_MIXED,
	  .nr_dev = 2,
	  .proto = { BLK_URI_ISCSI, BLK_URI_NFS },
	  .mult = 4,
	  .noise = true },
	{ .name = "frags8",
	  .what = "the simulator's frags6 world at 8 MiB: swap on NBD; once RAM is full, 100k/s UDP fragments that never complete; mainline's reserve as min_free_kbytes",
	  .workload = VM_WL_SWAP,
	  .nr_dev = 1,
	  .proto = { BLK_URI_NBD },
	  .memory = 8ull << 20,
	  .mult = 2,
	  .frag_pps = 100000,
	  .linux_min = true },
	{ .name = "twodev-stall",
	  .what = "swap on NBD, files and a shared mapping on a second NBD server, which stalls for 3 s after 1 s; no noise; mainline's reserve as min_free_kbytes",
	  .workload = VM_WL_MIXED,
	  .nr_dev = 2,
	  .proto = { BLK_URI_NBD, BLK_URI_NBD },
	  .mult = 4,
	  .linux_min = true,
	  .stall_after = "1",
	  .stall_for = "3" },
};

struct run;

struct run_dev {
	struct run *r;
	const char *role; /* "swap" or "files" (or "all" when alone) */
	struct blk_uri uri;
	struct blkdev *bd;
	char name[16];
	char wire[32]; /* the embedded server's pair wire */
	struct net_device *nd;
	pid_t child;
	bool ready;
};

struct run {
	struct tool_host t;
	struct host_opts o;
	struct run_dev dev[RUN_MAX_DEV];
	unsigned nr_dev;
	const struct run_scenario *scn;
	struct net_device *frag_nd; /* the fragment sender's wire */
	int frag_fd; /* its end, until it starts */
	pid_t frag_child;
	struct job job;
	struct job_config jc;
	bool noise, tty, stopped_by_duration;
	uint64_t duration_ns, start_ns, last_line_ns;
	int exit;
	struct timer tick;
	struct timer attach; /* the devices' deadline to attach */
	struct run_samples samples;
	const char *json, *plot;
	const char *report_path; /* the full deadlock report */
	char report_buf[256]; /* its default name */
	FILE *report;
	bool report_named, verbose;
};

static void frags_start(struct run *r);

static int64_t run_stat(const struct run *r, const char *name)
{
	int64_t v = 0;

	stats_get(&r->t.host->stats, name, &v);
	return v;
}

static void run_sample(struct run *r, struct run_sample *s)
{
	struct vm_progress p;

	vm_workload_progress(r->job.wl, &p);
	s->t_ns = host_now(r->t.host) - r->start_ns;
	s->free_pages = r->t.mm->nr_free.v;
	s->reserve_used = run_stat(r, "mm.reserve.root.used");
	s->wb_pages = p.written_back;
	s->verified = p.verify_ok;
	s->drops = (uint64_t)(run_stat(r, "net.udp_drop_pfmemalloc") +
			      run_stat(r, "tcp.rx_drop_pfmemalloc") +
			      run_stat(r, "net.rx_drop_pfmemalloc_proto"));
	for (unsigned i = 0; i < r->nr_dev; i++)
		if (r->dev[i].nd)
			s->drops += r->dev[i].nd->st.rx_drop_no_memory.v +
				    r->dev[i].nd->st.rx_drop_early.v;
	if (r->frag_nd)
		s->drops += r->frag_nd->st.rx_drop_no_memory.v +
			    r->frag_nd->st.rx_drop_early.v;
	s->pfmemalloc = (uint64_t)run_stat(r, "mm.alloc.pfmemalloc");
	s->phase = p.phase;
}

static void run_line(struct run *r, const struct run_sample *s,
		     const struct run_sample *prev)
{
	struct vm_progress p;
	double dt = (double)(s->t_ns - prev->t_ns) / 1e9;
	double mbs = dt > 0 ? (double)(s->wb_pages - prev->wb_pages) *
				      PAGE_SIZE / 1e6 / dt :
			      0;

	vm_workload_progress(r->job.wl, &p);
	fprintf(stderr,
		"%s%6.1fs %-8s %3llu%% | written back %llu pages, %6.1f MB/s | free %lld pages | reserve %lld/%lld | drops %llu | verified %llu%s",
		r->tty ? "\r\033[K" : "", (double)s->t_ns / 1e9, p.phase_name,
		(unsigned long long)(p.total ? p.done * 100 / p.total : 0),
		(unsigned long long)s->wb_pages, mbs, (long long)s->free_pages,
		(long long)s->reserve_used,
		(long long)run_stat(r, "mm.reserve.root.size"),
		(unsigned long long)s->drops, (unsigned long long)s->verified,
		r->tty ? "" : "\n");
}

static void run_tick(struct timer *t)
{
	struct run *r = container_of(t, struct run, tick);
	struct run_sample s, prev = { 0 };
	uint64_t now = host_now(r->t.host);

	if (r->samples.nr)
		prev = r->samples.v[r->samples.nr - 1];
	run_sample(r, &s);
	run_samples_add(&r->samples, &s, &prev);
	/*
	 * A scenario's fragments start once the workload has filled RAM (the
	 * pager reclaims): the simulated world's moment, where they meet
	 * memory that is short, not a host with megabytes free.
	 */
	if (r->frag_fd >= 0 && s.free_pages <= r->t.mm->wmark_high.v) {
		frags_start(r);
		run_samples_mark(&r->samples, s.t_ns, "fragments start");
	}
	/* a line 4 times a second on a terminal, every 5 s in a log */
	if (now - r->last_line_ns >= (r->tty ? 250000000ull : 5000000000ull)) {
		run_line(r, &s, &prev);
		r->last_line_ns = now;
	}
	if (r->duration_ns && now - r->start_ns >= r->duration_ns) {
		r->stopped_by_duration = true;
		loop_stop(&r->t.loop);
		return;
	}
	timer_arm_in(&r->t.loop, &r->tick, RUN_TICK_NS);
}

static void run_end(struct job *j, void *arg)
{
	struct run *r = arg;

	loop_stop(&r->t.loop);
}

/* A server that never answers would leave the run waiting for ever. */
static void run_attach_timeout(struct timer *t)
{
	struct run *r = container_of(t, struct run, attach);

	for (unsigned i = 0; i < r->nr_dev; i++)
		if (!r->dev[i].ready)
			fprintf(stderr,
				"lifeboat run: %s (%s) did not attach within %u s\n",
				r->dev[i].name, r->dev[i].role,
				RUN_ATTACH_SECS);
	r->exit = 1;
	loop_stop(&r->t.loop);
}

static void run_fail(struct run *r, const char *what, int err)
{
	fprintf(stderr, "lifeboat run: %s: %s%s\n", what, strerror(-err),
		err == -ENOSPC ?
			" (the storage is smaller than the working set)" :
			"");
	r->exit = 1;
	loop_stop(&r->t.loop);
}

/* One device attached; the job starts once every one is. */
static void run_ready(struct blkdev *bd, int err, void *arg)
{
	struct run_dev *d = arg;
	struct run *r = d->r;

	if (err) {
		fprintf(stderr, "lifeboat run: cannot attach %s (%s): %s\n",
			d->name, d->role, strerror(-err));
		r->exit = 1;
		loop_stop(&r->t.loop);
		return;
	}
	d->bd = bd;
	d->ready = true;
	for (unsigned i = 0; i < r->nr_dev; i++)
		if (!r->dev[i].ready)
			return;
	timer_cancel(&r->t.loop, &r->attach);
	r->jc.data_bd = r->nr_dev > 1 ? r->dev[1].bd : NULL;
	err = job_start(&r->job, r->t.host, r->dev[0].bd, &r->jc, run_end, r);
	if (err) {
		run_fail(r, "cannot start the workload", err);
		return;
	}
	printf("lifeboat run: %s%s%s%s workload over %llu MiB with %llu MiB of RAM, policy %s, noise %s\n",
	       r->scn ? "scenario " : "", r->scn ? r->scn->name : "",
	       r->scn ? ": " : "", vm_workload_name(r->jc.workload),
	       (unsigned long long)(r->jc.ws_pages * PAGE_SIZE >> 20),
	       (unsigned long long)(r->o.memory >> 20),
	       mm_policy_name(r->o.policy), r->noise ? "on" : "off");
	for (unsigned i = 0; i < r->nr_dev; i++)
		printf("lifeboat run: storage %s: %s (reserve block.%s: %lld pages)\n",
		       r->dev[i].role, r->dev[i].bd->name, r->dev[i].bd->name,
		       (long long)r->dev[i].bd->rsv.size.v);
	fflush(stdout);
	r->start_ns = host_now(r->t.host);
	timer_arm_in(&r->t.loop, &r->tick, RUN_TICK_NS);
}

/* ---- the embedded server ----------------------------------------------- */

static const char *kind_name(enum blk_uri_kind k)
{
	return k == BLK_URI_AOE	  ? "aoe" :
	       k == BLK_URI_ISCSI ? "iscsi" :
	       k == BLK_URI_NFS	  ? "nfs" :
				    "nbd";
}

/*
 * Device @i's server: `lifeboat serve` in a child on its own pair wire,
 * at 10.(77+i).0.1; the first one also sends the noise to the client.
 */
static int spawn_server(struct run *r, unsigned i, uint64_t bytes)
{
	struct run_dev *d = &r->dev[i];
	char size[32], ip[32], client[32];
	const char *args[24];
	unsigned n = 0;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)bytes);
	snprintf(ip, sizeof(ip), "10.%u.0.1/24", 77 + i);
	snprintf(client, sizeof(client), "10.%u.0.2", 77 + i);
	args[n++] = "--proto";
	args[n++] = kind_name(d->uri.kind);
	args[n++] = "--size";
	args[n++] = size;
	args[n++] = "--ip";
	args[n++] = ip;
	args[n++] = "--memory";
	args[n++] = "256M";
	args[n++] = "--log";
	args[n++] = "err";
	args[n++] = "--quiet";
	if (i == 0 && r->noise) {
		args[n++] = "--noise-to";
		args[n++] = client;
	}
	if (i == 1 && r->scn && r->scn->stall_for) {
		args[n++] = "--stall-after";
		args[n++] = r->scn->stall_after;
		args[n++] = "--stall-for";
		args[n++] = r->scn->stall_for;
	}
	args[n] = NULL;
	d->child = tool_spawn_serve(args, d->wire, sizeof(d->wire));
	return d->child < 0 ? (int)d->child : 0;
}

/*
 * A scenario's fragments come from a third process, as the simulator's
 * noise host: `lifeboat serve` (an idle 1 MiB NBD disk nobody uses) with
 * --frags-to, on its own pair wire at 10.79.0.1.  The wire is opened at
 * start, with everything else; the process starts only once the job has,
 * as in the simulated world, so the fragments never race the attach.
 */
static int frags_wire(struct run *r)
{
	char spec[32];
	int sv[2], err;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -errno;
	snprintf(spec, sizeof(spec), "pair:%d", sv[0]);
	err = wire_open(r->t.net, spec, &r->frag_nd);
	if (err) {
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	r->frag_nd->ip = htonl((10u << 24) | (79u << 16) | 2);
	r->frag_nd->netmask = htonl(0xffffff00u);
	r->frag_fd = sv[1];
	return 0;
}

static void frags_start(struct run *r)
{
	char self[4096], wire[32], pps[16];
	char *argv[] = { self,	     "serve",	   "--proto",	"nbd",
			 "--size",   "1M",	   "--ip",	"10.79.0.1/24",
			 "--memory", "16M",	   "--log",	"err",
			 "--quiet",  "--frags-to", "10.79.0.2", "--frag-pps",
			 pps,	     "--wire",	   wire,	NULL };
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;

	if (len <= 0)
		return;
	self[len] = 0;
	snprintf(wire, sizeof(wire), "pair:%d", r->frag_fd);
	snprintf(pps, sizeof(pps), "%u", r->scn->frag_pps);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* the sender goes with us, however we end */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execv(self, argv);
		_exit(127);
	}
	if (pid < 0)
		fprintf(stderr,
			"lifeboat run: cannot start the fragment sender: %s\n",
			strerror(errno));
	else
		r->frag_child = pid;
	if (pid > 0)
		printf("%slifeboat run: RAM full: a third process now sends %u UDP fragments a second that never complete\n",
		       r->tty ? "\r\033[K" : "", r->scn->frag_pps);
	fflush(stdout);
	close(r->frag_fd);
	r->frag_fd = -1;
}

/* The URI of device @i's embedded server. */
static void embedded_uri(struct run_dev *d, unsigned i)
{
	struct blk_uri u = { .kind = d->uri.kind, .port = 10809 };

	if (u.kind == BLK_URI_ISCSI) {
		/* the embedded target: its default name, LUN 0 */
		u.port = ISCSI_DEFAULT_PORT;
		snprintf(u.iqn, sizeof(u.iqn), "%s", ISCSI_DEFAULT_IQN);
	}
	if (u.kind != BLK_URI_AOE)
		u.ip = (10u << 24) | ((77u + i) << 16) | 1;
	if (u.kind == BLK_URI_NFS) {
		/* one port for MOUNT and NFS: no portmapper needed */
		u.port = u.mount_port = 2049;
		strcpy(u.nfs_export, "/export");
		strcpy(u.nfs_file, "swapfile");
	}
	u.shelf = 1;
	d->uri = u;
}

static void stop_servers(struct run *r)
{
	for (unsigned i = 0; i < r->nr_dev; i++) {
		tool_reap(r->dev[i].child);
		r->dev[i].child = 0;
	}
	tool_reap(r->frag_child);
	r->frag_child = 0;
}

/* Device names: the protocol's, numbered when two share one. */
static void name_devices(struct run *r)
{
	for (unsigned i = 0; i < r->nr_dev; i++) {
		struct run_dev *d = &r->dev[i];
		unsigned same = 0;

		for (unsigned j = 0; j < i; j++)
			same += r->dev[j].uri.kind == d->uri.kind;
		snprintf(d->name, sizeof(d->name), "%s%u",
			 kind_name(d->uri.kind), same);
		d->role = r->nr_dev == 1 ? "all" : i == 0 ? "swap" : "files";
		d->r = r;
	}
}

/* ---- the end ----------------------------------------------------------- */

static void print_summary(struct run *r, const struct vm_progress *p)
{
	double secs = (double)(host_now(r->t.host) - r->start_ns) / 1e9;

	printf("\n%-28s %s\n", "outcome",
	       run_outcome_name(r->job.fired, r->job.done,
				r->stopped_by_duration, p));
	printf("%-28s %.1f s\n", "time", secs);
	printf("%-28s %llu verified, %llu failed, %llu I/O errors\n", "pages",
	       (unsigned long long)p->verify_ok,
	       (unsigned long long)p->verify_fail,
	       (unsigned long long)p->io_errors);
	printf("%-28s %llu pages (%llu MiB), %.1f MB/s\n", "written back",
	       (unsigned long long)p->written_back,
	       (unsigned long long)p->mb_written_back,
	       secs > 0 ? (double)p->written_back * PAGE_SIZE / 1e6 / secs : 0);
	printf("%-28s %llu faults, %llu swap-ins, %llu throttled, %llu direct reclaims\n",
	       "pager", (unsigned long long)p->faults,
	       (unsigned long long)p->swap_in, (unsigned long long)p->throttled,
	       (unsigned long long)p->direct_reclaims);
	printf("%-28s %lld (lowest %lld)\n", "free pages at the end",
	       (long long)r->t.mm->nr_free.v,
	       (long long)run_samples_min_free(&r->samples));
	printf("%-28s %llu\n", "frames dropped",
	       (unsigned long long)(r->samples.nr ?
					    r->samples.v[r->samples.nr - 1]
						    .drops :
					    0));
	for (unsigned i = 0; i < r->nr_dev; i++)
		if (r->dev[i].bd)
			printf("%-28s %s, reserve block.%s %lld pages\n",
			       r->dev[i].role[0] == 's' ?
				       "storage: swap" :
			       r->dev[i].role[0] == 'f' ?
				       "storage: files, mapping" :
				       "storage",
			       r->dev[i].bd->name, r->dev[i].bd->name,
			       (long long)r->dev[i].bd->rsv.size.v);
	printf("\nreserves, in pages:\n");
	mm_print_reserves(r->t.mm, stdout);
}

/*
 * The full report's file, opened now: the watchdog writes into it from
 * the event loop, where nothing may allocate, so its stdio buffer is
 * given now too (the run's static struct holds it).
 */
static char report_stdio_buf[1 << 16];

static int report_open(struct run *r)
{
	if (!r->report_path) {
		const char *dir = getenv("TMPDIR");

		snprintf(r->report_buf, sizeof(r->report_buf),
			 "%s/lifeboat-run-%ld.txt", dir && *dir ? dir : "/tmp",
			 (long)getpid());
		r->report_path = r->report_buf;
	}
	r->report = fopen(r->report_path, "w");
	if (!r->report) {
		fprintf(stderr,
			"lifeboat run: --report: cannot write '%s': %s\n",
			r->report_path, strerror(errno));
		return 2;
	}
	setvbuf(r->report, report_stdio_buf, _IOFBF, sizeof(report_stdio_buf));
	return 0;
}

/* No deadlock: a default file goes; a named one says so. */
static void report_close(struct run *r)
{
	if (!r->report)
		return;
	if (r->exit != 3 && !r->report_named) {
		fclose(r->report);
		unlink(r->report_path);
	} else {
		if (r->exit != 3)
			fprintf(r->report,
				"lifeboat run: no deadlock, nothing to report\n");
		fclose(r->report);
	}
	r->report = NULL;
}

/* The short report on stderr (and with --verbose the full one first). */
static void print_deadlock(struct run *r)
{
	uint64_t no_mem = 0;
	char line[512];

	for (unsigned i = 0; i < r->nr_dev; i++)
		if (r->dev[i].nd)
			no_mem += r->dev[i].nd->st.rx_drop_no_memory.v;
	if (r->frag_nd)
		no_mem += r->frag_nd->st.rx_drop_no_memory.v;

	fflush(r->report);
	if (r->verbose) {
		FILE *f = fopen(r->report_path, "r");

		while (f && fgets(line, sizeof(line), f))
			fputs(line, stderr);
		if (f)
			fclose(f);
	}
	fprintf(stderr,
		"lifeboat run: DEADLOCK: the watchdog fired after %.1f s of the run\n",
		(double)(host_now(r->t.host) - r->start_ns) / NSEC_PER_SEC);
	vm_watchdog_summary(r->job.vm, stderr);
	if (no_mem)
		fprintf(stderr,
			"  the client dropped %llu received frames for want of a free page (dev.*.rx_drop_no_memory);\n"
			"  replies that would complete write-backs can be among them%s\n",
			(unsigned long long)no_mem,
			r->t.mm->policy == MM_POLICY_NONE ?
				": policy none keeps no reserve to receive them into" :
				"");
	fprintf(stderr,
		"  full report (every waiter, socket counters, the trace ring, every statistic): %s%s\n",
		r->report_path, r->verbose ? " (printed above)" : "");
}

static void run_help(FILE *out)
{
	fprintf(out,
		"usage: lifeboat run [options]\n"
		"\n"
		"The main job: a host with --memory of RAM runs a workload over a\n"
		"working set --size large, paging to network storage while a noise\n"
		"host floods it, and verifies every page.  With no --storage it\n"
		"starts its own server (`lifeboat serve`) in a child process joined\n"
		"by a pair wire: no root, no server needed.  A live line shows the\n"
		"progress; the summary shows every reserve's size and high-water\n"
		"mark.  Exit 0: every page verified; 1: data or I/O failure; 3: the\n"
		"watchdog declared a deadlock (a short report on stderr, the full one\n"
		"in the --report file).\n"
		"\n"
		"options:\n"
		"  --memory SIZE       the client's RAM (default 64M)\n"
		"  --workload W        swap | mmap | write | mixed (default mixed)\n"
		"  --size S            working set: a size, or a multiple of RAM like 4x (default 4x)\n"
		"  --noise on|off      flood the client with unrelated traffic (default on)\n"
		"  --policy P          none | mainline | accounted (default accounted)\n"
		"  --storage URI       an external server: nbd://HOST[:PORT]/EXPORT, aoe://SHELF.SLOT,\n"
		"                      iscsi://HOST[:PORT]/IQN/LUN or nfs://HOST[:PORT]/EXPORT/FILE\n"
		"                      (then --wire and --ip are needed; no noise is sent).\n"
		"                      Given twice: the FIRST device holds swap, the SECOND the\n"
		"                      shared mapping and the file (each its own reserve)\n"
		"  --proto P           the embedded server's protocol: nbd, aoe, iscsi or nfs (default\n"
		"                      nbd; nfs: the device is the file /export/swapfile); given\n"
		"                      twice, two servers: the first for swap, the second for files\n"
		"  --scenario NAME     a world's defaults (workload, devices, RAM, faults); the\n"
		"                      options given still win.  `--scenario list` lists them\n"
		"  --wire WIRE, --ip ADDR/LEN   the client's wire and address (with --storage)\n"
		"  --duration SECS     stop after SECS even if the workload has not finished\n"
		"  --watchdog SECS     declare a deadlock after SECS without progress (default 5)\n"
		"  --json FILE         write a machine-readable summary\n"
		"  --plot FILE.svg     plot free memory, reserve use and write-back over time\n"
		"  --pcap FILE         capture the client's frames\n"
		"  --report FILE       where a deadlock's full report goes (default\n"
		"                      $TMPDIR/lifeboat-run-PID.txt, removed if no deadlock)\n"
		"  --verbose           also print the full report on stderr\n"
		"  --seed N, --log LEVEL, --mlock   as for every host command\n");
}

static int parse_ws(const char *arg, uint64_t *ws_bytes, unsigned *mult)
{
	size_t len = strlen(arg);
	uint64_t v;

	if (len > 1 && (arg[len - 1] == 'x' || arg[len - 1] == 'X')) {
		char buf[32];

		if (len >= sizeof(buf))
			return -1;
		memcpy(buf, arg, len - 1);
		buf[len - 1] = 0;
		if (parse_u64(buf, &v) || !v || v > 64)
			return -1;
		*mult = (unsigned)v;
		*ws_bytes = 0;
		return 0;
	}
	if (parse_size(arg, &v) || v < (1u << 20) || v > (64ull << 30))
		return -1;
	*ws_bytes = v;
	*mult = 0;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	enum {
		OPT_WORKLOAD = 1,
		OPT_SIZE,
		OPT_NOISE,
		OPT_STORAGE,
		OPT_PROTO,
		OPT_DURATION,
		OPT_WATCHDOG,
		OPT_JSON,
		OPT_PLOT,
		OPT_REPORT,
		OPT_VERBOSE,
		OPT_SCENARIO
	};
	static const struct option opts[] = {
		HOSTOPT_LONGOPTS,
		{ "workload", required_argument, NULL, OPT_WORKLOAD },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "noise", required_argument, NULL, OPT_NOISE },
		{ "storage", required_argument, NULL, OPT_STORAGE },
		{ "proto", required_argument, NULL, OPT_PROTO },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "watchdog", required_argument, NULL, OPT_WATCHDOG },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "scenario", required_argument, NULL, OPT_SCENARIO },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct run r;
	const char *why = "";
	uint64_t ws_bytes = 0;
	unsigned mult = 4, nr_storage = 0, nr_proto = 0;
	bool memory_set = false, workload_set = false, size_set = false;
	bool noise_set = false;
	double secs;
	struct vm_progress p;
	int c, rc;

	memset(&r, 0, sizeof(r));
	r.noise = true;
	r.jc.workload = VM_WL_MIXED;
	r.jc.watchdog_ns = 5000000000ull;
	host_opts_init(&r.o);
	r.o.log = LOG_WARN;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			run_help(stdout);
			return 0;
		case OPT_WORKLOAD:
			workload_set = true;
			if (vm_workload_parse(optarg, &r.jc.workload))
				return usage_error(
					"run",
					"--workload is swap, mmap, write or mixed, not '%s'",
					optarg);
			continue;
		case OPT_SIZE:
			size_set = true;
			if (parse_ws(optarg, &ws_bytes, &mult))
				return usage_error(
					"run",
					"--size takes a size (1M-64G) or a multiple of RAM like 4x, not '%s'",
					optarg);
			continue;
		case OPT_NOISE:
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return usage_error(
					"run", "--noise is on or off, not '%s'",
					optarg);
			r.noise = !strcmp(optarg, "on");
			noise_set = true;
			continue;
		case OPT_STORAGE:
			if (nr_storage == RUN_MAX_DEV)
				return usage_error(
					"run",
					"--storage at most twice (swap, then files)");
			if (blk_uri_parse(optarg, &r.dev[nr_storage].uri, &why))
				return usage_error("run", "--storage %s: %s",
						   optarg, why);
			nr_storage++;
			continue;
		case OPT_PROTO:
			if (strcmp(optarg, "nbd") && strcmp(optarg, "aoe") &&
			    strcmp(optarg, "iscsi") && strcmp(optarg, "nfs"))
				return usage_error(
					"run",
					"--proto is nbd, aoe, iscsi or nfs, not '%s'",
					optarg);
			if (nr_proto == RUN_MAX_DEV)
				return usage_error(
					"run",
					"--proto at most twice (swap, then files)");
			r.dev[nr_proto++].uri.kind =
				!strcmp(optarg, "aoe")	 ? BLK_URI_AOE :
				!strcmp(optarg, "iscsi") ? BLK_URI_ISCSI :
				!strcmp(optarg, "nfs")	 ? BLK_URI_NFS :
							   BLK_URI_NBD;
			continue;
		case OPT_SCENARIO:
			if (!strcmp(optarg, "list")) {
				for (unsigned i = 0;
				     i < ARRAY_SIZE(run_scenarios); i++)
					printf("%-13s %s\n",
					       run_scenarios[i].name,
					       run_scenarios[i].what);
				return 0;
			}
			r.scn = NULL;
			for (unsigned i = 0; i < ARRAY_SIZE(run_scenarios); i++)
				if (!strcmp(optarg, run_scenarios[i].name))
					r.scn = &run_scenarios[i];
			if (!r.scn)
				return usage_error(
					"run",
					"no scenario '%s' (--scenario list lists them)",
					optarg);
			continue;
		case OPT_DURATION:
		case OPT_WATCHDOG:
			if (parse_double(optarg, &secs) || secs <= 0 ||
			    secs > 86400)
				return usage_error(
					"run",
					"--%s takes seconds (0-86400], not '%s'",
					c == OPT_DURATION ? "duration" :
							    "watchdog",
					optarg);
			if (c == OPT_DURATION)
				r.duration_ns = (uint64_t)(secs * 1e9);
			else
				r.jc.watchdog_ns = (uint64_t)(secs * 1e9);
			continue;
		case OPT_JSON:
			r.json = optarg;
			continue;
		case OPT_PLOT:
			r.plot = optarg;
			continue;
		case OPT_REPORT:
			r.report_path = optarg;
			r.report_named = true;
			continue;
		case OPT_VERBOSE:
			r.verbose = true;
			continue;
		}
		if (c == HOSTOPT_MEMORY)
			memory_set = true;
		rc = host_opts_parse(&r.o, "run", c, optarg);
		if (rc == 1)
			return usage_error("run", "bad arguments");
		if (rc)
			return rc;
	}
	if (optind < argc)
		return usage_error("run", "unexpected argument '%s'",
				   argv[optind]);
	if (nr_storage && nr_proto)
		return usage_error(
			"run",
			"--proto is the embedded server's; --storage names its own");
	if (r.scn) {
		/* the world's defaults, where no option said otherwise */
		if (!workload_set)
			r.jc.workload = r.scn->workload;
		if (!memory_set && r.scn->memory)
			r.o.memory = r.scn->memory;
		if (!size_set)
			mult = r.scn->mult;
		if (!noise_set)
			r.noise = r.scn->noise;
		if (!nr_storage && !nr_proto) {
			nr_proto = r.scn->nr_dev;
			for (unsigned i = 0; i < nr_proto; i++)
				r.dev[i].uri.kind = r.scn->proto[i];
		}
		if (r.scn->linux_min)
			r.o.mainline_min =
				mm_linux_min_free_pages(r.o.memory / PAGE_SIZE);
	}
	r.nr_dev = nr_storage ? nr_storage : nr_proto ? nr_proto : 1;
	if (!nr_storage && r.nr_dev > 1 && r.dev[1].uri.kind == BLK_URI_AOE)
		/* the AoE client finds its target on the host's first wire */
		return usage_error(
			"run",
			"an embedded AoE server can only be the first (swap) one");
	if (nr_storage) {
		rc = r.dev[0].uri.kind == BLK_URI_AOE && r.o.wire ?
			     0 :
			     host_opts_check(&r.o, "run", true);
		if (rc)
			return rc;
		r.noise = false; /* nobody to send it on an external wire */
	} else if (r.o.wire) {
		return usage_error(
			"run",
			"--wire is for --storage; the embedded server has its own");
	}
	r.jc.ws_pages = (ws_bytes ? ws_bytes : r.o.memory * mult) / PAGE_SIZE;
	r.jc.noise_sink = r.noise;
	r.tty = isatty(STDERR_FILENO);
	if (run_samples_init(&r.samples)) {
		fprintf(stderr, "lifeboat run: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; !nr_storage && i < r.nr_dev; i++) {
		uint64_t bytes = r.nr_dev == 1 ? job_device_bytes(&r.jc) :
				 i == 0	       ? job_swap_bytes(&r.jc) :
						 job_file_bytes(&r.jc);

		rc = spawn_server(&r, i, bytes);
		if (rc) {
			fprintf(stderr,
				"lifeboat run: cannot start the storage server: %s\n",
				strerror(-rc));
			stop_servers(&r);
			return 1;
		}
		embedded_uri(&r.dev[i], i);
	}
	if (!nr_storage) {
		r.o.wire = r.dev[0].wire;
		host_opts_parse(&r.o, "run", HOSTOPT_IP, "10.77.0.2/24");
	}
	name_devices(&r);
	if (tool_host_start(&r.t, &r.o, "client")) {
		tool_host_stop(&r.t);
		stop_servers(&r);
		return 1;
	}
	r.dev[0].nd = r.t.dev;
	r.frag_fd = -1;
	if (r.scn && r.scn->frag_pps) {
		/* 64 x 64 KiB being reassembled: Linux's ipfrag_high_thresh */
		r.t.net->ipfrag_queues = IPFRAG_QUEUES_MAX;
		rc = frags_wire(&r);
		if (rc) {
			tool_host_stop(&r.t);
			stop_servers(&r);
			return 1;
		}
	}
	for (unsigned i = 1; !nr_storage && i < r.nr_dev; i++) {
		struct net_device *nd;

		rc = wire_open(r.t.net, r.dev[i].wire, &nd);
		if (rc) {
			tool_host_stop(&r.t);
			stop_servers(&r);
			return 1;
		}
		nd->ip = htonl((10u << 24) | ((77u + i) << 16) | 2);
		nd->netmask = htonl(0xffffff00u);
		r.dev[i].nd = nd;
	}
	timer_init(&r.tick, run_tick);
	timer_init(&r.attach, run_attach_timeout);
	timer_arm_in(&r.t.loop, &r.attach, RUN_ATTACH_SECS * NSEC_PER_SEC);
	for (unsigned i = 0; i < r.nr_dev; i++) {
		uint64_t bytes = r.nr_dev == 1 ? job_device_bytes(&r.jc) :
				 i == 0	       ? job_swap_bytes(&r.jc) :
						 job_file_bytes(&r.jc);

		rc = lb_uri_open(r.t.net, &r.dev[i].uri,
				 &(struct blk_open_opts){ .name = r.dev[i].name,
							  .create_size =
								  bytes },
				 run_ready, &r.dev[i], &r.dev[i].bd);
		if (rc) {
			fprintf(stderr,
				"lifeboat run: cannot open the storage (%s): %s\n",
				r.dev[i].role, strerror(-rc));
			while (i--)
				lb_uri_close(&r.dev[i].uri, r.dev[i].bd);
			tool_host_stop(&r.t);
			stop_servers(&r);
			return 1;
		}
	}
	/* the job (and its watchdog) starts once every device is ready */
	rc = report_open(&r);
	if (rc) {
		for (unsigned i = 0; i < r.nr_dev; i++)
			lb_uri_close(&r.dev[i].uri, r.dev[i].bd);
		tool_host_stop(&r.t);
		stop_servers(&r);
		return rc;
	}
	r.jc.report = r.report;
	tool_host_run(&r.t);
	timer_cancel(&r.t.loop, &r.tick);
	timer_cancel(&r.t.loop, &r.attach);
	if (r.tty)
		fprintf(stderr, "\n");
	if (r.job.wl) {
		vm_workload_progress(r.job.wl, &p);
		if (r.job.fired)
			run_samples_mark(&r.samples,
					 host_now(r.t.host) - r.start_ns,
					 "watchdog: deadlock");
		if (r.job.fired)
			r.exit = 3;
		else if (p.verify_fail || p.io_errors)
			r.exit = 1;
		else if (r.t.interrupted)
			r.exit = 130;
		if (r.exit == 3)
			print_deadlock(&r);
		print_summary(&r, &p);
		char devices[64] = "";

		for (unsigned i = 0; i < r.nr_dev; i++)
			snprintf(devices + strlen(devices),
				 sizeof(devices) - strlen(devices), "%s%s=%s",
				 i ? " " : "", r.dev[i].role, r.dev[i].name);
		if (r.json)
			run_write_json(
				r.json, &r.samples, &r.t.host->stats,
				&(struct run_meta){
					.scenario = r.scn ? r.scn->name : NULL,
					.devices = devices,
					.workload =
						vm_workload_name(r.jc.workload),
					.policy = mm_policy_name(r.o.policy),
					.memory = r.o.memory,
					.ws_bytes = r.jc.ws_pages * PAGE_SIZE,
					.noise = r.noise,
					.outcome = run_outcome_name(
						r.job.fired, r.job.done,
						r.stopped_by_duration, &p),
					.exit = r.exit,
				});
		if (r.plot)
			run_write_svg(r.plot, &r.samples,
				      mm_policy_name(r.o.policy), r.job.fired);
	}
	if (r.exit == 3) {
		printf("lifeboat run: the watchdog declared a deadlock (report above, in full in %s); exit 3\n",
		       r.report_path);
	}
	report_close(&r);
	fflush(stdout);
	if (r.job.wl && !r.job.done) {
		/*
		 * Deadlocked, interrupted or out of time: the pager still holds
		 * pages under I/O that will not complete, so there is no clean
		 * teardown; the process exit takes everything.
		 */
		stop_servers(&r);
		_exit(r.exit);
	}
	if (r.job.vm) {
		uint64_t limit = loop_now(&r.t.loop) + 10000000000ull;

		while (job_stop(&r.job) == -EBUSY &&
		       loop_now(&r.t.loop) < limit)
			loop_run_once(&r.t.loop, 100000000ull);
	}
	for (unsigned i = 0; i < r.nr_dev; i++)
		if (r.dev[i].bd)
			lb_uri_close(&r.dev[i].uri, r.dev[i].bd);
	tool_host_stop(&r.t);
	stop_servers(&r);
	run_samples_free(&r.samples);
	return r.exit;
}
