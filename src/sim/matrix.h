/* SPDX-License-Identifier: MIT */
/*
 * matrix.h - the scenario matrix: every world kind the project claims
 * something about, under each reserve policy, with the outcome each cell
 * must have written down beside it.  The matrix test (tests/sim) and
 * `lifeboat sim --matrix` run the same cells and check the same table, and
 * docs/matrix.md is generated from that run, so the document, the test and
 * the command cannot disagree.
 *
 * Each cell runs as a whole world (sim/scenario.h) in a child process: a
 * deadlocked world cannot be torn down.  Only this runner's bookkeeping
 * lives on the stack and in libc; the worlds' data paths use their arenas.
 */
#ifndef LB_SIM_MATRIX_H
#define LB_SIM_MATRIX_H

#include <stdbool.h>
#include <stdio.h>
#include "scenario.h"

/* What a cell must end as. */
enum matrix_expect {
	MX_COMPLETES, /* every page verified, no I/O error */
	MX_DEADLOCKS, /* the watchdog fired and named a cause */
};

/*
 * The kind of world.  base: the seed's worlds (noise on or off), every
 * policy sized by the reserve tree.  frags: a host that is not the storage
 * server sends fragments of UDP datagrams whose last fragment never comes
 * (100 000 a second, no other noise); the client reassembles up to 64
 * datagrams of 64 KiB at once (Linux's 4 MiB ipfrag_high_thresh), and
 * mainline's one reserve is sized as Linux sizes it, by min_free_kbytes
 * for the client's RAM.  frags6: the same with 6 MiB of RAM instead of 8,
 * where the reassembly bound leaves reclaim nothing to refill.  fstall: frags
 * while the storage server stalls for 1.5 s early in the run.  remote: a
 * second NBD volume on a remote server (5 ms away, its own switch), read
 * by a streaming scan while the job swaps to the local server; one of the
 * remote server's segments is lost and 4 ms later the remote site goes
 * silent for 3 s, so the remote connection holds a receive window of
 * out-of-order data.  remote4: the same with four remote volumes and 16
 * MiB of RAM.  split: swap on the local server, the shared mapping and
 * the file on the remote volume, whose site goes silent for 1.5 s.  All
 * but base size mainline's reserve as Linux does (min_free_kbytes).
 */
enum matrix_world {
	MX_BASE,
	MX_FRAGS,
	MX_FRAGS6,
	MX_FSTALL,
	MX_REMOTE,
	MX_REMOTE4,
	MX_SPLIT,
	MX_NR,
};

struct matrix_cell {
	enum matrix_world world;
	enum vm_workload_kind workload;
	enum scn_proto proto;
	bool noise;
	enum mm_policy policy;
	enum matrix_expect expect;
	/*
	 * Pages charged to reserves at the high-water mark exceed the whole
	 * reserve in effect (min): one consumer took more than all of it.
	 */
	bool overdraws;
};

const char *matrix_world_name(enum matrix_world w);

extern const struct matrix_cell matrix_cells[];
extern const unsigned matrix_nr_cells;

/* The world of @c (small: the sanitizer build runs them all). */
void matrix_cell_scenario(const struct matrix_cell *c, struct scenario *s);

/* Run @c in a child; 0, or -1 when the child crashed or could not run. */
int matrix_run_cell(const struct matrix_cell *c, struct scenario_result *r);
/* The same for any world (a scripted one, say). */
int matrix_run_scenario(const struct scenario *s, struct scenario_result *r);

/*
 * Run @n cells, @jobs children at a time (at most MATRIX_JOBS_MAX), into
 * @r[0..n-1]; 0, or -1 when some cell could not run (its result zeroed).
 */
#define MATRIX_JOBS_MAX 16
int matrix_run_cells(const struct matrix_cell *cells, unsigned n,
		     struct scenario_result *r, unsigned jobs);
/* LB_MATRIX_JOBS, else 2 children on a machine with more than one CPU. */
unsigned matrix_default_jobs(void);

/*
 * Whether @r is what @c expects, whatever the policy: never a page read
 * back wrong, never a reserve past its size.  On a mismatch, false and the
 * reason in @why.
 */
bool matrix_cell_ok(const struct matrix_cell *c,
		    const struct scenario_result *r, char *why, size_t len);

void matrix_print_header(FILE *f);
void matrix_print_row(FILE *f, const struct matrix_cell *c,
		      const struct scenario_result *r);

/*
 * Run every cell (of @world only, unless NULL), print the table to @f (and to @out when not NULL), one
 * line per unexpected cell to stderr; the number of unexpected cells, or
 * -1 when a cell could not run at all.
 */
int matrix_run_all(FILE *f, FILE *out, const char *world);
/* The world named @name; MX_NR when there is none. */
enum matrix_world matrix_world_find(const char *name);

#endif
