// SPDX-License-Identifier: MIT
/*
 * Trace ring: capacity rounding, wrap-around, dump order and format.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/trace.h"

static char *dump(const struct trace *t, unsigned max)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	trace_dump(t, f, max);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_capacity_rounding(void **state)
{
	static const unsigned in[] = { 0, 1, 2, 3, 5, 8, 9, 4096, 4097 };
	static const unsigned want[] = { 1, 1, 2, 4, 8, 8, 16, 4096, 8192 };
	struct trace t;
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(trace_init(&t, in[i]), 0);
		assert_int_equal(t.cap, want[i]);
		assert_int_equal(t.head, 0);
		trace_destroy(&t);
	}
	assert_int_equal(trace_init(&t, 0x80000001u), -EINVAL);
}

/*
 * Parse a dump: the header's counts, then (a, b, c) of each event line,
 * checking that the time field and name are what trace_record was given.
 */
static unsigned parse_dump(char *out, uint64_t *recorded, uint64_t *kept,
			   uint64_t *a_seen, unsigned max_seen)
{
	char *line, *save = NULL;
	unsigned n = 0;
	uint64_t shown;

	line = strtok_r(out, "\n", &save);
	assert_non_null(line);
	assert_int_equal(sscanf(line,
				"trace: %" SCNu64 " events recorded, %" SCNu64
				" kept, last %" SCNu64 " shown",
				recorded, kept, &shown),
			 3);
	while ((line = strtok_r(NULL, "\n", &save))) {
		uint64_t sec, nsec, a, b, c;
		char what[32];

		assert_int_equal(sscanf(line,
					"[%" SCNu64 ".%" SCNu64
					"] %31s %" SCNu64 " %" SCNu64
					" %" SCNu64,
					&sec, &nsec, what, &a, &b, &c),
				 6);
		assert_string_equal(what, "ev");
		/* Recorded at time a seconds + a nanoseconds. */
		assert_int_equal(sec, a);
		assert_int_equal(nsec, a);
		assert_int_equal(b, a * 2);
		assert_int_equal(c, UINT64_MAX - a);
		assert_true(n < max_seen);
		a_seen[n++] = a;
	}
	assert_int_equal(n, shown);
	return n;
}

static void record_n(struct trace *t, uint64_t from, uint64_t to)
{
	uint64_t i;

	for (i = from; i < to; i++)
		trace_record(t, i * 1000000000ull + i, "ev", i, i * 2,
			     UINT64_MAX - i);
}

static void test_no_wrap(void **state)
{
	uint64_t recorded, kept, a[16];
	struct trace t;
	char *out;

	assert_int_equal(trace_init(&t, 8), 0);
	out = dump(&t, 0);
	assert_int_equal(parse_dump(out, &recorded, &kept, a, 16), 0);
	assert_int_equal(recorded, 0);
	free(out);

	record_n(&t, 0, 3);
	out = dump(&t, 0);
	assert_int_equal(parse_dump(out, &recorded, &kept, a, 16), 3);
	assert_int_equal(recorded, 3);
	assert_int_equal(kept, 3);
	assert_int_equal(a[0], 0);
	assert_int_equal(a[1], 1);
	assert_int_equal(a[2], 2);
	free(out);
	trace_destroy(&t);
}

static void test_wrap_keeps_last_in_order(void **state)
{
	uint64_t recorded, kept, a[16];
	struct trace t;
	unsigned i, n;
	char *out;

	assert_int_equal(trace_init(&t, 6), 0); /* rounded to 8 */
	record_n(&t, 0, 21);
	out = dump(&t, 0);
	n = parse_dump(out, &recorded, &kept, a, 16);
	assert_int_equal(n, 8);
	assert_int_equal(recorded, 21);
	assert_int_equal(kept, 8);
	for (i = 0; i < n; i++)
		assert_int_equal(a[i], 13 + i);
	free(out);

	/* At most @max: the newest ones. */
	out = dump(&t, 3);
	n = parse_dump(out, &recorded, &kept, a, 16);
	assert_int_equal(n, 3);
	assert_int_equal(a[0], 18);
	assert_int_equal(a[1], 19);
	assert_int_equal(a[2], 20);
	free(out);

	/* A max above what is kept shows everything kept. */
	out = dump(&t, 100);
	assert_int_equal(parse_dump(out, &recorded, &kept, a, 16), 8);
	free(out);
	trace_destroy(&t);
}

static void test_time_format(void **state)
{
	struct trace t;
	char *out;

	assert_int_equal(trace_init(&t, 4), 0);
	trace_record(&t, 1500000123ull, "tcp.rto", 7, 8, 9);
	trace_record(&t, 42, "x", 0, 0, 0);
	out = dump(&t, 0);
	assert_non_null(strstr(out, "[ 1.500000123] tcp.rto 7 8 9\n"));
	assert_non_null(strstr(out, "[ 0.000000042] x 0 0 0\n"));
	free(out);
	trace_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity_rounding),
		cmocka_unit_test(test_no_wrap),
		cmocka_unit_test(test_wrap_keeps_last_in_order),
		cmocka_unit_test(test_time_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
