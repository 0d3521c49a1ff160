// SPDX-License-Identifier: MIT
/*
 * matrix.c - the scenario matrix's cells, their expected outcomes, and the
 * runner the test and `lifeboat sim --matrix` share.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "matrix.h"

/* Small worlds, so the sanitizer build runs them all in minutes. */
#define MATRIX_MEMORY (8ull << 20)
#define MATRIX_WATCHDOG 2000000000ull

#define C MX_COMPLETES
#define D MX_DEADLOCKS
#define CELL(wl, pr, nz, pol, ex)                                            \
	{                                                                    \
		.world = MX_BASE, .workload = VM_WL_##wl, .proto = SCN_##pr, \
		.noise = nz, .policy = MM_POLICY_##pol, .expect = ex         \
	}
#define FRAGS(wl, pr, pol, ex, od) WORLD(MX_FRAGS, wl, pr, pol, ex, od)
#define WORLD(wo, wl, pr, pol, ex, od)                                   \
	{                                                                \
		.world = wo, .workload = VM_WL_##wl, .proto = SCN_##pr,  \
		.policy = MM_POLICY_##pol, .expect = ex, .overdraws = od \
	}
#define ROW(wl, pr, nz, none, mainline, accounted)                          \
	CELL(wl, pr, nz, NONE, none), CELL(wl, pr, nz, MAINLINE, mainline), \
		CELL(wl, pr, nz, ACCOUNTED, accounted)

/*
 * Seed 1 of each world.  Why each cell ends as it does is in
 * docs/matrix.md; a change of outcome is a change of behaviour that must be
 * explained there, not absorbed.
 */
const struct matrix_cell matrix_cells[] = {
	/*   workload proto noise  none mainline accounted */
	ROW(SWAP, NBD, false, D, C, C),
	ROW(SWAP, NBD, true, D, C, C),
	ROW(SWAP, AOE, false, C, C, C),
	ROW(SWAP, AOE, true, D, C, C),
	ROW(MMAP, NBD, false, D, C, C),
	ROW(MMAP, NBD, true, D, C, C),
	ROW(MMAP, AOE, false, C, C, C),
	ROW(MMAP, AOE, true, D, C, C),
	ROW(WRITE, NBD, false, C, C, C),
	ROW(WRITE, NBD, true, D, C, C),
	ROW(WRITE, AOE, false, C, C, C),
	ROW(WRITE, AOE, true, C, C, C),
	/* iSCSI and NFS, with noise (docs/matrix.md) */
	ROW(SWAP, ISCSI, true, D, C, C),
	ROW(MMAP, ISCSI, true, D, C, C),
	ROW(WRITE, ISCSI, true, D, C, C),
	ROW(SWAP, NFS, true, D, C, C),
	ROW(MMAP, NFS, true, D, C, C),
	ROW(WRITE, NFS, true, D, C, C),
	/*
	 * Fragments at wire rate from a peer that is not the server.  mainline
	 * completes (said plainly in docs/matrix.md), but reassembly alone
	 * holds more reserve-charged pages than Linux's whole reserve.
	 */
	FRAGS(SWAP, NBD, NONE, D, false),
	FRAGS(SWAP, NBD, MAINLINE, C, true),
	FRAGS(SWAP, NBD, ACCOUNTED, C, false),
	FRAGS(MMAP, NBD, NONE, D, false),
	FRAGS(MMAP, NBD, MAINLINE, C, true),
	FRAGS(MMAP, NBD, ACCOUNTED, C, false),
	/*
	 * The same fragments with 6 MiB of RAM: the reassembly bound is now
	 * more than reclaim can refill, and mainline deadlocks.
	 */
	WORLD(MX_FRAGS6, SWAP, NBD, NONE, D, false),
	WORLD(MX_FRAGS6, SWAP, NBD, MAINLINE, D, false),
	WORLD(MX_FRAGS6, SWAP, NBD, ACCOUNTED, C, false),
	WORLD(MX_FRAGS6, MMAP, NBD, NONE, D, false),
	WORLD(MX_FRAGS6, MMAP, NBD, MAINLINE, D, false),
	WORLD(MX_FRAGS6, MMAP, NBD, ACCOUNTED, C, false),
	WORLD(MX_FRAGS6, SWAP, AOE, NONE, D, false),
	WORLD(MX_FRAGS6, SWAP, AOE, MAINLINE, D, false),
	WORLD(MX_FRAGS6, SWAP, AOE, ACCOUNTED, C, false),
	/*
	 * frags while the server stalls: mainline still completes (said
	 * plainly in docs/matrix.md), overdrawing its reserve.
	 */
	WORLD(MX_FSTALL, SWAP, NBD, NONE, D, false),
	WORLD(MX_FSTALL, SWAP, NBD, MAINLINE, C, true),
	WORLD(MX_FSTALL, SWAP, NBD, ACCOUNTED, C, false),
	/*
	 * Issue 14's second memory-critical device on a remote server whose
	 * path loses a segment and then goes silent.  mainline completes in
	 * all three worlds (said plainly in docs/matrix.md, with why); in
	 * remote4 its four flagged connections overdraw Linux's reserve.
	 */
	WORLD(MX_REMOTE, SWAP, NBD, NONE, D, false),
	WORLD(MX_REMOTE, SWAP, NBD, MAINLINE, C, false),
	WORLD(MX_REMOTE, SWAP, NBD, ACCOUNTED, C, false),
	WORLD(MX_REMOTE4, SWAP, NBD, NONE, D, false),
	WORLD(MX_REMOTE4, SWAP, NBD, MAINLINE, C, true),
	WORLD(MX_REMOTE4, SWAP, NBD, ACCOUNTED, C, false),
	WORLD(MX_SPLIT, MIXED, NBD, NONE, D, false),
	WORLD(MX_SPLIT, MIXED, NBD, MAINLINE, C, false),
	WORLD(MX_SPLIT, MIXED, NBD, ACCOUNTED, C, false),
};

