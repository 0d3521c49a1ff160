// SPDX-License-Identifier: MIT
/*
 * The scenario matrix: workload (swap, mmap, write) x protocol (NBD, AoE) x
 * noise (off, on) x policy (none, mainline, accounted), each a whole world
 * on the simulated switch, each in a child process (a deadlocked world
 * cannot be torn down).  It prints the table docs/matrix.md shows and
 * checks what each policy must do:
 *  - accounted completes every cell with every page verified, and no
 *    reserve ever went past its size;
 *  - none deadlocks in the seed's cells (swap and mmap, with noise), and
 *    the watchdog says why;
 *  - no cell, under any policy, ever reads back a wrong page.
 * LB_MATRIX_OUT=FILE also writes the table there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sim/scenario.h"

/* Small worlds, so the sanitizer build runs the 36 of them in minutes. */
#define MATRIX_MEMORY (8ull << 20)
#define MATRIX_WATCHDOG 2000000000ull

static const enum vm_workload_kind workloads[] = { VM_WL_SWAP, VM_WL_MMAP,
						   VM_WL_WRITE };
static const enum mm_policy policies[] = { MM_POLICY_NONE, MM_POLICY_MAINLINE,
					   MM_POLICY_ACCOUNTED };

/* Run @s in a child; its result comes back through a pipe. */
static int run_cell(const struct scenario *s, struct scenario_result *r)
{
	int fd[2];
	pid_t pid;
	ssize_t n;
	int status;

	assert_int_equal(pipe(fd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct scenario_result cr;
		int err = scenario_run(s, &cr);

		if (err)
			memset(&cr, 0xff, sizeof(cr));
		n = write(fd[1], &cr, sizeof(cr));
		_exit(n == (ssize_t)sizeof(cr) && !err ? 0 : 1);
	}
	close(fd[1]);
	n = read(fd[0], r, sizeof(*r));
	close(fd[0]);
	waitpid(pid, &status, 0);
	return n == (ssize_t)sizeof(*r) && WIFEXITED(status) &&
			       WEXITSTATUS(status) == 0 ?
		       0 :
		       -1;
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

static void print_row(FILE *f, const struct scenario *s,
		      const struct scenario_result *r)
{
	fprintf(f,
		"| %-5s | %-3s | %-3s | %-9s | %-20s | %7llu | %5.2f | %6llu | %6lld | %5lld | %4lld |\n",
		vm_workload_name(s->workload), scn_proto_name(s->proto),
		s->noise ? "on" : "off", mm_policy_name(s->policy), outcome(r),
		(unsigned long long)r->verify_ok, (double)r->virtual_ns / 1e9,
		(unsigned long long)r->written_back, (long long)r->min_free,
		(long long)hwm_of(r, "root"), (long long)hwm_of(r, "block."));
}

static void test_matrix(void **state)
{
	const char *path = getenv("LB_MATRIX_OUT");
	FILE *out = path ? fopen(path, "w") : NULL;
	unsigned cells = 0, none_deadlocks = 0;

	printf("| workload | proto | noise | policy | outcome | pages verified | virtual s | written back | min free | reserve hwm | block hwm |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
	if (out) {
		fprintf(out,
			"| workload | proto | noise | policy | outcome | pages verified | virtual s | written back | min free | reserve hwm | block hwm |\n");
		fprintf(out, "|---|---|---|---|---|---|---|---|---|---|---|\n");
	}
	for (unsigned wl = 0; wl < 3; wl++)
		for (unsigned proto = 0; proto < 2; proto++)
			for (unsigned noise = 0; noise < 2; noise++)
				for (unsigned p = 0; p < 3; p++) {
					struct scenario s = {
						.workload = workloads[wl],
						.proto = proto ? SCN_AOE :
								 SCN_NBD,
						.noise = noise,
						.policy = policies[p],
						.seed = 1,
						.memory = MATRIX_MEMORY,
						.watchdog_ns = MATRIX_WATCHDOG,
					};
					struct scenario_result r;

					assert_int_equal(run_cell(&s, &r), 0);
					cells++;
					print_row(stdout, &s, &r);
					if (out)
						print_row(out, &s, &r);
					fflush(stdout);
					/* never a wrong page, whatever the policy */
					assert_int_equal(r.verify_fail, 0);
					assert_false(r.reserve_overrun);
					if (s.policy == MM_POLICY_ACCOUNTED) {
						assert_true(r.completed);
						assert_int_equal(r.io_errors,
								 0);
					}
					if (s.policy == MM_POLICY_NONE &&
					    noise &&
					    s.workload != VM_WL_WRITE) {
						/* the seed's cells */
						assert_true(r.deadlocked);
						assert_true(r.cause[0] != 0);
					}
					if (s.policy == MM_POLICY_NONE &&
					    r.deadlocked)
						none_deadlocks++;
				}
	if (out)
		fclose(out);
	assert_int_equal(cells, 36);
	printf("none deadlocked in %u of 12 cells\n", none_deadlocks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
