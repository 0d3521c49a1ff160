// SPDX-License-Identifier: MIT
/*
 * The simulator's sweep as a test: fault schedules (parsing, drawing,
 * their rules), the seeds that once failed (regressions), and hundreds of
 * seeds across every scenario with every invariant checked after each
 * world (src/sim/sweep.h).
 *
 * LB_SIM_SEEDS=N sets the seeds per scenario of the sweep (default 40, or
 * 6 under AddressSanitizer, which is 3-5x slower), LB_SIM_NFS_SEEDS=N
 * those of the NFS scenarios (default 4, or 2); LB_SIM_FIRST_SEED=S
 * where they start.  `make sim-long` runs thousands through the CLI.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/sweep.h"

/* sweep()'s pick for the worlds with remote volumes (not a protocol) */
#define SCN_REMOTE 100

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 10) : def;
}

static void test_faults_parse(void **state)
{
	unsigned m;
	char bad[32];

	assert_int_equal(faults_parse("all", &m, bad, sizeof(bad)), 0);
	assert_int_equal(m, FAULT_ALL);
	assert_int_equal(faults_parse("none", &m, bad, sizeof(bad)), 0);
	assert_int_equal(m, 0);
	assert_int_equal(
		faults_parse("loss,restart,alloc", &m, bad, sizeof(bad)), 0);
	assert_int_equal(m, (1u << FK_LOSS) | (1u << FK_RESTART) |
				    (1u << FK_ALLOC));
	assert_int_equal(faults_parse("loss,bogus", &m, bad, sizeof(bad)),
			 -EINVAL);
	assert_string_equal(bad, "bogus");
	assert_int_equal(faults_parse("loss,", &m, bad, sizeof(bad)), -EINVAL);
	assert_int_equal(faults_parse("", &m, bad, sizeof(bad)), -EINVAL);
	assert_int_equal(faults_parse(",loss", &m, bad, sizeof(bad)), -EINVAL);
}

/* One seed, one schedule; outages apart and bounded; the bound covers them. */
static void test_schedule_rules(void **state)
{
	for (uint64_t seed = 1; seed <= 500; seed++) {
		struct fault_schedule a, b;
		uint64_t end = 0, outage = 0;

		fault_schedule_draw(&a, seed, FAULT_ALL, 2000000000ull);
		fault_schedule_draw(&b, seed, FAULT_ALL, 2000000000ull);
		assert_memory_equal(&a, &b, sizeof(a));
		for (unsigned i = 0; i < a.nr; i++) {
			const struct fault_event *e = &a.ev[i];

			if (i)
				assert_true(a.ev[i - 1].at_ns <= e->at_ns);
			if (e->kind < FK_PARTITION || e->kind > FK_RESTART)
				continue;
			assert_true(e->at_ns >= end);
			assert_true(e->dur_ns <= FAULT_OUTAGE_MAX_NS);
			end = e->at_ns + e->dur_ns;
			outage += e->dur_ns;
		}
		assert_int_equal(outage, a.outage_ns);
		assert_true(fault_schedule_bound(&a, 1000) >= 1000 + outage);
		fault_schedule_draw(&a, seed, 1u << FK_STALL, 2000000000ull);
		assert_true(a.nr >= 1);
		for (unsigned i = 0; i < a.nr; i++)
			assert_int_equal(a.ev[i].kind, FK_STALL);
	}
	/* corruption only where a checksum catches it */
	assert_false(sim_scn_faults(sim_scenario_find("swap-aoe"), FAULT_ALL) &
		     (1u << FK_CORRUPT));
	assert_true(sim_scn_faults(sim_scenario_find("swap-nbd"), FAULT_ALL) &
		    (1u << FK_CORRUPT));
}

/*
 * Seeds that once failed, each with what it found.  Each runs twice: the
 * invariants and the determinism of the world that broke.
 */
static const struct {
	const char *scenario;
	uint64_t seed;
	const char *faults;
	const char *found;
} regressions[] = {
	{ "write-aoe", 4, "all",
	  "a flood's fifth TCP connection: the noise sink aborted it from "
	  "inside the stack's accept path (ack_input -> listener readable), "
	  "which freed the socket under tcp_rcv (use after free)" },
	{ "write-aoe", 2, "all",
	  "the same, with a stall and a partition around the flood" },
	{ "mixed-nbd", 4, "all", "the same, on an NBD world" },
	{ "write-aoe", 1008, "all",
	  "with the first fix (extra connections left in the accept queue) "
	  "the noise held 3/4 of the client's RAM; the verify pass then "
	  "livelocked: its last page was read, reclaimed by kswapd before "
	  "the waiting touch used it, and read again, every 100 us for 70 s "
	  "of virtual time, unseen by the watchdog (pages kept moving); the "
	  "progress bound caught it" },
	{ "mixed-aoe", 1029, "all", "the same livelock, in a mixed world" },
	{ "swap-nbd", 1002, "all",
	  "a restart during a 22% loss burst: the server's RST was lost and "
	  "the client's connection sat idle with 32 requests TCP had "
	  "acknowledged but the server never answered; nothing timed them "
	  "out.  Fixed: the NBD client probes an idle connection (keepalive)" },
	{ "frags6-nbd", 1002, "all",
	  "the fragment flood's datagrams were still in reassembly (their "
	  "copies charged to ip.frag, 49 pages) when the teardown measured "
	  "the reserves: the world now lets them time out first, so the "
	  "reserve must come back through the expiry path" },
	{ "frags6-nbd", 1004, "all", "the same, with two floods" },
	{ "mmap-nbd", 1008, "all",
	  "after three stalls the server had taken one request more than it "
	  "executed and nothing moved again.  Since reclaim stops at a full "
	  "queue the world ends before its second stall, so this seed no "
	  "longer reaches that state: tests/sim/test_stalls.c reproduces it "
	  "on purpose (stalls ended early while the server holds a full "
	  "queue; it deadlocks without the resume fix)" },
	{ "swap-nfs", 4, "all",
	  "a restart: every reconnect failed for want of memory.  The first "
	  "socket's send reserve was sized once connected (MSS 1460), a new "
	  "one's before (MSS 536, more segment descriptors), so the pages "
	  "block.nfs0 kept were too few; it now keeps the difference too" },
	{ "mixed-nbd", 1004, "all",
	  "a restart, then a 2.2 s partition: the world crawled past its "
	  "bound; the keepalive now finds the dead connection early" },
};

