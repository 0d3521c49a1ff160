// SPDX-License-Identifier: MIT
/*
 * The reserve plot (scenario.plot, `lifeboat sim --plot`): the world
 * `remote` under accounted, sampled every millisecond of virtual time.
 * The table must name every reserve of the client as a column, never show
 * a consumer above its reserve's size nor the root above its high-water
 * mark, and show the remote connection's receive reserve holding the data
 * behind the lost segment while its site is silent: the figure the plot
 * exists to show.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/matrix.h"

#define COLS_MAX 64

static const struct scn_reserve *rsv_of(const struct scenario_result *r,
					const char *name)
{
	for (unsigned i = 0; i < r->nr_rsv; i++)
		if (!strcmp(r->rsv[i].name, name))
			return &r->rsv[i];
	return NULL;
}

static void test_plot_remote(void **state)
{
	const struct matrix_cell *c = NULL;
	struct scenario_result r;
	struct scenario s;
	char *buf = NULL, *line, *save = NULL;
	char *cols[COLS_MAX];
	long max[COLS_MAX] = { 0 };
	size_t len = 0;
	unsigned ncols = 0, rows = 0, rxq_held = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	for (unsigned i = 0; i < matrix_nr_cells && !c; i++)
		if (matrix_cells[i].world == MX_REMOTE &&
		    matrix_cells[i].policy == MM_POLICY_ACCOUNTED)
			c = &matrix_cells[i];
	assert_non_null(c);
	matrix_cell_scenario(c, &s);
	s.plot = f;
	assert_int_equal(scenario_run(&s, &r), 0);
	assert_int_equal(fclose(f), 0);
	assert_true(r.completed);
	assert_int_equal(r.partitions, 1); /* the remote site went silent */
	assert_true(r.remote_reads > 0);

	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *tok, *sv = NULL;
		unsigned k = 0;

		if (line[0] == '#')
			continue;
		if (!ncols) {
			for (tok = strtok_r(line, "\t", &sv);
			     tok && ncols < COLS_MAX;
			     tok = strtok_r(NULL, "\t", &sv))
				cols[ncols++] = tok;
			assert_string_equal(cols[0], "t_s");
			assert_string_equal(cols[3], "root");
			continue;
		}
		for (tok = strtok_r(line, "\t", &sv); tok && k < ncols;
		     tok = strtok_r(NULL, "\t", &sv), k++) {
			long v = strtol(tok, NULL, 10);

			if (k >= 3 && v > max[k])
				max[k] = v;
		}
		assert_int_equal(k, ncols);
		rows++;
	}
	/* a row a millisecond from the start to the end (87 ms) */
	assert_true(rows > 50);
	/* every reserve of the client is a column */
	for (unsigned i = 0; i < r.nr_rsv; i++) {
		bool found = false;

		for (unsigned k = 3; k < ncols; k++)
			found |= !strcmp(cols[k], r.rsv[i].name);
		assert_true(found);
	}
	for (unsigned k = 3; k < ncols; k++) {
		const struct scn_reserve *x = rsv_of(&r, cols[k]);

		assert_non_null(x);
		assert_true(max[k] <= x->hwm);
		assert_true(max[k] <= x->size);
		printf("%-14s peak %4ld of %4lld pages (hwm %lld)\n", cols[k],
		       max[k], (long long)x->size, (long long)x->hwm);
		/* the connections' receive reserves: the remote one's holds */
		if (!strncmp(cols[k], "net.rxq.", 8) && max[k] > 16)
			rxq_held++;
	}
	assert_true(rxq_held >= 1);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plot_remote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
