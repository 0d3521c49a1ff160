// SPDX-License-Identifier: MIT
/*
 * Scripted server stalls: the state the simulator's seed mmap-nbd 1008 once
 * reached by chance, reproduced on purpose.
 *
 * That seed ended with the NBD server holding requests it had taken from
 * the connection but never executed, the client's whole queue waiting for
 * their replies, and nothing moving again: a stall that ended early
 * cancelled the server's resume timer, and nothing else would run the held
 * connections (the client had nothing more to send; the server's TCP, live,
 * answered the keepalive probes).  The seed stopped reaching that state when
 * reclaim changed; this test makes it happen every time: a long stall is
 * begun while write-back is in full flight and ended early, three times,
 * and the world must still complete with every page verified.  Without the
 * fix (nbd_server_set_stall() re-arming the resume timer when a stall ends
 * early) the watchdog fires instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "core/compiler.h"
#include "sim/matrix.h"
#include "sim/sweep.h"

static void stall(struct fault_schedule *fs, uint64_t at, uint64_t dur)
{
	fs->ev[fs->nr++] = (struct fault_event){ .kind = FK_STALL,
						 .at_ns = at,
						 .dur_ns = dur };
}

static void test_stall_ended_early_resumes(void **state)
{
	const struct sim_scn *sc = sim_scenario_find("mmap-nbd");
	struct fault_schedule fs = { .mask = 1u << FK_STALL };
	struct scenario s;
	struct scenario_result r;
	char why[200];

	assert_non_null(sc);
	/*
	 * Three 2 s stalls, each ended after 10 ms by a stall of length 0
	 * (the operator resuming the server): the server then holds what
	 * the client sent meanwhile, a full queue.
	 */
	for (unsigned i = 0; i < 3; i++) {
		uint64_t at = (5 + 25 * i) * NSEC_PER_MSEC;

		stall(&fs, at, 2 * NSEC_PER_SEC);
		stall(&fs, at + 10 * NSEC_PER_MSEC, 0);
	}
	sim_scn_world(sc, 1008, &fs, &s);
	assert_int_equal(matrix_run_scenario(&s, &r), 0);
	printf("mmap-nbd, stalls ended early: %s, %llu pages verified, "
	       "%llu stalls, %.2f virtual s%s%s\n",
	       r.completed  ? "completed" :
	       r.deadlocked ? "deadlock" :
			      "time limit",
	       (unsigned long long)r.verify_ok, (unsigned long long)r.stalls,
	       (double)r.virtual_ns / 1e9, r.cause[0] ? ": " : "", r.cause);
	assert_int_equal(r.stalls, 6);
	if (scenario_violation(&r, false, why, sizeof(why)))
		fail_msg("%s", why);
	assert_true(r.completed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stall_ended_early_resumes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