const char *matrix_world_name(enum matrix_world w)
{
	switch (w) {
	case MX_FRAGS:
		return "frags";
	case MX_FRAGS6:
		return "frags6";
	case MX_FSTALL:
		return "fstall";
	case MX_REMOTE:
		return "remote";
	case MX_REMOTE4:
		return "remote4";
	case MX_SPLIT:
		return "split";
	default:
		return "base";
	}
}

/* fstall: the storage server holds every request for 1.5 s from 30 ms. */
static const struct fault_schedule matrix_stall = {
	.mask = 1u << FK_STALL,
	.ev = { { .kind = FK_STALL,
		  .at_ns = 30000000ull,
		  .dur_ns = 1500000000ull } },
	.nr = 1,
	.outage_ns = 1500000000ull,
};

#undef ROW
#undef FRAGS
#undef WORLD
#undef CELL
#undef D
#undef C

const unsigned matrix_nr_cells = sizeof(matrix_cells) / sizeof(matrix_cells[0]);

void matrix_cell_scenario(const struct matrix_cell *c, struct scenario *s)
{
	memset(s, 0, sizeof(*s));
	s->workload = c->workload;
	s->proto = c->proto;
	s->noise = c->noise;
	s->policy = c->policy;
	s->seed = 1;
	s->memory = MATRIX_MEMORY;
	s->watchdog_ns = MATRIX_WATCHDOG;
	if (c->world == MX_SPLIT) {
		s->linux_min = true;
		s->remote_devs = 1;
		s->remote_data = true;
		s->remote_hole_ns = 50000000ull;
		s->remote_outage_ns = 1500000000ull;
	} else if (c->world == MX_REMOTE || c->world == MX_REMOTE4) {
		s->linux_min = true;
		s->remote_devs = c->world == MX_REMOTE ? 1 : 4;
		s->remote_hole_ns = 50000000ull;
		s->remote_outage_ns = 3000000000ull;
		/* four volumes' reserves fit the accounted tree from 12 MiB */
		if (c->world == MX_REMOTE4)
			s->memory = 16ull << 20;
	} else if (c->world != MX_BASE) {
		s->frag_pps = 100000;
		s->linux_min = true;
		s->frag_queues = 64; /* 64 x 64 KiB: ipfrag_high_thresh */
	}
	if (c->world == MX_FRAGS6)
		s->memory = 6ull << 20;
	if (c->world == MX_FSTALL)
		s->faults = &matrix_stall;
}

int matrix_run_cell(const struct matrix_cell *c, struct scenario_result *r)
{
	struct scenario s;

	matrix_cell_scenario(c, &s);
	return matrix_run_scenario(&s, r);
}