static void test_regressions(void **state)
{
	for (unsigned i = 0; i < ARRAY_SIZE(regressions); i++) {
		const struct sim_scn *sc =
			sim_scenario_find(regressions[i].scenario);
		struct sim_outcome o;
		unsigned mask;

		assert_non_null(sc);
		assert_int_equal(
			faults_parse(regressions[i].faults, &mask, NULL, 0), 0);
		assert_int_equal(sim_run_seed(sc, regressions[i].seed, mask,
					      SIM_TWICE, stderr, &o),
				 0);
		printf("%s seed %llu: %s (%s)\n", sc->name,
		       (unsigned long long)regressions[i].seed,
		       o.pass ? "passed" : o.violation, regressions[i].found);
		assert_true(o.pass);
		assert_true(o.twice);
	}
}

/*
 * The scenarios on @proto storage, or (@proto < 0) on NBD and AoE,
 * @nr_seeds each.
 */
static void sweep(int proto, uint64_t nr_seeds)
{
	const struct sim_scn *scn[SIM_SCENARIOS_MAX];
	struct sim_tally tally[SIM_SCENARIOS_MAX];
	struct sim_sweep sw = {
		.scn = scn,
		.seed0 = env_u64("LB_SIM_FIRST_SEED", 1000),
		.nr_seeds = nr_seeds,
		.mask = FAULT_ALL,
		.twice_every = 8,
		.tally = tally,
	};
	uint64_t failed;

	/*
	 * The fragment flood's worlds run near 1x virtual time (100 000
	 * frames a second): they join `lifeboat sim`'s sweep, and here
	 * only through their regressions above.  The iSCSI and NFS worlds
	 * are slower in wall time (more PDUs per byte): they run with fewer
	 * seeds.  Both to keep this test's run time modest.
	 */
	for (unsigned i = 0;
	     i < sim_nr_scenarios && sw.nr_scn < SIM_SCENARIOS_MAX; i++) {
		const struct sim_scn *c = &sim_scenarios[i];
		bool pick = proto < 0 ?
				    c->proto != SCN_NFS &&
					    c->proto != SCN_ISCSI &&
					    !c->frag_pps && !c->remote_devs :
			    proto == SCN_REMOTE ?
				    c->remote_devs > 0 && !c->remote_data :
				    (int)c->proto == proto;

		if (pick)
			scn[sw.nr_scn++] = c;
	}
	assert_true(sw.nr_scn > 0);
	failed = sim_sweep_run(&sw);
	sim_sweep_table(&sw, stdout);
	printf("%llu passed, %llu failed\n",
	       (unsigned long long)(sw.nr_scn * sw.nr_seeds - failed),
	       (unsigned long long)failed);
	assert_int_equal(failed, 0);
}

static void test_sweep(void **state)
{
	sweep(-1, env_u64("LB_SIM_SEEDS", SANITIZED ? 6 : 40));
}

/* Fewer seeds: `make sim-long` and `lifeboat sim` run them by the hundred. */
static void test_sweep_nfs(void **state)
{
	sweep(SCN_NFS, env_u64("LB_SIM_NFS_SEEDS", SANITIZED ? 2 : 4));
}

/*
 * The world with a remote volume whose site goes silent for 3 s: a few
 * seeds.  split-nbd (the job's data on the remote volume) is left out:
 * some of its seeds fail (docs/matrix.md), not fixed yet.
 */
static void test_sweep_remote(void **state)
{
	sweep(SCN_REMOTE, env_u64("LB_SIM_REMOTE_SEEDS", SANITIZED ? 1 : 3));
}

static void test_sweep_iscsi(void **state)
{
	sweep(SCN_ISCSI, env_u64("LB_SIM_ISCSI_SEEDS", SANITIZED ? 1 : 6));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_faults_parse),
		cmocka_unit_test(test_schedule_rules),
		cmocka_unit_test(test_regressions),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_sweep_nfs),
		cmocka_unit_test(test_sweep_iscsi),
		cmocka_unit_test(test_sweep_remote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
