// SPDX-License-Identifier: MIT
/*
 * PRNG: determinism, pinned output, forks, ranges, rough uniformity.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "core/prng.h"

#define N 1000

/* Not fabs(): the test links without libm. */
static double absd(double x)
{
	return x < 0 ? -x : x;
}

/*
 * Pinned first outputs: a seed must give the same run on every build, or
 * recorded failing seeds stop reproducing.
 */
static void test_known_values(void **state)
{
	struct prng p;

	prng_seed(&p, 0);
	assert_int_equal(prng_next(&p), 0x99ec5f36cb75f2b4ull);
	assert_int_equal(prng_next(&p), 0xbf6e1f784956452aull);
	assert_int_equal(prng_next(&p), 0x1a5f849d4933e6e0ull);
	prng_seed(&p, 42);
	assert_int_equal(prng_next(&p), 0x15780b2e0c2ec716ull);
	assert_int_equal(prng_next(&p), 0x6104d9866d113a7eull);
}

static void test_same_seed_same_sequence(void **state)
{
	struct prng a, b;
	int i;

	prng_seed(&a, 1234);
	prng_seed(&b, 1234);
	for (i = 0; i < N; i++)
		assert_int_equal(prng_next(&a), prng_next(&b));
}

static void test_different_seeds_differ(void **state)
{
	struct prng a, b;
	int i, same = 0;

	prng_seed(&a, 1);
	prng_seed(&b, 2);
	for (i = 0; i < N; i++)
		same += prng_next(&a) == prng_next(&b);
	assert_int_equal(same, 0);
}

static void test_fork(void **state)
{
	struct prng p, copy, c1, c2, c3, c1again;
	uint64_t seq[N];
	int i, same12 = 0, same_parent = 0;

	prng_seed(&p, 99);
	copy = p;
	prng_fork(&p, &c1, 1);
	/* The parent is not advanced by forking. */
	assert_memory_equal(&p, &copy, sizeof(p));
	prng_fork(&p, &c2, 2);
	prng_fork(&p, &c1again, 1);
	assert_memory_equal(&c1, &c1again, sizeof(c1));

	for (i = 0; i < N; i++) {
		uint64_t x = prng_next(&c1), y = prng_next(&c2);

		seq[i] = x;
		same12 += x == y;
		same_parent += x == prng_next(&copy);
	}
	assert_int_equal(same12, 0);
	assert_int_equal(same_parent, 0);

	/* Draws from the parent do not shift the child's stream. */
	prng_fork(&p, &c3, 1);
	for (i = 0; i < N; i++) {
		prng_next(&p);
		assert_int_equal(prng_next(&c3), seq[i]);
	}
	/* But a fork of the advanced parent is a different stream. */
	prng_fork(&p, &c3, 1);
	assert_int_not_equal(prng_next(&c3), seq[0]);
}

static void test_below_range(void **state)
{
	static const uint64_t bounds[] = {
		1, 2, 3, 7, 10, 1000, 1ull << 32, (1ull << 63) + 1, UINT64_MAX,
	};
	struct prng p;
	size_t b;
	int i;

	prng_seed(&p, 5);
	for (b = 0; b < ARRAY_SIZE(bounds); b++)
		for (i = 0; i < N; i++)
			assert_true(prng_below(&p, bounds[b]) < bounds[b]);
	for (i = 0; i < N; i++)
		assert_int_equal(prng_below(&p, 1), 0);
}

static void test_below_uniform(void **state)
{
	enum { BUCKETS = 10, DRAWS = 200000 };
	unsigned count[BUCKETS] = { 0 };
	struct prng p;
	double chi2 = 0, expect = (double)DRAWS / BUCKETS;
	int i;

	prng_seed(&p, 77);
	for (i = 0; i < DRAWS; i++)
		count[prng_below(&p, BUCKETS)]++;
	for (i = 0; i < BUCKETS; i++)
		chi2 += (count[i] - expect) * (count[i] - expect) / expect;
	/* 9 degrees of freedom: 27.9 is the 0.1% tail. */
	assert_true(chi2 < 27.9);

	/*
	 * A bound just above 2^63 is where "next % bound" is most biased:
	 * the lower half would be drawn twice as often as the upper.
	 */
	{
		uint64_t bound = (1ull << 63) + (1ull << 62);
		unsigned low = 0;

		for (i = 0; i < DRAWS; i++)
			low += prng_below(&p, bound) < bound / 2;
		assert_true(absd((double)low / DRAWS - 0.5) < 0.01);
	}
}

static void test_double_and_chance(void **state)
{
	struct prng p;
	double sum = 0, d;
	int i, hits = 0;

	prng_seed(&p, 3);
	for (i = 0; i < 100000; i++) {
		d = prng_double(&p);
		assert_true(d >= 0.0 && d < 1.0);
		sum += d;
	}
	assert_true(absd(sum / 100000 - 0.5) < 0.01);

	for (i = 0; i < N; i++) {
		assert_false(prng_chance(&p, 0.0));
		assert_false(prng_chance(&p, -1.0));
		assert_false(prng_chance(&p, NAN));
		assert_true(prng_chance(&p, 1.0));
		assert_true(prng_chance(&p, 2.0));
	}
	for (i = 0; i < 100000; i++)
		hits += prng_chance(&p, 0.25);
	assert_true(absd(hits / 100000.0 - 0.25) < 0.01);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_same_seed_same_sequence),
		cmocka_unit_test(test_different_seeds_differ),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_below_range),
		cmocka_unit_test(test_below_uniform),
		cmocka_unit_test(test_double_and_chance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