/* A world running in a child: its pid and the pipe its result comes by. */
struct matrix_child {
	pid_t pid;
	int fd;
};

static int child_start(const struct scenario *s, struct matrix_child *ch)
{
	int fd[2];
	pid_t pid;

	if (pipe(fd))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		struct scenario_result cr;
		ssize_t n = 0;
		int err;

		close(fd[0]);
		err = scenario_run(s, &cr);
		if (!err)
			n = write(fd[1], &cr, sizeof(cr));
		_exit(n == (ssize_t)sizeof(cr) ? 0 : 1);
	}
	close(fd[1]);
	ch->pid = pid;
	ch->fd = fd[0];
	return 0;
}

static int child_finish(struct matrix_child *ch, struct scenario_result *r)
{
	size_t got = 0;
	ssize_t n;
	int status;

	/* a result is larger than PIPE_BUF: it may come in pieces */
	while (got < sizeof(*r) &&
	       (n = read(ch->fd, (char *)r + got, sizeof(*r) - got)) > 0)
		got += (size_t)n;
	close(ch->fd);
	if (waitpid(ch->pid, &status, 0) != ch->pid)
		return -1;
	return got == sizeof(*r) && WIFEXITED(status) &&
			       WEXITSTATUS(status) == 0 ?
		       0 :
		       -1;
}

int matrix_run_scenario(const struct scenario *s, struct scenario_result *r)
{
	struct matrix_child ch;

	if (child_start(s, &ch))
		return -1;
	return child_finish(&ch, r);
}

unsigned matrix_default_jobs(void)
{
	const char *e = getenv("LB_MATRIX_JOBS");
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (e && atoi(e) > 0)
		return (unsigned)atoi(e);
	return n > 1 ? 2 : 1;
}

int matrix_run_cells(const struct matrix_cell *cells, unsigned n,
		     struct scenario_result *r, unsigned jobs)
{
	struct matrix_child ch[MATRIX_JOBS_MAX];
	struct scenario s[MATRIX_JOBS_MAX];
	unsigned next = 0, done = 0;
	int err = 0;

	jobs = jobs < 1 ? 1 : jobs > MATRIX_JOBS_MAX ? MATRIX_JOBS_MAX : jobs;
	/*
	 * Cells are independent worlds, each one seed: running them side by
	 * side changes nothing but the wall time.  Results are collected in
	 * the order of the cells, so slot next % jobs is free again when
	 * cell next - jobs has been collected.
	 */
	while (done < n) {
		while (next < n && next < done + jobs) {
			unsigned k = next % jobs;

			matrix_cell_scenario(&cells[next], &s[k]);
			if (child_start(&s[k], &ch[k])) {
				ch[k].pid = -1;
				ch[k].fd = -1;
			}
			next++;
		}
		if (ch[done % jobs].pid < 0 ||
		    child_finish(&ch[done % jobs], &r[done])) {
			memset(&r[done], 0, sizeof(r[done]));
			err = -1;
		}
		done++;
	}
	return err;
}

static int64_t hwm_of(const struct scenario_result *r, const char *prefix);

bool matrix_cell_ok(const struct matrix_cell *c,
		    const struct scenario_result *r, char *why, size_t len)
{
	if (r->verify_fail) {
		snprintf(why, len, "%llu pages read back wrong",
			 (unsigned long long)r->verify_fail);
		return false;
	}
	if (r->reserve_overrun) {
		snprintf(why, len, "a reserve went past its size");
		return false;
	}
	if (r->heap_delta) {
		snprintf(why, len, "the run took %lld bytes of libc heap",
			 (long long)r->heap_delta);
		return false;
	}
	if (c->overdraws && hwm_of(r, "root") <= r->wmark_min) {
		snprintf(why, len,
			 "expected the reserve overdrawn, used %lld of %lld",
			 (long long)hwm_of(r, "root"), (long long)r->wmark_min);
		return false;
	}
	switch (c->expect) {
	case MX_COMPLETES:
		if (!r->completed) {
			snprintf(why, len, "expected to complete, ended in %s",
				 r->deadlocked ? "a deadlock" :
						 "the time limit");
			return false;
		}
		if (r->io_errors) {
			snprintf(why, len, "completed with %llu I/O errors",
				 (unsigned long long)r->io_errors);
			return false;
		}
		return true;
	case MX_DEADLOCKS:
		if (!r->deadlocked) {
			snprintf(why, len, "expected to deadlock, %s",
				 r->completed ? "completed" :
						"ran into the time limit");
			return false;
		}
		if (!r->cause[0]) {
			snprintf(why, len,
				 "deadlocked, but the watchdog named no cause");
			return false;
		}
		return true;
	}
	snprintf(why, len, "no expectation");
	return false;
}

