/* SPDX-License-Identifier: MIT */
/*
 * sweep.h - the deterministic simulator: named scenarios, one world per
 * seed with a fault schedule drawn from it, the invariants checked after
 * each world, and the allocation-failure sweep over every site.
 *
 * Each world runs in a child process: a world that deadlocks or leaks
 * cannot be torn down, and a crash (a failed assertion) must be reported
 * as a failing seed, not end the sweep.  The child sends its result back
 * through a pipe and, on a violation, prints the seed, the scenario, the
 * violated invariant, the schedule and the client's trace ring.
 *
 * Determinism is checked by running a world twice, in two processes, and
 * comparing the digests of their final states (the whole world: every
 * host's statistics, the switch's counters, the server's disk, the
 * clock).
 *
 * Only the simulator allocates with malloc (worlds at setup, the report);
 * the simulated hosts' data paths use their arenas.  The wall clock is
 * read for reporting only.
 */
#ifndef LB_SIM_SWEEP_H
#define LB_SIM_SWEEP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "faults.h"
#include "scenario.h"

/* A named world: workload x protocol, noise on, policy accounted. */
struct sim_scn {
	const char *name;
	enum vm_workload_kind workload;
	enum scn_proto proto;
	uint64_t memory; /* client RAM */
	unsigned size_x; /* working set in multiples of RAM */
	uint64_t clean_ns; /* virtual time a clean world may take */
	uint64_t horizon_ns; /* faults start within this much of the run */
	uint32_t frag_pps; /* the matrix's frags flood on top of the noise,
			      with Linux's 64 datagrams in reassembly; 0: none */
	/*
	 * The matrix's remote volumes (scenario.h): how many, whether the
	 * job's data is on the first, and how long the remote site is
	 * silent after its lost segment (at a time drawn from the seed,
	 * within the horizon); 0: none.
	 */
	unsigned remote_devs;
	bool remote_data;
	uint64_t remote_outage_ns;
};

extern const struct sim_scn sim_scenarios[];
extern const unsigned sim_nr_scenarios;
/* a bound for the callers' arrays of scenarios and tallies */
#define SIM_SCENARIOS_MAX 32
#define SIM_DEFAULT_SCENARIO "swap-nbd"

const struct sim_scn *sim_scenario_find(const char *name);

/* The faults a scenario can take from @mask (corrupt needs a checksum). */
unsigned sim_scn_faults(const struct sim_scn *sc, unsigned mask);

/* The world of @sc and @seed under @fs (the caller keeps @fs alive). */
void sim_scn_world(const struct sim_scn *sc, uint64_t seed,
		   const struct fault_schedule *fs, struct scenario *s);

struct sim_outcome {
	bool pass;
	char violation[200]; /* the first violated invariant */
	struct scenario_result r;
	uint64_t wall_ns; /* of the run (both, when run twice) */
	bool twice; /* determinism was checked */
};

#define SIM_TWICE (1u << 0) /* again in a second child: one digest */
#define SIM_VERBOSE (1u << 1) /* the watchdog's full report, if it fires */

/*
 * Run @seed of @sc with the kinds in @mask, in a child, with @flags above.
 * @report gets the failure report (NULL: stderr).  0, or -errno when no
 * child could run.
 */
int sim_run_seed(const struct sim_scn *sc, uint64_t seed, unsigned mask,
		 unsigned flags, FILE *report, struct sim_outcome *o);

/* Per scenario figures of a sweep. */
struct sim_tally {
	uint64_t passed, failed, twice;
	uint64_t virtual_ns, wall_ns;
	uint64_t first_failed_seed;
};

struct sim_sweep {
	const struct sim_scn *const *scn; /* the scenarios to run */
	unsigned nr_scn;
	uint64_t seed0, nr_seeds; /* seeds seed0 .. seed0 + nr_seeds - 1 */
	unsigned mask; /* fault kinds */
	unsigned twice_every; /* check determinism on every Nth seed; 0: never */
	bool progress; /* a progress line on stderr (for a tty) */
	FILE *report; /* failure reports; NULL: stderr */
	FILE *json; /* one record per world and the totals; NULL: none */
	struct sim_tally *tally; /* nr_scn entries, filled in */
};

/* Run every seed of every scenario; the number of failing worlds. */
uint64_t sim_sweep_run(struct sim_sweep *sw);

/* The final table: scenarios x seeds passed, virtual and wall time. */
void sim_sweep_table(const struct sim_sweep *sw, FILE *out);

/*
 * Allocation failure at every site (SQLite style) for @sc and @seed, with
 * the schedule of the kinds in @mask (0: none; a reconnect or a
 * retransmission reaches sites a clean run does not): one run counts the client's sites the run reaches,
 * then each site fails once (its first call: every invariant must hold,
 * progress included), then always (from its first call on: the world may
 * stop — an essential allocation failing for good can legitimately end
 * progress — but it must not crash, lose or corrupt data, fail I/O or
 * overrun a reserve; if it completes, it must also tear down cleanly).
 * *nr_sites gets the number of sites; returns the number of failing runs,
 * or -errno.
 */
long sim_sites_sweep(const struct sim_scn *sc, uint64_t seed, unsigned mask,
		     FILE *out, unsigned max_sites, unsigned *nr_sites);

#endif
