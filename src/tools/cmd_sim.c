// SPDX-License-Identifier: MIT
/*
 * cmd_sim.c - `lifeboat sim`: whole worlds in virtual time, one per seed,
 * each with a fault schedule drawn from its seed, the invariants checked
 * after each (src/sim/sweep.h).  Exit status: 0 every world passed, 1 some
 * world failed, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "args.h"
#include "commands.h"
#include "sim/matrix.h"
#include "sim/sweep.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lifeboat sim [--scenario NAME|all] [--seeds N | --seed S]\n"
		"                    [--first-seed S] [--faults LIST] [--json FILE]\n"
		"                    [--twice-every N] [--sites [--max-sites N]] [--bench]\n"
		"                    [--verbose]\n"
		"       lifeboat sim --matrix [--world NAME]\n"
		"       lifeboat sim --plot FILE --world NAME [--policy P]\n"
		"\n"
		"Runs whole worlds (client with pager and workload, NBD, AoE, iSCSI\n"
		"or NFS server, noise host, simulated switch) in virtual time, one per seed, with a\n"
		"fault schedule drawn from the seed, and checks after each: forward\n"
		"progress within a bound derived from the schedule, data integrity (no\n"
		"page read back wrong, no I/O error), reserve bounds, a clean teardown\n"
		"(reserves back to zero, no page leaked) and, on every Nth seed,\n"
		"determinism (two runs, one digest).\n"
		"\n"
		"  --scenario NAME|all  one of the scenarios below, or all (default)\n"
		"  --seeds N            seeds first-seed .. first-seed+N-1 (default 20)\n"
		"  --first-seed S       the first seed of --seeds (default 1)\n"
		"  --seed S             exactly seed S, run twice, with its schedule:\n"
		"                       reproduces a failure\n"
		"  --faults LIST        comma list of fault kinds, all (default) or none:\n"
		"                       loss,dup,reorder,corrupt,latency,partition,\n"
		"                       stall,restart,flood,alloc\n"
		"  --json FILE          every world's outcome and the totals as JSON\n"
		"  --twice-every N      check determinism on seeds divisible by N\n"
		"                       (default 8; 0: never)\n"
		"  --sites              allocation failure at every site of the client\n"
		"                       (once, then always), for one scenario and seed\n"
		"                       (--seed, default 1) with --faults (default none)\n"
		"  --max-sites N        sweep at most N sites\n"
		"  --verbose            with --seed: the watchdog's full report and the\n"
		"                       client's trace and statistics if it fires\n"
		"  --matrix             run the scenario matrix (docs/matrix.md): every\n"
		"                       cell under none, mainline and accounted, one\n"
		"                       table row each; exit 0 only if every cell ends\n"
		"                       as the matrix expects (accounted completes)\n"
		"  --world NAME         with --matrix: only that world's cells\n"
		"                       (base, frags, frags6, fstall, remote, remote4)\n"
		"  --plot FILE          run the world's cell under --policy (none,\n"
		"                       mainline, accounted: default) and write the\n"
		"                       reserve pages in use per consumer, every 1 ms\n"
		"                       of virtual time, to FILE (TSV), and FILE.gp\n"
		"  --bench              print BENCH lines: seeds per second and the\n"
		"                       virtual-to-wall ratio of %s\n"
		"\nscenarios (noise on, policy accounted):",
		SIM_DEFAULT_SCENARIO);
	for (unsigned i = 0; i < sim_nr_scenarios; i++)
		fprintf(out, " %s", sim_scenarios[i].name);
	fprintf(out, "\n");
}

static int bench(void)
{
	const struct sim_scn *sc = sim_scenario_find(SIM_DEFAULT_SCENARIO);
	uint64_t vns = 0, wns = 0;
	const unsigned seeds = 8;

	for (unsigned i = 1; i <= seeds; i++) {
		struct sim_outcome o;

		if (sim_run_seed(sc, i, FAULT_ALL, 0, stderr, &o) || !o.pass) {
			fprintf(stderr, "sim: bench seed %u failed\n", i);
			return 1;
		}
		vns += o.r.virtual_ns;
		wns += o.wall_ns;
	}
	printf("BENCH sim.%s.seeds_per_s %.2f seeds/s\n", sc->name,
	       (double)seeds * 1e9 / (double)wns);
	printf("BENCH sim.%s.virtual_wall_ratio %.2f ratio\n", sc->name,
	       (double)vns / (double)wns);
	return 0;
}

static int one_seed(const struct sim_scn *sc, uint64_t seed, unsigned mask,
		    bool verbose)
{
	struct fault_schedule fs;
	struct sim_outcome o;
	int err;

	fault_schedule_draw(&fs, seed, sim_scn_faults(sc, mask),
			    sc->horizon_ns);
	printf("%s seed %llu\n", sc->name, (unsigned long long)seed);
	fault_schedule_print(&fs, stdout);
	err = sim_run_seed(sc, seed, mask,
			   SIM_TWICE | (verbose ? SIM_VERBOSE : 0), stderr, &o);
	if (err) {
		fprintf(stderr, "lifeboat sim: %s\n", strerror(-err));
		return 1;
	}
	printf("  %s: %llu pages verified, %llu written back, %.3f s virtual, %.3f s wall\n",
	       o.pass ? "passed" : "FAILED", (unsigned long long)o.r.verify_ok,
	       (unsigned long long)o.r.written_back,
	       (double)o.r.virtual_ns / 1e9, (double)o.wall_ns / 1e9);
	printf("  faults applied: %llu restarts, %llu stalls, %llu partitions, %llu floods, %llu allocations failed, %llu frames lost, %llu duplicated, %llu reordered, %llu corrupted\n",
	       (unsigned long long)o.r.restarts, (unsigned long long)o.r.stalls,
	       (unsigned long long)o.r.partitions,
	       (unsigned long long)o.r.floods, (unsigned long long)o.r.injected,
	       (unsigned long long)o.r.frames_lost,
	       (unsigned long long)o.r.frames_dup,
	       (unsigned long long)o.r.frames_reordered,
	       (unsigned long long)o.r.frames_corrupted);
	if (sc->proto == SCN_NFS)
		printf("  nfs: %llu UNSTABLE writes lost in restarts (sent again after the verifier changed)\n",
		       (unsigned long long)o.r.nfs_lost_writes);
	printf("  digest %016llx%s\n", (unsigned long long)o.r.digest,
	       o.twice ? " (twice)" : "");
	if (!o.pass)
		printf("  violated: %s\n", o.violation);
	printf("%d passed, %d failed\n", o.pass, !o.pass);
	return o.pass ? 0 : 1;
}

/*
 * --plot FILE: one matrix cell (the first of @world under @policy) run in
 * this process, its reserve use per consumer written to FILE as TSV, and a
 * gnuplot script beside it (FILE.gp).
 */