static const char *outcome(const struct scenario_result *r)
{
	if (r->completed)
		return r->verify_fail ? "completed, DATA LOST" : "completed";
	if (r->deadlocked)
		return "**deadlock**";
	return "time limit";
}

static int64_t hwm_of(const struct scenario_result *r, const char *prefix)
{
	int64_t sum = 0;

	for (unsigned i = 0; i < r->nr_rsv; i++)
		if (!strncmp(r->rsv[i].name, prefix, strlen(prefix)) &&
		    strchr(r->rsv[i].name + strlen(prefix), '.') == NULL)
			sum += r->rsv[i].hwm;
	return sum;
}

void matrix_print_header(FILE *f)
{
	fprintf(f,
		"| world | workload | proto | noise | policy | expected | outcome | pages verified | virtual s | written back | min free | reserve | reserve hwm | block hwm |\n");
	fprintf(f,
		"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

void matrix_print_row(FILE *f, const struct matrix_cell *c,
		      const struct scenario_result *r)
{
	char why[160];

	fprintf(f,
		"| %-6s | %-5s | %-3s | %-3s | %-9s | %-10s | %-20s | %7llu | %5.2f | %6llu | %6lld | %4lld | %5lld | %4lld |%s\n",
		matrix_world_name(c->world), vm_workload_name(c->workload),
		scn_proto_name(c->proto), c->noise ? "on" : "off",
		mm_policy_name(c->policy),
		c->expect == MX_DEADLOCKS ? "deadlocks" :
		c->overdraws		  ? "completes+" :
					    "completes",
		outcome(r), (unsigned long long)r->verify_ok,
		(double)r->virtual_ns / 1e9,
		(unsigned long long)r->written_back, (long long)r->min_free,
		(long long)(c->policy == MM_POLICY_NONE ? 0 : r->wmark_min),
		(long long)hwm_of(r, "root"), (long long)hwm_of(r, "block."),
		matrix_cell_ok(c, r, why, sizeof(why)) ? "" : " UNEXPECTED");
}

enum matrix_world matrix_world_find(const char *name)
{
	for (unsigned w = 0; w < MX_NR; w++)
		if (!strcmp(name, matrix_world_name(w)))
			return w;
	return MX_NR;
}

int matrix_run_all(FILE *f, FILE *out, const char *world)
{
	struct matrix_cell *cells = calloc(matrix_nr_cells, sizeof(*cells));
	struct scenario_result *r = calloc(matrix_nr_cells, sizeof(*r));
	unsigned n = 0;
	int bad = 0;

	if (!r || !cells) {
		free(cells);
		free(r);
		return -1;
	}
	for (unsigned i = 0; i < matrix_nr_cells; i++)
		if (!world ||
		    !strcmp(world, matrix_world_name(matrix_cells[i].world)))
			cells[n++] = matrix_cells[i];
	if (matrix_run_cells(cells, n, r, matrix_default_jobs())) {
		fprintf(stderr, "matrix: a cell did not run\n");
		free(cells);
		free(r);
		return -1;
	}
	matrix_print_header(f);
	if (out)
		matrix_print_header(out);
	for (unsigned i = 0; i < n; i++) {
		const struct matrix_cell *c = &cells[i];
		char why[160];

		matrix_print_row(f, c, &r[i]);
		if (out)
			matrix_print_row(out, c, &r[i]);
		if (!matrix_cell_ok(c, &r[i], why, sizeof(why))) {
			fprintf(stderr,
				"matrix: %s %s %s noise %s policy %s: %s\n",
				matrix_world_name(c->world),
				vm_workload_name(c->workload),
				scn_proto_name(c->proto),
				c->noise ? "on" : "off",
				mm_policy_name(c->policy), why);
			bad++;
		}
	}
	fflush(f);
	free(cells);
	free(r);
	return bad;
}
