// SPDX-License-Identifier: MIT
/*
 * Allocation failure at every site (SQLite style), as a test: one run of
 * a scenario counts the client's allocation sites the run reaches, then
 * each site fails on its first call (every invariant must hold: the world
 * completes, reads back every page right, fails no I/O, keeps every
 * reserve within its size and tears down with nothing leaked), then on
 * every call from the first on (the world may stop: an essential
 * allocation failing for good legitimately ends progress, as a deadlock,
 * a livelock or the time limit; it must still not crash, lose data, fail
 * I/O or overrun a reserve, and if it completes it must tear down
 * cleanly).  See sim_sites_sweep() in src/sim/sweep.h.
 *
 * LB_SIM_SITES_SCENARIO=NAME picks the scenario (default mixed-nbd: swap,
 * a shared mapping and the page cache over NBD, the most sites);
 * LB_SIM_MAX_SITES=N sweeps at most N of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include "sim/sweep.h"

/* a restart and losses reach the reconnect and retransmission paths */
#define SITES_FAULTS                                                    \
	((1u << FK_RESTART) | (1u << FK_PARTITION) | (1u << FK_STALL) | \
	 (1u << FK_LOSS) | (1u << FK_DUP) | (1u << FK_REORDER))

static void test_every_site(void **state)
{
	const char *name = getenv("LB_SIM_SITES_SCENARIO");
	const char *max = getenv("LB_SIM_MAX_SITES");
	const struct sim_scn *sc =
		sim_scenario_find(name && *name ? name : "mixed-nbd");
	unsigned n = 0;
	long failed;

	assert_non_null(sc);
	failed = sim_sites_sweep(sc, 1, SITES_FAULTS, stdout,
				 max ? (unsigned)strtoul(max, NULL, 10) : 0,
				 &n);
	printf("%s: %u sites, %u runs: %ld passed, %ld failed\n", sc->name, n,
	       2 * n, 2 * (long)n - failed, failed);
	assert_true(n > 5);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_site),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