static int plot_cell(const char *path, const char *world, const char *policy)
{
	const struct matrix_cell *c = NULL;
	struct scenario_result r;
	struct scenario s;
	char gp[4096];
	FILE *f, *g;
	int err;

	if (!world)
		return usage_error("sim", "--plot needs --world NAME");
	for (unsigned i = 0; i < matrix_nr_cells && !c; i++)
		if (!strcmp(world, matrix_world_name(matrix_cells[i].world)) &&
		    !strcmp(policy ? policy : "accounted",
			    mm_policy_name(matrix_cells[i].policy)))
			c = &matrix_cells[i];
	if (!c)
		return usage_error(
			"sim",
			"--plot: world '%s' has no cell under policy '%s' (none, mainline or accounted)",
			world, policy ? policy : "accounted");
	f = fopen(path, "w");
	if (!f)
		return usage_error("sim", "--plot: cannot write '%s': %s", path,
				   strerror(errno));
	matrix_cell_scenario(c, &s);
	s.plot = f;
	err = scenario_run(&s, &r);
	fclose(f);
	if (err) {
		fprintf(stderr, "lifeboat sim: %s\n", strerror(-err));
		return 1;
	}
	snprintf(gp, sizeof(gp), "%s.gp", path);
	g = fopen(gp, "w");
	if (!g)
		return usage_error("sim", "--plot: cannot write '%s': %s", gp,
				   strerror(errno));
	fprintf(g,
		"# gnuplot %s: reserve pages in use per consumer, world %s, policy %s\n"
		"set datafile separator '\\t'\n"
		"set key autotitle columnhead outside\n"
		"set xlabel 'virtual seconds'\n"
		"set ylabel 'pages'\n"
		"set title 'world %s, policy %s: %s'\n"
		"set terminal pngcairo size 1000,500\n"
		"set output '%s.png'\n"
		"plot for [i=2:*] '%s' using 1:i with steps\n",
		gp, world, mm_policy_name(c->policy), world,
		mm_policy_name(c->policy),
		r.completed  ? "completed" :
		r.deadlocked ? "deadlock" :
			       "time limit",
		path, path);
	fclose(g);
	printf("world %s policy %s: %s, %llu pages verified, %.2f virtual s; %s and %s written\n",
	       world, mm_policy_name(c->policy),
	       r.completed  ? "completed" :
	       r.deadlocked ? "deadlock" :
			      "time limit",
	       (unsigned long long)r.verify_ok, (double)r.virtual_ns / 1e9,
	       path, gp);
	return 0;
}

