/* SPDX-License-Identifier: MIT */
/*
 * scenario.h - a whole world in one process, in virtual time: a client host
 * with the pager and a workload writing back over the network, a storage
 * server host (NBD or AoE), a noise host, and a simulated switch between
 * them.  One scenario and one seed give one outcome, byte for byte.
 *
 * The run ends when the workload has verified every page (completed), when
 * the watchdog declares a deadlock, or at the time limit (counted from the
 * run's start, once the device is attached).  The result says
 * which, with the figures the scenario matrix and the simulator report.
 *
 * Memory: the world's hosts, stores and tables are created before it runs
 * (start-up); the client's data path uses its arena only.  A deadlocked
 * world cannot be torn down cleanly (pages are stuck under write-back by
 * definition): scenario_run() then leaves it to the process exit, which is
 * why callers that sweep run each deadlocking world in a child.
 */
#ifndef LB_SIM_SCENARIO_H
#define LB_SIM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "dev/sim.h"
#include "faults.h"
#include "mm/mm.h"
#include "vm/workload.h"

enum scn_proto {
	SCN_NBD,
	SCN_AOE,
	SCN_NFS, /* a file on an NFSv3 export; restarts lose UNSTABLE writes */
	SCN_ISCSI, /* an iSCSI LUN on our target */
};

const char *scn_proto_name(enum scn_proto p);

struct scenario {
	enum vm_workload_kind workload;
	enum scn_proto proto;
	bool noise;
	uint32_t frag_pps; /* the noise host also sends fragments of UDP
			      datagrams that never complete; 0: none */
	bool linux_min; /* policy mainline: the client's shared reserve is
			   sized as Linux's min_free_kbytes for its RAM */
	unsigned frag_queues; /* the client's datagrams in reassembly at
				 once; 0: the stack's default */
	enum mm_policy policy;
	uint64_t seed;
	uint64_t memory; /* client RAM in bytes; 0: 16 MiB */
	unsigned size_x; /* working set in multiples of RAM; 0: 4 */
	uint64_t ops; /* workload ops; 0: the workload's default */
	unsigned concurrency; /* touches in flight; 0: 32 */
	uint64_t watchdog_ns; /* 0: 5 s */
	uint64_t time_limit_ns; /* 0: 600 s */
	struct sim_link_config link;
	FILE *report; /* the watchdog's report; NULL: none */
	bool trace_dump; /* dump the client's trace ring with the report */
	FILE *stats_out; /* the client's statistics at the end; NULL: none */
	/* the simulator's additions (all off when zero) */
	const struct fault_schedule *faults; /* applied from the run's start */
	const char *failinj; /* the client's mm_failinj spec for the run */
	/* (the schedule's alloc windows replace it while they are open) */
	bool track_sites; /* list the client's sites the run reached */
	FILE *trace_out; /* the client's trace ring on a violation */
	unsigned trace_events; /* how many of its last events; 0: 200 */
	bool may_stop; /* see scenario_violation(): no progress required */
	/*
	 * Issue 14's remote volumes: more NBD volumes on a second server,
	 * behind a switch of their own (SCN_REMOTE_LATENCY_NS away, 1
	 * Gbit/s), each flagged memory-critical and read by a streaming scan
	 * (sim/scan.h); the job's device stays on the first server.  At
	 * remote_hole_ns from the run's start one segment from the remote
	 * server is lost, and SCN_REMOTE_SILENT_NS later (before the
	 * retransmission could arrive) the remote switch goes down for
	 * remote_outage_ns: the server rebooted, or its path failed.
	 */
	unsigned remote_devs; /* 0: none; at most SCN_REMOTE_MAX */
	bool remote_data; /* the job's shared mapping and file are on the
			     first remote volume (not scanned), its swap
			     area on the local server */
	uint64_t remote_hole_ns; /* 0: no hole and no outage */
	uint64_t remote_outage_ns;
	FILE *plot; /* reserve use per consumer over time, as TSV; NULL: none */
};

#define SCN_REMOTE_MAX 4
#define SCN_REMOTE_LATENCY_NS 5000000ull
#define SCN_REMOTE_SILENT_NS 4000000ull

/* A reserve's figures at the end of the run. */
struct scn_reserve {
	char name[MM_RESERVE_NAME_MAX];
	int64_t size, hwm, failures;
};

#define SCN_MAX_RESERVES 40
#define SCN_MAX_SITES 160
#define SCN_SITE_MAX 96

/* An allocation site of the client that the run reached. */
struct scn_site {
	char filter[SCN_SITE_MAX]; /* "dir/file.c:line", for site= */
	char func[48];
	uint64_t calls;
};

struct scenario_result {
	bool completed, deadlocked, timed_out;
	bool livelocked; /* virtual time stopped moving (timed_out too) */
	uint64_t verify_ok, verify_fail, io_errors;
	uint64_t virtual_ns;
	uint64_t written_back, wb_bytes, faults, throttled, direct_reclaims;
	uint64_t noise_rx_dropped; /* frames dropped by the client's ladder */
	uint64_t pfmemalloc_rx; /* frames received into the reserve */
	int64_t min_free; /* the client's lowest free page count */
	struct scn_reserve rsv[SCN_MAX_RESERVES];
	unsigned nr_rsv;
	bool reserve_overrun; /* some reserve's hwm > size (accounted only) */
	int64_t heap_delta; /* libc heap bytes the run took (must be 0) */
	int64_t wmark_min; /* the client's min watermark: its reserve */
	char cause[160]; /* the deadlock in one line */
	uint64_t digest; /* of the world's final state: determinism */
	/* the simulator's additions */
	bool built; /* the world was built and ran */
	bool torn_down; /* the world was torn down (completed runs) */
	int64_t rsv_used_after; /* the client's root reserve after teardown */
	int64_t leaked_pages; /* client pages still allocated at the end */
	uint64_t injected; /* allocation failures injected */
	uint64_t restarts, stalls, partitions, floods; /* faults applied */
	uint64_t nfs_lost_writes; /* UNSTABLE writes the NFS restarts lost */
	uint64_t frames_lost, frames_dup, frames_reordered, frames_corrupted;
	uint64_t remote_reads, remote_errors; /* the remote scans' */
	struct scn_site sites[SCN_MAX_SITES]; /* with track_sites */
	unsigned nr_sites; /* reached (may exceed SCN_MAX_SITES) */
};

/*
 * The first invariant @r violates, in one line into @buf; false when none.
 * Checked in this order: the world was built; forward progress (the
 * workload completed: no deadlock, within the time limit); data integrity
 * (no page read back wrong, no I/O error); reserve bounds (no reserve's
 * high-water mark above its size); a clean teardown (the client's reserves
 * back to zero, every page free).  Determinism is the caller's to check
 * (two runs, one digest).  @allow_stop: progress and the teardown are not
 * required (an essential allocation site failing for good may stop the
 * world; it must still never lose data or overrun a reserve).
 */
bool scenario_violation(const struct scenario_result *r, bool allow_stop,
			char *buf, size_t len);

/* Run @s; 0, or -errno when the world could not be built. */
int scenario_run(const struct scenario *s, struct scenario_result *r);

#endif
