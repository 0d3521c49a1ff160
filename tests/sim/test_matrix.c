// SPDX-License-Identifier: MIT
/*
 * The scenario matrix (src/sim/matrix.c): workload (swap, mmap, write) x
 * protocol (NBD, AoE; iSCSI and NFS with noise on) x noise (off, on) x
 * policy (none, mainline, accounted), and the worlds of issue 14, each a whole world on the simulated switch in a child
 * process.  Every cell is checked against the outcome its table entry
 * expects (completes with every page verified, or deadlocks with the
 * watchdog naming a cause); no cell under any policy may read back a wrong
 * page or overrun a reserve.
 *
 * LB_MATRIX_OUT=FILE writes the table into FILE: between the lines
 * "<!-- matrix:begin -->" and "<!-- matrix:end -->" when FILE has them
 * (docs/matrix.md does), else as the whole file.
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

#define MX_BEGIN "<!-- matrix:begin -->\n"
#define MX_END "<!-- matrix:end -->\n"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		assert_non_null(buf);
		len = fread(buf, 1, (size_t)n, f);
		buf[len] = 0;
	}
	fclose(f);
	return buf;
}

/* Put @table between the markers of @path, or make it the whole file. */
static void write_doc(const char *path, const char *table)
{
	char *old = slurp(path);
	char *b = old ? strstr(old, MX_BEGIN) : NULL;
	char *e = b ? strstr(b, MX_END) : NULL;
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (e) {
		fwrite(old, 1, (size_t)(b - old) + strlen(MX_BEGIN), f);
		fputs(table, f);
		fputs(e, f);
	} else {
		fputs(table, f);
	}
	assert_int_equal(fclose(f), 0);
	free(old);
}

/* Each combination appears exactly once: a cell cannot go missing. */
static void test_cells_cover_the_matrix(void **state)
{
	unsigned seen[3][4][2][3] = { 0 };

	unsigned frags = 0, mainline_fails = 0;

	for (unsigned i = 0; i < matrix_nr_cells; i++) {
		const struct matrix_cell *c = &matrix_cells[i];
		unsigned wl;

		if (c->world != MX_BASE) {
			frags++;
			continue;
		}
		wl = c->workload == VM_WL_SWAP	? 0 :
		     c->workload == VM_WL_MMAP	? 1 :
		     c->workload == VM_WL_WRITE ? 2 :
						  3;

		assert_true(wl < 3);
		assert_true((unsigned)c->policy < 3);
		assert_true((unsigned)c->proto < 4);
		seen[wl][c->proto][c->noise][c->policy]++;
	}
	/* NBD and AoE with noise off and on; iSCSI and NFS with noise on */
	for (unsigned a = 0; a < 3; a++)
		for (unsigned b = 0; b < 4; b++)
			for (unsigned c = 0; c < 2; c++)
				for (unsigned d = 0; d < 3; d++)
					assert_int_equal(seen[a][b][c][d],
							 b < 2 || c ? 1 : 0);
	assert_int_equal(frags, matrix_nr_cells - 54);
	/* accounted is the product: it must complete everywhere */
	for (unsigned i = 0; i < matrix_nr_cells; i++)
		if (matrix_cells[i].policy == MM_POLICY_ACCOUNTED)
			assert_int_equal(matrix_cells[i].expect, MX_COMPLETES);
	/* and the matrix holds a world where mainline deadlocks (issue 14) */
	for (unsigned i = 0; i < matrix_nr_cells; i++)
		if (matrix_cells[i].policy == MM_POLICY_MAINLINE &&
		    matrix_cells[i].expect == MX_DEADLOCKS)
			mainline_fails++;
	assert_true(mainline_fails > 0);
}

static void test_matrix(void **state)
{
	const char *path = getenv("LB_MATRIX_OUT");
	char *table = NULL;
	size_t table_len = 0;
	FILE *out = open_memstream(&table, &table_len);
	struct scenario_result *r = calloc(matrix_nr_cells, sizeof(*r));
	unsigned bad = 0;

	assert_non_null(out);
	assert_non_null(r);
	assert_int_equal(matrix_run_cells(matrix_cells, matrix_nr_cells, r,
					  matrix_default_jobs()),
			 0);
	matrix_print_header(stdout);
	matrix_print_header(out);
	for (unsigned i = 0; i < matrix_nr_cells; i++) {
		const struct matrix_cell *c = &matrix_cells[i];
		char why[160];

		matrix_print_row(stdout, c, &r[i]);
		matrix_print_row(out, c, &r[i]);
		if (!matrix_cell_ok(c, &r[i], why, sizeof(why))) {
			print_error("cell %s %s %s noise %s policy %s: %s\n",
				    matrix_world_name(c->world),
				    vm_workload_name(c->workload),
				    scn_proto_name(c->proto),
				    c->noise ? "on" : "off",
				    mm_policy_name(c->policy), why);
			bad++;
		}
	}
	fflush(stdout);
	assert_int_equal(fclose(out), 0);
	if (path)
		write_doc(path, table);
	free(table);
	free(r);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cells_cover_the_matrix),
		cmocka_unit_test(test_matrix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