int cmd_sim(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 'S' },
		{ "seeds", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "first-seed", required_argument, NULL, 'f' },
		{ "faults", required_argument, NULL, 'F' },
		{ "json", required_argument, NULL, 'j' },
		{ "twice-every", required_argument, NULL, 't' },
		{ "sites", no_argument, NULL, 'A' },
		{ "max-sites", required_argument, NULL, 'm' },
		{ "bench", no_argument, NULL, 'b' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "matrix", no_argument, NULL, 'M' },
		{ "world", required_argument, NULL, 'W' },
		{ "plot", required_argument, NULL, 'P' },
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct sim_scn *scn[SIM_SCENARIOS_MAX];
	struct sim_tally tally[SIM_SCENARIOS_MAX];
	struct sim_sweep sw = { .seed0 = 1,
				.mask = FAULT_ALL,
				.twice_every = 8 };
	const char *name = "all", *json = NULL;
	uint64_t seeds = 20, seed = 0, max_sites = 0, v;
	bool have_seed = false, have_seeds = false, sites = false;
	bool do_bench = false, have_faults = false, verbose = false;
	bool matrix = false;
	const char *world = NULL, *plot = NULL, *policy = NULL;
	unsigned others = 0; /* options other than --matrix/--plot's */
	char bad[64];
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != 'M' && c != 'W' && c != 'P' && c != 'p')
			others++;
		switch (c) {
		case 'S':
			name = optarg;
			break;
		case 'n':
			if (parse_u64(optarg, &seeds) || !seeds)
				return usage_error(
					"sim",
					"--seeds takes a positive count, not '%s'",
					optarg);
			have_seeds = true;
			break;
		case 's':
			if (parse_u64(optarg, &seed))
				return usage_error(
					"sim",
					"--seed takes a number, not '%s'",
					optarg);
			have_seed = true;
			break;
		case 'f':
			if (parse_u64(optarg, &sw.seed0))
				return usage_error(
					"sim",
					"--first-seed takes a number, not '%s'",
					optarg);
			break;
		case 'F':
			have_faults = true;
			if (faults_parse(optarg, &sw.mask, bad, sizeof(bad)))
				return usage_error(
					"sim",
					"--faults: unknown fault kind '%s' (say all, none or a comma list of loss,dup,reorder,corrupt,latency,partition,stall,restart,flood,alloc)",
					bad);
			break;
		case 'j':
			json = optarg;
			break;
		case 't':
			if (parse_u64(optarg, &v) || v > 1000000)
				return usage_error(
					"sim",
					"--twice-every takes a count, not '%s'",
					optarg);
			sw.twice_every = (unsigned)v;
			break;
		case 'A':
			sites = true;
			break;
		case 'm':
			if (parse_u64(optarg, &max_sites) || !max_sites)
				return usage_error(
					"sim",
					"--max-sites takes a positive count, not '%s'",
					optarg);
			break;
		case 'b':
			do_bench = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'M':
			matrix = true;
			break;
		case 'W':
			if (matrix_world_find(optarg) == MX_NR)
				return usage_error(
					"sim",
					"--world: unknown world '%s' (see --help)",
					optarg);
			world = optarg;
			break;
		case 'P':
			plot = optarg;
			break;
		case 'p':
			policy = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("sim", "%s needs a value",
					   argv[optind - 1]);
		default:
			return usage_error("sim", "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("sim", "unexpected argument '%s'",
				   argv[optind]);
	if (have_seed && have_seeds)
		return usage_error("sim", "--seed and --seeds are exclusive");
	if (plot) {
		if (others || matrix)
			return usage_error(
				"sim",
				"--plot takes --world and --policy only");
		return plot_cell(plot, world, policy);
	}
	if (policy)
		return usage_error("sim", "--policy goes with --plot");
	if (matrix) {
		unsigned n = 0;
		int unexpected;

		if (others)
			return usage_error(
				"sim", "--matrix takes no option but --world");
		for (unsigned i = 0; i < matrix_nr_cells; i++)
			if (!world ||
			    !strcmp(world,
				    matrix_world_name(matrix_cells[i].world)))
				n++;
		unexpected = matrix_run_all(stdout, NULL, world);
		if (unexpected < 0)
			return 1;
		printf("matrix: %u cells, %u as expected, %d not\n", n,
		       n - (unsigned)unexpected, unexpected);
		return unexpected ? 1 : 0;
	}
	if (world)
		return usage_error("sim",
				   "--world goes with --matrix or --plot");
	if (!strcmp(name, "all")) {
		for (unsigned i = 0; i < sim_nr_scenarios; i++)
			scn[i] = &sim_scenarios[i];
		sw.nr_scn = sim_nr_scenarios;
	} else {
		scn[0] = sim_scenario_find(name);
		if (!scn[0])
			return usage_error("sim",
					   "unknown scenario '%s' (see --help)",
					   name);
		sw.nr_scn = 1;
	}
	if (do_bench)
		return bench();
	if (sites) {
		unsigned n = 0;
		long failed;

		if (sw.nr_scn != 1)
			return usage_error(
				"sim",
				"--sites runs one scenario: say --scenario NAME");
		failed = sim_sites_sweep(scn[0], have_seed ? seed : 1,
					 have_faults ? sw.mask : 0, stdout,
					 (unsigned)max_sites, &n);
		if (failed < 0) {
			fprintf(stderr, "lifeboat sim: %s\n",
				strerror((int)-failed));
			return 1;
		}
		printf("%u sites, %u runs: %ld passed, %ld failed\n", n, 2 * n,
		       2 * (long)n - failed, failed);
		return failed ? 1 : 0;
	}
	if (have_seed) {
		if (sw.nr_scn != 1) {
			int rc = 0;

			for (unsigned i = 0; i < sw.nr_scn; i++)
				rc |= one_seed(scn[i], seed, sw.mask, verbose);
			return rc;
		}
		return one_seed(scn[0], seed, sw.mask, verbose);
	}
	sw.scn = scn;
	sw.tally = tally;
	sw.nr_seeds = seeds;
	sw.progress = isatty(STDERR_FILENO);
	if (json) {
		sw.json = fopen(json, "w");
		if (!sw.json)
			return usage_error("sim",
					   "--json: cannot write '%s': %s",
					   json, strerror(errno));
	}
	uint64_t failed = sim_sweep_run(&sw);

	if (sw.json)
		fclose(sw.json);
	sim_sweep_table(&sw, stdout);
	printf("%llu passed, %llu failed\n",
	       (unsigned long long)(sw.nr_scn * seeds - failed),
	       (unsigned long long)failed);
	return failed ? 1 : 0;
}
